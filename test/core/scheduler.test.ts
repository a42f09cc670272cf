// core/scheduler and core/simulator: the future event list is ordered by (time, seq), a cancelled
// event never runs (it leaves the timing wheel at once, elsewhere it is skipped when popped), and
// run() stops at `until`, after `maxEvents`, or when idle.
// The scheduler tests are one conformance suite (habit 9) run against every Scheduler implementation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Scheduler, type EventFn, type SimEvent } from '../../src/core/scheduler.js';
import { RngFactory } from '../../src/core/rng.js';
import { Simulator } from '../../src/core/simulator.js';

/** What the simulator needs from a future event list. */
interface SchedulerLike {
  insert(time: number, fn: EventFn, a?: unknown, b?: unknown): SimEvent;
  pop(): SimEvent | undefined;
  peek(): SimEvent | undefined;
  readonly size: number;
}

/** Pops everything, skipping cancelled events, and returns the `a` argument of each live event. */
function drain(s: SchedulerLike): unknown[] {
  const out: unknown[] = [];
  for (let ev = s.pop(); ev !== undefined; ev = s.pop()) if (!ev.cancelled) out.push(ev.a);
  return out;
}

const noop: EventFn = () => {};

function schedulerConformance(name: string, make: () => SchedulerLike): void {
  describe(`${name} (scheduler conformance)`, () => {
    it('pops events in time order whatever the insertion order', () => {
      const s = make();
      for (const t of [50, 10, 40, 20, 30]) s.insert(t, noop, `t${t}`);
      expect(drain(s)).toEqual(['t10', 't20', 't30', 't40', 't50']);
    });

    it('pops events at the same instant in insertion (seq) order, even among 1000 of them', () => {
      const s = make();
      const want: string[] = [];
      for (let i = 0; i < 1000; i++) {
        s.insert(7, noop, `e${i}`);
        want.push(`e${i}`);
      }
      expect(drain(s)).toEqual(want);
    });

    it('orders by time first, then by seq across interleaved times', () => {
      const s = make();
      s.insert(2, noop, 'b1');
      s.insert(1, noop, 'a1');
      s.insert(2, noop, 'b2');
      s.insert(1, noop, 'a2');
      s.insert(0, noop, 'z');
      expect(drain(s)).toEqual(['z', 'a1', 'a2', 'b1', 'b2']);
    });

    it('gives increasing seq numbers in insertion order', () => {
      const s = make();
      const a = s.insert(5, noop);
      const b = s.insert(1, noop);
      expect(b.seq).toBeGreaterThan(a.seq);
    });

    it('a cancelled event lets go of its arguments and either leaves the queue at once or pops flagged as cancelled', () => {
      const s = make();
      const a = s.insert(1, noop, 'a');
      s.insert(2, noop, 'b');
      a.cancel();
      expect(a.a).toBeUndefined(); // it lets go of what it would have run with
      expect(a.cancelled).toBe(true);
      const first = s.pop()!;
      if (s.size === 1) {
        // Lazy: still queued until its time, popped as the same object, flagged.
        expect(first).toBe(a);
        expect(s.pop()!.a).toBe('b');
      } else {
        expect(first.a).toBe('b');
        expect(first.cancelled).toBe(false);
      }
      expect(s.pop()).toBeUndefined();
    });

    it('interleaved inserts and pops of 20,000 events with colliding times come out in (time, seq) order', () => {
      const s = make();
      let x = 12345;
      const rnd = (n: number): number => {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        return x % n;
      };
      const popped: SimEvent[] = [];
      let now = 0;
      for (let i = 0; i < 20_000; i++) {
        s.insert(now + rnd(50), noop, i);
        if (rnd(3) === 0) {
          const ev = s.pop()!;
          now = ev.time;
          popped.push(ev);
        }
      }
      for (let ev = s.pop(); ev !== undefined; ev = s.pop()) popped.push(ev);
      expect(popped.length).toBe(20_000);
      for (let i = 1; i < popped.length; i++) {
        const a = popped[i - 1]!;
        const b = popped[i]!;
        expect(a.time < b.time || (a.time === b.time && a.seq < b.seq)).toBe(true);
      }
    });

    it('fixed-delay timer streams mixed with random delays and cancels pop in (time, seq) order, the same as a sort', () => {
      const s = make();
      let x = 777;
      const rnd = (n: number): number => {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        return x % n;
      };
      const all: SimEvent[] = [];
      const popped: SimEvent[] = [];
      let now = 0;
      for (let i = 0; i < 30_000; i++) {
        // Six monotone streams (more than the scheduler may keep apart) and random short delays.
        const kind = rnd(8);
        const delay = kind < 6 ? [60_000, 2_000, 200, 1_000_000, 5, 0][kind]! : rnd(300);
        const ev = s.insert(now + delay, noop, i);
        all.push(ev);
        if (rnd(10) === 0) all[rnd(all.length)]!.cancel();
        if (rnd(2) === 0) {
          expect(s.peek()).toBe(s.peek());
          const peeked = s.peek()!;
          const ev2 = s.pop()!;
          expect(ev2).toBe(peeked);
          now = ev2.time;
          popped.push(ev2);
        }
      }
      for (let ev = s.pop(); ev !== undefined; ev = s.pop()) popped.push(ev);
      expect(s.size).toBe(0);
      // Popping interleaved with inserts: the popped sequence is sorted and holds every event once,
      // but for cancelled events that left the queue at cancel.
      for (let i = 1; i < popped.length; i++) expect(popped[i - 1]!.time < popped[i]!.time || (popped[i - 1]!.time === popped[i]!.time && popped[i - 1]!.seq < popped[i]!.seq)).toBe(true);
      const seen = new Set(popped);
      expect(seen.size).toBe(popped.length);
      for (const ev of all) if (!seen.has(ev)) expect(ev.cancelled && !ev.popped).toBe(true);
    });


    it('peek shows the earliest event without removing it; an empty queue gives undefined', () => {
      const s = make();
      expect(s.peek()).toBeUndefined();
      expect(s.pop()).toBeUndefined();
      s.insert(9, noop, 'late');
      s.insert(3, noop, 'early');
      expect(s.peek()!.a).toBe('early');
      expect(s.size).toBe(2);
    });
  });
}

