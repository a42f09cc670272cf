// core/scheduler — the future event list. Layer: core (imports tinyqueue only).
// Mirrors ns-3's Scheduler: events ordered by (time, insertion sequence), so two events at the same
// instant run in the order they were scheduled; cancel is a flag checked when the event is popped.
import TinyQueue from 'tinyqueue';
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
    if (this.cancelled) return;
    this.cancelled = true;
    if (this.popped) return;
    if (!this.background) this.live.foreground--;
    this.live.cancelled++;
  }
}

/** Cancelled events tolerated in the queue before it is compacted (and never more than half of it). */
const COMPACT_MIN = 4096;

function before(x: SimEvent, y: SimEvent): number {
  return x.time - y.time || x.seq - y.seq;
}

/** Priority queue of events keyed by (time, seq). */
export class Scheduler {
  private q = new TinyQueue<SimEvent>([], before);
  private seq = 0;
  private readonly live: Live = { foreground: 0, cancelled: 0 };

  insert(time: TimeNs, fn: EventFn, a?: unknown, b?: unknown, background = false): SimEvent {
    const ev = new SimEvent(time, this.seq++, fn, a, b, background, this.live);
    if (!background) this.live.foreground++;
    if (this.live.cancelled > COMPACT_MIN && this.live.cancelled * 2 > this.q.length) this.compact();
    this.q.push(ev);
    return ev;
  }
  /**
   * Drops the cancelled events from the queue. Lazy cancel leaves a cancelled timer queued until its
   * time comes: a workload that arms and cancels long timers while the clock stands still (a
   * request timeout per failed connect) would otherwise grow the queue without bound. (time, seq) is a
   * total order, so the events still run in the same order.
   */
  private compact(): void {
    this.q = new TinyQueue<SimEvent>(this.q.data.filter((e) => !e.cancelled), before);
    this.live.cancelled = 0;
  }
  /** Removes and returns the earliest event (cancelled ones included), or undefined when empty. */
  pop(): SimEvent | undefined {
    const ev = this.q.pop();
    if (ev !== undefined && ev.cancelled) this.live.cancelled--;
    else if (ev !== undefined) {
      ev.popped = true;
      if (!ev.background) this.live.foreground--;
    }
    return ev;
  }
  /** Foreground events still to run (not cancelled). */
  get foreground(): number {
    return this.live.foreground;
  }
  peek(): SimEvent | undefined {
    return this.q.peek();
  }
  get size(): number {
    return this.q.length;
  }
}
