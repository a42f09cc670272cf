// The kubelet's probes are not the traffic's load: scenarios/probes.yaml (seed 7), whose three web pods answer an
// HTTP readiness probe every second and a liveness probe every 2 s besides the client's requests. stats.json's
// endpoints[].served (and so share, the report's share bars, sweep's requests.*) must count the traffic's requests
// only, as the flows' own breakdown (flows[].endpoints, from X-Served-By) counts them; the probes' requests and
// connections are reported apart (probes, probeConnections), and sweep's connections.* leaves the latter out of
// PassiveOpens.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StatsDocument } from '../../src/stats/index.js';
import { runMetrics } from '../../src/sweep/aggregate.js';
import { ROOT, runScenario } from '../integration/run-scenario.js';

describe('kubelet probes are counted apart from the traffic (probes.yaml)', () => {
  let s: StatsDocument;
  beforeAll(() => {
    const out = runScenario(join(ROOT, 'scenarios/probes.yaml'), 7);
    rmSync(out.dir, { recursive: true, force: true });
    s = JSON.parse(out.stats.toString()) as StatsDocument;
  });

  it('served is what the flows were answered by each pod; the probes have their own count', () => {
    const byFlows = new Map<string, number>();
    for (const f of s.flows) for (const e of f.endpoints ?? []) byFlows.set(e.name, (byFlows.get(e.name) ?? 0) + e.requests);
    expect(s.endpoints.length).toBe(3);
    for (const e of s.endpoints) {
      expect(e.served, e.name).toBe(byFlows.get(e.name) ?? 0);
      // 14 s of readiness (1 s) and liveness (2 s) probes: 21 on a pod that always answered, fewer on web-canary (stopped 5–10 s)
      expect(e.probes, e.name).toBe(e.name === 'web-canary' ? 12 : 21);
      // each HTTP probe is a new connection (the kubelet's client does not keep it alive)
      expect(e.probeConnections, e.name).toBe(e.probes);
    }
    const total = s.endpoints.reduce((a, e) => a + e.served, 0);
    expect(total).toBe(s.flows[0]!.successes);
    for (const e of s.endpoints) expect(e.share).toBeCloseTo(e.served / total, 12);
  });

  it("sweep's requests and connections per endpoint are the traffic's: PassiveOpens less the probes' connections", () => {
    const m = runMetrics(s);
    const conns = new Map<string, number>();
    for (const f of s.flows) for (const e of f.endpoints ?? []) conns.set(e.name, (conns.get(e.name) ?? 0) + e.connections);
    for (const e of m.endpoints) {
      expect(e.requests).toBe(s.endpoints.find((x) => x.name === e.name)!.served);
      // the client's keep-alive connections (a reset one reconnects): what the flow opened to each pod
      expect(e.connections, e.name).toBe(conns.get(e.name) ?? 0);
    }
  });

  it("the recovery series' endpoint shares leave the probes out (a pod the traffic never reached has no share)", () => {
    const idle = s.endpoints.find((e) => e.served === 0)!;
    expect(idle).toBeDefined();
    for (const sec of s.recovery!.seconds) expect(sec.endpointShares[idle.name], `t=${sec.t}`).toBeUndefined();
  });
});

describe("a cloud load balancer's TCP health checks are counted apart from the traffic (lb-azure, lb-aws-clb), in every proxy mode", () => {
  // IPVS and nftables too (session 50's audit doubted IPVS): the checked node's conntrack entry names the pod
  // there as well (IPVS's NAT updates its reply tuple, as the kernel's ip_vs_update_conntrack).
  const cases = ['lb-azure', 'lb-aws-clb'].flatMap((name) => ['iptables', 'ipvs', 'nftables'].map((mode) => [name, mode] as const));
  for (const [name, mode] of cases) {
    it(`${name}, ${mode}: the checks' connections that kube-proxy sent to a pod are its probeConnections; sweep's connections are the flow's`, () => {
      const text = readFileSync(join(ROOT, `scenarios/${name}.yaml`), 'utf8');
      const file = join(mkdtempSync(join(tmpdir(), 'podwire-probe-load-')), `${name}-${mode}.yaml`);
      writeFileSync(file, mode === 'iptables' ? text : text.replace('\n  cluster:\n', `\n  cluster:\n    kubeProxy: { mode: ${mode} }\n`));
      const out = runScenario(file, 7);
      rmSync(out.dir, { recursive: true, force: true });
      const s = JSON.parse(out.stats.toString()) as StatsDocument;
      const conns = new Map<string, number>();
      for (const f of s.flows) for (const e of f.endpoints ?? []) conns.set(e.name, (conns.get(e.name) ?? 0) + e.connections);
      expect(s.endpoints.some((e) => (e.probeConnections ?? 0) > 0)).toBe(true);
      for (const e of s.endpoints) expect((e.probeConnections ?? 0) + (conns.get(e.name) ?? 0), e.name).toBe(s.counters[`tcp/${e.name}`]!['PassiveOpens']);
      for (const e of runMetrics(s).endpoints) expect(e.connections, e.name).toBe(conns.get(e.name) ?? 0);
    });
  }
});
