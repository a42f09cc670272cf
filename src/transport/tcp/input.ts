// transport/tcp/input — segments arriving on a connection: state dispatch, validation, the ACK
// (window update, cumulative ACK, RTT sample), in-order and out-of-order data, receive-buffer
// autotuning and the ACK-now-or-delay decision. Layer: transport (imports core, wire, packet types and
// sibling tcp/ files). Mirrors net/ipv4/tcp_input.c (tcp_rcv_state_process, tcp_validate_incoming,
// tcp_ack, tcp_clean_rtx_queue, tcp_data_queue, tcp_ofo_queue, tcp_event_data_recv,
// tcp_rcv_space_adjust, __tcp_ack_snd_check) and gVisor tcp/rcv.go.
// Not modelled: PAWS, urgent data, DSACK.
import type { Packet } from '../../packet/packet.js';
import { tcpLayoutOf as tcpLayoutOfImported } from '../../wire/tcp.js';
import { TcpFlag as TcpFlagImported, type TcpHeader } from '../../wire/types.js';
import { MS as MSImported } from './config.js';
import { pushPendingFrames as pushPendingFramesImported, sendAck as sendAckImported, tsNow as tsNowImported } from './output.js';
import { congestionControl as congestionControlImported, processSack as processSackImported } from './recovery.js';
import { findTs as findTsImported, type TxSeg } from './segment.js';
import { rcvSpace as rcvSpaceImported, sendSyn as sendSynImported, synRecvAckArrived as synRecvAckArrivedImported, synSentArrived as synSentArrivedImported } from './setup.js';
import { tellData as tellDataImported, type TcpSocket } from './socket.js';
import { finAcked as finAckedImported, finArrived as finArrivedImported, resetArrived as resetArrivedImported } from './teardown.js';
import { armTimer as armTimerImported, currentRto as currentRtoImported, rttSample as rttSampleImported } from './timers.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const tcpLayoutOf = tcpLayoutOfImported;
const TcpFlag = TcpFlagImported;
const MS = MSImported;
const pushPendingFrames = pushPendingFramesImported;
const sendAck = sendAckImported;
const tsNow = tsNowImported;
const congestionControl = congestionControlImported;
const processSack = processSackImported;
const findTs = findTsImported;
const rcvSpace = rcvSpaceImported;
const sendSyn = sendSynImported;
const synRecvAckArrived = synRecvAckArrivedImported;
const synSentArrived = synSentArrivedImported;
const tellData = tellDataImported;
const finAcked = finAckedImported;
const finArrived = finArrivedImported;
const resetArrived = resetArrivedImported;
const armTimer = armTimerImported;
const currentRto = currentRtoImported;
const rttSample = rttSampleImported;
const ackArrivedHere = ackArrived;

/** A segment for this socket (tcp_v4_rcv → tcp_rcv_state_process / tcp_rcv_established). */
export function segmentArrived(sk: TcpSocket, pkt: Packet): void {
  const t = pkt.tcp!;
  const flags = t.flags;
  switch (sk.state) {
    case 'SYN_SENT':
      synSentArrived(sk, pkt);
      return;
    case 'CLOSED':
    case 'TIME_WAIT': // (a socket is in TIME_WAIT only until the end of the segment that took it there)
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
      const never: never = sk.state;
      throw new Error(`bad state ${String(never)}`);
    }
  }
  const seq = sk.rcvNxt + ((t.seq - ((sk.irs + sk.rcvNxt) >>> 0)) | 0);
  const len = pkt.payloadLength;
  if (!validateIncoming(sk, pkt, seq, len)) return;
  if (sk.tsOk) replaceTsRecent(sk, t, seq);
  const hasData = len > 0 || (flags & TcpFlag.FIN) !== 0;
  if (sk.state === 'SYN_RECV') {
    if (!synRecvAckArrived(sk, pkt, seq, hasData)) return;
  } else ackArrivedHere(sk, pkt, seq, hasData);
  if (sk.isClosed()) return;
  if (hasData) dataArrived(sk, pkt, seq, len, (flags & TcpFlag.FIN) !== 0);
  if (sk.isClosed()) return;
  ackSndCheck(sk);
  pushPendingFrames(sk);
}

