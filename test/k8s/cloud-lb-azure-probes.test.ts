// Azure's health probes of a Service with several ports, as cloud-provider-azure creates them
// (azure_loadbalancer.go getExpectedLBRules, azure_loadbalancer_healthprobe.go buildHealthProbeRulesForPort):
// one load-balancing rule per port; with externalTrafficPolicy Local every rule uses the one HTTP probe of
// the healthCheckNodePort, otherwise each TCP rule has its own TCP probe of its NodePort and a UDP or SCTP
// rule none. A rule sends new flows only to the nodes its own probe finds healthy (none: no new flow).
//
//   laptop ──▶ lb 10.100.11.240 :80 ──▶ node1/node2 :30080 ──▶ web-1 :8080   (probe TCP:30080: connected)
//                              :8000 ──▶ node1/node2 :30900 ──▶ web-1 :9090   (probe TCP:30900: refused)
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoadBalancerConfig } from '../../src/k8s/cloud-lb/config.js';
import { probesOf } from '../../src/k8s/cloud-lb/model.js';
import { ensureLoadBalancer } from '../../src/k8s/cloud-lb/service-controller.js';
import type { ClusterNode } from '../../src/k8s/cluster.js';
import type { ServiceSpec } from '../../src/k8s/services.js';
import { parseIpv4 } from '../../src/wire/ipv4-addr.js';
import { ensureBuilt, ROOT } from '../scenario/dist.js';
import { podwire } from '../scenario/cli-run.js';

const nodes = [1, 2].map((i) => ({ name: `node${i}`, ip: parseIpv4(`10.100.11.1${i}`)! }) as ClusterNode);
const spec = (etp: 'Cluster' | 'Local', ports: [number, 'TCP' | 'UDP', number][]): ServiceSpec =>
  ({ namespace: 'default', name: 'web', type: 'LoadBalancer', externalTrafficPolicy: etp, healthCheckNodePort: etp === 'Local' ? 31555 : null, ports: ports.map(([port, protocol, nodePort]) => ({ port, protocol, nodePort })) }) as unknown as ServiceSpec;
const probes = (provider: LoadBalancerConfig['provider'], s: ServiceSpec) => {
  const lb = ensureLoadBalancer({ provider, pool: [] }, s, parseIpv4('10.100.11.240')!, nodes);
  return probesOf(lb).map((p) => `${p.check.protocol}:${p.check.port}${p.check.path} for ${p.rules.map((l) => `${l.port}/${l.protocol}`).join(',')}`);
};

describe('the probes cloud-provider-azure makes for a multi-port Service', () => {
  const ports: [number, 'TCP' | 'UDP', number][] = [[80, 'TCP', 30080], [8000, 'TCP', 30900], [53, 'UDP', 30053]];
  it('ETP Cluster: a TCP probe of each TCP rule\'s NodePort, none for the UDP rule', () => {
    expect(probes('azure', spec('Cluster', ports))).toEqual(['TCP:30080 for 80/TCP', 'TCP:30900 for 8000/TCP']);
  });
  it('ETP Local: the one HTTP probe of the healthCheckNodePort for every rule', () => {
    expect(probes('azure', spec('Local', ports))).toEqual(['HTTP:31555/healthz for 80/TCP,8000/TCP,53/UDP']);
  });
  it('the other providers keep one check per load balancer', () => {
    expect(probes('aws-clb', spec('Cluster', ports))).toEqual(['TCP:30080 for 80/TCP,8000/TCP,53/UDP']);
  });
});

describe('a rule whose own probe fails takes no new flow; the other rules are unaffected (podwire run, inspect --lb)', () => {
  const file = join(ROOT, 'test/fixtures/scenarios/azure-two-ports.yaml');
  beforeAll(() => ensureBuilt());

  it('inspect --lb: two probes, the 8000 rule\'s nodes unhealthy (its pod port refuses), the 80 rule\'s healthy', () => {
    const r = podwire('inspect', file, '--lb', '--until', '5s');
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split('\n');
    const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
    expect(lines[at('default/web  azure')]).toMatch(/check TCP:30080 every 5s timeout 5s healthy 1 unhealthy 2 \(rules 80\/TCP\)$/);
    expect(lines[at('  check TCP:30900')]).toBe('  check TCP:30900 every 5s timeout 5s healthy 1 unhealthy 2 (rules 8000/TCP)');
    expect(lines.slice(at('default/web  azure') + 2, at('default/web  azure') + 4).map((l) => l.split(/\s+/).slice(3).join(' '))).toEqual(['healthy 0.000s connected', 'healthy 0.001s connected']);
    expect(lines.slice(at('  check TCP:30900') + 2, at('  check TCP:30900') + 4).map((l) => l.split(/\s+/).slice(3).join(' '))).toEqual(['unhealthy 0.000s refused', 'unhealthy 0.001s refused']);
  });

  it('run: every request on port 80 is answered; on 8000 none reaches a node (Azure drops a new flow with no healthy backend: timeouts, not refusals)', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'podwire-azure-ports-')), 'out');
    const r = podwire('run', file, '--out', out, '--quiet', '--no-report');
    expect(r.code, r.err).toBe(0);
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { flows: { name: string; successes: number; errorsByKind: Record<string, number> }[]; timeline: { what: string }[] };
    const flow = (n: string) => stats.flows.find((f) => f.name === n)!;
    expect(flow('http').successes).toBe(10);
    expect(flow('alt').successes).toBe(0);
    expect(flow('alt').errorsByKind).toMatchObject({ timeout: 10, refused: 0 });
    expect(stats.timeline.map((e) => e.what).filter((w) => w.startsWith('azure:'))).toEqual([
      'azure: default/web target node1 10.100.11.11 healthy (first check passed; TCP:30080 connected)',
      'azure: default/web target node1 10.100.11.11 unhealthy (first check failed; TCP:30900 refused)',
      'azure: default/web target node2 10.100.11.12 healthy (first check passed; TCP:30080 connected)',
      'azure: default/web target node2 10.100.11.12 unhealthy (first check failed; TCP:30900 refused)',
    ]);
  });
});
