// sweep/table — the comparison table `podwire sweep` prints: one row per metric, one column per variant
// (mean [95 % interval] across seeds), then each variant minus the first, paired by seed, marked `*`
// when the interval excludes 0. Layer: sweep.
import type { EstimateT, SweepDocument } from './schema.js';

/** 4 significant digits, no exponent for everyday magnitudes. */
export function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e6 || a < 1e-3) return x.toExponential(2);
  return String(Number(x.toPrecision(4)));
}

function cell(e: EstimateT | undefined): string {
  if (!e) return '-';
  return e.lo === null || e.hi === null ? fmt(e.mean) : `${fmt(e.mean)} [${fmt(e.lo)}, ${fmt(e.hi)}]`;
}

function diffCell(e: EstimateT | undefined): string {
  if (!e) return '-';
  const sig = e.lo !== null && e.hi !== null && (e.lo > 0 || e.hi < 0) ? ' *' : '';
  return `${e.mean > 0 ? '+' : ''}${cell(e)}${sig}`;
}

/** Rows shown: balance, then each flow's latency, successes and errors (kinds only when some occurred). */
function shownMetrics(doc: SweepDocument): string[] {
  const all = [...new Set(doc.variants.flatMap((v) => Object.keys(v.metrics)))];
  return all.filter((m) => {
    if (/\.share\[\d+\]$/.test(m)) return m.endsWith('.share[1]');
    if (/\.errors\.[a-z-]+$/.test(m)) return doc.variants.some((v) => (v.metrics[m]?.mean ?? 0) > 0);
    return true;
  });
}

/** The table as lines. */
export function comparisonTable(doc: SweepDocument): string[] {
  const metrics = shownMetrics(doc);
  const head = ['metric', ...doc.variants.map((v) => v.name), ...doc.comparisons.map((c) => `${c.variant} − ${c.baseline}`)];
  const rows = metrics.map((m) => [m, ...doc.variants.map((v) => cell(v.metrics[m])), ...doc.comparisons.map((c) => diffCell(c.metrics[m]))]);
  const chi = (kind: 'requests' | 'connections'): string[] => [
    `${kind}.chi2p (all seeds)`,
    ...doc.variants.map((v) => {
      const c = v.chiSquare[kind];
      return c ? `${fmt(c.p)} (χ²=${fmt(c.chi2)}, df=${c.df})` : '-';
    }),
    ...doc.comparisons.map(() => ''),
  ];
  rows.push(chi('requests'), chi('connections'));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const n = doc.seeds.length;
  return [
    `${doc.scenario}: ${doc.variants.length} variants × ${n} seeds; mean [${Math.round(doc.confidence * 100)}% t-interval] across seeds; differences paired by seed, * = interval excludes 0`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];
}
