// Manifests as upstream projects ship them, loaded as a user would (session 49's audit):
// - kube-prometheus's manifests/ (prometheus-operator/kube-prometheus) hold typed lists (`kind:
//   ConfigMapList`, `RoleBindingList`, `RoleList` with items), which kubectl applies item by item; podwire
//   took only `kind: List` apart and ignored the others whole ("ConfigMapList is not modelled"), so a
//   `ServiceList` (what the API returns for `kubectl get svc -o json`) lost its Services.
// - Argo CD's manifests/ha/install.yaml runs redis-ha as a 3-replica StatefulSet with readiness probes and
//   the default podManagementPolicy OrderedReady: a real cluster starts argocd-redis-ha-server-1 only once
//   -0 is Ready (60 s there); podwire started every ordinal at once and said so at the field; since session
//   50 its StatefulSet controller waits as the real one does (k8s/statefulset-controller.ts).
// - Argo CD's install.yaml carries no namespace (it is applied with `kubectl apply -n argocd`), so its
//   Services land in default; a flow to svc/argocd-repo-server.argocd said only '"svc/…" has no address'.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { formatUserError, ScenarioError } from '../../src/scenario/errors.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { formatConntrackTable } from '../../src/netfilter/conntrack.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-real-manifests-s49-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function load(name: string, text: string) {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return { file, loaded: loadScenarioFile(file) };
}

function build(name: string, text: string): { warnings: string[]; errors: string[]; world: ReturnType<typeof buildWorld> | null } {
  try {
    const { loaded } = load(name, text);
    const world = buildWorld(loaded, 7);
    return { warnings: world.warnings.map(formatUserError), errors: [], world };
  } catch (e) {
    if (e instanceof ScenarioError) return { warnings: [], errors: e.errors.map(formatUserError), world: null };
    throw e;
  }
}

const scenario = (traffic: string) => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: s }
spec:
  cluster:
    nodes: [{ name: node1 }, { name: node2 }]
  traffic:
${traffic}
`;

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: nginx, ports: [{ name: http, containerPort: 80 }] }] }`;

describe('typed lists (kind: <Kind>List)', () => {
  it('a ServiceList and a DeploymentList are applied item by item; a ConfigMapList warns about ConfigMap, not the list', () => {
    const indent = (s: string) => s.split('\n').map((l, i) => (i === 0 ? `- ${l}` : `  ${l}`)).join('\n');
    const text =
      scenario('    - { name: web, type: http, from: host/node1, to: "svc/web:80", count: 4, rate: 20, start: 1s }') +
      `---\napiVersion: apps/v1\nkind: DeploymentList\nitems:\n${indent(WEB)}\n` +
      `---\napiVersion: v1\nkind: ServiceList\nmetadata: { resourceVersion: "1" }\nitems:\n${indent('apiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec: { selector: { app: web }, ports: [{ port: 80, targetPort: http }] }')}\n` +
      `---\napiVersion: v1\nkind: ConfigMapList\nitems:\n${indent('apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata: { a: b }')}\n`;
    const r = build('lists', text);
    expect(r.errors).toEqual([]);
    expect(r.warnings.map((w) => w.replace(/^.*?:\d+:\d+: /, ''))).toEqual(['kind: ConfigMap is not modelled by podwire and is ignored']);
    const res = runWorld(r.world!, { outDir: join(dir, 'lists'), format: 'pcapng', snaplen: 262144 });
    expect((res.stats.flows as { name: string; successes: number }[]).map((f) => [f.name, f.successes])).toEqual([['web', 4]]);
  });
});

describe('StatefulSet podManagementPolicy', () => {
  const sts = (extra: string, replicas = 3) => `---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: redis-ha-server }
spec:
${extra}  replicas: ${replicas}
  serviceName: redis-ha
  selector: { matchLabels: { app: redis-ha } }
  template:
    metadata: { labels: { app: redis-ha } }
    spec:
      containers:
      - name: redis
        image: redis:7
        ports: [{ name: redis, containerPort: 6379 }]
        readinessProbe: { tcpSocket: { port: 6379 }, initialDelaySeconds: 30, periodSeconds: 15 }
`;
  const base = scenario('    []');

  const running = (w: NonNullable<ReturnType<typeof build>['world']>) =>
    w.cluster!.pods.filter((p) => p.owner?.kind === 'StatefulSet').map((p) => `${p.name}@${Math.round((w.timeline.find((e) => e.what.includes(`create Pod ${p.name} `))?.atNs ?? 0) / 1e9)}s`);

  it('OrderedReady (the default) starts redis-ha-server-1 once -0 is Ready (its probe passes at 30 s), -2 once -1 is, without a warning', () => {
    const r = build('ordered', base + sts(''));
    expect(r.warnings).toEqual([]);
    const w = r.world!;
    expect(running(w)).toEqual(['redis-ha-server-0@0s']);
    w.sim.run({ until: 90e9 });
    // tcpSocket probe: initialDelaySeconds 30, then every 15 s; the pod is Ready on the first success.
    expect(running(w)).toEqual(['redis-ha-server-0@0s', 'redis-ha-server-1@30s', 'redis-ha-server-2@60s']);
  });

  it('Parallel, or pods Ready at once (no readiness/startup probe): every ordinal comes up with the cluster', () => {
    for (const text of [sts('  podManagementPolicy: Parallel\n'), sts('').replace(/ {8}readinessProbe:.*\n/, '')]) {
      const r = build('parallel', base + text);
      expect(r.warnings).toEqual([]);
      expect(running(r.world!)).toEqual(['redis-ha-server-0@0s', 'redis-ha-server-1@0s', 'redis-ha-server-2@0s']);
    }
  });
});

