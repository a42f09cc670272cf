// Manifests as users get them, after a Scenario that only adds nodes and traffic (session 48's audit):
// - Sock Shop (test/fixtures/manifests/sock-shop-excerpt.yaml, Apache-2.0 excerpt): pods select
//   `beta.kubernetes.io/os: linux`, a label every kubelet still registers its Node with, so they are
//   scheduled; front-end's readiness probe is an httpGet on an unnamed port of an image podwire does
//   not know, so that port serves HTTP and the pod turns Ready (the NodePort answers); the exporter
//   sidecar (kbudde/rabbitmq-exporter, targetPort by name) answers HTTP.
// - `helm template` output (test/fixtures/manifests/helm-nulls.yaml): null fields (`annotations:`,
//   `ports:`, `env:`, `nodeSelector:` left empty by a template) load as unset fields, as the API server
//   decodes them, and comment-only documents are skipped.
// - `kubectl get -o yaml` output (test/fixtures/manifests/kubectl-get-list.yaml): a List whose items carry
//   the fields the API server writes (generation, managedFields, status) loads without a warning.
// - Dual-stack fields: ipFamilies [IPv4] / SingleStack (ingress-nginx's deploy.yaml) load silently; an IPv6
//   family or RequireDualStack warns at the field (podwire is IPv4-only) and runs IPv4; a misspelt policy
//   is an error, as the API server's enum check.
// - kubernetes/examples' cluster-dns (test/fixtures/manifests/cluster-dns-rc.yaml, Apache-2.0): a core/v1
//   ReplicationController (equality selector) runs as the ReplicaSet it is equivalent to, its pods
//   reachable through the Service and named as traffic senders by replicationcontroller/NAME.
// - A Service with `selector: {}` has no selector (its endpoints are the user's Endpoints), as the API
//   server stores an empty map as unset; it does not select every pod of its namespace.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { formatUserError } from '../../src/scenario/errors.js';
import { loadScenarioFile, loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/manifests');
const dir = mkdtempSync(join(tmpdir(), 'podwire-real-manifests-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Flow {
  name: string;
  requests: number;
  successes: number;
  errors: number;
}

const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

function run(name: string, scenario: string, manifests: string) {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, scenario + manifests);
  const loaded = loadScenarioFile(file);
  const world = buildWorld(loaded, 7);
  const res = runWorld(world, { outDir: join(dir, name), format: 'pcapng', snaplen: 262144 });
  return { world, warnings: world.warnings.map(formatUserError), flows: (res.stats.flows as Flow[]).map((f) => [f.name, f.requests, f.successes, f.errors]) };
}

const SOCK_SHOP = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: sock-shop }
spec:
  cluster:
    dns: { enabled: true }
    nodes: [{ name: node1 }, { name: node2 }]
    externalHosts: [{ name: laptop }]
  # front-end's readiness probe starts at 30 s (period 3 s), then EndpointSlice 1 s, rules 1 s.
  traffic:
    - { name: shop, type: http, from: host/laptop, to: "node/node2:30001", count: 10, rate: 20, start: 40s }
    - { name: exporter, type: http, from: deployment/front-end.sock-shop, to: "http://rabbitmq:9090/metrics", count: 5, rate: 20, start: 40s }
    - { name: amqp, type: tcp, from: deployment/front-end.sock-shop, to: "rabbitmq:5672", count: 5, rate: 20, start: 40s }
`;

const HELM = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: helm }
spec:
  cluster:
    dns: { enabled: true }
    nodes: [{ name: node1 }, { name: node2 }]
  traffic:
    - { name: web, type: http, from: deployment/client, to: "http://web/", count: 10, rate: 20, start: 3s }
`;

const EXPORT = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: export }
spec:
  cluster:
    dns: { enabled: true }
    nodes: [{ name: node1 }, { name: node2 }]
  traffic:
    - { name: web, type: http, from: deployment/web, to: "http://web/", count: 6, rate: 20, start: 1s }
