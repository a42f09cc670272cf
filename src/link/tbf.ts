// link/tbf — the token bucket filter (`tc qdisc add dev X root tbf rate R burst B limit L [peakrate P
// minburst M]`, net/sched/sch_tbf.c), what Chaos Mesh's `bandwidth` action installs. Layer: link.
// Tokens are kept as time, as the kernel keeps them: `buffer` is the time to send `burst` bytes at
// `rate`; a frame of len bytes costs l2t(len) = len·8/rate. tbf_dequeue: toks = min(now − t_c +
// tokens, buffer) − l2t(len) (and the same with `peakrate` and `minburst` when given); if both are ≥ 0
// the frame leaves and the bucket is what is left, else a watchdog fires when enough has accrued.
// Frames wait in a byte FIFO of `limit` bytes (the bfifo child); one that does not fit is dropped
// ('qdisc-limit'), as is a frame larger than the bucket (tbf_enqueue's max_size check). The queue is
// what makes the latency grow once the offered load exceeds the rate.
// Not modelled: GSO segmentation of oversize frames, linklayer atm / overhead options.
import type { Simulator } from '../core/simulator.js';
import { skbLength } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import { passOn, type EgressQdisc, type QdiscDevice } from './device.js';
import type { QdiscMatch } from './netem.js';
import type { ChainStage } from './qdisc.js';

/** tbf parameters. */
export interface TbfConfig {
  /** Bits per second. */
  rateBps: number;
  /** Bucket size in bytes (burst / buffer). */
  burstBytes: number;
  /** Bytes that may wait. */
  limitBytes: number;
  /** Peak rate (bits/s) and its bucket (minburst, bytes; typically the MTU), or 0. */
  peakRateBps?: number;
  minburstBytes?: number;
}

/** A tbf on one device's egress. */
export class Tbf implements ChainStage {
  readonly rank = 2;
  next: EgressQdisc | null = null;
  match: QdiscMatch | null = null;
  readonly counters = { sent: 0, dropped: 0, overlimits: 0 };
  private readonly queue: Packet[] = [];
  private head = 0;
  /** Bytes waiting (the bfifo backlog). */
  backlog = 0;
  private readonly bufferNs: number;
  private readonly mtuNs: number;
  private tokens: number;
  private ptokens: number;
  private tc: number;
  private waiting = false;
  private dev: QdiscDevice | null = null;

  constructor(
    readonly cfg: TbfConfig,
    private readonly sim: Simulator,
  ) {
    this.bufferNs = this.l2t(cfg.burstBytes, cfg.rateBps);
    this.mtuNs = cfg.peakRateBps ? this.l2t(cfg.minburstBytes ?? 1514, cfg.peakRateBps) : 0;
    this.tokens = this.bufferNs;
    this.ptokens = this.mtuNs;
    this.tc = sim.now;
  }

  private l2t(len: number, rate: number): number {
    return Math.round((len * 8 * 1e9) / rate);
  }

  /** tbf_enqueue. */
  enqueue(dev: QdiscDevice, pkt: Packet): void {
    if (this.match !== null && !this.match(pkt)) return passOn(this.next, dev, pkt);
    this.dev = dev;
    const len = skbLength(pkt);
    if (len > this.cfg.burstBytes || this.backlog + len > this.cfg.limitBytes) {
      this.counters.dropped++;
      return dev.drop(pkt, 'qdisc-limit');
    }
    this.queue.push(pkt);
    this.backlog += len;
    if (!this.waiting) this.dequeue();
  }

  /** tbf_dequeue, until the bucket runs dry (then the watchdog). */
  dequeue(): void {
    this.waiting = false;
    const dev = this.dev!;
    while (this.head < this.queue.length) {
      const pkt = this.queue[this.head]!;
      const len = skbLength(pkt);
      const now = this.sim.now;
      let toks = Math.min(now - this.tc, this.bufferNs);
      let ptoks = 0;
      if (this.mtuNs > 0) {
        ptoks = Math.min(toks + this.ptokens, this.mtuNs) - this.l2t(len, this.cfg.peakRateBps!);
      }
      toks = Math.min(toks + this.tokens, this.bufferNs) - this.l2t(len, this.cfg.rateBps);
      if (toks >= 0 && ptoks >= 0) {
        this.tc = now;
        this.tokens = toks;
        this.ptokens = ptoks;
        this.head++;
        this.backlog -= len;
        this.counters.sent++;
        passOn(this.next, dev, pkt);
        continue;
      }
      this.counters.overlimits++;
      this.waiting = true;
      this.sim.post(Math.max(-toks, -ptoks), watchdog, this);
      break;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}

function watchdog(t: Tbf): void {
  t.dequeue();
}
