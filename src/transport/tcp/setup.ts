// transport/tcp/setup — connection setup: active and passive open, SYN and SYN-ACK with their
// options, option negotiation, the initial receive window, and the ACKs that complete a handshake.
// Layer: transport (imports wire, packet types and sibling tcp/ files). Mirrors net/ipv4/tcp_output.c
// (tcp_connect, tcp_select_initial_window), tcp_input.c (tcp_rcv_synsent_state_process,
// tcp_conn_request), tcp_minisocks.c (tcp_check_req) and gVisor tcp/connect.go, accept.go.
// Not modelled: simultaneous open, SYN cookies, TCP Fast Open.
import type { Packet } from '../../packet/packet.js';
import { TcpFlag as TcpFlagImported } from '../../wire/types.js';
import { MS as MSImported } from './config.js';
import { ackArrived as ackArrivedImported } from './input.js';
import { LINUX_WSCALE as LINUX_WSCALEImported, ownSynOptions as ownSynOptionsImported, parseSynOptions as parseSynOptionsImported, synOptions as synOptionsImported, TS_ALIGNED_LEN as TS_ALIGNED_LENImported, type SynOptions } from './options.js';
import { buildPacket as buildPacketImported, output as outputImported, pushPendingFrames as pushPendingFramesImported, queueSeg as queueSegImported, sendAck as sendAckImported, tsNow as tsNowImported } from './output.js';
import { setState as setStateImported, tellConnect as tellConnectImported, type TcpSocket } from './socket.js';
import { fail as failImported } from './teardown.js';
import { armRto as armRtoImported, rttSample as rttSampleImported } from './timers.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const TcpFlag = TcpFlagImported;
const MS = MSImported;
const ackArrived = ackArrivedImported;
const LINUX_WSCALE = LINUX_WSCALEImported;
const ownSynOptions = ownSynOptionsImported;
const parseSynOptions = parseSynOptionsImported;
const synOptions = synOptionsImported;
const TS_ALIGNED_LEN = TS_ALIGNED_LENImported;
const buildPacket = buildPacketImported;
const output = outputImported;
const pushPendingFrames = pushPendingFramesImported;
const queueSeg = queueSegImported;
const sendAck = sendAckImported;
const tsNow = tsNowImported;
const setState = setStateImported;
const tellConnect = tellConnectImported;
const fail = failImported;
const armRto = armRtoImported;
const rttSample = rttSampleImported;
const rcvSpaceHere = rcvSpace;
const sendSynHere = sendSyn;
const establishedHere = established;

/** What the SYN or SYN-ACK being handled offered (read before the next one arrives: no record per handshake). */
const synSeen: SynOptions = { mss: null, wscale: null, sackPermitted: false, ts: false, tsval: 0, tsecr: 0 };

/** ipv4_default_advmss: the route's MTU less the IP and TCP headers, at most IP_MAX_MTU's (65535 - 40: lo's 65536 gives 65495). */
function advMssOf(mtu: number | null): number {
  return mtu !== null ? Math.min(mtu, 65535) - 40 : 536;
}

/** Active open (tcp_v4_connect + tcp_connect). */
export function startConnect(sk: TcpSocket): void {
  const layer = sk.layer;
  sk.iss = layer.nextIsn() | 0;
  sk.inetId = layer.nextInetId();
  sk.tsOffset = layer.tsOffsetFor(sk.remoteAddr) | 0;
  const mtu = layer.stack.mtuFor(sk.remoteAddr);
  sk.advMss = advMssOf(mtu);
  initRcvWindow(sk, sk.advMss);
  sk.sndUna = 0;
  sk.sndNxt = 0;
  sk.connectStartedAt = sk.sim.now;
  setState(sk, 'SYN_SENT');
  layer.counters.ActiveOpens++;
  sendSynHere(sk);
}

