// Tests for netfilter/ct-hash (TupleMap): lookups by value, the recent-node slots never answer for a
// deleted or replaced tuple, and a node handed back by set is the tuple an entry keeps.
import { describe, expect, it } from 'vitest';
import { TupleMap } from '../../src/netfilter/ct-hash.js';

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
});
