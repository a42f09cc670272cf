// core/scheduler — the future event list. Layer: core.
// Mirrors ns-3's Scheduler: events ordered by (time, insertion sequence), so two events at the same
// instant run in the order they were scheduled. A cancelled event in a wheel slot not yet opened leaves
// the queue at once; elsewhere (the near FIFOs and heap, the opened slot, the lanes and the far heap) cancel is a
// flag checked when the event is popped.
import { DROPPED_PIX, SimEvent, type EventFn, type Live } from './event.js';
import { KeyFifo } from './key-fifo.js';
import { SpareEvents } from './spare-events.js';
import { FarLanes } from './far-lanes.js';
import { KeyHeap } from './key-heap.js';
import { TIME_ZERO, type TimeNs } from './time.js';
import { gatherSlot as gatherSlotImported, overflowPut as overflowPutImported, SLOT_INLINE as SLOT_INLINEImported, sortSlot as sortSlotImported } from './wheel-slot.js';

export { SimEvent, type EventFn } from './event.js';
const SimEventClass = SimEvent; // (an import is read from its cell at each use, a module constant is folded: session 38)
const DROPPED = DROPPED_PIX;

/** Cancelled events tolerated in the queue before it is compacted (and never more than half of it). */
const COMPACT_MIN = 4096;

/** Most posted events kept for reuse (the pool: one posted beyond, all in use, is a plain event). */
const POOL_MAX = 8192;

/**
 * The timing wheel: slots of 2^WHEEL_SHIFT ns (1.05 ms), 2^WHEEL_BITS of them (a horizon of 4.3 s:
 * TCP's retransmission and delayed-ACK timers, request timeouts, inter-arrival gaps).
 */
const WHEEL_SHIFT = 20;
const WHEEL_BITS = 12;

const SLOT_INLINE = SLOT_INLINEImported;
const overflowPut = overflowPutImported;
const gatherSlot = gatherSlotImported;
const sortSlot = sortSlotImported;

/** Where the earliest event is (Scheduler.take, Scheduler.locate). */
const enum Src {
  Empty,
  Fifo0,
  Near,
  Fifo1,
  Run,
  Far,
  Lane,
}

/**
 * The future event list, ordered exactly by (time, seq) whatever structure holds an event:
 * - for events due before the end of the open wheel slot (frames in flight, zero-delay hand-offs),
 *   two near FIFOs and a near heap (a binary min-heap keyed by (time, seq), keys in typed arrays).
 *   An event not before a FIFO's last one is appended to it, best fit (the FIFO with the latest last
 *   event not after it): a stream posted at a constant delay (a veth's arrivals) or one transmitter's
 *   arrivals is appended in order, O(1), without a sift. The rest goes to the heap;
 * - a timing wheel of unsorted slots, one per 2^shift ns of the next 2^bits slots, for the events
 *   after the open slot: inserting is an append, cancelling a swap-remove (a cancelled timer leaves
 *   at once, never sifted nor popped). When the earliest event of the other structures is not before
 *   the wheel's first non-empty slot, that slot is opened: its events, sorted, become the run;
 * - beyond the wheel's horizon, a few sorted lanes: an event not before the last event of a lane
 *   (the latest such lane, else an empty one) is appended to it in O(1) (TIME_WAIT's 60 s, a periodic
 *   probe), else it goes to the far heap.
 * The earliest event is the least of the heaps' tops, the FIFOs', the run's and the lanes' heads, once no wheel
 * slot may hold an earlier one. Outside the wheel cancel is lazy: the event is skipped when popped,
 * and the queue is compacted when most of it is cancelled.
 */
export class Scheduler implements Live {
  private readonly near = new KeyHeap();
  private readonly fifo0 = new KeyFifo();
  private readonly fifo1 = new KeyFifo();
  private readonly far = new KeyHeap();
  /**
   * The earliest time in the far heap and the lanes (Infinity: both empty). Every event of the near
   * structures and the run is before openEnd, and every wheel event at or after it, so an earliest
   * near or run event before farT is the earliest event: take() looks no further.
   */
  private farT: TimeNs = TIME_ZERO;
  private readonly lanes = new FarLanes();
  /** Events queued (lazily cancelled ones included). */
  private n = 0;
  private seq = 0;
  /** Foreground events still to run (not cancelled); kept by place, pop and SimEvent.cancel. */
  foreground = 0;
  /** Cancelled events still queued (outside the wheel); kept by SimEvent.cancel, pop and compact. */
  cancelled = -1;
  /** The time of the next postStaged, written by the caller (see postStaged). */
  readonly at = new Float64Array(1);
  /** Posted events by index (SimEvent.pix) and the first free one's (-1: none; a free one holds the next one's: a stack). */
  private readonly pool: SimEvent[] = [];
  private freeHead = -1;
  readonly spares = new SpareEvents(); // (Live: dropped events for insertStaged to renew, core/spare-events)
  /** The time of the earliest event found by locate(). */
  private locT: TimeNs = TIME_ZERO;
  /** The time of the event take() returned last, from the key that found it: its `time` without reading its box (a line of its own, cold when a posted event runs). */
  takenT: TimeNs = TIME_ZERO;

