// core/far-lanes — the scheduler's sorted lanes beyond the timing wheel's horizon. Layer: core.
import type { SimEvent } from './event.js';

/** An append-only run of events in (time, seq) order, consumed from `head`; its keys sit in FarLanes' arrays. */
class Lane {
  items: SimEvent[] = [];
  head = 0;
}

/** How many sorted lanes there are. */
const LANES = 8;

/**
 * A few sorted lanes for events beyond the wheel's horizon: an event not before the last event of a
 * lane (the latest such lane, else an empty one) is appended to it in O(1) (TIME_WAIT's 60 s, a
 * periodic probe); the scheduler puts one that fits no lane in its far heap. Lengths, tails and
 * heads sit in typed arrays; the lane with the earliest head is cached until a head changes.
 */
export class FarLanes {
  private readonly lanes: Lane[] = [];
  /** Per lane: events pending, time of the last, time and seq of the first (the last three meaningful while pending > 0). */
  private readonly len = new Int32Array(LANES);
  private readonly tail = new Float64Array(LANES);
  readonly headT = new Float64Array(LANES);
  readonly headS = new Float64Array(LANES);
  /** The lane with the earliest head (-1: all empty), valid while `minValid` (set twice: see Scheduler's constructor). */
  private minK = -2;
  private minValid = false;

  constructor() {
    this.minK = -1;
    this.minValid = true;
    for (let i = 0; i < LANES; i++) this.lanes.push(new Lane());
  }

  /**
   * Appends an event due at `time` (its seq larger than every queued one's). Best fit: the lane whose
   * last event is the latest at or before `time`; else an empty lane. False when no lane can take it.
   */
  add(ev: SimEvent, time: number): boolean {
    const len = this.len;
    const tail = this.tail;
    let best = -1;
    let bestTime = -1;
    let empty = -1;
    for (let k = 0; k < LANES; k++) {
      if (len[k] === 0) {
        if (empty < 0) empty = k;
        continue;
      }
      const t = tail[k]!;
      if (t <= time && t > bestTime) {
        best = k;
        bestTime = t;
      }
    }
    if (best < 0) best = empty;
    if (best < 0) return false;
    const lane = this.lanes[best]!;
    if (len[best] === 0) {
      if (lane.head > 0) {
        lane.items.length = 0;
        lane.head = 0;
      }
      this.headT[best] = time;
      this.headS[best] = ev.seq;
      this.minValid = false; // a lane's head changed
    }
    lane.items.push(ev);
    len[best] = len[best]! + 1;
    tail[best] = time;
    return true;
  }

  /** The lane holding the earliest head, or -1 when all lanes are empty. */
  min(): number {
    if (this.minValid) return this.minK;
    const len = this.len;
    const ht = this.headT;
    const hs = this.headS;
    let best = -1;
    let bt = Infinity;
    let bs = 0;
    for (let k = 0; k < LANES; k++) {
      if (len[k] === 0) continue;
      const t = ht[k]!;
      if (t < bt || (t === bt && hs[k]! < bs)) {
        bt = t;
        bs = hs[k]!;
        best = k;
      }
    }
    this.minK = best;
    this.minValid = true;
    return best;
  }

  /** The earliest head (a lane is not empty), left queued. */
  peek(): SimEvent | undefined {
    const lane = this.lanes[this.min()]!;
    return lane.items[lane.head];
  }

  /** Removes and returns the earliest head (a lane is not empty). */
  pop(): SimEvent {
    const k = this.min();
    const lane = this.lanes[k]!;
    this.minValid = false;
    const top = lane.items[lane.head]!;
    lane.items[lane.head++] = undefined as unknown as SimEvent; // no reference kept for the GC
    const left = this.len[k]! - 1;
    this.len[k] = left;
    if (left === 0) {
      lane.items.length = 0;
      lane.head = 0;
    } else {
      const next = lane.items[lane.head]!;
      this.headT[k] = next.time;
      this.headS[k] = next.seq;
      if (lane.head >= 4096 && lane.head * 2 >= lane.items.length) {
        lane.items.splice(0, lane.head);
        lane.head = 0;
      }
    }
    return top;
  }

  /** Keeps the events not cancelled, in order; returns how many. */
  compact(): number {
    this.minValid = false;
    let n = 0;
    for (let k = 0; k < LANES; k++) {
      const l = this.lanes[k]!;
      const items = l.items.slice(l.head).filter((e) => !e.cancelled);
      l.items = items;
      l.head = 0;
      this.len[k] = items.length;
      if (items.length > 0) {
        this.headT[k] = items[0]!.time;
        this.headS[k] = items[0]!.seq;
        this.tail[k] = items[items.length - 1]!.time;
      }
      n += items.length;
    }
    return n;
  }
}
