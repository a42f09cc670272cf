// report/charts — the report's charts as Vega-Lite specifications, rendered to static SVG here, at
// build time (vega's headless SVG renderer: no DOM, no canvas, no script in the page). Layer: report
// (imports vega, vega-lite, and its own model). Each chart's marks are named (`cdf`, `shares`,
// `throughput`, `errors`, `p99`, `faults`) so the SVG group of a mark is `g.mark-… .<name>_marks`
// and each item carries an aria-label with its fields — what the browser test reads back.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { RunData, Topology } from './model.js';
import { binnedRows, sharesOf, seriesRows, timelineMarks } from './data.js';

/** The look shared by every chart: readable fonts, no chart border. */
const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 600, gridColor: '#e6e8eb' },
  legend: { labelFontSize: 12, titleFontSize: 12, orient: 'bottom', direction: 'horizontal', columns: 3, labelLimit: 320 },
  title: { fontSize: 14, anchor: 'start' },
  range: { category: ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#db2777', '#0891b2', '#a16207', '#4b5563'] },
} as const;

/** Renders a Vega-Lite spec to an SVG string (deterministic: no time, no randomness). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new View(parse(vg), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** The name of a run's series: the variant, the flow, or both. */
export function seriesName(run: RunData, flow: string, runs: readonly RunData[]): string {
  return runs.length > 1 ? `${run.label} · ${flow}` : flow;
}

/** Latency CDF of every flow of every run, log x axis in milliseconds. */
export function cdfSpec(runs: readonly RunData[]): TopLevelSpec | null {
  const values = runs.flatMap((r) => [...r.cdf].flatMap(([flow, pts]) => pts.filter((p) => p.us > 0).map((p) => ({ series: seriesName(r, flow, runs), ms: p.us / 1000, fraction: p.fraction }))));
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 820,
    height: 300,
    data: { values },
    name: 'cdf',
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
    encoding: {
      x: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'latency of successful requests (ms, log scale)', axis: { format: '~g' } },
      y: { field: 'fraction', type: 'quantitative', scale: { domain: [0, 1] }, title: 'fraction of requests ≤ latency', axis: { format: '%' } },
      color: { field: 'series', type: 'nominal', title: runs.length > 1 ? 'variant · flow' : 'flow' },
    },
  } as TopLevelSpec;
}

/** Endpoint shares with the expected share and its 95 % binomial band, one row per endpoint. */
export function sharesSpec(run: RunData, topo: Topology | null): TopLevelSpec | null {
  const values = sharesOf(run.stats, topo);
  if (values.length === 0) return null;
  const y = { field: 'endpoint', type: 'nominal', sort: null, title: null, axis: { labelLimit: 280 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: 640,
    height: { step: 30 },
    data: { values },
    layer: [
      { name: 'band', mark: { type: 'bar', color: '#c7d2fe', height: 22 }, encoding: { y, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
      {
        name: 'shares',
        mark: { type: 'bar', color: '#2563eb', height: 10 },
        encoding: {
          y,
          x: { field: 'share', type: 'quantitative', title: 'share of requests served (band: expected ± 95 % binomial)', axis: { format: '%' } },
          tooltip: [{ field: 'endpoint' }, { field: 'served' }, { field: 'share', format: '.2%' }],
        },
      },
      { name: 'expected', mark: { type: 'tick', color: '#111827', thickness: 2, size: 24 }, encoding: { y, x: { field: 'expected', type: 'quantitative' } } },
      { name: 'sharelabel', mark: { type: 'text', align: 'left', dx: 6, fontSize: 11 }, encoding: { y, x: { field: 'labelX', type: 'quantitative' }, text: { field: 'label' } } },
    ],
  } as TopLevelSpec;
}

/** One panel of the time series: a metric per second per flow, with the fault markers over it. */
function panel(metric: 'ok' | 'errors' | 'p99ms', title: string, domain: [number, number], showLabels: boolean, logY: boolean): object {
  const x = { field: 't', type: 'quantitative', scale: { domain, nice: false }, title: 'simulated time (s)' };
  const line = {
    name: metric === 'errors' ? 'errors' : metric === 'ok' ? 'throughput' : 'p99',
    mark: metric === 'errors' ? { type: 'bar', width: 5, clip: true } : { type: 'line', point: { size: 18 }, clip: true },
    transform: [{ filter: `datum.${metric} != null` }],
    encoding: { x, y: { field: metric, type: 'quantitative', title, ...(logY ? { scale: { type: 'log' } } : {}) }, color: { field: 'series', type: 'nominal', title: 'flow', ...(showLabels ? {} : { legend: null }) }, tooltip: [{ field: 'series' }, { field: 't' }, { field: metric }] },
  };
  const rules = {
    name: showLabels ? 'faults' : `faults_${metric}`,
    data: { name: 'faults' },
    mark: { type: 'rule', strokeDash: [5, 3], strokeWidth: 1.5 },
    encoding: { x: { field: 't', type: 'quantitative' }, tooltip: [{ field: 'n' }, { field: 't' }, { field: 'what' }], color: { field: 'kind', type: 'nominal', scale: { domain: ['fault', 'reaction'], range: ['#dc2626', '#9ca3af'] }, legend: null } },
  };
  const labels = { name: 'faultlabel', data: { name: 'faults' }, mark: { type: 'text', dy: -6, fontSize: 11, fontWeight: 700, y: 0 }, encoding: { x: { field: 't', type: 'quantitative' }, text: { field: 'n' }, color: { value: '#b91c1c' } } };
  return { width: 820, height: 130, data: { name: 'series' }, layer: [line, rules, ...(showLabels ? [labels] : [])], resolve: { scale: { color: 'independent' } } };
}

/** Throughput, errors and p99 per second of every flow, fault markers numbered as the timeline list. */
export function seriesSpec(run: RunData): TopLevelSpec | null {
  const { rows, width } = binnedRows(seriesRows(run));
  if (rows.length === 0) return null;
  const faults = timelineMarks(run.stats);
  // The run may idle long after the traffic (TIME_WAIT, timers): the axis ends a second after the last activity.
  // (A loop, not Math.max(...rows): a run of simulated weeks has millions of rows, past the arguments a call may take.)
  let last = 0;
  for (const r of rows) last = Math.max(last, r.t + width / 2);
  for (const f of faults) last = Math.max(last, f.t);
  const end = Math.ceil(last + 1);
  const domain: [number, number] = [0, end];
  const per = width === 1 ? '' : ` (means over ${width} s)`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    datasets: { series: rows, faults },
    vconcat: [panel('ok', `successes / s${per}`, domain, true, false), panel('errors', `errors / s${per}`, domain, false, false), panel('p99ms', `p99 latency (ms, log)${width === 1 ? '' : ` (worst second of ${width})`}`, domain, false, true)],
    spacing: 18,
  } as unknown as TopLevelSpec;
}
