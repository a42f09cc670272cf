// Tests for netfilter/ct-hash (TupleMap): an entry is found by value under each of its two tuples with
// the direction of the tuple, the recent slots never answer for a deleted or rebound tuple, deletion
// keeps every other tuple findable (probe runs, backward shift, growth), a tuple set again for another
// entry is rebound, insert adds only a tuple not held (else answers its holder), and delete takes out
// only the (entry, direction) it names.
import { describe, expect, it } from 'vitest';
import { TupleMap, packPorts, type CtKeys } from '../../src/netfilter/ct-hash.js';

interface T {
  proto: number;
  src: number;
  sport: number;
  dst: number;
  dport: number;
}

/** Every entry made, by its `pos` (what conntrack's CtList is to the map). */
const REG: E[] = [];
/** The owner of the entries made from now on (a table's: each map answers only for entries it owns). */
let owner: object = {};
/** A map owning the entries made from now on. */
const newMap = (): TupleMap<E> => new TupleMap<E>(REG, (owner = {}));

/** An entry whose ORIGINAL tuple is `o` and REPLY tuple `r` (the inverse of `o` unless given). */
class E implements CtKeys {
  readonly owner = owner;
  pos: number;
  proto: number;
  oSrc: number;
  oDst: number;
  oPorts: number;
  rSrc: number;
  rDst: number;
  rPorts: number;
  constructor(
    readonly name: number | string,
    o: T,
    r: T = { proto: o.proto, src: o.dst, sport: o.dport, dst: o.src, dport: o.sport },
  ) {
    this.pos = REG.push(this) - 1;
    this.proto = o.proto;
    [this.oSrc, this.oDst, this.oPorts] = [o.src | 0, o.dst | 0, packPorts(o.sport, o.dport)];
    [this.rSrc, this.rDst, this.rPorts] = [r.src | 0, r.dst | 0, packPorts(r.sport, r.dport)];
  }
}

const tuple = (i: number): T => ({ proto: 6, src: 0x0af40000 + (i % 251), sport: 10000 + i, dst: 0x0a6c4045, dport: 80 });
const inv = (t: T): T => ({ proto: t.proto, src: t.dst, sport: t.dport, dst: t.src, dport: t.sport });

