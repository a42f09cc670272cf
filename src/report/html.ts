// report/html — assembles report.html: one self-contained page (inline CSS, inline SVG charts rendered
// at build time, no script, no external resource), so it opens offline in any browser. Layer: report
// (imports its own modules; the stylesheet below is data).
import { cdfSpec, renderSvg, seriesSpec, sharesSpec } from './charts.js';
import { escapeHtml as h } from './escape.js';
import type { ReportInput, RunData } from './model.js';
import { comparisonTable, defaultComparison, dropsTable, flowEndpointsTable, percentileTable, secs, timelineList } from './tables.js';
import { topologySvg } from './topology-svg.js';
import { recoverySpec, recoveryTable } from './recovery.js';

const CSS = `
:root { color-scheme: light; --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #f9fafb; }
header { padding: 18px 28px; background: #111827; color: #f9fafb; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .meta { color: #d1d5db; font-size: 13px; }
header .meta b { color: #fff; }
main { padding: 8px 28px 40px; max-width: 1280px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 18px; margin: 16px 0; overflow-x: auto; }
h2 { font-size: 16px; margin: 0 0 4px; }
h3 { font-size: 14px; margin: 12px 0 4px; color: #374151; }
p.note, .muted { color: var(--muted); margin: 2px 0 10px; font-size: 13px; }
.warn { background: #fef3c7; border: 1px solid #f59e0b; padding: 8px 12px; border-radius: 8px; margin-top: 14px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
caption { text-align: left; color: var(--muted); padding-bottom: 4px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: #f3f4f6; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.small { font-size: 12px; color: #374151; }
.bad { color: #b91c1c; font-weight: 600; }
.ci { color: var(--muted); font-size: 12px; }
ol.timeline { list-style: none; padding: 0; margin: 6px 0; columns: 2; font-size: 13px; }
ol.timeline li { margin: 2px 0; break-inside: avoid; }
ol.timeline .mk { display: inline-block; min-width: 20px; text-align: center; border-radius: 10px; color: #fff; background: #dc2626; font-weight: 700; font-size: 11px; margin-right: 6px; }
ol.timeline li.reaction .mk { background: #9ca3af; }
ol.timeline .at { font-variant-numeric: tabular-nums; color: #374151; margin-right: 6px; }
svg.topology .t-strong { font-weight: 600; font-size: 13px; }
svg.topology .t-norm { font-size: 12px; }
svg.topology .t-small { font-size: 11px; fill: #4b5563; }
svg { display: block; }
`;

function headerOf(input: ReportInput): string {
  const s = input.runs[0]!.stats;
  const meta =
    input.runs.length > 1
      ? `<b>${input.runs.length}</b> variants: ${input.runs.map((r) => h(r.label)).join(', ')}`
      : `seed <b>${s.seed}</b> · simulated <b>${secs(s.simTimeUs)}</b> · stopped: <b>${h(s.stop)}</b> · <b>${s.events.toLocaleString('en-US')}</b> events · ${s.flows.length} flows, ${s.endpoints.length} endpoints`;
  const partial = input.runs.filter((r) => r.stats.partial).map((r) => `<div class="warn">${h(r.label ? `${r.label}: ` : '')}partial results — ${h(r.stats.partial!.message)}</div>`);
  return `<header><h1>podwire report — ${h(input.title)}</h1><div class="meta">${meta}</div></header>${partial.join('')}`;
}

function section(id: string, title: string, note: string, body: string): string {
  return `<section id="${id}"><h2>${h(title)}</h2>${note ? `<p class="note">${note}</p>` : ''}${body}</section>`;
}

async function topologySection(input: ReportInput): Promise<string> {
  if (!input.topology) return '';
  const flow = input.flow ?? input.topology.flows[0]?.name ?? null;
  const note = flow !== null ? `Path of flow <b>${h(flow)}</b> in orange (to a Service: through its ClusterIP to every endpoint kube-proxy may pick).` : '';
  return section('topology', 'Topology', note, topologySvg(input.topology, flow));
}

async function perRunSections(run: RunData, input: ReportInput): Promise<string> {
  const label = run.label ? ` — ${run.label}` : '';
  const parts: string[] = [];
  const shares = sharesSpec(run, input.topology);
  if (shares) parts.push(section(`shares-${h(run.label)}`, `Endpoint shares${label}`, 'Bars: share of the requests each endpoint served within its Service. Light band: the share expected if the Service balanced uniformly (black tick) ± the 95 % binomial interval for that many requests.', `<div class="chart" data-chart="shares">${await renderSvg(shares)}</div>`));
  const perFlow = flowEndpointsTable(run.stats);
  if (perFlow) parts.push(section(`flow-endpoints-${h(run.label)}`, `Endpoints per flow${label}`, 'Which endpoint answered each flow’s successful requests (the X-Served-By of each response) and its share of that flow; the chart above mixes every flow.', perFlow));
  const series = seriesSpec(run);
  const timeline = timelineList(run.stats);
  const seriesBody = series ? `<div class="chart" data-chart="series">${await renderSvg(series)}</div>` : '<p class="muted">No per-second series (timeseries.json is missing).</p>';
  parts.push(section(`series-${h(run.label)}`, `Over time${label}`, 'Per second of simulated time, by the second a request completed. Dashed lines: faults (red) and the control plane’s reactions (grey), numbered as in the list below.', seriesBody + timeline));
  const rec = run.stats.recovery;
  if (rec) {
    const spec = recoverySpec(run.stats);
    const chart = spec ? `<div class="chart" data-chart="recovery">${await renderSvg(spec)}</div>` : '';
    parts.push(section(`recovery-${h(run.label)}`, `Recovery${label}`, 'Each fault: time to the first failed request, to the cluster noticing (a probe failing, a Node NotReady, an endpoint not ready), to recovery, and requests lost. Below, per second of every flow together: errors by kind, TCP retransmissions and RTOs, endpoint shares.', recoveryTable(rec) + chart));
  }
  parts.push(section(`drops-${h(run.label)}`, `Drops${label}`, '', dropsTable(run.stats)));
  return parts.join('');
}

/** The whole report.html text for one or more runs. */
export async function renderReport(input: ReportInput): Promise<string> {
  if (input.runs.length === 0) throw new Error('report: no run to show');
  const body: string[] = [headerOf(input), '<main>'];
  body.push(section('flows', 'Flows', '', percentileTable(input.runs)));
  const cmp = input.comparison ?? (input.runs.length > 1 ? defaultComparison(input.runs) : null);
  if (cmp) body.push(section('comparison', 'Comparison', 'Intervals in brackets are 95 % confidence intervals.', comparisonTable(cmp)));
  body.push(await topologySection(input));
  const cdf = cdfSpec(input.runs);
  if (cdf) body.push(section('cdf', 'Latency distribution', 'Cumulative distribution of the latency of successful requests (from the .hgrm histograms; values within 0.1 %).', `<div class="chart" data-chart="cdf">${await renderSvg(cdf)}</div>`));
  for (const r of input.runs) body.push(await perRunSections(r, input));
  body.push('</main>');
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>podwire report — ${h(input.title)}</title><style>${CSS}</style></head><body>${body.join('\n')}</body></html>\n`;
}
