// core/scheduler's near FIFOs and take(): events due before the open wheel slot's end that come in
// order (constant-delay streams, one transmitter's arrivals) are appended to one of two FIFOs, the rest
// go to the near heap; take(until) pops the earliest event unless it is after `until`, and
// Simulator.run stops for the same reasons, in the same order, as a peek-then-pop loop.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Scheduler, type SimEvent } from '../../src/core/scheduler.js';
import { Simulator } from '../../src/core/simulator.js';

const noop = (): void => {};

/** Pops everything not cancelled and returns the `a` argument of each, releasing posted events. */
function drain(s: Scheduler): unknown[] {
  const out: unknown[] = [];
  for (let ev = s.pop(); ev !== undefined; ev = s.pop()) {
    if (ev.cancelled) continue;
    out.push(ev.a);
    if (ev.pooled) s.release(ev);
  }
  return out;
}

describe('Scheduler near FIFOs', () => {
  it('two interleaved constant-delay streams and out-of-order events run in (time, seq) order', () => {
    const s = new Scheduler(); // 1.05 ms slots: every event below is near
    const keys: { t: number; q: number }[] = [];
    let q = 0;
    const post = (t: number): void => {
      keys.push({ t, q });
      s.post(t, noop, q++, undefined, false);
    };
    for (let i = 0; i < 200; i++) {
      post(i * 10 + 500); // stream A (a veth's constant delay)
      post(i * 10 + 320); // stream B, earlier: the other FIFO
      if (i % 7 === 0) post(i * 10 + 100); // later than neither tail: the heap
      if (i % 11 === 0) post(i * 10 + 500); // a tie with stream A's last event
    }
    expect(drain(s)).toEqual([...keys].sort((x, y) => x.t - y.t || x.q - y.q).map((k) => k.q));
  });

  it('an event beyond the wheel that the clock has reached runs before a later-sequenced near event at the same time', () => {
    // Wheel of 4 slots of 128 ns: 990 and 1000 are beyond its horizon (lanes) when inserted at 0.
    const s = new Scheduler(7, 2);
    s.insert(1000, noop, 'far');
    s.insert(990, noop, 'far-first');
    expect(s.pop()!.a).toBe('far-first'); // the open slot moves to [896, 1024): 'far' is now before its end
    s.post(1000, noop, 'near', undefined, false); // the same time, a later seq: into a FIFO
    s.post(999, noop, 'near-before', undefined, false);
    expect(drain(s)).toEqual(['near-before', 'far', 'near']);
  });

  it('an event waiting beyond the wheel runs between the events of a slot opened around it', () => {
    // Wheel of 4 slots of 128 ns. X (900) is placed beyond the horizon while slot 2 is open; Y (897)
    // and V (1000) later fall in slot 7 [896, 1024), which opens with X still waiting.
    const s = new Scheduler(7, 2);
    s.insert(300, noop, 'A');
    expect(s.pop()!.a).toBe('A');
    s.insert(900, noop, 'X');
    s.insert(700, noop, 'B');
    expect(s.pop()!.a).toBe('B');
    s.insert(897, noop, 'Y');
    s.insert(1000, noop, 'V');
    expect(drain(s)).toEqual(['Y', 'X', 'V']);
  });

  it('a reserved (older) sequence number due soon is ordered by it, not appended after a FIFO tail at its time', () => {
    const s = new Scheduler();
    const seq = s.reserveSeq();
    s.post(100, noop, 'posted', undefined, false);
    s.insertSeq(100, seq, noop, 'reserved', undefined, false);
    expect(drain(s)).toEqual(['reserved', 'posted']);
  });

  it('a FIFO keeps order over many laps of its ring (pops and appends interleaved, growth mid-lap)', () => {
    const s = new Scheduler();
    const ran: number[] = [];
    let next = 0;
    let t = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 3 + (round % 5) * 40; i++) s.post((t += 3), noop, next++, undefined, false);
      for (let i = 0; i < 2 + (round % 3) * 30; i++) {
        const ev = s.pop();
        if (ev === undefined) break;
        ran.push(ev.a as number);
        s.release(ev);
      }
    }
    ran.push(...(drain(s) as number[]));
    expect(ran).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it('compaction keeps the FIFOs\' live events in order', () => {
    const s = new Scheduler(0, 0); // no wheel: every cancel is lazy
    const evs: SimEvent[] = [];
    for (let i = 0; i < 10_000; i++) evs.push(s.insert(i, noop, i));
    for (let i = 0; i < 10_000; i++) if (i % 10 !== 3) evs[i]!.cancel();
    s.insert(10_000, noop, 10_000); // over half of the queue cancelled: compacted
    expect(s.size).toBe(1_001);
    const want = [...Array.from({ length: 1000 }, (_, i) => i * 10 + 3), 10_000];
    expect(drain(s)).toEqual(want);
  });

  it('compaction keeps the live events of a FIFO ring that has wrapped', () => {
    const s = new Scheduler(); // the default wheel: times within its open slot (1 ms) go to the near FIFOs
    const evs: SimEvent[] = [];
    for (let i = 0; i < 10_000; i++) evs.push(s.insert(i, noop, i)); // one FIFO, grown to 16,384 slots
    for (let i = 0; i < 9_000; i++) expect(s.pop()!.a).toBe(i); // its head at 9,000
    for (let i = 10_000; i < 18_000; i++) evs.push(s.insert(i, noop, i)); // past slot 16,383: wrapped
    for (let i = 9_000; i < 18_000; i++) if (i % 10 !== 3) evs[i]!.cancel(); // lazy: 8,100 of 9,000
    s.insert(18_000, noop, 18_000); // compacted
    expect(s.size).toBe(901);
    const want = [...Array.from({ length: 900 }, (_, i) => 9_003 + i * 10), 18_000];
    expect(drain(s)).toEqual(want);
  });
});