  // The timing wheel. Slot number b (absolute) holds times [b * 2^shift, (b + 1) * 2^shift), at index b & mask.
  private readonly inv: number;
  private readonly mask: number;
  /** The wheel's events (core/wheel-slot): slot k's event i at wv[k * SLOT_INLINE + i], or over[k][i - SLOT_INLINE] past SLOT_INLINE; slotLen: each slot's count; bits: a bit per non-empty slot. */
  private readonly wv: (SimEvent | undefined)[];
  private readonly over: (SimEvent[] | undefined)[];
  private readonly slotLen: Int32Array;
  private readonly bits: Uint32Array;
  /** The open slot's number: the wheel holds slots open+1 .. open+mask; times before `openEnd` go elsewhere. */
  private open = 0;
  /** (TIME_ZERO first: a double field from the start, see runT; the slot width alone would make it a small integer, and the first end past 2^31 ns would turn it into a generic one that every read checks and unboxes.) */
  private openEnd: TimeNs = TIME_ZERO;
  private readonly width: number;
  /** Events in the wheel. */
  private wheeled = 0;
  /** The wheel's first non-empty slot number, valid while `nextValid` and wheeled > 0. */
  private next = 0;
  private nextValid = false;
  /**
   * The opened slot's events sorted by (time, seq) at run[runBase + runHead .. runBase + runLen - 1] (consumed ones undefined);
   * runT/runS: the head's key. The run is the slot's part of `wv` (no slot takes it again before the run is consumed: the open
   * slot moves on only then) or, for a slot that overflowed (or after compact), an array of its own.
   */
  private run: (SimEvent | undefined)[] = [];
  private runBase = 0;
  private runHead = 0;
  private runLen = 0;
  /** TIME_ZERO: a double from the start (a field that starts as a small integer and later holds a time changes its object's hidden class mid-run, discarding the optimized code that relied on it). */
  private runT: TimeNs = TIME_ZERO;
  private runS = 0;

  /** `shift`, `bits`: the wheel's slot width (2^shift ns) and slot count (2^bits); tests use small ones. */
  constructor(shift = WHEEL_SHIFT, bits = WHEEL_BITS) {
    // Fields that only a rarer path changes (the first lazy cancel, the first event beyond the wheel, the run's base) are stored
    // twice, a first value of their kind in the declaration and the real one here: V8 treats a field stored once as a constant its
    // optimized code may rely on, and the first change mid-run would discard the code of every function that inlined take
    // (Simulator.run). The first value is of the field's kind (not undefined): a generic field is checked at every read.
    this.cancelled = 0;
    this.farT = Infinity;
    this.width = 2 ** shift;
    this.inv = 2 ** -shift;
    this.mask = (1 << bits) - 1;
    this.wv = new Array<SimEvent | undefined>((1 << bits) * SLOT_INLINE).fill(undefined);
    this.over = new Array<SimEvent[] | undefined>(1 << bits).fill(undefined);
    this.run = this.wv; // (both kinds of run array from the start: one map, the same code)
    this.runBase = 1;
    this.runBase = 0;
    this.slotLen = new Int32Array(1 << bits);
    this.bits = new Uint32Array(Math.max(1, (1 << bits) >> 5));
    this.openEnd = this.width;
  }

  /** At `time`. With insertSeq, post and move (the time as a boxed argument): for tests; the simulator uses …Staged. */
  insert(time: TimeNs, fn: EventFn, a?: unknown, b?: unknown, background = false): SimEvent {
    this.at[0] = time;
    return this.insertStaged(fn, a, b, background);
  }

