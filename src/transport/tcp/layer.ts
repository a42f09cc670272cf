// transport/tcp/layer — the TCP protocol of one namespace: the connection and listener tables,
// demultiplexing, listen/connect, ephemeral ports, RST for a segment with no socket, ICMP errors.
// Layer: transport (imports core, wire, packet, net/api, ../api, ../udp and sibling tcp/ files).
// Mirrors net/ipv4/tcp_ipv4.c (tcp_v4_rcv, tcp_v4_connect, tcp_v4_send_reset, tcp_v4_err),
// inet_hashtables.c (__inet_hash_connect), inet_connection_sock.c (listen backlog) and gVisor
// tcp/protocol.go, dispatcher.go.
import type { Rng } from '../../core/rng.js';
import type { SimEvent } from '../../core/scheduler.js';
import { SEC as SECImported } from '../../core/time.js';
import type { IpStack, L4Receiver } from '../../net/api.js';
import type { Packet } from '../../packet/packet.js';
import { IcmpType as IcmpTypeImported, IcmpUnreachCode as IcmpUnreachCodeImported, IpProto as IpProtoImported, TcpFlag as TcpFlagImported, type Ipv4 } from '../../wire/types.js';
import { icmpErrorKind as icmpErrorKindImported } from '../udp.js';
import { LINUX_TCP_DEFAULTS, type TcpConfig, type TcpCounters, type TcpSocketOptions } from './config.js';
import type { CongestionAlgorithm } from './cc.js';
import { segmentArrived as segmentArrivedImported } from './input.js';
import { tcpSegment as tcpSegmentImported, transmit as transmitImported } from './output.js';
import { startConnect as startConnectImported, startPassive as startPassiveImported } from './setup.js';
import { mtuReduced as mtuReducedImported } from './pmtu.js';
import { ConnTable } from './conn-table.js';
import { NO_ENTRIES as NO_ENTRIESImported, NO_MEMBERS as NO_MEMBERSImported } from '../../net/no-entries.js';
import { PortSearch } from './ports.js';
import { tellError as tellErrorImported, TcpSocket } from './socket.js';
import { icmpError as icmpErrorImported } from './teardown.js';
import { timeWait as timeWaitImported, TimeWaitSock, twArrived as twArrivedImported, twKill as twKillImported } from './timewait.js';
import type { TwState } from './tw-queue.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const SEC = SECImported;
const IcmpType = IcmpTypeImported;
const IcmpUnreachCode = IcmpUnreachCodeImported;
const IpProto = IpProtoImported;
const TcpFlag = TcpFlagImported;
const icmpErrorKind = icmpErrorKindImported;
const segmentArrived = segmentArrivedImported;
const tcpSegment = tcpSegmentImported;
const transmit = transmitImported;
const startConnect = startConnectImported;
const startPassive = startPassiveImported;
const mtuReduced = mtuReducedImported;
const NO_ENTRIES = NO_ENTRIESImported;
const NO_MEMBERS = NO_MEMBERSImported;
const tellError = tellErrorImported;
const icmpError = icmpErrorImported;
const timeWait = timeWaitImported;
const twArrived = twArrivedImported;
const twKill = twKillImported;
// Classes, read by instanceof and new per segment and per connection (no cycle: timewait.ts and socket.ts do not import this module).
const TimeWaitSockClass = TimeWaitSock;
const TcpSocketClass = TcpSocket;

/**
 * What listen() may be given instead of a callback: an object told of each established connection
 * (HttpServer). The handshake's end calls it straight from the listener, where a callback is a closure
 * and its context, two more lines to read at each connection (cold at a big world's server by its next one).
 */
export interface TcpAcceptor {
  accepted(sock: TcpSocket): void;
}

/**
 * A listening socket. It is its children's socket options too (the options listen() was given, copied:
 * a child's constructor reads them from the listener, which listenArrived has just read, not from the
 * options object, a line of its own cold at a big world's server by its next connection); the fields a
 * connection reads come first (pending, backlog and the options at its SYN, the acceptor at its end).
 */
