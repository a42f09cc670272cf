// Tests for netfilter/ct-hash (TupleMap): lookups by value, the recent-node slots never answer for a
// deleted or replaced tuple, deletion keeps every other tuple findable (chains), a node handed back by
// set is the tuple an entry keeps, and a node from tupleNode is adopted as is.
import { describe, expect, it } from 'vitest';
import { TupleMap, tupleNode } from '../../src/netfilter/ct-hash.js';

const tuple = (i: number) => ({ proto: 6, src: 0x0af40000 + (i % 251), sport: 10000 + i, dst: 0x0a6c4045, dport: 80 });

describe('TupleMap', () => {
  it('finds every tuple by value among thousands, and nothing once deleted (whether or not it was found last)', () => {
    const m = new TupleMap<number>();
    const n = 5000;
    for (let i = 0; i < n; i++) m.set(tuple(i), i, (i & 1) as 0 | 1);
    for (let i = 0; i < n; i++) expect(m.get({ ...tuple(i) })).toMatchObject({ ct: i, dir: i & 1 });
    expect(m.get(tuple(n))).toBeUndefined();
    // Delete half: those just found (in the recent slots) and those found long ago alike.
    for (let i = 0; i < n; i += 2) m.delete(tuple(i));
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) expect(m.get(tuple(i))).toBeUndefined();
      else expect(m.get(tuple(i))?.ct).toBe(i);
    }
    for (let i = n - 1; i >= 0; i -= 2) m.delete(tuple(i));
    for (let i = 0; i < n; i++) expect(m.has(tuple(i))).toBe(false);
  });

  it('set on a present tuple rebinds its node; the node returned carries the tuple fields', () => {
    const m = new TupleMap<string>();
    const a = m.set(tuple(1), 'a', 0);
    expect([a.proto, a.src, a.sport, a.dst, a.dport]).toEqual([6, tuple(1).src, 10001, 0x0a6c4045, 80]);
    const b = m.set({ ...tuple(1) }, 'b', 1);
    expect(b).toBe(a);
    expect(m.get(tuple(1))).toMatchObject({ ct: 'b', dir: 1 });
    m.delete(tuple(1));
    m.set(tuple(1), 'c', 0);
    expect(m.get(tuple(1))?.ct).toBe('c');
  });

  it('agrees with a Map keyed by the tuple text over a long random mix of sets and deletes (chains, high addresses and ports)', () => {
    const m = new TupleMap<number>();
    const ref = new Map<string, number>();
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    // Few distinct values per field, so the same tuples come and go many times; addresses above 2^31
    // and ports above 2^15 (sign bits in the packed words).
    const pick = (): { proto: number; src: number; sport: number; dst: number; dport: number } => ({
      proto: [1, 6, 17][rnd(3)]!,
      src: [0x0a000001, 0xc0a80001, 0xfffffffe][rnd(3)]!,
      sport: [0, 80, 40000, 65235][rnd(4)]! + rnd(300),
      dst: [0x0a000002, 0xe0000001][rnd(2)]!,
      dport: [0, 443, 65535, 0x0800][rnd(4)]!,
    });
    const text = (t: { proto: number; src: number; sport: number; dst: number; dport: number }): string => `${t.proto}/${t.src}/${t.sport}/${t.dst}/${t.dport}`;
    for (let step = 0; step < 40000; step++) {
      const t = pick();
      const op = rnd(3);
      if (op === 0) {
        m.delete(t);
        ref.delete(text(t));
      } else if (op === 1) {
        m.set(t, step, (step & 1) as 0 | 1);
        ref.set(text(t), step);
      } else {
        expect(m.get({ ...t })?.ct).toBe(ref.get(text(t)));
      }
      if (step % 5000 === 4999) expect(m.size).toBe(ref.size);
    }
  });

  it('set adopts a detached node made for the same entry and direction, and copies anything else', () => {
    const m = new TupleMap<string>();
    const n = tupleNode(6, 1, 2, 3, 4, 'x', 1);
    expect(m.set(n, 'x', 1)).toBe(n);
    expect(m.get({ proto: 6, src: 1, sport: 2, dst: 3, dport: 4 })).toBe(n);
    const other = tupleNode(6, 5, 6, 7, 8, 'x', 0);
    const put = m.set(other, 'y', 0);
    expect(put).not.toBe(other);
    expect([put.ct, put.src, put.dport]).toEqual(['y', 5, 8]);
    // Once deleted, a node is detached again and may come back.
    m.delete(n);
    expect(m.get(n)).toBeUndefined();
    expect(m.set(n, 'x', 1)).toBe(n);
  });
});
