// link/nic — an Ethernet NIC plugged into a point-to-point Channel (a node's eth0; ns-3
// PointToPointNetDevice, Linux: a physical NIC driver's ndo_start_xmit handing frames to the wire).
// Layer: link (imports core, wire, packet). The NIC owns no qdisc of its own: it is the transmit side of
// its direction of the channel (serialization at the link's rate, propagation delay, the drop-tail
// queue of `queueLimit` frames; link/channel.ts joins two NICs); the capture tap fires when
// serialization of a frame starts.
import type { Simulator } from '../core/simulator.js';
import { f64Hi as f64HiImported, f64Lo as f64LoImported, f64Of as f64OfImported } from '../core/f64-words.js';
import type { TimeNs } from '../core/time.js';
import { skbLength as skbLengthImported } from '../packet/length.js';
import type { Packet } from '../packet/packet.js';
import type { Mac } from '../wire/types.js';
import type { Channel, ChannelConfig } from './channel.js';
import { NetDevice, type EgressQdisc, type QdiscDevice } from './device.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const skbLength = skbLengthImported;
const f64Lo = f64LoImported;
const f64Hi = f64HiImported;
const f64Of = f64OfImported;

export type { EgressQdisc } from './device.js';

/** An Ethernet NIC (a node's eth0) attached to a Channel. */
export class NicDevice extends NetDevice implements QdiscDevice {
  // What a sent frame reads first, right after NetDevice's fields: the qdisc test, then its direction
  // of the wire (when it is free, the rate, the delay, the other end), then what a busy wire's send
  // reads (the limit and the queue). The wire's state was an object of its own (a Transmitter the NIC
  // pointed to): two or three more lines a frame, cold on a link of a thousand (~2 LL misses a request).
  /** The root qdisc in front of the driver (netem), null for the default (the channel's drop-tail queue). */
  qdisc: EgressQdisc | null = null;
  /**
   * When the wire is free (the last queued frame's serialization ends), as its double's two 32-bit words
   * (core/f64-words): a double field is a heap number of its own, one more line read per frame. 0 at first.
   */
  private busyLo = 0;
  private busyHi = 0;
  /** This direction's ChannelConfig, copied when plugged. */
  private rate = 1;
  private delayNs: TimeNs = 0;
  /** The other end of the channel (where a frame sent here arrives), null while unplugged. */
  wireTo: NicDevice | null = null;
  private queueLimit = 0;
  /**
   * Start times of the `qLen` frames still waiting, oldest first: the oldest as its double's two words
   * (qFirstLo/qFirstHi), the others in a ring of `qLen - 1` times from `qHead` in a Float64Array (a
   * number array held them boxed, a heap number per queued frame), grown by doubling. The oldest apart:
   * a busy wire mostly has one frame waiting, and `waiting` then reads no line of the typed array
   * (its header and its data: ~2 LL misses a request where the NIC is cold).
   */
  private q: Float64Array;
  private qHead: number;
  private qLen: number;
  private qFirstLo: number;
  private qFirstHi: number;
  readonly kind = 'ether';
  private channel: Channel | null = null;