export class TcpListener implements TcpSocketOptions {
  /** SYN_RECV children not yet established (counted against the backlog). */
  pending = 0;
  readonly backlog: number;
  /**
   * The children's options (TcpSocketOptions: `options`' own, undefined when not given), beside the two
   * above: a SYN reads these five only, the object's first 64 bytes.
   */
  readonly noDelay: boolean | undefined;
  readonly flowId: number | undefined;
  readonly congestion: CongestionAlgorithm | undefined;
  /** Who is told of an established connection: `acceptor` when listen() was given one, else `onAccept`. */
  readonly acceptor: TcpAcceptor | null;
  readonly onAccept: (sock: TcpSocket) => void;
  closed = false;
  readonly layer: TcpLayer;
  readonly port: number;
  readonly options: TcpSocketOptions;
  constructor(layer: TcpLayer, port: number, backlog: number, onAccept: ((sock: TcpSocket) => void) | TcpAcceptor, options: TcpSocketOptions) {
    this.backlog = backlog;
    if (typeof onAccept === 'function') {
      this.acceptor = null;
      this.onAccept = onAccept;
    } else {
      this.acceptor = onAccept;
      this.onAccept = (sock) => onAccept.accepted(sock);
    }
    this.noDelay = options.noDelay;
    this.flowId = options.flowId;
    this.congestion = options.congestion;
    this.layer = layer;
    this.port = port;
    this.options = options;
  }
  /** Stops listening (established children are unaffected). */
  close(): void {
    this.closed = true;
    this.layer.unlisten(this);
  }
}


/**
 * The searches map's key of a destination. Above 2^31 for any address from 0.128.0.0 up, so a heap
 * number when it leaves a register: it is made only where a search is looked up in or added to the
 * map (a miss), not on the per-connection hits (searchOf compares address and port apart).
 */
const connKey = (addr: Ipv4, port: number): number => addr * 65536 + port;
/** 127.0.0.0/8 (ipv4_is_loopback). */
const isLoopback = (addr: Ipv4): boolean => addr >>> 24 === 127;

/**
 * The TCP protocol of one namespace (tcp_prot + the established/listening hash tables). It is its own
 * established hash (ConnTable, its base class: get/set/replace/delete by 4-tuple are the table's).
 */
export class TcpLayer extends ConnTable<TcpSocket | TimeWaitSock> implements L4Receiver {
  readonly counters: TcpCounters = {
    ActiveOpens: 0,
    PassiveOpens: 0,
    AttemptFails: 0,
    EstabResets: 0,
    CurrEstab: 0,
    InSegs: 0,
    OutSegs: 0,
    RetransSegs: 0,
    InErrs: 0,
    OutRsts: 0,
    ListenOverflows: 0,
    DelayedACKs: 0,
    TCPTimeouts: 0,
    TCPFastRetrans: 0,
    TCPSackRecovery: 0,
    TCPRenoRecovery: 0,
    TCPLossProbes: 0,
    OutNoRoutes: 0,
  };
  /**
   * The layer's sysctls, frozen. A layer made without overrides has LINUX_TCP_DEFAULTS itself, shared by
   * every such layer: its sockets read it at each segment (`sk.cfg`), and a copy per namespace was three
   * more lines read cold at a big world's server by its next connection. `configure` replaces it.
   */
  config: Readonly<TcpConfig>;
  // (Fields in the order a connection at a server reads them, those first, after the table's (the
  // established hash: (local port, peer address, peer port) → a socket, or a connection in TIME_WAIT): a
  // server's layer is cold by its next connection in a big world, and the object spans several lines.)
  // The random streams, each made on its first draw (a stream depends on its name only, not on when it is made).
  // ISN and IP ID are drawn at every open: kept as their states' offsets in the simulator's factory (-1:
  // not made yet), not as stream objects, each a line of its own cold at a big world's server by its next
  // connection (core/rng.ts streamAt).
  private isnAt = -1;
  private inetIdAt = -1;
  /**
   * @internal (timers.ts, timewait.ts) A timer event that ran and that nothing holds (a TIME_WAIT
   * record's inherited event, once it fired: timewait.ts twTimer), for this layer's next new socket's
   * first timer (timers.ts armTimer places it again, Simulator.rescheduleAt) instead of a new event; null:
   * none. Beside isnAt: a new socket arms its timer just after drawing its ISN.
   */
  spareTimerEv: SimEvent | null = null;
  /**
   * listenerOf's last port and its listener (-1, null: none): a server's SYNs all come to its one port,
   * and the map's table is a line or two of its own, cold by a big world's next connection here.
   */
  private lastListenPort = -1;
  private lastListener: TcpListener | null = null;
  /** tsOffsetFor's last peer (-1: none) and its offset. */
  private lastTsPeer = -1;
  private lastTsOffset = 0;
  // The tables below start as the shared empty one (net/no-entries.ts, which refuses writes); each writer
  // gives the layer its own first.
  /** Per destination (connKey) the ports taken toward it, for pickPort. */
  private searches: Map<number, PortSearch> = NO_ENTRIES;
  private listeners: Map<number, TcpListener> = NO_ENTRIES;
  private tsOffsets: Map<Ipv4, number> = NO_ENTRIES;
  private tsRng: Rng | null = null;
  private portRng: Rng | null = null;
  /** Ports in ip_local_port_range. */
  private readonly portCount: number;
  /** The last destination's search (a client connects to one destination over and over). */
  private lastSearchAddr = -1;
  private lastSearchPort = -1;
  private lastSearch: PortSearch | null = null;
  /** Every port a listener ever had: an accepted connection's local port is one of them (portSearch looks there). */
  private passivePorts: Set<number> = NO_MEMBERS;
  /** @internal (timewait.ts) The TIME_WAIT expiry queues and the records free for reuse, made on the first record. */
  twState: TwState | null = null;

