// report: the data behind the charts (CDF from .hgrm, shares and their band, Wilson intervals,
// per-second series), the flow path, the page's self-containedness, atomic output and the CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReaction, sharesOf, wilson } from '../../src/report/data.js';
import { cdfOfHgrm } from '../../src/report/hgrm.js';
import { flowPath, loadReportInput, type Topology } from '../../src/report/index.js';
import { flowEndpointsTable } from '../../src/report/tables.js';
import { SecondSeries, TimeseriesDocumentSchema, type StatsDocument } from '../../src/stats/index.js';
import { ROOT, runWithReport } from './fixtures.js';
import { runScenario } from '../integration/run-scenario.js';

describe('report data', () => {
  it('reads a .hgrm back into an increasing CDF that ends at 1', () => {
    const text = '       Value     Percentile TotalCount 1/(1-Percentile)\n\n      52.703 0.000000000000          1           1.00\n     552.959 0.500000000000        101           2.00\n     552.959 0.500000000000        101           2.00\n    1004.5 1.000000000000       1004\n#[Mean    =    1.0]\n';
    expect(cdfOfHgrm(text)).toEqual([
      { us: 52.703, fraction: 0 },
      { us: 552.959, fraction: 0.5 },
      { us: 1004.5, fraction: 1 },
    ]);
  });
  it('shares within a service, expected 1/k and a 95 % binomial band around it', () => {
    const stats = { endpoints: [{ name: 'a', served: 60 }, { name: 'b', served: 40 }, { name: 'x', served: 5 }] } as unknown as StatsDocument;
    const topo = { services: [{ name: 'web', endpoints: ['a', 'b'] }] } as unknown as Topology;
    const rows = sharesOf(stats, topo);
    expect(rows.map((r) => [r.endpoint, r.group, r.share, r.expected])).toEqual([
      ['a', 'web', 0.6, 0.5],
      ['b', 'web', 0.4, 0.5],
      ['x', 'all endpoints', 1, 1],
    ]);
    // 1.96 · √(0.25 / 100) = 0.098
    expect(rows[0]!.lo).toBeCloseTo(0.402, 3);
    expect(rows[0]!.hi).toBeCloseTo(0.598, 3);
  });
  it('timeline markers: what spec.faults wrote is a fault (red), the cluster\'s answer a reaction (grey)', () => {
    const faults = ['netem on node2/eth0: loss 1.00% delay 0ms jitter 0ms', 'pod web-2 down', 'pod web-2 up', 'node node2 down', 'pod web-canary app stopped', 'node-crash: node node2 down', 'node-delete: kubectl delete node node2 (its kubelet keeps running)', 'pod-kill: pod web-1 deleted (grace period 0s)', 'container-kill: worker/worker killed', 'dns-outage over', 'dns-chaos: error for example.com for 5s', 'partition on node/node1 removed', 'kube-proxy-stall: kube-proxy on node1 stops syncing for 10s', 'link node/node2 eth0 down (carrier lost; neighbours flushed)', 'toxic latency on svc/web: web-1'];
    const reactions = ['replicaset web-6d744bb8f6: created pod web-6d744bb8f6-8jt4f (replaces web-6d744bb8f6-98x9x)', 'taint-manager: evicting pod web-1 from node2', 'pod-gc: force-deleting pod web-1 (PodGC: node node2 not found)', 'flanneld: node2 deleted, its subnet removed from every node', 'aws-clb: default/web target node2 10.100.11.12 unhealthy (6 consecutive failures; TCP:30080 unreachable)', 'gcp: default/web target node2 10.100.11.12 unhealthy (3 consecutive failures)', 'external-dns: UPSERT A shop.mydomain.com → 10.100.11.240 (ttl 30)', 'ingress-nginx: configuration built (3 servers, 3 upstreams with 6 endpoints)', 'job loadtest: Complete; 4 succeeded, 0 failed', 'cronjob tick: created job tick-28928161', 'pod web-1 stopped (grace period over)', 'endpointslice: web-2 not ready (pod down)', 'kube-proxy: rules synced on every node', 'kubelet: web-1 started on node1', 'node-lifecycle: node node2 NotReady', 'metallb: 10.100.11.240 moves from node1 to node2 (gratuitous ARP)'];
    expect(faults.filter(isReaction)).toEqual([]);
    expect(reactions.filter((r) => !isReaction(r))).toEqual([]);
  });

  it('timeline markers: every fault of scenarios/faults/*.yaml has a fault marker at its time', () => {
    for (const name of readdirSync(join(ROOT, 'scenarios/faults')).filter((f) => f.endsWith('.yaml')).sort()) {
      const out = runScenario(join(ROOT, 'scenarios/faults', name), 7);
      rmSync(out.dir, { recursive: true, force: true });
      const stats = JSON.parse(out.stats.toString()) as StatsDocument;
      for (const f of stats.recovery!.faults) {
        const at = stats.timeline.filter((e) => e.atUs === f.atUs);
        expect(at.some((e) => !isReaction(e.what)), `${name}: ${f.kind} at ${f.atUs} µs: ${at.map((e) => e.what).join(' | ')}`).toBe(true);
      }
    }
  }, 120_000);

  it('Wilson interval: 8 errors in 1012 requests', () => {
    const w = wilson(8, 1012);
    expect(w.value).toBeCloseTo(0.0079, 4);
    expect(w.lo).toBeCloseTo(0.00401, 4);
    expect(w.hi).toBeCloseTo(0.01551, 4);
    expect(wilson(0, 0)).toEqual({ value: 0, lo: 0, hi: 0 });
  });
  it('per-second series: bucketed by completion second, p99 within 1 % above the exact value', () => {
    const s = new SecondSeries();
    for (let i = 1; i <= 100; i++) s.success(0.5e9, i * 1000); // 1..100 µs in second 0
    s.error(0.7e9);
    s.error(2.2e9);
    const rows = s.rows();
    expect(rows.map((r) => [r.t, r.ok, r.errors])).toEqual([
      [0, 100, 1],
      [2, 0, 1],
    ]);
    expect(rows[0]!.p99Us! / 99).toBeGreaterThanOrEqual(1);
    expect(rows[0]!.p99Us! / 99).toBeLessThanOrEqual(1.01);
    expect(rows[0]!.p50Us! / 50).toBeLessThanOrEqual(1.01);
    expect(rows[1]!.p99Us).toBeNull();
  });
  it('a flow to a Service goes through its ClusterIP to every endpoint', () => {
    const topo: Topology = {
      schema: 'podwire-topology/1',
      cni: 'flannel-vxlan',
      hosts: [{ name: 'node1', kind: 'node', ip: '10.0.0.1', pods: [{ name: 'client', ip: '10.244.0.2', hostNetwork: false }, { name: 'web-0', ip: '10.244.0.3', hostNetwork: false }] }],
      services: [{ name: 'web', namespace: 'default', type: 'ClusterIP', clusterIP: '10.96.0.10', ports: ['80/TCP'], endpoints: ['web-0'] }],
      flows: [
        { name: 'f', type: 'http', from: 'pod/client', to: 'svc/web:80' },
        { name: 'g', type: 'ping', from: 'pod/client', to: '10.244.0.3' },
        { name: 'h', type: 'http', from: 'pod/client', to: 'http://web.default/x' },
      ],
    };
    expect(flowPath(topo, 'f')).toEqual({ from: ['client'], via: 'web', to: ['web-0'] });
    expect(flowPath(topo, 'g')).toEqual({ from: ['client'], via: null, to: ['web-0'] });
    expect(flowPath(topo, 'h')).toEqual({ from: ['client'], via: 'web', to: ['web-0'] });
    expect(flowPath(topo, 'nope')).toBeNull();
  });
});

