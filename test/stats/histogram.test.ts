// LatencyRecorder keeps its first 1,024 values as they come (packed when asked for them), then flat: what it reports (percentiles,
// .hgrm text, totals across recorders) must be what one flat HdrHistogram fed the same values reports.
import { build } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { LatencyRecorder } from '../../src/stats/histogram.js';

function values(seed: number, n: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(Math.round(Math.exp((x / 2147483648) * 21))); // 1 ns .. ~1.3 s, log-uniform
  }
  return out;
}

function flat(vs: number[]): ReturnType<typeof build> {
  const h = build({ numberOfSignificantValueDigits: 3 });
  for (const v of vs) h.recordValue(v);
  return h;
}

describe('LatencyRecorder storage', () => {
  for (const n of [0, 1, 1023, 1024, 1025, 5000]) {
    it(`${n} values: the same percentiles and .hgrm as a flat histogram`, () => {
      const vs = values(n + 7, n);
      const r = new LatencyRecorder();
      for (const v of vs) r.record(v);
      const h = flat(vs);
      expect(r.count).toBe(n);
      for (const p of [50, 90, 99, 99.9, 100]) expect(r.percentileNs(p)).toBe(n === 0 ? 0 : Math.min(h.getValueAtPercentile(p), Math.max(...vs)));
      expect(r.toHgrm()).toBe(h.outputPercentileDistribution(5, 1000));
    });
  }

  it('asked for percentiles and .hgrm while it records (after 10, 1,024 and 3,000 values), it reports what a flat histogram of the values so far does', () => {
    const vs = values(42, 4000);
    const r = new LatencyRecorder();
    for (let i = 0; i < vs.length; i++) {
      r.record(vs[i]!);
      const n = i + 1;
      if (n === 10 || n === 1024 || n === 1025 || n === 3000 || n === 4000) {
        const h = flat(vs.slice(0, n));
        expect(r.count).toBe(n);
        expect(r.percentileNs(99)).toBe(Math.min(h.getValueAtPercentile(99), Math.max(...vs.slice(0, n))));
        expect(r.toHgrm()).toBe(h.outputPercentileDistribution(5, 1000));
      }
    }
    expect(r.meanNs).toBe(vs.reduce((a, b) => a + b, 0) / vs.length);
    expect(r.minValueNs).toBe(Math.min(...vs));
  });

  it('addAll across packed and flat recorders gives the flat histogram of all values', () => {
    const parts = [values(1, 10), values(2, 2000), values(3, 900), values(4, 0), values(5, 300)];
    const total = new LatencyRecorder();
    for (const vs of parts) {
      const r = new LatencyRecorder();
      for (const v of vs) r.record(v);
      total.addAll(r);
    }
    const all = parts.flat();
    expect(total.count).toBe(all.length);
    expect(total.toHgrm()).toBe(flat(all).outputPercentileDistribution(5, 1000));
    expect(total.maxValueNs).toBe(Math.max(...all));
  });

  it('addAll into a recorder already past 1,024 values of its own, and recording after it, gives the flat histogram of all values', () => {
    const own = values(21, 2000);
    const other = values(22, 1500);
    const later = values(23, 700);
    const total = new LatencyRecorder();
    for (const v of own) total.record(v);
    const r = new LatencyRecorder();
    for (const v of other) r.record(v);
    total.addAll(r);
    for (const v of later) total.record(v);
    const all = [...own, ...other, ...later];
    expect(total.count).toBe(all.length);
    expect(total.toHgrm()).toBe(flat(all).outputPercentileDistribution(5, 1000));
    expect(total.maxValueNs).toBe(Math.max(...all));
    expect(total.minValueNs).toBe(Math.min(...all));
  });

  it('past 1,024 values its own bucket counts match the library at bucket edges, 0, and values above 2^31 ns', () => {
    // Every power of two from 2^0 to 2^40 with its neighbours (floor(log2 v) changes there), zeros,
    // and a run of values in one bucket with the minimum and maximum among them.
    const edges: number[] = [0, 0, 0];
    for (let k = 0; k <= 40; k++) edges.push(2 ** k - 1, 2 ** k, 2 ** k + 1, 3 * 2 ** k + 7);
    const vs = [...values(9, 1100), ...edges, ...values(11, 500).map((v) => v * 4096 + 3)];
    const r = new LatencyRecorder();
    for (const v of vs) r.record(v);
    const h = flat(vs);
    expect(r.count).toBe(vs.length);
    for (const p of [1, 25, 50, 90, 99, 99.9, 99.99, 100]) expect(r.percentileNs(p)).toBe(Math.min(h.getValueAtPercentile(p), Math.max(...vs)));
    expect(r.toHgrm()).toBe(h.outputPercentileDistribution(5, 1000));
    // the histogram handed out keeps the exact extremes, as one recorded value by value does
    const total = new LatencyRecorder();
    total.addAll(r);
    expect(total.toHgrm()).toBe(h.outputPercentileDistribution(5, 1000));
  });

  it('mean, least and greatest are exact (kept as words): empty, zeros first, above 2^32 ns, fractions rounded, merged', () => {
    const r = new LatencyRecorder();
    expect([r.meanNs, r.minValueNs, r.maxValueNs]).toEqual([0, 0, 0]);
    const vs = [0, 0, 7.6, 2 ** 33 + 5, 3, 1_000_000_000, 2 ** 31, 12.4];
    for (const v of vs) r.record(v);
    const rounded = vs.map((v) => Math.round(v));
    expect(r.meanNs).toBe(rounded.reduce((a, b) => a + b, 0) / vs.length);
    expect(r.minValueNs).toBe(0);
    expect(r.maxValueNs).toBe(2 ** 33 + 5);
    const nz = new LatencyRecorder();
    for (const v of [9, 4, 2 ** 34]) nz.record(v);
    expect(nz.minValueNs).toBe(4);
    const all = new LatencyRecorder();
    all.addAll(nz);
    all.addAll(r);
    expect(all.minValueNs).toBe(0);
    expect(all.meanNs).toBe([...rounded, 9, 4, 2 ** 34].reduce((a, b) => a + b, 0) / (vs.length + 3));
    expect(all.toHgrm()).toBe(flat([...rounded, 9, 4, 2 ** 34]).outputPercentileDistribution(5, 1000));
  });

  for (const [name, vs] of [
    ['min and max in one bucket', [...Array.from({ length: 1030 }, (_, i) => 1_000_000 + (i % 900))]],
    ['one value, many times', Array.from({ length: 2000 }, () => 123_456_789)],
    ['all zero', Array.from({ length: 1500 }, () => 0)],
  ] as const) {
    it(`past 1,024 values, ${name}: what a flat histogram reports, and it goes on recording after being read`, () => {
      const r = new LatencyRecorder();
      for (const v of vs) r.record(v);
      expect(r.toHgrm()).toBe(flat([...vs]).outputPercentileDistribution(5, 1000));
      const more = [...vs, 5, 77_000_000, 3];
      for (const v of more.slice(vs.length)) r.record(v);
      expect(r.count).toBe(more.length);
      expect(r.toHgrm()).toBe(flat(more).outputPercentileDistribution(5, 1000));
      expect(r.percentileNs(50)).toBe(Math.min(flat(more).getValueAtPercentile(50), Math.max(...more)));
    });
  }
});
