// core/scheduler — the future event list. Layer: core.
// Mirrors ns-3's Scheduler: events ordered by (time, insertion sequence), so two events at the same
// instant run in the order they were scheduled; cancel is a flag checked when the event is popped.
import type { TimeNs } from './time.js';

/** A callback taking up to two arguments, so hot paths pass data without allocating closures. */
export type EventFn = (a: any, b: any) => void;

/** Pending foreground events of one scheduler (not cancelled, not yet run), and cancelled events still queued. */
interface Live {
  foreground: number;
  cancelled: number;
}

/**
 * One scheduled event. `cancel()` marks it; the scheduler skips it when popped (lazy cancel). A
 * background event (periodic housekeeping such as the kubelet's probes, and what it causes) does not
 * keep a run without a duration alive: see Simulator.run.
 */
export class SimEvent {
  cancelled = false;
  /** Taken off the queue to run (a later cancel() changes nothing). */
  popped = false;
  /**
   * Posted (Scheduler.post): nobody outside the scheduler holds the event, so after it runs the
   * simulator hands it back to the scheduler's free list and a later post reuses the object.
   */
  pooled = false;
  constructor(
    public time: TimeNs,
    public seq: number,
    public fn: EventFn,
    public a: unknown,
    public b: unknown,
    public background: boolean,
    private readonly live: Live,
  ) {}
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.popped) return;
    if (!this.background) this.live.foreground--;
    this.live.cancelled++;
  }
}

/** An append-only run of events in (time, seq) order, consumed from `head`; its ends' keys cached as numbers. */
class Lane {
  items: SimEvent[] = [];
  head = 0;
  /** Time of the last event (meaningful while the lane is not empty). */
  tailTime = 0;
  /** Time and seq of items[head] (meaningful while the lane is not empty). */
  headTime = 0;
  headSeq = 0;
}

/** Cancelled events tolerated in the queue before it is compacted (and never more than half of it). */
const COMPACT_MIN = 4096;

/** How many sorted lanes sit beside the heap. */
const LANES = 8;

/** Most free events kept for reuse. */
const FREE_MAX = 4096;

function noop(): void {}

/**
 * The future event list: a binary min-heap keyed by (time, seq) with the comparison inline, plus a few
 * sorted lanes. Timers with one fixed delay (TIME_WAIT's 60 s, a request timeout, a periodic probe) are
 * scheduled in non-decreasing time order, so each such stream is appended to a lane (the lane whose last
 * event is the latest not after the new one) in O(1) instead of deepening the heap: tens of thousands of
 * pending TIME_WAIT timers otherwise make every pop walk ~16 heap levels of cache misses. Events that fit
 * no lane go to the heap. The earliest event is the least of the heap's top and the lanes' heads, so the
 * order is exactly (time, seq) whatever the split.
 */
export class Scheduler {
  private readonly h: SimEvent[] = [];
  /** The heap's keys beside its events (time and seq of h[i] at i): sifting reads these, not the event objects. */
  private ht = new Float64Array(256);
  private hs = new Float64Array(256);
  private readonly lanes: Lane[] = [];
  private n = 0;
  private seq = 0;
  private readonly live: Live = { foreground: 0, cancelled: 0 };
  /** Posted events that have run, ready for reuse. */
  private readonly free: SimEvent[] = [];
  /** peek() found the earliest event and nothing was inserted since: `peekedLane` says where it is (null: the heap). */
  private peeked = false;
  private peekedLane: Lane | null = null;

  constructor() {
    for (let i = 0; i < LANES; i++) this.lanes.push(new Lane());
  }

  insert(time: TimeNs, fn: EventFn, a?: unknown, b?: unknown, background = false): SimEvent {
    const ev = new SimEvent(time, this.seq++, fn, a, b, background, this.live);
    this.place(ev);
    return ev;
  }

  /**
   * As insert, for an event nobody will cancel or keep (a frame in flight): the event object comes
   * from a free list and goes back to it once it has run (Simulator.run calls release), so a
   * steady stream of frames allocates no events. Same (time, seq) order as insert.
   */
  post(time: TimeNs, fn: EventFn, a: unknown, b: unknown, background: boolean): void {
    const free = this.free;
    let ev: SimEvent;
    if (free.length > 0) {
      ev = free.pop()!;
      ev.time = time;
      ev.seq = this.seq++;
      ev.fn = fn;
      ev.a = a;
      ev.b = b;
      ev.background = background;
      ev.popped = false;
    } else {
      ev = new SimEvent(time, this.seq++, fn, a, b, background, this.live);
      ev.pooled = true;
    }
    this.place(ev);
  }

  /** Takes back a posted event that has run (its callback and arguments dropped for the GC). */
  release(ev: SimEvent): void {
    ev.fn = noop;
    ev.a = undefined;
    ev.b = undefined;
    if (this.free.length < FREE_MAX) this.free.push(ev);
  }

