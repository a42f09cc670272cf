// transport/tcp/timewait — TIME_WAIT as the kernel keeps it: at the end of the segment that brings a
// connection to TIME_WAIT, a small TimeWaitSock takes the socket's place in the connection table for
// TCP_TIMEWAIT_LEN, holding only what TIME_WAIT needs: the 4-tuple, snd_nxt and rcv_nxt, the
// timestamps, the window of its last ACK, the IP ID and the expiry. It re-ACKs a retransmitted FIN (and
// restarts the 60 s), dies on a RST, gives way to a SYN beyond the old sequence space (the layer's
// `receive`) or to tcp_tw_reuse (`pickPort`), and goes when the 60 s end. Its expiry waits in its
// layer's queue (TwQueue in tw-queue.ts, inet_twsk_schedule's timer wheel in Linux): one scheduled event
// per layer for the earliest record, not one per record, each expiry still running where its own event
// would have. A record that went is reused by a later connection's TIME_WAIT (tw-queue.ts TwState).
// An orphaned socket (TcpSocket.orphan: its application closed it for good) closes when the record
// takes over (tcp_done; no one is told when TIME_WAIT ends, as in Linux), so the socket and whatever
// the application hung on it are free a minute earlier. A socket whose application did not orphan it
// stays the record's owner: it reads TIME_WAIT until the record goes, then closes and hears onClose
// (or onError 'reset' when a new SYN reopens the 4-tuple), as before the record existed.
// Layer: transport (imports core, wire, packet and sibling tcp/ files). Mirrors
// net/ipv4/tcp_minisocks.c (tcp_time_wait, tcp_timewait_state_process), inet_timewait_sock.c
// (inet_twsk_alloc, inet_twsk_hashdance, tw_timer_handler, inet_twsk_deschedule_put) and tcp_ipv4.c
// (tcp_v4_timewait_ack).
import type { SimEvent } from '../../core/scheduler.js';
import { f64Hi as f64HiImported, f64Lo as f64LoImported, f64Of as f64OfImported } from '../../core/f64-words.js';
import type { TimeNs } from '../../core/time.js';
import { TcpFlag as TcpFlagImported, type Ipv4 } from '../../wire/types.js';
import type { SocketErrorKind } from '../api.js';
import { releasedCongestionControl as releasedCongestionControlImported } from './cc.js';
import { MS as MSImported } from './config.js';
import type { TcpLayer } from './layer.js';
import { establishedOptions as establishedOptionsImported, ownTsOptions as ownTsOptionsImported } from './options.js';
import { freeSpace as freeSpaceImported, sackBlocks as sackBlocksImported, tcpSegment as tcpSegmentImported, transmit as transmitImported, windowFor as windowForImported } from './output.js';
import { NO_SEGS as NO_SEGSImported, NO_WRITES as NO_WRITESImported, releaseQueue as releaseQueueImported, releaseWrites as releaseWritesImported } from './segment.js';
import { setState as setStateImported, tellClose as tellCloseImported, tellError as tellErrorImported, type TcpSocket } from './socket.js';
import { queueOf as queueOfImported, stateOf as stateOfImported } from './tw-queue.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const TcpFlag = TcpFlagImported;
const f64Lo = f64LoImported;
const f64Hi = f64HiImported;
const f64Of = f64OfImported;
const releasedCongestionControl = releasedCongestionControlImported;
const MS = MSImported;
const establishedOptions = establishedOptionsImported;
const ownTsOptions = ownTsOptionsImported;
const freeSpace = freeSpaceImported;
const sackBlocks = sackBlocksImported;
const tcpSegment = tcpSegmentImported;
const transmit = transmitImported;
const windowFor = windowForImported;
const NO_SEGS = NO_SEGSImported;
const NO_WRITES = NO_WRITESImported;
const releaseQueue = releaseQueueImported;
const releaseWrites = releaseWritesImported;
const setState = setStateImported;
const tellClose = tellCloseImported;
const tellError = tellErrorImported;
const queueOf = queueOfImported;
const stateOf = stateOfImported;
const twKillHere = twKill;

