// core/scheduler — the future event list. Layer: core (imports tinyqueue only).
// Mirrors ns-3's Scheduler: events ordered by (time, insertion sequence), so two events at the same
// instant run in the order they were scheduled; cancel is a flag checked when the event is popped.
import TinyQueue from 'tinyqueue';
import type { TimeNs } from './time.js';

/** A callback taking up to two arguments, so hot paths pass data without allocating closures. */
export type EventFn = (a: any, b: any) => void;

/** One scheduled event. `cancel()` marks it; the scheduler skips it when popped (lazy cancel). */
export class SimEvent {
  cancelled = false;
  constructor(
    readonly time: TimeNs,
    readonly seq: number,
    readonly fn: EventFn,
    readonly a: unknown,
    readonly b: unknown,
  ) {}
  cancel(): void {
    this.cancelled = true;
  }
}

function before(x: SimEvent, y: SimEvent): number {
  return x.time - y.time || x.seq - y.seq;
}

/** Priority queue of events keyed by (time, seq). */
export class Scheduler {
  private readonly q = new TinyQueue<SimEvent>([], before);
  private seq = 0;

  insert(time: TimeNs, fn: EventFn, a?: unknown, b?: unknown): SimEvent {
    const ev = new SimEvent(time, this.seq++, fn, a, b);
    this.q.push(ev);
    return ev;
  }
  /** Removes and returns the earliest event (cancelled ones included), or undefined when empty. */
  pop(): SimEvent | undefined {
    return this.q.pop();
  }
  peek(): SimEvent | undefined {
    return this.q.peek();
  }
  get size(): number {
    return this.q.length;
  }
}
