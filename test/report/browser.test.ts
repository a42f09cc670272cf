// report in a real browser: headless Chromium (Debian's `chromium`, driven by puppeteer-core; nothing
// is downloaded) opens report.html from a file:// URL with every network request refused, finds no
// console error, and reads the SVG marks back against stats.json and timeseries.json. A full-page
// screenshot of each report kind is kept in out/test-artifacts/report/. Skips when chromium is missing.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatsDocument, TimeseriesDocument } from '../../src/stats/index.js';
import { ROOT, runWithReport, variantsReport } from './fixtures.js';

const CHROMIUM = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p !== undefined && existsSync(p));
const ARTEFACTS = join(ROOT, 'out/test-artifacts/report');
if (!CHROMIUM) console.warn('report browser test skipped: no chromium binary (apt-get install chromium, or set CHROMIUM_PATH)');

/** aria-label "a: 1; b: x" → { a: '1', b: 'x' } */
const fields = (label: string): Record<string, string> => Object.fromEntries(label.split('; ').map((kv) => [kv.slice(0, kv.indexOf(': ')), kv.slice(kv.indexOf(': ') + 2)]));

interface Opened {
  page: Page;
  problems: string[];
}

async function open(browser: Browser, file: string, png: string): Promise<Opened> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    if (r.url().startsWith('file://')) return void r.continue();
    problems.push(`network request: ${r.url()}`);
    void r.abort();
  });
  await page.setViewport({ width: 1240, height: 900 });
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  mkdirSync(ARTEFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTEFACTS, png), fullPage: true });
  return { page, problems };
}

/** The aria-labels of the items of the mark group named `name` (Vega-Lite view name). */
const labelsOf = (page: Page, name: string): Promise<Record<string, string>[]> =>
  page.$$eval(`g.role-mark.${name}_marks > [aria-label]`, (ps) => ps.map((p) => p.getAttribute('aria-label') ?? '')).then((ls) => ls.map(fields));

