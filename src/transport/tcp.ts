// transport/tcp — TCP sockets of one namespace, Linux-faithful on the wire. Layer: transport (imports
// core, wire, packet, net). Mirrors RFC 9293 (state machine), RFC 6298 (RTO), RFC 5681/6582 (NewReno),
// RFC 6675 (SACK loss recovery, simplified), RFC 6937 (PRR, Linux's default recovery), RFC 7323
// (window scale, timestamps) and Linux's choices in net/ipv4/tcp_output.c (options, initial window
// tcp_select_initial_window, __tcp_select_window, tcp_write_xmit, Nagle/Minshall), tcp_input.c (tcp_ack,
// tcp_fastretrans_alert, tcp_data_queue, __tcp_ack_snd_check, delayed/quick ACK, tcp_rcv_space_adjust,
// tcp_grow_window), tcp_timer.c (tcp_retransmit_timer, tcp_model_timeout, delack timer), tcp_ipv4.c
// (tcp_v4_send_reset, tcp_v4_err), inet_hashtables.c (__inet_hash_connect ephemeral ports) and
// tcp_minisocks.c (TIME_WAIT). Sequence numbers are kept internally as offsets from ISN/IRS in plain
// doubles (no wrap), converted to 32-bit on the wire.
//
// Timers: one SimEvent per socket, re-armed lazily: deadlines (retransmit/persist, delayed ACK,
// TIME_WAIT/FIN_WAIT_2) live in fields; the event is rescheduled only when a deadline moves earlier.
//
// Not modelled: TLP/RACK (tail losses wait for the RTO), F-RTO, DSACK and undo, HyStart, pacing, TSO/GSO,
// PAWS, keepalive, urgent data, SYN cookies, TCP Fast Open, simultaneous open, MTU probing, ECN, send
// buffer limits (writes are never refused), forced PSH during one long write, out-of-window RST
// challenge-ACK rate limiting, the local address in the connection hash (one address per namespace
// side is assumed).
import type { Simulator } from '../core/simulator.js';
import type { SimEvent } from '../core/scheduler.js';
import type { TimeNs } from '../core/time.js';
import type { Rng } from '../core/rng.js';
import type { IpStack, L4Receiver } from '../net/api.js';
import { Packet } from '../packet/packet.js';
import { IP_DF, IpProto, TcpFlag, type Ipv4, type TcpHeader } from '../wire/types.js';
import { ipv4Header } from '../wire/ipv4.js';
import { EPHEMERAL_HIGH, EPHEMERAL_LOW, type SocketErrorKind } from './api.js';
import { newCongestionControl, type CcState, type CongestionAlgorithm, type CongestionControl } from './tcp-cc.js';
import { establishedOptions, LINUX_WSCALE, MAX_SACK_BLOCKS, MAX_SACK_BLOCKS_WITH_TS, parseSynOptions, synOptions, TS_ALIGNED_LEN } from './tcp-options.js';
import { icmpErrorKind } from './udp.js';

const MS = 1_000_000;
const SEC = 1_000_000_000;

/** Linux sysctl defaults the model follows (net.ipv4.tcp_* and include/net/tcp.h constants). */
export interface TcpConfig {
  /** net.ipv4.tcp_congestion_control. */
  congestion: CongestionAlgorithm;
  /** tcp_syn_retries = 6: SYN at 0, 1, 3, 7, 15, 31, 63 s; ETIMEDOUT at 127 s. */
  synRetries: number;
  /** tcp_synack_retries = 5. */
  synackRetries: number;
  /** tcp_retries2 = 15: ~924.6 s of data retransmission before ETIMEDOUT (tcp_model_timeout). */
  retries2: number;
  /** TCP_INIT_CWND = 10 (RFC 6928). */
  initialCwnd: number;
  /** TCP_RTO_MIN 200 ms, TCP_RTO_MAX 120 s, TCP_TIMEOUT_INIT 1 s. */
  rtoMin: TimeNs;
  rtoMax: TimeNs;
  rtoInit: TimeNs;
  /** TCP_ATO_MIN / TCP_DELACK_MIN = 40 ms, TCP_DELACK_MAX = 200 ms. */
  delackMin: TimeNs;
  delackMax: TimeNs;
  /** TCP_TIMEWAIT_LEN = 60 s; tcp_fin_timeout = 60 s. */
  timeWait: TimeNs;
  finTimeout: TimeNs;
  /** tcp_rmem = "4096 131072 6291456". */
  rmemDefault: number;
  rmemMax: number;
  /** tcp_sack, tcp_timestamps, tcp_window_scaling = 1. */
  sack: boolean;
  timestamps: boolean;
  windowScaling: boolean;
  /** tcp_slow_start_after_idle = 1. */
  slowStartAfterIdle: boolean;
  /** net.core.somaxconn = 4096 (caps listen backlogs). */
  somaxconn: number;
  /** tcp_reordering = 3 (dupthresh). */
  reordering: number;
}

/** Linux defaults. */
export const LINUX_TCP_DEFAULTS: TcpConfig = {
  congestion: 'cubic',
  synRetries: 6,
  synackRetries: 5,
  retries2: 15,
  initialCwnd: 10,
  rtoMin: 200 * MS,
  rtoMax: 120 * SEC,
  rtoInit: 1 * SEC,
  delackMin: 40 * MS,
  delackMax: 200 * MS,
  timeWait: 60 * SEC,
  finTimeout: 60 * SEC,
  rmemDefault: 131072,
  rmemMax: 6291456,
  sack: true,
  timestamps: true,
  windowScaling: true,
  slowStartAfterIdle: true,
  somaxconn: 4096,
  reordering: 3,
};

/** Connection states (RFC 9293 3.3.2, Linux's names). */
export type TcpState =
  | 'CLOSED'
  | 'SYN_SENT'
  | 'SYN_RECV'
  | 'ESTABLISHED'
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'CLOSING'
  | 'TIME_WAIT'
  | 'CLOSE_WAIT'
  | 'LAST_ACK';

/** Linux's congestion state machine (icsk_ca_state); Disorder and CWR are folded into Open. */
export type CaState = 'open' | 'recovery' | 'loss';

/** The Tcp counters of /proc/net/snmp plus a few TcpExt ones. */
export interface TcpCounters {
  ActiveOpens: number;
  PassiveOpens: number;
  AttemptFails: number;
  EstabResets: number;
  CurrEstab: number;
  InSegs: number;
  OutSegs: number;
  RetransSegs: number;
  InErrs: number;
  OutRsts: number;
  /** TcpExt. */
  ListenOverflows: number;
  DelayedACKs: number;
  TCPTimeouts: number;
  TCPFastRetrans: number;
  TCPSackRecovery: number;
  TCPRenoRecovery: number;
  TCPLossProbes: number;
  OutNoRoutes: number;
}

/** Per-socket options. */
export interface TcpSocketOptions {
  /** TCP_NODELAY (disables Nagle). Default false, as Linux. */
  noDelay?: boolean;
  /** Congestion control for this socket (TCP_CONGESTION); default from the layer. */
  congestion?: CongestionAlgorithm;
  /** Flow id stamped on every packet (statistics). */
  flowId?: number;
}

/** One segment on the retransmission queue (an skb in tcp_rtx_queue, never split or merged). */
class TxSeg {
  sacked = false;
  lost = false;
  /** A retransmission of this segment is in flight (TCPCB_SACKED_RETRANS). */
  inRetrans = false;
  /** Ever retransmitted (TCPCB_EVER_RETRANS): no RTT sample from it (Karn). */
  everRetrans = false;
  constructor(
    public start: number,
    readonly end: number,
    readonly syn: boolean,
    readonly fin: boolean,
    public sentAt: TimeNs,
  ) {}
}

/** A received out-of-order range held for reassembly. */
interface OooRange {
  start: number;
  end: number;
  /** Pieces in order; data null = the sender gave only a length. */
  pieces: { start: number; end: number; data: Uint8Array | null }[];
  fin: boolean;
}

/** A listening socket. */
export class TcpListener {
  /** SYN_RECV children not yet established (counted against the backlog). */
  pending = 0;
  closed = false;
  constructor(
    readonly layer: TcpLayer,
    readonly port: number,
    readonly backlog: number,
    readonly onAccept: (sock: TcpSocket) => void,
    readonly options: TcpSocketOptions,
  ) {}
  /** Stops listening (established children are unaffected). */
  close(): void {
    this.closed = true;
    this.layer.unlisten(this);
  }
}

function onTimerEvent(sock: TcpSocket): void {
  sock.onTimer();
}

/** One TCP connection endpoint (struct tcp_sock). */
export class TcpSocket implements CcState {
  /** inet_id: the IP ID of this socket's next segment (ip_select_ident for a connected DF socket). */
  inetId = 0;
  state: TcpState = 'CLOSED';
  localAddr: Ipv4 = 0;
  localPort = 0;
  remoteAddr: Ipv4 = 0;
  remotePort = 0;
  flowId = 0;
  noDelay = false;