  /** Creates the layer and registers it with `stack` for IP protocol 6. */
  constructor(
    readonly stack: IpStack,
    config: Partial<TcpConfig> = {},
  ) {
    super();
    this.config = Object.keys(config).length === 0 ? LINUX_TCP_DEFAULTS : Object.freeze({ ...LINUX_TCP_DEFAULTS, ...config });
    this.portCount = this.config.portRange[1] - this.config.portRange[0] + 1;
    stack.registerProtocol(IpProto.TCP, this);
  }

  /**
   * Changes sysctls (a new frozen config with `patch` over the current one). Sockets made from now on
   * read it; an existing socket keeps the config it was made with. Not the port range (the port
   * searches are built for the layer's), nor `timeWait`: a TIME_WAIT record reads its layer's
   * (tsRecentStamp = expiry - timeWait, a re-ACK's new expiry), not its socket's, and a record of a
   * socket made before would then have another start.
   */
  configure(patch: Partial<Omit<TcpConfig, 'portRange' | 'timeWait'>>): void {
    if ('portRange' in patch || 'timeWait' in patch) throw new Error('TcpLayer.configure: portRange and timeWait are fixed when the layer is made');
    this.config = Object.freeze({ ...this.config, ...patch, portRange: this.config.portRange });
  }

  /** The next initial sequence number (secure_tcp_seq), a uint32. */
  nextIsn(): number {
    const rng = this.stack.sim.rng;
    let at = this.isnAt;
    if (at < 0) at = this.isnAt = rng.streamAt(`${this.stack.name}/tcp-isn`);
    return rng.uint32At(at);
  }
  /** The next inet_id starting value (get_random_u16 at connect / accept). */
  nextInetId(): number {
    const rng = this.stack.sim.rng;
    let at = this.inetIdAt;
    if (at < 0) at = this.inetIdAt = rng.streamAt(`${this.stack.name}/tcp-inet-id`);
    return rng.intAt(at, 65536);
  }
  private get tsOffRng(): Rng {
    return (this.tsRng ??= this.stack.sim.rng.stream(`${this.stack.name}/tcp-tsoff`));
  }
  private get ephemeralRng(): Rng {
    return (this.portRng ??= this.stack.sim.rng.stream(`${this.stack.name}/tcp-ephemeral`));
  }

  /** listen(2) on `port`; `onAccept` (a callback or a TcpAcceptor) gets each established connection. */
  listen(port: number, onAccept: ((sock: TcpSocket) => void) | TcpAcceptor, opts: TcpSocketOptions & { backlog?: number } = {}): TcpListener {
    if (this.listeners.has(port)) throw new Error(`EADDRINUSE: tcp port ${port}`);
    const l = new TcpListener(this, port, Math.min(opts.backlog ?? 511, this.config.somaxconn), onAccept, opts);
    if (this.listeners === NO_ENTRIES) this.listeners = new Map();
    this.listeners.set(port, l);
    if (this.passivePorts === NO_MEMBERS) this.passivePorts = new Set();
    this.passivePorts.add(port);
    for (const ps of this.searches.values()) ps.mark(port, true);
    return l;
  }

