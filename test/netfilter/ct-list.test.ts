// Tests for netfilter/ct-list (CtList): against a plain linked list of the entries in insertion order
// (what the list was before session 23), random adds, deletes anywhere, expiry changes and gc sweep
// steps give the same entries in the same order, the same sweep sequence (including the restart at
// the head after the tail and after the cursor's entry is deleted), the same expiries and the keys each
// entry was added with (conntrack's slot keys, read when it is removed) — through the holes that
// deletions leave (-1 in `exp`, which the steps skip) and the squeezes that remove them.
import { describe, expect, it } from 'vitest';
import { CtList, EXP_UNIT, expCopy, expTick } from '../../src/netfilter/ct-list.js';

class E {
  pos = -1;
  expires = 0;
  addedAt = -1;
  // The tuples and table the list's hash (its base class) would key it by: unused here (nothing is inserted).
  readonly proto = 0;
  readonly oSrc = 0;
  readonly oDst = 0;
  readonly oPorts = 0;
  readonly rSrc = 0;
  readonly rDst = 0;
  readonly rPorts = 0;
  readonly owner = null;
  constructor(readonly name: number) {}
}

/** A list counting its squeezes (each hands the hash, its base class, the moved indices once). */
class Counting extends CtList<E> {
  moves = 0;
  override remap(map: Int32Array): void {
    this.moves++;
    super.remap(map);
  }
}

/** The reference: insertion order as an array, the sweep's cursor an entry or null (the head). */
class Ref {
  order: E[] = [];
  cursor: E | null = null;
  add(e: E): void {
    this.order.push(e);
  }
  delete(e: E): void {
    const i = this.order.indexOf(e);
    if (i < 0) return;
    if (this.cursor === e) this.cursor = this.order[i + 1] ?? null;
    this.order.splice(i, 1);
  }
  gcNext(): E | null {
    const e = this.cursor ?? this.order[0] ?? null;
    if (e !== null) this.cursor = this.order[this.order.indexOf(e) + 1] ?? null;
    return e;
  }
}

/** The keys a test adds `e` with (two distinct numbers per entry, one negative: any Int32). */
function keysOf(e: E): [number, number] {
  return [e.name * 2 + 1, -(e.name * 2 + 2)];
}

function contents(l: CtList<E>): E[] {
  const out: E[] = [];
  for (let i = l.firstIndex(); i >= 0; i = l.nextAfter(i)) {
    expect(l.at(i).pos).toBe(i);
    // the copy: the expiry's ticks, never above it; the keys after the copies
    expect(l.exp[i]).toBe(expCopy(l.at(i).expires));
    expect(l.exp[i]! * EXP_UNIT).toBeLessThanOrEqual(l.at(i).expires);
    expect([l.exp[l.cap + 2 * i], l.exp[l.cap + 2 * i + 1]]).toEqual(keysOf(l.at(i)));
    out.push(l.at(i));
  }
  return out;
}

