// Bridged DNAT against the kernel: a pod on cni0 connects to a ClusterIP whose endpoint is another pod
// on the same cni0. With br_netfilter (bridge-nf-call-iptables=1) the node's PREROUTING DNATs the frame
// at the bridge port and, the new destination being on the same bridge, re-bridges it instead of
// routing it: the endpoint receives exactly one SYN, TTL unchanged (64). podwire must show the same.
// Capture only at the endpoint pod: tcpdump on the bridge itself would make it promiscuous, and the
// kernel then also routes a copy (a second SYN, TTL 63), the behaviour podwire's passive capture
// deliberately does not reproduce.
//
//   a (10.244.0.2) ──veth── cni0 10.244.0.1 (node: DNAT 10.96.0.50:80 → 10.244.0.3:8080) ──veth── b (10.244.0.3)
import { afterAll, describe, expect, it } from 'vitest';
import { Packet } from '../../src/packet/packet.js';
import { parseFrame } from '../../src/packet/parse.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { IP_DF, IpProto, TcpFlag } from '../../src/wire/types.js';
import { parseIpv4 } from '../../src/wire/ipv4-addr.js';
import { ip, killAll, NetnsSet, netnsSkipReason, nsExec, nsSysctl, readPcap, sleep, startTcpdump, stopChild } from '../helpers/netns.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findProgram } from '../helpers/netns.js';

const skip = netnsSkipReason() ?? (findProgram('iptables') === null ? 'needs iptables' : null);

describe.skipIf(skip !== null)(`bridged DNAT: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const set = new NetnsSet('pwb');
  const dir = mkdtempSync(join(tmpdir(), 'pwb-'));
  afterAll(async () => {
    await killAll();
    set.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the endpoint pod gets one SYN with TTL 64 in both', async () => {
    // --- kernel
    const node = set.create('node');
    const a = set.create('a');
    const b = set.create('b');
    ip('-n', node, 'link', 'add', 'cni0', 'type', 'bridge');
    ip('-n', node, 'addr', 'add', '10.244.0.1/24', 'dev', 'cni0');
    ip('-n', node, 'link', 'set', 'cni0', 'up');
    for (const [ns, addr, v] of [[a, '10.244.0.2', 'vpa'], [b, '10.244.0.3', 'vpb']] as const) {
      const host = `${v}${process.pid % 100000}`;
      ip('link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('link', 'set', host, 'netns', node);
      ip('-n', node, 'link', 'set', host, 'master', 'cni0', 'up');
      ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'route', 'add', 'default', 'via', '10.244.0.1');
    }
    nsExec(node, '/sbin/modprobe', ['br_netfilter'], { allowFail: true });
    nsSysctl(node, { 'net.ipv4.ip_forward': 1, 'net.bridge.bridge-nf-call-iptables': 1 });
    nsExec(node, findProgram('iptables')!, ['-t', 'nat', '-A', 'PREROUTING', '-d', '10.96.0.50', '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', '10.244.0.3:8080']);
    // Resolve neighbours first, as a running cluster has them.
    nsExec(node, findProgram('ping')!, ['-c', '1', '-W', '1', '10.244.0.3'], { allowFail: true });
    nsExec(a, findProgram('ping')!, ['-c', '1', '-W', '1', '10.244.0.1'], { allowFail: true });
    const file = join(dir, 'b.pcap');
    const td = await startTcpdump(b, 'eth0', file);
    nsExec(a, findProgram('python3')!, ['-c', 'import socket\ns=socket.socket()\ns.settimeout(1)\ntry:\n  s.connect(("10.96.0.50",80))\nexcept Exception:\n  pass'], { allowFail: true, timeoutMs: 5000 });
    await sleep(300);
    await stopChild(td.child);
    const kernelSyns = readPcap(file, 'eth0')
      .map((f) => parseFrame(f.bytes))
      .filter((p) => p.tcp !== null && (p.tcp.flags & TcpFlag.SYN) !== 0 && (p.tcp.flags & TcpFlag.ACK) === 0);
    expect(kernelSyns.map((p) => p.ip!.ttl)).toEqual([64]);

    // --- podwire: the same shape as a cluster node with one Service
    const w = buildWorld(
      loadScenarioText(
        `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: bdnat }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1 }]
---
apiVersion: v1
kind: Service
metadata: { name: s }
spec: { clusterIP: 10.96.0.50, selector: { app: b }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: a }
spec: { containers: [{ name: c, image: x }] }
---
apiVersion: v1
kind: Pod
metadata: { name: b, labels: { app: b } }
spec: { containers: [{ name: c, image: x, ports: [{ containerPort: 8080 }] }] }
`,
        'bdnat.yaml',
      ),
      1,
    );
    const pa = w.cluster!.pods.find((p) => p.name === 'a')!;
    const pb = w.cluster!.pods.find((p) => p.name === 'b')!;
    const seen: Packet[] = [];
    pb.ns.device('eth0')!.tap.connect((_d, p, dir2) => {
      if (dir2 === 'in' && p.tcp !== null && (p.tcp.flags & TcpFlag.SYN) !== 0) seen.push(p.clone());
    });
    const syn = (t: number) =>
      w.sim.scheduleAt(t, () => {
        const p = new Packet();
        p.ip = { tos: 0, totalLength: 0, id: -1, flags: IP_DF, fragOffset: 0, ttl: 64, protocol: IpProto.TCP, checksum: null, src: 0, dst: parseIpv4('10.96.0.50')!, options: null };
        p.tcp = { srcPort: 40000 + t / 1e9, dstPort: 80, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 64240, checksum: null, urgent: 0, options: [] };
        pa.ns.ipLocalOut(p);
      });
    // First SYN resolves neighbours (ARP); the second one finds them resolved, as in the kernel run.
    syn(1e9);
    syn(2e9);
    w.sim.run({ until: 3e9 });
    expect(seen.map((p) => p.ip!.ttl)).toEqual([64, 64]);
  });
});
