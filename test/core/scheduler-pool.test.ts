// core/scheduler's pool of posted events (SimEvent.pix / nextFree: a free list of indices, last freed
// first) and takenT (the time of the event take() returned, from the key that found it).
import { describe, expect, it } from 'vitest';
import { Scheduler, type SimEvent } from '../../src/core/scheduler.js';

const noop = (): void => {};

/** Pops every event, releasing each (as Simulator.run does); returns them in order (their first arguments in `args`). */
function drain(s: Scheduler, args: unknown[] = []): SimEvent[] {
  const out: SimEvent[] = [];
  for (let ev = s.pop(); ev !== undefined; ev = s.pop()) {
    out.push(ev);
    args.push(ev.a);
    s.release(ev);
  }
  return out;
}

describe('Scheduler pool of posted events', () => {
  it('reuses the events that ran, the last one released first, and makes new ones only when none is free', () => {
    const s = new Scheduler();
    for (let i = 0; i < 3; i++) s.post(10 + i, noop, i, undefined, false);
    const args: unknown[] = [];
    const ran = drain(s, args);
    expect(args).toEqual([0, 1, 2]);
    expect(ran.every((e) => e.pooled && e.a === undefined)).toBe(true);
    for (let i = 0; i < 4; i++) s.post(100 + i, noop, 10 + i, undefined, false);
    const args2: unknown[] = [];
    const again = drain(s, args2);
    expect(args2).toEqual([10, 11, 12, 13]);
    // released 0, 1, 2: taken back 2, 1, 0, then a new one
    expect(again.slice(0, 3)).toEqual([ran[2], ran[1], ran[0]]);
    expect(ran.includes(again[3]!)).toBe(false);
    expect(new Set(again.map((e) => e.pix)).size).toBe(4);
  });

  it('takes no inserted (caller-held) event into the pool', () => {
    const s = new Scheduler();
    const held = s.insert(5, noop, 'held');
    drain(s);
    expect(held.pooled).toBe(false);
    s.post(20, noop, 'posted', undefined, false);
    const [ev] = drain(s);
    expect(ev).not.toBe(held);
    expect(ev!.a).toBeUndefined(); // (released)
  });

  it('keeps at most 8192 events: one posted beyond, all in use, is a plain event', () => {
    const s = new Scheduler();
    for (let i = 0; i < 8200; i++) s.post(i, noop, i, undefined, false);
    const ran = drain(s);
    expect(ran.filter((e) => e.pooled).length).toBe(8192);
    expect(ran.slice(8192).every((e) => !e.pooled)).toBe(true);
    expect(new Set(ran.slice(0, 8192).map((e) => e.pix)).size).toBe(8192);
    for (let i = 0; i < 8200; i++) s.post(10_000 + i, noop, i, undefined, false);
    const again = drain(s);
    // the 8192 pooled ones came back (last released first), then plain ones
    expect(again.slice(0, 8192)).toEqual(ran.slice(0, 8192).reverse());
    expect(again.slice(8192).every((e) => !e.pooled && !ran.includes(e))).toBe(true);
  });
});

describe('Scheduler.takenT', () => {
  it('is the time of the event take() returned, from whichever structure held it', () => {
    const s = new Scheduler();
    const times: number[] = [];
    // near FIFOs (in order), the near heap (out of order), the wheel (ms ahead), the lanes / far heap (beyond 4.3 s)
    for (const t of [3, 7, 7, 5, 1, 2_000_000, 1_500_000, 3e9 + 1, 9e9, 2 ** 40 + 3, 20e9, 5e6]) {
      times.push(t);
      if (t % 2 === 0) s.insert(t, noop, t);
      else s.post(t, noop, t, undefined, false);
    }
    const seen: number[] = [];
    for (let ev = s.take(Infinity); ev !== undefined; ev = s.take(Infinity)) {
      expect(s.takenT).toBe(ev.time);
      seen.push(s.takenT);
    }
    expect(seen).toEqual(times.sort((x, y) => x - y));
  });
});
