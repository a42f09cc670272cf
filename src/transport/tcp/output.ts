// transport/tcp/output — building and sending segments: the established-state segment, the
// advertised window, SACK blocks, the send loop (cwnd, rwnd, Nagle), retransmitting one segment and
// the lost ones, pure ACKs. Layer: transport (imports wire, packet and sibling tcp/ files).
// Mirrors net/ipv4/tcp_output.c (tcp_transmit_skb, __tcp_select_window, tcp_write_xmit,
// tcp_cwnd_restart, tcp_retransmit_skb, tcp_xmit_retransmit_queue, tcp_send_ack) and gVisor tcp/snd.go.
// Not modelled: pacing, TSO/GSO, send-buffer limits, forced PSH inside one long write.
import { Packet, Recycler, takeSegment as takeSegmentImported } from '../../packet/packet.js';
import { ipv4Header as ipv4HeaderImported } from '../../wire/ipv4.js';
import { IP_DF as IP_DFImported, IpProto as IpProtoImported, TcpFlag as TcpFlagImported, type Ipv4, type TcpHeader, type TcpOption } from '../../wire/types.js';
import { MS as MSImported } from './config.js';
import { establishedOptions as establishedOptionsImported, MAX_SACK_BLOCKS as MAX_SACK_BLOCKSImported, MAX_SACK_BLOCKS_WITH_TS as MAX_SACK_BLOCKS_WITH_TSImported, ownTsOptions as ownTsOptionsImported } from './options.js';
import { takeQueue as takeQueueImported, TxSeg } from './segment.js';
import { recoveryOf as recoveryOfImported } from './recovery.js';
import { rcvSpace as rcvSpaceImported, sendSyn as sendSynImported } from './setup.js';
import type { TcpLayer } from './layer.js';
import type { TcpSocket } from './socket.js';
import { armTimer as armTimerImported, currentRto as currentRtoImported } from './timers.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const takeSegment = takeSegmentImported;
// (and classes / a record's value, read per segment; packet.ts and segment.ts do not import this module)
const RECYCLER_TCP = Recycler.TCP;
const TxSegClass = TxSeg;
const ipv4Header = ipv4HeaderImported;
const IP_DF = IP_DFImported;
const IpProto = IpProtoImported;
const TcpFlag = TcpFlagImported;
const MS = MSImported;
const establishedOptions = establishedOptionsImported;
const MAX_SACK_BLOCKS = MAX_SACK_BLOCKSImported;
const MAX_SACK_BLOCKS_WITH_TS = MAX_SACK_BLOCKS_WITH_TSImported;
const ownTsOptions = ownTsOptionsImported;
const takeQueue = takeQueueImported;
const recoveryOf = recoveryOfImported;
const rcvSpace = rcvSpaceImported;
const sendSyn = sendSynImported;
const armTimer = armTimerImported;
const currentRto = currentRtoImported;
const tcpSegmentStagedHere = tcpSegmentStaged;
const buildPacketHere = buildPacket;
const outputHere = output;
const transmitHere = transmit;
const tsNowHere = tsNow;
const emitHere = emit;
const freeSpaceHere = freeSpace;
const windowForHere = windowFor;
const sackBlocksHere = sackBlocks;
const queueSegHere = queueSeg;
const retransmitHere = retransmit;
const retransmitLostHere = retransmitLost;

/** What tcpSegmentStaged reads as its sequence [0] and acknowledgment [1] numbers. */
const SEQ_ACK = new Float64Array(2);

/**
 * One TCP segment's packet, socket-free (the part of tcp_transmit_skb, tcp_v4_send_reset and
 * tcp_v4_timewait_ack that writes the headers): IPv4 with DF (TCP always does path MTU discovery,
 * IP_PMTUDISC_WANT) and TTL 64, then the TCP header. `seq`/`ack` are the wire's 32-bit values,
 * `window` the raw field value. `options` null: the caller writes the options next, into the list the
 * segment owns (`pkt.tcp.options`: a reused segment's list, else an empty one; options.ts ownTsOptions).
 */
export function tcpSegment(
  src: Ipv4,
  dst: Ipv4,
  tos: number,
  id: number,
  srcPort: number,
  dstPort: number,
  seq: number,
  ack: number,
  flags: number,
  window: number,
  options: TcpHeader['options'] | null,
  len: number,
  payload: Uint8Array | null,
  flowId: number,
): Packet {
  SEQ_ACK[0] = seq;
  SEQ_ACK[1] = ack;
  return tcpSegmentStagedHere(src, dst, tos, id, srcPort, dstPort, flags, window, options, len, payload, flowId);
}