---
`;

describe('real-world manifests', () => {
  it('Sock Shop: pods selecting beta.kubernetes.io/os are scheduled, an httpGet-probed port and an exporter serve HTTP', () => {
    const r = run('sock-shop', SOCK_SHOP, fixture('sock-shop-excerpt.yaml'));
    expect(r.warnings).toEqual([]);
    expect(r.world.cluster!.pods.filter((p) => p.namespace === 'sock-shop').map((p) => p.owner?.name)).toEqual(['front-end', 'rabbitmq']);
    expect(r.flows).toEqual([
      ['amqp', 5, 5, 0],
      ['exporter', 5, 5, 0],
      ['shop', 10, 10, 0],
    ]);
  });

  it('helm template output: null fields and comment-only documents load, every request is answered', () => {
    const r = run('helm', HELM, fixture('helm-nulls.yaml'));
    expect(r.warnings).toEqual([]);
    expect(r.flows).toEqual([['web', 10, 10, 0]]);
  });

  it('kubectl get -o yaml output: server-written metadata loads without warnings', () => {
    const r = run('export', EXPORT, fixture('kubectl-get-list.yaml'));
    expect(r.warnings).toEqual([]);
    expect(r.flows).toEqual([['web', 12, 12, 0]]);
  });

  it('ipFamilies / ipFamilyPolicy: IPv4 silently, IPv6 and RequireDualStack warn at the field, a bad value is an error', () => {
    const svc = (name: string, spec: string) => `---\napiVersion: v1\nkind: Service\nmetadata: { name: ${name} }\nspec:\n  selector: { app: x }\n  ports: [{ port: 80 }]\n${spec}`;
    const text = `apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata: { name: ds }\nspec:\n  cluster:\n    nodes: [{ name: node1 }]\n` +
      svc('v4', '  ipFamilyPolicy: SingleStack\n  ipFamilies:\n  - IPv4\n') +
      svc('v6', '  ipFamilies: [IPv6]\n') +
      svc('dual', '  ipFamilyPolicy: RequireDualStack\n') +
      svc('pref', '  ipFamilyPolicy: PreferDualStack\n  ipFamilies: [IPv4, IPv6]\n');
    const world = buildWorld(loadScenarioText(text, 'ds.yaml'), 1);
    expect(world.warnings.map(formatUserError)).toEqual([
      'ds.yaml:24:16: spec.ipFamilies[0]: IPv6: podwire models IPv4 only; the Service runs single-stack IPv4',
      'ds.yaml:32:19: spec.ipFamilyPolicy: RequireDualStack: podwire models IPv4 only; the Service runs single-stack IPv4',
      'ds.yaml:41:22: spec.ipFamilies[1]: IPv6: podwire models IPv4 only; the Service runs single-stack IPv4',
    ]);
    expect(world.services.map((s) => [s.name, s.clusterIP !== null])).toEqual([['v4', true], ['v6', true], ['dual', true], ['pref', true]]);
    expect(() => buildWorld(loadScenarioText(text + svc('typo', '  ipFamilyPolicy: SingleStak\n'), 'ds.yaml'), 1)).toThrow(/ds\.yaml:49:19: spec\.ipFamilyPolicy: expected one of "SingleStack", "PreferDualStack", "RequireDualStack", got "SingleStak"/);
  });

  it('cluster-dns: a ReplicationController runs its pods (selector defaulted from the template when absent)', () => {
    const scenario = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: cluster-dns }
spec:
  cluster:
    dns: { enabled: true }
    nodes: [{ name: node1 }, { name: node2 }]
  traffic:
    - { name: front, type: tcp, from: pod/dns-frontend, to: "dns-backend.default.svc.cluster.local:8000", count: 5, rate: 20, start: 2s }
    - { name: back, type: tcp, from: replicationcontroller/dns-backend, to: "dns-backend:8000", count: 3, rate: 20, start: 2s }
`;
    const r = run('cluster-dns', scenario, fixture('cluster-dns-rc.yaml'));
    expect(r.warnings).toEqual([]);
    expect(r.world.cluster!.pods.filter((p) => p.namespace === 'default').map((p) => [p.name.replace(/-[a-z0-9]{5}$/, '-XXXXX'), p.owner?.kind ?? null, p.labels['name']])).toEqual([
      ['dns-backend-XXXXX', 'ReplicaSet', 'dns-backend'],
      ['dns-frontend', null, 'dns-frontend'],
    ]);
    expect(r.flows).toEqual([
      ['back', 3, 3, 0],
      ['front', 5, 5, 0],
    ]);
    const noSelector = fixture('cluster-dns-rc.yaml').replace('  selector:\n    name: dns-backend\n  template:', '  template:');
    expect(noSelector).not.toBe(fixture('cluster-dns-rc.yaml'));
    const r2 = run('rc-noselector', scenario, noSelector);
    expect(r2.flows).toEqual([
      ['back', 3, 3, 0],
      ['front', 5, 5, 0],
    ]);
  });

  it('selector: {} is no selector: the manual Endpoints serve, not every pod of the namespace', () => {
    const text = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: empty-selector }
spec:
  cluster:
    dns: { enabled: true }
    nodes: [{ name: node1 }, { name: node2 }]
  traffic:
    - { name: ext, type: http, from: deployment/client, to: "http://ext/", count: 4, rate: 20, start: 1s }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: client }
spec:
  selector: { matchLabels: { app: client } }
  template:
    metadata: { labels: { app: client } }
    spec: { containers: [{ name: c, image: nginx, ports: [{ containerPort: 80 }] }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: legacy }
spec:
  selector: { matchLabels: { app: legacy } }
  template:
    metadata: { labels: { app: legacy } }
    spec: { containers: [{ name: c, image: nginx, ports: [{ containerPort: 80 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: ext }
spec:
  selector: {}
  ports: [{ port: 80 }]
`;
    const r = run('empty-selector', text, '');
    const ext = r.world.services.find((s) => s.name === 'ext')!;
    expect(ext.selector).toBeNull();
    expect(ext.ports[0]!.endpoints).toEqual([]);
    const legacyIp = r.world.cluster!.pods.find((p) => p.owner?.name === 'legacy')!.ip;
    const withEndpoints = text + `---\napiVersion: v1\nkind: Endpoints\nmetadata: { name: ext }\nsubsets: [{ addresses: [{ ip: ${formatIpv4(legacyIp)} }], ports: [{ port: 80 }] }]\n`;
    const r2 = run('empty-selector-eps', withEndpoints, '');
    expect(r2.world.services.find((s) => s.name === 'ext')!.ports[0]!.endpoints.map((e) => e.pod?.owner?.name)).toEqual(['legacy']);
    expect(r2.flows).toEqual([['ext', 4, 4, 0]]);
  });
});
