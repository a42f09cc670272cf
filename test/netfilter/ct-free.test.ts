// netfilter/ct-free: the ring of destroyed conntrack entries hands out the one destroyed last when it
// has been dead long enough (warm in cache: the gc has just destroyed it), else the oldest one if that
// has, else none; it keeps them in order across its growth and wrap-around (in place: one array, its
// counters in elements 0-2), stays packed, and holds at most its maximum. Deaths are kept exactly
// (two small integers): an entry is handed out once the bound reaches its expiry, not before.
import { describe, expect, it } from 'vitest';
import { freePush, freeRing, freeSize, freeTake } from '../../src/netfilter/ct-free.js';

type E = { expHi: number; expLo: number; expires: number };
const HI = 2 ** 30;
const e = (expires: number): E => ({ expHi: Math.floor(expires / HI), expLo: expires - Math.floor(expires / HI) * HI, expires });
const U = 2 ** 20;
const push = (r: ReturnType<typeof freeRing<E>>, x: E, max = 64): void => freePush(r, x, x.expHi, x.expLo, max);
/** The expiry copy's tick of `t` (ct-list's expCopy below 2^52 ns: floor over 2^21 ns). */
const tickOf = (t: number): number => Math.floor(t / 2 ** 21);
/** freePush with the death as the copy tick alone (conntrack's gc sweep, which does not read the entry). */
const pushTick = (r: ReturnType<typeof freeRing<E>>, x: E): void => freePush(r, x, tickOf(x.expires), -1, 64);
/** freeTake with the bound `t` (ns) as ConnEntry keeps times: hi * 2^30 + lo, 0 <= lo < 2^30, and its copy tick. */
const take = (r: ReturnType<typeof freeRing<E>>, t: number): E | null => freeTake(r, Math.floor(t / HI), t - Math.floor(t / HI) * HI, tickOf(t));

describe('ct-free ring', () => {
  it('takes the newest destroyed entry once it expired by the bound, else the oldest, in order across growth and wrap-around', () => {
    const r = freeRing<E>();
    const out: number[] = [];
    let t = 0;
    // Push 5, take 3, repeatedly: the newest three each time; the ring wraps and grows (8 → 16 → 32) with entries in flight.
    for (let round = 0; round < 12; round++) {
      for (let k = 0; k < 5; k++) push(r, e(U * t++));
      for (let k = 0; k < 3; k++) out.push(take(r, 1e12)!.expires / U);
    }
    expect(out).toEqual(Array.from({ length: 12 }, (_, q) => [5 * q + 4, 5 * q + 3, 5 * q + 2]).flat());
    expect(freeSize(r)).toBe(24);
    expect(r.length).toBe(3 + 3 * 32);
    expect(r[2]).toBe(31);
    // A newest entry not old enough: the rest come from the oldest end, in the order they were pushed.
    push(r, e(2 ** 50));
    const rest: number[] = [];
    for (let x = take(r, 1e12); x !== null; x = take(r, 1e12)) rest.push(x.expires / U);
    expect(rest).toEqual(Array.from({ length: 12 }, (_, q) => [5 * q, 5 * q + 1]).flat());
    expect(freeSize(r)).toBe(1);
    // No holes all along (`in` is true for every index): the ring is grown in place, never written past its length.
    for (let j = 0; j < r.length; j++) expect(j in r).toBe(true);
  });

  it('prefers the newest entry when both ends are old enough', () => {
    const r = freeRing<E>();
    for (const x of [10, 20, 30]) push(r, e(x * U));
    expect(take(r, 100 * U)?.expires).toBe(30 * U);
    expect(take(r, 25 * U)?.expires).toBe(20 * U);
    expect(take(r, 5 * U)).toBeNull();
    expect(take(r, 10 * U)?.expires).toBe(10 * U);
  });

  it('falls back to the oldest entry when the newest is not old enough, and gives none when neither is', () => {
    const r = freeRing<E>();
    for (const x of [50, 40, 10]) push(r, e(x * U));
    expect(take(r, 30 * U)?.expires).toBe(10 * U); // tail (10) old enough
    expect(take(r, 30 * U)).toBeNull(); // head 50, tail 40
    expect(take(r, 45 * U)?.expires).toBe(40 * U);
    push(r, e(60 * U));
    expect(take(r, 55 * U)?.expires).toBe(50 * U); // tail (60) too young, head (50) old enough
    expect(take(r, 60 * U)?.expires).toBe(60 * U);
    expect(freeSize(r)).toBe(0);
    expect(take(r, 1e12)).toBeNull();
  });

  it('hands an entry out exactly when the bound reaches its expiry', () => {
    for (const t of [0, 1, U - 1, U, 2 ** 30 - 1, 2 ** 30, 2 ** 30 + 1, 7 * U + 12345, 1e12 + 1, 2 ** 40 + 3, 2 ** 52 + 2]) {
      const r = freeRing<E>();
      push(r, e(t));
      expect(take(r, t - 1)).toBeNull();
      expect(take(r, t)?.expires).toBe(t);
    }
  });

  it('hands an entry pushed with its copy tick out exactly when the bound reaches its expiry too (reading the entry only within that tick)', () => {
    const T = 2 ** 21;
    for (const t of [0, 1, T - 1, T, T + 1, 2 ** 30 + 5, 7 * T + 12345, 1e12 + 1, 2 ** 40 + 3, 2 ** 51 + 2]) {
      const r = freeRing<E>();
      const x = e(t);
      pushTick(r, x);
      expect(take(r, t - 1)).toBeNull();
      expect(take(r, t)).toBe(x);
      // A bound a tick or more past the copy's tick does not read the entry (its fields wrong here: still taken).
      const y = e(t);
      pushTick(r, y);
      y.expHi = 2 ** 29;
      expect(take(r, (tickOf(t) + 1) * T)).toBe(y);
      // Within the copy's tick, the entry's exact expiry decides (made later here: not taken).
      const z = e(t);
      pushTick(r, z);
      z.expHi = 2 ** 29;
      expect(take(r, tickOf(t) * T + (T - 1))).toBeNull();
    }
    // Mixed with exact deaths: the newest first, else the oldest, as for exact ones.
    const r = freeRing<E>();
    const [a, b] = [e(5 * 2 ** 21), e(9 * 2 ** 21 + 7)];
    pushTick(r, a);
    push(r, b);
    expect(take(r, 9 * 2 ** 21)).toBe(a); // b not yet: a, the oldest
    expect(take(r, 9 * 2 ** 21 + 7)).toBe(b);
  });

  it('holds at most its maximum: further entries are dropped', () => {
    const r = freeRing<E>();
    for (let i = 0; i < 40; i++) push(r, e(i * U), 16);
    expect(freeSize(r)).toBe(16);
    const got: number[] = [];
    for (let x = take(r, 1e12); x !== null; x = take(r, 1e12)) got.push(x.expires / U);
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => 15 - i));
  });
});
