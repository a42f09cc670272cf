// transport/tcp/timewait — TIME_WAIT as the kernel keeps it: at the end of the segment that brings a
// connection to TIME_WAIT, a small TimeWaitSock takes the socket's place in the connection table for
// TCP_TIMEWAIT_LEN, holding only what TIME_WAIT needs: the 4-tuple, snd_nxt and rcv_nxt, the
// timestamps, the window of its last ACK, the IP ID and the expiry. It re-ACKs a retransmitted FIN (and
// restarts the 60 s), dies on a RST, gives way to a SYN beyond the old sequence space (the layer's
// `receive`) or to tcp_tw_reuse (`pickPort`), and goes when the 60 s end.
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
import type { TimeNs } from '../../core/time.js';
import { TcpFlag, type Ipv4 } from '../../wire/types.js';
import type { SocketErrorKind } from '../api.js';
import { releasedCongestionControl } from './cc.js';
import { MS } from './config.js';
import type { TcpLayer } from './layer.js';
import { establishedOptions } from './options.js';
import { freeSpace, sackBlocks, tcpSegment, transmit, windowFor } from './output.js';
import { NO_DATA, NO_SEGS, NO_SEQS } from './segment.js';
import { setState, tellClose, tellError, type TcpSocket } from './socket.js';


/**
 * A connection in TIME_WAIT (struct tcp_timewait_sock): what `ss -t state time-wait` lists. Sequence
 * numbers and timestamps are kept as signed 32-bit values (small integers for V8), read back `>>> 0`.
 */
export class TimeWaitSock {
  state: 'TIME_WAIT' | 'CLOSED' = 'TIME_WAIT';
  readonly localAddr: Ipv4;
  readonly localPort: number;
  readonly remoteAddr: Ipv4;
  readonly remotePort: number;
  readonly flowId: number;
  /** tw_snd_nxt and tw_rcv_nxt as on the wire (signed 32 bits). */
  readonly sndNxt32: number;
  readonly rcvNxt32: number;
  /** inet_id: the IP ID of the next re-ACK. */
  inetId: number;
  readonly tsOk: boolean;
  /** tw_ts_recent and tw_ts_offset (signed 32 bits). */
  readonly tsRecent32: number;
  readonly tsOffset32: number;
  /** SACK blocks of the last ACK (out-of-order data the FIN left behind; null almost always). */
  readonly sack: [number, number][] | null;
  /**
   * The window field of a re-ACK. __tcp_select_window's inputs no longer change (no data, no reads), so
   * tcp_send_ack would advertise the same value on every re-ACK: the larger of the free space and what
   * the last ACK promised, rounded to the scale (windowFor on its own result gives it back).
   */
  readonly window: number;
  /** When TIME_WAIT ends (restarted by a retransmitted FIN's re-ACK). */
  expiry: TimeNs;
  /** The one pending timer event (at or before `expiry`), or null. */
  timerEv: SimEvent | null = null;
  /** The socket, when its application did not orphan it: it closes (and is told) when the record goes. */
  owner: TcpSocket | null = null;

  constructor(
    readonly layer: TcpLayer,
    sk: TcpSocket,
  ) {
    this.localAddr = sk.localAddr;
    this.localPort = sk.localPort;
    this.remoteAddr = sk.remoteAddr;
    this.remotePort = sk.remotePort;
    this.flowId = sk.flowId;
    this.sndNxt32 = (sk.iss + sk.sndNxt) | 0;
    this.rcvNxt32 = (sk.irs + sk.rcvNxt) | 0;
    this.inetId = sk.inetId;
    this.tsOk = sk.tsOk;
    this.tsRecent32 = sk.tsRecent | 0;
    this.tsOffset32 = sk.tsOffset | 0;
    this.sack = sk.sackOk && sk.ooo.length > 0 ? sackBlocks(sk) : null;
    const ws = sk.rcvWscale;
    this.window = Math.floor(windowFor(freeSpace(sk), Math.max(0, sk.rcvWup + sk.rcvWnd - sk.rcvNxt), ws) / (1 << ws));
    this.expiry = sk.tailAt;
  }