const TS_OK = 1;
const CLOSED = 2;
/** The record has an owner (in ownerOf). */
const OWNED = 4;
/** The record has SACK blocks (in sackOf). */
const SACK = 8;
/** The SACK blocks of the few records whose last ACK carried some. */
const sackOf = new WeakMap<TimeWaitSock, [number, number][]>();
/** The owners of the few records whose socket was not orphaned (TimeWaitSock.owner). */
const ownerOf = new WeakMap<TimeWaitSock, TcpSocket>();


/**
 * A connection in TIME_WAIT (struct tcp_timewait_sock): what `ss -t state time-wait` lists. Sequence
 * numbers and timestamps are kept as signed 32-bit values (small integers for V8), read back `>>> 0`.
 * A record lives a minute, so every client connection's record outlives the young generation: its
 * small fields are packed (ports, IP ID with window, flow id with flags; read through getters), the
 * pending inherited event and the queue position share a field (a record has one or the other), the
 * timestamp offset is the layer's per-peer one, and the rare SACK blocks and owner sit in side tables
 * (flagged in the flow id's bits), the expiry two small integers (its words), and the connection table's insertion number: 13 fields in all, no box.
 *
 * Records are reused (the kernel's tw slab): one that went (twKill) waits in its layer's free list
 * and takes a later connection's TIME_WAIT in place of a new object, so the old generation keeps them
 * and the scavenger no longer copies a new record a connection. A record that went is CLOSED until it
 * is reused; whoever keeps one after that (a `sockets()` listing) sees the new connection. Nothing in
 * the simulator keeps one: the table and the expiry queue let go of it when it goes, its owner's link
 * is cut, and the socket's timer event it inherited (which names the record: see timeWait) is cancelled,
 * which lets go of it; the socket let go of that event when the record took it.
 */
export class TimeWaitSock {
  localAddr!: Ipv4;
  remoteAddr!: Ipv4;
  /** localPort << 16 | remotePort. */
  private ports!: number;
  /** tw_snd_nxt and tw_rcv_nxt as on the wire (signed 32 bits). */
  sndNxt32!: number;
  rcvNxt32!: number;
  /** tw_ts_recent (signed 32 bits). */
  tsRecent32!: number;
  /** inet_id (the IP ID of the next re-ACK) << 16 | the window field of a re-ACK (see `window`). */
  private idWin!: number;
  /** 16 × the flow id + (TS_OK | CLOSED | OWNED | SACK). */
  private flowBits!: number;
  /**
   * `expiry`'s 64 bits as two small integers (its low and high words): a double field is a box of its
   * own (a heap number the record points to), a line of its own read cold when the record's minute is
   * up; these are in the record. (Exact for any time, a fraction of a nanosecond included: link times are.)
   */
  private expLo = 0;
  private expHi = 0;
  /**
   * The socket's pending timer event, inherited (at or before `expiry`), until it fires (`timerEv`);
   * after that, where the record waits in its layer's expiry queue (`queued`: a number, -1 when not queued).
   */
  private wait: SimEvent | number = -1;
  /** @internal (conn-table) The record's insertion number in its layer's connection table: its socket's (TcpLayer.rehash). */
  tableSeq = 0;

  constructor(
    readonly layer: TcpLayer,
    sk: TcpSocket,
  ) {
    this.init(sk);
  }

