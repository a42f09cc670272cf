// transport/tcp/cc — congestion control modules (Linux struct tcp_congestion_ops). Layer: transport (imports core types).
// Mirrors net/ipv4/tcp_cong.c (tcp_slow_start, tcp_cong_avoid_ai, Reno) and net/ipv4/tcp_cubic.c
// (CUBIC, RFC 9438) with Linux's constants: beta = 717/1024, C = 0.4 (bic_scale 41), fast
// convergence and TCP-friendliness on, initial_ssthresh 0 (infinite). cwnd is in segments as in Linux.
// Arithmetic is in doubles and seconds instead of the kernel's fixed point (BICTCP_HZ = 10 bits),
// so cwnd trajectories match the kernel's shape, not bit for bit. HyStart (on by default in Linux) is
// not modelled: slow start ends only at the first loss or at ssthresh.
import type { TimeNs } from '../../core/time.js';

/** The part of a socket a congestion control module reads and writes (tcp_sock fields). */
export interface CcState {
  /** snd_cwnd in segments. */
  cwnd: number;
  /** snd_ssthresh in segments (TCP_INFINITE_SSTHRESH until the first reduction). */
  ssthresh: number;
  /** snd_cwnd_cnt: ACKed segments counted toward the next +1 in congestion avoidance. */
  cwndCnt: number;
  /** The socket's module: a shared stateless one until the first call that needs state (IdleCubic). */
  cc: CongestionControl;
  /** CUBIC's delay_min, ns (0: no sample yet), kept by the socket so an idle CUBIC needs no object. */
  ccDelayMin: TimeNs;
}

/**
 * snd_ssthresh before any reduction: 0x7fffffff as in Linux (a small integer for V8, where Infinity
 * made the field a boxed double in every socket); above any cwnd, so every comparison reads as infinity.
 */
export const TCP_INFINITE_SSTHRESH = 0x7fffffff;

/** Names of the selectable algorithms (net.ipv4.tcp_congestion_control). */
export type CongestionAlgorithm = 'cubic' | 'reno';

/** One congestion control instance per socket. */
export interface CongestionControl {
  readonly name: CongestionAlgorithm;
  /** ssthresh after a loss (called on entering recovery or loss). */
  ssthresh(s: CcState, now: TimeNs): number;
  /** cong_avoid: `acked` segments were newly ACKed while cwnd-limited, outside recovery. */
  congAvoid(s: CcState, acked: number, now: TimeNs): void;
  /** An RTT sample (pkts_acked), ns. */
  rttSample(s: CcState, rtt: TimeNs): void;
  /** CA_EVENT_LOSS: an RTO fired. */
  onRto(s: CcState): void;
  /** CA_EVENT_TX_START: first transmission after the flight drained to zero. */
  onTxStart(now: TimeNs, idleSince: TimeNs): void;
}

/** tcp_slow_start: grow cwnd by `acked` up to ssthresh; returns the ACKs left over for avoidance. */
export function tcpSlowStart(s: CcState, acked: number): number {
  const cwnd = Math.min(s.cwnd + acked, s.ssthresh);
  acked -= cwnd - s.cwnd;
  s.cwnd = cwnd;
  return acked;
}

/** tcp_cong_avoid_ai: +1 segment per `w` segments ACKed. */
export function tcpCongAvoidAi(s: CcState, w: number, acked: number): void {
  if (s.cwndCnt >= w) {
    s.cwndCnt = 0;
    s.cwnd++;
  }
  s.cwndCnt += acked;
  if (s.cwndCnt >= w) {
    const delta = Math.floor(s.cwndCnt / w);
    s.cwndCnt -= delta * w;
    s.cwnd += delta;
  }
}

/** TCP Reno / NewReno window rules (tcp_reno_ssthresh, tcp_reno_cong_avoid): no state of its own, one shared by every socket. */
export class RenoCc implements CongestionControl {
  get name(): 'reno' {
    return 'reno';
  }
  ssthresh(s: CcState): number {
    return Math.max(s.cwnd >> 1, 2);
  }
  congAvoid(s: CcState, acked: number): void {
    if (s.cwnd <= s.ssthresh) {
      acked = tcpSlowStart(s, acked);
      if (acked === 0) return;
    }
    tcpCongAvoidAi(s, s.cwnd, acked);
  }
  rttSample(): void {}
  onRto(): void {}
  onTxStart(): void {}
}

const BETA = 717 / 1024;
const CUBIC_C = 0.4;

/** bictcp_acked's delay_min: the least RTT sample (a zero sample is taken over by the next). */
function cubicRttSample(s: CcState, rtt: TimeNs): void {
  if (s.ccDelayMin === 0 || rtt < s.ccDelayMin) s.ccDelayMin = rtt;
}

/**
 * CUBIC as in tcp_cubic.c (bictcp_update, bictcp_recalc_ssthresh, bictcp_cwnd_event). A socket holds
 * the shared IdleCubic until its first loss or congestion-avoidance step (a request/response
 * connection never gets there); delay_min is the socket's (ccDelayMin).
 */
export class CubicCc implements CongestionControl {
  private lastMaxCwnd = 0;
  private epochStart: TimeNs = -1;
  private originPoint = 0;
  private k = 0; // seconds
  private ackCnt = 0;
  private tcpCwnd = 0;
  private cnt = 0;

