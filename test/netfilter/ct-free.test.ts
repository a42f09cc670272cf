// netfilter/ct-free: the queue of destroyed conntrack entries hands out the one destroyed last when it
// has been dead long enough (warm in cache: the gc has just destroyed it), else the oldest one if that
// has, else none; it keeps them in order across its growth and wrap-around and holds at most its maximum.
import { describe, expect, it } from 'vitest';
import { CtFreeQueue } from '../../src/netfilter/ct-free.js';

const e = (expires: number): { expires: number } => ({ expires });

describe('CtFreeQueue', () => {
  it('takes the newest destroyed entry once it expired by the bound, else the oldest, in order across growth and wrap-around', () => {
    const q = new CtFreeQueue<{ expires: number }>(64);
    const out: number[] = [];
    let t = 0;
    // Push 5, take 3, repeatedly: the newest three each time; the ring wraps and grows (8 → 16 → 32) with entries in flight.
    for (let round = 0; round < 12; round++) {
      for (let k = 0; k < 5; k++) q.push(e(t++));
      for (let k = 0; k < 3; k++) out.push(q.takeExpiredBy(1e9)!.expires);
    }
    expect(out).toEqual(Array.from({ length: 12 }, (_, r) => [5 * r + 4, 5 * r + 3, 5 * r + 2]).flat());
    expect(q.size).toBe(24);
    // A newest entry not old enough: the rest come from the oldest end, in the order they were pushed.
    q.push(e(Infinity));
    const rest: number[] = [];
    for (let x = q.takeExpiredBy(1e9); x !== null; x = q.takeExpiredBy(1e9)) rest.push(x.expires);
    expect(rest).toEqual(Array.from({ length: 12 }, (_, r) => [5 * r, 5 * r + 1]).flat());
    expect(q.size).toBe(1);
  });

  it('prefers the newest entry when both ends are old enough', () => {
    const q = new CtFreeQueue<{ expires: number }>(64);
    for (const x of [10, 20, 30]) q.push(e(x));
    expect(q.takeExpiredBy(100)?.expires).toBe(30);
    expect(q.takeExpiredBy(25)?.expires).toBe(20);
    expect(q.takeExpiredBy(5)).toBeNull();
    expect(q.takeExpiredBy(10)?.expires).toBe(10);
  });

  it('falls back to the oldest entry when the newest is not old enough, and gives none when neither is', () => {
    const q = new CtFreeQueue<{ expires: number }>(64);
    for (const x of [50, 40, 10]) q.push(e(x));
    expect(q.takeExpiredBy(30)?.expires).toBe(10); // tail (10) old enough
    expect(q.takeExpiredBy(30)).toBeNull(); // head 50, tail 40
    expect(q.takeExpiredBy(45)?.expires).toBe(40);
    q.push(e(60));
    expect(q.takeExpiredBy(55)?.expires).toBe(50); // tail (60) too young, head (50) old enough
    expect(q.takeExpiredBy(60)?.expires).toBe(60);
    expect(q.size).toBe(0);
    expect(q.takeExpiredBy(1e9)).toBeNull();
  });

  it('holds at most its maximum: further entries are dropped', () => {
    const q = new CtFreeQueue<{ expires: number }>(16);
    for (let i = 0; i < 40; i++) q.push(e(i));
    expect(q.size).toBe(16);
    const got: number[] = [];
    for (let x = q.takeExpiredBy(1e9); x !== null; x = q.takeExpiredBy(1e9)) got.push(x.expires);
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => 15 - i));
  });
});