schedulerConformance('Scheduler (default wheel: 1.05 ms x 4096)', () => new Scheduler());
// Slots inside the tests' delays, so events are split between the wheel, the near heap, the lanes and the far heap.
schedulerConformance('Scheduler (wheel of 128 ns x 64)', () => new Scheduler(7, 6));
schedulerConformance('Scheduler (wheel of 1 ns x 32)', () => new Scheduler(0, 5));
schedulerConformance('Scheduler (no wheel)', () => new Scheduler(0, 0));

describe('Scheduler compaction', () => {
  it.each([
    ['no wheel', 0, 0],
    ['a 128 ns x 64 wheel', 7, 6],
  ])('with %s, after most queued events are cancelled the queue holds only the rest, and pops them in (time, seq) order', (_name, shift, bits) => {
    const s = new Scheduler(shift, bits);
    let x = 4242;
    const rnd = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % n;
    };
    const all: SimEvent[] = [];
    // Fixed-delay streams (lanes), near and far random delays, all mixed.
    for (let i = 0; i < 20_000; i++) {
      const kind = rnd(4);
      const t = kind === 0 ? i * 10 : kind === 1 ? 1_000_000 + i * 7 : kind === 2 ? rnd(50) : rnd(10_000_000);
      all.push(s.insert(t, noop, i));
    }
    const cancelled = new Set<SimEvent>();
    for (let i = 0; i < 15_000; i++) {
      const ev = all[rnd(all.length)]!;
      ev.cancel();
      cancelled.add(ev);
    }
    // The next inserts find the cancelled events gone from the wheel, or (outside it) more than
    // 4,096 of them, over half of the queue: it is compacted.
    for (let i = 0; i < 100; i++) all.push(s.insert(rnd(1000), noop, 20_000 + i));
    expect(s.size).toBe(all.length - cancelled.size);
    const popped: SimEvent[] = [];
    for (let ev = s.pop(); ev !== undefined; ev = s.pop()) popped.push(ev);
    expect(popped.some((e) => e.cancelled)).toBe(false);
    const want = all.filter((e) => !cancelled.has(e)).sort((a, b) => a.time - b.time || a.seq - b.seq);
    expect(popped).toEqual(want);
  });
});