describe('a flow to a Service that is not there', () => {
  it('names the namespace looked in and where a Service of that name is', () => {
    const svc = `---\napiVersion: v1\nkind: Service\nmetadata: { name: argocd-repo-server }\nspec: { selector: { app: web }, ports: [{ port: 8081 }] }\n`;
    const r = build('missing', scenario('    - { name: repo, type: http, from: host/node1, to: "svc/argocd-repo-server.argocd:8081", count: 1 }') + svc);
    expect(r.errors).toEqual([expect.stringMatching(/missing\.yaml:8:\d+: spec\.traffic\[0\]\.to: no Service argocd-repo-server in namespace argocd \(did you mean svc\/argocd-repo-server\.default\?\)$/)]);
    const h = build('headless', scenario('    - { name: repo, type: tcp, from: host/node1, to: "svc/argocd-repo-server:8081", count: 1 }') + svc.replace('selector:', 'clusterIP: None, selector:'));
    expect(h.errors).toEqual([expect.stringMatching(/spec\.traffic\[0\]\.to: Service default\/argocd-repo-server has no cluster IP \(headless\): address its pods$/)]);
  });
});

describe('a node calling a Service whose endpoint is the node itself (kube-prometheus node-exporter: hostNetwork)', () => {
  // The connection is DNATed to the node's own address and leaves by lo, where KUBE-POSTROUTING masquerades it.
  // MASQUERADE takes inet_select_addr(lo, nh, RT_SCOPE_UNIVERSE): 127.0.0.1 is host scope, so the kernel picks
  // the node's address (checked in a namespace with iptables 1.8.9: the server saw the node's address, and
  // conntrack's reply tuple says dst=<node IP>); podwire answered 127.0.0.1.
  it('MASQUERADE out of lo takes the node\'s address, not 127.0.0.1', () => {
    const text = scenario('    - { name: local, type: http, from: host/node1, to: "svc/exporter:9100", count: 2, rate: 10, start: 5s }') +
      `---\napiVersion: v1\nkind: Pod\nmetadata: { name: exporter, labels: { app: exporter } }\nspec:\n  hostNetwork: true\n  nodeName: node1\n  containers: [{ name: e, image: prom/node-exporter, ports: [{ name: metrics, containerPort: 9100 }] }]\n` +
      `---\napiVersion: v1\nkind: Service\nmetadata: { name: exporter }\nspec: { selector: { app: exporter }, ports: [{ port: 9100, targetPort: metrics }] }\n`;
    const r = build('hostnet', text);
    const res = runWorld(r.world!, { outDir: join(dir, 'hostnet'), format: 'pcapng', snaplen: 262144 });
    expect((res.stats.flows as { successes: number }[]).map((f) => f.successes)).toEqual([2]);
    const node1 = r.world!.cluster!.nodes[0]!;
    const lines = formatConntrackTable(node1.ns.nf!.conntrack, r.world!.sim.now).split('\n').filter((l) => l.includes('dport=9100'));
    expect(lines).toHaveLength(2);
    const nodeIp = formatIpv4(node1.ip);
    for (const l of lines) expect(l).toMatch(new RegExp(`src=${nodeIp} dst=[0-9.]+ sport=\\d+ dport=9100 src=${nodeIp} dst=${nodeIp} sport=9100 `));
  });
});

describe('an http flow to a port that does not speak HTTP (podinfo\'s grpc port, Argo CD\'s redis)', () => {
  // podwire runs app/tcp-rr there, whose answer carries no HTTP status line; the client ignored those bytes
  // and each request timed out. curl fails at once ("Received HTTP/0.9 when not allowed"): a protocol error.
  it('fails each request with a protocol error when the answer arrives, not a timeout', () => {
    const text = scenario('    - { name: redis, type: http, from: host/node1, to: "svc/redis:6379", count: 3, rate: 10, start: 1s, timeout: 5s }') +
      `---\napiVersion: v1\nkind: Pod\nmetadata: { name: redis, labels: { app: redis } }\nspec: { containers: [{ name: r, image: redis:7, ports: [{ name: redis, containerPort: 6379 }] }] }\n` +
      `---\napiVersion: v1\nkind: Service\nmetadata: { name: redis }\nspec: { selector: { app: redis }, ports: [{ port: 6379, targetPort: redis }] }\n`;
    const r = build('not-http', text);
    const res = runWorld(r.world!, { outDir: join(dir, 'not-http'), format: 'pcapng', snaplen: 262144 });
    const f = (res.stats.flows as { errors: number; errorsByKind: Record<string, number> }[])[0]!;
    expect(f.errors).toBe(3);
    expect(f.errorsByKind).toMatchObject({ protocol: 3, timeout: 0 });
  });
});
