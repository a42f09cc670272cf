// link/channel — a full-duplex point-to-point medium with rate, propagation delay and a drop-tail
// queue per direction (ns-3 PointToPointChannel + DropTailQueue; Linux: a NIC with a pfifo qdisc of
// `txqueuelen` packets on a wire). Layer: link (imports core, packet).
// One event per frame per direction: the transmitter computes when serialization of the frame ends
// (it starts when the previous frame's ends) and schedules the arrival at end + delay. The queue
// holds frames whose serialization has not started; a frame that finds `queueLimit` waiting is dropped.
import type { Simulator } from '../core/simulator.js';
import { f64Hi as f64HiImported, f64Lo as f64LoImported, f64Of as f64OfImported } from '../core/f64-words.js';
import type { TimeNs } from '../core/time.js';
import { skbLength as skbLengthImported } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import type { NicDevice } from './nic.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const skbLength = skbLengthImported;
const f64Lo = f64LoImported;
const f64Hi = f64HiImported;
const f64Of = f64OfImported;

/** Per-direction link properties. */
export interface ChannelConfig {
  /** Bits per second. */
  rateBps: number;
  /** One-way propagation delay, ns. */
  delayNs: TimeNs;
  /** Frames that may wait for the wire (txqueuelen; Linux default 1000). */
  queueLimit: number;
}

/**
 * Transmit side of one direction of a channel, held by the NIC it transmits from (NicDevice.transmit
 * calls `send` on it): a frame's send then reads the NIC, this and its queue, not the channel object
 * nor a config object of their own (cold, one link of a thousand, when the frame comes).
 */
export class Transmitter {
  /**
   * When the wire is free (the last queued frame's serialization ends), as its double's two 32-bit words
   * (core/f64-words): a double field is a heap number of its own, one more line read per frame where the
   * transmitter is cold (one link of a thousand); the words sit in the object's first line. 0 at first.
   */
  private busyLo = 0;
  private busyHi = 0;
  /** The direction's ChannelConfig, copied. */
  readonly rateBps: number;
  readonly delayNs: TimeNs;
  readonly queueLimit: number;
  /**
   * Start times of the `qLen` frames still waiting, oldest first: the oldest as its double's two words
   * (qFirstLo/qFirstHi), the others in a ring of `qLen - 1` times from `qHead` in a Float64Array (a
   * number array held them boxed, a heap number per queued frame), grown by doubling. The oldest apart:
   * a busy wire mostly has one frame waiting, and `waiting` then reads no line of the typed array
   * (its header and its data: ~2 LL misses a request where the transmitter is cold).
   */
  private q: Float64Array;
  private qHead: number;
  private qLen: number;
  private qFirstLo: number;
  private qFirstHi: number;
  constructor(
    cfg: ChannelConfig,
    readonly from: NicDevice,
    public to: NicDevice | null,
  ) {
    this.rateBps = cfg.rateBps;
    this.delayNs = cfg.delayNs;
    this.queueLimit = cfg.queueLimit;
    // Declared, then set here (stored twice): the first queued frame moves `qHead` mid-run, and a field
    // V8 still took for a constant would take the optimized code that inlined send with it.
    this.q = new Float64Array(8);
    this.qHead = 0;
    this.qLen = 0;
    this.qFirstLo = 0;
    this.qFirstHi = 0;
  }
  /** When the wire is free: the end of the last queued frame's serialization (TIME_ZERO before any). */
  get busyUntil(): TimeNs {
    return f64Of(this.busyLo, this.busyHi);
  }
  /**
   * Frames still waiting now (their serialization has not started). Reads the clock itself, as
   * `pushStart` takes the time from busyUntil (and noteLater's post is staged): a double handed to a
   * call V8 does not inline is a new heap number each time, three per queued frame.
   */
  waiting(): number {
    const now = this.from.sim.now;
    while (this.qLen > 0 && f64Of(this.qFirstLo, this.qFirstHi) <= now) {
      // (the ring's oldest, if any, becomes the first)
      if (--this.qLen > 0) {
        const q = this.q;
        const t = q[this.qHead]!;
        this.qFirstLo = f64Lo(t);
        this.qFirstHi = f64Hi(t);
        this.qHead = (this.qHead + 1) & (q.length - 1);
      }
    }
    return this.qLen;
  }
  /** Queues the start time of the frame just queued (busyUntil before its serialization is added). */
  pushStart(): void {
    const n = this.qLen - 1; // (the ring's times)
    if (n < 0) {
      this.qFirstLo = this.busyLo;
      this.qFirstHi = this.busyHi;
      this.qLen = 1;
      return;
    }
    let q = this.q;
    if (n === q.length) {
      // Full: unrolled into one twice as long, oldest first from 0.
      const g = new Float64Array(q.length * 2);
      for (let k = 0; k < n; k++) g[k] = q[(this.qHead + k) & (q.length - 1)]!;
      this.q = q = g;
      this.qHead = 0;
    }
    q[(this.qHead + n) & (q.length - 1)] = f64Of(this.busyLo, this.busyHi);
    this.qLen++;
  }
  /** The start times waiting, oldest first (tests). */
  queued(): number[] {
    if (this.qLen === 0) return [];
    const out: number[] = [f64Of(this.qFirstLo, this.qFirstHi)];
    for (let k = 0; k < this.qLen - 1; k++) out.push(this.q[(this.qHead + k) & (this.q.length - 1)]!);
    return out;
  }

