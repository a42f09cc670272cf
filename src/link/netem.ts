// link/netem — `tc qdisc add dev X root netem …` (net/sched/sch_netem.c): a qdisc on the egress of
// one device (a NIC or a veth end). Layer: link (imports core, packet, link/). As in Linux, it acts
// before the device transmits: a lost frame is dropped at enqueue (netem_enqueue) and a delayed one
// waits in netem's time-ordered queue (tfifo), so tcpdump on X — which sees a frame only when the
// qdisc hands it to the driver (dev_hard_start_xmit → dev_queue_xmit_nit) — never sees a lost frame,
// sees a delayed one late and a corrupted one corrupted. The other direction is untouched.
//
// netem_enqueue's order, kept here: duplicate? (a clone is enqueued again after the original, with
// duplication off) → loss (random with correlation, Gilbert-Elliott `gemodel`, or 4-state `state`) →
// corrupt (one random bit of the frame flipped) → limit (frames held ≥ limit: drop) → reorder (with
// `gap` N: after N−1 delayed frames, one is sent at once with probability `reorder`) or delay =
// tabledist(latency, jitter, correlation, distribution), plus with `rate` the frame's serialization
// time (len + packetOverhead, in cells if cellSize) after the last held frame.
// Randomness: get_crandom (a correlated 32-bit draw: (v·(2³²−ρ) + last·ρ) >> 32) and
// prandom_u32 from the stream `netem/QUALIFIED-IFNAME[#N]`. Without correlation, loss is a Bernoulli
// draw `next() < p` and a uniform jitter is continuous in [−J, +J] (the kernel's `rnd % 2J − J` in
// nanoseconds has the same law): netem configured with loss, delay and jitter alone draws exactly
// as it always has here.
// A netem installed by a fault may carry a classifier (`match`): as Chaos Mesh's prio qdisc with a
// u32/ipset filter, frames that do not match bypass it (band 0, no delay).
// Not modelled: slot, ECN marking instead of loss, the kernel's reading of a corrupt bit in a GSO
// segment (frames here are at most the MTU).
import type { Rng } from '../core/rng.js';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import { frameLength, skbLength } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import type { Channel } from './channel.js';
import { passOn, type EgressQdisc, type QdiscDevice } from './device.js';
import { netemDistTable, tabledist, type NetemDistName } from './netem-dist.js';
import { corruptFrame } from './netem-corrupt.js';

/** Gilbert-Elliott (`loss gemodel p r 1-h 1-k`): probabilities in [0, 1]. */
export interface GeModel {
  kind: 'gemodel';
  /** Good → bad. */
  p: number;
  /** Bad → good. */
  r: number;
  /** 1−h: loss probability in the bad state. */
  lossBad: number;
  /** 1−k: loss probability in the good state. */
  lossGood: number;
}

/** The 4-state Markov model (`loss state p13 p31 p32 p23 p14`), probabilities in [0, 1]. */
export interface FourStateModel {
  kind: 'state';
  p13: number;
  p31: number;
  p32: number;
  p23: number;
  p14: number;
}

/** netem parameters; probabilities and correlations in [0, 1] (tc's percent / 100). */
export interface NetemConfig {
  /** Probability in [0, 1] that a frame is lost (random model). */
  loss: number;
  delayNs: TimeNs;
  jitterNs: TimeNs;
  delayCorrelation?: number;
  /** Jitter distribution (tc `distribution`); none: uniform. */
  distribution?: NetemDistName | null;
  lossCorrelation?: number;
  /** A Markov loss model instead of `loss`. */
  lossModel?: GeModel | FourStateModel | null;
  duplicate?: number;
  duplicateCorrelation?: number;
  corrupt?: number;
  corruptCorrelation?: number;
  /** Probability a frame is sent at once (reordering); with `gap` N only every N-th frame is eligible. */
  reorder?: number;
  reorderCorrelation?: number;
  gap?: number;
  /** netem `rate` in bits per second (0: none). */
  rateBps?: number;
  packetOverhead?: number;
  cellSize?: number;
  cellOverhead?: number;
  /** Frames netem may hold (tc default 1000). */
  limit?: number;
}

/** A frame filter (a prio band selected by a tc filter): true when the qdisc acts on the frame. */
export type QdiscMatch = (pkt: Packet) => boolean;

const U32 = 4294967296;
const u32Of = (p: number): number => Math.min(U32 - 1, Math.round(p * (U32 - 1)));

/** get_crandom's state (struct crndstate). */
class Crnd {
  last = 0;
  constructor(readonly rho: number) {}
}

/**
 * `tc qdisc replace dev DEV root netem …`: updates DEV's netem in place, or installs one whose draws
 * come from the stream `netem/QUALIFIED-IFNAME`.
 */
