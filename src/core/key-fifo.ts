// core/key-fifo — the scheduler's near lanes. Layer: core.
import type { SimEvent } from './scheduler.js';
import { TIME_ZERO, type TimeNs } from './time.js';

/** A first value of the key fields' kind (see the constructor). */
const NO_KEYS = new Float64Array(0);

/**
 * A first-in first-out ring of events that the scheduler appends in (time, seq) order only (an event
 * not before `tail`, the last one's time, and with a larger seq): its head is its earliest event. The
 * keys sit in two Float64Arrays beside the events, as in KeyHeap, so comparing heads reads no event.
 * The ring keeps its arrays when it empties, and doubles them when full.
 */
export class KeyFifo {
  h: SimEvent[] = [];
  ht: Float64Array = NO_KEYS;
  hs: Float64Array = NO_KEYS;
  /** Index of the head; events at head .. head + n - 1 (mod the capacity). */
  head = 0;
  n = 0;
  mask = 0;
  /** Time of the last event appended (kept when the ring empties; an event before it goes elsewhere: Scheduler.place checks). */
  tail: TimeNs = TIME_ZERO;

  constructor(capacity = 64) {
    // Set twice (a first value of their kind above, the real one here): grow() replaces them mid-run,
    // and a field V8 still took for a constant would take the optimized code with it (see KeyHeap).
    this.h = new Array<SimEvent>(capacity).fill(undefined as unknown as SimEvent);
    this.ht = new Float64Array(capacity);
    this.hs = new Float64Array(capacity);
    this.mask = capacity - 1;
  }

  /** Appends an event not before the tail (time >= tail, seq larger than every queued one). */
  push(ev: SimEvent): void {
    if (this.n > this.mask) this.grow();
    const i = (this.head + this.n++) & this.mask;
    const time = ev.time;
    this.h[i] = ev;
    this.ht[i] = time;
    this.hs[i] = ev.seq;
    this.tail = time;
  }

  /**
   * Removes and returns the head (the ring is not empty). An emptied ring starts again at index 0: the
   * ring keeps the capacity a burst gave it (a flood to a thousand ports: tens of thousands of slots),
   * and a head that kept walking round it would touch a new cache line of each of the three arrays
   * every eight events, where a few events in flight fit in the first lines.
   */
  pop(): SimEvent {
    const i = this.head;
    const top = this.h[i]!;
    this.h[i] = undefined as unknown as SimEvent; // no reference kept for the GC
    this.head = --this.n === 0 ? 0 : (i + 1) & this.mask;
    return top;
  }

  /** Keeps the events not cancelled, in order; returns how many. */
  compact(): number {
    const keep: SimEvent[] = [];
    for (let k = 0; k < this.n; k++) {
      const i = (this.head + k) & this.mask;
      const e = this.h[i]!;
      this.h[i] = undefined as unknown as SimEvent;
      if (!e.cancelled) keep.push(e);
    }
    this.head = 0;
    this.n = 0;
    for (const e of keep) {
      if (this.n > this.mask) this.grow();
      const i = this.n++;
      this.h[i] = e;
      this.ht[i] = e.time;
      this.hs[i] = e.seq;
    }
    return keep.length;
  }

  /** Doubles the capacity (the ring is full), the events re-laid from index 0. */
  private grow(): void {
    const cap = this.mask + 1;
    const h = new Array<SimEvent>(cap * 2).fill(undefined as unknown as SimEvent);
    const ht = new Float64Array(cap * 2);
    const hs = new Float64Array(cap * 2);
    for (let k = 0; k < this.n; k++) {
      const i = (this.head + k) & this.mask;
      h[k] = this.h[i]!;
      ht[k] = this.ht[i]!;
      hs[k] = this.hs[i]!;
    }
    this.h = h;
    this.ht = ht;
    this.hs = hs;
    this.head = 0;
    this.mask = cap * 2 - 1;
  }
}
