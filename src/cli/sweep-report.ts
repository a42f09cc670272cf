// cli/sweep-report — `podwire sweep` writes DIR/report.html: the comparison of its variants (mean and
// 95 % interval across seeds of the balance and latency metrics, then each variant minus the first,
// paired by seed) above the report of each variant's first-seed run (latency CDFs, endpoint shares
// with their binomial band, per-second series). Layer: cli (joins sweep's statistics and report's page).
import { join } from 'node:path';
import { loadRun } from '../report/load.js';
import type { ComparisonTable, Estimate } from '../report/model.js';
import { writeReport } from '../report/write.js';
import type { EstimateT, SweepDocument } from '../sweep/schema.js';

/** Metrics the page's table shows: balance and each flow's latency, successes and errors. */
function pageMetrics(doc: SweepDocument): string[] {
  const all = [...new Set(doc.variants.flatMap((v) => Object.keys(v.metrics)))];
  return all.filter((m) => {
    if (/\.share\[\d+\]$/.test(m) || /\.latencyUs\.p(50|90|99\.9)$/.test(m)) return false;
    if (/\.errors\.[a-z-]+$/.test(m)) return doc.variants.some((v) => (v.metrics[m]?.mean ?? 0) > 0);
    return true;
  });
}

/** `flow.NAME.latencyUs.p99` → `NAME p99 (ms)`; latency in ms on the page. */
function column(m: string): { title: string; scale: number } {
  const lat = /^flow\.(.+)\.latencyUs\.(.+)$/.exec(m);
  if (lat) return { title: `${lat[1]} ${lat[2]} (ms)`, scale: 1e-3 };
  const flow = /^flow\.(.+)\.(successes|errors.*)$/.exec(m);
  if (flow) return { title: `${flow[1]} ${flow[2]}`, scale: 1 };
  return { title: m, scale: 1 };
}

function estimate(e: EstimateT | undefined, scale: number): Estimate | number | null {
  if (!e) return null;
  if (e.lo === null || e.hi === null) return e.mean * scale;
  return { value: e.mean * scale, lo: e.lo * scale, hi: e.hi * scale };
}

/** The sweep's comparison as the report's table: one row per variant, then one per difference. */
export function sweepComparison(doc: SweepDocument): ComparisonTable {
  const metrics = pageMetrics(doc);
  const cols = metrics.map(column);
  const pct = Math.round(doc.confidence * 100);
  return {
    caption: `${doc.variants.length} variants × ${doc.seeds.length} seeds: mean [${pct} % t-interval] across seeds; rows "A − B" are differences paired by seed`,
    columns: cols.map((c) => c.title),
    rows: [
      ...doc.variants.map((v) => ({ label: v.name, cells: metrics.map((m, i) => estimate(v.metrics[m], cols[i]!.scale)) })),
      ...doc.comparisons.map((c) => ({ label: `${c.variant} − ${c.baseline}`, cells: metrics.map((m, i) => estimate(c.metrics[m], cols[i]!.scale)) })),
    ],
  };
}

/** Writes DIR/report.html for a finished sweep; returns its path. */
export async function writeSweepReport(out: string, doc: SweepDocument): Promise<string> {
  const runs = doc.variants.filter((v) => v.runs.length > 0).map((v) => loadRun(join(out, v.runs[0]!.dir), `${v.name} (seed ${v.runs[0]!.seed})`));
  const path = join(out, 'report.html');
  await writeReport(path, { title: `${doc.scenario}: sweep`, runs, topology: null, comparison: sweepComparison(doc) });
  return path;
}