describe('Scheduler.take', () => {
  it('takes events up to `until` and leaves a later one queued', () => {
    const s = new Scheduler(7, 2);
    s.insert(10, noop, 'a');
    s.insert(20, noop, 'b');
    s.insert(5000, noop, 'c'); // beyond the wheel
    expect(s.take(15)!.a).toBe('a');
    expect(s.take(15)).toBeUndefined();
    expect(s.size).toBe(2);
    expect(s.take(20)!.a).toBe('b');
    expect(s.take(4999)).toBeUndefined();
    expect(s.take(5000)!.a).toBe('c');
    expect(s.take(Infinity)).toBeUndefined();
  });

  it('a lazily cancelled event at the head is taken (flagged) like any other', () => {
    const s = new Scheduler(0, 0);
    const a = s.insert(10, noop, 'a');
    s.insert(20, noop, 'b');
    a.cancel();
    const ev = s.take(10)!;
    expect(ev.cancelled).toBe(true);
    expect(s.take(10)).toBeUndefined();
    expect(s.foreground).toBe(1);
  });
});

type Op = { op: 'stream'; k: number } | { op: 'post'; delay: number } | { op: 'reserve' } | { op: 'insertReserved'; delay: number } | { op: 'take'; ahead: number };

describe('Scheduler near FIFOs against a sorted reference (property)', () => {
  it.each([
    ['the default wheel', 20, 12],
    ['a 128 ns x 8 wheel', 7, 3],
    ['no wheel', 0, 0],
  ])('with %s, constant-delay streams, other posts, reserved inserts and take(until) run what a sorted list runs', (_name, shift, bits) => {
    const delays = [40, 75, 130, 900];
    const arb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('stream' as const), k: fc.integer({ min: 0, max: delays.length - 1 }) }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('post' as const), delay: fc.integer({ min: 0, max: 2000 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('reserve' as const) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('insertReserved' as const), delay: fc.integer({ min: 0, max: 200 }) }) },
      { weight: 5, arbitrary: fc.record({ op: fc.constant('take' as const), ahead: fc.integer({ min: -1, max: 150 }) }) },
    );
    fc.assert(
      fc.property(fc.array(arb, { maxLength: 500 }), (ops) => {
        const s = new Scheduler(shift, bits);
        type Ref = { time: number; seq: number; id: number };
        const pending: Ref[] = [];
        const reserved: number[] = [];
        let now = 0;
        let seq = 0;
        let id = 0;
        const ran: number[] = [];
        const want: number[] = [];
        const add = (time: number, q: number, reservedSeq: boolean): void => {
          const ref = { time, seq: q, id: id++ };
          pending.push(ref);
          if (reservedSeq) s.insertSeq(time, q, noop, ref.id, undefined, false);
          else s.post(time, noop, ref.id, undefined, false);
        };
        for (const o of ops) {
          if (o.op === 'stream') add(now + delays[o.k]!, seq++, false);
          else if (o.op === 'post') add(now + o.delay, seq++, false);
          else if (o.op === 'reserve') {
            reserved.push(seq++);
            s.reserveSeq();
          } else if (o.op === 'insertReserved') {
            const q = reserved.shift();
            if (q !== undefined) add(now + o.delay, q, true);
          } else {
            // take(until): until = the earliest pending time + ahead (-1: just before it).
            pending.sort((a, b) => a.time - b.time || a.seq - b.seq);
            const until = pending.length > 0 ? pending[0]!.time + o.ahead : now + o.ahead;
            const ev = s.take(until);
            if (pending.length > 0 && pending[0]!.time <= until) {
              const r = pending.shift()!;
              want.push(r.id);
              now = r.time;
              expect(ev).toBeDefined();
              expect(ev!.time).toBe(r.time);
              ran.push(ev!.a as number);
              s.release(ev!);
            } else expect(ev).toBeUndefined();
          }
          expect(ran).toEqual(want);
          expect(s.size).toBe(pending.length);
          expect(s.foreground).toBe(pending.length);
        }
        const rest = pending.sort((a, b) => a.time - b.time || a.seq - b.seq).map((r) => r.id);
        expect(drain(s)).toEqual(rest);
      }),
      { numRuns: 300, seed: 27 },
    );
  });
});

