// ingress-nginx installed from the project's own deploy.yaml (test/fixtures/manifests/ingress-nginx-
// baremetal-excerpt.yaml) instead of spec.cluster.ingressController (session 49's audit): its controller
// pod ran as a plain server on its declared ports, the Ingress was "stored but not served" and HTTPS
// requests were answered by the controller pod itself. Now its pods run the controller: TLS on 443 with
// the Ingress's Secret, routing to the backend's pods, 308 to https for the TLS host over plain HTTP, and
// /healthz on 10254 for deploy.yaml's probes, so the pod turns Ready as on a real cluster.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { formatUserError } from '../../src/scenario/errors.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-ingress-upstream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DEPLOY_YAML = readFileSync(resolve(import.meta.dirname, '../fixtures/manifests/ingress-nginx-baremetal-excerpt.yaml'), 'utf8')
  // deploy.yaml leaves the node ports to the API server; the user pins them (or reads them from inspect --services).
  .replace('    port: 80\n    protocol: TCP\n    targetPort: http\n', '    port: 80\n    protocol: TCP\n    targetPort: http\n    nodePort: 30080\n')
  .replace('    port: 443\n    protocol: TCP\n    targetPort: https\n', '    port: 443\n    protocol: TCP\n    targetPort: https\n    nodePort: 30443\n');

const SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: upstream-ingress-nginx }
spec:
  duration: 25s
  cluster:
    network: { cidr: 10.100.11.0/24 }
    dns: { enabled: false }
    nodes: [{ name: node1, ip: 10.100.11.11 }, { name: node2, ip: 10.100.11.12 }]
    externalHosts:
      - { name: user, ip: 10.100.11.100, nameserver: 10.100.11.53 }
      - { name: dns, ip: 10.100.11.53, dnsRecords: { shop.example.com: 10.100.11.11 } }
  traffic:
    - { name: https, type: http, from: host/user, to: "https://shop.example.com:30443/", rate: 10, count: 10, start: 20s }
    - { name: http, type: http, from: host/user, to: "http://shop.example.com:30080/", rate: 10, count: 3, start: 20s }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: shop } }
  template:
    metadata: { labels: { app: shop } }
    spec: { containers: [{ name: web, image: nginx:1.27, ports: [{ name: http, containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: shop }
spec: { selector: { app: shop }, ports: [{ port: 80, targetPort: http }] }
---
apiVersion: v1
kind: Secret
metadata: { name: shop-tls }
type: kubernetes.io/tls
data: { tls.crt: "", tls.key: "" }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: shop }
spec:
  ingressClassName: nginx
  tls: [{ hosts: [shop.example.com], secretName: shop-tls }]
  rules:
    - host: shop.example.com
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: shop, port: { number: 80 } } } }] }
---
`;

describe("ingress-nginx's deploy.yaml with an Ingress with TLS", () => {
  it('runs the controller in its pods: HTTPS routed to the backend, 308 over plain HTTP, the pod Ready by its own probe', () => {
    const file = join(dir, 'upstream.yaml');
    writeFileSync(file, SCENARIO + DEPLOY_YAML);
    const world = buildWorld(loadScenarioFile(file), 7);
    const warnings = world.warnings.map(formatUserError);
    expect(warnings.filter((w) => /not served/.test(w))).toEqual([]);
    const res = runWorld(world, { outDir: join(dir, 'out'), format: 'pcapng', snaplen: 262144 });
    const stats = res.stats as unknown as { flows: { name: string; requests: number; successes: number }[]; endpoints: { name: string; served: number }[]; counters: Record<string, Record<string, number>>; timeline: { what: string }[] };
    expect(stats.flows.map((f) => [f.name, f.requests, f.successes])).toEqual([['http', 3, 3], ['https', 10, 10]]);
    // The HTTPS requests reached the shop pods (not the controller pod answering them itself).
    expect(stats.endpoints.map((e) => e.name.replace(/-[a-z0-9]+-[a-z0-9]+$/, ''))).toEqual(['shop', 'shop']);
    expect(stats.endpoints.reduce((a, e) => a + e.served, 0)).toBe(10);
    const nginx = Object.entries(stats.counters['ingress-nginx'] ?? {});
    expect(nginx.filter(([k]) => k.endsWith('/status-200')).map(([, v]) => v)).toEqual([10]);
    expect(nginx.filter(([k]) => k.endsWith('/status-308')).map(([, v]) => v)).toEqual([3]);
    expect(stats.timeline.some((t) => /ingress-nginx-controller-.*readiness probe succeeded/.test(t.what))).toBe(true);
  });

  it('a controller Deployment that names its own podwire.dev/app is left as it is', () => {
    const file = join(dir, 'own-app.yaml');
    writeFileSync(file, SCENARIO + DEPLOY_YAML.replace('    metadata:\n      labels:\n        app.kubernetes.io/component: controller\n', '    metadata:\n      annotations: { podwire.dev/app: http }\n      labels:\n        app.kubernetes.io/component: controller\n'));
    const world = buildWorld(loadScenarioFile(file), 7);
    expect(world.controlPlane?.ingress ?? null).toBeNull();
    expect(world.warnings.map(formatUserError).filter((w) => /Ingress default\/shop is stored but not served: no ingress controller runs/.test(w))).toHaveLength(1);
  });
});
