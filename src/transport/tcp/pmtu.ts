// transport/tcp/pmtu — what a connection does when an ICMP "fragmentation needed" quotes one of its
// segments: the route learns the smaller path MTU, the socket's MSS follows it, and the segments
// already sent that no longer fit are sent again, cut to the new MSS, at once (no RTO, no cwnd
// reduction). Layer: transport (imports sibling tcp/ files).
// Mirrors net/ipv4/tcp_ipv4.c tcp_v4_err (ICMP_FRAG_NEEDED → tcp_v4_mtu_reduced), tcp_output.c
// tcp_sync_mss / tcp_mtu_to_mss, and tcp_input.c tcp_simple_retransmit. Linux re-cuts its skbs when it
// retransmits them (tcp_fragment, then GSO segmentation of the skb at the new MSS); podwire has one
// TxSeg per segment, so a run of consecutive segments that no longer fit is re-cut as one piece of the
// stream: full new-MSS segments, then the remainder (the kernel's boundaries follow its GSO skbs,
// which podwire does not model).
import { TCP_INFINITE_SSTHRESH } from './cc.js';
import { TS_ALIGNED_LEN } from './options.js';
import { retransmitLost } from './output.js';
import { recoveryOf } from './recovery.js';
import { TxSeg } from './segment.js';
import type { TcpSocket } from './socket.js';

/** net.ipv4.tcp_min_snd_mss: the smallest MSS a peer or a path can force on us. */
const TCP_MIN_SND_MSS = 48;

/** tcp_v4_mtu_reduced: the path toward the peer now carries at most `pmtu` bytes. */
export function mtuReduced(sk: TcpSocket, pmtu: number): void {
  if (sk.state === 'CLOSED' || sk.state === 'TIME_WAIT' || sk.state === 'SYN_SENT') return;
  // tcp_sync_mss: tcp_mtu_to_mss clamped by the peer's MSS, then tcp_current_mss's option bytes.
  const mss = Math.max(TCP_MIN_SND_MSS, Math.min(pmtu - 40, sk.peerMss)) - (sk.tsOk ? TS_ALIGNED_LEN : 0);
  if (mss >= sk.mss) return; // icsk_pmtu_cookie: only a smaller MTU changes anything
  sk.mss = mss;
  if (!recut(sk)) return;
  // tcp_simple_retransmit: a loss the network did not cause; the window is left alone.
  if (sk.caState !== 'loss') {
    recoveryOf(sk).highSeq = sk.sndNxt;
    sk.ssthresh = Math.max(sk.ssthresh === TCP_INFINITE_SSTHRESH ? 0 : sk.ssthresh, (sk.cwnd >> 1) + (sk.cwnd >> 2)); // tcp_current_ssthresh
    sk.caState = 'loss';
  }
  retransmitLost(sk);
}

/** Data bytes of a segment (its FIN takes a sequence number, not a byte). */
function dataLen(s: TxSeg): number {
  return s.end - s.start - (s.fin ? 1 : 0) - (s.syn ? 1 : 0);
}

/**
 * Replaces every run of consecutive un-SACKed segments longer than the MSS by segments of at most
 * the MSS covering the same bytes, each marked lost (tcp_mark_skb_lost). True when any was.
 */
function recut(sk: TcpSocket): boolean {
  const out: TxSeg[] = sk.rtx.slice(0, sk.rtxHead);
  let changed = false;
  let i = sk.rtxHead;
  while (i < sk.rtx.length) {
    const s = sk.rtx[i]!;
    if (s.sacked || s.syn || dataLen(s) <= sk.mss) {
      out.push(s);
      i++;
      continue;
    }
    let j = i;
    let fin = false;
    for (; j < sk.rtx.length; j++) {
      const t = sk.rtx[j]!;
      if (t.sacked || t.syn || dataLen(t) <= sk.mss || (j > i && t.start !== sk.rtx[j - 1]!.end)) break;
      forget(sk, t);
      fin = t.fin;
    }
    const start = Math.max(s.start, sk.sndUna);
    const dataEnd = sk.rtx[j - 1]!.end - (fin ? 1 : 0);
    for (let at = start; at < dataEnd; at += sk.mss) {
      const end = Math.min(at + sk.mss, dataEnd);
      const last = end === dataEnd;
      const piece = new TxSeg(at, end + (last && fin ? 1 : 0), false, last && fin, s.sentAt);
      piece.lost = true;
      piece.everRetrans = true;
      sk.packetsOut++;
      sk.lostOut++;
      out.push(piece);
    }
    changed = true;
    i = j;
  }
  if (changed) sk.rtx = out;
  return changed;
}

/** Takes a segment out of the socket's counts before it is replaced. */
function forget(sk: TcpSocket, s: TxSeg): void {
  sk.packetsOut--;
  if (s.lost) sk.lostOut--;
  if (s.inRetrans) sk.retransOut--;
}