  constructor(sim: Simulator, name: string, mac: Mac, mtu = 1500) {
    super(sim, name, mac, mtu);
    // Declared, then set here (stored twice): the first queued frame moves `qHead` mid-run, and a field
    // V8 still took for a constant would take the optimized code that inlined send with it.
    this.q = new Float64Array(8);
    this.qHead = 0;
    this.qLen = 0;
    this.qFirstLo = 0;
    this.qFirstHi = 0;
  }
  /** The channel this NIC is plugged into, or null. */
  get link(): Channel | null {
    return this.channel;
  }
  /** Called by Channel's constructor: frames sent here go to `to` under `cfg`. */
  attach(ch: Channel, cfg: ChannelConfig, to: NicDevice): void {
    this.channel = ch;
    this.rate = cfg.rateBps;
    this.delayNs = cfg.delayNs;
    this.queueLimit = cfg.queueLimit;
    this.wireTo = to;
  }
  /** The link's rate in this direction, bits per second. */
  get rateBps(): number {
    return this.rate;
  }
  xmit(pkt: Packet): void {
    if (!this.up) return this.drop(pkt, 'link-down');
    if (this.qdisc !== null) return this.qdisc.enqueue(this, pkt);
    this.transmit(pkt);
  }
  /**
   * A flood's copy made when it reaches the other end of the channel, not now (NetDevice.xmitFloodCopy):
   * a copy made now would wait out the wire's delay (the underlay's 50 µs) with a thousand others, and
   * a scavenge in that time promotes them all (the big cluster's floods: ~14 MB of the 50 k run's
   * promoted bytes). Only without a qdisc (netem writes the frame it holds).
   */
  override xmitFloodCopy(template: Packet): void {
    if (this.qdisc !== null || this.wireTo === null || this.st !== 0) return this.xmit(template.floodCopy());
    this.send(template, skbLength(template), true);
  }

  /** The qdisc hands the frame to the driver: onto the channel (whose queue and wire the capture follows). */
  transmit(pkt: Packet): void {
    const st = this.st; // (up and carrier: one field, see NetDevice.st)
    if (st !== 0) return this.drop(pkt, (st & 1) !== 0 ? 'link-down' : 'no-carrier');
    if (this.wireTo === null) return this.drop(pkt, 'no-carrier');
    this.send(pkt, skbLength(pkt), false);
  }
  /** Counts the frame and fires the capture tap as its serialization starts. */
  noteWire(pkt: Packet, len: number): void {
    this.noteTx(pkt, len);
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
    const now = this.sim.now;
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
  private pushStart(): void {
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
   * Queues a frame toward the other end; with `copyAtArrival`, `pkt` is a flood's template
   * (xmitFloodCopy) and the other end receives a copy of it made as it arrives.
   */
  send(pkt: Packet, len: number, copyAtArrival: boolean): void {
    const sim = this.sim;
    const now = sim.now;
    const busy = f64Of(this.busyLo, this.busyHi);
    if (busy > now && this.waiting() >= this.queueLimit) {
      this.drop(pkt, 'queue-full');
      return;
    }
    const start = busy > now ? busy : now;
    if (start > now) this.pushStart(); // (start is busyUntil)
    // Serialization time of the frame plus Ethernet preamble/SFD (8), FCS (4) and inter-frame gap (12)
    // is what occupies the wire; a frame shorter than the 60-byte minimum is padded on the wire.
    const wireBytes = (len < 60 ? 60 : len) + 24;
    const end = start + Math.round((wireBytes * 8 * 1e9) / this.rate);
    this.busyLo = f64Lo(end);
    this.busyHi = f64Hi(end);
    // tcpdump sees a frame when the qdisc hands it to the driver (dev_hard_start_xmit): now when the
    // wire is idle, else when its serialization starts (one extra event only for queued frames).
    if (start === now) this.noteTx(pkt, len);
    else {
      sim.postTime[0] = start; // postAt(start, …) without a boxed time
      sim.postAtStaged(noteLater, this, pkt);
    }
    sim.postAt(end + this.delayNs, copyAtArrival ? arriveCopy : arrive, this, pkt);
  }
}

function noteLater(from: NicDevice, pkt: Packet): void {
  from.noteWire(pkt, skbLength(pkt));
}

function arrive(from: NicDevice, pkt: Packet): void {
  const to = from.wireTo;
  if (to !== null) to.receive(pkt, skbLength(pkt));
}

/** A flood's frame arrives: the receiver gets its own copy of the template, made now. */
function arriveCopy(from: NicDevice, template: Packet): void {
  const to = from.wireTo;
  if (to !== null) to.receive(template.floodCopy(), skbLength(template));
}
