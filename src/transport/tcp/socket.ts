// transport/tcp/socket — struct tcp_sock: every per-connection field, and the application API
// (send, close, abort). Layer: transport (imports core, wire, ../api and sibling tcp/ files).
// Mirrors include/linux/tcp.h (struct tcp_sock, inet_connection_sock), net/ipv4/tcp.c (tcp_sendmsg,
// tcp_close, tcp_set_state) and gVisor tcp/endpoint.go.
//
// The fields are the struct; the functions in setup, output, input, recovery, timers and teardown
// take the socket first (`segmentArrived(sk, pkt)`, as the kernel passes `struct sock *sk`), so every
// socket keeps one hidden class and nothing allocates a closure per segment. Sequence numbers are kept
// as offsets from ISN/IRS in plain doubles (SYN = 0, first data byte = 1, no wrap), converted to
// 32 bits on the wire.
import type { Simulator } from '../../core/simulator.js';
import type { SimEvent } from '../../core/scheduler.js';
import type { TimeNs } from '../../core/time.js';
import { TcpFlag as TcpFlagImported, type Ipv4 } from '../../wire/types.js';
import type { SocketErrorKind, StreamHandler } from '../api.js';
import { newCongestionControl as newCongestionControlImported, TCP_INFINITE_SSTHRESH as TCP_INFINITE_SSTHRESHImported, type CcState, type CongestionControl } from './cc.js';
import type { CaState, TcpConfig, TcpSocketOptions, TcpState } from './config.js';
import type { TcpLayer, TcpListener } from './layer.js';
import { emit as emitImported, pushPendingFrames as pushPendingFramesImported } from './output.js';
import type { RecoveryState } from './recovery.js';
import { NO_OOO as NO_OOOImported, NO_SEGS as NO_SEGSImported, NO_WRITES as NO_WRITESImported, takeWrites as takeWritesImported, type OooRange, type TxSeg, type WriteQueue } from './segment.js';
import { destroy as destroyImported } from './teardown.js';
import type { TimeWaitSock } from './timewait.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const TcpFlag = TcpFlagImported;
const newCongestionControl = newCongestionControlImported;
const TCP_INFINITE_SSTHRESH = TCP_INFINITE_SSTHRESHImported;
const emit = emitImported;
const pushPendingFrames = pushPendingFramesImported;
const NO_OOO = NO_OOOImported;
const NO_SEGS = NO_SEGSImported;
const NO_WRITES = NO_WRITESImported;
const takeWrites = takeWritesImported;
const destroy = destroyImported;
const setStateHere = setState;

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
  /**
   * The application as one object (set instead of the closures onConnect … onClose: then only it is
   * called). The closures stay for callers that set them (kept in `cb`, made on the first one set);
   * tell* below pick one or the other.
   */
  handler: StreamHandler | null = null;
  /** The closures, once any was set (an application with a handler never makes it). */
  private cb: StreamCallbacks | null = null;

  // --- sequence space (offsets: SYN = 0, first data byte = 1) ---
  /**
   * ISN and IRS as signed 32-bit values (small integers, so V8 keeps them in the socket instead of a
   * boxed double per field); every use reads them modulo 2^32 (`(iss + x) >>> 0`). So are tsRecent
   * and tsOffset below.
   */
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
  sndWl1 = 0;
  sndWl2 = 0;
  /** Highest seq ending a sub-MSS segment (Minshall's Nagle). */
  sndSml = 0;
  rcvNxt = 0;
  /** rcv_wnd: the last window advertised, bytes. */
  rcvWnd = 0;
  /** rcv_wup: rcv_nxt when the last window was advertised. */
  rcvWup = 0;

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
  tsRecent = 0;
  tsOffset = 0;

  // --- receive buffer / window (tcp_select_window, DRS) ---
  rcvBuf: number;
  rcvSsthresh = 0;
  windowClamp = 0;
  rcvMss = 536;
  copied = 0;
  rcvqSpace = 0;
  rcvqSeq = 0;
  rcvqTime: TimeNs = 0;

  // --- delayed ACK (inet_connection_sock icsk_ack) ---
  ackPending = false;
  quickAcks = 0;
  pingpong = false;
  ato: TimeNs;
  lrcvTime: TimeNs = 0;
  ackNow = false;

  // --- congestion control and recovery ---
  cwnd = 10;
  /** The algorithm's state: shared while it has none of its own (cc.ts IdleCubic, RenoCc), and a shared stand-in once in TIME_WAIT (timewait.ts). */
  cc: CongestionControl;
  /** CUBIC's delay_min (cc.ts). */
  ccDelayMin: TimeNs = 0;
  dupAcks = 0;
  /** Loss recovery's state, made on the first recovery, RTO or retransmission (recovery.ts recoveryOf). */
  rec: RecoveryState | null = null;
  /** The fields most connections never change from their defaults (SocketRare), made on the first other value. */
  private rare: SocketRare | null = null;
  isCwndLimited = false;
  maxPacketsOut = 0;
  lastSendTime: TimeNs = 0;

  // --- retransmission queue ---
  rtx: TxSeg[] = NO_SEGS;
  rtxHead = 0;
  packetsOut = 0;
  retransOut = 0;

  // --- application write queue ---
  /**
   * The writes, as pairs: q[2i] = where write i ends (an offset), q[2i + 1] = its bytes (null: a length
   * only, or released once acknowledged). Writes are contiguous: write i starts where write i − 1 ends,
   * write 0 at qBase. One list for both (a request or a response is one write: a list of two).
   */
  q: WriteQueue = NO_WRITES;
  qBase = 0;
  /** The first write not acknowledged in full (a write's index: its pair is at 2 · qHead). */
  qHead = 0;

  // --- RTT / RTO (RFC 6298 as tcp_rtt_estimator) ---
  srtt: TimeNs = 0;
  rttvar: TimeNs = 0;
  rto: TimeNs;

  // --- timers ---
  timerEv: SimEvent | null = null;
  /** The event that ran last (taken off the queue, not pending; null once re-armed): armTimer places it again. */
  timerRan: SimEvent | null = null;
  /**
   * The socket has handed its pending event to a TIME_WAIT record (timewait.ts timeWait): an event it
   * arms after that runs nothing. (Its events carry the socket itself: no object between, which would be
   * one allocation a socket and a line read cold at each timer event in a big world.)
   */
  timerGone = false;
  /** The application closed this socket for good (orphan()): it is not told when TIME_WAIT ends. */
  orphaned = false;
  timerAt = Infinity;
  rtoAt = Infinity;
  delackAt = Infinity;
  tailAt = Infinity;

  /** The listener that created this socket (passive open) until it is established. */
  listener: TcpListener | null = null;
  /** When the handshake started (for connect time). */
  connectStartedAt: TimeNs = 0;
  /** When the connection became established. */
  establishedAt: TimeNs = -1;

  readonly sim: Simulator;
  readonly cfg: Readonly<TcpConfig>;
  /** @internal (conn-table) The socket's insertion number in its layer's connection table (its listing order). Last: no hot field moves. */
  tableSeq = 0;

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



  /** Queues bytes (or a byte count of zeros-that-need-no-bytes) for sending (tcp_sendmsg). */
  send(data: Uint8Array | number): void {
    if (this.finQueued || this.state === 'CLOSED' || this.state === 'TIME_WAIT') throw new Error(`EPIPE: send on ${this.state} socket`);
    const len = typeof data === 'number' ? data : data.length;
    if (len <= 0) return;
    const d = typeof data === 'number' ? null : data;
    if (this.q.length === 0) {
      // (the shared empty queue, or this socket's first write: a list of one pair, not 17 slots; one
      // given back by a socket that is done, when there is one: segment.ts takeWrites)
      const spare = takeWrites();
      if (spare !== null) {
        spare[0] = this.writeSeq + len;
        spare[1] = d;
        this.q = spare;
      } else this.q = [this.writeSeq + len, d];
      this.qBase = this.writeSeq;
    } else this.q.push(this.writeSeq + len, d);
    this.writeSeq += len;
    if (this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT') pushPendingFrames(this);
  }

  /** close(2): sends FIN after queued data (graceful). */
  close(): void {
    switch (this.state) {
      case 'SYN_SENT':
      case 'SYN_RECV':
        destroy(this);
        return;
      case 'ESTABLISHED':
        setStateHere(this, 'FIN_WAIT_1');
        break;
      case 'CLOSE_WAIT':
        setStateHere(this, 'LAST_ACK');
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
    pushPendingFrames(this);
  }

  /**
   * The application is done with this socket (close(2) of its last descriptor: close() as well): it
   * needs no word of TIME_WAIT's end. Callbacks still run until the connection reaches TIME_WAIT
   * (podwire's close() is a half-close: data and the peer's FIN are still delivered); there the
   * socket closes silently (state CLOSED, no onClose) and only a TimeWaitSock holds the 4-tuple for the
   * 60 s, so the socket and what the application hung on it are not kept alive that long.
   */
  orphan(): void {
    this.close();
    this.orphaned = true;
  }

  /** Aborts with RST (close with SO_LINGER 0): the peer sees ECONNRESET. */
  abort(): void {
    if (this.state !== 'CLOSED' && this.state !== 'SYN_SENT' && this.state !== 'TIME_WAIT') {
      this.layer.counters.OutRsts++;
      emit(this, TcpFlag.RST | TcpFlag.ACK, this.sndNxt, 0, null, false);
      if (this.state === 'ESTABLISHED' || this.state === 'CLOSE_WAIT') this.layer.counters.EstabResets++;
    }
    destroy(this);
  }

  /** The handshake completed (active open). */
  get onConnect(): ((s: TcpSocket) => void) | null {
    return this.cb === null ? null : this.cb.onConnect;
  }
  set onConnect(f: ((s: TcpSocket) => void) | null) {
    if (f !== null || this.cb !== null) this.callbacks().onConnect = f;
  }
  /** In-order data arrived; `data` is null when the sender gave only a length. */
  get onData(): ((data: Uint8Array | null, length: number) => void) | null {
    return this.cb === null ? null : this.cb.onData;
  }
  set onData(f: ((data: Uint8Array | null, length: number) => void) | null) {
    if (f !== null || this.cb !== null) this.callbacks().onData = f;
  }
  /** The peer closed its side (FIN received; read would return 0). */
  get onEnd(): (() => void) | null {
    return this.cb === null ? null : this.cb.onEnd;
  }
  set onEnd(f: (() => void) | null) {
    if (f !== null || this.cb !== null) this.callbacks().onEnd = f;
  }
  /** The connection failed or was reset. */
  get onError(): ((kind: SocketErrorKind) => void) | null {
    return this.cb === null ? null : this.cb.onError;
  }
  set onError(f: ((kind: SocketErrorKind) => void) | null) {
    if (f !== null || this.cb !== null) this.callbacks().onError = f;
  }
  /** The socket is gone (after TIME_WAIT, LAST_ACK, a reset or an abort; an orphaned one is not told of TIME_WAIT's end). */
  get onClose(): (() => void) | null {
    return this.cb === null ? null : this.cb.onClose;
  }
  set onClose(f: (() => void) | null) {
    if (f !== null || this.cb !== null) this.callbacks().onClose = f;
  }
  private callbacks(): StreamCallbacks {
    return (this.cb ??= new StreamCallbacks());
  }

  // --- the fields in SocketRare: the default until a socket first stores another value ---
  /** The side object, made now if it was not (a setter's store of a value other than the default). */
  private rareW(): SocketRare {
    return (this.rare ??= new SocketRare());
  }
  /** The out-of-order queue: ranges of data beyond rcvNxt (tcp_data_queue_ofo). */
  get ooo(): OooRange[] {
    const r = this.rare;
    return r === null ? NO_OOO : r.ooo;
  }
  set ooo(v: OooRange[]) {
    if (v !== NO_OOO || this.rare !== null) this.rareW().ooo = v;
  }
  /** Bytes held in `ooo`. */
  get oooBytes(): number {
    const r = this.rare;
    return r === null ? 0 : r.oooBytes;
  }
  set oooBytes(v: number) {
    if (v !== 0 || this.rare !== null) this.rareW().oooBytes = v;
  }
  /** Where the last out-of-order segment started (the SACK block it reports first). */
  get lastOooSeq(): number {
    const r = this.rare;
    return r === null ? -1 : r.lastOooSeq;
  }
  set lastOooSeq(v: number) {
    if (v !== -1 || this.rare !== null) this.rareW().lastOooSeq = v;
  }
  /** snd_ssthresh. */
  get ssthresh(): number {
    const r = this.rare;
    return r === null ? TCP_INFINITE_SSTHRESH : r.ssthresh;
  }
  set ssthresh(v: number) {
    if (v !== TCP_INFINITE_SSTHRESH || this.rare !== null) this.rareW().ssthresh = v;
  }
  /** snd_cwnd_cnt: ACKed segments toward the next cwnd increase in congestion avoidance. */
  get cwndCnt(): number {
    const r = this.rare;
    return r === null ? 0 : r.cwndCnt;
  }
  set cwndCnt(v: number) {
    if (v !== 0 || this.rare !== null) this.rareW().cwndCnt = v;
  }
  /** icsk_ca_state. */
  get caState(): CaState {
    const r = this.rare;
    return r === null ? 'open' : r.caState;
  }
  set caState(v: CaState) {
    if (v !== 'open' || this.rare !== null) this.rareW().caState = v;
  }
  /** Segments SACKed (sacked_out). */
  get sackedOut(): number {
    const r = this.rare;
    return r === null ? 0 : r.sackedOut;
  }
  set sackedOut(v: number) {
    if (v !== 0 || this.rare !== null) this.rareW().sackedOut = v;
  }
  /** Segments marked lost (lost_out). */
  get lostOut(): number {
    const r = this.rare;
    return r === null ? 0 : r.lostOut;
  }
  set lostOut(v: number) {
    if (v !== 0 || this.rare !== null) this.rareW().lostOut = v;
  }
  /** RTO exponential backoff (icsk_backoff). */
  get backoff(): number {
    const r = this.rare;
    return r === null ? 0 : r.backoff;
  }
  set backoff(v: number) {
    if (v !== 0 || this.rare !== null) this.rareW().backoff = v;
  }
  /** The RTO timer is the persist timer (zero-window probes). */
  get probing(): boolean {
    const r = this.rare;
    return r === null ? false : r.probing;
  }
  set probing(v: boolean) {
    if (v !== false || this.rare !== null) this.rareW().probing = v;
  }
  /** An ICMP error reported if the connection later times out (sk_err_soft). */
  get softError(): SocketErrorKind | null {
    const r = this.rare;
    return r === null ? null : r.softError;
  }
  set softError(v: SocketErrorKind | null) {
    if (v !== null || this.rare !== null) this.rareW().softError = v;
  }
  /** In TIME_WAIT (not orphaned): the record that holds the 4-tuple and closes this socket when it goes. */
  get tw(): TimeWaitSock | null {
    const r = this.rare;
    return r === null ? null : r.tw;
  }
  set tw(v: TimeWaitSock | null) {
    if (v !== null || this.rare !== null) this.rareW().tw = v;
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
}

/** The closures an application set on a socket (TcpSocket.onConnect … onClose). */
class StreamCallbacks {
  onConnect: ((s: TcpSocket) => void) | null = null;
  onData: ((data: Uint8Array | null, length: number) => void) | null = null;
  onEnd: (() => void) | null = null;
  onError: ((kind: SocketErrorKind) => void) | null = null;
  onClose: (() => void) | null = null;
}

/**
 * A socket's fields that most connections never change from their defaults: the out-of-order queue,
 * loss recovery's counters and congestion state, the RTO backoff and persist probing, a soft error and
 * an owned TIME_WAIT record. A socket makes this on the first store of another value (TcpSocket's
 * accessors; storing a default into none is nothing to do), so a short connection's socket is twelve
 * fields (96 bytes) smaller: a request allocates two (issue 13).
 */
class SocketRare {
  ooo: OooRange[] = NO_OOO;
  oooBytes: number = 0;
  lastOooSeq: number = -1;
  ssthresh: number = TCP_INFINITE_SSTHRESH;
  cwndCnt: number = 0;
  caState: CaState = 'open';
  sackedOut: number = 0;
  lostOut: number = 0;
  backoff: number = 0;
  probing: boolean = false;
  softError: SocketErrorKind | null = null;
  tw: TimeWaitSock | null = null;
}

/** The handshake completed (active open): the handler, else onConnect. */
export function tellConnect(sk: TcpSocket): void {
  const h = sk.handler;
  if (h !== null) h.streamConnected();
  else sk.onConnect?.(sk);
}

/** In-order data for the application. */
export function tellData(sk: TcpSocket, data: Uint8Array | null, len: number): void {
  const h = sk.handler;
  if (h !== null) h.streamData(data, len);
  else sk.onData?.(data, len);
}

/** The peer's FIN for the application. */
export function tellEnd(sk: TcpSocket): void {
  const h = sk.handler;
  if (h !== null) h.streamEnd();
  else sk.onEnd?.();
}

/** An error for the application (its close follows). */
export function tellError(sk: TcpSocket, kind: SocketErrorKind): void {
  const h = sk.handler;
  if (h !== null) h.streamError(kind);
  else sk.onError?.(kind);
}

/** The socket is gone. */
export function tellClose(sk: TcpSocket): void {
  const h = sk.handler;
  if (h !== null) h.streamClosed();
  else sk.onClose?.();
}

/** tcp_set_state: the state change, keeping CurrEstab right. */
export function setState(sk: TcpSocket, s: TcpState): void {
  if ((sk.state === 'ESTABLISHED' || sk.state === 'CLOSE_WAIT') && s !== 'ESTABLISHED' && s !== 'CLOSE_WAIT' && s !== 'CLOSED') {
    sk.layer.counters.CurrEstab--;
  }
  sk.state = s;
}
