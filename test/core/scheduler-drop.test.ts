// Scheduler.drop (SimEvent.drop): a dropped event's object is placed again by a later insert only once no
// queue holds it — at once when it ran or waited in a wheel slot, only after take() popped it when it was
// lazily cancelled elsewhere — and the events run in the order new objects would have run, with the same
// counts. A pooled event or one cancelled before is never taken.
import { describe, expect, it } from 'vitest';
import { Scheduler, type SimEvent } from '../../src/core/scheduler.js';
import { Simulator } from '../../src/core/simulator.js';

const noop = (): void => {};

/** Pops everything, the arguments of the events that would run (not cancelled) in order. */
function order(s: Scheduler): unknown[] {
  const out: unknown[] = [];
  for (let ev = s.pop(); ev !== undefined; ev = s.pop()) if (!ev.cancelled) out.push(ev.a);
  return out;
}

// (near structures: before the open slot's end; the wheel: 5 ms; beyond the horizon: 20 s)
const TIMES = [3, 5_000_000, 20_000_000_000];

describe('Scheduler.drop', () => {
  it('an event in a wheel slot or one that ran is taken by the next insert; the order is that of new events', () => {
    for (const later of TIMES) {
      const a = new Scheduler();
      const b = new Scheduler();
      for (const s of [a, b]) for (let i = 0; i < 4; i++) s.insert(later + (i % 2), noop, `x${i}`);
      const wheeled = a.insert(7_000_000, noop, 'wheeled');
      b.insert(7_000_000, noop, 'wheeled').cancel();
      const fg = a.foreground;
      wheeled.drop();
      expect(wheeled.cancelled).toBe(true);
      expect(a.foreground).toBe(fg - 1);
      expect(b.foreground).toBe(a.foreground);
      const again = a.insert(later, noop, 'again');
      const fresh = b.insert(later, noop, 'again');
      expect(again).toBe(wheeled);
      expect([again.cancelled, again.popped, again.time, again.seq]).toEqual([false, false, fresh.time, fresh.seq]);
      expect(a.foreground).toBe(b.foreground);
      // one that ran (popped): the earliest, taken off as a run would
      const ranA = a.insert(0, noop, 'ran');
      b.insert(0, noop, 'ran');
      expect(a.pop()).toBe(ranA);
      b.pop();
      ranA.drop();
      expect(ranA.a).toBe(undefined); // (its arguments let go)
      const again2 = a.insert(later + 1, noop, 'again2');
      b.insert(later + 1, noop, 'again2');
      expect(again2).toBe(ranA);
      expect(a.foreground).toBe(b.foreground);
      expect(order(a)).toEqual(order(b));
    }
  });

  it('a lazily cancelled event (outside the wheel) is taken only after it was popped', () => {
    for (const time of [TIMES[0]!, TIMES[2]!]) {
      const s = new Scheduler();
      const ev = s.insert(time, noop, 'dropped');
      s.insert(time + 10, noop, 'later');
      ev.drop();
      expect(s.foreground).toBe(1);
      // still queued: a new insert is a new object
      const other = s.insert(time + 20, noop, 'other');
      expect(other).not.toBe(ev);
      // popped as a cancelled event: the next insert takes it
      expect(s.pop()).toBe(ev);
      const again = s.insert(time + 30, noop, 'again');
      expect(again).toBe(ev);
      expect(again.cancelled).toBe(false);
      expect(s.foreground).toBe(3);
      expect(order(s)).toEqual(['later', 'other', 'again']);
      expect(s.foreground).toBe(0);
    }
  });

  it('never takes a pooled event, one cancelled before, or one dropped twice', () => {
    const s = new Scheduler();
    s.post(1, noop, 'posted', undefined, false);
    const posted = s.pop()!;
    posted.drop();
    s.release(posted);
    const n1 = s.insert(2_000_000, noop, 'n1');
    expect(n1).not.toBe(posted);
    const cancelled = s.insert(3_000_000, noop, 'c');
    cancelled.cancel();
    cancelled.drop();
    expect(s.insert(4_000_000, noop, 'n2')).not.toBe(cancelled);
    // dropped twice: on the spare stack once, so two inserts get two objects
    const twice = s.insert(5_000_000, noop, 't');
    twice.drop();
    twice.drop();
    const x = s.insert(6_000_000, noop, 'x');
    const y = s.insert(6_000_000, noop, 'y');
    expect(x).toBe(twice);
    expect(y).not.toBe(twice);
    expect(order(s)).toEqual(['n1', 'n2', 'x', 'y']);
  });

  it('a run with dropped timers runs the same events in the same order as one that cancels them', () => {
    const trace = (drop: boolean): unknown[] => {
      const sim = new Simulator();
      const out: unknown[] = [];
      let timer: SimEvent | null = null;
      const fire = (i: unknown): void => {
        out.push(['timeout', i, sim.now]);
      };
      const step = (i: unknown): void => {
        const k = i as number;
        out.push(['step', k, sim.now]);
        if (timer !== null) {
          if (drop) timer.drop();
          else timer.cancel();
        }
        // timers past the horizon (lazily cancelled), in the wheel, and some left to fire
        timer = k % 5 === 4 ? null : sim.schedule(k % 3 === 0 ? 6_000_000_000 : 2_000_000 + k, fire, k);
        if (k < 200) sim.schedule(1_000_000 + (k % 7) * 300_000, step, k + 1);
      };
      sim.schedule(0, step, 0);
      sim.run();
      out.push(['events', sim.eventsExecuted]);
      return out;
    };
    expect(trace(true)).toEqual(trace(false));
  });
});