/**
 * tcpSegment with its sequence and acknowledgment numbers written to SEQ_ACK[0] and [1] just before (no
 * other call between): tcpSegment is not inlined into its callers, and a 32-bit number above 2^30 handed
 * to a call is a new heap number (three in four segments' seq and ack).
 */
export function tcpSegmentStaged(
  src: Ipv4,
  dst: Ipv4,
  tos: number,
  id: number,
  srcPort: number,
  dstPort: number,
  flags: number,
  window: number,
  options: TcpHeader['options'] | null,
  len: number,
  payload: Uint8Array | null,
  flowId: number,
): Packet {
  const seq = SEQ_ACK[0]!;
  const ack = SEQ_ACK[1]!;
  let pkt = takeSegment();
  if (pkt === null) {
    pkt = new Packet();
    pkt.ip = ipv4Header(IpProto.TCP, src, dst, IP_DF, tos, 64, id);
    pkt.tcp = { srcPort, dstPort, seq, ack, flags, window, checksum: null, urgent: 0, options: options ?? NO_OPTIONS };
  } else {
    // A segment given back where it ended (packet.ts, the ownership rule): renewed, its records
    // rewritten whole with the values a new one gets above.
    // Its IP and TCP records stay in it (Packet.renewKeepingIpTcp: storing them back into the old
    // packet was a write barrier each).
    const ip = pkt.ip!;
    const tcp = pkt.tcp!;
    pkt.renewKeepingIpTcp();
    ip.tos = tos;
    ip.totalLength = 0;
    ip.id = id;
    ip.flags = IP_DF;
    ip.fragOffset = 0;
    ip.ttl = 64;
    ip.protocol = IpProto.TCP;
    ip.checksum = null;
    ip.src = src >>> 0;
    ip.dst = dst >>> 0;
    ip.options = null;
    tcp.srcPort = srcPort;
    tcp.dstPort = dstPort;
    tcp.seq = seq;
    tcp.ack = ack;
    tcp.flags = flags;
    tcp.window = window;
    tcp.checksum = null;
    tcp.urgent = 0;
    if (options !== null) tcp.options = options;
  }
  pkt.payloadLength = len;
  if (payload !== null) pkt.payload = payload; // (null in a new or renewed packet: a stored pointer is a write barrier)
  pkt.flowId = flowId;
  pkt.recycler = RECYCLER_TCP;
  return pkt;
}

/** The options of a new segment whose caller writes them (tcpSegment with null): none yet, shared. */
const NO_OPTIONS: TcpOption[] = Object.freeze([]) as unknown as TcpOption[];

/** Builds a socket's segment (offsets `seq` from the ISN; the ACK field from rcv_nxt when ACK is set). */
export function buildPacket(sk: TcpSocket, flags: number, seq: number, len: number, payload: Uint8Array | null, window: number, options: TcpHeader['options'] | null): Packet {
  // ip_select_ident: a connected socket numbers its segments from inet_id; the SYN-ACK goes out of
  // the request socket through ip_build_and_send_pkt, which writes ID 0.
  const synAck = (flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK);
  const id = synAck ? 0 : sk.inetId;
  if (!synAck) sk.inetId = (sk.inetId + 1) & 0xffff;
  SEQ_ACK[0] = (sk.iss + seq) >>> 0;
  SEQ_ACK[1] = flags & TcpFlag.ACK ? (sk.irs + sk.rcvNxt) >>> 0 : 0;
  return tcpSegmentStagedHere(sk.localAddr, sk.remoteAddr, 0, id, sk.localPort, sk.remotePort, flags, window, options, len, payload, sk.flowId);
}

/** ip_queue_xmit for one built segment; false when there is no route (OutNoRoutes). */
export function output(sk: TcpSocket, pkt: Packet): boolean {
  return transmitHere(sk.layer, pkt);
}

/** Hands a segment to IP (ip_local_out), counting OutSegs (and OutNoRoutes when there is no route). */
export function transmit(layer: TcpLayer, pkt: Packet): boolean {
  layer.counters.OutSegs++;
  if (!layer.stack.ipLocalOut(pkt)) {
    if ((layer.stack.sendError ?? 'no-route') === 'no-route') layer.counters.OutNoRoutes++;
    return false;
  }
  return true;
}

/**
 * Current TSval: a 1 ms clock plus the per-peer offset (tcp_time_stamp_ts + ts_off), as a signed 32-bit
 * value (a small integer to V8; a uint32 at or above 2^31 was a heap number made at each call, half the
 * connections' segments). Every user reads it modulo 2^32: the options builders store `>>> 0`, RTT
 * samples take `(tsNow - tsecr) | 0`.
 */
