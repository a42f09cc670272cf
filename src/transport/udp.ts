// transport/udp — UDP sockets of one namespace. Layer: transport (imports core, wire, packet, net).
// Mirrors RFC 768 and Linux net/ipv4/udp.c: udp_lib_get_port (autobind from ip_local_port_range at a
// random start, then the next free port), __udp4_lib_rcv / __udp4_lib_lookup (a connected socket only
// matches its peer), udp_err (ICMP errors reach a *connected* socket as sk_err: port unreachable →
// ECONNREFUSED; unconnected sockets need IP_RECVERR, not modelled, so they ignore them), and
// ip_make_skb's DF rule: with the default IP_PMTUDISC_WANT (ip_no_pmtu_disc = 0) every datagram that
// fits the route MTU leaves with DF set, connected or not; a larger one goes without DF.
// Checksums are left null (computed when a capture point encodes the packet).
// Not modelled: SO_REUSEADDR/REUSEPORT (one socket per port), multicast/broadcast, GSO/GRO, cork,
// receive buffer limits (RcvbufErrors), UDP-Lite, IP options, IP_RECVERR.
import type { Rng } from '../core/rng.js';
import type { Simulator } from '../core/simulator.js';
import type { IpStack, L4Receiver, RouteHint, SendError } from '../net/api.js';
import { NO_ENTRIES } from '../net/no-entries.js';
import { Packet } from '../packet/packet.js';
import { IcmpType, IcmpUnreachCode, IP_DF, IpProto, type Ipv4 } from '../wire/types.js';
import { ipv4Header } from '../wire/ipv4.js';
import { EPHEMERAL_HIGH, EPHEMERAL_LOW, type SocketErrorKind } from './api.js';

/** UDP header length (RFC 768). */
export const UDP_HEADER_LEN = 8;
const IPV4_HEADER_LEN = 20;
/** Largest UDP payload over IPv4: 65535 − 20 − 8. */
export const UDP_MAX_PAYLOAD = 65507;

/** Called for each datagram a socket receives; `data` is null when the sender gave only a length. */
export type UdpMessageHandler = (data: Uint8Array | null, length: number, srcAddr: Ipv4, srcPort: number, pkt: Packet) => void;

/** The Udp counters of /proc/net/snmp (those this model can produce). */
export interface UdpCounters {
  InDatagrams: number;
  NoPorts: number;
  InErrors: number;
  OutDatagrams: number;
  /** Datagrams not sent: no route (ENETUNREACH), or sent on a closed socket. */
  OutNoRoutes: number;
  /** Datagrams whose checksum failed (also in InErrors); present once one has. */
  InCsumErrors?: number;
}

/**
 * The route output's mtuFor looked up, handed to its ipLocalOut (one lookup per datagram), shared by
 * every layer: it is filled and emptied within one synchronous stretch of `output`, before ipLocalOut
 * (which may send again, on another layer) is called.
 */
const HINT: RouteHint = { route: null };

/** A UDP socket (SOCK_DGRAM). */
export class UdpSocket {
  /** Local port, 0 until bound (explicitly or by the first send). */
  localPort = 0;
  /** Local address the socket is bound to (0 = INADDR_ANY). */
  localAddr: Ipv4 = 0;
  /** Connected peer (0 / 0 when unconnected). */
  remoteAddr: Ipv4 = 0;
  remotePort = 0;
  /** Flow id stamped on sent packets (for statistics). */
  flowId = 0;
  /** inet_id: IP ID of the next datagram to the connected peer. */
  inetId = 0;
  /** Receives datagrams. */
  onMessage: UdpMessageHandler | null = null;
  /** sk_err = EMSGSIZE from an ICMP fragmentation-needed: the next send fails and clears it. */
  pendingEmsgsize = false;
  /** The errno of the last send that returned false: no route (EHOSTUNREACH / ENETUNREACH) or EMSGSIZE. */
  sendError: SendError = 'no-route';
  /** Receives asynchronous errors of a connected socket (ECONNREFUSED from ICMP port unreachable, ...). */
  onError: ((kind: SocketErrorKind) => void) | null = null;
  private closed = false;

  constructor(private readonly layer: UdpLayer) {}