describe('a run writes report.html, topology.json and timeseries.json; stats.json is untouched', () => {
  let dir: string;
  let stats: StatsDocument;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'podwire-report-'));
    stats = await runWithReport('faults', 7, dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes whole files only (no temporary left) and a page with no script and no outside resource', () => {
    expect(readdirSync(dir).sort()).toEqual(['capture.pcapng', 'client-to-web.hgrm', 'report.html', 'stats.json', 'timeseries.json', 'topology.json']);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(\s*['"]?(https?:|\/\/)/i);
    expect(html.match(/\b(?:src|href)\s*=\s*["'](?!#)[^"']*/gi) ?? []).toEqual([]);
    expect(html).toMatch(/^<!DOCTYPE html>/);
  });
  it('timeseries.json adds up to stats.json: Σ ok = successes, Σ errors = errors per flow', () => {
    const ts = TimeseriesDocumentSchema.parse(JSON.parse(readFileSync(join(dir, 'timeseries.json'), 'utf8')));
    for (const f of stats.flows) {
      const rows = ts.flows.find((x) => x.name === f.name)!.seconds;
      expect(rows.reduce((s, r) => s + r.ok, 0)).toBe(f.successes);
      expect(rows.reduce((s, r) => s + r.errors, 0)).toBe(f.errors);
    }
  });
  it("the page's endpoints-per-flow table has one row per (flow, endpoint) of stats.json, with its numbers", () => {
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    const withEndpoints = stats.flows.filter((f) => (f.endpoints ?? []).length > 0);
    expect(withEndpoints.length).toBeGreaterThan(0);
    const rows = [...html.matchAll(/<tr data-flow="([^"]*)" data-endpoint="([^"]*)">(.*?)<\/tr>/g)].map((m) => [m[1], m[2], [...m[3]!.matchAll(/<td class="n">([^<]*)<\/td>/g)].map((c) => c[1]).join(' | ')]);
    const want = withEndpoints.flatMap((f) => f.endpoints!.map((e) => [f.name, e.name, `${e.requests} | ${(100 * e.share).toFixed(1)} % | ${e.connections} | ${e.bytes.toLocaleString('en-US')}`]));
    expect(rows).toEqual(want);
    // Each flow's rows add up to its successful requests that named an endpoint (every http success does).
    for (const f of withEndpoints) expect(f.endpoints!.reduce((a, e) => a + e.requests, 0)).toBe(f.successes);
    // A stats.json from before flows[].endpoints: no table, no error.
    expect(flowEndpointsTable({ ...stats, flows: stats.flows.map(({ endpoints: _e, ...f }) => f) })).toBe('');
  });
  it('`podwire report DIR` renders the same page from the files the run left', () => {
    const before = readFileSync(join(dir, 'report.html'), 'utf8');
    const out = join(dir, 'again.html');
    execFileSync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'report', dir, '--out', out]);
    expect(readFileSync(out, 'utf8')).toBe(before);
    expect(loadReportInput(dir).topology?.services.find((s) => s.name === 'web')?.endpoints).toEqual(['web-0', 'web-1', 'web-2']);
  });
  it('refuses a directory without stats.json (exit 1, one line) and an unknown --flow (exit 2)', () => {
    const empty = mkdtempSync(join(tmpdir(), 'podwire-report-empty-'));
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'report', ...args], { encoding: 'utf8' });
    const r = cli(empty);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no stats\.json/);
    expect(existsSync(join(empty, 'report.html'))).toBe(false);
    const f = cli(dir, '--flow', 'nope', '--out', join(empty, 'x.html'));
    expect(f.status).toBe(2);
    expect(f.stderr).toMatch(/--flow: no flow "nope"/);
    rmSync(empty, { recursive: true, force: true });
  });
});
