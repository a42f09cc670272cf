// Without spec.internet the cluster network still has a gateway, as any real network does: every node
// and external host gets `default via <the network's .1>` (k8s/cluster.ts defaultViaGateway), a router
// outside the model that never answers ARP. Checked against the real kernel (a namespace whose default
// route points at an absent .1): connect() to an unrouted address fails with EHOSTUNREACH after 3.07 s
// (three ARP probes 1 s apart, then the neighbour fails), ping prints "Destination Host Unreachable".
//
//   node1 (.11), node2 (.12), laptop (.100) ── network/br0 ── (10.0.0.1: nobody)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { runWorld } from '../../src/scenario/run.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import type { StatsDocument } from '../../src/stats/index.js';
import { parseFrame } from '../../src/packet/parse.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { IcmpType, IcmpUnreachCode, TcpFlag } from '../../src/wire/types.js';
import { readPcapng } from '../integration/pcapng-read.js';

const HEAD = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: gw }
spec:
  cluster:
    network: { cidr: 10.0.0.0/24 }
    nodes: [NODES]
    externalHosts: [{ name: laptop }]
`;
const TWO = '{ name: node1 }, { name: node2 }';
const WEB = `---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: nginx, ports: [{ containerPort: 80 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: empty }
spec: { selector: { app: nobody }, ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { nodeName: node1, containers: [{ name: c, image: curl }] }
`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(traffic: string, nodes = TWO) {
  const text = HEAD.replace('NODES', nodes) + `  traffic:\n${traffic}` + WEB;
  const w = buildWorld(loadScenarioText(text, 'gw.yaml'), 7);
  const dir = mkdtempSync(join(tmpdir(), 'podwire-gw-'));
  dirs.push(dir);
  const res = runWorld(w, { outDir: dir, format: 'pcapng', snaplen: 65535 });
  const cap = readPcapng(res.files.capture);
  const frames = cap.packets.map((p) => ({ ifName: cap.interfaces[p.ifId]!, tNs: Number(p.ts), pkt: parseFrame(p.data) }));
  const stats = JSON.parse(res.statsJson) as StatsDocument;
  const flow = (name: string) => stats.flows.find((f) => f.name === name)!;
  return { w, frames, stats, flow };
}

const defaults = (w: ReturnType<typeof buildWorld>, ns: string): string[] =>
  w.namespaces.get(ns)!.mainTable.all().filter((r) => r.prefix === 0).map((r) => `default via ${formatIpv4(r.gateway)} dev ${r.dev?.name ?? '-'}`);

describe('the cluster network gateway without spec.internet', () => {
  it('every node and external host has default via the network .1 (the next free address when a user gave .1 away)', () => {
    const w = buildWorld(loadScenarioText(HEAD.replace('NODES', TWO), 'gw.yaml'), 1);
    for (const ns of ['node1', 'node2', 'laptop']) expect(defaults(w, ns)).toEqual(['default via 10.0.0.1 dev eth0']);
    const taken = buildWorld(loadScenarioText(HEAD.replace('NODES', '{ name: node1, ip: 10.0.0.1 }, { name: node2, ip: 10.0.0.2 }'), 'gw.yaml'), 1);
    for (const ns of ['node1', 'node2', 'laptop']) expect(defaults(taken, ns)).toEqual(['default via 10.0.0.3 dev eth0']);
  });

  it("a node's own HTTP to a ClusterIP is served (the route lookup before the OUTPUT DNAT finds the default)", () => {
    const r = run(`    - { name: n2c, type: http, from: node/node1, to: "svc/web:80", count: 4, rate: 10, start: 2s }
    - { name: n2c2, type: http, from: node/node2, to: "svc/web:80", count: 4, rate: 10, start: 2s }
`);
    expect([r.flow('n2c'), r.flow('n2c2')].map((f) => `${f.requests}/${f.successes}/${f.errors}`)).toEqual(['4/4/0', '4/4/0']);
    // Nothing went to the gateway: the DNAT rerouted each SYN to a pod.
    expect(r.frames.filter((f) => f.pkt.arp && formatIpv4(f.pkt.arp.tpa) === '10.0.0.1')).toEqual([]);
  });

  it('a pod calling a Service without endpoints is refused by kube-proxy (ICMP port unreachable from node1), not net unreachable', () => {
    const r = run(`    - { name: empty, type: http, from: pod/client, to: "svc/empty:80", count: 3, rate: 10, start: 2s }
`);
    const f = r.flow('empty');
    expect(f).toMatchObject({ requests: 3, successes: 0, errors: 3 });
    expect(f.errorsByKind.refused).toBe(3);
    const unreach = r.frames.filter((x) => x.ifName === 'client/eth0' && x.pkt.icmp?.type === IcmpType.DEST_UNREACH);
    expect(unreach.map((x) => x.pkt.icmp!.code)).toEqual([IcmpUnreachCode.PORT, IcmpUnreachCode.PORT, IcmpUnreachCode.PORT]);
  });

  it('traffic to an address nobody serves ARPs for the gateway and fails as Linux does: host unreachable after three probes', () => {
    const r = run(`    - { name: out, type: http, from: host/laptop, to: "198.51.100.7:80", count: 1, rate: 1, start: 2s, timeout: 10s }
    - { name: fwd, type: http, from: pod/client, to: "198.51.100.7:80", count: 1, rate: 1, start: 2s, timeout: 10s }
    - { name: ping, type: ping, from: node/node2, to: 198.51.100.7, count: 1, start: 2s, timeout: 10s }
`);
    for (const name of ['out', 'fwd', 'ping']) expect(r.flow(name).errorsByKind['no-route'], name).toBe(1);
    const probes = (host: string, ip: string) => r.frames.filter((x) => x.ifName === `${host}/eth0` && x.pkt.arp && formatIpv4(x.pkt.arp.spa) === ip && formatIpv4(x.pkt.arp.tpa) === '10.0.0.1').map((x) => Math.round((x.tNs - 2e9) / 1e8) / 10);
    expect(probes('laptop', '10.0.0.100')).toEqual([0, 1, 2]);
    expect(probes('node1', '10.0.0.11')).toEqual([0, 1, 2]);
    expect(probes('node2', '10.0.0.12')).toEqual([0, 1, 2]);
    // The forwarded SYNs (first and retransmitted, held in node1's neighbour queue) fail on node1: it
    // sends the client ICMP host unreachable for each, after the third probe.
    const host = r.frames.filter((x) => x.ifName === 'client/eth0' && x.pkt.icmp?.type === IcmpType.DEST_UNREACH);
    expect(host.length).toBeGreaterThan(0);
    expect(new Set(host.map((x) => x.pkt.icmp!.code))).toEqual(new Set([IcmpUnreachCode.HOST]));
    expect(host[0]!.tNs - 2e9).toBeGreaterThan(2.9e9);
    // No SYN ever left a machine toward 198.51.100.7 (held in the neighbour queue).
    expect(r.frames.filter((x) => x.ifName.endsWith('/eth0') && !x.ifName.startsWith('client') && x.pkt.tcp?.flags === TcpFlag.SYN && formatIpv4(x.pkt.ip!.dst) === '198.51.100.7')).toEqual([]);
  });
});
