// report/data — the rows the charts and tables draw, derived from stats.json, timeseries.json and the
// topology: endpoint shares with their expected binomial band, per-second rows, numbered timeline
// marks. Layer: report (imports stats types and its own model).
import type { StatsDocument } from '../stats/index.js';
import type { RunData, Topology } from './model.js';

/** z of a two-sided 95 % normal interval. */
export const Z95 = 1.959964;

/** One endpoint's bar: its share, the share expected under uniform balancing, and the 95 % band. */
export interface ShareRow {
  endpoint: string;
  group: string;
  served: number;
  share: number;
  expected: number;
  lo: number;
  hi: number;
  label: string;
  /** Where the label sits: right of both the bar and the band. */
  labelX: number;
}

/** The group (service) of each endpoint: the first service listing it, else one group of all. */
function groupsOf(stats: StatsDocument, topo: Topology | null): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const e of stats.endpoints) {
    const svc = topo?.services.find((s) => s.endpoints.includes(e.name));
    const g = svc ? svc.name : 'all endpoints';
    groups.set(g, [...(groups.get(g) ?? []), e.name]);
  }
  return groups;
}

/** Shares within each group; expected = 1/k over the group's k endpoints, band p ± z·√(p(1−p)/n). */
export function sharesOf(stats: StatsDocument, topo: Topology | null): ShareRow[] {
  const rows: ShareRow[] = [];
  const byName = new Map(stats.endpoints.map((e) => [e.name, e]));
  for (const [group, names] of groupsOf(stats, topo)) {
    const n = names.reduce((s, x) => s + byName.get(x)!.served, 0);
    const p = 1 / names.length;
    const half = n > 0 ? Z95 * Math.sqrt((p * (1 - p)) / n) : 0;
    for (const name of names) {
      const served = byName.get(name)!.served;
      const share = n > 0 ? served / n : 0;
      const label = `${served} (${(100 * share).toFixed(1)} %)`;
      const hi = Math.min(1, p + half);
      rows.push({ endpoint: name, group, served, share, expected: p, lo: Math.max(0, p - half), hi, label, labelX: Math.max(share, hi) });
    }
  }
  return rows;
}

/**
 * The timeline entries spec.faults writes (scenario/faults.ts, faults-net.ts, faults-k8s-run.ts): `pod X
 * down|up|app stopped|deleted`, `node X down`, `link …`, or the fault's kind first (`netem on …`,
 * `node-crash: …`, `dns-chaos over`). Everything else is the cluster's reaction: its controllers,
 * kubelets, kube-proxy, flanneld, load balancers' health checks, external-dns, ingress-nginx.
 */
const FAULT_ENTRY = /^(?:(?:pod|node) \S+ (?:down|up|app stopped|deleted)\b|link \S|(?:netem|partition|bandwidth|pod-kill|pod-failure|container-kill|toxic|kube-proxy-stall|conntrack-full|node-crash|node-reboot|node-delete|dns-outage|dns-chaos|scale|rollout-restart|drain|cordon|uncordon)(?![\w-]))/;

/** Whether a timeline entry is a control-plane reaction (grey marker) rather than a fault (red). */
export function isReaction(what: string): boolean {
  return !FAULT_ENTRY.test(what);
}

/** Timeline entries as numbered markers (seconds). */
export function timelineMarks(stats: StatsDocument): { n: string; t: number; what: string; kind: 'fault' | 'reaction' }[] {
  return stats.timeline.map((e, i) => ({ n: String(i + 1), t: e.atUs / 1e6, what: e.what, kind: isReaction(e.what) ? 'reaction' : 'fault' }));
}

/** One second of one flow, as the time-series chart draws it. */
export interface SeriesRow {
  series: string;
  t: number;
  ok: number;
  errors: number;
  p99ms: number | null;
}

/** Per-second rows of every flow of a run (empty without timeseries.json). Points sit mid-second. */
export function seriesRows(run: RunData): SeriesRow[] {
  if (!run.series) return [];
  return run.series.flows.flatMap((f) => f.seconds.map((s) => ({ series: f.name, t: s.t + 0.5, ok: s.ok, errors: s.errors, p99ms: s.p99Us === null ? null : s.p99Us / 1000 })));
}

/** Most points per flow the time-series chart draws: a longer run is drawn in bins of several seconds. */
export const MAX_SERIES_POINTS = 2000;

/**
 * The rows binned so that no flow has more than `maxPoints` (each bin `width` seconds: successes and
 * errors per second averaged over the bin, p99 the bin's worst second); the rows unchanged, width 1,
 * when the run is short enough. A run of simulated days would otherwise draw millions of points.
 */
export function binnedRows(rows: readonly SeriesRow[], maxPoints = MAX_SERIES_POINTS): { rows: SeriesRow[]; width: number } {
  let last = 0;
  for (const r of rows) if (r.t > last) last = r.t;
  const width = Math.max(1, Math.ceil(Math.ceil(last) / maxPoints));
  if (width === 1) return { rows: [...rows], width };
  const bins = new Map<string, SeriesRow>();
  for (const r of rows) {
    const b = Math.floor(r.t / width);
    const key = `${b}\u0000${r.series}`;
    let o = bins.get(key);
    if (!o) bins.set(key, (o = { series: r.series, t: b * width + width / 2, ok: 0, errors: 0, p99ms: null }));
    o.ok += r.ok;
    o.errors += r.errors;
    if (r.p99ms !== null && (o.p99ms === null || r.p99ms > o.p99ms)) o.p99ms = r.p99ms;
  }
  return { rows: [...bins.values()].map((o) => ({ ...o, ok: o.ok / width, errors: o.errors / width })), width };
}

/** Wilson score interval of a binomial proportion k/n at 95 %. */
export function wilson(k: number, n: number): { value: number; lo: number; hi: number } {
  if (n === 0) return { value: 0, lo: 0, hi: 0 };
  const p = k / n;
  const z2 = Z95 * Z95;
  const mid = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { value: p, lo: Math.max(0, mid - half), hi: Math.min(1, mid + half) };
}