describe.skipIf(!CHROMIUM)('report.html in headless Chromium', () => {
  let browser: Browser;
  let dir: string;
  let stats: StatsDocument;
  let run: Opened;
  beforeAll(async () => {
    const puppeteer = (await import('puppeteer-core')).default;
    browser = await puppeteer.launch({ executablePath: CHROMIUM!, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    dir = mkdtempSync(join(tmpdir(), 'podwire-report-browser-'));
    stats = await runWithReport('faults', 7, dir);
    run = await open(browser, join(dir, 'report.html'), 'run-faults.png');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opens offline with no console error and no network request', () => {
    expect(run.problems).toEqual([]);
  });
  it('endpoint share bars: one per endpoint, served counts and widths as in stats.json', async () => {
    const bars = await labelsOf(run.page, 'shares');
    expect(bars.map((b) => [b['endpoint'], Number(b['served'])])).toEqual(stats.endpoints.map((e) => [e.name, e.served]));
    const widths = await run.page.$$eval('g.role-mark.shares_marks > path', (ps) => ps.map((p) => (p as SVGGraphicsElement).getBBox().width));
    for (let i = 0; i < widths.length; i++) expect(widths[i]! / widths[0]!).toBeCloseTo(stats.endpoints[i]!.share / stats.endpoints[0]!.share, 3);
  });
  it('fault markers: one rule per timeline entry, at its time', async () => {
    const rules = await labelsOf(run.page, 'faults');
    expect(rules.map((r) => [Number(r['t']), r['what']])).toEqual(stats.timeline.map((e) => [e.atUs / 1e6, e.what]));
    expect(await run.page.$$eval('ol.timeline li', (li) => li.length)).toBe(stats.timeline.length);
  });
  it('recovery: one table row per fault with stats.json\'s times; error bars by kind add up to every flow\'s errors', async () => {
    const rec = stats.recovery!;
    const rows = await run.page.$$eval('table.recovery-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(rows.map((r) => [r[1], r[2], r[8]])).toEqual(rec.faults.map((f) => [f.kind, f.target, String(f.requestsLost)]));
    const bars = await labelsOf(run.page, 'recovery_errors');
    expect(bars.reduce((s, b) => s + Number(b['errors']), 0)).toBe(stats.flows.reduce((s, f) => s + f.errors, 0));
    expect((await labelsOf(run.page, 'recovery_faults')).length).toBe(stats.timeline.length);
    const shares = await labelsOf(run.page, 'recovery_shares');
    expect(new Set(shares.map((b) => b['endpoint']))).toEqual(new Set(stats.endpoints.map((e) => e.name)));
  });
  it('throughput points and error bars add up to each flow’s successes and errors', async () => {
    const ts = JSON.parse(readFileSync(join(dir, 'timeseries.json'), 'utf8')) as TimeseriesDocument;
    const points = await run.page.$$eval('g.role-mark.mark-symbol > path', (ps) => ps.map((p) => p.getAttribute('aria-label') ?? '').filter((l) => l.includes('; ok: ')));
    const bars = await labelsOf(run.page, 'errors');
    for (const f of stats.flows) {
      const mine = points.map(fields).filter((p) => p['series'] === f.name);
      expect(mine).toHaveLength(ts.flows.find((x) => x.name === f.name)!.seconds.length);
      expect(mine.reduce((s, p) => s + Number(p['ok']), 0)).toBe(f.successes);
      expect(bars.filter((b) => b['series'] === f.name).reduce((s, b) => s + Number(b['errors']), 0)).toBe(f.errors);
    }
  });
  it('latency CDF: one line per flow; the percentile table shows stats.json’s p99', async () => {
    expect(await run.page.$$eval('g.role-mark.cdf_marks > path', (ps) => ps.length)).toBe(stats.flows.length);
    const p99 = await run.page.$$eval('table.pct-table tbody tr', (trs) => trs.map((tr) => tr.querySelectorAll('td')[10]?.textContent ?? ''));
    expect(p99).toEqual(stats.flows.map((f) => (f.latencyUs.p99 / 1000).toLocaleString('en-US', { maximumSignificantDigits: 4 })));
  });
  it('topology: every pod drawn, the chosen flow’s path goes through its Service to each endpoint', async () => {
    const topo = JSON.parse(readFileSync(join(dir, 'topology.json'), 'utf8')) as { hosts: { pods: { name: string }[] }[] };
    const pods = await run.page.$$eval('g.topo-pod', (gs) => gs.map((g) => g.getAttribute('data-name')));
    expect(pods).toEqual(topo.hosts.flatMap((h) => h.pods.map((p) => p.name)));
    // client → svc/web, then svc/web → web-0, web-1, web-2
    expect(await run.page.$$eval('line.topo-path', (ls) => ls.length)).toBe(1 + stats.endpoints.length);
  });

  it('a directory of variants: per-variant CDF lines and the comparison table with intervals', async () => {
    const v = await variantsReport();
    try {
      const opened = await open(browser, join(v.dir, 'report.html'), 'variants-http-clusterip.png');
      expect(opened.problems).toEqual([]);
      const lines = await labelsOf(opened.page, 'cdf');
      expect(lines.map((l) => l['variant · flow'])).toEqual(v.stats.flatMap((s, i) => s.flows.map((f) => `seed-${[1, 7][i]} · ${f.name}`)));
      const rows = await opened.page.$$eval('table.cmp-table tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-variant')));
      expect(rows).toHaveLength(v.stats.reduce((n, s) => n + s.flows.length, 0));
      const ci = await opened.page.$$eval('table.cmp-table td[data-lo]', (tds) => tds.map((td) => [Number(td.getAttribute('data-lo')), Number(td.getAttribute('data-value')), Number(td.getAttribute('data-hi'))]));
      for (const [lo, val, hi] of ci) expect(lo! <= val! && val! <= hi!).toBe(true);
    } finally {
      rmSync(v.dir, { recursive: true, force: true });
    }
  });
});