  /** insert at the time written to `at[0]` just before (see postStaged). */
  insertStaged(fn: EventFn, a: unknown, b: unknown, background: boolean): SimEvent {
    const ev = this.spares.n > 0 ? this.spares.pop().renew(this.at[0]!, this.seq++, fn, a, b, background) : new SimEventClass(this.at[0]!, this.seq++, fn, a, b, background, this);
    this.place(ev);
    return ev;
  }

  /**
   * Takes the sequence number an event inserted now would get, for insertSeq later: a caller that
   * keeps many timers in a queue of its own (TCP's TIME_WAIT expiries) and gives the scheduler only
   * the earliest one still has each run exactly where its own event would have run.
   */
  reserveSeq(): number {
    return this.seq++;
  }

  /** As insert, with a sequence number from reserveSeq. Beyond the wheel the event goes to the far heap (a lane takes only events in insertion order, and this one's seq may be older than a lane's tail). */
  insertSeq(time: TimeNs, seq: number, fn: EventFn, a: unknown, b: unknown, background: boolean): SimEvent {
    this.at[0] = time;
    return this.insertSeqStaged(seq, fn, a, b, background);
  }

  /** insertSeq at the time written to `at[0]` just before (see postStaged); `reuse`: an event that ran (popped, not pooled) that only the caller holds, placed anew (SimEvent.renew), not a new object. */
  insertSeqStaged(seq: number, fn: EventFn, a: unknown, b: unknown, background: boolean, reuse: SimEvent | null = null): SimEvent {
    // A reserved seq from the caller's keys (TIME_WAIT's Float64Arrays) may come as a heap number, whose store turns every event's
    // `seq` into a boxed double (a line more per event at post, place, sort and take): `| 0` keeps it a small integer below 2^31.
    const q = seq < 0x7fffffff ? seq | 0 : seq;
    const ev = reuse !== null && reuse.popped && reuse.pix < 0 ? reuse.renew(this.at[0]!, q, fn, a, b, background) : new SimEventClass(this.at[0]!, q, fn, a, b, background, this);
    this.place(ev, true);
    return ev;
  }

  /** As insert, for an event nobody will cancel or keep (a frame in flight): the event object comes from a free list and goes back to it once it has run (Simulator.run calls release), so a steady stream of frames allocates no events. Same (time, seq) order as insert. */
  post(time: TimeNs, fn: EventFn, a: unknown, b: unknown, background: boolean): void {
    this.at[0] = time;
    this.postStaged(fn, a, b, background);
  }

  /** post at the time written to `at[0]` just before (Simulator's post, postAt): a double handed to a call V8 does not inline (place makes post large) is a new heap number per call. */
  postStaged(fn: EventFn, a: unknown, b: unknown, background: boolean): void {
    const time = this.at[0]!;
    let ev: SimEvent;
    const f = this.freeHead;
    if (f >= 0) {
      ev = this.pool[f]!;
      this.freeHead = ev.nextFree;
      ev.time = time;
      ev.seq = this.seq++;
      if (ev.fn !== fn) ev.fn = fn; // (a reused event often had this callback already: no write barrier then)
      ev.a = a;
      ev.b = b;
      ev.background = background;
      ev.popped = false;
    } else {
      ev = new SimEventClass(time, this.seq++, fn, a, b, background, this);
      if (this.pool.length < POOL_MAX) ev.pix = this.pool.push(ev) - 1;
    }
    this.place(ev);
  }

  /**
   * Re-arms an event at `time`: what ev.cancel() then insert(time, fn, a, b, background) does, order
   * included (the next sequence number), without a new object when the event waits in a wheel slot not
   * yet opened (it leaves the slot as a cancel would) or was taken off the queue to run (no structure
   * holds it; the caller holds the only other reference). Else it is cancelled and a new one inserted.
   */
  move(ev: SimEvent, time: TimeNs, fn: EventFn, a: unknown, b: unknown, background: boolean): SimEvent {
    this.at[0] = time;
    return this.moveStaged(ev, fn, a, b, background);
  }

  /** move to the time written to `at[0]` just before (see postStaged). */
  moveStaged(ev: SimEvent, fn: EventFn, a: unknown, b: unknown, background: boolean): SimEvent {
    if (ev.popped) ev.popped = ev.cancelled = false; // (a cancel() after the pop set only `cancelled`: nothing counts it)
    else if (ev.slot < 0 || ev.cancelled) {
      ev.cancel();
      return this.insertStaged(fn, a, b, background);
    } else {
      this.unwheel(ev);
      if (!ev.background) this.foreground--;
    }
    ev.time = this.at[0]!;
    ev.seq = this.seq++;
    ev.fn = fn;
    ev.a = a;
    ev.b = b;
    ev.background = background;
    this.place(ev);
    return ev;
  }

