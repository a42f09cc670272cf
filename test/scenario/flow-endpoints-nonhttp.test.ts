// stats.json flows[].endpoints for tcp, udp and ping flows: the pod that answered after NAT, noted by the
// server itself (app/answered-by), never carried on the wire.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runScenario } from '../integration/run-scenario.js';
import { AnsweredBy } from '../../src/app/answered-by.js';

interface FlowEp { name: string; requests: number; share: number; connections: number; bytes: number }
interface Stats {
  flows: { name: string; successes: number; endpoints: FlowEp[] }[];
  endpoints: { name: string; served: number }[];
}
const flowOf = (s: Stats, name: string) => s.flows.find((f) => f.name === name)!;

const tmp = mkdtempSync(join(tmpdir(), 'pw-flow-ep-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('per-flow endpoints of non-HTTP flows', () => {
  it('tcp flows through a ClusterIP name the backend that accepted each connection, as the servers count them', () => {
    const out = runScenario(join(ROOT, 'scenarios/shop.yaml'), 1);
    rmSync(out.dir, { recursive: true, force: true });
    const s = JSON.parse(out.stats.toString()) as Stats;
    // catalog pods serve only the catalog flow: the flow's breakdown must equal what each server answered.
    const catalog = flowOf(s, 'catalog');
    const served = Object.fromEntries(s.endpoints.filter((e) => e.name.startsWith('catalog-')).map((e) => [e.name, e.served]));
    expect(catalog.endpoints.length).toBeGreaterThan(0);
    expect(Object.fromEntries(catalog.endpoints.map((e) => [e.name, e.requests]))).toEqual(served);
    expect(catalog.endpoints.reduce((a, e) => a + e.requests, 0)).toBe(catalog.successes);
    // new connection per request: one connection per request
    for (const e of catalog.endpoints) expect(e.connections).toBe(e.requests);
    // keep-alive: one connection per sending pod, many requests on it
    const cart = flowOf(s, 'cart');
    expect(cart.endpoints.reduce((a, e) => a + e.requests, 0)).toBe(cart.successes);
    expect(cart.endpoints.reduce((a, e) => a + e.connections, 0)).toBeLessThan(cart.successes);
    for (const e of cart.endpoints) expect(e.name).toMatch(/^cart-/);
  });

  it('udp probes to a Service name the echoing backend; ping names the owner of the address', () => {
    const file = join(tmp, 'udp-svc.yaml');
    writeFileSync(
      file,
      `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: udp-svc }
spec:
  cluster:
    podCIDR: 10.244.0.0/16
    nodeSubnetPrefix: 24
    serviceCIDR: 10.96.0.0/16
    cni: flannel-vxlan
    network: { cidr: 10.100.11.0/24, rate: 1Gbps, delay: 50us }
    nodes:
      - { name: node1, ip: 10.100.11.11 }
      - { name: node2, ip: 10.100.11.12 }
  traffic:
    - { name: probes, type: udp, from: pod/client, to: "10.96.0.50:9000", count: 40, interval: 10ms, start: 1s }
    - { name: pings, type: ping, from: pod/client, to: pod/echo-b, count: 3, interval: 100ms, start: 1s }
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { nodeName: node1, containers: [{ name: c, image: busybox }] }
---
apiVersion: v1
kind: Pod
metadata: { name: echo-a, labels: { app: echo } }
spec: { nodeName: node1, containers: [{ name: c, image: busybox, ports: [{ containerPort: 9000, protocol: UDP }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: echo-b, labels: { app: echo } }
spec: { nodeName: node2, containers: [{ name: c, image: busybox, ports: [{ containerPort: 9000, protocol: UDP }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: echo }
spec: { clusterIP: 10.96.0.50, selector: { app: echo }, ports: [{ port: 9000, protocol: UDP }] }
`,
    );
    const out = runScenario(file, 3);
    rmSync(out.dir, { recursive: true, force: true });
    const s = JSON.parse(out.stats.toString()) as Stats;
    const probes = flowOf(s, 'probes');
    expect(probes.successes).toBe(40);
    // One UDP socket = one conntrack entry = one backend for every datagram (kube-proxy DNATs the flow once).
    expect(probes.endpoints).toHaveLength(1);
    expect(probes.endpoints[0]!.name).toMatch(/^echo-[ab]$/);
    expect(probes.endpoints[0]!.requests).toBe(40);
    expect(probes.endpoints[0]!.connections).toBe(0);
    const pings = flowOf(s, 'pings');
    expect(pings.endpoints.map((e) => [e.name, e.requests])).toEqual([['echo-b', pings.successes]]);
    expect(pings.successes).toBe(3);
  });

  it('the registry keys by protocol, address and port, and forgets only its own entry', () => {
    const r = new AnsweredBy();
    r.note(6, 0x0af40002, 40000, 'a');
    r.note(17, 0x0af40002, 40000, 'b');
    expect(r.lookup(6, 0x0af40002, 40000)).toBe('a');
    expect(r.lookup(17, 0x0af40002, 40000)).toBe('b');
    expect(r.lookup(6, 0x0af40002, 40001)).toBeNull();
    expect(r.lookup(6, 0xfff40002, 40000)).toBeNull();
    r.note(6, 0x0af40002, 40000, 'c'); // the port reused by a later connection
    r.forget(6, 0x0af40002, 40000, 'a');
    expect(r.lookup(6, 0x0af40002, 40000)).toBe('c');
    r.forget(6, 0x0af40002, 40000, 'c');
    expect(r.lookup(6, 0x0af40002, 40000)).toBeNull();
  });
});
