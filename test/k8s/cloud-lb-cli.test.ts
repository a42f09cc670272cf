// The load balancers as a user meets them: `podwire inspect --lb`, bad `loadBalancer` input, the
// health-check node port and loadBalancerSourceRanges in kube-proxy's rules, and the source ranges'
// packet outcomes (kube-proxy's proxier_test.go TestLoadBalancer: traffic to the LB IP from an allowed
// source is accepted, from another dropped by KUBE-PROXY-FIREWALL, and the NodePort is not subject to
// the ranges).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { ensureBuilt } from '../scenario/dist.js';
import { podwire } from '../scenario/cli-run.js';

let dir = '';
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'podwire-lb-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const scenario = (lb: string, svcExtra: string, traffic: string) => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: t }
spec:
  seed: 1
  cluster:
    network: { cidr: 10.100.11.0/24 }
    loadBalancer: ${lb}
    nodes: [{ name: node1, ip: 10.100.11.11 }, { name: node2, ip: 10.100.11.12 }]
    externalHosts: [{ name: laptop, ip: 10.100.11.100 }, { name: other, ip: 10.100.11.101 }]
  traffic:
${traffic}
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: LoadBalancer
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }]
${svcExtra}
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web }, annotations: { podwire.dev/app: http } }
    spec: { containers: [{ name: web, image: nginx:1.27, ports: [{ containerPort: 8080 }] }] }