describe('TupleMap', () => {
  it('finds every entry under both tuples among thousands, and nothing once deleted (whether or not it was found last)', () => {
    const m = newMap();
    const n = 5000;
    const es = Array.from({ length: n }, (_, i) => new E(i, tuple(i)));
    for (const e of es) {
      m.set(e, 0);
      m.set(e, 1);
    }
    expect(m.size).toBe(2 * n);
    for (let i = 0; i < n; i++) {
      expect(m.get({ ...tuple(i) })).toBe(es[i]);
      expect(m.dir).toBe(0);
      expect(m.get(inv(tuple(i)))).toBe(es[i]);
      expect(m.dir).toBe(1);
    }
    expect(m.get(tuple(n))).toBeUndefined();
    // Delete half: those just found (in the recent slots) and those found long ago alike.
    for (let i = 0; i < n; i += 2) {
      m.delete(es[i]!, 0);
      m.delete(es[i]!, 1);
    }
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) expect([m.get(tuple(i)), m.get(inv(tuple(i)))]).toEqual([undefined, undefined]);
      else expect([m.get(tuple(i)), m.get(inv(tuple(i)))]).toEqual([es[i], es[i]]);
    }
    for (let i = n - 1; i >= 0; i -= 2) {
      m.delete(es[i]!, 1);
      m.delete(es[i]!, 0);
    }
    expect(m.size).toBe(0);
    for (let i = 0; i < n; i++) expect(m.has(tuple(i)) || m.has(inv(tuple(i)))).toBe(false);
  });

  it('a tuple set for another entry is rebound to it; delete takes out only the (entry, direction) it names', () => {
    const m = newMap();
    const a = new E('a', tuple(1));
    m.set(a, 0);
    expect(m.get(tuple(1))).toBe(a); // now in a recent slot
    // b's REPLY tuple is a's ORIGINAL one.
    const b = new E('b', { proto: 6, src: 0x0b000001, sport: 5, dst: 0x0b000002, dport: 6 }, tuple(1));
    m.set(b, 1);
    expect(m.size).toBe(1);
    expect(m.get({ ...tuple(1) })).toBe(b);
    expect(m.dir).toBe(1);
    m.delete(a, 0); // a no longer holds it: nothing happens
    expect(m.get(tuple(1))).toBe(b);
    m.delete(b, 0); // b's ORIGINAL tuple was never set
    expect(m.size).toBe(1);
    m.delete(b, 1);
    expect(m.get(tuple(1))).toBeUndefined();
    expect(m.size).toBe(0);
    // A tuple whose inverse is itself: the REPLY direction rebinds the ORIGINAL one's slot.
    const self = new E('self', { proto: 17, src: 0x0a000001, sport: 53, dst: 0x0a000001, dport: 53 });
    m.set(self, 0);
    m.set(self, 1);
    expect([m.size, m.get({ proto: 17, src: 0x0a000001, sport: 53, dst: 0x0a000001, dport: 53 }), m.dir]).toEqual([1, self, 1]);
    m.delete(self, 0);
    expect(m.size).toBe(1);
    m.delete(self, 1);
    expect(m.size).toBe(0);
  });

  it('agrees with a Map keyed by the tuple text over a long random mix of sets, inserts and deletes (probe runs, high addresses and ports)', () => {
    const m = newMap();
    const ref = new Map<string, { e: E; dir: 0 | 1 }>();
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    // Few distinct values per field, so the same tuples come and go many times; addresses above 2^31
    // and ports above 2^15 (sign bits in the packed words).
    const pick = (): T => ({
      proto: [1, 6, 17][rnd(3)]!,
      src: [0x0a000001, 0xc0a80001, 0xfffffffe][rnd(3)]!,
      sport: [0, 80, 40000, 65235][rnd(4)]! + rnd(300),
      dst: [0x0a000002, 0xe0000001][rnd(2)]!,
      dport: [0, 443, 65535, 0x0800][rnd(4)]!,
    });
    const text = (t: T): string => `${t.proto}/${t.src >>> 0}/${t.sport}/${t.dst >>> 0}/${t.dport}`;
    const made: Array<{ e: E; dir: 0 | 1; t: T }> = [];
    for (let step = 0; step < 40000; step++) {
      const op = rnd(4);
      if (op === 0 && made.length > 0) {
        const { e, dir, t } = made[rnd(made.length)]!;
        m.delete(e, dir);
        const cur = ref.get(text(t));
        if (cur !== undefined && cur.e === e && cur.dir === dir) ref.delete(text(t));
      } else if (op === 1) {
        const t = pick();
        const dir = (step & 1) as 0 | 1;
        const e = dir === 0 ? new E(step, t) : new E(step, inv(t), t);
        m.set(e, dir);
        ref.set(text(t), { e, dir });
        made.push({ e, dir, t });
      } else if (op === 3) {
        // insert: adds only a tuple not held, else answers its holder and changes nothing.
        const t = pick();
        const dir = (step & 1) as 0 | 1;
        const e = dir === 0 ? new E(step, t) : new E(step, inv(t), t);
        const held = ref.get(text(t));
        expect(m.insert(e, dir)).toBe(held?.e);
        if (held === undefined) {
          ref.set(text(t), { e, dir });
          made.push({ e, dir, t });
        }
      } else {
        const t = pick();
        const want = ref.get(text(t));
        const got = m.get({ ...t });
        expect(got).toBe(want?.e);
        if (want !== undefined) expect(m.dir).toBe(want.dir);
      }
      if (step % 5000 === 4999) expect(m.size).toBe(ref.size);
    }
  });

  it('finds every entry again after its index moves (remap), and deletes by the new index', () => {
    const m = newMap();
    const n = 3000;
    const es = Array.from({ length: n }, (_, i) => new E(`m${i}`, tuple(i + 7000)));
    for (const e of es) {
      m.set(e, 0);
      m.set(e, 1);
    }
    // Move every entry to a fresh index (reversed order), as CtList's squeeze moves them down.
    const map = new Int32Array(REG.length).fill(-1);
    for (let i = n - 1; i >= 0; i--) {
      const e = es[i]!;
      const to = REG.push(e) - 1;
      map[e.pos] = to;
      e.pos = to;
    }
    m.remap(map);
    for (let i = 0; i < n; i++) {
      expect(m.get(tuple(i + 7000))).toBe(es[i]);
      expect(m.get(inv(tuple(i + 7000)))).toBe(es[i]);
      expect(m.dir).toBe(1);
    }
    for (let i = 0; i < n; i += 3) {
      m.delete(es[i]!, 0);
      m.delete(es[i]!, 1);
    }
    for (let i = 0; i < n; i++) expect(m.get(tuple(i + 7000))).toBe(i % 3 === 0 ? undefined : es[i]);
    expect(m.size).toBe(2 * (n - Math.ceil(n / 3)));
  });

  it('keeps the two tuples of an entry without NAT in one probe run (a tuple and its inverse share a home slot), and tells them apart', () => {
    const m = newMap();
    const n = 2000;
    // Ends both ways round (the source address above and below the destination), and one address with
    // the ports both ways round.
    const es = Array.from({ length: n }, (_, i) => new E(`s${i}`, i % 3 === 2 ? { proto: 17, src: 0x0a000001, sport: 40000 - i, dst: 0x0a000001, dport: 30000 + i } : i % 2 ? inv(tuple(i)) : tuple(i)));
    for (const e of es) {
      expect(m.insert(e, 0)).toBeUndefined();
      expect(m.insert(e, 1)).toBeUndefined();
    }
    const tab = (m as unknown as { tab: Int32Array }).tab;
    const slots = tab.length / 2;
    const at = new Map<string, number>();
    for (let i = 0; i < slots; i++) if (tab[2 * i] !== 0) at.set(`${tab[2 * i + 1]}/${tab[2 * i]! >>> 30}`, i);
    // No empty slot between the two (one run), and mostly a few slots apart (one cache line).
    let apart = 0;
    for (const e of es) {
      let [i, j] = [at.get(`${e.pos}/0`)!, at.get(`${e.pos}/1`)!];
      if ((j - i + slots) % slots > slots / 2) [i, j] = [j, i];
      for (let k = i; k !== j; k = (k + 1) % slots) expect(tab[2 * k]).not.toBe(0);
      apart += (j - i + slots) % slots;
    }
    expect(apart / n).toBeLessThan(2);
    for (let i = 0; i < n; i++) {
      const o = es[i]!;
      const t = { proto: o.proto, src: o.oSrc >>> 0, sport: o.oPorts >>> 16, dst: o.oDst >>> 0, dport: o.oPorts & 0xffff };
      expect([m.get(t), m.dir]).toEqual([o, 0]);
      expect([m.get(inv(t)), m.dir]).toEqual([o, 1]);
    }
  });
  it('uses at most a quarter of its slots (short probe runs), through growth and deletes', () => {
    const m = newMap();
    const slots = (): number => (m as unknown as { tab: Int32Array }).tab.length / 2;
    const es = Array.from({ length: 5000 }, (_, i) => new E(`q${i}`, tuple(i + 20000)));
    for (const e of es) {
      m.set(e, 0);
      m.set(e, 1);
      expect(4 * m.size).toBeLessThanOrEqual(slots());
    }
    expect(slots()).toBe(65536); // 10,000 tuples: the first power of two at least four times as many
    for (let i = 0; i < es.length; i += 2) m.delete(es[i]!, 0);
    for (let i = 0; i < es.length; i++) expect(m.get(tuple(i + 20000))).toBe(i % 2 === 0 ? undefined : es[i]);
  });
});