describe('CtList', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`matches a linked list under random adds, deletes, expiry changes and sweep steps (seed ${seed})`, () => {
      let s = seed * 2654435761;
      const rnd = (n: number): number => {
        s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
        return (s >>> 0) % n;
      };
      const l = new CtList<E>();
      const ref = new Ref();
      let next = 0;
      let squeezedOnce = false;
      // Phases of growth and of shrinking, so the list empties, refills and squeezes many times.
      for (let step = 0; step < 6000; step++) {
        const grow = Math.floor(step / 500) % 2 === 0;
        const op = rnd(10);
        if (op < (grow ? 5 : 2)) {
          const e = new E(next++);
          e.expires = rnd(1000) * 1e7 + rnd(3); // ns: copies of many ticks (2^21 ns), some equal
          l.add(e, ...keysOf(e));
          ref.add(e);
          e.addedAt = e.pos;
        } else if (op < 7 && ref.order.length > 0) {
          // delete: often the tail or the sweep's next entry, the cases with a special rule
          const k = rnd(3);
          const e = k === 0 ? ref.order[ref.order.length - 1]! : k === 1 && ref.cursor !== null ? ref.cursor : ref.order[rnd(ref.order.length)]!;
          const before = l.listed;
          l.unlist(e);
          ref.delete(e);
          expect(l.listed).toBe(before - 1);
          expect(e.pos).toBe(-1);
          l.unlist(e); // twice: nothing
          expect(l.listed).toBe(before - 1);
        } else if (op < 8 && ref.order.length > 0) {
          const e = ref.order[rnd(ref.order.length)]!;
          e.expires = (1000 + rnd(1000)) * 1e7;
          l.setExp(e, e.expires);
        } else {
          const i = l.gcNextIndex();
          const e = ref.gcNext();
          expect(i < 0 ? null : l.at(i)).toBe(e);
        }
        if (step % 97 === 0 || ref.order.length === 0) expect(contents(l)).toEqual(ref.order);
        expect(l.listed).toBe(ref.order.length);
        // refs has an element for every index of the copies (an add stores, never pushes), every one set (packed); an
        // index whose copy is not -1 holds the entry there, a hole null or a stale entry (pos not there), past len only nulls.
        expect(l.refs.length).toBe(l.cap);
        expect(l.exp.length).toBe(3 * l.cap); // the copies, then two keys an index
        if (step % 97 === 0) {
          const len = (l as unknown as { len: number }).len;
          for (let i = 0; i < l.refs.length; i++) {
            expect(i in l.refs).toBe(true);
            const r = l.refs[i]!;
            if (i >= len) expect(r).toBe(null);
            else if (l.exp[i]! >= 0) expect(r.pos).toBe(i);
            else expect(r === null || r.pos !== i).toBe(true);
          }
        }
        if (ref.order.some((e) => e.pos !== e.addedAt)) squeezedOnce = true;
      }
      expect(contents(l)).toEqual(ref.order);
      expect(squeezedOnce).toBe(true); // entries were moved down at least once
    });
  }

  it('restarts the sweep at the head when the entry after the cursor was the tail, even with entries added since', () => {
    const l = new CtList<E>();
    const [a, b, c] = [new E(0), new E(1), new E(2)];
    l.add(a, ...keysOf(a));
    l.add(b, ...keysOf(b));
    expect(l.at(l.gcNextIndex())).toBe(a); // cursor: b
    l.unlist(b); // the cursor's entry, the tail: the sweep restarts at the head
    l.add(c, ...keysOf(c));
    expect(l.at(l.gcNextIndex())).toBe(a);
    expect(l.at(l.gcNextIndex())).toBe(c);
    expect(l.at(l.gcNextIndex())).toBe(a);
  });

  it('squeezes once the holes outnumber the entries three times and 64 more, keeping its array for the adds after', () => {
    const l = new Counting();
    const es = Array.from({ length: 1000 }, (_, i) => new E(i));
    for (const e of es) l.add(e, ...keysOf(e));
    // 234 entries left, the tail among them: 766 holes, exactly 3 x 234 + 64.
    const kept = es.filter((e) => e.name % 4 === 3).slice(-234);
    for (const e of es) if (!kept.includes(e)) l.unlist(e);
    const [x, y] = [new E(1000), new E(1001)];
    l.add(x, ...keysOf(x));
    expect(l.moves).toBe(0);
    expect(kept[0]!.pos).toBe(kept[0]!.name); // not moved
    l.unlist(kept[0]!); // 767 holes, 234 entries: the next add squeezes
    l.add(y, ...keysOf(y));
    expect(l.moves).toBe(1);
    expect([...kept.slice(1), x, y].map((e) => e.pos)).toEqual(Array.from({ length: 235 }, (_, k) => k));
    expect(l.refs.length).toBe(1024); // the array kept its length, exp's capacity: nulls past the entries
    expect(l.refs.slice(235).every((r) => r === null)).toBe(true);
    expect(contents(l)).toEqual([...kept.slice(1), x, y]);
  });
});

describe('CtList expiry copies (ticks)', () => {
  it('a copy is never above its time, less than a tick below it to 2^52 ns, and never -1 (a hole); the sweep tick passes exactly the expired', () => {
    // Times in ns as conntrack has them: integers up to 2^61 (writeExpiry's bound), tick edges and random magnitudes.
    let s = 12345;
    const times: number[] = [0, 1, EXP_UNIT - 1, EXP_UNIT, EXP_UNIT + 1, 123 * 1e9 + 2000, 2 ** 52 - 1, 2 ** 52, 2 ** 52 + EXP_UNIT, 2 ** 53 - 1, 2 ** 61 - 2 ** 9];
    for (let k = 0; k < 3_000; k++) {
      s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
      const e = 10 + ((s >>> 0) % 51);
      const t = Math.floor(((s >>> 0) / 2 ** 32 + 1) * 2 ** e);
      times.push(t, Math.ceil(t / EXP_UNIT) * EXP_UNIT, Math.ceil(t / EXP_UNIT) * EXP_UNIT - 1);
    }
    for (const t of times) {
      const c = expCopy(t);
      expect(Number.isInteger(c) && c >= 0 && c < 2 ** 31).toBe(true);
      expect(c * EXP_UNIT).toBeLessThanOrEqual(t);
      if (t < 2 ** 52) expect(c * EXP_UNIT).toBeGreaterThan(t - EXP_UNIT);
      // the sweep reads an entry when its copy is at most expTick(now): always once now reaches its time
      for (const now of [t, t + 1, t + EXP_UNIT]) expect(c <= expTick(now)).toBe(true);
      // and, below 2^52 ns, not before the tick its time falls in
      if (t < 2 ** 52 && c > 0) expect(c <= expTick(c * EXP_UNIT - 1)).toBe(false);
    }
    expect(new Set(times.filter((t) => t >= 2 ** 52).map((t) => expCopy(t) < t / EXP_UNIT - 1)).has(true)).toBe(true); // wrapped, lower
  });
});
