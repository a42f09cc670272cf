// transport/tcp/timers — the socket's timers: retransmission (RTO), persist (zero-window probes),
// delayed ACK and the TIME_WAIT / FIN_WAIT_2 deadline, and the RFC 6298 estimator that sets the RTO.
// Layer: transport (imports core, wire and sibling tcp/ files). Mirrors net/ipv4/tcp_timer.c
// (tcp_retransmit_timer, tcp_probe_timer, tcp_delack_timer_handler, tcp_model_timeout), tcp_input.c
// (tcp_rtt_estimator, tcp_set_rto) and gVisor tcp/timer.go.
//
// One SimEvent per socket, re-armed lazily: the deadlines live in fields (rtoAt, delackAt, tailAt)
// and the event is rescheduled only when a deadline moves earlier. The event points at the socket; a
// TIME_WAIT record takes over the pending event (its callback and argument rewritten: timewait.ts).
// Not modelled: keepalive, TLP.
import type { TimeNs } from '../../core/time.js';
import { TcpFlag as TcpFlagImported } from '../../wire/types.js';
import { emit as emitImported, pushPendingFrames as pushPendingFramesImported, retransmit as retransmitImported, retransmitLost as retransmitLostImported, sendAck as sendAckImported } from './output.js';
import { enterLoss as enterLossImported, recoveryOf as recoveryOfImported } from './recovery.js';
import type { TcpSocket } from './socket.js';
import { destroy as destroyImported, fail as failImported } from './teardown.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const TcpFlag = TcpFlagImported;
const emit = emitImported;
const pushPendingFrames = pushPendingFramesImported;
const retransmit = retransmitImported;
const retransmitLost = retransmitLostImported;
const sendAck = sendAckImported;
const enterLoss = enterLossImported;
const recoveryOf = recoveryOfImported;
const destroy = destroyImported;
const fail = failImported;
const currentRtoHere = currentRto;
const armTimerHere = armTimer;
const modelTimeoutHere = modelTimeout;

/**
 * The scheduler callback of a socket's timer event: a module-level function, so arming a timer allocates
 * no closure. A socket that has handed its event to a TIME_WAIT record (timewait.ts) runs nothing.
 */
function onTimerEvent(sk: TcpSocket): void {
  if (!sk.timerGone) onTimer(sk);
}

/** RFC 6298 as tcp_rtt_estimator + tcp_set_rto: RTO = SRTT + max(4·RTTVAR, rto_min). */
export function rttSample(sk: TcpSocket, r: TimeNs): void {
  if (r < 0) return;
  sk.cc.rttSample(sk, r);
  if (sk.srtt === 0) {
    sk.srtt = r;
    sk.rttvar = r / 2;
  } else {
    sk.rttvar = 0.75 * sk.rttvar + 0.25 * Math.abs(sk.srtt - r);
    sk.srtt = 0.875 * sk.srtt + 0.125 * r;
  }
  sk.rto = Math.min(Math.round(sk.srtt + Math.max(4 * sk.rttvar, sk.cfg.rtoMin)), sk.cfg.rtoMax);
}

/** The RTO with the exponential backoff applied, capped at TCP_RTO_MAX. */
export function currentRto(sk: TcpSocket): TimeNs {
  return Math.min(sk.backoff === 0 ? sk.rto : sk.rto * 2 ** sk.backoff, sk.cfg.rtoMax);
}

/** Starts the retransmission timer from now. */
export function armRto(sk: TcpSocket): void {
  sk.rtoAt = sk.sim.now + currentRtoHere(sk);
  armTimerHere(sk);
}

/** Re-arms the socket's one event when the earliest deadline moved earlier. */
export function armTimer(sk: TcpSocket): void {
  const next = Math.min(sk.rtoAt, sk.delackAt, sk.tailAt);
  if (next === Infinity || next >= sk.timerAt) return;
  sk.timerAt = next;
  // With no event pending, the one that ran last is placed again (Simulator.rescheduleAt takes an event
  // off the queue as it is): no new event a re-arm after a deadline (~5 a connection otherwise). A new
  // socket's first timer takes its layer's spare event, if any (one that ran and that nothing holds:
  // TcpLayer.spareTimerEv), placed as a new one would be.
  let ev = sk.timerEv ?? sk.timerRan;
  if (ev === null) {
    const layer = sk.layer;
    ev = layer.spareTimerEv;
    if (ev !== null) layer.spareTimerEv = null;
  }
  sk.timerRan = null;
  sk.timerEv = sk.sim.rescheduleAt(ev, Math.max(next, sk.sim.now), onTimerEvent, sk);
}