  private place(ev: SimEvent): void {
    const time = ev.time;
    const seq = ev.seq;
    const background = ev.background;
    this.peeked = false;
    if (!background) this.live.foreground++;
    if (this.live.cancelled > COMPACT_MIN && this.live.cancelled * 2 > this.n) this.compact();
    this.n++;
    // Best fit: the lane whose last event is the latest at or before `time` (seq is always larger);
    // else an empty lane; else the heap.
    let best: Lane | null = null;
    let bestTime = -1;
    let empty: Lane | null = null;
    const lanes = this.lanes;
    for (let k = 0; k < LANES; k++) {
      const l = lanes[k]!;
      const len = l.items.length;
      if (len === l.head) {
        if (empty === null) empty = l;
        continue;
      }
      const t = l.tailTime;
      if (t <= time && t > bestTime) {
        best = l;
        bestTime = t;
      }
    }
    if (best === null) best = empty;
    if (best !== null) {
      if (best.head === best.items.length) {
        if (best.head > 0) {
          best.items.length = 0;
          best.head = 0;
        }
        best.headTime = time;
        best.headSeq = seq;
      }
      best.items.push(ev);
      best.tailTime = time;
      return;
    }
    const h = this.h;
    let i = h.length;
    h.push(ev);
    if (i === this.ht.length) this.grow();
    const ht = this.ht;
    const hs = this.hs;
    // Sift up with a hole: parents later than the new event move down.
    while (i > 0) {
      const pi = (i - 1) >> 1;
      const pt = ht[pi]!;
      if (pt < time || (pt === time && hs[pi]! < seq)) break;
      ht[i] = pt;
      hs[i] = hs[pi]!;
      h[i] = h[pi]!;
      i = pi;
    }
    ht[i] = time;
    hs[i] = seq;
    h[i] = ev;
  }

  /**
   * Drops the cancelled events from the heap and the lanes. Lazy cancel leaves a cancelled timer queued
   * until its time comes: a workload that arms and cancels long timers while the clock stands still (a
   * request timeout per failed connect) would otherwise grow the queue without bound. (time, seq) is a
   * total order, so the events still run in the same order.
   */
  private compact(): void {
    this.peeked = false;
    const keep = this.h.filter((e) => !e.cancelled).sort((x, y) => x.time - y.time || x.seq - y.seq);
    // A sorted array is a heap.
    this.h.length = 0;
    while (this.ht.length < keep.length) this.grow();
    for (let i = 0; i < keep.length; i++) {
      const e = keep[i]!;
      this.h.push(e);
      this.ht[i] = e.time;
      this.hs[i] = e.seq;
    }
    let n = keep.length;
    for (const l of this.lanes) {
      const items = l.items.slice(l.head).filter((e) => !e.cancelled);
      l.items = items;
      l.head = 0;
      if (items.length > 0) {
        l.headTime = items[0]!.time;
        l.headSeq = items[0]!.seq;
        l.tailTime = items[items.length - 1]!.time;
      }
      n += items.length;
    }
    this.n = n;
    this.live.cancelled = 0;
  }

  /** The lane holding the earliest event, or null when the heap's top is earlier (or all lanes are empty). */
  private minLane(): Lane | null {
    let best: Lane | null = null;
    let bt = this.h.length > 0 ? this.ht[0]! : Infinity;
    let bs = this.hs[0]!;
    const lanes = this.lanes;
    for (let k = 0; k < LANES; k++) {
      const l = lanes[k]!;
      if (l.head === l.items.length) continue;
      const t = l.headTime;
      if (t < bt || (t === bt && l.headSeq < bs)) {
        bt = t;
        bs = l.headSeq;
        best = l;
      }
    }
    return best;
  }

  /** Removes and returns the earliest event (cancelled ones included), or undefined when empty. */
  pop(): SimEvent | undefined {
    if (this.n === 0) return undefined;
    this.n--;
    const lane = this.peeked ? this.peekedLane : this.minLane();
    this.peeked = false;
    let top: SimEvent;
    if (lane !== null) {
      top = lane.items[lane.head]!;
      lane.items[lane.head++] = undefined as unknown as SimEvent; // no reference kept for the GC
      if (lane.head === lane.items.length) {
        lane.items.length = 0;
        lane.head = 0;
      } else {
        const next = lane.items[lane.head]!;
        lane.headTime = next.time;
        lane.headSeq = next.seq;
        if (lane.head >= 4096 && lane.head * 2 >= lane.items.length) {
          lane.items.splice(0, lane.head);
          lane.head = 0;
        }
      }
    } else top = this.popHeap();
    if (top.cancelled) this.live.cancelled--;
    else {
      top.popped = true;
      if (!top.background) this.live.foreground--;
    }
    return top;
  }

  private popHeap(): SimEvent {
    const h = this.h;
    const ht = this.ht;
    const hs = this.hs;
    const top = h[0]!;
    const last = h.pop()!;
    const m = h.length;
    if (m > 0) {
      // Sift the last event down from the root with a hole, comparing the keys' typed arrays.
      const t = ht[m]!;
      const s = hs[m]!;
      let i = 0;
      const half = m >> 1;
      while (i < half) {
        let ci = 2 * i + 1;
        let ct = ht[ci]!;
        let cs = hs[ci]!;
        const ri = ci + 1;
        if (ri < m) {
          const rt = ht[ri]!;
          const rs = hs[ri]!;
          if (rt < ct || (rt === ct && rs < cs)) {
            ci = ri;
            ct = rt;
            cs = rs;
          }
        }
        if (t < ct || (t === ct && s < cs)) break;
        ht[i] = ct;
        hs[i] = cs;
        h[i] = h[ci]!;
        i = ci;
      }
      ht[i] = t;
      hs[i] = s;
      h[i] = last;
    }
    return top;
  }

  /** Doubles the key arrays. */
  private grow(): void {
    const t = new Float64Array(this.ht.length * 2);
    t.set(this.ht);
    this.ht = t;
    const s = new Float64Array(this.hs.length * 2);
    s.set(this.hs);
    this.hs = s;
  }

  /** Foreground events still to run (not cancelled). */
  get foreground(): number {
    return this.live.foreground;
  }
  peek(): SimEvent | undefined {
    if (this.n === 0) return undefined;
    const lane = this.peeked ? this.peekedLane : this.minLane();
    this.peeked = true;
    this.peekedLane = lane;
    return lane !== null ? lane.items[lane.head] : this.h[0];
  }
  get size(): number {
    return this.n;
  }
}
