// sweep/aggregate — merges the runs of a sweep (their stats.json, read back from the run directories)
// into sweep.json: per run the endpoints and metrics, per variant each metric's mean across seeds with
// its interval, and each variant against the first, paired by seed. Layer: sweep (imports stats'
// schema, node:fs / node:path).
//
// Connections per endpoint are not a field of stats.json; they are derived from what it has: the
// endpoint's TCP MIB counter PassiveOpens (counters["tcp/NAME"]), the connections its host accepted, less the health checks' (endpoints[].probeConnections: the kubelet's probes, a load balancer's TCP checks).
// kube-proxy picks an endpoint per connection, so connection share is what it balances; request
// share also reflects keep-alive and service time.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { StatsDocumentSchema, type StatsDocument } from '../stats/schema.js';
import type { Variant } from './plan.js';
import { runDir } from './plan.js';
import { SWEEP_SCHEMA_ID, type RunSummary, type SweepDocument, type VariantReport } from './schema.js';
import { balance, combinedChiSquare, CONFIDENCE, pairedDifference, round6, tInterval, type Balance } from './stats.js';

export const METRIC_NOTES: Record<string, string> = {
  'requests.*': 'balance of requests served per endpoint (stats.json endpoints[].served)',
  'connections.*': 'balance of TCP connections accepted per endpoint (counters tcp/NAME PassiveOpens, less endpoints[].probeConnections: the health checks\' own)',
  '*.maxOverMean': 'largest count / mean count (1 = even)',
  '*.cv': 'coefficient of variation of the counts (population sd / mean)',
  '*.jain': "Jain's fairness index (Σx)²/(k·Σx²): 1 = even, 1/k = one endpoint takes all",
  '*.chi2p': 'p-value of Pearson χ² against a uniform split (k − 1 degrees of freedom)',
  '*.share[i]': 'share of the i-th busiest endpoint (pod names differ between seeds, so endpoints are ranked)',
  'flow.F.latencyUs.*': 'latency of successful requests of flow F, µs (per seed: the run’s HDR percentile; across seeds: mean of those)',
  'flow.F.errors*': 'failed requests of flow F, all kinds and by kind',
};

function balanceMetrics(prefix: string, b: Balance | null, into: Record<string, number | null>): void {
  into[`${prefix}.maxOverMean`] = b ? round6(b.maxOverMean) : null;
  into[`${prefix}.cv`] = b ? round6(b.cv) : null;
  into[`${prefix}.jain`] = b ? round6(b.jain) : null;
  into[`${prefix}.chi2p`] = b ? round6(b.p) : null;
  if (b) [...b.shares].sort((x, y) => y - x).forEach((s, i) => (into[`${prefix}.share[${i + 1}]`] = round6(s)));
}

/** Endpoints and metrics of one run's stats.json. */
export function runMetrics(doc: StatsDocument): { endpoints: RunSummary['endpoints']; metrics: Record<string, number | null>; balances: { requests: Balance | null; connections: Balance | null } } {
  const anyTcp = doc.endpoints.some((e) => doc.counters[`tcp/${e.name}`] !== undefined);
  // Health checks are not the traffic's load: served leaves the probes' requests out, and their connections (probes', a load balancer's) come off PassiveOpens.
  const endpoints = doc.endpoints.map((e) => ({ name: e.name, requests: e.served, connections: anyTcp ? Math.max(0, (doc.counters[`tcp/${e.name}`]?.['PassiveOpens'] ?? 0) - (e.probeConnections ?? 0)) : null }));
  const requests = balance(endpoints.map((e) => e.requests));
  const connections = anyTcp ? balance(endpoints.map((e) => e.connections ?? 0)) : null;
  const metrics: Record<string, number | null> = {};
  balanceMetrics('requests', requests, metrics);
  balanceMetrics('connections', connections, metrics);
  for (const f of doc.flows) {
    const p = `flow.${f.name}`;
    const l = f.latencyUs;
    const ok = f.successes > 0 || f.received > 0;
    for (const [k, v] of [['mean', l.mean], ['p50', l.p50], ['p90', l.p90], ['p99', l.p99], ['p99.9', l.p999]] as const) metrics[`${p}.latencyUs.${k}`] = ok ? v : null;
    metrics[`${p}.successes`] = f.successes;
    metrics[`${p}.errors`] = f.errors;
    for (const [kind, n] of Object.entries(f.errorsByKind)) metrics[`${p}.errors.${kind}`] = n;
  }
  return { endpoints, metrics, balances: { requests, connections } };
}