/** The socket's single timer fired: run every deadline that is due, then re-arm. */
function onTimer(sk: TcpSocket): void {
  sk.timerRan = sk.timerEv; // (run now: no longer pending, kept for the next armTimer)
  sk.timerEv = null;
  sk.timerAt = Infinity;
  const now = sk.sim.now;
  if (sk.delackAt <= now) {
    sk.delackAt = Infinity;
    delackTimer(sk);
  }
  if (sk.isClosed()) return;
  if (sk.rtoAt <= now) {
    sk.rtoAt = Infinity;
    if (sk.probing) probeTimer(sk);
    else retransmitTimer(sk);
  }
  if (sk.isClosed()) return;
  if (sk.tailAt <= now) {
    sk.tailAt = Infinity;
    destroy(sk); // FIN_WAIT_2 (tcp_fin_timeout) expired (TIME_WAIT's end is the record's: timewait.ts)
    return;
  }
  armTimerHere(sk);
}

/** tcp_delack_timer_handler. */
function delackTimer(sk: TcpSocket): void {
  if (!sk.ackPending || sk.state === 'TIME_WAIT') return;
  if (sk.pingpong) {
    sk.pingpong = false; // delayed ACK missed: leave pingpong, deflate ATO
    sk.ato = sk.cfg.delackMin;
  } else {
    sk.ato = Math.min(sk.ato * 2, sk.rto); // inflate ATO
  }
  sk.layer.counters.DelayedACKs++;
  sendAck(sk);
}

/** tcp_probe_timer: a zero-window probe (an ACK with seq snd_una − 1). */
function probeTimer(sk: TcpSocket): void {
  if (sk.packetsOut > 0 || sk.sndNxt >= sk.writeSeq) {
    sk.probing = false;
    return;
  }
  if (sk.sndUna + sk.sndWnd >= sk.sndNxt + Math.min(sk.mss, sk.writeSeq - sk.sndNxt)) {
    sk.probing = false;
    pushPendingFrames(sk);
    return;
  }
  emit(sk, TcpFlag.ACK, sk.sndUna - 1, 0, null, false);
  sk.backoff = Math.min(sk.backoff + 1, 30);
  sk.rtoAt = sk.sim.now + currentRtoHere(sk);
}

/** tcp_retransmit_timer. */
function retransmitTimer(sk: TcpSocket): void {
  const now = sk.sim.now;
  const head = sk.rtx[sk.rtxHead];
  if (head === undefined) return;
  const layer = sk.layer;
  if (sk.state === 'SYN_SENT' || sk.state === 'SYN_RECV') {
    const limit = sk.state === 'SYN_SENT' ? sk.cfg.synRetries : sk.cfg.synackRetries;
    if (sk.backoff >= limit) {
      if (sk.state === 'SYN_SENT') {
        layer.counters.AttemptFails++;
        fail(sk, sk.softError ?? 'timeout');
      } else destroy(sk);
      return;
    }
    layer.counters.TCPTimeouts++;
    sk.backoff++;
    retransmit(sk, head);
    sk.rtoAt = now + currentRtoHere(sk);
    return;
  }
  const rec = recoveryOf(sk);
  if (sk.backoff === 0) rec.retransStamp = head.sentAt;
  if (now - rec.retransStamp >= modelTimeoutHere(sk.cfg.retries2, sk.cfg.rtoMin, sk.cfg.rtoMax)) {
    fail(sk, sk.softError ?? 'timeout');
    return;
  }
  layer.counters.TCPTimeouts++;
  enterLoss(sk);
  sk.backoff++;
  retransmitLost(sk);
  sk.rtoAt = now + currentRtoHere(sk);
}

/** tcp_model_timeout: the time retransmissions may take before ETIMEDOUT. */
export function modelTimeout(boundary: number, rtoBase: TimeNs, rtoMax: TimeNs): TimeNs {
  const thresh = Math.floor(Math.log2(rtoMax / rtoBase));
  if (boundary <= thresh) return ((2 << boundary) - 1) * rtoBase;
  return ((2 << thresh) - 1) * rtoBase + (boundary - thresh) * rtoMax;
}