  /** connect(2): starts the handshake; `onConnect` runs when established. Errors go to `sock.onError`. */
  connect(dst: Ipv4, port: number, onConnect?: (sock: TcpSocket) => void, opts: TcpSocketOptions = {}): TcpSocket {
    const s = new TcpSocketClass(this, opts);
    s.remoteAddr = dst >>> 0;
    s.remotePort = port;
    if (onConnect) s.onConnect = onConnect;
    const src = this.stack.sourceFor(s.remoteAddr);
    if (src === null) {
      this.counters.AttemptFails++;
      this.stack.sim.schedule(0, tellError, s, 'unreachable');
      return s;
    }
    s.localAddr = src;
    const lport = this.pickPort(src, s.remoteAddr, port);
    if (lport === 0) {
      // connect() fails with EADDRNOTAVAIL: every ephemeral port has a socket to this destination.
      this.counters.AttemptFails++;
      this.stack.sim.schedule(0, tellError, s, 'addrnotavail');
      return s;
    }
    s.localPort = lport;
    this.hash(s);
    startConnect(s);
    return s;
  }

  /**
   * __inet_hash_connect: a per-destination perturbed start, even ports first, then odd; step 2; the
   * first port with no listener and no socket (TIME_WAIT included) to this destination. The scan is
   * answered by the destination's PortSearch bitmaps. 0 when every port is taken (EADDRNOTAVAIL).
   */
  private pickPort(src: Ipv4, dst: Ipv4, dport: number): number {
    const ps = this.portSearch(dst, dport);
    let off = ps.perturb;
    if (off < 0) off = this.ephemeralRng.uint32();
    const remaining = this.portCount;
    const tw = this.config.twReuse;
    const found = tw === 1 || (tw === 2 && (isLoopback(dst) || isLoopback(src))) ? this.scanReusingTimeWait(ps, dst, dport, (off % remaining) & ~1) : ps.first((off % remaining) & ~1);
    if (found === null) return 0;
    // "a little bit of randomness to the next source port": i = max(i, random(8) * 2).
    const i = Math.max(found.step, this.ephemeralRng.int(8) * 2);
    ps.perturb = off + i + 2;
    return found.port;
  }

  /**
   * The scan with tcp_tw_reuse in force (loopback by default): __inet_check_established lets a port
   * whose socket toward this destination is in TIME_WAIT be taken when tcp_twsk_unique allows it —
   * timestamps on and the TIME_WAIT socket's last timestamp from an earlier second — and kills that
   * socket. The first free port comes from the bitmaps; the taken ports the scan passes before it
   * are looked at one by one, as the kernel does (linear once a parity is full, so only connections
   * toward loopback, or every one with tcp_tw_reuse = 1, pay it). The new connection's ISN stays the seeded one (the kernel starts it at the old
   * snd_nxt + 65537).
   */
  private scanReusingTimeWait(ps: PortSearch, dst: Ipv4, dport: number, offset: number): { port: number; step: number } | null {
    const free = ps.first(offset);
    const remaining = this.portCount;
    const freeParity = free === null ? 2 : (free.port - this.config.portRange[0]) & 1;
    const nowSec = Math.floor(this.stack.sim.now / SEC);
    for (let parity = 0; parity <= Math.min(freeParity, 1); parity++) {
      const end = parity === freeParity ? free!.step : remaining;
      for (let i = 0; i < end; i += 2) {
        const port = this.config.portRange[0] + ((offset + i + parity) % remaining);
        const old = this.get(port, dst, dport);
        if (!(old instanceof TimeWaitSockClass) || !old.tsOk || this.listeners.has(port)) continue;
        // tw_ts_recent_stamp: when the TIME_WAIT socket last heard a timestamp (its TIME_WAIT start here).
        if (nowSec <= Math.floor(old.tsRecentStamp / SEC)) continue;
        twKill(old); // inet_twsk_deschedule_put: the TIME_WAIT socket is gone
        return { port, step: i };
      }
    }
    return free;
  }

  /** The destination's search if it has one (searches are never dropped, so the last one found is kept). */
  private searchOf(addr: Ipv4, port: number): PortSearch | undefined {
    if (addr === this.lastSearchAddr && port === this.lastSearchPort) return this.lastSearch!;
    const ps = this.searches.get(connKey(addr, port));
    if (ps !== undefined) {
      this.lastSearchAddr = addr;
      this.lastSearchPort = port;
      this.lastSearch = ps;
    }
    return ps;
  }