  /** tcp_time_wait's copy of the socket's state: a new record, or one reused (CLOSED, gone from every table). */
  private init(sk: TcpSocket): void {
    this.localAddr = sk.localAddr;
    this.remoteAddr = sk.remoteAddr;
    this.ports = (sk.localPort << 16) | sk.remotePort;
    this.sndNxt32 = (sk.iss + sk.sndNxt) | 0;
    this.rcvNxt32 = (sk.irs + sk.rcvNxt) | 0;
    this.tsRecent32 = sk.tsRecent | 0;
    // The window field of a re-ACK. __tcp_select_window's inputs no longer change (no data, no reads),
    // so tcp_send_ack would advertise the same value on every re-ACK: the larger of the free space and
    // what the last ACK promised, rounded to the scale (windowFor on its own result gives it back).
    const ws = sk.rcvWscale;
    const window = Math.floor(windowFor(freeSpace(sk), Math.max(0, sk.rcvWup + sk.rcvWnd - sk.rcvNxt), ws) / (1 << ws));
    this.idWin = (sk.inetId << 16) | window;
    // (flow ids are small: 16 × one stays a small integer)
    this.flowBits = 16 * sk.flowId + (sk.tsOk ? TS_OK : 0);
    if (sk.sackOk && sk.ooo.length > 0) {
      sackOf.set(this, sackBlocks(sk));
      this.flowBits += SACK;
    }
    this.expiry = sk.tailAt;
    this.wait = -1;
  }

  /**
   * A record for `sk` entering TIME_WAIT on `layer`: one that went before this instant (so nothing still
   * running in the instant it went can read it as the old one), else a new one. The last one to go if
   * it may be taken (the warmest), else the first (records going in the same instant as a connection
   * enters TIME_WAIT — regular traffic makes them — would otherwise keep every one under them).
   */
  static take(layer: TcpLayer, sk: TcpSocket): TimeWaitSock {
    const tw = stateOf(layer).takeFree(layer.stack.sim.now);
    if (tw === null) return new TimeWaitSock(layer, sk);
    tw.init(sk);
    return tw;
  }

  /** When TIME_WAIT ends (restarted by a retransmitted FIN's re-ACK); once the record went, when it went. */
  get expiry(): TimeNs {
    return f64Of(this.expLo, this.expHi);
  }
  set expiry(t: TimeNs) {
    this.expLo = f64Lo(t);
    this.expHi = f64Hi(t);
  }
  /**
   * `expiry <= now` (twTimer): a boolean, where reading `expiry` in a caller V8 does not inline it into
   * (twTimer is large) returned a new heap number at each call.
   */
  expiredNow(): boolean {
    return f64Of(this.expLo, this.expHi) <= this.layer.stack.sim.now;
  }

  get state(): 'TIME_WAIT' | 'CLOSED' {
    return this.flowBits & CLOSED ? 'CLOSED' : 'TIME_WAIT';
  }
  get flowId(): number {
    return (this.flowBits - (this.flowBits & 15)) / 16;
  }
  /** tw_ts_offset (signed 32 bits): the socket's, which is its layer's offset for the peer (setup.ts). */
  get tsOffset32(): number {
    return this.layer.tsOffsetFor(this.remoteAddr) | 0;
  }
  /** The socket's pending timer event, inherited (at or before `expiry`), until it fires; then null. */
  get timerEv(): SimEvent | null {
    const w = this.wait;
    return typeof w === 'number' ? null : w;
  }
  set timerEv(ev: SimEvent | null) {
    this.wait = ev ?? -1;
  }
  /** After that, where it waits in its layer's expiry queue (TwQueue: LANE, or 4 × its heap index), + 1 in the background queue (-1: not queued). */
  get queued(): number {
    const w = this.wait;
    return typeof w === 'number' ? w : -1;
  }
  set queued(q: number) {
    this.wait = q;
  }
  /** The socket, when its application did not orphan it: it closes (and is told) when the record goes. */
  get owner(): TcpSocket | null {
    return (this.flowBits & OWNED) !== 0 ? ownerOf.get(this)! : null;
  }
  set owner(sk: TcpSocket | null) {
    if (sk !== null) {
      ownerOf.set(this, sk);
      if ((this.flowBits & OWNED) === 0) this.flowBits += OWNED;
    } else if ((this.flowBits & OWNED) !== 0) {
      ownerOf.delete(this);
      this.flowBits -= OWNED;
    }
  }
  get localPort(): number {
    return this.ports >>> 16;
  }
  get remotePort(): number {
    return this.ports & 0xffff;
  }
  get tsOk(): boolean {
    return (this.flowBits & TS_OK) !== 0;
  }
  /** inet_id: the IP ID of the next re-ACK. */
  get inetId(): number {
    return this.idWin >>> 16;
  }
  /** The window field of a re-ACK (constant in TIME_WAIT). */
  get window(): number {
    return this.idWin & 0xffff;
  }
  /** SACK blocks of the last ACK (out-of-order data the FIN left behind; null almost always). */
  get sack(): [number, number][] | null {
    return (this.flowBits & SACK) !== 0 ? sackOf.get(this)! : null;
  }