  ssthresh(s: CcState): number {
    this.epochStart = -1;
    // Fast convergence: release bandwidth faster when the last max was not reached.
    if (s.cwnd < this.lastMaxCwnd) this.lastMaxCwnd = (s.cwnd * (1 + BETA)) / 2;
    else this.lastMaxCwnd = s.cwnd;
    return Math.max(Math.floor(s.cwnd * BETA), 2);
  }
  congAvoid(s: CcState, acked: number, now: TimeNs): void {
    if (s.cwnd <= s.ssthresh) {
      acked = tcpSlowStart(s, acked);
      if (acked === 0) return;
    }
    this.update(s, acked, now);
    tcpCongAvoidAi(s, this.cnt, acked);
  }
  private update(s: CcState, acked: number, now: TimeNs): void {
    const cwnd = s.cwnd;
    this.ackCnt += acked;
    if (this.epochStart < 0) {
      this.epochStart = now;
      this.ackCnt = acked;
      this.tcpCwnd = cwnd;
      if (this.lastMaxCwnd <= cwnd) {
        this.k = 0;
        this.originPoint = cwnd;
      } else {
        this.k = Math.cbrt((this.lastMaxCwnd - cwnd) / CUBIC_C);
        this.originPoint = this.lastMaxCwnd;
      }
    }
    // t is the time since the epoch plus the minimum RTT (target one RTT ahead, as the kernel does).
    const t = (now - this.epochStart + s.ccDelayMin) / 1e9;
    const target = this.originPoint + CUBIC_C * Math.pow(t - this.k, 3);
    let cnt = target > cwnd ? cwnd / (target - cwnd) : 100 * cwnd;
    if (this.lastMaxCwnd === 0 && cnt > 20) cnt = 20; // the initial growth is no slower than Reno's
    // TCP friendliness: follow the Reno-equivalent window when it is larger.
    const delta = (cwnd * (1 + BETA)) / (3 * (1 - BETA)); // cwnd / α, α = 3(1−β)/(1+β)
    if (this.ackCnt > delta && delta > 0) {
      const n = Math.floor(this.ackCnt / delta);
      this.ackCnt -= n * delta;
      this.tcpCwnd += n;
    }
    if (this.tcpCwnd > cwnd) {
      const maxCnt = cwnd / (this.tcpCwnd - cwnd);
      if (cnt > maxCnt) cnt = maxCnt;
    }
    this.cnt = Math.max(Math.floor(cnt), 2);
  }
  get name(): 'cubic' {
    return 'cubic';
  }
  rttSample(s: CcState, rtt: TimeNs): void {
    cubicRttSample(s, rtt);
  }
  onRto(): void {
    // bictcp_reset on CA_EVENT_LOSS (ssthresh was already taken by tcp_enter_loss).
    this.epochStart = -1;
    this.ackCnt = 0;
    this.tcpCwnd = 0;
    this.cnt = 0;
  }
  onTxStart(now: TimeNs, idleSince: TimeNs): void {
    // bictcp_cwnd_event: shift the epoch by the idle time so the cubic curve does not jump.
    if (this.epochStart >= 0 && now > idleSince) this.epochStart += now - idleSince;
  }
}

/**
 * A fresh CUBIC's behaviour without its object (shared): until the first loss (ssthresh, onRto) or
 * congestion-avoidance step a CUBIC instance's state is its initial one (an RTT sample goes to the
 * socket's ccDelayMin; CA_EVENT_TX_START moves no epoch before one started), so the socket makes its
 * own CubicCc there and hands the call to it: the same results as an instance made at connect.
 */
class IdleCubic implements CongestionControl {
  get name(): 'cubic' {
    return 'cubic';
  }
  private own(s: CcState): CongestionControl {
    const cc = new CubicCc();
    s.cc = cc;
    return cc;
  }
  ssthresh(s: CcState, now: TimeNs): number {
    return this.own(s).ssthresh(s, now);
  }
  congAvoid(s: CcState, acked: number, now: TimeNs): void {
    this.own(s).congAvoid(s, acked, now);
  }
  rttSample(s: CcState, rtt: TimeNs): void {
    cubicRttSample(s, rtt);
  }
  onRto(s: CcState): void {
    this.own(s).onRto(s);
  }
  onTxStart(): void {}
}
const IDLE_CUBIC = new IdleCubic();
const RENO = new RenoCc();

/** A new socket's congestion control by name (shared until it needs state of its own: IdleCubic, RenoCc). */
export function newCongestionControl(alg: CongestionAlgorithm): CongestionControl {
  switch (alg) {
    case 'cubic':
      return IDLE_CUBIC;
    case 'reno':
      return RENO;
    default: {
      const never: never = alg;
      throw new Error(`unknown congestion control ${String(never)}`);
    }
  }
}

/**
 * The congestion control a socket in TIME_WAIT holds instead of its own (one per algorithm, shared):
 * the kernel's inet_timewait_sock has none, and nothing in TIME_WAIT sends data, so any call is a bug.
 */
class ReleasedCc implements CongestionControl {
  constructor(readonly name: CongestionAlgorithm) {}
  ssthresh(): number {
    return released(this.name);
  }
  congAvoid(): void {
    released(this.name);
  }
  rttSample(): void {
    released(this.name);
  }
  onRto(): void {
    released(this.name);
  }
  onTxStart(): void {
    released(this.name);
  }
}
function released(name: string): never {
  throw new Error(`${name} congestion control used by a socket in TIME_WAIT`);
}
const RELEASED: Record<CongestionAlgorithm, CongestionControl> = { cubic: new ReleasedCc('cubic'), reno: new ReleasedCc('reno') };

/** The shared stand-in for `alg` a TIME_WAIT socket keeps (see ReleasedCc). */
export function releasedCongestionControl(alg: CongestionAlgorithm): CongestionControl {
  return RELEASED[alg];
}