export function tsNow(sk: TcpSocket): number {
  return (Math.floor(sk.sim.now / MS) + sk.tsOffset) | 0;
}

/** Sends one established-state segment [seq, seq+len) (+FIN), carrying ACK and the current window. */
export function emit(sk: TcpSocket, flags: number, seq: number, len: number, payload: Uint8Array | null, withSack: boolean): void {
  const sack = withSack && sk.sackOk && sk.ooo.length > 0 ? sackBlocksHere(sk) : null;
  // (null: NOP NOP TS, written below into the segment's own list)
  const opts = flags & TcpFlag.RST ? [] : sack === null && sk.tsOk ? null : establishedOptions(sk.tsOk, tsNowHere(sk), sk.tsRecent, sack);
  const window = flags & TcpFlag.RST ? 0 : selectWindow(sk);
  const pkt = buildPacketHere(sk, flags, seq, len, payload, window, opts);
  if (opts === null) {
    const t = pkt.tcp!;
    t.options = ownTsOptions(t.options, tsNowHere(sk), sk.tsRecent);
  }
  outputHere(sk, pkt);
  if (flags & TcpFlag.ACK) ackSent(sk);
}

/** tcp_event_ack_sent: any segment carrying ACK clears the pending delayed ACK. */
function ackSent(sk: TcpSocket): void {
  sk.ackPending = false;
  sk.ackNow = false;
  sk.delackAt = Infinity;
  if (sk.quickAcks > 0) sk.quickAcks--;
}

/** tcp_select_window / __tcp_select_window: the window field to advertise (never shrinking). */
function selectWindow(sk: TcpSocket): number {
  const ws = sk.rcvWscale;
  const win = windowForHere(freeSpaceHere(sk), Math.max(0, sk.rcvWup + sk.rcvWnd - sk.rcvNxt), ws);
  sk.rcvWnd = win;
  sk.rcvWup = sk.rcvNxt;
  return Math.floor(win / (1 << ws));
}

/** __tcp_select_window's free space: the buffer's half up to the clamp, less out-of-order bytes, at most rcv_ssthresh. */
export function freeSpace(sk: TcpSocket): number {
  let free = Math.min(rcvSpace(sk), sk.windowClamp) - sk.oooBytes;
  if (free < 0) free = 0;
  if (free > sk.rcvSsthresh) free = sk.rcvSsthresh;
  return free;
}

/**
 * The window to advertise, in bytes, from the free space and what the last advertisement still
 * promises (`cur`, never taken back), rounded to the scale `ws`. A TIME_WAIT record's re-ACK uses it too.
 */
export function windowFor(free: number, cur: number, ws: number): number {
  let win = free;
  if (ws > 0) {
    if ((win >> ws) << ws !== win) win = ((win >> ws) + 1) << ws;
  } else if (win > 65535) win = 65535;
  if (win < cur) win = ws > 0 ? Math.ceil(cur / (1 << ws)) * (1 << ws) : cur;
  return Math.min(win, 65535 * (1 << ws)); // (ws ≤ 14: 1 << ws is exact)
}

/** SACK blocks: the range holding the latest out-of-order segment first, then the others, newest first. */
export function sackBlocks(sk: TcpSocket): [number, number][] {
  const max = sk.tsOk ? MAX_SACK_BLOCKS_WITH_TS : MAX_SACK_BLOCKS;
  const out: [number, number][] = [];
  let first = -1;
  for (let i = 0; i < sk.ooo.length; i++) {
    const r = sk.ooo[i]!;
    if (sk.lastOooSeq >= r.start && sk.lastOooSeq < r.end) first = i;
  }
  const w = (x: number): number => (sk.irs + x) >>> 0;
  if (first >= 0) out.push([w(sk.ooo[first]!.start), w(sk.ooo[first]!.end)]);
  for (let i = sk.ooo.length - 1; i >= 0 && out.length < max; i--) {
    if (i === first) continue;
    const r = sk.ooo[i]!;
    out.push([w(r.start), w(r.end)]);
  }
  return out;
}