  /** Takes the IP ID for a re-ACK (inet_id++). */
  nextId(): number {
    const id = this.idWin >>> 16;
    this.idWin = (((id + 1) & 0xffff) << 16) | (this.idWin & 0xffff);
    return id;
  }

  /** Marks the record gone from the table (its SACK blocks go too). */
  markClosed(): void {
    if ((this.flowBits & CLOSED) === 0) this.flowBits += CLOSED;
    if ((this.flowBits & SACK) !== 0) {
      sackOf.delete(this);
      this.flowBits -= SACK;
    }
  }

  /** True once the record has gone from the table. */
  isClosed(): boolean {
    return (this.flowBits & CLOSED) !== 0;
  }

  /** abort() of a TIME_WAIT socket: it goes at once, silently (nothing is sent in TIME_WAIT). */
  abort(): void {
    twKillHere(this);
  }

  /** tw_ts_recent_stamp: when the record last heard the peer (TIME_WAIT's start, or the last re-ACK). */
  get tsRecentStamp(): TimeNs {
    return this.expiry - this.layer.config.timeWait;
  }
}

/**
 * tcp_time_wait + inet_twsk_hashdance, at the end of the segment that brought `sk` to TIME_WAIT: the
 * record takes the socket's slot in the table (same place, so listings keep their order) and its
 * pending timer event (the socket's one event, at its TIME_WAIT deadline or at an earlier deadline that
 * went stale — the event itself, its callback and argument rewritten, so the record's expiry is
 * scheduled exactly when the socket's would have been). An orphaned socket then closes without a word (tcp_done); another stays
 * in TIME_WAIT as the record's owner.
 */
export function timeWait(sk: TcpSocket): void {
  const layer = sk.layer;
  const tw = TimeWaitSock.take(layer, sk);
  layer.rehash(sk, tw);
  // The pending event now runs the record's timer (its callback and argument rewritten in place: same
  // time, same place in the queue), and only that event holds the record; an event the socket might arm
  // later runs nothing (timerGone), so it cannot reach the record (which, once it went, may be another
  // connection's).
  const ev = sk.timerEv;
  ev?.retarget(twTimer, tw);
  tw.timerEv = ev;
  sk.timerGone = true;
  sk.timerEv = null;
  sk.timerAt = sk.rtoAt = sk.delackAt = sk.tailAt = Infinity;
  // What the socket holds for a live connection goes, in case the application keeps the object.
  if (sk.rtxHead === sk.rtx.length) {
    releaseQueue(sk.rtx);
    sk.rtx = NO_SEGS;
    sk.rtxHead = 0;
  }
  if (2 * sk.qHead === sk.q.length) {
    releaseWrites(sk.q);
    sk.q = NO_WRITES;
    sk.qHead = 0;
  }
  sk.cc = releasedCongestionControl(sk.cc.name);
  if (!sk.orphaned) {
    tw.owner = sk;
    sk.tw = tw;
    return;
  }
  setState(sk, 'CLOSED');
  sk.onError = null;
  sk.onClose = null;
  sk.handler = null;
}

/** tcp_timewait_state_process for a segment that is not a reopening SYN (the layer checks that first). */
export function twArrived(tw: TimeWaitSock, flags: number): void {
  if (flags & TcpFlag.RST) {
    twKillHere(tw); // RFC 1337 hazard: Linux kills the TIME_WAIT socket (tcp_rfc1337 = 0)
    return;
  }
  if (flags & TcpFlag.FIN) {
    // A retransmitted FIN: our last ACK was lost. Re-ACK and restart the 2MSL timer.
    twSendAck(tw);
    tw.expiry = tw.layer.stack.sim.now + tw.layer.config.timeWait;
    twArm(tw);
  }
}

