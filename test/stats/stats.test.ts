import { describe, expect, it } from 'vitest';
import { RngFactory } from '../../src/core/rng.js';
import { sample } from '../../src/core/distributions.js';
import { LatencyRecorder, PERCENTILE_RELATIVE_PRECISION, StatsDocumentSchema, StatsRegistry } from '../../src/stats/index.js';

/** Nearest-rank percentile over raw samples: the ceil(p/100·N)-th smallest (p·1000 kept integral so 99.9 % is exact). */
function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((Math.round(p * 1000) * sorted.length) / 100_000));
  return sorted[rank - 1]!;
}

describe('LatencyRecorder', () => {
  for (const [label, dist] of [
    ['exponential', { kind: 'exponential', mean: 2_000_000 }],
    ['lognormal', { kind: 'lognormal', mu: 13, sigma: 1.2 }],
    ['uniform small', { kind: 'uniform', min: 0, max: 5000 }],
  ] as const) {
    it(`percentiles agree with a direct computation over raw samples (${label})`, () => {
      const rng = new RngFactory(42).stream(`stats/${label}`);
      const rec = new LatencyRecorder();
      const raw: number[] = [];
      for (let i = 0; i < 20_000; i++) {
        const v = Math.round(sample(dist, rng));
        raw.push(v);
        rec.record(v);
      }
      raw.sort((a, b) => a - b);
      for (const p of [50, 90, 99, 99.9, 100]) {
        const exact = exactPercentile(raw, p);
        const got = rec.percentileNs(p);
        expect(got, `p${p}`).toBeGreaterThanOrEqual(exact);
        expect(got - exact, `p${p}: hdr ${got} vs exact ${exact}`).toBeLessThanOrEqual(exact * PERCENTILE_RELATIVE_PRECISION + 1);
      }
      const mean = raw.reduce((a, b) => a + b, 0) / raw.length;
      expect(rec.meanNs).toBeCloseTo(mean, 6);
      expect(rec.maxValueNs).toBe(raw[raw.length - 1]);
      const s = rec.summaryUs();
      expect(Object.keys(s)).toEqual(['mean', 'p50', 'p90', 'p99', 'p999', 'max']);
      expect(s.max).toBeCloseTo(raw[raw.length - 1]! / 1000, 3);
    });
  }

  it('exports an .hgrm percentile distribution', () => {
    const rec = new LatencyRecorder();
    for (let i = 1; i <= 1000; i++) rec.record(i * 1000);
    const text = rec.toHgrm();
    expect(text).toMatch(/Value\s+Percentile\s+TotalCount/);
    expect(text).toMatch(/#\[Mean\s+=/);
    expect(text).toMatch(/Total count\s+=\s+1000\]/);
  });

  it('is empty-safe', () => {
    const s = new LatencyRecorder().summaryUs();
    expect(s).toEqual({ mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
  });
});

describe('StatsRegistry', () => {
  it('builds stats.json with the documented keys, stable order and shares summing to 1', () => {
    let now = 0;
    const reg = new StatsRegistry(() => now);
    const f = reg.flow('client->web');
    reg.flow('a-first');
    const eps = ['web-2', 'web-0', 'web-1'].map((n) => reg.endpoint(n, 2));
    for (let i = 0; i < 10; i++) {
      f.requestStarted();
      now += 1_000_000;
      if (i === 3) f.requestFailed('timeout', 1_000_000);
      else if (i === 4) f.requestFailed('refused', 10);
      else f.requestSucceeded(1_000_000 + i, 100_000, 500);
      eps[i % 3]!.busyChanged(1);
      eps[i % 3]!.served();
      eps[i % 3]!.busyChanged(0);
    }
    reg.addCounters('tcp/b', () => ({ RetransSegs: 2, ActiveOpens: 1 }));
    reg.addCounters('tcp/a', () => ({ OutSegs: 5 }));
    reg.addCounters('udp/none', () => null);
    reg.describeFlow('client->web', { type: 'http', from: 'client', to: 'web', counts: { sent: 10, received: 8, lost: 1 } });
    const r = reg.report({ seed: 7, scenario: 'demo', stop: 'until', events: 42, timeline: [{ atNs: 1_500_000, what: 'pod web-0 down' }] });
    expect(Object.keys(r)).toEqual(['schema', 'scenario', 'seed', 'stop', 'simTimeUs', 'events', 'flows', 'endpoints', 'timeline', 'counters']);
    expect(StatsDocumentSchema.safeParse(r).success).toBe(true);
    expect(r.timeline).toEqual([{ atUs: 1500, what: 'pod web-0 down' }]);
    expect([r.scenario, r.stop, r.events]).toEqual(['demo', 'until', 42]);
    expect(r.flows.map((x) => x.name)).toEqual(['a-first', 'client->web']);
    const fr = r.flows[1]!;
    expect(Object.keys(fr)).toEqual(['name', 'type', 'from', 'to', 'sent', 'received', 'lost', 'requests', 'successes', 'errors', 'errorsByKind', 'retries', 'bytes', 'throughputRps', 'latencyUs', 'connectUs', 'endpoints']);
    expect(fr.endpoints).toEqual([]);
    expect([fr.type, fr.from, fr.to, fr.sent, fr.received, fr.lost]).toEqual(['http', 'client', 'web', 10, 8, 1]);
    // a flow nobody described falls back to its own request counters
    expect([r.flows[0]!.type, r.flows[0]!.sent, r.flows[0]!.lost]).toEqual(['unknown', 0, 0]);
    expect(fr.requests).toBe(10);
    expect(fr.successes).toBe(8);
    expect(fr.errors).toBe(2);
    expect(fr.errorsByKind.timeout).toBe(1);
    expect(fr.errorsByKind.refused).toBe(1);
    expect(Object.keys(fr.latencyUs)).toEqual(['min', 'mean', 'p50', 'p90', 'p99', 'p999', 'max']);
    expect(fr.latencyUs.min).toBe(1000);
    expect(r.endpoints.map((e) => e.name)).toEqual(['web-0', 'web-1', 'web-2']);
    expect(r.endpoints.reduce((a, e) => a + e.share, 0)).toBeCloseTo(1, 12);
    expect(r.endpoints.reduce((a, e) => a + e.served, 0)).toBe(10);
    expect(Object.keys(r.counters)).toEqual(['tcp/a', 'tcp/b']);
    expect(Object.keys(r.counters['tcp/b']!)).toEqual(['ActiveOpens', 'RetransSegs']);
    expect(reg.toJson({ seed: 7 })).toBe(reg.toJson({ seed: 7 }));
  });

  it("gives each flow its own endpoint breakdown, while the global one counts every flow's requests", () => {
    let now = 0;
    const reg = new StatsRegistry(() => now);
    const a = reg.flow('a');
    const b = reg.flow('b');
    const served = (f: typeof a, ep: string, bytes: number, fresh: boolean) => {
      f.requestStarted();
      now += 1000;
      f.requestSucceeded(1000, fresh ? 100 : null, bytes);
      f.servedBy(ep, bytes, fresh);
      reg.endpoint(ep).served();
    };
    served(a, 'web-1', 100, true);
    served(a, 'web-0', 100, true);
    served(a, 'web-1', 300, false);
    served(b, 'web-0', 50, true);
    a.requestStarted();
    a.requestFailed('timeout', 5); // a failed request names no endpoint
    const r = reg.report({ seed: 1 });
    const [fa, fb] = r.flows;
    expect(fa!.endpoints).toEqual([
      { name: 'web-0', requests: 1, share: 0.333333, connections: 1, bytes: 100 },
      { name: 'web-1', requests: 2, share: 0.666667, connections: 1, bytes: 400 },
    ]);
    expect(fb!.endpoints).toEqual([{ name: 'web-0', requests: 1, share: 1, connections: 1, bytes: 50 }]);
    // The global breakdown mixes both flows: web-0 served one request of each.
    expect(r.endpoints.map((e) => [e.name, e.served])).toEqual([['web-0', 2], ['web-1', 2]]);
    expect(StatsDocumentSchema.safeParse(r).success).toBe(true);
  });

  it('integrates busy time and queue length over time', () => {
    let now = 0;
    const reg = new StatsRegistry(() => now);
    const e = reg.endpoint('web-0', 2);
    e.busyChanged(2);
    e.queueChanged(3);
    now = 1000;
    e.queueChanged(0);
    e.busyChanged(1);
    now = 2000;
    e.busyChanged(0);
    now = 4000;
    const r = reg.report({ seed: 1 }).endpoints[0]!;
    expect(r.busyUs).toBe(3); // 2 workers × 1 µs + 1 worker × 1 µs
    expect(r.maxQueue).toBe(3);
    expect(r.meanQueue).toBeCloseTo(0.75, 9); // 3 × 1000 over 4000 ns
    expect(r.utilization).toBeCloseTo(3000 / (2 * 4000), 9);
  });

  it('utilization is over the traffic window (first request start to last completion), not the drain after it', () => {
    let now = 0;
    const reg = new StatsRegistry(() => now);
    const e = reg.endpoint('web-0', 1);
    const f = reg.flow('load');
    now = 1000;
    f.requestStarted();
    e.busyChanged(1);
    now = 2000;
    e.busyChanged(0);
    now = 3000;
    f.requestSucceeded(2000, null, 10);
    now = 100_000; // a long drain (probes, timers) after the traffic
    const r = reg.report({ seed: 1 }).endpoints[0]!;
    expect(r.busyUs).toBe(1);
    expect(r.utilization).toBeCloseTo(1000 / 2000, 9); // busy 1 µs over the 2 µs window, not over 100 µs
  });
});