  /** Takes back a posted event that has run (its arguments dropped for the GC; its callback kept: storing noop was a write barrier per event). */
  release(ev: SimEvent): void {
    ev.a = undefined;
    ev.b = undefined;
    if (ev.pix < 0) return;
    ev.nextFree = this.freeHead;
    this.freeHead = ev.pix;
  }

  private place(ev: SimEvent, reserved = false): void {
    const time = ev.time;
    if (!ev.background) this.foreground++;
    if (this.cancelled > COMPACT_MIN && this.cancelled * 2 > this.n) this.compact();
    this.n++;
    if (time < this.openEnd) {
      // A reserved seq may be older than a FIFO's last event: the heap takes it.
      if (!reserved) {
        const f0 = this.fifo0;
        const f1 = this.fifo1;
        const t0 = f0.tail;
        const t1 = f1.tail;
        if (t0 <= time) {
          if (t1 <= time && t1 > t0) f1.push(ev);
          else f0.push(ev);
          return;
        }
        if (t1 <= time) {
          f1.push(ev);
          return;
        }
      }
      this.near.push(ev);
      return;
    }
    const b = Math.floor(time * this.inv);
    if (b - this.open <= this.mask) this.wheel(ev, b);
    else {
      if (time < this.farT) this.farT = time;
      // Beyond the horizon: a lane appends the event in O(1) when one can (best fit), else the far heap.
      if (reserved || !this.lanes.add(ev, time)) this.far.push(ev);
    }
  }

  /** Appends an event to wheel slot number b (open < b <= open + mask). */
  private wheel(ev: SimEvent, b: number): void {
    const k = b & this.mask;
    const len = this.slotLen[k]!;
    if (len === 0) {
      this.bits[k >> 5] = this.bits[k >> 5]! | (1 << (k & 31));
      if (this.nextValid && b < this.next) this.next = b;
    }
    ev.slot = k;
    ev.idx = len;
    if (len < SLOT_INLINE) this.wv[k * SLOT_INLINE + len] = ev;
    else overflowPut(this.over, k, len - SLOT_INLINE, ev);
    this.slotLen[k] = len + 1;
    this.wheeled++;
  }

  /** Live: takes a cancelled event out of its wheel slot (swap with the slot's last event). */
  unwheel(ev: SimEvent): void {
    const k = ev.slot;
    const len = this.slotLen[k]! - 1;
    const base = k * SLOT_INLINE;
    let last: SimEvent;
    if (len < SLOT_INLINE) {
      last = this.wv[base + len]!;
      this.wv[base + len] = undefined; // no reference kept for the GC
    } else {
      const arr = this.over[k]!;
      last = arr[len - SLOT_INLINE]!;
      arr[len - SLOT_INLINE] = undefined as unknown as SimEvent;
    }
    this.slotLen[k] = len;
    if (last !== ev) {
      const i = ev.idx;
      if (i < SLOT_INLINE) this.wv[base + i] = last;
      else this.over[k]![i - SLOT_INLINE] = last;
      last.idx = i;
    } else if (len === 0) {
      this.bits[k >> 5] = this.bits[k >> 5]! & ~(1 << (k & 31));
      this.nextValid = false;
    }
    ev.slot = -1;
    this.wheeled--;
    this.n--;
  }

  /** The number of the wheel's first non-empty slot (the wheel is not empty). */
  private nextSlot(): number {
    if (this.nextValid) return this.next;
    const mask = this.mask;
    const bits = this.bits;
    const words = bits.length;
    const start = (this.open + 1) & mask;
    let w = start >> 5;
    // The first word without the slots before `start`; then whole words round the ring (back to the first).
    let word = bits[w]! & (-1 << (start & 31));
    for (let i = 0; word === 0 && i < words; i++) {
      w = w + 1 === words ? 0 : w + 1;
      word = bits[w]!;
    }
    const k = (w << 5) + 31 - Math.clz32(word & -word);
    this.next = this.open + 1 + ((k - start) & mask);
    this.nextValid = true;
    return this.next;
  }

