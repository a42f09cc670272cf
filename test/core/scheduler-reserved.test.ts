// core/scheduler reserveSeq + insertSeq (Simulator.reserveSeq / scheduleReserved): an event inserted
// later with a sequence number taken earlier runs exactly where an event inserted at that moment would
// have run — in the near heap, the timing wheel and beyond the wheel's horizon (where a lane's tail may
// have the same time and a later seq) — so a caller may queue timers itself and hand the scheduler
// only the earliest (TCP's TIME_WAIT expiries, transport/tcp/timewait.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Scheduler, type EventFn } from '../../src/core/scheduler.js';
import { Simulator } from '../../src/core/simulator.js';

const noop: EventFn = () => {};

function drain(s: Scheduler): unknown[] {
  const out: unknown[] = [];
  for (let ev = s.pop(); ev !== undefined; ev = s.pop()) if (!ev.cancelled) out.push(ev.a);
  return out;
}

describe('Scheduler.reserveSeq / insertSeq', () => {
  it('an event inserted with an older seq runs before a later-inserted one at the same time, beyond the horizon too', () => {
    // A small wheel (8 slots of 16 ns): 1000 is beyond it, where lanes append in insertion order.
    const s = new Scheduler(4, 3);
    const seq = s.reserveSeq();
    s.insert(1000, noop, 'plain');
    s.insert(5, noop, 'near');
    s.insertSeq(1000, seq, noop, 'reserved', undefined, false);
    expect(drain(s)).toEqual(['near', 'reserved', 'plain']);
  });

  it('keeps the exact seq given, a heap number from a Float64Array or one past 2^31 (insertSeq stores a small integer only below it)', () => {
    const s = new Scheduler(4, 3);
    const keys = new Float64Array([2 ** 31 + 1, 2 ** 31 - 1, 2 ** 31, 3]);
    const evs = [...keys].map((q, i) => s.insertSeq(40, q, noop, i, undefined, false));
    expect(evs.map((e) => e.seq)).toEqual([...keys]);
    expect(drain(s)).toEqual([3, 1, 2, 0]); // same time: by seq
  });

  it('random mixes: reserving then inserting later gives the order of inserting at once (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ t: fc.integer({ min: 0, max: 400 }), defer: fc.boolean(), cancel: fc.boolean() }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 0, max: 50 }),
        (ops, popEvery) => {
          const ref = new Scheduler(4, 3);
          const s = new Scheduler(4, 3);
          const deferred: { t: number; seq: number; tag: number }[] = [];
          const refOut: unknown[] = [];
          const out: unknown[] = [];
          ops.forEach((o, tag) => {
            const r = ref.insert(o.t, noop, tag);
            if (o.defer) deferred.push({ t: o.t, seq: s.reserveSeq(), tag });
            else {
              const e = s.insert(o.t, noop, tag);
              if (o.cancel) e.cancel();
            }
            if (!o.defer && o.cancel) r.cancel();
          });
          // Pop a few from both (only events before every deferred time, so the deferred ones are not yet due).
          const minDeferred = Math.min(...deferred.map((d) => d.t));
          for (let i = 0; i < popEvery; i++) {
            const p = ref.peek();
            if (p === undefined || p.time >= minDeferred) break;
            const a = ref.pop()!;
            const b = s.pop()!;
            if (!a.cancelled) refOut.push(a.a);
            if (!b.cancelled) out.push(b.a);
          }
          for (const d of deferred) s.insertSeq(d.t, d.seq, noop, d.tag, undefined, false);
          refOut.push(...drain(ref));
          out.push(...drain(s));
          expect(out).toEqual(refOut);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the simulator runs a reserved event where a scheduled one would have run, with the background flag of the reservation', () => {
    const sim = new Simulator();
    const log: string[] = [];
    let seq = -1;
    let bg = true;
    sim.schedule(10, () => {
      seq = sim.reserveSeq();
      bg = sim.backgroundNow;
      sim.schedule(90, () => log.push('later'));
    });
    sim.schedule(50, () => sim.scheduleReserved(100, seq, bg, () => log.push('reserved')));
    expect(sim.run()).toBe('idle');
    expect(log).toEqual(['reserved', 'later']);
    expect(bg).toBe(false);
    expect(sim.eventsExecuted).toBe(4);
  });
});
