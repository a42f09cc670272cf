// core/scheduler — the future event list. Layer: core.
// Mirrors ns-3's Scheduler: events ordered by (time, insertion sequence), so two events at the same
// instant run in the order they were scheduled; cancel is a flag checked when the event is popped.
import type { TimeNs } from './time.js';

/** A callback taking up to two arguments, so hot paths pass data without allocating closures. */
export type EventFn = (a: any, b: any) => void;

/** Pending foreground events of one scheduler (not cancelled, not yet run). */
interface Live {
  foreground: number;
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
  constructor(
    readonly time: TimeNs,
    readonly seq: number,
    readonly fn: EventFn,
    readonly a: unknown,
    readonly b: unknown,
    readonly background: boolean,
    private readonly live: Live,
  ) {}
  cancel(): void {
    if (!this.cancelled && !this.popped && !this.background) this.live.foreground--;
    this.cancelled = true;
  }
}

/** Binary min-heap of events keyed by (time, seq), the comparison written inline (no comparator call per step). */
export class Scheduler {
  private readonly h: SimEvent[] = [];
  private n = 0;
  private seq = 0;
  private readonly live: Live = { foreground: 0 };

  insert(time: TimeNs, fn: EventFn, a?: unknown, b?: unknown, background = false): SimEvent {
    const seq = this.seq++;
    const ev = new SimEvent(time, seq, fn, a, b, background, this.live);
    if (!background) this.live.foreground++;
    const h = this.h;
    let i = this.n++;
    h.push(ev);
    // Sift up with a hole: parents later than the new event move down.
    while (i > 0) {
      const pi = (i - 1) >> 1;
      const p = h[pi]!;
      if (p.time < time || (p.time === time && p.seq < seq)) break;
      h[i] = p;
      i = pi;
    }
    h[i] = ev;
    return ev;
  }
  /** Removes and returns the earliest event (cancelled ones included), or undefined when empty. */
  pop(): SimEvent | undefined {
    const n = this.n;
    if (n === 0) return undefined;
    const h = this.h;
    const top = h[0]!;
    const last = h.pop()!;
    const m = (this.n = n - 1);
    if (m > 0) {
      // Sift the last event down from the root with a hole.
      const t = last.time;
      const s = last.seq;
      let i = 0;
      const half = m >> 1;
      while (i < half) {
        let ci = 2 * i + 1;
        let c = h[ci]!;
        const ri = ci + 1;
        if (ri < m) {
          const r = h[ri]!;
          if (r.time < c.time || (r.time === c.time && r.seq < c.seq)) {
            ci = ri;
            c = r;
          }
        }
        if (t < c.time || (t === c.time && s < c.seq)) break;
        h[i] = c;
        i = ci;
      }
      h[i] = last;
    }
    if (!top.cancelled) {
      top.popped = true;
      if (!top.background) this.live.foreground--;
    }
    return top;
  }
  /** Foreground events still to run (not cancelled). */
  get foreground(): number {
    return this.live.foreground;
  }
  peek(): SimEvent | undefined {
    return this.n > 0 ? this.h[0] : undefined;
  }
  get size(): number {
    return this.n;
  }
}
