// core/rng: named streams derived from (seed, name) only, so runs are reproducible and adding a
// consumer (a new stream) never moves the draws of another.
import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { RngFactory, intsInto, type Rng } from '../../src/core/rng.js';

const draws = (r: Rng, n = 8): number[] => Array.from({ length: n }, () => r.next());

describe('RngFactory', () => {
  it('same seed and name give the same sequence in two factories', () => {
    expect(draws(new RngFactory(7).stream('c1/neigh'))).toEqual(draws(new RngFactory(7).stream('c1/neigh')));
  });

  it('different seeds give different sequences for the same name', () => {
    expect(draws(new RngFactory(7).stream('loss'))).not.toEqual(draws(new RngFactory(8).stream('loss')));
  });

  it('different names give different sequences under one seed', () => {
    const f = new RngFactory(7);
    expect(draws(f.stream('a'))).not.toEqual(draws(f.stream('b')));
  });

  it('returns the same stream object for the same name (draws continue, they do not restart)', () => {
    const f = new RngFactory(1);
    const s = f.stream('x');
    expect(f.stream('x')).toBe(s);
    const first = s.next();
    expect(f.stream('x').next()).not.toBe(first);
  });

  it('adding a stream, and drawing from it, does not move the draws of another stream', () => {
    const alone = new RngFactory(42);
    const expected = draws(alone.stream('link/loss'), 20);

    const crowded = new RngFactory(42);
    const extra = crowded.stream('pod-99/mac'); // created first
    draws(extra, 1000);
    const loss = crowded.stream('link/loss');
    const got: number[] = [];
    for (let i = 0; i < 20; i++) {
      got.push(loss.next());
      crowded.stream(`new-${i}`).next(); // interleaved with draws from new streams
    }
    expect(got).toEqual(expected);
  });

  it('next() is in [0, 1), int(n) in [0, n) and integral, uint32 in [0, 2^32)', () => {
    const r = new RngFactory(3).stream('range');
    for (let i = 0; i < 10_000; i++) {
      const u = r.next();
      expect(u >= 0 && u < 1).toBe(true);
      const k = r.int(6);
      expect(Number.isInteger(k) && k >= 0 && k < 6).toBe(true);
      const w = r.uint32();
      expect(Number.isInteger(w) && w >= 0 && w < 2 ** 32).toBe(true);
    }
  });

  it('int(n) hits every value of a small range roughly uniformly (chi-square, 5 bins, 50k draws)', () => {
    const r = new RngFactory(11).stream('dice');
    const bins = [0, 0, 0, 0, 0];
    const n = 50_000;
    for (let i = 0; i < n; i++) bins[r.int(5)]!++;
    const e = n / 5;
    const chi2 = bins.reduce((s, o) => s + ((o - e) * (o - e)) / e, 0);
    // 4 degrees of freedom: P(chi2 > 18.47) = 0.001.
    expect(chi2, `bins ${bins.join(',')}`).toBeLessThan(18.47);
  });

  it("draws exactly seedrandom's Alea for the stream's seed string (next, int, uint32 interleaved, many streams)", () => {
    // The streams keep their state side by side in one array that grows: draw from 40 streams in turn
    // so the array is grown while earlier streams are mid-sequence.
    const f = new RngFactory(5);
    const names = Array.from({ length: 40 }, (_, i) => `node-${i}/stream`);
    const ours = names.map((n) => f.stream(n));
    const ref = names.map((n) => seedrandom.alea(`podwire:5:${n}`));
    for (let round = 0; round < 300; round++) {
      for (let k = 0; k < names.length; k++) {
        const o = ours[k]!;
        const r = ref[k]!;
        switch ((round + k) % 3) {
          case 0:
            expect(o.next()).toBe(r.quick());
            break;
          case 1:
            expect(o.int(1000)).toBe(Math.floor(r.quick() * 1000));
            break;
          default:
            expect(o.uint32()).toBe(r.int32() >>> 0);
        }
      }
    }
  });

  it('streamAt gives a stream\'s state offset: uint32At and intAt continue the stream object\'s sequence, interleaved, across many streams (the state array grows meanwhile)', () => {
    const f = new RngFactory(11);
    const ref = new RngFactory(11);
    const names = Array.from({ length: 40 }, (_, k) => `ns${k}/tcp-isn`);
    const at = new Map<string, number>();
    for (const name of [...names].reverse()) ref.streamAt(name); // seeded in the other order: other offsets
    for (let round = 0; round < 5; round++) {
      for (const [k, name] of names.entries()) {
        if (round === 0 && k % 3 === 0) f.stream(name).next(), ref.stream(name).next();
        if (!at.has(name)) at.set(name, f.streamAt(name));
        expect(f.streamAt(name)).toBe(at.get(name));
        if (k > 0 && k < names.length - 1) expect(ref.streamAt(name)).not.toBe(at.get(name));
        const r = ref.stream(name);
        expect(f.uint32At(at.get(name)!)).toBe(r.uint32());
        expect(f.intAt(at.get(name)!, 65536)).toBe(r.int(65536));
        expect(f.stream(name).int(1000)).toBe(r.int(1000)); // the object and the offset share one state
      }
    }
  });

  it("intsInto draws seedrandom's int(n) sequence into every step-th slot, and the stream goes on after it", () => {
    // (the bulk draw keeps the state in locals: a wrong order of the shift, or a state not written
    // back, fails here; the first stream is seeded by intsInto itself, the second mid-sequence)
    const f = new RngFactory(9);
    for (const [name, before] of [['ns-a/ip-ident', 0], ['ns-b/ip-ident', 5]] as const) {
      const ours = f.stream(name);
      const ref = seedrandom.alea(`podwire:9:${name}`);
      for (let i = 0; i < before; i++) expect(ours.next()).toBe(ref.quick());
      const out = new Float64Array(2 * 300).fill(-1);
      intsInto(ours, 65536, out, 1, 2, 300);
      for (let i = 0; i < 300; i++) {
        expect(out[2 * i]).toBe(-1);
        expect(out[2 * i + 1]).toBe(Math.floor(ref.quick() * 65536));
      }
      expect(ours.uint32()).toBe(ref.int32() >>> 0);
      expect(ours.next()).toBe(ref.quick());
    }
    // Any other Rng: by its own int.
    let k = 0;
    const fake: Rng = { next: () => 0, int: (n) => (k++ * 7) % n, uint32: () => 0 };
    const out = new Float64Array(4);
    intsInto(fake, 5, out, 0, 1, 4);
    expect([...out]).toEqual([0, 2, 4, 1]);
  });
});