  /** bind(2): port 0 picks an ephemeral port. Throws 'EADDRINUSE' when the port is taken. */
  bind(port = 0, addr: Ipv4 = 0): this {
    if (this.localPort !== 0) throw new Error('EINVAL: socket already bound');
    this.localAddr = addr >>> 0;
    this.localPort = this.layer.bindPort(this, port);
    return this;
  }
  /** connect(2): fixes the peer (and autobinds); only datagrams from that peer are delivered. */
  connect(addr: Ipv4, port: number): this {
    this.remoteAddr = addr >>> 0;
    this.remotePort = port;
    // ip4_datagram_connect: inet_id = get_random_u16().
    this.inetId = this.layer.inetIdRng.int(65536);
    if (this.localPort === 0) this.bind(0, this.localAddr);
    return this;
  }
  /** send(2) on a connected socket: `data` bytes or a byte count. Returns false when not sent (`sendError` says why). */
  send(data: Uint8Array | number): boolean {
    if (this.remotePort === 0) throw new Error('EDESTADDRREQ: socket not connected');
    return this.sendTo(this.remoteAddr, this.remotePort, data);
  }
  /** sendto(2): autobinds on first use. Returns false when not sent (no route, closed). */
  sendTo(addr: Ipv4, port: number, data: Uint8Array | number): boolean {
    if (this.closed) {
      this.layer.counters.OutNoRoutes++;
      this.sendError = 'no-route';
      return false;
    }
    if (this.localPort === 0) this.bind(0, this.localAddr);
    if (this.pendingEmsgsize) {
      this.pendingEmsgsize = false; // sock_error(): reported once, the datagram is not sent
      this.sendError = 'msgsize';
      return false;
    }
    return this.layer.output(this, addr >>> 0, port, data);
  }
  /** close(2): releases the port. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.layer.unbind(this);
  }
  /** True once closed. */
  get isClosed(): boolean {
    return this.closed;
  }
}

/** The UDP protocol of one namespace (Linux's udp_prot + udp_table), registered as IP protocol 17. */
export class UdpLayer implements L4Receiver {
  /** Counters as in /proc/net/snmp "Udp:". */
  readonly counters: UdpCounters = { InDatagrams: 0, NoPorts: 0, InErrors: 0, OutDatagrams: 0, OutNoRoutes: 0 };
  /**
   * Bound sockets by local port: the shared empty table until the first bind (most pods never open a
   * UDP socket), which gives the layer its own.
   */
  private ports: Map<number, UdpSocket> = NO_ENTRIES;
  private readonly sim: Simulator;
  private inetIdRngLazy: Rng | null = null;

  /** Creates the layer and registers it with `stack` for IP protocol 17. */
  constructor(readonly stack: IpStack) {
    this.sim = stack.sim;
    stack.registerProtocol(IpProto.UDP, this);
  }

  /** inet_id starting values of connected sockets (a stream named by the namespace alone, so taking it on first use changes nothing). */
  get inetIdRng(): Rng {
    return (this.inetIdRngLazy ??= this.sim.rng.stream(`${this.stack.name}/udp-inet-id`));
  }

  /** A new unbound socket. */
  socket(): UdpSocket {
    return new UdpSocket(this);
  }

  /** Reserves `port` (0 = ephemeral, udp_lib_get_port) for `sock`; returns the port. */
  bindPort(sock: UdpSocket, port: number): number {
    if (this.ports === NO_ENTRIES) this.ports = new Map();
    if (port !== 0) {
      if (this.ports.has(port)) throw new Error(`EADDRINUSE: udp port ${port}`);
      this.ports.set(port, sock);
      return port;
    }
    // udp_lib_get_port: a random first port in the range, then walk to the next free one.
    const rng = this.sim.rng.stream(`${this.stack.name}/ephemeral`);
    const span = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
    const first = rng.int(span);
    for (let i = 0; i < span; i++) {
      const p = EPHEMERAL_LOW + ((first + i) % span);
      if (!this.ports.has(p)) {
        this.ports.set(p, sock);
        return p;
      }
    }
    throw new Error('EAGAIN: no free ephemeral udp port');
  }
  /** Releases the socket's port. */
  unbind(sock: UdpSocket): void {
    if (sock.localPort !== 0 && this.ports.get(sock.localPort) === sock) this.ports.delete(sock.localPort);
  }

