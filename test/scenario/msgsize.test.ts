// Sends above the MTU, as the kernel treats them (checked on Linux 6.18 with ping and a Python UDP
// socket in namespaces):
// - ping's default `-M want`: a 2000-byte request leaves in fragments without DF (1500 + 548 bytes)
//   and is answered; `-M do` fails locally with EMSGSIZE ("local error: message too long"), nothing
//   on the wire. podwire sent every request with DF, refused it and counted 'no-route'.
// - a UDP socket (IP_PMTUDISC_WANT) whose DF datagram fitted the route to a ClusterIP (eth0, 1500) but
//   not the route OUTPUT DNAT chose (flannel.1, 1450): ip_fragment fragments it (skb->ignore_df), the
//   fragments without DF (1444 + 64 bytes). podwire refused it as 'frag-needed' and counted 'no-route'.
// - ping across a router whose next link has MTU 1400: request 1 draws fragmentation-needed (ping:
//   "Frag needed and DF set (mtu = 1400)", +1 errors), the path MTU is learned, requests 2 and 3 leave
//   in fragments (1396 + 52 bytes) and are answered.
// - EMSGSIZE, where it is the answer, is its own error kind: 'msgsize', not 'no-route'.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseFrame } from '../../src/packet/parse.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import type { StatsDocument } from '../../src/stats/index.js';
import { IP_DF } from '../../src/wire/types.js';
import { readPcapng } from '../integration/pcapng-read.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(text: string) {
  const w = buildWorld(loadScenarioText(text, 'msgsize.yaml'), 7);
  const dir = mkdtempSync(join(tmpdir(), 'podwire-msgsize-'));
  dirs.push(dir);
  const res = runWorld(w, { outDir: dir, format: 'pcapng', snaplen: 65535 });
  const cap = readPcapng(res.files.capture);
  const frames = cap.packets.map((p) => ({ ifName: cap.interfaces[p.ifId]!, pkt: parseFrame(p.data) }));
  const stats = JSON.parse(res.statsJson) as StatsDocument;
  return { w, frames, flow: (name: string) => stats.flows.find((f) => f.name === name)! };
}

const TWO_HOSTS = (traffic: string) => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: msgsize }
spec:
  hosts:
    - { name: a, interfaces: [{ name: eth0, address: 10.9.0.1/24 }] }
    - { name: b, interfaces: [{ name: eth0, address: 10.9.0.2/24 }] }
  veths: [{ ends: [a/eth0, b/eth0] }]
  traffic:
${traffic}  capture: { interfaces: [a/eth0] }
`;

describe('sends above the MTU', () => {
  it('ping -s 2000 (-M want) leaves in fragments without DF and is answered; -M do fails with msgsize, nothing sent', () => {
    const want = run(TWO_HOSTS('    - { name: p, type: ping, from: host/a, to: 10.9.0.2, count: 2, size: 2000 }\n'));
    expect(want.flow('p').received).toBe(2);
    const out = want.frames.filter((f) => f.pkt.ip !== null && f.pkt.ip.src === 0x0a090001);
    expect(out.map((f) => `${f.pkt.ip!.totalLength} df=${(f.pkt.ip!.flags & IP_DF) !== 0}`)).toEqual(['1500 df=false', '548 df=false', '1500 df=false', '548 df=false']);
    const small = run(TWO_HOSTS('    - { name: p, type: ping, from: host/a, to: 10.9.0.2, count: 1, size: 56, pmtudisc: do }\n'));
    expect(small.flow('p').received).toBe(1);
    const doIt = run(TWO_HOSTS('    - { name: p, type: ping, from: host/a, to: 10.9.0.2, count: 2, size: 2000, pmtudisc: do }\n'));
    expect(doIt.flow('p').errorsByKind).toMatchObject({ msgsize: 2, 'no-route': 0 });
    expect(doIt.frames.filter((f) => f.pkt.ip !== null)).toEqual([]);
    const dont = run(TWO_HOSTS('    - { name: p, type: ping, from: host/a, to: 10.9.0.2, count: 1, size: 56, pmtudisc: dont }\n'));
    expect(dont.frames.filter((f) => f.pkt.icmp !== null && f.pkt.ip!.src === 0x0a090001).map((f) => f.pkt.ip!.flags & IP_DF)).toEqual([0]);
  });

  it('ping learns the path MTU from fragmentation-needed: one msgsize error, then fragmented requests answered', () => {
    const r = run(`apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: ping-pmtu }
spec:
  hosts:
    - { name: a, interfaces: [{ name: eth0, address: 10.7.1.1/24 }], routes: [{ to: default, via: 10.7.1.254 }] }
    - { name: r, forwarding: true, interfaces: [{ name: ea, address: 10.7.1.254/24 }, { name: eb, address: 10.7.2.254/24, mtu: 1400 }] }
    - { name: b, interfaces: [{ name: eth0, address: 10.7.2.1/24, mtu: 1400 }], routes: [{ to: default, via: 10.7.2.254 }] }
  veths: [{ ends: [a/eth0, r/ea] }, { ends: [r/eb, b/eth0] }]
  traffic:
    - { name: p, type: ping, from: host/a, to: 10.7.2.1, count: 3, interval: 300ms, size: 1400 }
  capture: { interfaces: [a/eth0] }
`);
    expect(r.flow('p')).toMatchObject({ sent: 3, received: 2, errors: 1 });
    expect(r.flow('p').errorsByKind).toMatchObject({ msgsize: 1, 'no-route': 0 });
    const out = r.frames.filter((f) => f.pkt.ip !== null && f.pkt.ip.src === 0x0a070101);
    expect(out.map((f) => `${f.pkt.ip!.totalLength} df=${(f.pkt.ip!.flags & IP_DF) !== 0}`)).toEqual(['1428 df=true', '1396 df=false', '52 df=false', '1396 df=false', '52 df=false']);
  });

  it("a node's UDP datagram DF for the ClusterIP's route is fragmented on the pod network's smaller MTU after DNAT", () => {
    const r = run(`apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: udp-dnat-mtu }
spec:
  cluster:
    cni: flannel-vxlan
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1, ip: 10.100.11.11 }, { name: node2, ip: 10.100.11.12 }]
  traffic:
    - { name: nu, type: udp, from: node/node1, to: "svc/echo:53", count: 3, rate: 10, start: 1s, size: 1460, echo: true }
  capture: { interfaces: [node1/flannel.1] }
---
apiVersion: v1
kind: Service
metadata: { name: echo }
spec: { clusterIP: 10.96.0.60, selector: { app: echo }, ports: [{ port: 53, targetPort: 5353, protocol: UDP }] }
---
apiVersion: v1
kind: Pod
metadata: { name: echo, labels: { app: echo } }
spec: { nodeName: node2, containers: [{ name: c, image: x, ports: [{ containerPort: 5353, protocol: UDP }] }] }
`);
    expect(r.flow('nu').received).toBe(3);
    const out = r.frames.filter((f) => f.pkt.ip!.src === 0x0af40000);
    expect(out.map((f) => `${f.pkt.ip!.totalLength} df=${(f.pkt.ip!.flags & IP_DF) !== 0}`)).toEqual(Array(3).fill(['1444 df=false', '64 df=false']).flat());
    expect(r.w.namespaces.get('node1')!.drops['frag-needed'] ?? 0).toBe(0);
  });
});