  /** Opens wheel slot number b (the first non-empty one; the run is empty): its events, sorted by (time, seq), become the run: in place in the slot's part of `wv` when they all fit there, else gathered into an array of their own (core/wheel-slot). */
  private openSlot(b: number): void {
    const k = b & this.mask;
    const m = this.slotLen[k]!;
    let arr: (SimEvent | undefined)[] = this.wv;
    let base = k * SLOT_INLINE;
    if (m <= SLOT_INLINE) {
      for (let i = 0; i < m; i++) arr[base + i]!.slot = -1;
    } else {
      arr = gatherSlot(arr, this.over[k]!, base, m);
      base = 0;
    }
    sortSlot(arr, base, m);
    this.wheeled -= m;
    this.slotLen[k] = 0;
    this.run = arr;
    this.runBase = base;
    this.runHead = 0;
    this.runLen = m;
    const first = arr[base]!;
    this.runT = first.time;
    this.runS = first.seq;
    this.bits[k >> 5] = this.bits[k >> 5]! & ~(1 << (k & 31));
    this.open = b;
    this.openEnd = (b + 1) * this.width;
    this.nextValid = false;
  }

  /**
   * Drops the cancelled events from the heaps, the near FIFOs, the opened slot's run and the lanes. Lazy cancel leaves a cancelled timer queued
   * until its time comes: a workload that arms and cancels long timers while the clock stands still (a
   * request timeout per failed connect) would otherwise grow the queue without bound. (time, seq) is a
   * total order, so the events still run in the same order.
   */
  private compact(): void {
    const run: SimEvent[] = [];
    for (let i = this.runBase + this.runHead; i < this.runBase + this.runLen; i++) {
      const e = this.run[i]!;
      this.run[i] = undefined; // (the slot's part of wv, or an array of its own: dropped either way)
      if (!e.cancelled) run.push(e);
    }
    this.run = run;
    this.runBase = 0;
    this.runHead = 0;
    this.runLen = run.length;
    if (run.length > 0) {
      this.runT = run[0]!.time;
      this.runS = run[0]!.seq;
    }
    let n = this.near.compact() + this.fifo0.compact() + this.fifo1.compact() + this.far.compact() + this.wheeled + run.length;
    n += this.lanes.compact();
    this.n = n;
    this.cancelled = 0;
    this.farT = this.farMin();
  }

  /** The earliest time in the far heap and the lanes, Infinity when both are empty. */
  private farMin(): TimeNs {
    let t = this.far.n > 0 ? this.far.ht[0]! : Infinity;
    const lanes = this.lanes;
    const k = lanes.min();
    if (k >= 0 && lanes.headT[k]! < t) t = lanes.headT[k]!;
    return t;
  }

  /**
   * Finds where the earliest event is (the queue is not empty), opening a wheel slot when it may hold
   * it; its time in locT.
   */
  private locate(): Src {
    const near = this.near;
    const far = this.far;
    const f0 = this.fifo0;
    const f1 = this.fifo1;
    let src = Src.Empty;
    let bt = Infinity;
    let bs = 0;
    if (near.n > 0) {
      src = Src.Near;
      bt = near.ht[0]!;
      bs = near.hs[0]!;
    }
    if (f0.n > 0) {
      const t = f0.ht[f0.head]!;
      if (t < bt || (t === bt && f0.hs[f0.head]! < bs)) {
        src = Src.Fifo0;
        bt = t;
        bs = f0.hs[f0.head]!;
      }
    }
    if (f1.n > 0) {
      const t = f1.ht[f1.head]!;
      if (t < bt || (t === bt && f1.hs[f1.head]! < bs)) {
        src = Src.Fifo1;
        bt = t;
        bs = f1.hs[f1.head]!;
      }
    }
    if (far.n > 0) {
      const t = far.ht[0]!;
      if (t < bt || (t === bt && far.hs[0]! < bs)) {
        src = Src.Far;
        bt = t;
        bs = far.hs[0]!;
      }
    }
    const lanes = this.lanes;
    const k = lanes.min();
    if (k >= 0) {
      const t = lanes.headT[k]!;
      if (t < bt || (t === bt && lanes.headS[k]! < bs)) {
        src = Src.Lane;
        bt = t;
        bs = lanes.headS[k]!;
      }
    }
    if (this.runHead < this.runLen) {
      const t = this.runT;
      if (t < bt || (t === bt && this.runS < bs)) {
        this.locT = t;
        return Src.Run; // before openEnd: no slot to open
      }
    }
    // Every event in the wheel is at or after openEnd, and those of its first non-empty slot at or
    // after that slot's start: open it when the best so far is not before that.
    if (bt >= this.openEnd && this.wheeled > 0) {
      const b = this.nextSlot();
      if (b * this.width <= bt) {
        this.openSlot(b);
        const t = this.runT;
        if (t < bt || (t === bt && this.runS < bs)) {
          src = Src.Run;
          bt = t;
        }
      }
    }
    this.locT = bt;
    return src;
  }