/**
 * The range a metric's values can take: a share, a p-value and Jain's index lie in [0, 1], max/mean is at least 1,
 * everything else (counts, latencies, cv) at least 0. A variant's interval is cut to it: the Student-t interval of a
 * mean near a bound reaches past it (a p-value's [−0.41, 1.53]), and the true mean cannot lie there. A difference
 * between variants is cut to [min − max, max − min] (a p-value's to [−1, 1]).
 */
export function metricRange(name: string): [number, number] {
  if (/\.(jain|chi2p|share\[\d+\])$/.test(name)) return [0, 1];
  if (name.endsWith('.maxOverMean')) return [1, Infinity];
  return [0, Infinity];
}

/** Reads a run's stats.json (validated against its schema). */
export function readRunStats(dir: string): StatsDocument {
  return StatsDocumentSchema.parse(JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8')));
}

/** Each metric of a variant's runs across seeds: its mean and t-interval, cut to the metric's range. */
export function variantMetrics(runs: readonly Pick<RunSummary, 'metrics'>[]): VariantReport['metrics'] {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))];
  const metrics: VariantReport['metrics'] = {};
  for (const name of names) {
    const xs = runs.map((r) => r.metrics[name]).filter((x): x is number => x !== null && x !== undefined);
    const e = tInterval(xs);
    if (!e) continue;
    const [min, max] = metricRange(name);
    metrics[name] = { ...e, lo: e.lo === null ? null : Math.max(min, e.lo), hi: e.hi === null ? null : Math.min(max, e.hi) };
  }
  return metrics;
}

function variantReport(outDir: string, v: Variant, seeds: readonly number[]): VariantReport {
  const runs: RunSummary[] = [];
  const chi = { requests: [] as Balance[], connections: [] as Balance[] };
  for (const seed of seeds) {
    const dir = runDir(outDir, v, seed);
    const doc = readRunStats(dir);
    const m = runMetrics(doc);
    if (m.balances.requests) chi.requests.push(m.balances.requests);
    if (m.balances.connections) chi.connections.push(m.balances.connections);
    runs.push({ seed, dir: relative(outDir, dir).split('\\').join('/'), ...(doc.partial ? { partial: doc.partial.message } : {}), endpoints: m.endpoints, metrics: m.metrics });
  }
  return { name: v.name, set: v.set, runs, metrics: variantMetrics(runs), chiSquare: { requests: combinedChiSquare(chi.requests), connections: combinedChiSquare(chi.connections) } };
}

/** The sweep document, from the run directories under `outDir` (every run must be complete). */
export function aggregate(outDir: string, file: string, scenario: string, variants: readonly Variant[], seeds: readonly number[]): SweepDocument {
  const reports = variants.map((v) => variantReport(outDir, v, seeds));
  const base = reports[0]!;
  const comparisons = reports.slice(1).map((r) => {
    const metrics: SweepDocument['comparisons'][number]['metrics'] = {};
    for (const name of Object.keys(r.metrics)) {
      if (!(name in base.metrics)) continue;
      const d = pairedDifference(
        base.runs.map((x) => x.metrics[name] ?? null),
        r.runs.map((x) => x.metrics[name] ?? null),
      );
      // (a difference of two values in [min, max] lies in [min − max, max − min]: ±1 for a share or a p-value)
      const [min, max] = metricRange(name);
      if (d) metrics[name] = { ...d, lo: d.lo === null ? null : Math.max(min - max, d.lo), hi: d.hi === null ? null : Math.min(max - min, d.hi) };
    }
    return { variant: r.name, baseline: base.name, metrics };
  });
  return { schema: SWEEP_SCHEMA_ID, scenario, file, seeds: [...seeds], confidence: CONFIDENCE, metricNotes: METRIC_NOTES, variants: reports, comparisons };
}