  /** The taken-port bitmaps toward one destination, built on its first connect and kept by hash/unhash/listen. */
  private portSearch(dst: Ipv4, dport: number): PortSearch {
    let ps = this.searchOf(dst, dport);
    if (ps === undefined) {
      ps = new PortSearch(this.config.portRange[0], this.portCount);
      for (const port of this.listeners.keys()) ps.mark(port, true);
      // The connections already toward this destination: connect() makes a destination's search
      // before it hashes a socket, so only accepted ones were hashed without it, and an accepted
      // connection's local port is one a listener had. A lookup per such port finds them, in place of
      // a walk over the table (a client connecting to many destinations, with thousands of
      // connections in TIME_WAIT, made a new search per destination).
      if (this.passivePorts.size > 0) {
        for (const port of this.passivePorts) if (this.get(port, dst, dport) !== undefined) ps.mark(port, true);
      }
      if (this.searches === NO_ENTRIES) this.searches = new Map();
      this.searches.set(connKey(dst, dport), ps);
    }
    return ps;
  }

  /** The per-peer timestamp offset (secure_tcp_ts_off hashes the address pair). */
  tsOffsetFor(peer: Ipv4): number {
    // (the last peer's from the layer's own fields: a server's connections all come from its few
    // clients, and the map is a line or two of its own, cold by a big world's next connection here)
    if (peer === this.lastTsPeer) return this.lastTsOffset;
    let o = this.tsOffsets.get(peer);
    if (o === undefined) {
      o = this.tsOffRng.uint32();
      if (this.tsOffsets === NO_ENTRIES) this.tsOffsets = new Map();
      this.tsOffsets.set(peer, o);
    }
    this.lastTsPeer = peer;
    this.lastTsOffset = o;
    return o;
  }

  private hash(s: TcpSocket): void {
    this.set(s);
    if (this.searches.size > 0) this.searchOf(s.remoteAddr, s.remotePort)?.mark(s.localPort, true);
  }

  /** inet_twsk_hashdance: a connection entering TIME_WAIT gives its socket's slot (same place) to its record. */
  rehash(s: TcpSocket, tw: TimeWaitSock): void {
    this.replace(s, tw);
  }

  /** Removes a closed socket (or a TIME_WAIT record that goes) from the connection table. */
  unhash(s: TcpSocket | TimeWaitSock): void {
    if (this.delete(s) && this.searches.size > 0 && !this.listeners.has(s.localPort)) this.searchOf(s.remoteAddr, s.remotePort)?.mark(s.localPort, false);
  }

  /** The listener on `port`, if any. */
  private listenerOf(port: number): TcpListener | undefined {
    if (port === this.lastListenPort) return this.lastListener!;
    const l = this.listeners.get(port);
    if (l !== undefined) {
      this.lastListenPort = port;
      this.lastListener = l;
    }
    return l;
  }

  /** Removes a listener. */
  unlisten(l: TcpListener): void {
    if (this.listeners.get(l.port) !== l) return;
    this.listeners.delete(l.port);
    if (l.port === this.lastListenPort) {
      this.lastListenPort = -1;
      this.lastListener = null;
    }
    for (const [k, ps] of this.searches) if (this.get(l.port, Math.floor(k / 65536), k % 65536) === undefined) ps.mark(l.port, false);
  }

  /** Every socket in the connection table (for inspection), in table order: TIME_WAIT ones are records. */
  sockets(): (TcpSocket | TimeWaitSock)[] {
    return this.values();
  }

  /** tcp_v4_rcv's csum_error: TCP_MIB_CSUMERRORS and TCP_MIB_INERRS. */
  csumError(): void {
    this.counters.InErrs++;
    this.counters.InCsumErrors = (this.counters.InCsumErrors ?? 0) + 1;
  }

  /** tcp_v4_rcv: demultiplex to a connection, a listener, or answer RST. */
  receive(pkt: Packet): void {
    const ip = pkt.ip;
    const t = pkt.tcp;
    if (ip === null || t === null) {
      this.counters.InErrs++;
      return;
    }
    this.counters.InSegs++;
    const s = this.get(t.dstPort, ip.src, t.srcPort);
    if (s !== undefined) {
      if (s instanceof TimeWaitSockClass) {
        this.timeWaitArrived(s, pkt);
        return;
      }
      segmentArrived(s, pkt);
      if (s.state === 'TIME_WAIT') timeWait(s); // tcp_time_wait: a record takes the connection over
      return;
    }
    const l = this.listenerOf(t.dstPort);
    if (l !== undefined) {
      this.listenArrived(l, pkt);
      return;
    }
    if (!(t.flags & TcpFlag.RST)) this.sendReset(pkt);
  }