  /** Removes and returns the earliest event (lazily cancelled ones included), or undefined when empty. */
  pop(): SimEvent | undefined {
    return this.take(Infinity);
  }

  /**
   * Removes and returns the earliest event (lazily cancelled ones included) when it is not after
   * `until`; undefined when the queue is empty or its earliest event is later (left queued).
   * Simulator.run's one call per event: the near structures and the run are compared inline, and
   * the rest (far heap, lanes, opening a wheel slot) only when none of them holds an event before farT.
   */
  take(until: TimeNs): SimEvent | undefined {
    let src = Src.Empty;
    let bt = Infinity;
    let bs = 0;
    const f0 = this.fifo0;
    if (f0.n > 0) {
      src = Src.Fifo0;
      bt = f0.ht[f0.head]!;
      bs = f0.hs[f0.head]!;
    }
    const near = this.near;
    if (near.n > 0) {
      const t = near.ht[0]!;
      if (t < bt || (t === bt && near.hs[0]! < bs)) {
        src = Src.Near;
        bt = t;
        bs = near.hs[0]!;
      }
    }
    const f1 = this.fifo1;
    if (f1.n > 0) {
      const t = f1.ht[f1.head]!;
      if (t < bt || (t === bt && f1.hs[f1.head]! < bs)) {
        src = Src.Fifo1;
        bt = t;
        bs = f1.hs[f1.head]!;
      }
    }
    if (this.runHead < this.runLen) {
      const t = this.runT;
      if (t < bt || (t === bt && this.runS < bs)) {
        src = Src.Run;
        bt = t;
      }
    }
    if (!(bt < this.farT)) {
      if (this.n === 0) return undefined; // (all empty: bt is Infinity)
      src = this.locate();
      bt = this.locT;
    }
    if (bt > until) return undefined;
    this.n--;
    let top: SimEvent;
    if (src === Src.Fifo0) top = f0.pop();
    else if (src === Src.Near) top = near.pop();
    else if (src === Src.Fifo1) top = f1.pop();
    else if (src === Src.Run) {
      const run = this.run;
      const i = this.runBase + this.runHead++;
      top = run[i]!;
      run[i] = undefined; // no reference kept for the GC
      if (this.runHead === this.runLen) {
        this.runHead = 0;
        this.runLen = 0;
      } else {
        const next = run[i + 1]!;
        this.runT = next.time;
        this.runS = next.seq;
      }
    } else {
      if (src === Src.Far) top = this.far.pop();
      else top = this.lanes.pop();
      this.farT = this.farMin();
      const time = top.time;
      if (time >= this.openEnd) {
        // The clock passes the open slot with the wheel empty up to its own slot (else that slot would
        // have been opened): the open slot moves along, so the horizon follows the clock. (Only a far
        // or lane event can be at or after openEnd: the near structures' and the run's are before it.)
        this.open = Math.floor(time * this.inv);
        this.openEnd = (this.open + 1) * this.width;
      }
    }
    this.takenT = bt;
    if (top.cancelled) this.cancelled -= top.pix === DROPPED ? (this.spares.keep(top), 1) : 1; // (dropped: SimEvent.drop)
    else {
      top.popped = true;
      if (!top.background) this.foreground--;
    }
    return top;
  }

  /** The earliest event (lazily cancelled ones included), left queued; undefined when empty. */
  peek(): SimEvent | undefined {
    if (this.n === 0) return undefined;
    const src = this.locate();
    if (src === Src.Fifo0) return this.fifo0.h[this.fifo0.head];
    if (src === Src.Near) return this.near.h[0];
    if (src === Src.Fifo1) return this.fifo1.h[this.fifo1.head];
    if (src === Src.Run) return this.run[this.runBase + this.runHead];
    if (src === Src.Far) return this.far.h[0];
    return this.lanes.peek();
  }
  /** Events queued: pending ones, and cancelled ones not yet dropped (outside the wheel). */
  get size(): number {
    return this.n;
  }
}
