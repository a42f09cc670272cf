// stats/timeseries SecondSeries: a flow's per-second series in typed-array columns with packed latency
// buckets. Its rows (timeseries.json) and details (the recovery section's merged p50/p99) must be the
// ones a Map per second gave — the reference below is that implementation — for any order of calls,
// while a long run's memory stays tens of bytes per flow-second, not a Map's hundreds. And an
// `addrnotavail` error (kind index 6) counts in the recovery series as any other kind.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../scenario/dist.js';
import { recoveryReport, TcpSecondSampler } from '../../src/stats/recovery.js';
import { FlowStats } from '../../src/stats/flow.js';
import { SecondSeries } from '../../src/stats/timeseries.js';

const LOG_GROWTH = Math.log(1.01);

/** The Map-per-second series the columns replaced: rows and bucket pairs by second. */
class Reference {
  readonly seconds = new Map<number, { ok: number; errors: number; started: number; buckets: Map<number, number>; byKind: number[] | null }>();
  private at(now: number) {
    const t = Math.floor(now / 1e9);
    let s = this.seconds.get(t);
    if (!s) this.seconds.set(t, (s = { ok: 0, errors: 0, started: 0, buckets: new Map(), byKind: null }));
    return s;
  }
  success(now: number, latencyNs: number): void {
    const s = this.at(now);
    s.ok++;
    const b = latencyNs >= 1 ? Math.floor(Math.log(latencyNs) / LOG_GROWTH) : -1;
    s.buckets.set(b, (s.buckets.get(b) ?? 0) + 1);
  }
  error(now: number, kind: number): void {
    const s = this.at(now);
    s.errors++;
    (s.byKind ??= [0, 0, 0, 0, 0, 0, 0])[kind]!++;
  }
  started(now: number): void {
    this.at(now).started++;
  }
  rows() {
    return [...this.seconds.keys()].sort((a, b) => a - b).map((t) => {
      const s = this.seconds.get(t)!;
      const pct = (q: number): number | null => {
        if (s.ok === 0) return null;
        const rank = Math.max(1, Math.ceil(q * s.ok));
        let seen = 0;
        for (const b of [...s.buckets.keys()].sort((x, y) => x - y)) {
          seen += s.buckets.get(b)!;
          if (seen >= rank) return b < 0 ? 0 : Math.round((Math.pow(1.01, b + 1) / 1000) * 1000) / 1000;
        }
        return null;
      };
      return { t, ok: s.ok, errors: s.errors, p50Us: pct(0.5), p99Us: pct(0.99) };
    });
  }
  details() {
    return [...this.seconds.keys()].sort((a, b) => a - b).map((t) => {
      const s = this.seconds.get(t)!;
      return { t, started: s.started, ok: s.ok, byKind: s.byKind, buckets: [...s.buckets.keys()].sort((x, y) => x - y).flatMap((b) => [b, s.buckets.get(b)!]) };
    });
  }
}

/** A seeded LCG in [0, 1). */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('SecondSeries (typed columns, packed buckets)', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`rows and details equal a Map per second's, calls in time order with some going back (seed ${seed})`, () => {
      const r = rng(seed);
      const s = new SecondSeries(7);
      const ref = new Reference();
      let now = 3e9 + r() * 1e9;
      for (let k = 0; k < 5000; k++) {
        now += r() * 4e7;
        // one call in 20 lands in an earlier second (down to before the first one seen)
        const at = r() < 0.05 ? Math.max(0, now - r() * 5e9) : now;
        const what = r();
        const latency = r() < 0.01 ? 0.5 : Math.exp(r() * 20);
        if (what < 0.4) (s.started(at), ref.started(at));
        else if (what < 0.9) (s.success(at, latency), ref.success(at, latency));
        else {
          const kind = Math.floor(r() * 7);
          s.error(at, kind);
          ref.error(at, kind);
        }
      }
      expect(s.rows()).toEqual(ref.rows());
      expect(s.details()).toEqual(ref.details());
    });
  }

  it('a 2-hour run at 100 requests/s costs under 1 KB per flow-second, heap and array buffers (a Map per second: ~3.8 KB)', () => {
    ensureBuilt();
    const script = `
      const { SecondSeries } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/stats/timeseries.js')).href)});
      // two full collections: one left 0.4–0.5 KB per flow-second of garbage in some runs (CI measured 1,037 B)
      const used = () => { globalThis.gc(); globalThis.gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
      const before = used();
      const flows = Array.from({ length: 3 }, () => new SecondSeries(7));
      let x = 9;
      for (let t = 0; t < 7200; t++) for (const s of flows) for (let i = 0; i < 100; i++) {
        const now = t * 1e9 + i * 1e7;
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        s.started(now);
        s.success(now, 2e5 + (x / 2 ** 32) * 2e6);
      }
      const after = used();
      process.stdout.write(JSON.stringify({ perFlowSecond: (after - before) / (3 * 7200), rows: flows[0].rows().length }));`;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout) as { perFlowSecond: number; rows: number };
    expect(got.rows).toBe(7200);
    expect(got.perFlowSecond).toBeLessThan(1024);
  });

  it('an addrnotavail error counts in the recovery series (it was NaN: the kinds array had six slots)', () => {
    const f = new FlowStats('f', () => 1.5e9);
    f.requestStarted();
    f.requestFailed('addrnotavail', 0);
    f.requestStarted();
    f.requestFailed('timeout', 0);
    const rep = recoveryReport({ flows: [f], endpoints: [], tcp: new TcpSecondSampler(), faults: [{ kind: 'pod-down', target: 'pod/x', atNs: 1e9 }], timeline: [], errorThreshold: 0.01, windowNs: 5e9, endNs: 2e9 });
    const s1 = rep.seconds.find((s) => s.t === 1)!;
    expect(s1.errors).toBe(2);
    expect(s1.errorsByKind).toMatchObject({ timeout: 1, addrnotavail: 1 });
    // a second without one does not list the kind (as flows[].errorsByKind)
    expect(Object.keys(rep.seconds.find((s) => s.t === 0)!.errorsByKind)).not.toContain('addrnotavail');
  });
});
