// core/scheduler keeps the wheel's events in one flat array, SLOT_INLINE (8) a slot, the rest of a
// slot in an overflow array of its own, and sorts an opened slot in place in its part of that array
// (an overflowing slot's events are gathered into an array of their own). What must hold: a cancel
// swaps the slot's last event into the hole across the inline/overflow boundary, a slot's part is
// taken again one wheel turn later only after its run is consumed, and compaction takes a run out of
// the flat array. Each test fails when one of these is off (e.g. the overflow index not rebased, or a
// run read from the wrong base).
import { describe, expect, it } from 'vitest';
import { Scheduler, type EventFn, type SimEvent } from '../../src/core/scheduler.js';

const noop: EventFn = () => {};

/** Pops everything; the non-cancelled events' first arguments, in order. */
function drain(s: Scheduler): unknown[] {
  const out: unknown[] = [];
  for (let ev = s.pop(); ev !== undefined; ev = s.pop()) if (!ev.cancelled) out.push(ev.a);
  return out;
}

/** A small deterministic generator (a 32-bit LCG): the test's own, no Math.random. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

describe('Scheduler flat wheel', () => {
  it('cancels from both sides of a slot’s inline/overflow boundary and keeps (time, seq) order', () => {
    for (const cancelAt of [[0], [7], [8], [11], [2, 9], [11, 10, 9, 8], [0, 1, 2, 3, 4, 5, 6, 7]]) {
      const s = new Scheduler(4, 3); // 8 slots of 16 ns: times [32, 48) are slot 2
      const evs: SimEvent[] = [];
      for (let i = 0; i < 12; i++) evs.push(s.insert(32 + ((i * 7) % 16), noop, i));
      for (const i of cancelAt) evs[i]!.cancel();
      // Two more after the cancels: they take the freed places (inline or overflow).
      evs.push(s.insert(40, noop, 12), s.insert(33, noop, 13));
      const want = evs
        .map((ev, i) => ({ t: ev.time, i }))
        .filter(({ i }) => !cancelAt.includes(i))
        .sort((p, q) => p.t - q.t || p.i - q.i)
        .map(({ i }) => i);
      expect(drain(s), `cancelled ${cancelAt.join(',')}`).toEqual(want);
      expect(s.size).toBe(0);
    }
  });

  it('matches a sorted reference over random inserts, cancels and moves on wheels that wrap and overflow', () => {
    for (const [shift, bits] of [
      [2, 2],
      [3, 3],
      [1, 4],
    ] as [number, number][]) {
      const rnd = lcg(shift * 31 + bits);
      const s = new Scheduler(shift, bits);
      const horizon = 2 ** (shift + bits);
      const live = new Map<number, { ev: SimEvent; t: number; q: number }>();
      let tag = 0;
      let q = 0;
      let now = 0;
      const out: number[] = [];
      const want: number[] = [];
      for (let step = 0; step < 4000; step++) {
        const r = rnd();
        if (r < 0.5) {
          // Mostly within the wheel, some beyond it; bursts in one slot overflow it.
          const t = now + 1 + Math.floor(rnd() * (rnd() < 0.9 ? horizon : 3 * horizon));
          const burst = rnd() < 0.05 ? 12 : 1;
          for (let b = 0; b < burst; b++) {
            live.set(tag, { ev: s.insert(t, noop, tag), t, q: q++ });
            tag++;
          }
        } else if (r < 0.65 && live.size > 0) {
          const keys = [...live.keys()];
          const k = keys[Math.floor(rnd() * keys.length)]!;
          live.get(k)!.ev.cancel();
          live.delete(k);
        } else if (r < 0.75 && live.size > 0) {
          const keys = [...live.keys()];
          const k = keys[Math.floor(rnd() * keys.length)]!;
          const t = now + 1 + Math.floor(rnd() * horizon);
          const ev = s.move(live.get(k)!.ev, t, noop, tag, undefined, false);
          live.delete(k);
          live.set(tag, { ev, t, q: q++ });
          tag++;
        } else {
          // Pop the earliest: it must be the reference's least (time, order of placing).
          const ev = s.pop();
          if (ev === undefined) continue;
          if (ev.cancelled) continue;
          const a = ev.a as number;
          const ref = [...live.entries()].sort((x, y) => x[1].t - y[1].t || x[1].q - y[1].q)[0]!;
          out.push(a);
          want.push(ref[0]);
          live.delete(a);
          now = ev.time;
        }
      }
      const rest = [...live.entries()].sort((x, y) => x[1].t - y[1].t || x[1].q - y[1].q).map((e) => e[0]);
      expect(out).toEqual(want);
      expect(drain(s)).toEqual(rest);
      expect(s.size).toBe(0);
    }
  });

  it('compacts a run that sorts in the flat array (lazily cancelled events of it dropped, the rest kept in order)', () => {
    const s = new Scheduler(4, 3); // 16 ns slots
    const run: SimEvent[] = [];
    for (let i = 0; i < 5; i++) run.push(s.insert(20 + ((i * 3) % 5), noop, `r${i}`)); // slot 1: times 20..24
    expect(s.pop()!.a).toBe('r0'); // opens slot 1 (t 20); the other four are its run, in the flat array
    run[2]!.cancel(); // (in the run: a lazy cancel)
    // 5,000 near events (before the open slot's end, 32), all cancelled: a place past 4,096 of them compacts.
    for (let i = 0; i < 5000; i++) s.insert(25, noop, 'x').cancel();
    s.insert(26, noop, 'after');
    expect(s.size).toBeLessThan(1000); // compacted once (5,005 queued otherwise)
    // r4 at 22, r1 at 23, r3 at 24 (r2, at 21, cancelled), then 'after' (26).
    expect(drain(s)).toEqual(['r4', 'r1', 'r3', 'after']);
    // The slot's part of the flat array is free again: a turn later it takes 8 events in order.
    const now = 20 + 16 * 8;
    for (let i = 0; i < 8; i++) s.insert(now + 7 - i, noop, i);
    expect(drain(s)).toEqual([7, 6, 5, 4, 3, 2, 1, 0]);
  });
});