  // --- application callbacks ---
  /** The handshake completed (active open). */
  onConnect: ((s: TcpSocket) => void) | null = null;
  /** In-order data arrived; `data` is null when the sender gave only a length. */
  onData: ((data: Uint8Array | null, length: number) => void) | null = null;
  /** The peer closed its side (FIN received; read would return 0). */
  onEnd: (() => void) | null = null;
  /** The connection failed or was reset. */
  onError: ((kind: SocketErrorKind) => void) | null = null;
  /** The socket is gone (after TIME_WAIT, LAST_ACK, a reset or an abort). */
  onClose: (() => void) | null = null;

  // --- sequence space (offsets: SYN = 0, first data byte = 1) ---
  iss = 0;
  irs = 0;
  sndUna = 0;
  sndNxt = 0;
  /** End of data queued by the application (write_seq). */
  writeSeq = 1;
  /** FIN queued by close(); its sequence number is finSeq. */
  finQueued = false;
  finSeq = -1;
  finSent = false;
  /** Peer's window in bytes (scaled). */
  sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  /** Highest seq ending a sub-MSS segment (Minshall's Nagle). */
  private sndSml = 0;
  rcvNxt = 0;
  /** rcv_wnd: the last window advertised, bytes. */
  rcvWnd = 0;
  /** rcv_wup: rcv_nxt when the last window was advertised. */
  private rcvWup = 0;

  // --- negotiated options ---
  /** Our advertised MSS (route MTU − 40). */
  advMss = 536;
  /** Peer's MSS clamp. */
  peerMss = 536;
  /** Effective payload bytes per segment (mss_cache). */
  mss = 536;
  sackOk = false;
  tsOk = false;
  sndWscale = 0;
  rcvWscale = 0;
  private tsRecent = 0;
  private tsOffset = 0;

  // --- receive buffer / window (tcp_select_window, DRS) ---
  private rcvBuf: number;
  private rcvSsthresh = 0;
  private windowClamp = 0;
  private rcvMss = 536;
  private readonly ooo: OooRange[] = [];
  private oooBytes = 0;
  private lastOooSeq = -1;
  private copied = 0;
  private rcvqSpace = 0;
  private rcvqSeq = 0;
  private rcvqTime: TimeNs = 0;

  // --- delayed ACK (inet_connection_sock icsk_ack) ---
  private ackPending = false;
  private quickAcks = 0;
  private pingpong = false;
  private ato: TimeNs;
  private lrcvTime: TimeNs = 0;
  private ackNow = false;

  // --- congestion control and recovery ---
  cwnd = 10;
  ssthresh = Infinity;
  cwndCnt = 0;
  caState: CaState = 'open';
  private readonly cc: CongestionControl;
  private highSeq = 0;
  private dupAcks = 0;
  private prrDelivered = 0;
  private prrOut = 0;
  private priorCwnd = 0;
  private isCwndLimited = false;
  private maxPacketsOut = 0;
  private lastSendTime: TimeNs = 0;

  // --- retransmission queue ---
  private rtx: TxSeg[] = [];
  private rtxHead = 0;
  packetsOut = 0;
  sackedOut = 0;
  lostOut = 0;
  retransOut = 0;
  /** Segments retransmitted over the connection's life (tcpi_total_retrans). */
  totalRetrans = 0;

  // --- application write queue ---
  private qStart: number[] = [];
  private qEnd: number[] = [];
  private qData: (Uint8Array | null)[] = [];
  private qHead = 0;

  // --- RTT / RTO (RFC 6298 as tcp_rtt_estimator) ---
  srtt: TimeNs = 0;
  rttvar: TimeNs = 0;
  rto: TimeNs;
  backoff = 0;
  minRtt: TimeNs = Infinity;
  private retransStamp: TimeNs = 0;
  private probing = false;
  private softError: SocketErrorKind | null = null;

  // --- timers ---
  private timerEv: SimEvent | null = null;
  private timerAt = Infinity;
  private rtoAt = Infinity;
  private delackAt = Infinity;
  private tailAt = Infinity;

  /** The listener that created this socket (passive open) until it is established. */
  listener: TcpListener | null = null;
  /** When the handshake started (for connect time). */
  connectStartedAt: TimeNs = 0;
  /** When the connection became established. */
  establishedAt: TimeNs = -1;

  private readonly sim: Simulator;
  private readonly cfg: TcpConfig;

  constructor(
    readonly layer: TcpLayer,
    opts: TcpSocketOptions,
  ) {
    this.sim = layer.stack.sim;
    this.cfg = layer.config;
    this.cc = newCongestionControl(opts.congestion ?? this.cfg.congestion);
    this.noDelay = opts.noDelay ?? false;
    this.flowId = opts.flowId ?? 0;
    this.rto = this.cfg.rtoInit;
    this.ato = this.cfg.delackMin;
    this.rcvBuf = this.cfg.rmemDefault;
    this.cwnd = this.cfg.initialCwnd;
  }

  // ================================================================ application API