/** Passive open: a SYN reached a listener; this child answers with SYN-ACK (tcp_conn_request). */
export function startPassive(sk: TcpSocket, syn: Packet): void {
  const layer = sk.layer;
  const t = syn.tcp!;
  const o = parseSynOptions(t.options, synSeen);
  sk.irs = t.seq | 0;
  sk.rcvNxt = 1;
  sk.iss = layer.nextIsn() | 0;
  sk.inetId = layer.nextInetId();
  sk.tsOffset = layer.tsOffsetFor(sk.remoteAddr) | 0;
  const mtu = layer.stack.mtuFor(sk.remoteAddr);
  sk.advMss = advMssOf(mtu);
  negotiate(sk, o, t.window);
  initRcvWindow(sk, sk.advMss - (sk.tsOk ? TS_ALIGNED_LEN : 0));
  sk.connectStartedAt = sk.sim.now;
  setState(sk, 'SYN_RECV');
  sendSynHere(sk);
}

/** Takes the peer's SYN options: SACK, timestamps, window scale, MSS (tcp_parse_options + tcp_sync_mss). */
function negotiate(sk: TcpSocket, o: SynOptions, synWindow: number): void {
  const c = sk.cfg;
  sk.sackOk = c.sack && o.sackPermitted;
  sk.tsOk = c.timestamps && o.ts;
  if (o.ts) sk.tsRecent = o.tsval | 0;
  if (c.windowScaling && o.wscale !== null) {
    sk.sndWscale = o.wscale;
    sk.rcvWscale = LINUX_WSCALE;
  } else {
    sk.sndWscale = 0;
    sk.rcvWscale = 0;
  }
  sk.peerMss = o.mss ?? 536; // RFC 9293 3.7.1: 536 when the option is absent
  sk.mss = Math.min(sk.peerMss, sk.advMss) - (sk.tsOk ? TS_ALIGNED_LEN : 0);
  sk.sndWnd = synWindow; // the window in a SYN is never scaled (RFC 7323 2.2)
}

/** tcp_select_initial_window: round the space down to whole segments, cap at 64 KiB − 1. */
function initRcvWindow(sk: TcpSocket, mssForWindow: number): void {
  let space = rcvSpaceHere(sk);
  if (space > mssForWindow) space -= space % mssForWindow;
  sk.rcvWnd = Math.min(space, 65535);
  sk.rcvSsthresh = sk.rcvWnd;
  sk.windowClamp = rcvSpaceHere(sk);
  sk.rcvqSpace = Math.min(sk.rcvWnd, 10 * sk.advMss);
}

/** tcp_win_from_space with the default scaling ratio (50 % of the buffer is window). */
export function rcvSpace(sk: TcpSocket): number {
  return sk.rcvBuf >> 1;
}

/** Sends (or resends) our SYN or SYN-ACK with its options (tcp_transmit_skb of the SYN, tcp_make_synack). */
export function sendSyn(sk: TcpSocket): void {
  const passive = sk.state === 'SYN_RECV';
  const ts = sk.cfg.timestamps && (!passive || sk.tsOk);
  const sack = sk.cfg.sack && (!passive || sk.sackOk);
  const ws = sk.cfg.windowScaling && (!passive || sk.rcvWscale > 0 || sk.sndWscale > 0) ? LINUX_WSCALE : null;
  // Every feature on (the default): written below into the segment's own list.
  const own = ts && sack && ws !== null;
  const opts = own ? null : synOptions(sk.advMss, ts, ts ? tsNow(sk) : 0, passive ? sk.tsRecent : 0, sack, ws);
  const flags = passive ? TcpFlag.SYN | TcpFlag.ACK : TcpFlag.SYN;
  if (sk.rtx.length === sk.rtxHead) {
    queueSeg(sk, 0, 1, true, false);
    sk.packetsOut = 1;
    sk.sndNxt = 1;
  }
  const pkt = buildPacket(sk, flags, 0, 0, null, Math.min(sk.rcvWnd, 65535), opts);
  if (own) pkt.tcp!.options = ownSynOptions(pkt.tcp!.options, sk.advMss, tsNow(sk), passive ? sk.tsRecent : 0, LINUX_WSCALE);
  if (passive) {
    sk.rcvWup = sk.rcvNxt;
  }
  if (!output(sk, pkt) && !passive) {
    // ip_route_connect failed: connect() returns ENETUNREACH.
    sk.layer.counters.AttemptFails++;
    sk.sim.schedule(0, (s: TcpSocket) => fail(s, 'unreachable'), sk);
    return;
  }
  sk.lastSendTime = sk.sim.now;
  armRto(sk);
}