  /** Builds and sends one datagram (udp_sendmsg → ip_make_skb → ip_local_out). */
  output(sock: UdpSocket, dst: Ipv4, dstPort: number, data: Uint8Array | number): boolean {
    const length = typeof data === 'number' ? data : data.length;
    if (length > UDP_MAX_PAYLOAD || length < 0) throw new Error(`EMSGSIZE: ${length} bytes`);
    const hint = HINT;
    const mtu = this.stack.mtuFor(dst, hint);
    if (mtu === null) {
      hint.route = null;
      this.counters.OutNoRoutes++;
      sock.sendError = 'no-route';
      return false;
    }
    const total = IPV4_HEADER_LEN + UDP_HEADER_LEN + length;
    const pkt = new Packet();
    const df = total <= mtu;
    // ip_select_ident: a DF datagram of a connected socket takes the socket's inet_id counter; other
    // datagrams get the namespace's hashed ip_idents counter (-1 = "the kernel picks").
    let id = -1;
    if (df && sock.remotePort !== 0 && dst === sock.remoteAddr && dstPort === sock.remotePort) {
      id = sock.inetId;
      sock.inetId = (sock.inetId + 1) & 0xffff;
    }
    pkt.ip = ipv4Header(IpProto.UDP, sock.localAddr, dst, df ? IP_DF : 0, 0, 64, id, total); // IP_PMTUDISC_WANT: DF when it fits (ip_dont_fragment)
    pkt.udp = { srcPort: sock.localPort, dstPort, length: UDP_HEADER_LEN + length, checksum: null };
    pkt.payloadLength = length;
    pkt.payload = typeof data === 'number' ? null : data;
    pkt.flowId = sock.flowId;
    const fib = hint.route;
    hint.route = null;
    if (!this.stack.ipLocalOut(pkt, fib)) {
      const e = this.stack.sendError ?? 'no-route';
      if (e === 'no-route') this.counters.OutNoRoutes++;
      sock.sendError = e;
      return false;
    }
    this.counters.OutDatagrams++;
    return true;
  }

  /** __udp4_lib_rcv: deliver to the matching socket, or answer ICMP port unreachable. */
  /** __udp4_lib_rcv's csum_error: UDP_MIB_CSUMERRORS and UDP_MIB_INERRORS. */
  csumError(): void {
    this.counters.InErrors++;
    this.counters.InCsumErrors = (this.counters.InCsumErrors ?? 0) + 1;
  }

  receive(pkt: Packet): void {
    const ip = pkt.ip;
    const udp = pkt.udp;
    if (ip === null || udp === null || udp.length < UDP_HEADER_LEN) {
      this.counters.InErrors++;
      return;
    }
    const sock = this.ports.get(udp.dstPort);
    const match =
      sock !== undefined &&
      (sock.localAddr === 0 || sock.localAddr === ip.dst) &&
      (sock.remotePort === 0 || (sock.remoteAddr === ip.src && sock.remotePort === udp.srcPort));
    if (!match) {
      this.counters.NoPorts++;
      // RFC 1122 3.2.2.1 / Linux: ICMP port unreachable, never for a broadcast/multicast destination.
      if (!isBroadcastOrMulticast(ip.dst)) this.stack.icmpSend(pkt, IcmpType.DEST_UNREACH, IcmpUnreachCode.PORT, 0);
      return;
    }
    this.counters.InDatagrams++;
    sock.onMessage?.(pkt.payload, udp.length - UDP_HEADER_LEN, ip.src, udp.srcPort, pkt);
  }

  /** udp_err: an ICMP error quoting one of our datagrams; reported to a connected socket only. */
  error(icmpPkt: Packet): void {
    const inner = icmpPkt.inner;
    const icmp = icmpPkt.icmp;
    if (inner === null || inner.udp === null || inner.ip === null || icmp === null) return;
    const sock = this.ports.get(inner.udp.srcPort);
    if (sock === undefined) return;
    // __udp4_lib_err: ipv4_sk_update_pmtu for any socket found, connected or not.
    const fragNeeded = icmp.type === IcmpType.DEST_UNREACH && icmp.code === IcmpUnreachCode.FRAG_NEEDED;
    if (fragNeeded) this.stack.updatePmtu(inner.ip.dst, icmp.rest & 0xffff);
    if (sock.remotePort === 0) return; // unconnected: needs IP_RECVERR (not modelled)
    if (sock.remoteAddr !== inner.ip.dst || sock.remotePort !== inner.udp.dstPort) return;
    // sk_err = EMSGSIZE: the next send(2) fails with it (measured: that datagram is not sent).
    if (fragNeeded) sock.pendingEmsgsize = true;
    const kind = icmpErrorKind(icmp.type, icmp.code);
    if (kind !== null) sock.onError?.(kind);
  }
}

/** icmp_err_convert (net/ipv4/icmp.c): the errno family an ICMP error maps to, or null when ignored. */
export function icmpErrorKind(type: number, code: number): SocketErrorKind | null {
  if (type === IcmpType.DEST_UNREACH) {
    if (code === IcmpUnreachCode.PORT || code === IcmpUnreachCode.PROTOCOL) return 'refused';
    if (code === IcmpUnreachCode.FRAG_NEEDED) return null; // EMSGSIZE / PMTU update: not modelled
    return 'unreachable';
  }
  if (type === IcmpType.TIME_EXCEEDED) return 'unreachable'; // EHOSTUNREACH in icmp_err_convert terms
  return null;
}

/** True for 255.255.255.255 and 224.0.0.0/4 (directed broadcast needs the interface mask: not checked). */
function isBroadcastOrMulticast(a: Ipv4): boolean {
  return a === 0xffffffff || a >>> 28 === 0xe;
}