/** Payload bytes for [start, end) from the write queue; null when the application gave only lengths. */
function payloadFor(sk: TcpSocket, start: number, end: number): Uint8Array | null {
  const q = sk.q;
  const writes = q.length >> 1;
  let i = sk.qHead;
  while (i < writes && (q[2 * i] as number) <= start) i++;
  if (i >= writes) return null;
  const s0 = writeStart(sk, i);
  const d0 = q[2 * i + 1] as Uint8Array | null;
  if (end <= (q[2 * i] as number)) {
    if (d0 === null) return null;
    // A whole write in one segment (a request, a response): its own array, no view made per segment
    // (sent bytes are never written to; the peer's view of them was one of the same buffer anyway).
    return start === s0 && end - s0 === d0.length ? d0 : d0.subarray(start - s0, end - s0);
  }
  // Spans several writes: copy into one buffer (zeros where a write had no bytes).
  let any = false;
  for (let j = i; j < writes && writeStart(sk, j) < end; j++) if (q[2 * j + 1] !== null) any = true;
  if (!any) return null;
  const out = new Uint8Array(end - start);
  for (let j = i; j < writes && writeStart(sk, j) < end; j++) {
    const d = q[2 * j + 1] as Uint8Array | null | undefined;
    if (d === null || d === undefined) continue;
    const sj = writeStart(sk, j);
    const a = Math.max(start, sj);
    const b = Math.min(end, q[2 * j] as number);
    out.set(d.subarray(a - sj, b - sj), a - start);
  }
  return out;
}

/** Where write i of the queue starts (where the one before ends; the first at qBase). */
function writeStart(sk: TcpSocket, i: number): number {
  return i === 0 ? sk.qBase : (sk.q[2 * i - 2] as number);
}

/** True when `end` closes an application write (PSH, as tcp_push marks the last skb of a sendmsg). */
function endsWrite(sk: TcpSocket, end: number): boolean {
  const q = sk.q;
  const writes = q.length >> 1;
  let i = sk.qHead;
  while (i < writes && (q[2 * i] as number) < end) i++;
  return i < writes && q[2 * i] === end;
}

/** __tcp_push_pending_frames → tcp_write_xmit: send what cwnd, rwnd and Nagle allow. */
export function pushPendingFrames(sk: TcpSocket): void {
  if (!canSendData(sk)) return;
  const now = sk.sim.now;
  if (sk.packetsOut === 0 && (sk.sndNxt < sk.writeSeq || (sk.finQueued && !sk.finSent))) {
    // tcp_cwnd_restart after idle (RFC 5681 4.1), and CA_EVENT_TX_START.
    if (sk.cfg.slowStartAfterIdle && sk.establishedAt >= 0 && now - sk.lastSendTime > sk.rto && sk.lastSendTime > 0) {
      const restart = Math.min(sk.cfg.initialCwnd, sk.cwnd);
      let cwnd = sk.cwnd;
      let delta = now - sk.lastSendTime;
      while ((delta -= sk.rto) > 0 && cwnd > restart) cwnd >>= 1;
      sk.ssthresh = Math.max(sk.ssthresh, (3 * sk.cwnd) >> 2); // tcp_current_ssthresh
      sk.cwnd = Math.max(cwnd, restart);
    }
    sk.cc.onTxStart(now, sk.lastSendTime);
  }
  if (sk.caState !== 'open') retransmitLostHere(sk);
  let sent = 0;
  for (;;) {
    const avail = sk.writeSeq - sk.sndNxt;
    if (avail <= 0) break;
    if (sk.inFlight >= sk.cwnd) {
      sk.isCwndLimited = true;
      break;
    }
    const len = Math.min(sk.mss, avail);
    if (sk.sndNxt + len > sk.sndUna + sk.sndWnd) break; // tcp_snd_wnd_test: whole segment must fit
    if (len < sk.mss && !sk.noDelay && sk.packetsOut > 0 && sk.sndSml > sk.sndUna) break; // Nagle (Minshall)
    sendNew(sk, len);
    sent++;
  }
  // FIN alone when all data is out (tcp_send_fin when nothing is left to piggyback on).
  if (sk.finQueued && !sk.finSent && sk.sndNxt === sk.writeSeq && sk.finSeq === sk.sndNxt) {
    sendNew(sk, 0);
    sent++;
  }
  if (sent > 0 && sk.packetsOut > sk.maxPacketsOut) sk.maxPacketsOut = sk.packetsOut;
  // Window closed with data waiting and nothing in flight: zero-window probes (persist timer).
  if (sk.packetsOut === 0 && sk.sndNxt < sk.writeSeq && sk.rtoAt === Infinity) {
    sk.probing = true;
    sk.rtoAt = now + currentRto(sk);
    armTimer(sk);
  }
}

/** States in which new data and FIN may be sent. */
function canSendData(sk: TcpSocket): boolean {
  switch (sk.state) {
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
      const never: never = sk.state;
      throw new Error(`bad state ${String(never)}`);
    }
  }
}

