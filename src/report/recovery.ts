// report/recovery — the report's recovery section, drawn from stats.json's `recovery` (present when the
// scenario had faults): a table with each fault's time to first error, to detect and to recover and
// the requests it cost, and per-second panels — errors by kind (stacked bars), TCP retransmissions and
// RTOs, each endpoint's share of the requests served — under the fault markers numbered as the
// timeline list. Layer: report (imports stats types, vega-lite types and its own modules). Mark names
// for tests: `recovery_errors`, `recovery_tcp`, `recovery_shares`, `recovery_faults`; the table is
// `table.recovery-table`.
import type { TopLevelSpec } from 'vega-lite';
import type { StatsDocument } from '../stats/index.js';
import { timelineMarks } from './data.js';
import { escapeHtml as h } from './escape.js';
import { secs } from './tables.js';

type Recovery = NonNullable<StatsDocument['recovery']>;

const dur = (us: number | null): string => (us === null ? '—' : secs(us));

/** One row per fault: when it struck and what it cost. */
export function recoveryTable(r: Recovery): string {
  const rows = r.faults.map(
    (f) =>
      `<tr><td class="n">${f.index}</td><td>${h(f.kind)}</td><td>${h(f.target)}</td><td class="n">${secs(f.atUs)}</td><td class="n">${dur(f.timeToFirstErrorUs)}</td><td class="n">${dur(f.timeToDetectUs)}</td><td class="small">${h(f.detectedBy ?? '')}</td><td class="n">${dur(f.timeToRecoverUs)}</td><td class="n">${f.requestsLost}</td></tr>`,
  );
  const head = '<tr><th class="n">spec.faults[#]</th><th>fault</th><th>target</th><th class="n">at</th><th class="n">first error after</th><th class="n">detected after</th><th>detected by</th><th class="n">recovered after</th><th class="n">requests lost</th></tr>';
  return `<table class="recovery-table"><caption>Recovered: ${r.windowS} s in a row with errors ≤ ${(r.errorThreshold * 100).toFixed(1)} % of the completed requests (spec.recovery).</caption><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Per-second panels of the recovery series with the fault markers; null when there is no second. */
export function recoverySpec(stats: StatsDocument): TopLevelSpec | null {
  const r = stats.recovery;
  if (!r || r.seconds.length === 0) return null;
  const errors = r.seconds.flatMap((s) => Object.entries(s.errorsByKind).filter(([, n]) => n > 0).map(([kind, n]) => ({ t: s.t + 0.5, kind, errors: n })));
  const tcp = r.seconds.flatMap((s) => [
    { t: s.t + 0.5, counter: 'retransmissions', n: s.retransmissions },
    { t: s.t + 0.5, counter: 'RTOs', n: s.rtos },
  ]);
  const shares = r.seconds.flatMap((s) => Object.entries(s.endpointShares).map(([endpoint, share]) => ({ t: s.t + 0.5, endpoint, share })));
  const faults = timelineMarks(stats);
  const domain = [0, r.seconds.length + 1];
  const barWidth = Math.max(2, Math.floor(820 / domain[1]!) - 2);
  const x = { field: 't', type: 'quantitative', scale: { domain, nice: false }, title: 'simulated time (s)' };
  const rules = (name: string) => ({
    name,
    data: { name: 'faults' },
    mark: { type: 'rule', strokeDash: [5, 3], strokeWidth: 1.5 },
    encoding: { x: { field: 't', type: 'quantitative' }, tooltip: [{ field: 'n' }, { field: 't' }, { field: 'what' }], color: { field: 'kind', type: 'nominal', scale: { domain: ['fault', 'reaction'], range: ['#dc2626', '#9ca3af'] }, legend: null } },
  });
  const panel = (layer: object, name: string) => ({ width: 820, height: 120, layer: [layer, rules(name)], resolve: { scale: { color: 'independent' } } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    datasets: { errors, tcp, shares, faults },
    vconcat: [
      panel({ name: 'recovery_errors', data: { name: 'errors' }, mark: { type: 'bar', width: 6, clip: true }, encoding: { x, y: { field: 'errors', type: 'quantitative', aggregate: 'sum', title: 'errors / s by kind', stack: 'zero' }, color: { field: 'kind', type: 'nominal', title: 'error' }, tooltip: [{ field: 't' }, { field: 'kind' }, { field: 'errors' }] } }, 'recovery_faults'),
      panel({ name: 'recovery_tcp', data: { name: 'tcp' }, mark: { type: 'line', point: { size: 14 }, clip: true }, encoding: { x, y: { field: 'n', type: 'quantitative', title: 'TCP / s' }, color: { field: 'counter', type: 'nominal', title: 'TCP' }, tooltip: [{ field: 't' }, { field: 'counter' }, { field: 'n' }] } }, 'recovery_faults_tcp'),
      panel({ name: 'recovery_shares', data: { name: 'shares' }, mark: { type: 'bar', width: barWidth, clip: true }, encoding: { x, y: { field: 'share', type: 'quantitative', stack: 'zero', title: 'endpoint shares', axis: { format: '%' } }, color: { field: 'endpoint', type: 'nominal', title: 'endpoint' }, tooltip: [{ field: 't' }, { field: 'endpoint' }, { field: 'share', format: '.1%' }] } }, 'recovery_faults_shares'),
    ],
    spacing: 18,
  } as unknown as TopLevelSpec;
}