/**
 * tcp_validate_incoming for a synchronized state (and SYN_RECV): the sequence check (RFC 9293
 * 3.10.7.4), RST, SYN and the ACK bit. False when the segment ends here (answered or dropped).
 */
function validateIncoming(sk: TcpSocket, pkt: Packet, seq: number, len: number): boolean {
  const flags = pkt.tcp!.flags;
  const segEnd = seq + len + (flags & TcpFlag.FIN ? 1 : 0);
  // SYN_RECV: a retransmitted SYN means our SYN-ACK was lost.
  if (sk.state === 'SYN_RECV' && flags & TcpFlag.SYN && !(flags & TcpFlag.ACK)) {
    if (seq === 0) sendSyn(sk);
    return false;
  }
  // tcp_sequence: acceptability (RFC 9293 3.10.7.4, first check).
  const wndEnd = sk.rcvNxt + Math.max(sk.rcvWup + sk.rcvWnd - sk.rcvNxt, 0);
  const acceptable = len === 0 && !(flags & TcpFlag.FIN) ? seq >= sk.rcvNxt - 0 && seq <= wndEnd : segEnd > sk.rcvNxt && seq < Math.max(wndEnd, sk.rcvNxt + 1);
  if (!acceptable && !(len === 0 && seq === sk.rcvNxt)) {
    if (!(flags & TcpFlag.RST)) {
      // tcp_send_dupack: an old duplicate; ACK at once.
      sendAck(sk);
    }
    return false;
  }
  if (flags & TcpFlag.RST) {
    if (seq === sk.rcvNxt) resetArrived(sk);
    else sendAck(sk); // RFC 5961 challenge ACK
    return false;
  }
  if (flags & TcpFlag.SYN) {
    sendAck(sk); // RFC 5961 4.2: challenge ACK for a SYN in a synchronized state
    return false;
  }
  return (flags & TcpFlag.ACK) !== 0;
}

/** tcp_replace_ts_recent: remember the peer's TSval from a segment at or before the last window update. */
function replaceTsRecent(sk: TcpSocket, t: TcpHeader, seq: number): void {
  const tso = findTs(t);
  if (tso !== null && seq <= sk.rcvWup && ((tso.tsval - sk.tsRecent) | 0) >= 0) sk.tsRecent = tso.tsval | 0;
}

/** tcp_ack: window update, SACK, cumulative ACK, RTT, congestion control (`seq`: the segment's, as an offset from IRS). */
export function ackArrived(sk: TcpSocket, pkt: Packet, seq: number, hasData: boolean): void {
  const t = pkt.tcp!;
  const ack = sk.sndUna + ((t.ack - ((sk.iss + sk.sndUna) >>> 0)) | 0);
  if (ack > sk.sndNxt) {
    sendAck(sk); // ACK of something never sent: answer with our state and drop
    return;
  }
  const windowChanged = ackUpdateWindow(sk, t, seq, ack);
  const priorUna = sk.sndUna;
  const priorInFlight = sk.inFlight;
  let newlySacked = 0;
  // (a sender's own option list, wire/tcp TCP_LAYOUT_NOP, holds no SACK blocks: every ACK of a
  // connection without out-of-order data; no call, no megamorphic load per option)
  if (sk.sackOk && tcpLayoutOf(t.options) === 0) newlySacked = processSack(sk, t);
  if (ack < priorUna) return; // old ACK
  const ackedPkts = cleanRtxQueue(sk, t, ack, priorUna);
  const advanced = ack > priorUna;
  if (advanced) sndUnaAdvanced(sk, ack);
  else if (!hasData && !windowChanged && sk.packetsOut > 0 && ack === priorUna) {
    sk.dupAcks++;
  }
  congestionControl(sk, advanced, ackedPkts + newlySacked, priorInFlight, ack);
  armTimer(sk);
  finAcked(sk, ack);
}

/** tcp_may_update_window / tcp_ack_update_window: take the peer's window; true when it changed. */
function ackUpdateWindow(sk: TcpSocket, t: TcpHeader, seq: number, ack: number): boolean {
  const nwin = t.window * (1 << sk.sndWscale); // (a shift ≤ 14: exact, and no Math.pow)
  let windowChanged = false;
  if (ack > sk.sndWl2 || seq > sk.sndWl1 || (seq === sk.sndWl1 && nwin !== sk.sndWnd)) {
    windowChanged = nwin !== sk.sndWnd;
    sk.sndWnd = nwin;
    sk.sndWl1 = seq;
    sk.sndWl2 = ack;
  }
  return windowChanged;
}

