// core/spare-events — the events their holders let go of (SimEvent.drop) that no queue holds any more:
// the scheduler's insertStaged renews one instead of making a new event. A stack (the last one dropped,
// still in cache, goes first) of at most SPARE_MAX. Layer: core.
import type { SimEvent } from './event.js';

const SPARE_MAX = 64;

export class SpareEvents {
  private readonly stack: SimEvent[] = [];
  get n(): number {
    return this.stack.length;
  }
  /** Keeps a dropped event that no queue holds (its arguments let go: nothing runs it). */
  keep(ev: SimEvent): void {
    ev.pix = -1;
    if (this.stack.length >= SPARE_MAX) return;
    ev.a = undefined;
    ev.b = undefined;
    this.stack.push(ev);
  }
  /** The last one kept (n > 0). */
  pop(): SimEvent {
    return this.stack.pop()!;
  }
}