`;

describe('podwire inspect --lb', () => {
  it('prints the status, the load balancer and each target\'s health at the chosen time', () => {
    const r = podwire('inspect', 'scenarios/lb-azure.yaml', '--lb', '--until', '25s');
    expect(r.code).toBe(0);
    expect(r.out).toContain('default/web: {"ip":"10.100.11.240","ipMode":"VIP"}');
    expect(r.out).toContain('default/web  azure  10.100.11.240  listeners 80/TCP->30080  check TCP:30080 every 5s timeout 5s healthy 1 unhealthy 2');
    expect(r.out).toMatch(/node2 10\.100\.11\.12\s+unhealthy\s+20\.000s\s+timeout/);
    expect(r.out).toMatch(/node1 10\.100\.11\.11\s+healthy/);
  });

  it('without --node or --lb it is a usage error', () => {
    const r = podwire('inspect', 'scenarios/lb-azure.yaml');
    expect(r.code).toBe(2);
    expect(r.err).toContain('inspect: --node is required (or --ingress, --lb, --services)');
  });
});

describe('bad loadBalancer input', () => {
  it('an unknown provider is one line at its file:line:col', () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, scenario('{ provider: aws-alb, pool: [10.100.11.240] }', '', '    []'));
    const r = podwire('validate', f);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.yaml:8:\d+: .*provider/);
    expect(r.err).not.toMatch(/^\s+at /m);
  });

  it('loadBalancerPool and loadBalancer together are an error', () => {
    const f = join(dir, 'both.yaml');
    writeFileSync(f, scenario('{ provider: gcp, pool: [10.100.11.240] }\n    loadBalancerPool: [10.100.11.241]', '', '    []'));
    const r = podwire('validate', f);
    expect(r.code).toBe(1);
    expect(r.err).toContain('give the pool in loadBalancer.pool');
  });
});

describe('kube-proxy rules from the Service: healthCheckNodePort and loadBalancerSourceRanges', () => {
  it('ETP Local: the health check node port is accepted in KUBE-NODEPORTS (filter)', () => {
    const r = podwire('inspect', 'scenarios/lb-aws-nlb.yaml', '--node', 'node1', '--iptables');
    const hcnp = /-A KUBE-NODEPORTS -p tcp -m comment --comment "default\/web health check node port" -m tcp --dport (\d+) -j ACCEPT/.exec(r.out);
    expect(hcnp).not.toBeNull();
  });

  it('TestLoadBalancer: allowed source accepted, other source dropped at the LB IP, the NodePort open to both', () => {
    const traffic = [
      '    - { name: allowed, type: http, from: host/laptop, to: "10.100.11.240:80", count: 5, rate: 10, timeout: 2s }',
      '    - { name: blocked, type: http, from: host/other, to: "10.100.11.240:80", count: 5, rate: 10, timeout: 2s }',
      '    - { name: nodeport, type: http, from: host/other, to: "node/node2:30080", count: 5, rate: 10, timeout: 2s }',
    ].join('\n');
    const text = scenario('{ provider: gcp, pool: [10.100.11.240] }', '  loadBalancerSourceRanges: [10.100.11.100/32]', traffic);
    const world = buildWorld(loadScenarioText(text, 'ranges.yaml'), 1);
    const rules = world.cluster!.nodes[0]!.ns.nf!.save();
    expect(rules).toMatch(/-A KUBE-FW-\w+ -s 10\.100\.11\.100\/32 -m comment --comment "default\/web loadbalancer IP" -j KUBE-EXT-\w+/);
    expect(rules).toMatch(/-A KUBE-PROXY-FIREWALL -d 10\.100\.11\.240\/32 -p tcp -m comment --comment "default\/web traffic not accepted by KUBE-FW-\w+" -m tcp --dport 80 -j DROP/);
    const out = mkdtempSync(join(dir, 'run-'));
    const res = runWorld(world, { outDir: out, format: 'pcapng', snaplen: 262144 });
    const flows = (JSON.parse(res.statsJson) as { flows: { name: string; successes: number; errors: number; requests: number }[] }).flows;
    expect(flows.map((f) => [f.name, f.successes])).toEqual([
      ['allowed', 5],
      ['blocked', 0],
      ['nodeport', 5],
    ]);
  });
});

describe('idle timeouts and proxy protocol', () => {
  const runText = (text: string, name: string) => {
    const world = buildWorld(loadScenarioText(text, `${name}.yaml`), 1);
    const out = mkdtempSync(join(dir, `${name}-`));
    const res = runWorld(world, { outDir: out, format: 'pcapng', snaplen: 262144 });
    return { world, stats: JSON.parse(res.statsJson) as { flows: { name: string; successes: number; errors: number; errorsByKind: Record<string, number> }[] } };
  };

  it('NLB: a kept-alive connection idle longer than the idle timeout is reset by the LB on its next segment', () => {
    const traffic = '    - { name: idle, type: http, from: host/laptop, to: "10.100.11.240:80", count: 3, rate: 0.25, arrival: constant, connection: keep-alive, timeout: 2s }';
    const { world, stats } = runText(scenario('{ provider: aws-nlb, pool: [10.100.11.240], idleTimeout: 2s }', '', traffic), 'idle');
    const f = stats.flows[0]!;
    // The first request opens the connection; 4 s later the NLB no longer knows the flow: RST.
    expect(f.successes).toBeGreaterThanOrEqual(1);
    expect(f.errorsByKind['reset']).toBeGreaterThanOrEqual(1);
    expect(world.controlPlane!.cloud!.dataplane!.counters.resets).toBeGreaterThanOrEqual(1);
  });

  it('CLB: with the proxy-protocol annotation the backend connection starts with the PROXY TCP4 line', () => {
    const text = scenario('{ provider: aws-clb, pool: [10.100.11.240] }', '', '    - { name: pp, type: http, from: host/laptop, to: "10.100.11.240:80", count: 1, timeout: 2s }').replace(
      'metadata: { name: web }\nspec:\n  type: LoadBalancer',
      'metadata: { name: web, annotations: { service.beta.kubernetes.io/aws-load-balancer-proxy-protocol: "*" } }\nspec:\n  type: LoadBalancer',
    );
    const world = buildWorld(loadScenarioText(text, 'pp.yaml'), 1);
    const firstBytes: string[] = [];
    for (const n of world.cluster!.nodes) {
      n.eth0.tap.connect((_dev, pkt, dir) => {
        if (dir === 'in' && pkt.tcp?.dstPort === 30080 && pkt.payload && pkt.payloadLength > 0) firstBytes.push(new TextDecoder().decode(pkt.payload));
      });
    }
    runWorld(world, { outDir: mkdtempSync(join(dir, 'pp-')), format: 'pcapng', snaplen: 262144 });
    expect(firstBytes[0]).toMatch(/^PROXY TCP4 10\.100\.11\.100 10\.100\.11\.240 \d+ 80\r\n$/);
    expect(firstBytes[1]).toMatch(/^GET \/ HTTP\/1\.1\r\n/);
  });
});