/** Sends the next new segment of `len` bytes (FIN piggybacked when it ends the stream). */
function sendNew(sk: TcpSocket, len: number): void {
  const seq = sk.sndNxt;
  const end = seq + len;
  const fin = sk.finQueued && end === sk.finSeq;
  let flags = TcpFlag.ACK;
  if (len > 0 && endsWrite(sk, end)) flags |= TcpFlag.PSH;
  if (fin) flags |= TcpFlag.FIN;
  const payload = len > 0 ? payloadFor(sk, seq, end) : null;
  const seg = queueSegHere(sk, seq, end + (fin ? 1 : 0), false, fin);
  sk.packetsOut++;
  sk.sndNxt = seg.end;
  if (fin) sk.finSent = true;
  if (len < sk.mss) sk.sndSml = end;
  if (sk.caState === 'recovery') sk.rec!.prrOut++;
  emitHere(sk, flags, seq, len, payload, true);
  dataSent(sk);
}

/**
 * Appends a segment to the retransmission queue. A queue that is empty and holds only its last
 * acknowledged segment (the SYN's before a request, the request's before its FIN) gets that segment
 * back, rewritten: nothing reads a queue below rtxHead, and an acknowledged segment is referenced by
 * the queue alone. So a connection of a request and a response makes one TxSeg and one list per side
 * instead of one each per segment.
 */
export function queueSeg(sk: TcpSocket, start: number, end: number, syn: boolean, fin: boolean): TxSeg {
  const rtx = sk.rtx;
  if (rtx.length === 1 && sk.rtxHead === 1) {
    const seg = rtx[0]!;
    seg.reset(start, end, syn, fin, sk.sim);
    sk.rtxHead = 0;
    return seg;
  }
  if (rtx.length === 0) {
    // (a closed socket's queue of one, given back: segment.ts takeQueue)
    const spare = takeQueue();
    if (spare !== null) {
      const seg = spare[0]!;
      seg.reset(start, end, syn, fin, sk.sim);
      sk.rtx = spare;
      sk.rtxHead = 0;
      return seg;
    }
  }
  const seg = new TxSegClass(start, end, syn, fin, sk.sim.now);
  if (rtx.length === 0) sk.rtx = [seg];
  else rtx.push(seg);
  return seg;
}

/** tcp_event_data_sent: pingpong detection and the retransmit timer. */
function dataSent(sk: TcpSocket): void {
  const now = sk.sim.now;
  if (sk.lrcvTime > 0 && now - sk.lrcvTime < sk.ato) sk.pingpong = true;
  sk.lastSendTime = now;
  if (sk.rtoAt === Infinity || sk.probing) {
    sk.probing = false;
    sk.rtoAt = now + currentRto(sk);
    armTimer(sk);
  }
}

/** tcp_retransmit_skb: resend one segment from the queue. */
export function retransmit(sk: TcpSocket, seg: TxSeg): void {
  sk.layer.counters.RetransSegs++;
  const rec = recoveryOf(sk);
  rec.totalRetrans++;
  if (!seg.inRetrans) {
    seg.inRetrans = true;
    sk.retransOut++;
  }
  seg.everRetrans = true;
  seg.sentAt = sk.sim.now;
  if (sk.caState === 'recovery') rec.prrOut++;
  if (seg.syn) {
    sendSyn(sk);
    return;
  }
  const dataEnd = seg.fin ? seg.end - 1 : seg.end;
  const start = Math.max(seg.start, sk.sndUna);
  const len = dataEnd - start;
  let flags = TcpFlag.ACK;
  if (len > 0 && endsWrite(sk, dataEnd)) flags |= TcpFlag.PSH;
  if (seg.fin) flags |= TcpFlag.FIN;
  emitHere(sk, flags, start, Math.max(len, 0), len > 0 ? payloadFor(sk, start, dataEnd) : null, true);
  sk.lastSendTime = sk.sim.now;
}

/** tcp_xmit_retransmit_queue: resend segments marked lost while cwnd allows. */
export function retransmitLost(sk: TcpSocket): void {
  if (sk.lostOut === 0) return;
  for (let i = sk.rtxHead; i < sk.rtx.length; i++) {
    if (sk.inFlight >= sk.cwnd) {
      sk.isCwndLimited = true;
      return;
    }
    const s = sk.rtx[i]!;
    if (s.lost && !s.inRetrans && !s.sacked) {
      if (s === sk.rtx[sk.rtxHead] && sk.caState === 'recovery') sk.layer.counters.TCPFastRetrans++;
      retransmitHere(sk, s);
    }
  }
}

/** Sends a pure ACK now (tcp_send_ack). */
export function sendAck(sk: TcpSocket): void {
  emitHere(sk, TcpFlag.ACK, sk.sndNxt, 0, null, true);
}