/**
 * tcp_clean_rtx_queue: drop fully acknowledged segments, then take an RTT sample (Karn's rule; the
 * timestamp echo when only retransmitted data was acked). Returns the segments newly ACKed (not SACKed before).
 */
function cleanRtxQueue(sk: TcpSocket, t: TcpHeader, ack: number, priorUna: number): number {
  let ackedPkts = 0;
  let rttSeg: TxSeg | null = null;
  let retransAcked = false;
  while (sk.rtxHead < sk.rtx.length) {
    const s = sk.rtx[sk.rtxHead]!;
    if (s.end > ack) {
      if (s.start < ack) s.start = ack; // partially acknowledged
      break;
    }
    sk.rtxHead++;
    sk.packetsOut--;
    if (s.sacked) sk.sackedOut--;
    else ackedPkts++;
    if (s.lost) sk.lostOut--;
    if (s.inRetrans) sk.retransOut--;
    if (!s.everRetrans) rttSeg = s;
    else retransAcked = true;
  }
  if (sk.rtxHead > 64 && sk.rtxHead * 2 > sk.rtx.length) {
    sk.rtx = sk.rtx.slice(sk.rtxHead);
    sk.rtxHead = 0;
  }
  if (ack > priorUna) {
    if (rttSeg !== null) rttSample(sk, sk.sim.now - rttSeg.sentAt);
    else if (retransAcked && sk.tsOk) {
      const tso = findTs(t);
      if (tso !== null && tso.tsecr !== 0) rttSample(sk, Math.max(1, (tsNow(sk) - tso.tsecr) | 0) * MS);
    }
  }
  return ackedPkts;
}

/** SND.UNA moved forward: release acknowledged writes, reset the backoff and restart the retransmit timer. */
function sndUnaAdvanced(sk: TcpSocket, ack: number): void {
  sk.sndUna = ack;
  sk.layer.stack.confirmNeighbour?.(sk.remoteAddr); // tcp_ack: FLAG_FORWARD_PROGRESS → sk_dst_confirm
  const q = sk.q;
  const writes = q.length >> 1;
  const acked = Math.min(ack, sk.writeSeq);
  while (sk.qHead < writes && (q[2 * sk.qHead] as number) <= acked) {
    q[2 * sk.qHead + 1] = null;
    sk.qHead++;
  }
  if (sk.qHead > 64 && sk.qHead * 2 > writes) {
    sk.qBase = q[2 * sk.qHead - 2] as number; // (where the first write kept starts)
    sk.q = q.slice(2 * sk.qHead);
    sk.qHead = 0;
  }
  sk.dupAcks = 0;
  sk.backoff = 0;
  sk.probing = false;
  sk.rtoAt = sk.packetsOut > 0 ? sk.sim.now + currentRto(sk) : Infinity;
  if (sk.packetsOut === 0 && sk.sndNxt < sk.writeSeq) sk.rtoAt = Infinity; // persist decides below
  sk.softError = null;
}