  /**
   * Queues a frame from `from` toward the other end; with `copyAtArrival`, `pkt` is a flood's template
   * (NicDevice.xmitFloodCopy) and the other end receives a copy of it made as it arrives.
   */
  send(pkt: Packet, len: number, copyAtArrival: boolean): void {
    const from = this.from;
    const sim = from.sim;
    const now = sim.now;
    const busy = f64Of(this.busyLo, this.busyHi);
    if (busy > now && this.waiting() >= this.queueLimit) {
      from.drop(pkt, 'queue-full');
      return;
    }
    const start = busy > now ? busy : now;
    if (start > now) this.pushStart(); // (start is busyUntil)
    // Serialization time of the frame plus Ethernet preamble/SFD (8), FCS (4) and inter-frame gap (12)
    // is what occupies the wire; a frame shorter than the 60-byte minimum is padded on the wire.
    const wireBytes = (len < 60 ? 60 : len) + 24;
    const end = start + Math.round((wireBytes * 8 * 1e9) / this.rateBps);
    this.busyLo = f64Lo(end);
    this.busyHi = f64Hi(end);
    // tcpdump sees a frame when the qdisc hands it to the driver (dev_hard_start_xmit): now when the
    // wire is idle, else when its serialization starts (one extra event only for queued frames).
    if (start === now) from.noteWire(pkt, len);
    else {
      sim.postTime[0] = start; // postAt(start, …) without a boxed time
      sim.postAtStaged(noteLater, from, pkt);
    }
    sim.postAt(end + this.delayNs, copyAtArrival ? arriveCopy : arrive, this, pkt);
  }
}

/** The medium joining two NICs. */
export class Channel {
  private readonly ab: Transmitter;
  private readonly ba: Transmitter;

  constructor(
    readonly sim: Simulator,
    readonly a: NicDevice,
    readonly b: NicDevice,
    cfgAB: ChannelConfig,
    cfgBA: ChannelConfig = cfgAB,
  ) {
    this.ab = new Transmitter(cfgAB, a, b);
    this.ba = new Transmitter(cfgBA, b, a);
    a.attach(this, this.ab);
    b.attach(this, this.ba);
  }

  /** Queues a frame from `from` (one of the two ends) toward the other end: Transmitter.send of its direction. */
  send(from: NicDevice, pkt: Packet, len: number, copyAtArrival: boolean): void {
    (from === this.a ? this.ab : this.ba).send(pkt, len, copyAtArrival);
  }
}

function noteLater(from: NicDevice, pkt: Packet): void {
  from.noteWire(pkt, skbLength(pkt));
}

function arrive(tx: Transmitter, pkt: Packet): void {
  const to = tx.to;
  if (to !== null) to.receive(pkt, skbLength(pkt));
}

/** A flood's frame arrives: the receiver gets its own copy of the template, made now. */
function arriveCopy(tx: Transmitter, template: Packet): void {
  const to = tx.to;
  if (to !== null) to.receive(template.floodCopy(), skbLength(template));
}
