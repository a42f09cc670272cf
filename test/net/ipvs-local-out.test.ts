// IPVS at LOCAL_OUT (ip_vs_local_request4): a node's own connection to a ClusterIP on kube-ipvs0. The
// local route gives the socket the ClusterIP itself as source; nat OUTPUT's KUBE-SERVICES marks it
// 0x4000 (the source is outside the cluster CIDR); IPVS DNATs it to a real server with its TTL
// decremented (ip_vs_nat_xmit → decrement_ttl), and KUBE-POSTROUTING masquerades it to the address of
// the device toward the server: cni0's for a pod on the node, flannel.1's for one on another node.
// Before, IPVS ran at LOCAL_IN only: the SYN looped through lo, was masqueraded there to 127.0.0.1 and
// left the node from 127.0.0.1, and the connection timed out.
//
//   node1 ─(lo? no: IPVS at LOCAL_OUT)─ cni0 10.244.0.1 ── web (node1)      flannel.1 10.244.0.0 ── web (node2)
import { describe, expect, it } from 'vitest';
import type { Packet } from '../../src/packet/packet.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { TcpLayer } from '../../src/transport/tcp/layer.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { TcpFlag } from '../../src/wire/types.js';
import { WEB_SERVICE_DOC } from './ipvs-one-node.js';

const SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: ipvs-node-client }
spec:
  cluster:
    cni: flannel-vxlan
    kubeProxy: { mode: ipvs, scheduler: rr }
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1, ip: 10.100.11.11 }, { name: node2, ip: 10.100.11.12 }]
${WEB_SERVICE_DOC}---
apiVersion: v1
kind: Pod
metadata: { name: web-1, labels: { app: web } }
spec: { nodeName: node1, containers: [{ name: c, image: x, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: web-2, labels: { app: web } }
spec: { nodeName: node2, containers: [{ name: c, image: x, ports: [{ containerPort: 8080 }] }] }
`;

function line(p: Packet): string {
  const f = p.tcp!.flags;
  return `${formatIpv4(p.ip!.src)} > ${formatIpv4(p.ip!.dst)}:${p.tcp!.dstPort} [${f & TcpFlag.SYN ? 'S' : '.'}] ttl ${p.ip!.ttl}`;
}

describe('IPVS at LOCAL_OUT: a node connects to a ClusterIP', () => {
  it('the SYN leaves masqueraded to the outgoing device address, TTL 63, never from 127.0.0.1; both connections complete', () => {
    const w = buildWorld(loadScenarioText(SCENARIO, 'ipvs-local-out.yaml'), 1);
    const node = w.cluster!.nodes.find((n) => n.name === 'node1')!;
    const webs = ['web-1', 'web-2'].map((n) => w.cluster!.pods.find((p) => p.name === n)!);
    const seen: string[] = [];
    for (const dev of [node.cni0!, node.ns.device('flannel.1')!]) {
      dev.tap.connect((_d, p, dir) => {
        if (dir === 'out' && p.tcp !== null && (p.tcp.flags & TcpFlag.SYN) !== 0) seen.push(`${dev.name}: ${line(p)}`);
      });
    }
    let loSyns = 0;
    node.ns.lo.tap.connect((_d, p) => {
      if (p.tcp !== null) loSyns++;
    });
    for (const web of webs) new TcpLayer(web.ns).listen(8080, (s) => s.send(100));
    const tcp = new TcpLayer(node.ns);
    let done = 0;
    for (const at of [1e9, 1.1e9]) {
      w.sim.scheduleAt(at, () => {
        let got = 0;
        const s = tcp.connect(0x0a600032, 80, (sock) => sock.send(50));
        s.onData = (_d, n) => {
          got += n;
          if (got >= 100) {
            done++;
            s.close();
          }
        };
      });
    }
    w.sim.run({ until: 3e9 });
    expect(seen.sort()).toEqual([`cni0: 10.244.0.1 > ${formatIpv4(webs[0]!.ip)}:8080 [S] ttl 63`, `flannel.1: 10.244.0.0 > ${formatIpv4(webs[1]!.ip)}:8080 [S] ttl 63`]);
    expect(done).toBe(2);
    expect(loSyns).toBe(0);
    expect(node.ns.drops['ipvs-loopback-source'] ?? 0).toBe(0);
  });
});
