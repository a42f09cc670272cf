// A variant's interval across seeds is cut to the range its metric can take (s48-run found chi2p 0.56 [-0.41, 1.53]
// and Jain [0.77, 1.005] in a sweep's table): the Student-t interval of a mean near a bound reaches past it.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregate, metricRange, variantMetrics } from '../../src/sweep/aggregate.js';
import { tInterval } from '../../src/sweep/stats.js';

const runs = (name: string, xs: number[]) => xs.map((x) => ({ metrics: { [name]: x } }));

describe('variant intervals stay inside their metric range', () => {
  it('a p-value spread over [0, 1] gets an interval of [0, 1], not past it; the mean and sd are untouched', () => {
    const xs = [0.02, 0.97, 0.7];
    const raw = tInterval(xs)!;
    expect(raw.lo!).toBeLessThan(0);
    expect(raw.hi!).toBeGreaterThan(1);
    const m = variantMetrics(runs('connections.chi2p', xs))['connections.chi2p']!;
    expect(m).toEqual({ ...raw, lo: 0, hi: 1 });
  });
  it("Jain's index near 1 stops at 1; a share at 0 and 1; max/mean at 1; a latency at 0", () => {
    expect(variantMetrics(runs('requests.jain', [0.99, 1, 0.9]))['requests.jain']!.hi).toBe(1);
    const share = variantMetrics(runs('requests.share[2]', [0.01, 0.3, 0.0]))['requests.share[2]']!;
    expect(share.lo).toBe(0);
    expect(variantMetrics(runs('requests.maxOverMean', [1, 1.6, 1.01]))['requests.maxOverMean']!.lo).toBe(1);
    expect(variantMetrics(runs('flow.web.latencyUs.p99', [10, 900, 20]))['flow.web.latencyUs.p99']!.lo).toBe(0);
  });
  it('an interval inside the range is the t-interval itself', () => {
    const xs = [0.4, 0.5, 0.6];
    expect(variantMetrics(runs('requests.chi2p', xs))['requests.chi2p']).toEqual(tInterval(xs));
  });
  it('ranges by name', () => {
    expect(metricRange('connections.share[11]')).toEqual([0, 1]);
    expect(metricRange('requests.cv')).toEqual([0, Infinity]);
    expect(metricRange('flow.a.errors.timeout')).toEqual([0, Infinity]);
  });
});

describe('differences between variants stay inside the range a difference can take', () => {
  it("a p-value difference's interval stops at ±1 (s49-stats: +0.43 [-0.72, 1.587] in a sweep's table); the mean is untouched", () => {
    // two variants × three seeds of stats.json files whose one endpoint set gives these χ² p-values
    const dir = mkdtempSync(join(tmpdir(), 'pw-diff-range-'));
    try {
      const served: Record<string, number[][]> = { a: [[30, 30, 30], [10, 40, 40], [25, 30, 35]], b: [[30, 30, 30], [30, 30, 30], [30, 30, 30]] };
      for (const v of ['a', 'b'])
        [1, 2, 3].forEach((seed, i) => {
          const d = join(dir, 'runs', v, `seed-${seed}`);
          mkdirSync(d, { recursive: true });
          const eps = served[v]![i]!.map((n, k) => ({ name: `web-${k}`, served: n, share: n / 90, busyUs: 0, utilization: 0, meanQueue: 0, maxQueue: 0 }));
          writeFileSync(join(d, 'stats.json'), JSON.stringify({ schema: 'podwire-stats/1', scenario: 's', seed, stop: 'idle', simTimeUs: 1, events: 1, flows: [], endpoints: eps, timeline: [], counters: {} }));
        });
      const doc = aggregate(dir, 'f.yaml', 's', [{ name: 'a', dir: 'a', set: {} }, { name: 'b', dir: 'b', set: {} }] as never, [1, 2, 3]);
      const d = doc.comparisons[0]!.metrics['requests.chi2p']!;
      const raw = tInterval(doc.variants[1]!.runs.map((r, i) => r.metrics['requests.chi2p']! - doc.variants[0]!.runs[i]!.metrics['requests.chi2p']!))!;
      expect(raw.hi!).toBeGreaterThan(1);
      expect(d).toEqual({ ...raw, lo: Math.max(-1, raw.lo!), hi: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
