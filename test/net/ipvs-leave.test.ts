// IPVS with a virtual service and no real server to take a new connection (a Service without ready
// endpoints in kube-proxy IPVS mode): ip_vs_leave answers the client's SYN or datagram with ICMP port
// unreachable from the virtual address and drops it, so the client fails at once with ECONNREFUSED,
// as the iptables mode's REJECT does (the IPVS proxier adds no REJECT of its own: the kernel does it).
// podwire dropped the packet silently and the client timed out.
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import type { StatsDocument } from '../../src/stats/index.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { IcmpType } from '../../src/wire/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: ipvs-leave }
spec:
  cluster:
    kubeProxy: { mode: ipvs, scheduler: rr }
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1, ip: 10.100.11.11 }]
  traffic:
    - { name: h, type: http, from: pod/client, to: "svc/web:80", count: 2, rate: 10, start: 1s, connection: new, timeout: 2s }
    - { name: u, type: udp, from: pod/client, to: "svc/web:53", count: 2, rate: 10, start: 1s }
    - { name: n, type: http, from: node/node1, to: "svc/web:80", count: 1, start: 1s, timeout: 2s }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { clusterIP: 10.96.0.50, selector: { app: none }, ports: [{ name: http, port: 80, targetPort: 8080 }, { name: d, port: 53, protocol: UDP }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { containers: [{ name: c, image: x }] }
`;

describe('IPVS: a virtual service without servers (ip_vs_leave)', () => {
  it('answers SYNs and datagrams with port unreachable from the ClusterIP: every request is refused, none times out', () => {
    const w = buildWorld(loadScenarioText(SCENARIO, 'ipvs-leave.yaml'), 7);
    const client = w.cluster!.pods.find((p) => p.name === 'client')!;
    const errs: string[] = [];
    client.ns.device('eth0')!.tap.connect((_d, p, dir) => {
      if (dir === 'in' && p.icmp !== null && p.icmp.type === IcmpType.DEST_UNREACH) errs.push(`${formatIpv4(p.ip!.src)} code ${p.icmp.code} quoting ${p.inner!.tcp ? 'tcp' : 'udp'}`);
    });
    const dir = mkdtempSync(join(tmpdir(), 'podwire-ipvs-leave-'));
    try {
      const stats = JSON.parse(runWorld(w, { outDir: dir, format: 'pcapng', snaplen: 65535 }).statsJson) as StatsDocument;
      for (const name of ['h', 'u', 'n']) {
        const f = stats.flows.find((x) => x.name === name)!;
        expect([name, f.errorsByKind.refused, f.errorsByKind.timeout, f.lost]).toEqual([name, name === 'n' ? 1 : 2, 0, 0]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(errs.sort()).toEqual(['10.96.0.50 code 3 quoting tcp', '10.96.0.50 code 3 quoting tcp', '10.96.0.50 code 3 quoting udp', '10.96.0.50 code 3 quoting udp']);
  });
});