export function setNetemOn(dev: QdiscDevice & { qdisc: EgressQdisc | null }, cfg: NetemConfig, sim: Simulator): Netem {
  if (dev.qdisc instanceof Netem) {
    dev.qdisc.configure(cfg);
    return dev.qdisc;
  }
  const n = new Netem(cfg, sim, sim.rng.stream(`netem/${dev.qualifiedName}`));
  dev.qdisc = n;
  return n;
}

/** netem on both ends of a link (each end's egress): what a network-wide `loss`/`jitter` means. */
export function setNetem(ch: Channel, cfg: NetemConfig, sim: Simulator): void {
  setNetemOn(ch.a, cfg, sim);
  setNetemOn(ch.b, cfg, sim);
}

/** True when a netem configuration changes anything. */
export function netemActive(cfg: NetemConfig): boolean {
  return cfg.loss > 0 || cfg.delayNs > 0 || cfg.jitterNs > 0 || (cfg.lossModel ?? null) !== null || (cfg.duplicate ?? 0) > 0 || (cfg.corrupt ?? 0) > 0 || (cfg.reorder ?? 0) > 0 || (cfg.rateBps ?? 0) > 0;
}

/** A netem qdisc on one device's egress. */
export class Netem implements EgressQdisc {
  readonly counters = { lost: 0, delayed: 0, duplicated: 0, corrupted: 0, reordered: 0, overLimit: 0 };
  /** Its place in a fault chain (link/qdisc.ts): after drop filters, before tbf. */
  readonly rank = 1;
  /** The next qdisc in a fault chain (link/qdisc.ts), null: the driver. */
  next: EgressQdisc | null = null;
  /** Only matching frames are impaired (null: all). */
  match: QdiscMatch | null = null;
  cfg!: NetemConfig;
  private delayCor!: Crnd;
  private lossCor!: Crnd;
  private dupCor!: Crnd;
  private corruptCor!: Crnd;
  private reorderCor!: Crnd;
  private table: Int16Array | null = null;
  /** clgstate: 1 good / tx-in-gap, 2 bad / tx-in-burst, 3 lost-in-burst, 4 lost-in-gap. */
  private clg = 1;
  /** Frames delayed since the last reordered one (q->counter). */
  private counter = 0;
  /** Frames held (sch->q.qlen). */
  private held = 0;
  /** time_to_send of the last held frame (the rate's reference point). */
  private lastSend = 0;
  private dupOff = false;
  /** The device this netem sits on (one netem per device and filter). */
  private dev: QdiscDevice | null = null;

  constructor(
    cfg: NetemConfig,
    private readonly sim: Simulator,
    private readonly rng: Rng,
  ) {
    this.configure(cfg);
  }

  /** netem_change: new parameters; the Markov state starts over in the good state (as tc change does). */
  configure(cfg: NetemConfig): void {
    this.cfg = cfg;
    const cor = (c: number | undefined): Crnd => {
      const s = new Crnd(u32Of(c ?? 0));
      if (s.rho !== 0) s.last = this.rng.uint32(); // init_crandom
      return s;
    };
    this.delayCor = cor(cfg.delayCorrelation);
    this.lossCor = cor(cfg.lossCorrelation);
    this.dupCor = cor(cfg.duplicateCorrelation);
    this.corruptCor = cor(cfg.corruptCorrelation);
    this.reorderCor = cor(cfg.reorderCorrelation);
    this.table = cfg.distribution ? netemDistTable(cfg.distribution) : null;
    this.clg = 1;
  }

  /** get_crandom: a 32-bit draw correlated with the previous one of the same state. */
  private crandom(s: Crnd): number {
    const value = this.rng.uint32();
    if (s.rho === 0) return value;
    const rho = s.rho + 1;
    const answer = Math.floor((value * (U32 - rho) + s.last * rho) / U32);
    s.last = answer;
    return answer;
  }

  /** netem_enqueue. */
  enqueue(dev: QdiscDevice, pkt: Packet): void {
    if (this.match !== null && !this.match(pkt)) return passOn(this.next, dev, pkt);
    this.dev = dev;
    const c = this.cfg;
    const dup = !this.dupOff && c.duplicate !== undefined && c.duplicate > 0 && u32Of(c.duplicate) >= this.crandom(this.dupCor);
    if (this.lossEvent()) {
      this.counters.lost++;
      return dev.drop(pkt, 'fault-loss');
    }
    const copy = dup ? pkt.clone() : null;
    if (c.corrupt !== undefined && c.corrupt > 0 && u32Of(c.corrupt) >= this.crandom(this.corruptCor)) {
      pkt = pkt.clone(); // skb_unshare: a retransmission of the same segment stays intact
      corruptFrame(pkt, frameLength(pkt), this.rng);
      this.counters.corrupted++;
    }
    this.hold(dev, pkt);
    if (copy !== null) {
      this.counters.duplicated++;
      this.dupOff = true; // q->duplicate = 0 while the clone is enqueued
      this.enqueue(dev, copy);
      this.dupOff = false;
    }
  }

