// What a user sees when a flow fails: an `http` flow aimed at a port the pod runs as a generic TCP
// request/response server (a port named redis: k8s/container-ports) gets a warning at load time naming
// the pods and why, and its requests fail at once as `protocol` errors (curl: "Received HTTP/0.9 when not
// allowed") instead of waiting for a timeout; and the run's one-line summary counts every error
// stats.json counts (timeouts included), flow by flow.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summaryLines } from '../../src/cli/run.js';
import { defaultComparison } from '../../src/report/tables.js';
import { buildWorld } from '../../src/scenario/build.js';
import { formatUserError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';

/** A redis pod (its port named redis: the generic TCP server) and its Service. */
const DB = `---
apiVersion: v1
kind: Pod
metadata: { name: db, labels: { app: db } }
spec: { nodeName: node2, containers: [{ name: redis, image: redis:7, ports: [{ name: redis, containerPort: 6379 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: db }
spec: { selector: { app: db }, ports: [{ name: redis, port: 6379, targetPort: redis }] }
`;

const SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: non-http }
spec:
  duration: 10s
  cluster:
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1 }, { name: node2 }]
  traffic:
    - { name: http-to-redis, type: http, from: pod/client, to: "pod/db:6379", count: 5, rate: 5, timeout: 2s }
    - { name: http-to-redis-svc, type: http, from: pod/client, to: "svc/db:6379", count: 2, rate: 5, start: 3s, timeout: 2s }
    - { name: http-ok, type: http, from: pod/client, to: "pod/web:80", count: 5, rate: 5, timeout: 2s }
    - { name: tcp-lost, type: tcp, from: pod/client, to: "10.100.11.200:7000", count: 3, rate: 5, timeout: 300ms }
    - { name: tcp-to-web, type: tcp, from: pod/client, to: "svc/web:8080", count: 2, rate: 5, timeout: 300ms }
${DB}---
apiVersion: v1
kind: Pod
metadata: { name: web, labels: { app: web } }
spec: { nodeName: node2, containers: [{ name: web, image: nginx:1.27, ports: [{ name: http, containerPort: 80 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 8080, targetPort: 80 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { nodeName: node1, containers: [{ name: c, image: curlimages/curl }] }
`;

const tmp = mkdtempSync(join(tmpdir(), 'pw-non-http-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('an http flow to a generic TCP port, and errors in the summary', () => {
  const world = buildWorld(loadScenarioText(SCENARIO, 'non-http.yaml'), 7);
  const res = runWorld(world, { outDir: tmp, format: 'pcapng', snaplen: 262144 });
  const flow = (name: string) => res.stats.flows.find((f) => f.name === name)!;

  it('warns at load time, at the flow\'s `to`, for the pod and for a Service reaching it by a named targetPort; not for an HTTP port; and a tcp flow at an HTTP server', () => {
    const lines = world.warnings.map(formatUserError).filter((l) => l.includes('generic TCP'));
    expect(lines).toHaveLength(2);
    // the other way round: a tcp flow's opaque bytes at an HTTP server get no answer
    const tcp = world.warnings.map(formatUserError).filter((l) => l.includes('serves HTTP'));
    expect(tcp).toHaveLength(1);
    expect(tcp[0]).toMatch(/^non-http\.yaml:14:\d+: spec\.traffic\[4\]\.to: svc\/web:8080 reaches web:80, where the pod serves HTTP \(port named http\).*time out/);
    expect(flow('tcp-to-web').errorsByKind.timeout).toBe(2);
    expect(lines[0]).toMatch(/^non-http\.yaml:10:\d+: spec\.traffic\[0\]\.to: pod\/db:6379 reaches db:6379, where the pod runs a generic TCP request\/response server .*not HTTP.*protocol errors/);
    expect(lines[1]).toMatch(/^non-http\.yaml:11:\d+: spec\.traffic\[1\]\.to: svc\/db:6379 reaches db:6379/);
  });

  it('its requests fail at once as protocol errors, not timeouts', () => {
    expect(flow('http-to-redis')).toMatchObject({ requests: 5, successes: 0, errors: 5 });
    expect(flow('http-to-redis').errorsByKind).toMatchObject({ protocol: 5, timeout: 0 });
    expect(flow('http-to-redis-svc').errorsByKind).toMatchObject({ protocol: 2, timeout: 0 });
    // each failed on the generic server's first answer: all in the second they were sent (1 s–1.8 s), none at its 2 s timer
    const seconds = world.stats.timeseries().flows.find((f) => f.name === 'http-to-redis')!.seconds;
    expect(seconds.map((s) => [s.t, s.errors])).toEqual([[1, 5]]);
    expect(flow('http-ok')).toMatchObject({ successes: 5, errors: 0 });
  });

  it("the summary's err column and per-kind line count what stats.json counts, timeouts included", () => {
    const lines = summaryLines(world, 7, res, 0);
    for (const f of res.stats.flows) {
      const row = lines.find((l) => l.startsWith(f.name.padEnd(28)))!;
      const [, sent, recv, lost, err] = row.split(/\s+/);
      expect([sent, recv, lost, err].map(Number), f.name).toEqual([f.sent, f.received, f.lost, f.errors]);
    }
    expect(flow('tcp-lost').errorsByKind.timeout).toBe(3);
    expect(lines).toContain('  tcp-lost: err 3 (timeout=3)');
    expect(lines).toContain('  http-to-redis: err 5 (protocol=5)');
    // no successful request, no latency: '-', not a measured 0 µs (in the report's comparison: —, not 0 ms)
    expect(lines.find((l) => l.startsWith('http-to-redis '))!.split(/\s+/).slice(5)).toEqual(['-', '-', '-', '-']);
    const cmp = defaultComparison([{ label: 'run', stats: res.stats } as never]);
    expect(cmp.rows.find((r) => r.label === 'run · http-to-redis')!.cells.slice(1, 3)).toEqual([null, null]);
    expect(cmp.rows.find((r) => r.label === 'run · http-ok')!.cells[1]).toBeGreaterThan(0);
  });
});

describe('an Ingress whose backend port runs the generic TCP server', () => {
  it('ingress-nginx answers 502 at once (nginx: "upstream sent no valid HTTP/1.0 header"), not 504 after its 60 s read timeout', () => {
    const text = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: ing-generic }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1, ip: 10.100.11.11 }, { name: node2, ip: 10.100.11.12 }]
    externalHosts: [{ name: laptop, ip: 10.100.11.100 }]
    ingressController: { kind: nginx, replicas: 1, service: { type: NodePort, nodePorts: { http: 30080, https: 30443 } } }
  traffic:
    - { name: via-ingress, type: http, from: host/laptop, to: "http://10.100.11.11:30080/", count: 3, rate: 5, timeout: 5s }
${DB}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: db }
spec:
  ingressClassName: nginx
  rules: [{ http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: db, port: { number: 6379 } } } }] } }]
`;
    const w = buildWorld(loadScenarioText(text, 'ing-generic.yaml'), 1);
    const out = join(tmp, 'ing');
    const r = runWorld(w, { outDir: out, format: 'pcapng', snaplen: 262144 });
    const f = r.stats.flows[0]!;
    expect(f.errorsByKind).toMatchObject({ protocol: 3, timeout: 0 });
    const nginx = r.stats.counters['ingress-nginx']!;
    expect(Object.entries(nginx).filter(([k]) => k.endsWith('/status-502')).map(([, n]) => n)).toEqual([3]);
    expect(Object.keys(nginx).some((k) => k.endsWith('/status-504'))).toBe(false);
  });
});