  /** Queues bytes (or a byte count of zeros-that-need-no-bytes) for sending (tcp_sendmsg). */
  send(data: Uint8Array | number): void {
    if (this.finQueued || this.state === 'CLOSED' || this.state === 'TIME_WAIT') throw new Error(`EPIPE: send on ${this.state} socket`);
    const len = typeof data === 'number' ? data : data.length;
    if (len <= 0) return;
    this.qStart.push(this.writeSeq);
    this.qEnd.push(this.writeSeq + len);
    this.qData.push(typeof data === 'number' ? null : data);
    this.writeSeq += len;
    if (this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT') this.pushPendingFrames();
  }

  /** close(2): sends FIN after queued data (graceful). */
  close(): void {
    switch (this.state) {
      case 'SYN_SENT':
      case 'SYN_RECV':
        this.destroy();
        return;
      case 'ESTABLISHED':
        this.setState('FIN_WAIT_1');
        break;
      case 'CLOSE_WAIT':
        this.setState('LAST_ACK');
        break;
      case 'CLOSED':
      case 'FIN_WAIT_1':
      case 'FIN_WAIT_2':
      case 'CLOSING':
      case 'TIME_WAIT':
      case 'LAST_ACK':
        return;
      default: {
        const never: never = this.state;
        throw new Error(`bad state ${String(never)}`);
      }
    }
    this.finQueued = true;
    this.finSeq = this.writeSeq;
    this.pushPendingFrames();
  }

  /** Aborts with RST (close with SO_LINGER 0): the peer sees ECONNRESET. */
  abort(): void {
    if (this.state !== 'CLOSED' && this.state !== 'SYN_SENT' && this.state !== 'TIME_WAIT') {
      this.layer.counters.OutRsts++;
      this.emit(TcpFlag.RST | TcpFlag.ACK, this.sndNxt, 0, null, false);
      if (this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT') this.layer.counters.EstabResets++;
    }
    this.destroy();
  }

  /** True once the socket is closed (a method, so narrowing does not survive calls that change state). */
  isClosed(): boolean {
    return this.state === 'CLOSED';
  }

  /** Bytes queued by the application and not yet acknowledged. */
  get unacked(): number {
    return this.writeSeq - Math.max(this.sndUna, 1);
  }
  /** Packets in flight as Linux counts them (tcp_packets_in_flight). */
  get inFlight(): number {
    return this.packetsOut - (this.sackedOut + this.lostOut) + this.retransOut;
  }

  // ================================================================ connection setup

  /** Active open (tcp_v4_connect + tcp_connect). */
  startConnect(): void {
    const L = this.layer;
    this.iss = L.isnRng.uint32();
    this.inetId = L.inetIdRng.int(65536);
    this.tsOffset = L.tsOffsetFor(this.remoteAddr);
    const mtu = L.stack.mtuFor(this.remoteAddr);
    this.advMss = mtu !== null ? mtu - 40 : 536;
    this.initRcvWindow(this.advMss);
    this.sndUna = 0;
    this.sndNxt = 0;
    this.connectStartedAt = this.sim.now;
    this.setState('SYN_SENT');
    L.counters.ActiveOpens++;
    this.sendSyn();
  }

  /** Passive open: a SYN reached a listener; this child answers with SYN-ACK (tcp_conn_request). */
  startPassive(syn: Packet): void {
    const L = this.layer;
    const t = syn.tcp!;
    const o = parseSynOptions(t.options);
    this.irs = t.seq;
    this.rcvNxt = 1;
    this.iss = L.isnRng.uint32();
    this.inetId = L.inetIdRng.int(65536);
    this.tsOffset = L.tsOffsetFor(this.remoteAddr);
    const mtu = L.stack.mtuFor(this.remoteAddr);
    this.advMss = mtu !== null ? mtu - 40 : 536;
    this.negotiate(o, t.window);
    this.initRcvWindow(this.advMss - (this.tsOk ? TS_ALIGNED_LEN : 0));
    this.connectStartedAt = this.sim.now;
    this.setState('SYN_RECV');
    this.sendSyn();
  }

  private negotiate(o: ReturnType<typeof parseSynOptions>, synWindow: number): void {
    const c = this.cfg;
    this.sackOk = c.sack && o.sackPermitted;
    this.tsOk = c.timestamps && o.tsval !== null;
    if (o.tsval !== null) this.tsRecent = o.tsval;
    if (c.windowScaling && o.wscale !== null) {
      this.sndWscale = o.wscale;
      this.rcvWscale = LINUX_WSCALE;
    } else {
      this.sndWscale = 0;
      this.rcvWscale = 0;
    }
    this.peerMss = o.mss ?? 536; // RFC 9293 3.7.1: 536 when the option is absent
    this.mss = Math.min(this.peerMss, this.advMss) - (this.tsOk ? TS_ALIGNED_LEN : 0);
    this.sndWnd = synWindow; // the window in a SYN is never scaled (RFC 7323 2.2)
  }

  /** tcp_select_initial_window: round the space down to whole segments, cap at 64 KiB − 1. */
  private initRcvWindow(mssForWindow: number): void {
    let space = this.rcvSpace();
    if (space > mssForWindow) space -= space % mssForWindow;
    this.rcvWnd = Math.min(space, 65535);
    this.rcvSsthresh = this.rcvWnd;
    this.windowClamp = this.rcvSpace();
    this.rcvqSpace = Math.min(this.rcvWnd, 10 * this.advMss);
  }

  /** tcp_win_from_space with the default scaling ratio (50 % of the buffer is window). */
  private rcvSpace(): number {
    return this.rcvBuf >> 1;
  }

  private sendSyn(): void {
    const passive = this.state === 'SYN_RECV';
    const ts = this.cfg.timestamps && (!passive || this.tsOk) ? { tsval: this.tsNow(), tsecr: passive ? this.tsRecent : 0 } : null;
    const sack = this.cfg.sack && (!passive || this.sackOk);
    const ws = this.cfg.windowScaling && (!passive || this.rcvWscale > 0 || this.sndWscale > 0) ? LINUX_WSCALE : null;
    const opts = synOptions(this.advMss, ts, sack, ws);
    const flags = passive ? TcpFlag.SYN | TcpFlag.ACK : TcpFlag.SYN;
    if (this.rtx.length === this.rtxHead) {
      this.rtx.push(new TxSeg(0, 1, true, false, this.sim.now));
      this.packetsOut = 1;
      this.sndNxt = 1;
    }
    const pkt = this.buildPacket(flags, 0, 0, null, Math.min(this.rcvWnd, 65535), opts);
    if (passive) {
      this.rcvWup = this.rcvNxt;
    }
    if (!this.output(pkt) && !passive) {
      // ip_route_connect failed: connect() returns ENETUNREACH.
      this.layer.counters.AttemptFails++;
      this.sim.schedule(0, (s: TcpSocket) => s.fail('unreachable'), this);
      return;
    }
    this.lastSendTime = this.sim.now;
    this.armRto();
  }

  // ================================================================ output

  /** Builds a segment's packet. `window` is the raw field value. */
  private buildPacket(flags: number, seq: number, len: number, payload: Uint8Array | null, window: number, options: TcpHeader['options']): Packet {
    const pkt = new Packet();
    // ip_select_ident: a connected socket numbers its segments from inet_id; the SYN-ACK goes out of
    // the request socket through ip_build_and_send_pkt, which writes ID 0.
    const synAck = (flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK);
    const id = synAck ? 0 : this.inetId;
    if (!synAck) this.inetId = (this.inetId + 1) & 0xffff;
    // TCP always does path MTU discovery (IP_PMTUDISC_WANT, DF on every segment)
    pkt.ip = ipv4Header(IpProto.TCP, this.localAddr, this.remoteAddr, IP_DF, 0, 64, id);
    pkt.tcp = {
      srcPort: this.localPort,
      dstPort: this.remotePort,
      seq: (this.iss + seq) >>> 0,
      ack: flags & TcpFlag.ACK ? (this.irs + this.rcvNxt) >>> 0 : 0,
      flags,
      window,
      checksum: null,
      urgent: 0,
      options,
    };
    pkt.payloadLength = len;
    pkt.payload = payload;
    pkt.flowId = this.flowId;
    pkt.sentAt = this.sim.now;
    return pkt;
  }

  private output(pkt: Packet): boolean {
    const L = this.layer;
    L.counters.OutSegs++;
    if (!L.stack.ipLocalOut(pkt)) {
      L.counters.OutNoRoutes++;
      return false;
    }
    return true;
  }

  /** Current TSval: a 1 ms clock plus the per-peer offset (tcp_time_stamp_ts + ts_off). */
  private tsNow(): number {
    return (Math.floor(this.sim.now / MS) + this.tsOffset) >>> 0;
  }

  /** Sends one established-state segment [seq, seq+len) (+FIN), carrying ACK and the current window. */
  private emit(flags: number, seq: number, len: number, payload: Uint8Array | null, withSack: boolean): void {
    const sack = withSack && this.sackOk && this.ooo.length > 0 ? this.sackBlocks() : null;
    const opts = flags & TcpFlag.RST ? [] : establishedOptions(this.tsOk, this.tsNow(), this.tsRecent, sack);
    const window = flags & TcpFlag.RST ? 0 : this.selectWindow();
    const pkt = this.buildPacket(flags, seq, len, payload, window, opts);
    this.output(pkt);
    if (flags & TcpFlag.ACK) this.ackSent();
  }

  /** tcp_event_ack_sent: any segment carrying ACK clears the pending delayed ACK. */
  private ackSent(): void {
    this.ackPending = false;
    this.ackNow = false;
    this.delackAt = Infinity;
    if (this.quickAcks > 0) this.quickAcks--;
  }

  /** tcp_select_window / __tcp_select_window: the window field to advertise (never shrinking). */
  private selectWindow(): number {
    const ws = this.rcvWscale;
    const cur = Math.max(0, this.rcvWup + this.rcvWnd - this.rcvNxt);
    let free = Math.min(this.rcvSpace(), this.windowClamp) - this.oooBytes;
    if (free < 0) free = 0;
    if (free > this.rcvSsthresh) free = this.rcvSsthresh;
    let win = free;
    if (ws > 0) {
      if ((win >> ws) << ws !== win) win = ((win >> ws) + 1) << ws;
    } else if (win > 65535) win = 65535;
    if (win < cur) win = ws > 0 ? Math.ceil(cur / (1 << ws)) * (1 << ws) : cur;
    win = Math.min(win, 65535 * 2 ** ws);
    this.rcvWnd = win;
    this.rcvWup = this.rcvNxt;
    return Math.floor(win / 2 ** ws);
  }

  /** SACK blocks: the range holding the latest out-of-order segment first, then the others, newest first. */
  private sackBlocks(): [number, number][] {
    const max = this.tsOk ? MAX_SACK_BLOCKS_WITH_TS : MAX_SACK_BLOCKS;
    const out: [number, number][] = [];
    let first = -1;
    for (let i = 0; i < this.ooo.length; i++) {
      const r = this.ooo[i]!;
      if (this.lastOooSeq >= r.start && this.lastOooSeq < r.end) first = i;
    }
    const w = (x: number): number => (this.irs + x) >>> 0;
    if (first >= 0) out.push([w(this.ooo[first]!.start), w(this.ooo[first]!.end)]);
    for (let i = this.ooo.length - 1; i >= 0 && out.length < max; i--) {
      if (i === first) continue;
      const r = this.ooo[i]!;
      out.push([w(r.start), w(r.end)]);
    }
    return out;
  }

  /** Payload bytes for [start, end) from the write queue; null when the application gave only lengths. */
  private payloadFor(start: number, end: number): Uint8Array | null {
    let i = this.qHead;
    while (i < this.qEnd.length && this.qEnd[i]! <= start) i++;
    if (i >= this.qEnd.length) return null;
    const s0 = this.qStart[i]!;
    const d0 = this.qData[i]!;
    if (end <= this.qEnd[i]!) return d0 === null ? null : d0.subarray(start - s0, end - s0);
    // Spans several writes: copy into one buffer (zeros where a write had no bytes).
    let any = false;
    for (let j = i; j < this.qEnd.length && this.qStart[j]! < end; j++) if (this.qData[j] !== null) any = true;
    if (!any) return null;
    const out = new Uint8Array(end - start);
    for (let j = i; j < this.qEnd.length && this.qStart[j]! < end; j++) {
      const d = this.qData[j];
      if (d === null || d === undefined) continue;
      const a = Math.max(start, this.qStart[j]!);
      const b = Math.min(end, this.qEnd[j]!);
      out.set(d.subarray(a - this.qStart[j]!, b - this.qStart[j]!), a - start);
    }
    return out;
  }

  /** True when `end` closes an application write (PSH, as tcp_push marks the last skb of a sendmsg). */
  private endsWrite(end: number): boolean {
    let i = this.qHead;
    while (i < this.qEnd.length && this.qEnd[i]! < end) i++;
    return i < this.qEnd.length && this.qEnd[i] === end;
  }

  /** __tcp_push_pending_frames → tcp_write_xmit: send what cwnd, rwnd and Nagle allow. */
  private pushPendingFrames(): void {
    if (!this.canSendData()) return;
    const now = this.sim.now;
    if (this.packetsOut === 0 && (this.sndNxt < this.writeSeq || (this.finQueued && !this.finSent))) {
      // tcp_cwnd_restart after idle (RFC 5681 4.1), and CA_EVENT_TX_START.
      if (this.cfg.slowStartAfterIdle && this.establishedAt >= 0 && now - this.lastSendTime > this.rto && this.lastSendTime > 0) {
        const restart = Math.min(this.cfg.initialCwnd, this.cwnd);
        let cwnd = this.cwnd;
        let delta = now - this.lastSendTime;
        while ((delta -= this.rto) > 0 && cwnd > restart) cwnd >>= 1;
        this.ssthresh = Math.max(this.ssthresh, (3 * this.cwnd) >> 2); // tcp_current_ssthresh
        this.cwnd = Math.max(cwnd, restart);
      }
      this.cc.onTxStart(now, this.lastSendTime);
    }
    if (this.caState !== 'open') this.retransmitLost();
    let sent = 0;
    for (;;) {
      const avail = this.writeSeq - this.sndNxt;
      if (avail <= 0) break;
      if (this.inFlight >= this.cwnd) {
        this.isCwndLimited = true;
        break;
      }
      const len = Math.min(this.mss, avail);
      if (this.sndNxt + len > this.sndUna + this.sndWnd) break; // tcp_snd_wnd_test: whole segment must fit
      if (len < this.mss && !this.noDelay && this.packetsOut > 0 && this.sndSml > this.sndUna) break; // Nagle (Minshall)
      this.sendNew(len);
      sent++;
    }
    // FIN alone when all data is out (tcp_send_fin when nothing is left to piggyback on).
    if (this.finQueued && !this.finSent && this.sndNxt === this.writeSeq && this.finSeq === this.sndNxt) {
      this.sendNew(0);
      sent++;
    }
    if (sent > 0 && this.packetsOut > this.maxPacketsOut) this.maxPacketsOut = this.packetsOut;
    // Window closed with data waiting and nothing in flight: zero-window probes (persist timer).
    if (this.packetsOut === 0 && this.sndNxt < this.writeSeq && this.rtoAt === Infinity) {
      this.probing = true;
      this.rtoAt = now + this.currentRto();
      this.armTimer();
    }
  }

  private canSendData(): boolean {
    switch (this.state) {
      case 'ESTABLISHED':
      case 'CLOSE_WAIT':
      case 'FIN_WAIT_1':
      case 'LAST_ACK':
        return true;
      case 'CLOSED':
      case 'SYN_SENT':
      case 'SYN_RECV':
      case 'FIN_WAIT_2':
      case 'CLOSING':
      case 'TIME_WAIT':
        return false;
      default: {
        const never: never = this.state;
        throw new Error(`bad state ${String(never)}`);
      }
    }
  }

  /** Sends the next new segment of `len` bytes (FIN piggybacked when it ends the stream). */
  private sendNew(len: number): void {
    const seq = this.sndNxt;
    const end = seq + len;
    const fin = this.finQueued && end === this.finSeq;
    let flags = TcpFlag.ACK;
    if (len > 0 && this.endsWrite(end)) flags |= TcpFlag.PSH;
    if (fin) flags |= TcpFlag.FIN;
    const payload = len > 0 ? this.payloadFor(seq, end) : null;
    const seg = new TxSeg(seq, end + (fin ? 1 : 0), false, fin, this.sim.now);
    this.rtx.push(seg);
    this.packetsOut++;
    this.sndNxt = seg.end;
    if (fin) this.finSent = true;
    if (len < this.mss) this.sndSml = end;
    if (this.caState === 'recovery') this.prrOut++;
    this.emit(flags, seq, len, payload, true);
    this.dataSent();
  }

  /** tcp_event_data_sent: pingpong detection and the retransmit timer. */
  private dataSent(): void {
    const now = this.sim.now;
    if (this.lrcvTime > 0 && now - this.lrcvTime < this.ato) this.pingpong = true;
    this.lastSendTime = now;
    if (this.rtoAt === Infinity || this.probing) {
      this.probing = false;
      this.rtoAt = now + this.currentRto();
      this.armTimer();
    }
  }

  /** tcp_retransmit_skb: resend one segment from the queue. */
  private retransmit(seg: TxSeg): void {
    this.layer.counters.RetransSegs++;
    this.totalRetrans++;
    if (!seg.inRetrans) {
      seg.inRetrans = true;
      this.retransOut++;
    }
    seg.everRetrans = true;
    seg.sentAt = this.sim.now;
    if (this.caState === 'recovery') this.prrOut++;
    if (seg.syn) {
      this.sendSyn();
      return;
    }
    const dataEnd = seg.fin ? seg.end - 1 : seg.end;
    const start = Math.max(seg.start, this.sndUna);
    const len = dataEnd - start;
    let flags = TcpFlag.ACK;
    if (len > 0 && this.endsWrite(dataEnd)) flags |= TcpFlag.PSH;
    if (seg.fin) flags |= TcpFlag.FIN;
    this.emit(flags, start, Math.max(len, 0), len > 0 ? this.payloadFor(start, dataEnd) : null, true);
    this.lastSendTime = this.sim.now;
  }

  /** tcp_xmit_retransmit_queue: resend segments marked lost while cwnd allows. */
  private retransmitLost(): void {
    if (this.lostOut === 0) return;
    for (let i = this.rtxHead; i < this.rtx.length; i++) {
      if (this.inFlight >= this.cwnd) {
        this.isCwndLimited = true;
        return;
      }
      const s = this.rtx[i]!;
      if (s.lost && !s.inRetrans && !s.sacked) {
        if (s === this.rtx[this.rtxHead] && this.caState === 'recovery') this.layer.counters.TCPFastRetrans++;
        this.retransmit(s);
      }
    }
  }

  /** Sends a pure ACK now (tcp_send_ack). */
  private sendAck(): void {
    this.emit(TcpFlag.ACK, this.sndNxt, 0, null, true);
  }

  // ================================================================ input

  /** A segment for this socket (tcp_v4_rcv → tcp_rcv_state_process / tcp_rcv_established). */
  segmentArrived(pkt: Packet): void {
    const t = pkt.tcp!;
    const flags = t.flags;
    switch (this.state) {
      case 'SYN_SENT':
        this.synSentArrived(pkt);
        return;
      case 'CLOSED':
        return;
      case 'TIME_WAIT':
        this.timeWaitArrived(pkt);
        return;
      case 'SYN_RECV':
      case 'ESTABLISHED':
      case 'FIN_WAIT_1':
      case 'FIN_WAIT_2':
      case 'CLOSING':
      case 'CLOSE_WAIT':
      case 'LAST_ACK':
        break;
      default: {
        const never: never = this.state;
        throw new Error(`bad state ${String(never)}`);
      }
    }
    const seq = this.rcvNxt + ((t.seq - ((this.irs + this.rcvNxt) >>> 0)) | 0);
    const len = pkt.payloadLength;
    const segEnd = seq + len + (flags & TcpFlag.FIN ? 1 : 0);

    // SYN_RECV: a retransmitted SYN means our SYN-ACK was lost.
    if (this.state === 'SYN_RECV' && flags & TcpFlag.SYN && !(flags & TcpFlag.ACK)) {
      if (seq === 0) this.sendSyn();
      return;
    }
    // tcp_sequence: acceptability (RFC 9293 3.10.7.4, first check).
    const wndEnd = this.rcvNxt + Math.max(this.rcvWup + this.rcvWnd - this.rcvNxt, 0);
    const acceptable = len === 0 && !(flags & TcpFlag.FIN) ? seq >= this.rcvNxt - 0 && seq <= wndEnd : segEnd > this.rcvNxt && seq < Math.max(wndEnd, this.rcvNxt + 1);
    if (!acceptable && !(len === 0 && seq === this.rcvNxt)) {
      if (!(flags & TcpFlag.RST)) {
        // tcp_send_dupack: an old duplicate; ACK at once.
        this.sendAck();
      }
      return;
    }
    if (flags & TcpFlag.RST) {
      if (seq === this.rcvNxt) this.resetArrived();
      else this.sendAck(); // RFC 5961 challenge ACK
      return;
    }
    if (flags & TcpFlag.SYN) {
      this.sendAck(); // RFC 5961 4.2: challenge ACK for a SYN in a synchronized state
      return;
    }
    if (!(flags & TcpFlag.ACK)) return;

    // Timestamps (tcp_replace_ts_recent).
    if (this.tsOk) {
      const tso = findTs(t);
      if (tso !== null && seq <= this.rcvWup && ((tso.tsval - this.tsRecent) | 0) >= 0) this.tsRecent = tso.tsval;
    }

    if (this.state === 'SYN_RECV') {
      const ack = this.sndUna + ((t.ack - ((this.iss + this.sndUna) >>> 0)) | 0);
      if (ack !== 1) {
        this.layer.sendReset(pkt);
        return;
      }
      this.ackArrived(pkt, len > 0 || (flags & TcpFlag.FIN) !== 0);
      this.established();
      const l = this.listener;
      this.listener = null;
      if (l !== null) {
        l.pending--;
        this.layer.counters.PassiveOpens++;
        if (!l.closed) l.onAccept(this);
      }
      if (this.isClosed()) return;
    } else {
      this.ackArrived(pkt, len > 0 || (flags & TcpFlag.FIN) !== 0);
      if (this.isClosed()) return;
    }
    if (len > 0 || flags & TcpFlag.FIN) this.dataArrived(pkt, seq, len, (flags & TcpFlag.FIN) !== 0);
    if (this.isClosed()) return;
    this.ackSndCheck();
    this.pushPendingFrames();
  }

  private synSentArrived(pkt: Packet): void {
    const t = pkt.tcp!;
    const flags = t.flags;
    if (flags & TcpFlag.ACK) {
      const ack = (t.ack - this.iss) >>> 0;
      if (ack !== 1) {
        if (!(flags & TcpFlag.RST)) this.layer.sendReset(pkt);
        return;
      }
      if (flags & TcpFlag.RST) {
        this.layer.counters.AttemptFails++;
        this.fail('refused');
        return;
      }
    } else if (flags & TcpFlag.RST) return;
    if (!(flags & TcpFlag.SYN) || !(flags & TcpFlag.ACK)) return; // simultaneous open not modelled
    const o = parseSynOptions(t.options);
    this.irs = t.seq;
    this.rcvNxt = 1;
    this.rcvWup = 1;
    this.negotiate(o, t.window);
    const syn = this.rtx[this.rtxHead]!;
    if (!syn.everRetrans) this.rttSample(this.sim.now - syn.sentAt);
    else if (this.tsOk && o.tsecr !== 0) this.rttSample(Math.max(0, (this.tsNow() - o.tsecr) | 0) * MS);
    const synLost = syn.everRetrans;
    this.rtx = [];
    this.rtxHead = 0;
    this.packetsOut = 0;
    this.retransOut = 0;
    this.sndUna = 1;
    this.sndWl1 = 0;
    this.sndWl2 = 1;
    this.rtoAt = Infinity;
    this.backoff = 0;
    this.established();
    if (synLost) this.cwnd = 1; // RFC 6298 5.7 / tcp_init_transfer after a lost SYN
    this.layer.counters.CurrEstab++;
    // tcp_rcv_synsent_state_process: ACK the SYN-ACK at once (no data yet to piggyback on).
    this.sendAck();
    this.onConnect?.(this);
    if (this.state === 'ESTABLISHED' || this.state === 'FIN_WAIT_1') this.pushPendingFrames();
  }

  private established(): void {
    if (this.state === 'SYN_RECV') this.layer.counters.CurrEstab++;
    this.setState('ESTABLISHED');
    this.establishedAt = this.sim.now;
    this.rcvqTime = this.sim.now;
    if (this.finQueued) this.setState('FIN_WAIT_1');
  }

  private timeWaitArrived(pkt: Packet): void {
    const t = pkt.tcp!;
    if (t.flags & TcpFlag.RST) {
      this.destroy(); // RFC 1337 hazard: Linux kills the TIME_WAIT socket (tcp_rfc1337 = 0)
      return;
    }
    if (t.flags & TcpFlag.FIN) {
      // A retransmitted FIN: our last ACK was lost. Re-ACK and restart the 2MSL timer.
      this.sendAck();
      this.tailAt = this.sim.now + this.cfg.timeWait;
      this.armTimer();
    }
  }

  private resetArrived(): void {
    switch (this.state) {
      case 'SYN_RECV':
        this.destroy();
        return;
      case 'ESTABLISHED':
      case 'FIN_WAIT_1':
      case 'FIN_WAIT_2':
      case 'CLOSE_WAIT':
        this.layer.counters.EstabResets++;
        this.fail('reset');
        return;
      default:
        this.destroy();
    }
  }

  /** tcp_ack: window update, SACK, cumulative ACK, RTT, congestion control. */
  private ackArrived(pkt: Packet, hasData: boolean): void {
    const t = pkt.tcp!;
    const now = this.sim.now;
    const ack = this.sndUna + ((t.ack - ((this.iss + this.sndUna) >>> 0)) | 0);
    if (ack > this.sndNxt) {
      this.sendAck(); // ACK of something never sent: answer with our state and drop
      return;
    }
    const seq = this.rcvNxt + ((t.seq - ((this.irs + this.rcvNxt) >>> 0)) | 0);
    const nwin = t.window * 2 ** this.sndWscale;
    // tcp_may_update_window.
    let windowChanged = false;
    if (ack > this.sndWl2 || seq > this.sndWl1 || (seq === this.sndWl1 && nwin !== this.sndWnd)) {
      windowChanged = nwin !== this.sndWnd;
      this.sndWnd = nwin;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
    }
    const priorUna = this.sndUna;
    const priorInFlight = this.inFlight;
    let newlySacked = 0;
    if (this.sackOk) newlySacked = this.processSack(t);
    if (ack < priorUna) return; // old ACK

    // tcp_clean_rtx_queue.
    let ackedPkts = 0;
    let rttSeg: TxSeg | null = null;
    let retransAcked = false;
    while (this.rtxHead < this.rtx.length) {
      const s = this.rtx[this.rtxHead]!;
      if (s.end > ack) {
        if (s.start < ack) s.start = ack; // partially acknowledged
        break;
      }
      this.rtxHead++;
      this.packetsOut--;
      if (s.sacked) this.sackedOut--;
      else ackedPkts++;
      if (s.lost) this.lostOut--;
      if (s.inRetrans) this.retransOut--;
      if (!s.everRetrans) rttSeg = s;
      else retransAcked = true;
    }
    if (this.rtxHead > 64 && this.rtxHead * 2 > this.rtx.length) {
      this.rtx = this.rtx.slice(this.rtxHead);
      this.rtxHead = 0;
    }
    const advanced = ack > priorUna;
    if (advanced) {
      this.sndUna = ack;
      while (this.qHead < this.qEnd.length && this.qEnd[this.qHead]! <= Math.min(ack, this.writeSeq)) {
        this.qData[this.qHead] = null;
        this.qHead++;
      }
      if (this.qHead > 64 && this.qHead * 2 > this.qEnd.length) {
        this.qStart = this.qStart.slice(this.qHead);
        this.qEnd = this.qEnd.slice(this.qHead);
        this.qData = this.qData.slice(this.qHead);
        this.qHead = 0;
      }
      this.dupAcks = 0;
      // RTT: Karn's rule; fall back to the timestamp echo when only retransmitted data was acked.
      if (rttSeg !== null) this.rttSample(now - rttSeg.sentAt);
      else if (retransAcked && this.tsOk) {
        const tso = findTs(t);
        if (tso !== null && tso.tsecr !== 0) this.rttSample(Math.max(1, (this.tsNow() - tso.tsecr) | 0) * MS);
      }
      this.backoff = 0;
      this.probing = false;
      this.rtoAt = this.packetsOut > 0 ? now + this.currentRto() : Infinity;
      if (this.packetsOut === 0 && this.sndNxt < this.writeSeq) this.rtoAt = Infinity; // persist decides below
      this.softError = null;
    } else if (!hasData && !windowChanged && this.packetsOut > 0 && ack === priorUna) {
      this.dupAcks++;
    }
    this.congestionControl(advanced, ackedPkts + newlySacked, priorInFlight, ack);
    this.armTimer();
    this.finAcked(ack);
  }

  /** tcp_sacktag_write_queue: mark SACKed segments; returns the number newly SACKed. */
  private processSack(t: TcpHeader): number {
    let blocks: [number, number][] | null = null;
    for (const o of t.options) if (o.kind === 'sack') blocks = o.blocks;
    if (blocks === null) return 0;
    let newly = 0;
    for (const [ws, we] of blocks) {
      const s = this.sndUna + ((ws - ((this.iss + this.sndUna) >>> 0)) | 0);
      const e = this.sndUna + ((we - ((this.iss + this.sndUna) >>> 0)) | 0);
      if (e <= this.sndUna || e > this.sndNxt || s >= e) continue; // DSACK / invalid: ignored
      for (let i = this.rtxHead; i < this.rtx.length; i++) {
        const seg = this.rtx[i]!;
        if (seg.start >= e) break;
        if (seg.sacked || seg.start < s || seg.end > e) continue;
        seg.sacked = true;
        this.sackedOut++;
        newly++;
        if (seg.lost) {
          seg.lost = false;
          this.lostOut--;
        }
        if (seg.inRetrans) {
          seg.inRetrans = false;
          this.retransOut--;
        }
      }
    }
    return newly;
  }

  /** RFC 6675 IsLost (simplified): an un-SACKed segment with ≥ dupthresh SACKed segments above it. */
  private markLostBySack(): void {
    let above = 0;
    for (let i = this.rtx.length - 1; i >= this.rtxHead; i--) {
      const s = this.rtx[i]!;
      if (s.sacked) above++;
      else if (above >= this.cfg.reordering && !s.lost && !s.inRetrans) {
        s.lost = true;
        this.lostOut++;
      }
    }
  }

  private markHeadLost(): void {
    const s = this.rtx[this.rtxHead];
    if (s !== undefined && !s.lost && !s.sacked && !s.inRetrans) {
      s.lost = true;
      this.lostOut++;
    }
  }

  /** tcp_fastretrans_alert + tcp_cong_control (PRR in recovery, cong_avoid otherwise). */
  private congestionControl(advanced: boolean, delivered: number, priorInFlight: number, ack: number): void {
    const now = this.sim.now;
    switch (this.caState) {
      case 'open': {
        const dupthresh = this.cfg.reordering;
        const trigger = this.sackOk ? this.sackedOut >= dupthresh : this.dupAcks >= dupthresh;
        if (trigger && this.packetsOut > 0) {
          // tcp_enter_recovery + tcp_init_cwnd_reduction.
          this.layer.counters[this.sackOk ? 'TCPSackRecovery' : 'TCPRenoRecovery']++;
          this.caState = 'recovery';
          this.highSeq = this.sndNxt;
          this.priorCwnd = this.cwnd;
          this.ssthresh = this.cc.ssthresh(this, now);
          this.prrDelivered = 0;
          this.prrOut = 0;
          if (this.sackOk) this.markLostBySack();
          this.markHeadLost();
          this.prrUpdate(delivered, priorInFlight);
          return;
        }
        if (advanced && this.isCwndLimitedNow()) this.cc.congAvoid(this, Math.max(delivered, 1), now);
        return;
      }
      case 'recovery': {
        if (ack >= this.highSeq) {
          // tcp_end_cwnd_reduction: cwnd = ssthresh.
          if (this.ssthresh !== Infinity) this.cwnd = this.ssthresh;
          this.caState = 'open';
          this.dupAcks = 0;
          return;
        }
        if (this.sackOk) this.markLostBySack();
        if (advanced) this.markHeadLost(); // NewReno partial ACK: the next hole is lost too
        this.prrUpdate(delivered, priorInFlight);
        return;
      }
      case 'loss': {
        if (ack >= this.highSeq) {
          this.caState = 'open';
          this.dupAcks = 0;
        }
        if (advanced) this.cc.congAvoid(this, Math.max(delivered, 1), now);
        return;
      }
      default: {
        const never: never = this.caState;
        throw new Error(`bad ca state ${String(never)}`);
      }
    }
  }

  /** tcp_cwnd_reduction (RFC 6937 PRR-SSRB). */
  private prrUpdate(delivered: number, _priorInFlight: number): void {
    if (delivered <= 0) delivered = 0;
    const inFlight = this.inFlight;
    const delta = this.ssthresh - inFlight;
    this.prrDelivered += delivered;
    let sndcnt: number;
    if (delta < 0) {
      sndcnt = Math.ceil((this.ssthresh * this.prrDelivered) / Math.max(this.priorCwnd, 1)) - this.prrOut;
    } else {
      sndcnt = Math.min(delta, Math.max(this.prrDelivered - this.prrOut, delivered) + 1);
    }
    sndcnt = Math.max(sndcnt, this.prrOut === 0 ? 1 : 0); // force the fast retransmit on entry
    this.cwnd = Math.max(inFlight + sndcnt, 1);
  }

  /** tcp_is_cwnd_limited. */
  private isCwndLimitedNow(): boolean {
    const limited = this.cwnd < this.ssthresh ? this.cwnd < 2 * this.maxPacketsOut : this.isCwndLimited;
    this.isCwndLimited = false;
    this.maxPacketsOut = this.packetsOut;
    return limited;
  }

  /** RFC 6298 as tcp_rtt_estimator + tcp_set_rto: RTO = SRTT + max(4·RTTVAR, rto_min). */
  private rttSample(r: TimeNs): void {
    if (r < 0) return;
    if (r < this.minRtt) this.minRtt = r;
    this.cc.rttSample(r);
    if (this.srtt === 0) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(Math.round(this.srtt + Math.max(4 * this.rttvar, this.cfg.rtoMin)), this.cfg.rtoMax);
  }

  private currentRto(): TimeNs {
    return Math.min(this.rto * 2 ** this.backoff, this.cfg.rtoMax);
  }

  private finAcked(ack: number): void {
    if (!this.finSent || ack <= this.finSeq) return;
    switch (this.state) {
      case 'FIN_WAIT_1':
        this.setState('FIN_WAIT_2');
        this.tailAt = this.sim.now + this.cfg.finTimeout; // orphaned: tcp_fin_timeout
        this.armTimer();
        return;
      case 'CLOSING':
        this.enterTimeWait();
        return;
      case 'LAST_ACK':
        this.destroy();
        return;
      default:
        return;
    }
  }

  /** tcp_data_queue: in-order delivery, out-of-order queueing, FIN. */
  private dataArrived(pkt: Packet, seq: number, len: number, fin: boolean): void {
    switch (this.state) {
      case 'CLOSE_WAIT':
      case 'CLOSING':
      case 'LAST_ACK':
        return; // the peer's FIN was already received; nothing more can come
      default:
        break;
    }
    const now = this.sim.now;
    this.eventDataRecv(now, len);
    let start = seq;
    let data = pkt.payload;
    let end = seq + len;
    // Trim what is already received.
    if (start < this.rcvNxt) {
      const cut = Math.min(this.rcvNxt - start, len);
      if (data !== null) data = data.subarray(cut);
      start += cut;
      if (start >= end && !(fin && end === this.rcvNxt)) {
        // A full duplicate (a retransmission): ACK at once (tcp_data_queue "2nd most common case").
        this.ackNow = true;
        this.ackPending = true;
        return;
      }
    }
    // Trim beyond the window.
    const wndEnd = this.rcvNxt + Math.max(this.rcvWup + this.rcvWnd - this.rcvNxt, 0);
    if (end > wndEnd) {
      if (data !== null) data = data.subarray(0, Math.max(0, wndEnd - start));
      end = Math.max(wndEnd, start);
      fin = false;
    }
    if (len > 0 && len >= this.rcvMss) this.rcvMss = Math.min(len, this.advMss); // tcp_measure_rcv_mss
    if (start === this.rcvNxt) {
      this.ackPending = true;
      const hadOoo = this.ooo.length > 0;
      if (end > start) this.deliver(data, end - start, start);
      if (fin && end === this.rcvNxt) this.finArrived();
      if (this.ooo.length > 0 || hadOoo) {
        this.drainOoo();
        this.ackNow = true; // RFC 5681 4.2: ACK at once when filling a gap
      }
      if (end > start) this.growWindow();
      if (!this.isClosed()) this.rcvSpaceAdjust();
    } else {
      this.queueOoo(start, end, data, fin);
      this.lastOooSeq = start;
      this.ackNow = true;
      this.ackPending = true;
    }
  }

  /** tcp_event_data_recv: quick-ACK at the start and after idle; adapt the delayed-ACK timeout. */
  private eventDataRecv(now: TimeNs, len: number): void {
    if (len === 0) return;
    const quickMax = Math.max(Math.min(Math.floor(this.rcvWnd / (2 * this.rcvMss)), 16), 2);
    if (this.lrcvTime === 0) {
      this.quickAcks = Math.max(this.quickAcks, quickMax); // tcp_incr_quickack(TCP_MAX_QUICKACKS)
      this.ato = this.cfg.delackMin;
    } else {
      const m = now - this.lrcvTime;
      if (m <= this.cfg.delackMin / 2) this.ato = this.ato / 2 + this.cfg.delackMin / 2;
      else if (m < this.ato) this.ato = Math.min(this.ato / 2 + m, this.rto);
      else if (m > this.rto) this.quickAcks = Math.max(this.quickAcks, quickMax);
    }
    this.lrcvTime = now;
  }

  private deliver(data: Uint8Array | null, len: number, _start: number): void {
    this.rcvNxt += len;
    this.copied += len;
    this.onData?.(data, len);
  }

  private finArrived(): void {
    this.rcvNxt += 1;
    switch (this.state) {
      case 'SYN_RECV':
      case 'ESTABLISHED':
        this.setState('CLOSE_WAIT');
        this.pingpong = true; // tcp_fin: inet_csk_enter_pingpong_mode (the ACK may ride on our FIN)
        this.onEnd?.();
        return;
      case 'FIN_WAIT_1':
        this.sendAck();
        this.setState('CLOSING');
        this.onEnd?.();
        return;
      case 'FIN_WAIT_2':
        this.sendAck();
        this.onEnd?.();
        this.enterTimeWait();
        return;
      default:
        return;
    }
  }

  private queueOoo(start: number, end: number, data: Uint8Array | null, fin: boolean): void {
    if (end <= start && !fin) return;
    // Keep sorted, merge overlapping / adjacent ranges (tcp_data_queue_ofo).
    const piece = { start, end, data };
    let i = 0;
    while (i < this.ooo.length && this.ooo[i]!.end < start) i++;
    const r = this.ooo[i];
    if (r === undefined || r.start > end) {
      this.ooo.splice(i, 0, { start, end, pieces: [piece], fin });
      this.oooBytes += end - start;
      return;
    }
    // Overlap with r (and possibly later ranges): add only the uncovered parts, then merge ranges.
    if (start < r.start) {
      r.pieces.unshift({ start, end: r.start, data: data === null ? null : data.subarray(0, r.start - start) });
      this.oooBytes += r.start - start;
      r.start = start;
    }
    if (end > r.end) {
      const from = r.end;
      r.pieces.push({ start: from, end, data: data === null ? null : data.subarray(from - start) });
      this.oooBytes += end - from;
      r.end = end;
    }
    r.fin = r.fin || fin;
    while (i + 1 < this.ooo.length && this.ooo[i + 1]!.start <= r.end) {
      const nx = this.ooo[i + 1]!;
      // Overlap between r's new tail and nx: drop nx's covered pieces.
      for (const p of nx.pieces) {
        if (p.end <= r.end) {
          this.oooBytes -= p.end - p.start;
          continue;
        }
        if (p.start < r.end) {
          this.oooBytes -= r.end - p.start;
          r.pieces.push({ start: r.end, end: p.end, data: p.data === null ? null : p.data.subarray(r.end - p.start) });
        } else r.pieces.push(p);
        r.end = p.end;
      }
      r.end = Math.max(r.end, nx.end);
      r.fin = r.fin || nx.fin;
      this.ooo.splice(i + 1, 1);
    }
  }

  /** tcp_ofo_queue: move now-in-order ranges to the application. */
  private drainOoo(): void {
    while (this.ooo.length > 0 && this.ooo[0]!.start <= this.rcvNxt) {
      const r = this.ooo.shift()!;
      this.oooBytes -= r.end - r.start;
      for (const p of r.pieces) {
        if (p.end <= this.rcvNxt) continue;
        const cut = this.rcvNxt - p.start;
        const d = p.data === null ? null : cut > 0 ? p.data.subarray(cut) : p.data;
        this.deliver(d, p.end - this.rcvNxt, this.rcvNxt);
      }
      if (r.fin && this.rcvNxt === r.end) this.finArrived();
    }
    if (this.ooo.length === 0) this.oooBytes = 0;
  }

  /** tcp_grow_window: open rcv_ssthresh by 2·advmss per in-order segment up to the clamp. */
  private growWindow(): void {
    if (this.rcvSsthresh < this.windowClamp) this.rcvSsthresh = Math.min(this.rcvSsthresh + 2 * this.advMss, this.windowClamp);
  }

  /** tcp_rcv_space_adjust (dynamic right-sizing): grow the receive buffer to 2× what the app reads per RTT. */
  private rcvSpaceAdjust(): void {
    const now = this.sim.now;
    const rtt = this.srtt > 0 ? this.srtt : this.cfg.rtoInit;
    if (now - this.rcvqTime < rtt) return;
    const copied = this.copied - this.rcvqSeq;
    if (copied > this.rcvqSpace) {
      let rcvwin = 2 * copied + 16 * this.advMss;
      const grow = (rcvwin * (copied - this.rcvqSpace)) / Math.max(this.rcvqSpace, 1);
      rcvwin += 2 * grow;
      const rcvbuf = Math.min(Math.floor(rcvwin * 2), this.cfg.rmemMax);
      if (rcvbuf > this.rcvBuf) {
        this.rcvBuf = rcvbuf;
        this.windowClamp = this.rcvSpace();
      }
      this.rcvqSpace = copied;
    }
    this.rcvqSeq = this.copied;
    this.rcvqTime = now;
  }

  /** __tcp_ack_snd_check: ACK now, or arm the delayed ACK. */
  private ackSndCheck(): void {
    if (!this.ackPending || this.state === 'TIME_WAIT') return;
    const quick = this.quickAcks > 0 && !this.pingpong;
    if (this.ackNow || quick || this.ooo.length > 0 || this.rcvNxt - this.rcvWup > this.rcvMss) {
      this.sendAck();
      return;
    }
    if (this.delackAt === Infinity) {
      // tcp_send_delayed_ack: ato, bounded by TCP_DELACK_MAX and (interactive) by the RTT.
      let ato = this.ato;
      if (ato > this.cfg.delackMin) {
        let max = this.cfg.delackMax;
        if (this.srtt > 0) max = Math.min(max, Math.max(this.srtt, this.cfg.delackMin));
        ato = Math.min(ato, max);
      }
      this.delackAt = this.sim.now + Math.round(ato);
      this.armTimer();
    }
  }

  // ================================================================ timers

  private armRto(): void {
    this.rtoAt = this.sim.now + this.currentRto();
    this.armTimer();
  }

  private armTimer(): void {
    const next = Math.min(this.rtoAt, this.delackAt, this.tailAt);
    if (next === Infinity || next >= this.timerAt) return;
    this.timerEv?.cancel();
    this.timerAt = next;
    this.timerEv = this.sim.scheduleAt(Math.max(next, this.sim.now), onTimerEvent, this);
  }

  /** The socket's single timer fired: run every deadline that is due, then re-arm. */
  onTimer(): void {
    this.timerEv = null;
    this.timerAt = Infinity;
    const now = this.sim.now;
    if (this.delackAt <= now) {
      this.delackAt = Infinity;
      this.delackTimer();
    }
    if (this.isClosed()) return;
    if (this.rtoAt <= now) {
      this.rtoAt = Infinity;
      if (this.probing) this.probeTimer();
      else this.retransmitTimer();
    }
    if (this.isClosed()) return;
    if (this.tailAt <= now) {
      this.tailAt = Infinity;
      this.destroy(); // TIME_WAIT or FIN_WAIT_2 (tcp_fin_timeout) expired
      return;
    }
    this.armTimer();
  }

  /** tcp_delack_timer_handler. */
  private delackTimer(): void {
    if (!this.ackPending || this.state === 'TIME_WAIT') return;
    if (this.pingpong) {
      this.pingpong = false; // delayed ACK missed: leave pingpong, deflate ATO
      this.ato = this.cfg.delackMin;
    } else {
      this.ato = Math.min(this.ato * 2, this.rto); // inflate ATO
    }
    this.layer.counters.DelayedACKs++;
    this.sendAck();
  }

  /** tcp_probe_timer: a zero-window probe (an ACK with seq snd_una − 1). */
  private probeTimer(): void {
    if (this.packetsOut > 0 || this.sndNxt >= this.writeSeq) {
      this.probing = false;
      return;
    }
    if (this.sndUna + this.sndWnd >= this.sndNxt + Math.min(this.mss, this.writeSeq - this.sndNxt)) {
      this.probing = false;
      this.pushPendingFrames();
      return;
    }
    this.emit(TcpFlag.ACK, this.sndUna - 1, 0, null, false);
    this.backoff = Math.min(this.backoff + 1, 30);
    this.rtoAt = this.sim.now + this.currentRto();
  }

  /** tcp_retransmit_timer. */
  private retransmitTimer(): void {
    const now = this.sim.now;
    const head = this.rtx[this.rtxHead];
    if (head === undefined) return;
    const L = this.layer;
    if (this.state === 'SYN_SENT' || this.state === 'SYN_RECV') {
      const limit = this.state === 'SYN_SENT' ? this.cfg.synRetries : this.cfg.synackRetries;
      if (this.backoff >= limit) {
        if (this.state === 'SYN_SENT') {
          L.counters.AttemptFails++;
          this.fail(this.softError ?? 'timeout');
        } else this.destroy();
        return;
      }
      L.counters.TCPTimeouts++;
      this.backoff++;
      this.retransmit(head);
      this.rtoAt = now + this.currentRto();
      return;
    }
    if (this.backoff === 0) this.retransStamp = head.sentAt;
    if (now - this.retransStamp >= modelTimeout(this.cfg.retries2, this.cfg.rtoMin, this.cfg.rtoMax)) {
      this.fail(this.softError ?? 'timeout');
      return;
    }
    L.counters.TCPTimeouts++;
    this.enterLoss();
    this.backoff++;
    this.retransmitLost();
    this.rtoAt = now + this.currentRto();
  }

  /** tcp_enter_loss: ssthresh from CC, cwnd 1, every un-SACKed segment lost. */
  private enterLoss(): void {
    if (this.caState !== 'loss' || this.backoff === 0) {
      this.ssthresh = this.cc.ssthresh(this, this.sim.now);
      this.cc.onRto();
    }
    for (let i = this.rtxHead; i < this.rtx.length; i++) {
      const s = this.rtx[i]!;
      if (s.inRetrans) {
        s.inRetrans = false;
        this.retransOut--;
      }
      if (!s.sacked && !s.lost) {
        s.lost = true;
        this.lostOut++;
      }
    }
    this.cwnd = this.inFlight + 1;
    this.cwndCnt = 0;
    this.caState = 'loss';
    this.highSeq = this.sndNxt;
    this.dupAcks = 0;
  }

  // ================================================================ teardown

  private enterTimeWait(): void {
    this.setState('TIME_WAIT');
    this.rtoAt = Infinity;
    this.delackAt = Infinity;
    this.tailAt = this.sim.now + this.cfg.timeWait;
    this.armTimer();
  }

  /** Reports an error to the application and releases the socket (tcp_done with sk_err). */
  fail(kind: SocketErrorKind): void {
    if (this.isClosed()) return;
    this.destroy(kind);
  }

  private destroy(err?: SocketErrorKind): void {
    if (this.isClosed()) return;
    const wasEstab = this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT';
    if (wasEstab) this.layer.counters.CurrEstab--;
    if (this.listener !== null) {
      this.listener.pending--;
      this.listener = null;
    }
    this.setState('CLOSED');
    this.timerEv?.cancel();
    this.timerEv = null;
    this.timerAt = this.rtoAt = this.delackAt = this.tailAt = Infinity;
    this.layer.unhash(this);
    if (err !== undefined) this.onError?.(err);
    this.onClose?.();
  }

  private setState(s: TcpState): void {
    if ((this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT') && s !== 'ESTABLISHED' && s !== 'CLOSE_WAIT' && s !== 'CLOSED') {
      this.layer.counters.CurrEstab--;
    }
    this.state = s;
  }

  /** An ICMP error about one of our segments (tcp_v4_err). */
  icmpError(kind: SocketErrorKind, hard: boolean): void {
    if (this.state === 'SYN_SENT' && hard) {
      this.layer.counters.AttemptFails++;
      this.fail(kind);
      return;
    }
    this.softError = kind; // reported if the connection later times out
  }
}

/** tcp_model_timeout: the time retransmissions may take before ETIMEDOUT. */
export function modelTimeout(boundary: number, rtoBase: TimeNs, rtoMax: TimeNs): TimeNs {
  const thresh = Math.floor(Math.log2(rtoMax / rtoBase));
  if (boundary <= thresh) return ((2 << boundary) - 1) * rtoBase;
  return ((2 << thresh) - 1) * rtoBase + (boundary - thresh) * rtoMax;
}

function findTs(t: TcpHeader): { tsval: number; tsecr: number } | null {
  const o = t.options;
  for (let i = 0; i < o.length; i++) {
    const x = o[i]!;
    if (x.kind === 'timestamps') return x;
  }
  return null;
}

const connKey = (addr: Ipv4, port: number): number => addr * 65536 + port;

/** The TCP protocol of one namespace (tcp_prot + the established/listening hash tables). */
export class TcpLayer implements L4Receiver {
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
  readonly config: TcpConfig;
  /** Stream for initial sequence numbers (secure_tcp_seq). */
  readonly isnRng: Rng;
  /** inet_id starting values (get_random_u16 at connect / accept). */
  readonly inetIdRng: Rng;
  private readonly tsRng: Rng;
  private readonly portRng: Rng;
  private readonly conns = new Map<number, Map<number, TcpSocket>>();
  private readonly listeners = new Map<number, TcpListener>();
  private readonly tsOffsets = new Map<Ipv4, number>();
  private readonly perturb = new Map<number, number>();

  /** Creates the layer and registers it with `stack` for IP protocol 6. */
  constructor(
    readonly stack: IpStack,
    config: Partial<TcpConfig> = {},
  ) {
    this.config = { ...LINUX_TCP_DEFAULTS, ...config };
    const n = stack.name;
    this.isnRng = stack.sim.rng.stream(`${n}/tcp-isn`);
    this.inetIdRng = stack.sim.rng.stream(`${n}/tcp-inet-id`);
    this.tsRng = stack.sim.rng.stream(`${n}/tcp-tsoff`);
    this.portRng = stack.sim.rng.stream(`${n}/tcp-ephemeral`);
    stack.registerProtocol(IpProto.TCP, this);
  }

  /** listen(2) on `port`; `onAccept` gets each established connection. */
  listen(port: number, onAccept: (sock: TcpSocket) => void, opts: TcpSocketOptions & { backlog?: number } = {}): TcpListener {
    if (this.listeners.has(port)) throw new Error(`EADDRINUSE: tcp port ${port}`);
    const l = new TcpListener(this, port, Math.min(opts.backlog ?? 511, this.config.somaxconn), onAccept, opts);
    this.listeners.set(port, l);
    return l;
  }

  /** connect(2): starts the handshake; `onConnect` runs when established. Errors go to `sock.onError`. */
  connect(dst: Ipv4, port: number, onConnect?: (sock: TcpSocket) => void, opts: TcpSocketOptions = {}): TcpSocket {
    const s = new TcpSocket(this, opts);
    s.remoteAddr = dst >>> 0;
    s.remotePort = port;
    if (onConnect) s.onConnect = onConnect;
    const src = this.stack.sourceFor(s.remoteAddr);
    if (src === null) {
      this.counters.AttemptFails++;
      this.stack.sim.schedule(0, (x: TcpSocket) => x.onError?.('unreachable'), s);
      return s;
    }
    s.localAddr = src;
    s.localPort = this.pickPort(s.remoteAddr, port);
    this.hash(s);
    s.startConnect();
    return s;
  }

  /** __inet_hash_connect: a per-destination perturbed start, even ports first, then odd; step 2. */
  private pickPort(dst: Ipv4, dport: number): number {
    const key = connKey(dst, dport);
    let off = this.perturb.get(key);
    if (off === undefined) off = this.portRng.uint32();
    const low = EPHEMERAL_LOW;
    const remaining = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
    let offset = off % remaining;
    offset &= ~1;
    for (let parity = 0; parity < 2; parity++) {
      for (let i = 0; i < remaining; i += 2) {
        const port = low + ((offset + i + parity) % remaining);
        if (this.listeners.has(port)) continue;
        if (this.conns.get(port)?.has(key)) continue;
        i = Math.max(i, this.portRng.int(8) * 2);
        this.perturb.set(key, off + i + 2);
        return port;
      }
    }
    throw new Error('EADDRNOTAVAIL: no free ephemeral tcp port');
  }

  /** The per-peer timestamp offset (secure_tcp_ts_off hashes the address pair). */
  tsOffsetFor(peer: Ipv4): number {
    let o = this.tsOffsets.get(peer);
    if (o === undefined) {
      o = this.tsRng.uint32();
      this.tsOffsets.set(peer, o);
    }
    return o;
  }

  private hash(s: TcpSocket): void {
    let m = this.conns.get(s.localPort);
    if (!m) {
      m = new Map();
      this.conns.set(s.localPort, m);
    }
    m.set(connKey(s.remoteAddr, s.remotePort), s);
  }

  /** Removes a closed socket from the connection table. */
  unhash(s: TcpSocket): void {
    const m = this.conns.get(s.localPort);
    const k = connKey(s.remoteAddr, s.remotePort);
    if (m?.get(k) === s) {
      m.delete(k);
      if (m.size === 0) this.conns.delete(s.localPort);
    }
  }

  /** Removes a listener. */
  unlisten(l: TcpListener): void {
    if (this.listeners.get(l.port) === l) this.listeners.delete(l.port);
  }

  /** Every socket in the connection table (for inspection), in table order. */
  sockets(): TcpSocket[] {
    const out: TcpSocket[] = [];
    for (const m of this.conns.values()) for (const s of m.values()) out.push(s);
    return out;
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
    const key = connKey(ip.src, t.srcPort);
    const s = this.conns.get(t.dstPort)?.get(key);
    if (s !== undefined) {
      if (s.state === 'TIME_WAIT' && t.flags & TcpFlag.SYN && !(t.flags & TcpFlag.ACK)) {
        // tcp_timewait_state_process TCP_TW_SYN: a new SYN beyond the old sequence space reopens.
        const l = this.listeners.get(t.dstPort);
        const seqRel = (t.seq - ((s.irs + s.rcvNxt) >>> 0)) | 0;
        if (l !== undefined && seqRel > 0) {
          s.fail('reset');
          this.listenArrived(l, pkt);
          return;
        }
      }
      s.segmentArrived(pkt);
      return;
    }
    const l = this.listeners.get(t.dstPort);
    if (l !== undefined) {
      this.listenArrived(l, pkt);
      return;
    }
    if (!(t.flags & TcpFlag.RST)) this.sendReset(pkt);
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
    const s = new TcpSocket(this, l.options);
    s.localAddr = ip.dst;
    s.localPort = t.dstPort;
    s.remoteAddr = ip.src;
    s.remotePort = t.srcPort;
    s.listener = l;
    l.pending++;
    this.hash(s);
    s.startPassive(pkt);
  }

  /** tcp_v4_send_reset: RST for a segment that matches no socket (RFC 9293 3.10.7.1). */
  sendReset(orig: Packet): void {
    const oi = orig.ip!;
    const ot = orig.tcp!;
    const p = new Packet();
    p.ip = ipv4Header(IpProto.TCP, oi.dst, oi.src, IP_DF, oi.tos);
    let seq = 0;
    let ack = 0;
    let flags = TcpFlag.RST;
    if (ot.flags & TcpFlag.ACK) seq = ot.ack;
    else {
      const segLen = orig.payloadLength + (ot.flags & TcpFlag.SYN ? 1 : 0) + (ot.flags & TcpFlag.FIN ? 1 : 0);
      ack = (ot.seq + segLen) >>> 0;
      flags |= TcpFlag.ACK;
    }
    p.tcp = { srcPort: ot.dstPort, dstPort: ot.srcPort, seq, ack, flags, window: 0, checksum: null, urgent: 0, options: [] };
    this.counters.OutRsts++;
    this.counters.OutSegs++;
    if (!this.stack.ipLocalOut(p)) this.counters.OutNoRoutes++;
  }

  /** tcp_v4_err: an ICMP error quoting one of our segments. */
  error(icmpPkt: Packet): void {
    const inner = icmpPkt.inner;
    const icmp = icmpPkt.icmp;
    if (inner === null || inner.ip === null || inner.tcp === null || icmp === null) return;
    const s = this.conns.get(inner.tcp.srcPort)?.get(connKey(inner.ip.dst, inner.tcp.dstPort));
    if (s === undefined) return;
    const kind = icmpErrorKind(icmp.type, icmp.code);
    if (kind === null) return;
    s.icmpError(kind, kind === 'refused'); // icmp_err_convert: port/protocol unreachable are fatal
  }
}
