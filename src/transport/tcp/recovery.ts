// transport/tcp/recovery — loss recovery: the SACK scoreboard, marking segments lost, entering and
// leaving fast recovery, PRR, and the loss state after an RTO. Layer: transport (imports wire types and
// sibling tcp/ files). Mirrors net/ipv4/tcp_input.c (tcp_sacktag_write_queue, tcp_fastretrans_alert,
// tcp_enter_recovery, tcp_cwnd_reduction, tcp_enter_loss, tcp_is_cwnd_limited), RFC 6675 (IsLost,
// simplified), RFC 6937 (PRR-SSRB) and gVisor tcp/sack_scoreboard.go, sack_recovery.go, reno_recovery.go.
// Not modelled: RACK/TLP, F-RTO, DSACK and undo.
import type { TimeNs } from '../../core/time.js';
import type { TcpHeader } from '../../wire/types.js';
import { TCP_INFINITE_SSTHRESH as TCP_INFINITE_SSTHRESHImported } from './cc.js';
import type { TcpSocket } from './socket.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const TCP_INFINITE_SSTHRESH = TCP_INFINITE_SSTHRESHImported;
const recoveryOfHere = recoveryOf;

/**
 * What loss recovery keeps (tcp_sock's high_seq, prior_cwnd, prr_delivered, prr_out, retrans_stamp,
 * total_retrans): made on a socket's first recovery, RTO or retransmission (`recoveryOf`), so the many
 * connections that never lose a segment carry one null field instead of six.
 */
export class RecoveryState {
  /** snd_nxt when recovery or loss began: the ACK that ends it. */
  highSeq = 0;
  prrDelivered = 0;
  prrOut = 0;
  priorCwnd = 0;
  /** When the first of the current run of RTO retransmissions was sent (ETIMEDOUT is counted from it). */
  retransStamp: TimeNs = 0;
  /** Segments retransmitted over the connection's life (tcpi_total_retrans). */
  totalRetrans = 0;
}

/** The socket's recovery state, made on first use. */
export function recoveryOf(sk: TcpSocket): RecoveryState {
  return (sk.rec ??= new RecoveryState());
}

/** tcp_sacktag_write_queue: mark SACKed segments; returns the number newly SACKed (input.ts calls it only for a list that may hold SACK blocks). */
export function processSack(sk: TcpSocket, t: TcpHeader): number {
  let blocks: [number, number][] | null = null;
  for (const o of t.options) if (o.kind === 'sack') blocks = o.blocks;
  if (blocks === null) return 0;
  let newly = 0;
  for (const [ws, we] of blocks) {
    const s = sk.sndUna + ((ws - ((sk.iss + sk.sndUna) >>> 0)) | 0);
    const e = sk.sndUna + ((we - ((sk.iss + sk.sndUna) >>> 0)) | 0);
    if (e <= sk.sndUna || e > sk.sndNxt || s >= e) continue; // DSACK / invalid: ignored
    for (let i = sk.rtxHead; i < sk.rtx.length; i++) {
      const seg = sk.rtx[i]!;
      if (seg.start >= e) break;
      if (seg.sacked || seg.start < s || seg.end > e) continue;
      seg.sacked = true;
      sk.sackedOut++;
      newly++;
      if (seg.lost) {
        seg.lost = false;
        sk.lostOut--;
      }
      if (seg.inRetrans) {
        seg.inRetrans = false;
        sk.retransOut--;
      }
    }
  }
  return newly;
}

/** RFC 6675 IsLost (simplified): an un-SACKed segment with ≥ dupthresh SACKed segments above it. */
function markLostBySack(sk: TcpSocket): void {
  let above = 0;
  for (let i = sk.rtx.length - 1; i >= sk.rtxHead; i--) {
    const s = sk.rtx[i]!;
    if (s.sacked) above++;
    else if (above >= sk.cfg.reordering && !s.lost && !s.inRetrans) {
      s.lost = true;
      sk.lostOut++;
    }
  }
}

/** Marks the first un-SACKed segment lost (tcp_mark_head_lost with one segment; NewReno). */
function markHeadLost(sk: TcpSocket): void {
  const s = sk.rtx[sk.rtxHead];
  if (s !== undefined && !s.lost && !s.sacked && !s.inRetrans) {
    s.lost = true;
    sk.lostOut++;
  }
}

