// core/scheduler move (Simulator.rescheduleAt): re-arming a pending timer in place gives exactly the
// order, the counts and the foreground accounting of cancelling it and inserting a new event — the
// TCP socket's one timer event is re-armed this way (transport/tcp/timers.ts armTimer) — and it keeps
// the object only where that is safe (a wheel slot not yet opened).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Scheduler, type EventFn, type SimEvent } from '../../src/core/scheduler.js';
import { Simulator } from '../../src/core/simulator.js';

const noop: EventFn = () => {};

/** Wheel sizes that put events in every structure: default, small, tiny, and one slot per ns. */
const WHEELS: [number, number][] = [
  [20, 12],
  [4, 3],
  [7, 6],
  [0, 5],
];

describe('Scheduler.move', () => {
  it('moves a timer waiting in a wheel slot without a new object, and it runs at its new time in its new place', () => {
    const s = new Scheduler(4, 6); // slots of 16 ns, horizon 1024 ns
    const t = s.insert(500, noop, 'timer');
    s.insert(100, noop, 'a');
    s.insert(300, noop, 'b');
    expect(t.slot).toBeGreaterThanOrEqual(0);
    const moved = s.move(t, 300, noop, 'timer2', undefined, false);
    expect(moved).toBe(t);
    expect(moved.time).toBe(300);
    expect(s.size).toBe(3);
    const out: unknown[] = [];
    for (let ev = s.pop(); ev !== undefined; ev = s.pop()) if (!ev.cancelled) out.push(ev.a);
    // Moved after 'b' was inserted: same time, larger seq, so after it.
    expect(out).toEqual(['a', 'b', 'timer2']);
  });

  it('cancels and inserts anew when the event is queued elsewhere than an unopened wheel slot (near heap, opened slot, beyond) or cancelled; reuses a popped one', () => {
    const s = new Scheduler(4, 3); // slots of 16 ns, horizon 128 ns
    const near = s.insert(0, noop, 'near');
    const far = s.insert(10_000, noop, 'far');
    const m1 = s.move(near, 5, noop, 'near2', undefined, false);
    const m2 = s.move(far, 20_000, noop, 'far2', undefined, false);
    expect(m1).not.toBe(near);
    expect(m2).not.toBe(far);
    expect(near.cancelled).toBe(true);
    expect(far.cancelled).toBe(true);
    const lazy = s.pop()!; // 'near', cancelled: popped without running (it cannot be told from a cancelled one still queued)
    expect([lazy.a, lazy.cancelled, lazy.popped]).toEqual([undefined, true, false]);
    const popped = s.pop()!; // 'near2', taken off to run
    expect([popped.a, popped.popped]).toEqual(['near2', true]);
    const sizeBefore = s.size;
    const again = s.move(popped, 7, noop, 'x', undefined, false);
    expect(again).toBe(popped); // taken off the queue: nothing holds it, placed again as it is
    expect([again.cancelled, again.popped, again.time, again.a, s.size]).toEqual([false, false, 7, 'x', sizeBefore + 1]);
    expect(s.foreground).toBe(2); // far2 and x
    expect(s.pop()!.a).toBe('x');
    const dead = s.insert(50, noop, 'dead');
    dead.cancel();
    const revived = s.move(dead, 60, noop, 'revived', undefined, false);
    expect(revived).not.toBe(dead);
    expect(revived.cancelled).toBe(false);
  });

  for (const [shift, bits] of WHEELS) {
    it(`random inserts, moves, cancels and pops run what cancel + insert runs (wheel 2^${shift} ns x ${2 ** bits}; property)`, () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              op: fc.constantFrom('insert', 'insert', 'move', 'move', 'cancel', 'pop', 'pop'),
              d: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 5000 }), fc.constantFrom(0, 16, 128, 1 << shift, (1 << shift) << bits)),
              k: fc.nat(),
              bg: fc.boolean(),
            }),
            { minLength: 1, maxLength: 300 },
          ),
          (ops) => {
            const ref = new Scheduler(shift, bits);
            const s = new Scheduler(shift, bits);
            // Handles by timer number: what the reference and the scheduler under test hold.
            const refEv: SimEvent[] = [];
            const ev: SimEvent[] = [];
            const refOut: unknown[] = [];
            const out: unknown[] = [];
            let now = 0;
            let tag = 0;
            for (const o of ops) {
              if (o.op === 'insert') {
                refEv.push(ref.insert(now + o.d, noop, tag, undefined, o.bg));
                ev.push(s.insert(now + o.d, noop, tag, undefined, o.bg));
                tag++;
              } else if (o.op === 'move' && ev.length > 0) {
                const i = o.k % ev.length;
                refEv[i]!.cancel();
                refEv[i] = ref.insert(now + o.d, noop, tag, undefined, o.bg);
                ev[i] = s.move(ev[i]!, now + o.d, noop, tag, undefined, o.bg);
                tag++;
              } else if (o.op === 'cancel' && ev.length > 0) {
                const i = o.k % ev.length;
                refEv[i]!.cancel();
                ev[i]!.cancel();
              } else if (o.op === 'pop') {
                const a = ref.pop();
                const b = s.pop();
                expect(b === undefined).toBe(a === undefined);
                if (a !== undefined && b !== undefined) {
                  now = a.time;
                  expect(b.time).toBe(a.time);
                  if (!a.cancelled) refOut.push(a.a);
                  if (!b.cancelled) out.push(b.a);
                }
              }
              expect(s.foreground).toBe(ref.foreground);
            }
            for (let a = ref.pop(); a !== undefined; a = ref.pop()) if (!a.cancelled) refOut.push(a.a);
            for (let b = s.pop(); b !== undefined; b = s.pop()) if (!b.cancelled) out.push(b.a);
            expect(out).toEqual(refOut);
            expect(s.foreground).toBe(0);
          },
        ),
        { numRuns: 200 },
      );
    });
  }

  it('Simulator.rescheduleAt: a re-armed timer runs once, at its last time, with the background flag of the re-arm', () => {
    const sim = new Simulator();
    const log: string[] = [];
    let timer: SimEvent | null = null;
    const fire = (what: string): void => {
      log.push(`${what}@${sim.now}`);
    };
    timer = sim.rescheduleAt(timer, 3_000_000, fire, 'first');
    sim.schedule(1_000_000, () => {
      timer = sim.rescheduleAt(timer, 2_000_000, fire, 'second');
    });
    sim.run();
    expect(log).toEqual(['second@2000000']);
    expect(sim.eventsExecuted).toBe(2);
    // A background re-arm makes a background event: a run without a duration does not wait for it.
    const bgSim = new Simulator();
    let t2: SimEvent | null = bgSim.rescheduleAt(null, 5_000_000, fire, 'fg');
    bgSim.inBackground(() => {
      t2 = bgSim.rescheduleAt(t2, 6_000_000, fire, 'bg');
    });
    expect(bgSim.run()).toBe('idle');
    expect(bgSim.eventsExecuted).toBe(0);
    expect(() => sim.rescheduleAt(null, sim.now - 1, fire)).toThrow(RangeError);
  });

  it('Simulator.rescheduleAt: a timer re-armed by its own run, or after it ran, is the same object and runs again in order', () => {
    const sim = new Simulator();
    const log: string[] = [];
    let timer: SimEvent | null = null;
    const objects = new Set<SimEvent>();
    const tick = (n: number): void => {
      log.push(`tick${n}@${sim.now}`);
      if (n < 3) timer = sim.rescheduleAt(timer, sim.now + 1_000, tick, n + 1); // from inside its own run
      objects.add(timer!);
    };
    timer = sim.rescheduleAt(timer, 1_000, tick, 0);
    sim.schedule(1_500, () => log.push(`other@${sim.now}`));
    sim.schedule(2_000, () => log.push(`same-time-earlier@${sim.now}`)); // inserted before tick2's re-arm: runs first
    sim.run();
    expect(log).toEqual(['tick0@1000', 'other@1500', 'same-time-earlier@2000', 'tick1@2000', 'tick2@3000', 'tick3@4000']);
    expect(objects.size).toBe(1);
    // After it ran (the run is over): re-armed again, the same object, once.
    const again = sim.rescheduleAt(timer, 10_000, tick, 3);
    expect(again).toBe(timer);
    sim.run();
    expect(log.slice(-1)).toEqual(['tick3@10000']);
    expect(sim.eventsExecuted).toBe(7);
  });
});
