// transport/tcp/teardown — closing: the peer's FIN, our FIN being acknowledged, TIME_WAIT (60 s,
// re-ACK of a retransmitted FIN), RST, ICMP errors and releasing the socket. Layer: transport (imports
// packet types, wire, ../api and sibling tcp/ files). Mirrors net/ipv4/tcp_input.c (tcp_fin, tcp_reset),
// tcp_minisocks.c (tcp_time_wait, tcp_timewait_state_process), tcp.c (tcp_done), tcp_ipv4.c (tcp_v4_err)
// and gVisor tcp/connect.go (handleReset, the close states).
import type { Packet } from '../../packet/packet.js';
import { TcpFlag } from '../../wire/types.js';
import type { SocketErrorKind } from '../api.js';
import { releasedCongestionControl } from './cc.js';
import { sendAck } from './output.js';
import type { TxSeg } from './segment.js';
import { setState, type TcpSocket } from './socket.js';
import { armTimer } from './timers.js';

/**
 * The queues a socket in TIME_WAIT holds once its own are released: shared, frozen (nothing in
 * TIME_WAIT queues data or segments; a push would throw rather than touch another socket).
 */
const NO_SEGS: TxSeg[] = Object.freeze([]) as unknown as TxSeg[];
const NO_SEQS: number[] = Object.freeze([]) as unknown as number[];
const NO_DATA: (Uint8Array | null)[] = Object.freeze([]) as unknown as (Uint8Array | null)[];

/** tcp_timewait_state_process for a segment on the TIME_WAIT socket (the reopening SYN is the layer's). */
export function timeWaitArrived(sk: TcpSocket, pkt: Packet): void {
  const t = pkt.tcp!;
  if (t.flags & TcpFlag.RST) {
    destroy(sk); // RFC 1337 hazard: Linux kills the TIME_WAIT socket (tcp_rfc1337 = 0)
    return;
  }
  if (t.flags & TcpFlag.FIN) {
    // A retransmitted FIN: our last ACK was lost. Re-ACK and restart the 2MSL timer.
    sendAck(sk);
    sk.tailAt = sk.sim.now + sk.cfg.timeWait;
    armTimer(sk);
  }
}

/** tcp_reset: an acceptable RST. */
export function resetArrived(sk: TcpSocket): void {
  switch (sk.state) {
    case 'SYN_RECV':
      destroy(sk);
      return;
    case 'ESTABLISHED':
    case 'FIN_WAIT_1':
    case 'FIN_WAIT_2':
    case 'CLOSE_WAIT':
      sk.layer.counters.EstabResets++;
      fail(sk, 'reset');
      return;
    default:
      destroy(sk);
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
      destroy(sk);
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
      sk.onEnd?.();
      return;
    case 'FIN_WAIT_1':
      sendAck(sk);
      setState(sk, 'CLOSING');
      sk.onEnd?.();
      return;
    case 'FIN_WAIT_2':
      sendAck(sk);
      sk.onEnd?.();
      enterTimeWait(sk);
      return;
    default:
      return;
  }
}

/** tcp_time_wait: hold the 4-tuple for TCP_TIMEWAIT_LEN. */
function enterTimeWait(sk: TcpSocket): void {
  setState(sk, 'TIME_WAIT');
  sk.rtoAt = Infinity;
  sk.delackAt = Infinity;
  sk.tailAt = sk.sim.now + sk.cfg.timeWait;
  armTimer(sk);
  // As the kernel swaps the socket for a small inet_timewait_sock, let go of what only a live
  // connection uses, so the minute in TIME_WAIT keeps little alive: the acknowledged queues (empty
  // from their heads on) and the callbacks a TIME_WAIT socket never calls (it reports no data, end or
  // connect; an error or the close still reach the application).
  // The arrays themselves go too (four per socket, for ~40 k sockets in H1), and the congestion
  // control's state: shared stand-ins take their place (the socket object stays: the application
  // may hold it).
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
  sk.onConnect = null;
  sk.onData = null;
  sk.onEnd = null;
}

/** Reports an error to the application and releases the socket (tcp_done with sk_err). */
export function fail(sk: TcpSocket, kind: SocketErrorKind): void {
  if (sk.isClosed()) return;
  destroy(sk, kind);
}

/** tcp_done: stop the timers, leave the tables, tell the application (an error first, if any). */
export function destroy(sk: TcpSocket, err?: SocketErrorKind): void {
  if (sk.isClosed()) return;
  const wasEstab = sk.state === 'ESTABLISHED' || sk.state === 'CLOSE_WAIT';
  if (wasEstab) sk.layer.counters.CurrEstab--;
  if (sk.listener !== null) {
    sk.listener.pending--;
    sk.listener = null;
  }
  setState(sk, 'CLOSED');
  sk.timerEv?.cancel();
  sk.timerEv = null;
  sk.timerAt = sk.rtoAt = sk.delackAt = sk.tailAt = Infinity;
  sk.layer.unhash(sk);
  if (err !== undefined) sk.onError?.(err);
  sk.onClose?.();
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
    fail(sk, kind);
    return;
  }
  sk.softError = kind; // reported if the connection later times out
}