/**
 * One step of a random workload. insert/post: an event `delay` ns after the clock; cancel: the
 * `pick`-th handle inserted so far (maybe popped, maybe cancelled already); pop: the next event that
 * is not cancelled, run as Simulator.run does (a posted event is released after it ran); peek: the
 * earliest event queued, which (unless a cancelled one) is the next to run (peek opens wheel slots).
 */
type Op = { op: 'insert' | 'post'; delay: number } | { op: 'cancel'; pick: number } | { op: 'pop' } | { op: 'peek' };

/**
 * Delays around every structure's boundaries for a wheel of 2^shift ns x 2^bits slots: zero, within a
 * slot, on and beside slot starts (ties with lane and heap events), the horizon and beyond it, and
 * long fixed delays (lanes); a few distinct values, so events share slots and times.
 */
function delayArb(shift: number, bits: number): fc.Arbitrary<number> {
  const w = 2 ** shift;
  const horizon = w * 2 ** bits;
  return fc.oneof(
    fc.constantFrom(0, 1, w - 1, w, w + 1, 2 * w, horizon - w, horizon, horizon + w, 60_000_000_000),
    fc.tuple(fc.integer({ min: 0, max: 2 ** bits + 2 }), fc.constantFrom(-1, 0, 1)).map(([k, d]) => Math.max(0, k * w + d)),
    fc.integer({ min: 0, max: 4 * w }),
    fc.integer({ min: 0, max: 2 * horizon }),
  );
}
function opArb(shift: number, bits: number): fc.Arbitrary<Op> {
  const delay = delayArb(shift, bits);
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('insert' as const), delay }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('post' as const), delay }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }) },
    { weight: 5, arbitrary: fc.record({ op: fc.constant('pop' as const) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('peek' as const) }) },
  );
}

