// netfilter/ct-free: the queue of destroyed conntrack entries hands out the one destroyed first when it
// has been dead long enough, else the newest one if that has, else none; it keeps them in order across
// its growth and wrap-around and holds at most its maximum.
import { describe, expect, it } from 'vitest';
import { CtFreeQueue } from '../../src/netfilter/ct-free.js';

const e = (expires: number): { expires: number } => ({ expires });

describe('CtFreeQueue', () => {
  it('takes the oldest destroyed entry once it expired by the bound, in order across growth and wrap-around', () => {
    const q = new CtFreeQueue<{ expires: number }>(64);
    const out: number[] = [];
    let t = 0;
    // Push 5, take 3, repeatedly: the ring wraps and grows (8 → 16 → 32) with entries in flight.
    for (let round = 0; round < 12; round++) {
      for (let k = 0; k < 5; k++) q.push(e(t++));
      for (let k = 0; k < 3; k++) out.push(q.takeExpiredBy(1e9)!.expires);
    }
    expect(out).toEqual(Array.from({ length: 36 }, (_, i) => i));
    expect(q.size).toBe(24);
  });

  it('falls back to the newest entry when the oldest is not old enough, and gives none when neither is', () => {
    const q = new CtFreeQueue<{ expires: number }>(64);
    for (const x of [50, 40, 10]) q.push(e(x));
    expect(q.takeExpiredBy(30)?.expires).toBe(10); // head (50) too young, tail (10) old enough
    expect(q.takeExpiredBy(30)).toBeNull(); // head 50, tail 40
    expect(q.takeExpiredBy(45)?.expires).toBe(40);
    expect(q.takeExpiredBy(45)).toBeNull();
    expect(q.takeExpiredBy(50)?.expires).toBe(50);
    expect(q.size).toBe(0);
    expect(q.takeExpiredBy(1e9)).toBeNull();
  });

  it('holds at most its maximum: further entries are dropped', () => {
    const q = new CtFreeQueue<{ expires: number }>(16);
    for (let i = 0; i < 40; i++) q.push(e(i));
    expect(q.size).toBe(16);
    const got: number[] = [];
    for (let x = q.takeExpiredBy(1e9); x !== null; x = q.takeExpiredBy(1e9)) got.push(x.expires);
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });
});