/** tcp_v4_timewait_ack: the ACK a live socket's tcp_send_ack would have sent (same options, window, IP ID). */
function twSendAck(tw: TimeWaitSock): void {
  const now = tw.layer.stack.sim.now;
  const tsval = (Math.floor(now / MS) + tw.tsOffset32) | 0; // (signed: the options builders store it >>> 0, as tsNow's)
  const sack = tw.sack;
  // (null: NOP NOP TS, written below into the segment's own list, as a socket's ACK: output.ts emit)
  const opts = tw.tsOk && sack === null ? null : establishedOptions(tw.tsOk, tsval, tw.tsRecent32, sack);
  const id = tw.nextId();
  const pkt = tcpSegment(tw.localAddr, tw.remoteAddr, 0, id, tw.localPort, tw.remotePort, tw.sndNxt32 >>> 0, tw.rcvNxt32 >>> 0, TcpFlag.ACK, tw.window, opts, 0, null, tw.flowId);
  if (opts === null) pkt.tcp!.options = ownTsOptions(pkt.tcp!.options, tsval, tw.tsRecent32);
  transmit(tw.layer, pkt);
}

/**
 * The record's timer (a socket's armTimer for its TIME_WAIT deadline): nothing to do when the pending
 * deadline (the inherited event's, or the record's place in the expiry queue) is not later than
 * `expiry` (an expiry only moves later). Otherwise (the inherited event has fired) the record joins its
 * layer's expiry queue with the sequence number an event scheduled now would get.
 */
function twArm(tw: TimeWaitSock): void {
  const ev = tw.timerEv;
  if (ev !== null && tw.expiry >= ev.time) return;
  if (tw.queued >= 0) return; // queued at its expiry then, which can only have moved later
  ev?.cancel();
  tw.timerEv = null;
  const sim = tw.layer.stack.sim;
  const bg = sim.backgroundNow;
  queueOf(tw.layer, bg).push(tw, Math.max(tw.expiry, sim.now), sim.reserveSeq());
}

/** tw_timer_handler: TIME_WAIT is over (the record goes), or its expiry moved on (re-armed). */
export function twTimer(tw: TimeWaitSock): void {
  // The inherited event (running now, when the record had one) is held by nothing else: the layer's
  // next new socket places it again (TcpLayer.spareTimerEv) instead of making one.
  const ev = tw.timerEv;
  tw.timerEv = null;
  if (ev !== null) tw.layer.spareTimerEv = ev;
  if (tw.expiredNow()) {
    twKillHere(tw);
    return;
  }
  twArm(tw);
}

/**
 * inet_twsk_deschedule_put: the record leaves the table now (RST, reuse, reopen, expiry, abort); its
 * owner, if any, closes as a socket in TIME_WAIT did (tcp_done: `err` first, then onClose).
 */
export function twKill(tw: TimeWaitSock, err?: SocketErrorKind): void {
  if (tw.isClosed()) return;
  tw.markClosed();
  // timerEv and queued share one field (a record has an event or a queue place, never both), so
  // read which it has before clearing: clearing the event first would hide the queue place.
  const ev = tw.timerEv;
  if (ev !== null) {
    ev.cancel();
    tw.timerEv = null;
  } else if (tw.queued >= 0) queueOf(tw.layer, (tw.queued & 1) === 1).remove(tw);
  tw.layer.unhash(tw);
  // Free for reuse from the next instant on (TimeWaitSock.take): nothing holds the record any more.
  const now = tw.layer.stack.sim.now;
  tw.expiry = now;
  stateOf(tw.layer).giveBack(tw);
  const sk = tw.owner;
  if (sk === null) return;
  tw.owner = null;
  sk.tw = null;
  setState(sk, 'CLOSED');
  if (err !== undefined) tellError(sk, err);
  tellClose(sk);
}