/** tcp_data_queue: in-order delivery, out-of-order queueing, FIN. */
function dataArrived(sk: TcpSocket, pkt: Packet, seq: number, len: number, fin: boolean): void {
  switch (sk.state) {
    case 'CLOSE_WAIT':
    case 'CLOSING':
    case 'LAST_ACK':
      return; // the peer's FIN was already received; nothing more can come
    default:
      break;
  }
  eventDataRecv(sk, len);
  let start = seq;
  let data = pkt.payload;
  let end = seq + len;
  // Trim what is already received.
  if (start < sk.rcvNxt) {
    const cut = Math.min(sk.rcvNxt - start, len);
    if (data !== null) data = data.subarray(cut);
    start += cut;
    if (start >= end && !(fin && end === sk.rcvNxt)) {
      // A full duplicate (a retransmission): ACK at once (tcp_data_queue "2nd most common case").
      sk.ackNow = true;
      sk.ackPending = true;
      return;
    }
  }
  // Trim beyond the window.
  const wndEnd = sk.rcvNxt + Math.max(sk.rcvWup + sk.rcvWnd - sk.rcvNxt, 0);
  if (end > wndEnd) {
    if (data !== null) data = data.subarray(0, Math.max(0, wndEnd - start));
    end = Math.max(wndEnd, start);
    fin = false;
  }
  if (len > 0 && len >= sk.rcvMss) sk.rcvMss = Math.min(len, sk.advMss); // tcp_measure_rcv_mss
  if (start === sk.rcvNxt) {
    sk.ackPending = true;
    const hadOoo = sk.ooo.length > 0;
    if (end > start) deliver(sk, data, end - start, start);
    if (fin && end === sk.rcvNxt) finArrived(sk);
    if (sk.ooo.length > 0 || hadOoo) {
      drainOoo(sk);
      sk.ackNow = true; // RFC 5681 4.2: ACK at once when filling a gap
    }
    if (len >= GROW_WINDOW_MIN_LEN) growWindow(sk); // tcp_event_data_recv: skb->len >= 128
    if (!sk.isClosed()) rcvSpaceAdjust(sk);
  } else {
    queueOoo(sk, start, end, data, fin);
    sk.lastOooSeq = start;
    sk.ackNow = true;
    sk.ackPending = true;
  }
}

/** tcp_event_data_recv: quick-ACK at the start and after idle; adapt the delayed-ACK timeout. */
function eventDataRecv(sk: TcpSocket, len: number): void {
  if (len === 0) return;
  const now = sk.sim.now; // (read here, not handed over: a time passed to a call not inlined is a new heap number)
  const quickMax = Math.max(Math.min(Math.floor(sk.rcvWnd / (2 * sk.rcvMss)), 16), 2);
  if (sk.lrcvTime === 0) {
    sk.quickAcks = Math.max(sk.quickAcks, quickMax); // tcp_incr_quickack(TCP_MAX_QUICKACKS)
    sk.ato = sk.cfg.delackMin;
  } else {
    const m = now - sk.lrcvTime;
    if (m <= sk.cfg.delackMin / 2) sk.ato = sk.ato / 2 + sk.cfg.delackMin / 2;
    else if (m < sk.ato) sk.ato = Math.min(sk.ato / 2 + m, sk.rto);
    else if (m > sk.rto) sk.quickAcks = Math.max(sk.quickAcks, quickMax);
  }
  sk.lrcvTime = now;
}

/** Hands in-order bytes to the application (tcp_queue_rcv + sk_data_ready; the model reads at once). */
function deliver(sk: TcpSocket, data: Uint8Array | null, len: number, _start: number): void {
  sk.rcvNxt += len;
  sk.copied += len;
  tellData(sk, data, len);
}

/** Holds an out-of-order range for reassembly (tcp_data_queue_ofo). */
function queueOoo(sk: TcpSocket, start: number, end: number, data: Uint8Array | null, fin: boolean): void {
  if (end <= start && !fin) return;
  // Keep sorted, merge overlapping / adjacent ranges (tcp_data_queue_ofo).
  const piece = { start, end, data };
  let i = 0;
  while (i < sk.ooo.length && sk.ooo[i]!.end < start) i++;
  const r = sk.ooo[i];
  if (r === undefined || r.start > end) {
    if (sk.ooo.length === 0) sk.ooo = [{ start, end, pieces: [piece], fin }];
    else sk.ooo.splice(i, 0, { start, end, pieces: [piece], fin });
    sk.oooBytes += end - start;
    return;
  }
  // Overlap with r (and possibly later ranges): add only the uncovered parts, then merge ranges.
  if (start < r.start) {
    r.pieces.unshift({ start, end: r.start, data: data === null ? null : data.subarray(0, r.start - start) });
    sk.oooBytes += r.start - start;
    r.start = start;
  }
  if (end > r.end) {
    const from = r.end;
    r.pieces.push({ start: from, end, data: data === null ? null : data.subarray(from - start) });
    sk.oooBytes += end - from;
    r.end = end;
  }
  r.fin = r.fin || fin;
  while (i + 1 < sk.ooo.length && sk.ooo[i + 1]!.start <= r.end) {
    const nx = sk.ooo[i + 1]!;
    // Overlap between r's new tail and nx: drop nx's covered pieces.
    for (const p of nx.pieces) {
      if (p.end <= r.end) {
        sk.oooBytes -= p.end - p.start;
        continue;
      }
      if (p.start < r.end) {
        sk.oooBytes -= r.end - p.start;
        r.pieces.push({ start: r.end, end: p.end, data: p.data === null ? null : p.data.subarray(r.end - p.start) });
      } else r.pieces.push(p);
      r.end = p.end;
    }
    r.end = Math.max(r.end, nx.end);
    r.fin = r.fin || nx.fin;
    sk.ooo.splice(i + 1, 1);
  }
}