  /** True once the record has gone from the table. */
  isClosed(): boolean {
    return this.state === 'CLOSED';
  }

  /** abort() of a TIME_WAIT socket: it goes at once, silently (nothing is sent in TIME_WAIT). */
  abort(): void {
    twKill(this);
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
 * went stale — through the socket's TimerRef, so the record's expiry is scheduled exactly when the
 * socket's would have been). An orphaned socket then closes without a word (tcp_done); another stays
 * in TIME_WAIT as the record's owner.
 */
export function timeWait(sk: TcpSocket): void {
  const layer = sk.layer;
  const tw = new TimeWaitSock(layer, sk);
  layer.rehash(sk, tw);
  tw.timerEv = sk.timerEv;
  sk.timerRef.sk = null;
  sk.timerRef.tw = tw;
  sk.timerEv = null;
  sk.timerAt = sk.rtoAt = sk.delackAt = sk.tailAt = Infinity;
  // What the socket holds for a live connection goes, in case the application keeps the object.
  if (sk.rtxHead === sk.rtx.length) {
    sk.rtx = NO_SEGS;
    sk.rtxHead = 0;
  }
  if (sk.qHead === sk.qEnd.length) {
    sk.qStart = NO_SEQS;
    sk.qEnd = NO_SEQS;
    sk.qData = NO_DATA;
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
    twKill(tw); // RFC 1337 hazard: Linux kills the TIME_WAIT socket (tcp_rfc1337 = 0)
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
  const opts = establishedOptions(tw.tsOk, (Math.floor(now / MS) + tw.tsOffset32) >>> 0, tw.tsRecent32, tw.sack);
  const id = tw.inetId;
  tw.inetId = (id + 1) & 0xffff;
  const pkt = tcpSegment(tw.localAddr, tw.remoteAddr, 0, id, tw.localPort, tw.remotePort, tw.sndNxt32 >>> 0, tw.rcvNxt32 >>> 0, TcpFlag.ACK, tw.window, opts, 0, null, tw.flowId);
  transmit(tw.layer, pkt);
}

/**
 * The record's timer (a socket's armTimer for its TIME_WAIT deadline): reschedule only when the
 * deadline is earlier than the pending event. The pending event is never later than `expiry` (an
 * expiry only moves later), so its time stands for the socket's timerAt here.
 */
function twArm(tw: TimeWaitSock): void {
  const ev = tw.timerEv;
  if (ev !== null && tw.expiry >= ev.time) return;
  ev?.cancel();
  const sim = tw.layer.stack.sim;
  tw.timerEv = sim.scheduleAt(Math.max(tw.expiry, sim.now), twTimer, tw);
}

/** tw_timer_handler: TIME_WAIT is over (the record goes), or its expiry moved on (re-armed). */
export function twTimer(tw: TimeWaitSock): void {
  tw.timerEv = null;
  if (tw.expiry <= tw.layer.stack.sim.now) {
    twKill(tw);
    return;
  }
  twArm(tw);
}

/**
 * inet_twsk_deschedule_put: the record leaves the table now (RST, reuse, reopen, expiry, abort); its
 * owner, if any, closes as a socket in TIME_WAIT did (tcp_done: `err` first, then onClose).
 */
export function twKill(tw: TimeWaitSock, err?: SocketErrorKind): void {
  if (tw.state === 'CLOSED') return;
  tw.state = 'CLOSED';
  tw.timerEv?.cancel();
  tw.timerEv = null;
  tw.layer.unhash(tw);
  const sk = tw.owner;
  if (sk === null) return;
  tw.owner = null;
  sk.tw = null;
  setState(sk, 'CLOSED');
  if (err !== undefined) tellError(sk, err);
  tellClose(sk);
}
