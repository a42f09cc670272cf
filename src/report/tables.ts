// report/tables — the report's HTML tables: latency percentiles per flow and variant, the comparison
// table (a sweep's, or error rates with Wilson intervals across variants), the numbered timeline and
// drops. Layer: report (imports stats types and its own modules).
import { dropsOf } from '../stats/drops.js';
import type { StatsDocument } from '../stats/index.js';
import { isReaction, wilson } from './data.js';
import { escapeHtml as h } from './escape.js';
import type { ComparisonTable, Estimate, RunData } from './model.js';

const ms = (us: number): string => (us / 1000).toLocaleString('en-US', { maximumSignificantDigits: 4 });
const num = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 2 });

/** Time as the timeline shows it (s with ms). */
export const secs = (us: number): string => `${(us / 1e6).toFixed(3)} s`;

/** Latency percentiles (ms) and counts of every flow of every run, one row per (variant, flow). */
export function percentileTable(runs: readonly RunData[]): string {
  const multi = runs.length > 1;
  const head = `${multi ? '<th>variant</th>' : ''}<th>flow</th><th>type</th><th>from → to</th><th class="n">requests</th><th class="n">ok</th><th class="n">errors</th><th class="n">succ./s</th><th class="n">min</th><th class="n">p50</th><th class="n">p90</th><th class="n">p99</th><th class="n">p99.9</th><th class="n">max</th>`;
  const rows = runs.flatMap((r) =>
    r.stats.flows.map((f) => {
      const l = f.latencyUs;
      const kinds = Object.entries(f.errorsByKind).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
      const err = f.errors > 0 ? `<span class="bad" title="${h(kinds)}">${f.errors}</span>` : '0';
      const lat = f.successes > 0 ? [l.min, l.p50, l.p90, l.p99, l.p999, l.max].map((v) => `<td class="n">${ms(v)}</td>`).join('') : '<td class="n" colspan="6">no successful request</td>';
      return `<tr data-flow="${h(f.name)}"${multi ? ` data-variant="${h(r.label)}"` : ''}>${multi ? `<td>${h(r.label)}</td>` : ''}<td>${h(f.name)}</td><td>${h(f.type)}</td><td class="small">${h(f.from)} → ${h(f.to)}</td><td class="n">${f.requests}</td><td class="n">${f.successes}</td><td class="n">${err}</td><td class="n">${num(f.throughputRps)}</td>${lat}</tr>`;
    }),
  );
  return `<table class="pct-table"><caption>Latency of successful requests (ms) and request counts</caption><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function cell(c: Estimate | number | string | null): string {
  if (c === null) return '<td class="n">—</td>';
  if (typeof c === 'string') return `<td>${h(c)}</td>`;
  if (typeof c === 'number') return `<td class="n">${num(c)}</td>`;
  return `<td class="n" data-value="${c.value}" data-lo="${c.lo}" data-hi="${c.hi}">${num(c.value)} <span class="ci">[${num(c.lo)}, ${num(c.hi)}]</span></td>`;
}

/** A comparison table: rows are variants, cells may carry a 95 % interval shown as [lo, hi]. */
export function comparisonTable(t: ComparisonTable): string {
  const head = `<th>variant</th>${t.columns.map((c) => `<th class="n">${h(c)}</th>`).join('')}`;
  const rows = t.rows.map((r) => `<tr data-variant="${h(r.label)}"><td>${h(r.label)}</td>${r.cells.map(cell).join('')}</tr>`);
  return `<table class="cmp-table"><caption>${h(t.caption)}</caption><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Without a sweep table: each (variant, flow)'s p50, p99 and error rate (%) with its Wilson 95 % interval. */
export function defaultComparison(runs: readonly RunData[]): ComparisonTable {
  const rows = runs.flatMap((r) =>
    r.stats.flows.map((f) => {
      const w = wilson(f.errors, f.requests);
      const pct = { value: 100 * w.value, lo: 100 * w.lo, hi: 100 * w.hi };
      // (no successful request: no latency, shown as —, not 0 ms)
      const ok = f.successes > 0;
      return { label: `${r.label} · ${f.name}`, cells: [f.requests, ok ? f.latencyUs.p50 / 1000 : null, ok ? f.latencyUs.p99 / 1000 : null, pct] as (Estimate | number | null)[] };
    }),
  );
  return { caption: 'Variants compared (error rate with its 95 % Wilson interval)', columns: ['requests', 'p50 (ms)', 'p99 (ms)', 'error rate (%)'], rows };
}

/** Each flow's own endpoint breakdown (stats.json flows[].endpoints): one row per (flow, endpoint); '' when no flow names one. */
export function flowEndpointsTable(stats: StatsDocument): string {
  const rows = stats.flows.flatMap((f) =>
    (f.endpoints ?? []).map((e, i, all) => {
      const flowCell = i === 0 ? `<td rowspan="${all.length}">${h(f.name)}</td>` : '';
      return `<tr data-flow="${h(f.name)}" data-endpoint="${h(e.name)}">${flowCell}<td>${h(e.name)}</td><td class="n">${e.requests}</td><td class="n">${(100 * e.share).toFixed(1)} %</td><td class="n">${e.connections}</td><td class="n">${e.bytes.toLocaleString('en-US')}</td></tr>`;
    }),
  );
  if (rows.length === 0) return '';
  const head = '<th>flow</th><th>endpoint</th><th class="n">requests</th><th class="n">share of flow</th><th class="n">new connections</th><th class="n">bytes</th>';
  return `<table class="flow-endpoints"><caption>Requests each endpoint answered, per flow</caption><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The fault timeline as a numbered list matching the chart markers. */
export function timelineList(stats: StatsDocument): string {
  if (stats.timeline.length === 0) return '<p class="muted">No faults in this run.</p>';
  const items = stats.timeline.map((e, i) => `<li class="${isReaction(e.what) ? 'reaction' : 'fault'}"><span class="mk">${i + 1}</span><span class="at">${secs(e.atUs)}</span> ${h(e.what)}</li>`);
  return `<ol class="timeline">${items.join('')}</ol>`;
}

/** Drops per host (the stack's) and per interface (qdisc, netem, link), by reason; only places that dropped something. */
export function dropsTable(stats: StatsDocument): string {
  const rows = dropsOf(stats).map((d) => `<tr><td>${h(d.where)}</td><td>${d.reasons.map(([r, n]) => `${h(r)} <b>${n}</b>`).join(', ')}</td></tr>`);
  if (rows.length === 0) return '<p class="muted">No packet was dropped.</p>';
  return `<table class="drops"><thead><tr><th>host or interface</th><th>drops by reason</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}