/** tcp_ofo_queue: move now-in-order ranges to the application. */
function drainOoo(sk: TcpSocket): void {
  while (sk.ooo.length > 0 && sk.ooo[0]!.start <= sk.rcvNxt) {
    const r = sk.ooo.shift()!;
    sk.oooBytes -= r.end - r.start;
    for (const p of r.pieces) {
      if (p.end <= sk.rcvNxt) continue;
      const cut = sk.rcvNxt - p.start;
      const d = p.data === null ? null : cut > 0 ? p.data.subarray(cut) : p.data;
      deliver(sk, d, p.end - sk.rcvNxt, sk.rcvNxt);
    }
    if (r.fin && sk.rcvNxt === r.end) finArrived(sk);
  }
  if (sk.ooo.length === 0) sk.oooBytes = 0;
}

/** tcp_event_data_recv grows the window only for segments of at least this many bytes (Linux 6.x). */
const GROW_WINDOW_MIN_LEN = 128;

/**
 * tcp_grow_window: open rcv_ssthresh by 2·advmss per in-order segment of ≥ 128 bytes, up to the clamp
 * (the truesize test of "Check #2" is not modelled: every such segment counts as a full one).
 */
function growWindow(sk: TcpSocket): void {
  if (sk.rcvSsthresh < sk.windowClamp) sk.rcvSsthresh = Math.min(sk.rcvSsthresh + 2 * sk.advMss, sk.windowClamp);
}

/** tcp_rcv_space_adjust (dynamic right-sizing): grow the receive buffer to 2× what the app reads per RTT. */
function rcvSpaceAdjust(sk: TcpSocket): void {
  const now = sk.sim.now;
  const rtt = sk.srtt > 0 ? sk.srtt : sk.cfg.rtoInit;
  if (now - sk.rcvqTime < rtt) return;
  const copied = sk.copied - sk.rcvqSeq;
  if (copied > sk.rcvqSpace) {
    let rcvwin = 2 * copied + 16 * sk.advMss;
    const grow = (rcvwin * (copied - sk.rcvqSpace)) / Math.max(sk.rcvqSpace, 1);
    rcvwin += 2 * grow;
    const rcvbuf = Math.min(Math.floor(rcvwin * 2), sk.cfg.rmemMax);
    if (rcvbuf > sk.rcvBuf) {
      sk.rcvBuf = rcvbuf;
      sk.windowClamp = rcvSpace(sk);
    }
    sk.rcvqSpace = copied;
  }
  sk.rcvqSeq = sk.copied;
  sk.rcvqTime = now;
}

/** __tcp_ack_snd_check: ACK now, or arm the delayed ACK. */
function ackSndCheck(sk: TcpSocket): void {
  if (!sk.ackPending || sk.state === 'TIME_WAIT') return;
  const quick = sk.quickAcks > 0 && !sk.pingpong;
  if (sk.ackNow || quick || sk.ooo.length > 0 || sk.rcvNxt - sk.rcvWup > sk.rcvMss) {
    sendAck(sk);
    return;
  }
  if (sk.delackAt === Infinity) {
    // tcp_send_delayed_ack: ato, bounded by TCP_DELACK_MAX and (interactive) by the RTT.
    let ato = sk.ato;
    if (ato > sk.cfg.delackMin) {
      let max = sk.cfg.delackMax;
      if (sk.srtt > 0) max = Math.min(max, Math.max(sk.srtt, sk.cfg.delackMin));
      ato = Math.min(ato, max);
    }
    sk.delackAt = sk.sim.now + Math.round(ato);
    armTimer(sk);
  }
}
