// `podwire sweep` writes DIR/report.html: the comparison table has one row per variant and one per
// difference, and its cells are sweep.json's means and intervals (latency in ms); each variant's
// first-seed run is drawn below it. --no-report writes none.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepDocument } from '../../src/sweep/schema.js';
import { CLI, ensureBuilt, ROOT } from '../scenario/dist.js';

const tmp = mkdtempSync(join(tmpdir(), 'podwire-sweep-report-'));
const FIXTURE = join(tmp, 'rr.yaml');
writeFileSync(FIXTURE, readFileSync(join(ROOT, 'experiments/random-vs-rr.yaml'), 'utf8').replace('count: 90', 'count: 12'));

function sweep(out: string, extra: string[] = []): void {
  const r = spawnSync(process.execPath, [CLI, 'sweep', FIXTURE, '--vary', 'spec.cluster.kubeProxy.mode=iptables,ipvs', '--seeds', '1..3', '--workers', '0', '--out', out, ...extra], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  expect(r.status, r.stderr).toBe(0);
}

beforeAll(() => ensureBuilt());
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('podwire sweep report.html', () => {
  it('shows the comparison with sweep.json’s intervals and each variant’s first run', () => {
    const out = join(tmp, 'with');
    sweep(out);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const doc = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as SweepDocument;
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/); // self-contained, no script
    const table = /<table class="cmp-table">.*?<\/table>/s.exec(html)![0];
    const rows = [...table.matchAll(/<tr data-variant="([^"]+)">(.*?)<\/tr>/g)].map((m) => [m[1]!.replace(/&#39;|&quot;/g, ''), m[2]!] as const);
    expect(rows.map((r) => r[0])).toEqual(['mode=iptables', 'mode=ipvs', 'mode=ipvs − mode=iptables']);
    // The jain column of the ipvs row and the p99 column of the difference row, against sweep.json.
    const heads = [...table.matchAll(/<th class="n">([^<]+)<\/th>/g)].map((m) => m[1]!);
    const col = (name: string): number => heads.indexOf(name);
    const cells = (row: string): string[] => [...row.matchAll(/<td class="n"[^>]*>(.*?)<\/td>/g)].map((m) => m[0]);
    const jain = cells(rows[1]![1])[col('connections.jain')]!;
    const ipvs = doc.variants[1]!.metrics['connections.jain']!;
    expect(jain).toContain(`data-value="${ipvs.mean}"`);
    const p99 = cells(rows[2]![1])[col('client-to-web p99 (ms)')]!;
    const d = doc.comparisons[0]!.metrics['flow.client-to-web.latencyUs.p99']!;
    expect(p99).toContain(`data-value="${d.mean / 1000}"`);
    expect(p99).toContain(`data-lo="${d.lo! / 1000}"`);
    // Each variant's first-seed run: its endpoint shares section.
    expect(html).toContain('Endpoint shares — mode=iptables (seed 1)');
    expect(html).toContain('Endpoint shares — mode=ipvs (seed 1)');
  }, 120_000);

  it('--no-report writes no report.html', () => {
    const out = join(tmp, 'without');
    sweep(out, ['--no-report']);
    expect(existsSync(join(out, 'sweep.json'))).toBe(true);
    expect(existsSync(join(out, 'report.html'))).toBe(false);
  }, 120_000);
});
