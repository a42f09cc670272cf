// core/key-heap — the scheduler's binary heaps. Layer: core.
import type { SimEvent } from './scheduler.js';

/** A first value of the key fields' kind (see the constructor). */
const NO_KEYS = new Float64Array(0);

/**
 * A binary min-heap of events keyed by (time, seq), the keys in two Float64Arrays beside the events.
 * The events are h[0 .. n - 1], the entries after undefined: the array keeps its backing store when
 * the heap shrinks (Array.prototype.pop trims it once it is less than half full, and the next burst
 * of frames — a flood's thousand copies — grew a new one, which the GC then copied).
 */
export class KeyHeap {
  readonly h: SimEvent[] = [];
  /** Events in the heap. */
  n = 0;
  /** The keys beside the events (time and seq of h[i] at i): sifting reads these, not the event objects. */
  ht: Float64Array = NO_KEYS;
  hs: Float64Array = NO_KEYS;

  constructor() {
    // Set twice (a first value of their kind above, the real one here): grow() replaces them mid-run,
    // and a field V8 still took for a constant would take the optimized code that inlined push/pop
    // with it (see Scheduler); a bare declaration would make them generic fields (first value undefined).
    this.ht = new Float64Array(64);
    this.hs = new Float64Array(64);
  }

  push(ev: SimEvent): void {
    const time = ev.time;
    const seq = ev.seq;
    const h = this.h;
    let i = this.n++;
    if (i === h.length) h.push(ev);
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

  pop(): SimEvent {
    const h = this.h;
    const ht = this.ht;
    const hs = this.hs;
    const top = h[0]!;
    const m = --this.n;
    const last = h[m]!;
    h[m] = undefined as unknown as SimEvent; // no reference kept for the GC
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

  /** Keeps the events not cancelled (a sorted array is a heap); returns how many. */
  compact(): number {
    const keep = this.h.slice(0, this.n).filter((e) => !e.cancelled).sort((x, y) => x.time - y.time || x.seq - y.seq);
    this.h.length = 0;
    while (this.ht.length < keep.length) this.grow();
    for (let i = 0; i < keep.length; i++) {
      const e = keep[i]!;
      this.h.push(e);
      this.ht[i] = e.time;
      this.hs[i] = e.seq;
    }
    this.n = keep.length;
    return keep.length;
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
}