  /** tcp_timewait_state_process: a new SYN beyond the old sequence space reopens (TCP_TW_SYN); else the record's. */
  private timeWaitArrived(tw: TimeWaitSock, pkt: Packet): void {
    const t = pkt.tcp!;
    if (t.flags & TcpFlag.SYN && !(t.flags & TcpFlag.ACK)) {
      const l = this.listenerOf(t.dstPort);
      const seqRel = (t.seq - (tw.rcvNxt32 >>> 0)) | 0;
      if (l !== undefined && seqRel > 0) {
        twKill(tw, 'reset'); // (an owner hears 'reset'; Linux tells no one: the application closed long ago)
        this.listenArrived(l, pkt);
        return;
      }
    }
    twArrived(tw, t.flags);
  }

  /** tcp_v4_conn_request on a listener. */
  private listenArrived(l: TcpListener, pkt: Packet): void {
    const t = pkt.tcp!;
    if (t.flags & TcpFlag.RST) return;
    if (t.flags & TcpFlag.ACK) {
      this.sendReset(pkt); // an ACK for no connection (e.g. after a SYN_RECV child was dropped)
      return;
    }
    if (!(t.flags & TcpFlag.SYN)) return;
    if (l.pending >= l.backlog) {
      this.counters.ListenOverflows++; // SYN dropped silently; the client retries
      return;
    }
    const ip = pkt.ip!;
    const s = new TcpSocketClass(this, l); // (the listener is its children's options)
    s.localAddr = ip.dst;
    s.localPort = t.dstPort;
    s.remoteAddr = ip.src;
    s.remotePort = t.srcPort;
    s.listener = l;
    l.pending++;
    this.hash(s);
    startPassive(s, pkt);
  }

  /** tcp_v4_send_reset: RST for a segment that matches no socket (RFC 9293 3.10.7.1). */
  sendReset(orig: Packet): void {
    const oi = orig.ip!;
    const ot = orig.tcp!;
    let seq = 0;
    let ack = 0;
    let flags = TcpFlag.RST;
    if (ot.flags & TcpFlag.ACK) seq = ot.ack;
    else {
      const segLen = orig.payloadLength + (ot.flags & TcpFlag.SYN ? 1 : 0) + (ot.flags & TcpFlag.FIN ? 1 : 0);
      ack = (ot.seq + segLen) >>> 0;
      flags |= TcpFlag.ACK;
    }
    // ip_send_unicast_reply: ID 0, the segment's TOS without ECN, no flow.
    const p = tcpSegment(oi.dst, oi.src, oi.tos & ~3, 0, ot.dstPort, ot.srcPort, seq, ack, flags, 0, [], 0, null, 0);
    this.counters.OutRsts++;
    transmit(this, p);
  }

  /** tcp_v4_err: an ICMP error quoting one of our segments. */
  error(icmpPkt: Packet): void {
    const inner = icmpPkt.inner;
    const icmp = icmpPkt.icmp;
    if (inner === null || inner.ip === null || inner.tcp === null || icmp === null) return;
    const s = this.get(inner.tcp.srcPort, inner.ip.dst, inner.tcp.dstPort);
    if (s === undefined) return;
    if (icmp.type === IcmpType.DEST_UNREACH && icmp.code === IcmpUnreachCode.FRAG_NEEDED) {
      // ipv4_sk_update_pmtu, then tcp_v4_mtu_reduced (no error reaches the application).
      this.stack.updatePmtu(inner.ip.dst, icmp.rest & 0xffff);
      const pmtu = this.stack.mtuFor(inner.ip.dst);
      if (pmtu !== null && !(s instanceof TimeWaitSockClass)) mtuReduced(s, pmtu);
      return;
    }
    const kind = icmpErrorKind(icmp.type, icmp.code);
    if (kind === null || s instanceof TimeWaitSockClass) return; // a TIME_WAIT socket ignores ICMP errors
    icmpError(s, kind);
  }
}