/** tcp_fastretrans_alert + tcp_cong_control (PRR in recovery, cong_avoid otherwise). */
export function congestionControl(sk: TcpSocket, advanced: boolean, delivered: number, priorInFlight: number, ack: number): void {
  const now = sk.sim.now;
  switch (sk.caState) {
    case 'open': {
      const dupthresh = sk.cfg.reordering;
      const trigger = sk.sackOk ? sk.sackedOut >= dupthresh : sk.dupAcks >= dupthresh;
      if (trigger && sk.packetsOut > 0) {
        // tcp_enter_recovery + tcp_init_cwnd_reduction.
        sk.layer.counters[sk.sackOk ? 'TCPSackRecovery' : 'TCPRenoRecovery']++;
        sk.caState = 'recovery';
        const r = recoveryOfHere(sk);
        r.highSeq = sk.sndNxt;
        r.priorCwnd = sk.cwnd;
        sk.ssthresh = sk.cc.ssthresh(sk, now);
        r.prrDelivered = 0;
        r.prrOut = 0;
        if (sk.sackOk) markLostBySack(sk);
        markHeadLost(sk);
        prrUpdate(sk, delivered, priorInFlight);
        return;
      }
      if (advanced && isCwndLimitedNow(sk)) sk.cc.congAvoid(sk, Math.max(delivered, 1), now);
      return;
    }
    case 'recovery': {
      if (ack >= sk.rec!.highSeq) {
        // tcp_end_cwnd_reduction: cwnd = ssthresh.
        if (sk.ssthresh !== TCP_INFINITE_SSTHRESH) sk.cwnd = sk.ssthresh;
        sk.caState = 'open';
        sk.dupAcks = 0;
        return;
      }
      if (sk.sackOk) markLostBySack(sk);
      if (advanced) markHeadLost(sk); // NewReno partial ACK: the next hole is lost too
      prrUpdate(sk, delivered, priorInFlight);
      return;
    }
    case 'loss': {
      if (ack >= sk.rec!.highSeq) {
        sk.caState = 'open';
        sk.dupAcks = 0;
      }
      if (advanced) sk.cc.congAvoid(sk, Math.max(delivered, 1), now);
      return;
    }
    default: {
      const never: never = sk.caState;
      throw new Error(`bad ca state ${String(never)}`);
    }
  }
}

/** tcp_cwnd_reduction (RFC 6937 PRR-SSRB). */
function prrUpdate(sk: TcpSocket, delivered: number, _priorInFlight: number): void {
  if (delivered <= 0) delivered = 0;
  const inFlight = sk.inFlight;
  const delta = sk.ssthresh - inFlight;
  const r = sk.rec!;
  r.prrDelivered += delivered;
  let sndcnt: number;
  if (delta < 0) {
    sndcnt = Math.ceil((sk.ssthresh * r.prrDelivered) / Math.max(r.priorCwnd, 1)) - r.prrOut;
  } else {
    sndcnt = Math.min(delta, Math.max(r.prrDelivered - r.prrOut, delivered) + 1);
  }
  sndcnt = Math.max(sndcnt, r.prrOut === 0 ? 1 : 0); // force the fast retransmit on entry
  sk.cwnd = Math.max(inFlight + sndcnt, 1);
}

/** tcp_is_cwnd_limited. */
function isCwndLimitedNow(sk: TcpSocket): boolean {
  const limited = sk.cwnd < sk.ssthresh ? sk.cwnd < 2 * sk.maxPacketsOut : sk.isCwndLimited;
  sk.isCwndLimited = false;
  sk.maxPacketsOut = sk.packetsOut;
  return limited;
}

/** tcp_enter_loss: ssthresh from CC, cwnd 1, every un-SACKed segment lost. */
export function enterLoss(sk: TcpSocket): void {
  if (sk.caState !== 'loss' || sk.backoff === 0) {
    sk.ssthresh = sk.cc.ssthresh(sk, sk.sim.now);
    sk.cc.onRto(sk);
  }
  for (let i = sk.rtxHead; i < sk.rtx.length; i++) {
    const s = sk.rtx[i]!;
    if (s.inRetrans) {
      s.inRetrans = false;
      sk.retransOut--;
    }
    if (!s.sacked && !s.lost) {
      s.lost = true;
      sk.lostOut++;
    }
  }
  sk.cwnd = sk.inFlight + 1;
  sk.cwndCnt = 0;
  sk.caState = 'loss';
  recoveryOfHere(sk).highSeq = sk.sndNxt;
  sk.dupAcks = 0;
}