  /** The limit, then reorder or tfifo_enqueue with the delay. */
  private hold(dev: QdiscDevice, pkt: Packet): void {
    const c = this.cfg;
    if (this.held >= (c.limit ?? 1000)) {
      this.counters.overLimit++;
      return dev.drop(pkt, 'qdisc-limit');
    }
    const gap = c.gap ?? 0;
    const reorder = c.reorder ?? 0;
    if (gap === 0 || this.counter < gap - 1 || u32Of(reorder) < this.crandom(this.reorderCor)) {
      const rate = c.rateBps ?? 0;
      if (rate === 0 && c.delayNs === 0 && c.jitterNs === 0) return passOn(this.next, dev, pkt);
      let delay = this.delay();
      let now = this.sim.now;
      if (rate > 0) {
        if (this.held > 0) {
          // The last held frame is the reference point: its remaining wait counts toward this one's delay.
          delay = Math.max(0, delay - (this.lastSend - now));
          now = this.lastSend;
        }
        delay += this.packetTimeNs(skbLength(pkt), rate);
      }
      const at = now + delay;
      if (this.held === 0 || at > this.lastSend) this.lastSend = at;
      this.counter++;
      this.held++;
      this.counters.delayed++;
      this.sim.postAt(at < this.sim.now ? this.sim.now : at, dequeue, this, pkt);
      return;
    }
    // Reordering: this frame goes to the head of the queue, out at once.
    this.counter = 0;
    this.counters.reordered++;
    passOn(this.next, dev, pkt);
  }

  /** tabledist(latency, jitter, delay_cor, dist), in ns. */
  private delay(): number {
    const c = this.cfg;
    if (c.jitterNs === 0) return c.delayNs;
    if (this.table === null && this.delayCor.rho === 0) {
      // Uniform, uncorrelated: a continuous draw in [−J, +J], clamped at 0 (the same law as the kernel's).
      const j = (this.rng.next() * 2 - 1) * c.jitterNs;
      return Math.max(0, Math.round(c.delayNs + j));
    }
    return Math.max(0, tabledist(Math.round(c.delayNs), Math.round(c.jitterNs), this.crandom(this.delayCor), this.table));
  }

  /** packet_time_ns: serialization time at netem's rate, with packet and cell overheads. */
  private packetTimeNs(len: number, rateBps: number): number {
    const c = this.cfg;
    let l = len + (c.packetOverhead ?? 0);
    const cell = c.cellSize ?? 0;
    if (cell > 0) {
      let cells = Math.floor(l / cell);
      if (l > cells * cell) cells++;
      l = cells * (cell + (c.cellOverhead ?? 0));
    }
    return Math.round((Math.max(0, l) * 8 * 1e9) / rateBps);
  }

  /** loss_event: the configured loss model. */
  private lossEvent(): boolean {
    const c = this.cfg;
    const m = c.lossModel ?? null;
    if (m === null) {
      if (!(c.loss > 0)) return false;
      if (this.lossCor.rho === 0) return this.rng.next() < c.loss;
      return u32Of(c.loss) >= this.crandom(this.lossCor);
    }
    return m.kind === 'gemodel' ? this.lossGilbElliott(m) : this.loss4State(m);
  }

  /** loss_gilb_ell: the transition first, then a loss draw with the probability of the state it was in. */
  private lossGilbElliott(m: GeModel): boolean {
    const r = this.rng;
    if (this.clg === 1) {
      if (r.uint32() < u32Of(m.p)) this.clg = 2;
      return r.uint32() < u32Of(m.lossGood);
    }
    if (r.uint32() < u32Of(m.r)) this.clg = 1;
    return r.uint32() > u32Of(1 - m.lossBad);
  }

  /** loss_4state: 1 tx in gap, 2 tx in burst, 3 lost in burst, 4 lost in gap (isolated). */
  private loss4State(m: FourStateModel): boolean {
    const rnd = this.rng.uint32();
    const a1 = u32Of(m.p13);
    const a2 = u32Of(m.p31);
    const a3 = u32Of(m.p32);
    const a4 = u32Of(m.p14);
    const a5 = u32Of(m.p23);
    switch (this.clg) {
      case 1:
        if (rnd < a4) {
          this.clg = 4;
          return true;
        }
        if (rnd < a1 + a4) {
          this.clg = 3;
          return true;
        }
        return false;
      case 2:
        if (rnd < a5) {
          this.clg = 3;
          return true;
        }
        return false;
      case 3:
        if (rnd < a3) this.clg = 2;
        else if (rnd < a2 + a3) this.clg = 1;
        else return true;
        return false;
      default:
        this.clg = 1;
        return false;
    }
  }

  /** netem_dequeue: the frame's time has come. */
  release(pkt: Packet): void {
    this.held--;
    passOn(this.next, this.dev!, pkt);
  }
}

/** The scheduled dequeue of one held frame. */
function dequeue(n: Netem, pkt: Packet): void {
  n.release(pkt);
}