/** tcp_rcv_synsent_state_process: the SYN-ACK (or RST) answering our SYN. */
export function synSentArrived(sk: TcpSocket, pkt: Packet): void {
  const t = pkt.tcp!;
  const flags = t.flags;
  if (flags & TcpFlag.ACK) {
    const ack = (t.ack - sk.iss) >>> 0;
    if (ack !== 1) {
      if (!(flags & TcpFlag.RST)) sk.layer.sendReset(pkt);
      return;
    }
    if (flags & TcpFlag.RST) {
      sk.layer.counters.AttemptFails++;
      fail(sk, 'refused');
      return;
    }
  } else if (flags & TcpFlag.RST) return;
  if (!(flags & TcpFlag.SYN) || !(flags & TcpFlag.ACK)) return; // simultaneous open not modelled
  const o = parseSynOptions(t.options, synSeen);
  sk.irs = t.seq | 0;
  sk.rcvNxt = 1;
  sk.rcvWup = 1;
  negotiate(sk, o, t.window);
  const syn = sk.rtx[sk.rtxHead]!;
  if (!syn.everRetrans) rttSample(sk, sk.sim.now - syn.sentAt);
  else if (sk.tsOk && o.tsecr !== 0) rttSample(sk, Math.max(0, (tsNow(sk) - o.tsecr) | 0) * MS);
  const synLost = syn.everRetrans;
  // The queue is empty now; it keeps the acknowledged SYN's segment for the first data (queueSeg).
  sk.rtxHead = sk.rtx.length;
  sk.packetsOut = 0;
  sk.retransOut = 0;
  sk.sndUna = 1;
  sk.sndWl1 = 0;
  sk.sndWl2 = 1;
  sk.rtoAt = Infinity;
  sk.backoff = 0;
  establishedHere(sk);
  if (synLost) sk.cwnd = 1; // RFC 6298 5.7 / tcp_init_transfer after a lost SYN
  sk.layer.counters.CurrEstab++;
  // tcp_rcv_synsent_state_process: ACK the SYN-ACK at once (no data yet to piggyback on).
  sendAck(sk);
  tellConnect(sk);
  if (sk.state === 'ESTABLISHED' || sk.state === 'FIN_WAIT_1') pushPendingFrames(sk);
}

/** The handshake is complete (tcp_finish_connect / the SYN_RECV → ESTABLISHED move). */
export function established(sk: TcpSocket): void {
  if (sk.state === 'SYN_RECV') sk.layer.counters.CurrEstab++;
  setState(sk, 'ESTABLISHED');
  sk.establishedAt = sk.sim.now;
  sk.rcvqTime = sk.sim.now;
  if (sk.finQueued) setState(sk, 'FIN_WAIT_1');
}

/**
 * tcp_rcv_state_process in SYN_RECV (tcp_check_req): the ACK that completes a passive open; the child
 * is established and handed to the listener's accept callback. False when the ACK is not for our
 * SYN-ACK (answered with RST).
 */
export function synRecvAckArrived(sk: TcpSocket, pkt: Packet, seq: number, hasData: boolean): boolean {
  const t = pkt.tcp!;
  const ack = sk.sndUna + ((t.ack - ((sk.iss + sk.sndUna) >>> 0)) | 0);
  if (ack !== 1) {
    sk.layer.sendReset(pkt);
    return false;
  }
  ackArrived(sk, pkt, seq, hasData);
  establishedHere(sk);
  const l = sk.listener;
  sk.listener = null;
  if (l !== null) {
    l.pending--;
    sk.layer.counters.PassiveOpens++;
    if (!l.closed) {
      const a = l.acceptor;
      if (a !== null) a.accepted(sk);
      else l.onAccept(sk);
    }
  }
  return true;
}