describe('Scheduler against a sorted reference (property)', () => {
  it.each([
    ['the default wheel', 20, 12],
    ['a 128 ns x 64 wheel', 7, 6],
    ['a 128 ns x 4 wheel', 7, 2],
    ['a 1 ns x 32 wheel', 0, 5],
    ['a 1 ns x 2 wheel', 0, 1],
    ['no wheel', 0, 0],
  ])('with %s, random inserts, posts, cancels (popped ones too) and pops run exactly the events a sorted list runs', (_name, shift, bits) => {
    fc.assert(
      fc.property(fc.array(opArb(shift, bits), { maxLength: 600 }), (ops) => {
        const s = new Scheduler(shift, bits);
        // The reference: every pending event with its key; the least (time, seq) not cancelled runs next.
        type Ref = { time: number; seq: number; id: number; cancelled: boolean };
        const pending: Ref[] = [];
        const handles: { ev: SimEvent; ref: Ref }[] = [];
        let now = 0;
        let seq = 0;
        let id = 0;
        const ran: number[] = [];
        const want: number[] = [];
        for (const o of ops) {
          if (o.op === 'insert' || o.op === 'post') {
            const ref = { time: now + o.delay, seq: seq++, id: id++, cancelled: false };
            pending.push(ref);
            if (o.op === 'insert') handles.push({ ev: s.insert(ref.time, noop, ref.id), ref });
            else s.post(ref.time, noop, ref.id, undefined, false);
          } else if (o.op === 'cancel') {
            if (handles.length === 0) continue;
            const h = handles[o.pick % handles.length]!;
            h.ev.cancel();
            h.ref.cancelled = true; // a popped one is no longer pending: no effect
            expect(h.ev.a).toBe(h.ev.popped ? h.ref.id : undefined);
          } else if (o.op === 'peek') {
            let best: Ref | undefined;
            for (const r of pending) if (!r.cancelled && (best === undefined || r.time < best.time || (r.time === best.time && r.seq < best.seq))) best = r;
            const ev = s.peek();
            expect(ev === undefined).toBe(s.size === 0);
            if (ev !== undefined && !ev.cancelled) expect(ev.a).toBe(best?.id);
          } else {
            let best = -1;
            for (let i = 0; i < pending.length; i++) {
              const r = pending[i]!;
              if (r.cancelled) continue;
              const b = best < 0 ? undefined : pending[best]!;
              if (b === undefined || r.time < b.time || (r.time === b.time && r.seq < b.seq)) best = i;
            }
            if (best >= 0) {
              const r = pending.splice(best, 1)[0]!;
              want.push(r.id);
              now = r.time;
            }
            let ev = s.pop();
            while (ev !== undefined && ev.cancelled) {
              expect(ev.a).toBeUndefined();
              expect(handles.some((h) => h.ev === ev)).toBe(true); // a cancelled event popped is a handle's, by identity
              ev = s.pop();
            }
            if (ev !== undefined) {
              expect(ev.time).toBe(now);
              ran.push(ev.a as number);
              if (ev.pooled) s.release(ev);
            }
          }
          expect(ran).toEqual(want);
          expect(s.foreground).toBe(pending.filter((r) => !r.cancelled).length);
          expect(s.size).toBeGreaterThanOrEqual(s.foreground);
        }
        // Drain: the rest in (time, seq) order.
        for (let ev = s.pop(); ev !== undefined; ev = s.pop()) if (!ev.cancelled) ran.push(ev.a as number);
        const rest = pending.filter((r) => !r.cancelled).sort((a, b) => a.time - b.time || a.seq - b.seq);
        expect(ran).toEqual([...want, ...rest.map((r) => r.id)]);
        expect(s.size).toBe(0);
      }),
      { numRuns: 300, seed: 20 },
    );
  });
});

describe('Scheduler.post (pooled events)', () => {
  it('posted and inserted events interleave in (time, seq) order, and a released event is reused by the next post', () => {
    const s = new Scheduler(7, 6);
    const order: unknown[] = [];
    const run = (): void => {
      for (let ev = s.pop(); ev !== undefined; ev = s.pop()) {
        if (ev.cancelled) continue;
        order.push(ev.a);
        if (ev.pooled) s.release(ev);
      }
    };
    s.post(5, noop, 'p5', null, false);
    s.insert(5, noop, 'i5');
    s.post(1_000, noop, 'p1000', null, false);
    s.insert(3, noop, 'i3');
    s.post(5, noop, 'p5b', null, false);
    run();
    expect(order).toEqual(['i3', 'p5', 'i5', 'p5b', 'p1000']);
    // The three posted events went back to the free list: the next posts take them, not new objects.
    const seen = new Set<SimEvent>();
    const grab = (): void => {
      const ev = s.pop()!;
      seen.add(ev);
      s.release(ev);
    };
    s.post(2_000, noop, 'x', null, false);
    grab();
    s.post(2_001, noop, 'y', null, false);
    const ev = s.peek()!;
    expect(seen.has(ev)).toBe(true); // the same object, reused
    expect(ev.a).toBe('y');
    expect(ev.popped).toBe(false);
    expect(ev.cancelled).toBe(false);
    expect(s.pop()!.time).toBe(2_001);
  });

  it('the simulator reuses posted events and runs them with their arguments, in order with scheduled ones', () => {
    const sim = new Simulator();
    const got: string[] = [];
    const f: EventFn = (a: string, b: string) => got.push(`${a}${b}@${sim.now}`);
    sim.post(10, f, 'p', '1');
    sim.schedule(10, f, 's', '1');
    sim.postAt(5, f, 'p', '0');
    sim.schedule(2_000_000, () => sim.post(0, f, 'p', '2'));
    sim.run();
    expect(got).toEqual(['p0@5', 'p1@10', 's1@10', 'p2@2000000']);
    expect(() => sim.post(-1, f)).toThrow(RangeError);
    expect(() => sim.postAt(sim.now - 1, f)).toThrow(RangeError);
  });
});