describe('Simulator.run stop reasons', () => {
  it('after maxEvents, a next event beyond `until` stops the run at `until` (the clock moved), not at max-events', () => {
    const sim = new Simulator();
    for (const t of [10, 20, 30]) sim.schedule(t, noop);
    expect(sim.run({ until: 25, maxEvents: 2 })).toBe('until');
    expect(sim.now).toBe(25);
    expect(sim.pending).toBe(1);
  });

  it('after maxEvents, an empty queue or only background events left is idle', () => {
    const sim = new Simulator();
    sim.schedule(10, noop);
    sim.schedule(20, noop);
    expect(sim.run({ maxEvents: 2 })).toBe('idle');
    sim.schedule(5, noop);
    sim.scheduleBackground(50, noop);
    expect(sim.run({ maxEvents: 1 })).toBe('idle');
    expect(sim.pending).toBe(1);
    sim.schedule(5, noop);
    sim.schedule(6, noop);
    expect(sim.run({ maxEvents: 1 })).toBe('max-events');
  });

  it('a run with `until` runs background events up to it; without, it stops when only background ones are left', () => {
    const sim = new Simulator();
    const ran: string[] = [];
    sim.scheduleBackground(10, () => ran.push('bg10'));
    sim.schedule(20, () => ran.push('fg20'));
    sim.scheduleBackground(30, () => ran.push('bg30'));
    expect(sim.run()).toBe('idle');
    expect(ran).toEqual(['bg10', 'fg20']);
    expect(sim.run({ until: 40 })).toBe('idle');
    expect(ran).toEqual(['bg10', 'fg20', 'bg30']);
  });
});
