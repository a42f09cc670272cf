// The counter table of a namespace (netfilter/nf-counters.ts): policy counts by slot and an
// open-addressing hash of rule / chain ids in one Float64Array. Against a Map of the same operations:
// counts of ids that fall in one quad (the same low bits), growth past half full (a quarter once big), setCount over a
// counted and an uncounted id, policy counts added to their slot's chain id, and a reset by a load.
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { COUNT_STRIDE, NfCounters } from '../../src/netfilter/nf-counters.js';
import type { Counters } from '../../src/netfilter/rules.js';

class Probe extends NfCounters {
  reset(ids: number[]): void {
    this.resetCounts(ids);
  }
  add(id: number, bytes: number): void {
    this.count(id, bytes);
  }
  addSlot(slot: number, bytes: number): void {
    this.countSlot(slot << 1, bytes); // (no pinned slots: slotOffset(slot, slots))
  }
  set(id: number, k: Counters): void {
    this.setCount(id, k);
  }
  all(): Map<number, Counters> {
    return this.countedIds();
  }
  of(id: number, base: Counters = { packets: 0, bytes: 0 }): Counters {
    return this.counted(id, base);
  }
}

/** A small deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

describe('NfCounters table', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`matches a Map through counts, sets, growth and resets (seed ${seed})`, () => {
      const r = rng(seed);
      const SLOTS = 14;
      const slotIds = Array.from({ length: SLOTS }, (_, s) => (s % 3 === 0 ? -1 : 100_000 + s));
      const p = new Probe(SLOTS);
      p.reset(slotIds);
      // The model: each id's own count, and each slot's policy count (added to its chain id's when read).
      let model = new Map<number, [number, number]>();
      let slotModel = slotIds.map((): [number, number] => [0, 0]);
      const bump = (id: number, packets: number, bytes: number): void => {
        const k = model.get(id) ?? [0, 0];
        model.set(id, [k[0] + packets, k[1] + bytes]);
      };
      const expected = (): Map<number, Counters> => {
        const sum = new Map<number, [number, number]>();
        for (const [id, k] of model) sum.set(id, [k[0], k[1]]);
        slotIds.forEach((id, s) => {
          if (id < 0) return;
          const k = sum.get(id) ?? [0, 0];
          sum.set(id, [k[0] + slotModel[s]![0], k[1] + slotModel[s]![1]]);
        });
        const out = new Map<number, Counters>();
        for (const [id, [packets, bytes]] of sum) if (packets !== 0 || bytes !== 0) out.set(id, { packets, bytes });
        return out;
      };
      // Ids in a few families: consecutive runs, ids 4096 apart (one quad for every table size up to
      // 4,096 quads but for the id >>> 12 mix), ids 64 apart, and the slots' own chain ids.
      const pick = (): number => {
        const f = r() % 4;
        if (f === 0) return 1 + (r() % 300);
        if (f === 1) return 7 + 4096 * (r() % 40);
        if (f === 2) return 50_000 + 64 * (r() % 200);
        return 100_000 + (r() % SLOTS);
      };
      const check = (): void => {
        const want = expected();
        const got = p.all();
        expect(new Map([...got].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...want].sort((a, b) => a[0] - b[0])));
        for (let k = 0; k < 50; k++) {
          const id = pick();
          const m = want.get(id) ?? { packets: 0, bytes: 0 };
          expect(p.of(id, { packets: 3, bytes: 5 })).toEqual({ packets: m.packets + 3, bytes: m.bytes + 5 });
        }
      };
      for (let step = 0; step < 6000; step++) {
        const op = r() % 100;
        if (op < 70) {
          const id = pick();
          const b = 20 + (r() % 1500);
          p.add(id, b);
          bump(id, 1, b);
        } else if (op < 90) {
          const s = r() % SLOTS;
          const b = 20 + (r() % 1500);
          p.addSlot(s, b);
          slotModel[s] = [slotModel[s]![0] + 1, slotModel[s]![1] + b];
        } else if (op < 98) {
          const id = pick();
          const k = { packets: r() % 10, bytes: r() % 1000 };
          // setCount replaces the id's own count; a slot's policy count stays added to it.
          p.set(id, k);
          model.set(id, [k.packets, k.bytes]);
        } else if (op < 99) {
          check();
        } else {
          p.reset(slotIds);
          model = new Map();
          slotModel = slotIds.map((): [number, number] => [0, 0]);
        }
      }
      check();
      // Enough distinct ids to have grown several times.
      for (let id = 200_000; id < 201_500; id++) {
        p.add(id, 1);
        bump(id, 1, 1);
      }
      check();
    });
  }

  it('moves an id counted more than the one in its home quad into it (generated walks count only there), counts unchanged', () => {
    const p = new Probe(14);
    p.reset(Array.from({ length: 14 }, () => -1));
    const idAt = (q: number): number => p.countTab[p.countHead + q * COUNT_STRIDE]!;
    // 32 quads: ids 5, 37 and 69 share home quad 5, id 6 has quad 6.
    p.add(5, 10); // 5 takes quad 5
    p.add(37, 20); // 37: quad 6
    p.add(6, 30); // 6: quad 7, its home taken
    expect([idAt(5), idAt(6), idAt(7)]).toEqual([5, 37, 6]);
    p.add(37, 20); // 2 packets against 5's 1: home
    expect([idAt(5), idAt(6), idAt(7)]).toEqual([37, 5, 6]);
    p.add(6, 30); // 2 against 5's 1: its home; 5 moves on to quad 7, still reachable from quad 5
    expect([idAt(5), idAt(6), idAt(7)]).toEqual([37, 6, 5]);
    p.add(5, 10); // 2 packets, not more than 37's 2: stays
    p.add(69, 1); // a new id probes past all three
    expect([idAt(5), idAt(6), idAt(7), idAt(8)]).toEqual([37, 6, 5, 69]);
    for (let i = 0; i < 3; i++) p.add(69, 1); // 4 packets: past 37's 2, home
    expect([idAt(5), idAt(8)]).toEqual([69, 37]);
    expect([p.of(5), p.of(37), p.of(6), p.of(69)]).toEqual([
      { packets: 2, bytes: 20 },
      { packets: 2, bytes: 40 },
      { packets: 2, bytes: 60 },
      { packets: 4, bytes: 4 },
    ]);
    expect(p.all().size).toBe(4);
  });

  it('stays at most half full, a quarter from 512 quads on (ids out of their home quads are calls from the walks), every id found', () => {
    const p = new Probe(4);
    p.reset([-1, -1, -1, -1]);
    const quads = (): number => (p.countTab.length - p.countHead) / COUNT_STRIDE;
    const held = (): number => {
      let n = 0;
      for (let q = p.countHead; q < p.countTab.length; q += COUNT_STRIDE) if (p.countTab[q] !== -1) n++;
      return n;
    };
    let grown = 0;
    for (let i = 0; i < 700; i++) {
      const before = quads();
      p.add(1000 + i * 7, 1);
      if (quads() !== before) grown++;
      expect(held()).toBe(i + 1);
      expect(held() * (quads() >= 512 ? 4 : 2)).toBeLessThanOrEqual(quads());
      // Dense while small: a table of 256 quads or fewer is more than a quarter full (it would have stayed smaller).
      if (quads() > 32 && quads() <= 256) expect(held() * 4).toBeGreaterThan(quads());
      expect(quads()).toBe(p.countMask + 1);
    }
    expect(grown).toBe(6); // 32 quads to 4,096 (700 ids need more than 2,048), 256 to 1,024 at one insert
    expect(quads()).toBe(4096);
    for (let i = 0; i < 700; i++) expect(p.of(1000 + i * 7)).toEqual({ packets: 1, bytes: 1 });
  });

  it('keeps the table an array of unboxed doubles through counts, growth and a reset (one map, never re-shaped)', () => {
    setFlagsFromString('--allow-natives-syntax');
    const doubles = new Function('a', 'return %HasDoubleElements(a) && !%HasHoleyElements(a);') as (a: unknown) => boolean;
    const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b);') as (a: object, b: object) => boolean;
    const p = new Probe(0);
    p.reset([]);
    const fresh = p.countTab;
    expect(doubles(fresh)).toBe(true);
    p.add(7, 2 ** 31 + 0.5);
    p.add(7, 2 ** 40);
    for (let id = 100; id < 400; id++) p.add(id, 1);
    expect(doubles(p.countTab)).toBe(true);
    expect(sameMap(p.countTab, fresh)).toBe(true);
    expect(p.of(7)).toEqual({ packets: 2, bytes: 2 ** 31 + 0.5 + 2 ** 40 });
    const head = new Probe(3);
    head.reset([5, -1, 6]);
    head.addSlot(2, 9);
    expect(doubles(head.countTab)).toBe(true);
    expect(head.countTab.slice(0, head.countHead)).toEqual([0, 0, 0, 0, 1, 9, 0, 0]);
  });
});
