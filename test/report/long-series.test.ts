// report/charts: a run of simulated days (a `ping` of 10^12 counts stopped by a guard) has a
// timeseries row per second; the chart of 200,000 seconds threw "Maximum call stack size exceeded"
// (Math.max over every row: exit 70 after the run, no report) and would have drawn every point.
import { describe, expect, it } from 'vitest';
import { seriesSpec } from '../../src/report/charts.js';
import { binnedRows, MAX_SERIES_POINTS, seriesRows } from '../../src/report/data.js';
import type { RunData } from '../../src/report/model.js';

function run(seconds: number, faultAtS: number): RunData {
  const rows = Array.from({ length: seconds }, (_, t) => ({ t, ok: 2, errors: t % 10 === 0 ? 1 : 0, p50Us: 100, p99Us: 100 + (t % 7) }));
  return {
    label: '',
    stats: { timeline: [{ atUs: faultAtS * 1e6, what: 'pod-down pod/a' }] } as unknown as RunData['stats'],
    cdf: new Map(),
    series: { schema: 'podwire-timeseries/1', flows: [{ name: 'f', seconds: rows }] },
  };
}

describe('time series of long runs', () => {
  it('200,000 seconds: drawn in bins of 100 s (at most 2,000 points), rates averaged, p99 the worst second', () => {
    const spec = seriesSpec(run(200_000, 150_000)) as unknown as { datasets: { series: { t: number; ok: number; errors: number; p99ms: number }[] }; vconcat: { layer: { encoding: { y: { title: string }; x: { scale: { domain: number[] } } } }[] }[] };
    const rows = spec.datasets.series;
    expect(rows.length).toBe(MAX_SERIES_POINTS);
    expect(rows[0]).toEqual({ series: 'f', t: 50, ok: 2, errors: 0.1, p99ms: 0.106 });
    expect(spec.vconcat[0]!.layer[0]!.encoding.y.title).toBe('successes / s (means over 100 s)');
    expect(spec.vconcat[0]!.layer[0]!.encoding.x.scale.domain).toEqual([0, 200_001]);
  });

  it('a run of up to 2,000 seconds is drawn second by second, as before', () => {
    const r = run(1_999, 10);
    const { rows, width } = binnedRows(seriesRows(r));
    expect(width).toBe(1);
    expect(rows).toEqual(seriesRows(r));
    const spec = seriesSpec(r) as unknown as { vconcat: { layer: { encoding: { y: { title: string } } }[] }[] };
    expect(spec.vconcat[0]!.layer[0]!.encoding.y.title).toBe('successes / s');
  });
});