describe('Simulator', () => {
  it('runs callbacks with their two arguments and advances the clock to each event', () => {
    const sim = new Simulator();
    const seen: [number, unknown, unknown][] = [];
    const fn = (a: unknown, b: unknown) => seen.push([sim.now, a, b]);
    sim.schedule(30, fn, 'x', 1);
    sim.schedule(10, fn, 'y', 2);
    expect(sim.run()).toBe('idle');
    expect(seen).toEqual([
      [10, 'y', 2],
      [30, 'x', 1],
    ]);
    expect(sim.now).toBe(30);
  });

  it('schedules relative to the current time from inside an event', () => {
    const sim = new Simulator();
    const times: number[] = [];
    const tick = (n: number) => {
      times.push(sim.now);
      if (n > 0) sim.schedule(100, tick, n - 1);
    };
    sim.schedule(5, tick, 3);
    sim.run();
    expect(times).toEqual([5, 105, 205, 305]);
  });

  it('an event scheduled with delay 0 from inside an event runs after events already queued for now', () => {
    const sim = new Simulator();
    const order: string[] = [];
    sim.schedule(10, () => {
      order.push('first');
      sim.schedule(0, () => order.push('zero-delay'));
    });
    sim.schedule(10, () => order.push('second'));
    sim.run();
    expect(order).toEqual(['first', 'second', 'zero-delay']);
  });

  it('skips cancelled events and does not count them as executed', () => {
    const sim = new Simulator();
    const ran: string[] = [];
    const a = sim.schedule(1, () => ran.push('a'));
    sim.schedule(2, () => ran.push('b'));
    a.cancel();
    sim.run();
    expect(ran).toEqual(['b']);
    expect(sim.eventsExecuted).toBe(1);
  });

  it('an event may cancel a later one (a timer disarmed by a reply)', () => {
    const sim = new Simulator();
    const ran: string[] = [];
    const timeout = sim.schedule(100, () => ran.push('timeout'));
    sim.schedule(50, () => {
      ran.push('reply');
      timeout.cancel();
    });
    sim.run();
    expect(ran).toEqual(['reply']);
  });

  it('run({until}) executes events at exactly `until`, stops before later ones, and leaves the clock at `until`', () => {
    const sim = new Simulator();
    const ran: number[] = [];
    for (const t of [10, 20, 30]) sim.schedule(t, () => ran.push(sim.now));
    expect(sim.run({ until: 20 })).toBe('until');
    expect(ran).toEqual([10, 20]);
    expect(sim.now).toBe(20);
    expect(sim.pending).toBe(1);
    expect(sim.run()).toBe('idle');
    expect(ran).toEqual([10, 20, 30]);
  });

  it('run({until}) between events moves the clock to `until`', () => {
    const sim = new Simulator();
    sim.schedule(10, noop);
    sim.schedule(100, noop);
    expect(sim.run({ until: 55 })).toBe('until');
    expect(sim.now).toBe(55);
  });

  it('run({until}) with nothing left to run returns idle and leaves the clock at the last event', () => {
    const sim = new Simulator();
    sim.schedule(10, noop);
    expect(sim.run({ until: 1000 })).toBe('idle');
    expect(sim.now).toBe(10);
  });

  // The clock is monotonic: an `until` earlier than now must not move it back, or later schedule()
  // calls would place events before ones already executed.
  it('run({until}) earlier than now does not move the clock backwards', () => {
    const sim = new Simulator();
    sim.schedule(100, noop);
    sim.schedule(500, noop);
    sim.run({ until: 100 });
    expect(sim.now).toBe(100);
    sim.run({ until: 50 });
    expect(sim.now).toBe(100);
  });

  it('run({maxEvents}) executes exactly that many events and can be resumed', () => {
    const sim = new Simulator();
    let n = 0;
    for (let i = 1; i <= 10; i++) sim.schedule(i, () => n++);
    expect(sim.run({ maxEvents: 4 })).toBe('max-events');
    expect(n).toBe(4);
    expect(sim.now).toBe(4);
    expect(sim.eventsExecuted).toBe(4);
    expect(sim.run({ maxEvents: 100 })).toBe('idle');
    expect(n).toBe(10);
  });

  it('maxEvents does not count cancelled events', () => {
    const sim = new Simulator();
    const ran: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const ev = sim.schedule(i, () => ran.push(i));
      if (i % 2 === 1) ev.cancel();
    }
    sim.run({ maxEvents: 2 });
    expect(ran).toEqual([2, 4]);
  });

  it('run() on an empty simulator returns idle at time 0', () => {
    const sim = new Simulator();
    expect(sim.run()).toBe('idle');
    expect(sim.now).toBe(0);
  });

  it('stop() from inside an event returns "stopped" after that event', () => {
    const sim = new Simulator();
    const ran: number[] = [];
    sim.schedule(1, () => {
      ran.push(1);
      sim.stop();
    });
    sim.schedule(2, () => ran.push(2));
    expect(sim.run()).toBe('stopped');
    expect(ran).toEqual([1]);
    expect(sim.run()).toBe('idle');
    expect(ran).toEqual([1, 2]);
  });

  it('rejects negative delays and scheduling in the past', () => {
    const sim = new Simulator();
    expect(() => sim.schedule(-1, noop)).toThrow(RangeError);
    expect(() => sim.schedule(Number.NaN, noop)).toThrow(RangeError);
    sim.schedule(100, noop);
    sim.run();
    expect(() => sim.scheduleAt(99, noop)).toThrow(/past/);
  });

  it('rounds fractional delays to integer nanoseconds', () => {
    const sim = new Simulator();
    let at = -1;
    sim.schedule(10.6, () => (at = sim.now));
    sim.run();
    expect(at).toBe(11);
  });

  it('reports progress every `progressEvery` executed events', () => {
    const sim = new Simulator();
    for (let i = 1; i <= 10; i++) sim.schedule(i, noop);
    const calls: [number, number][] = [];
    sim.run({ progressEvery: 4, onProgress: (now, ev) => calls.push([now, ev]) });
    expect(calls).toEqual([
      [4, 4],
      [8, 8],
    ]);
  });
});

describe('Scheduler: a crowded wheel slot', () => {
  it('5,000 events at random times within one slot (and 20 in another) run in (time, seq) order', () => {
    const s = new Scheduler(20, 12);
    const rng = new RngFactory(7).stream('burst');
    const keys: { time: number; seq: number }[] = [];
    const add = (base: number, n: number) => {
      for (let i = 0; i < n; i++) {
        const time = base + Math.floor(rng.next() * 1000) * 1000; // ties too: 1,000 distinct times
        keys.push({ time, seq: keys.length });
        s.insert(time, noop, keys.length - 1);
      }
    };
    add(5 * 2 ** 20, 5000);
    add(9 * 2 ** 20, 20);
    const ran: number[] = [];
    for (let ev = s.pop(); ev !== undefined; ev = s.pop()) ran.push(ev.a as number);
    expect(ran).toEqual([...keys].sort((a, b) => a.time - b.time || a.seq - b.seq).map((k) => k.seq));
  });
});
