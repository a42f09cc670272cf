// transport/tcp/teardown — closing: the peer's FIN, our FIN being acknowledged, entering TIME_WAIT (the
// record that then holds the 4-tuple is timewait.ts's), RST, ICMP errors and releasing the socket.
// Layer: transport (imports ../api and sibling tcp/ files). Mirrors net/ipv4/tcp_input.c (tcp_fin,
// tcp_reset), tcp_minisocks.c (tcp_time_wait), tcp.c (tcp_done), tcp_ipv4.c (tcp_v4_err) and gVisor
// tcp/connect.go (handleReset, the close states).
import type { SocketErrorKind } from '../api.js';
import { sendAck as sendAckImported } from './output.js';
import { NO_SEGS as NO_SEGSImported, NO_WRITES as NO_WRITESImported, releaseQueue as releaseQueueImported, releaseWrites as releaseWritesImported } from './segment.js';
import { setState as setStateImported, tellClose as tellCloseImported, tellEnd as tellEndImported, tellError as tellErrorImported, type TcpSocket } from './socket.js';
import { armTimer as armTimerImported } from './timers.js';
import { twKill as twKillImported } from './timewait.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const sendAck = sendAckImported;
const NO_SEGS = NO_SEGSImported;
const releaseQueue = releaseQueueImported;
const NO_WRITES = NO_WRITESImported;
const releaseWrites = releaseWritesImported;
const setState = setStateImported;
const tellClose = tellCloseImported;
const tellEnd = tellEndImported;
const tellError = tellErrorImported;
const armTimer = armTimerImported;
const twKill = twKillImported;
const failHere = fail;
const destroyHere = destroy;

/** tcp_reset: an acceptable RST. */
export function resetArrived(sk: TcpSocket): void {
  switch (sk.state) {
    case 'SYN_RECV':
      destroyHere(sk);
      return;
    case 'ESTABLISHED':
    case 'FIN_WAIT_1':
    case 'FIN_WAIT_2':
    case 'CLOSE_WAIT':
      sk.layer.counters.EstabResets++;
      failHere(sk, 'reset');
      return;
    default:
      destroyHere(sk);
  }
}

/** Our FIN is acknowledged: FIN_WAIT_1 → FIN_WAIT_2, CLOSING → TIME_WAIT, LAST_ACK → closed. */
export function finAcked(sk: TcpSocket, ack: number): void {
  if (!sk.finSent || ack <= sk.finSeq) return;
  switch (sk.state) {
    case 'FIN_WAIT_1':
      setState(sk, 'FIN_WAIT_2');
      sk.tailAt = sk.sim.now + sk.cfg.finTimeout; // orphaned: tcp_fin_timeout
      armTimer(sk);
      return;
    case 'CLOSING':
      enterTimeWait(sk);
      return;
    case 'LAST_ACK':
      destroyHere(sk);
      return;
    default:
      return;
  }
}

/** tcp_fin: the peer's FIN is in order. */
export function finArrived(sk: TcpSocket): void {
  sk.rcvNxt += 1;
  switch (sk.state) {
    case 'SYN_RECV':
    case 'ESTABLISHED':
      setState(sk, 'CLOSE_WAIT');
      sk.pingpong = true; // tcp_fin: inet_csk_enter_pingpong_mode (the ACK may ride on our FIN)
      tellEnd(sk);
      return;
    case 'FIN_WAIT_1':
      sendAck(sk);
      setState(sk, 'CLOSING');
      tellEnd(sk);
      return;
    case 'FIN_WAIT_2':
      sendAck(sk);
      tellEnd(sk);
      if (!sk.isClosed()) enterTimeWait(sk); // (unless the application aborted in onEnd)
      return;
    default:
      return;
  }
}

/**
 * tcp_time_wait, first half: the state and the 60 s deadline. The callbacks a connection in TIME_WAIT
 * never calls go now; at the end of this segment the layer hands the connection to a TimeWaitSock
 * (timewait.ts `timeWait`).
 */
function enterTimeWait(sk: TcpSocket): void {
  setState(sk, 'TIME_WAIT');
  sk.rtoAt = Infinity;
  sk.delackAt = Infinity;
  sk.tailAt = sk.sim.now + sk.cfg.timeWait;
  armTimer(sk);
  sk.onConnect = null;
  sk.onData = null;
  sk.onEnd = null;
}

/** Reports an error to the application and releases the socket (tcp_done with sk_err). */
export function fail(sk: TcpSocket, kind: SocketErrorKind): void {
  if (sk.isClosed()) return;
  destroyHere(sk, kind);
}

/** tcp_done: stop the timers, leave the tables, tell the application (an error first, if any). */
export function destroy(sk: TcpSocket, err?: SocketErrorKind): void {
  if (sk.isClosed()) return;
  if (sk.tw !== null) {
    twKill(sk.tw, err); // in TIME_WAIT (abort()): the record goes, and closes this socket
    return;
  }
  const wasEstab = sk.state === 'ESTABLISHED' || sk.state === 'CLOSE_WAIT';
  if (wasEstab) sk.layer.counters.CurrEstab--;
  if (sk.listener !== null) {
    sk.listener.pending--;
    sk.listener = null;
  }
  setState(sk, 'CLOSED');
  // The socket's event, pending or run, is let go of (SimEvent.drop: nothing else holds it): a later
  // event takes its object (a server's next socket's first timer) instead of a new one.
  sk.timerEv?.drop();
  sk.timerEv = null;
  sk.timerRan?.drop();
  sk.timerRan = null;
  sk.timerAt = sk.rtoAt = sk.delackAt = sk.tailAt = Infinity;
  if (sk.rtxHead === sk.rtx.length && sk.rtx.length > 0) {
    // Everything acknowledged: the queue goes to the next socket (segment.ts releaseQueue).
    releaseQueue(sk.rtx);
    sk.rtx = NO_SEGS;
    sk.rtxHead = 0;
  }
  if (sk.q.length > 0 && 2 * sk.qHead === sk.q.length) {
    // Every write acknowledged: the write queue too (segment.ts releaseWrites; a closed socket sends nothing).
    releaseWrites(sk.q);
    sk.q = NO_WRITES;
    sk.qHead = 0;
  }
  sk.layer.unhash(sk);
  if (err !== undefined) tellError(sk, err);
  tellClose(sk);
}

/**
 * An ICMP error about one of our segments (tcp_v4_err): while connecting (SYN_SENT) every
 * destination-unreachable or time-exceeded error ends the attempt at once (tcp_done_with_error:
 * connect() fails with ECONNREFUSED, ENETUNREACH or EHOSTUNREACH); later it is a soft error, kept for
 * the report if the connection then times out.
 */
export function icmpError(sk: TcpSocket, kind: SocketErrorKind): void {
  if (sk.state === 'SYN_SENT') {
    sk.layer.counters.AttemptFails++;
    failHere(sk, kind);
    return;
  }
  sk.softError = kind; // reported if the connection later times out
}
