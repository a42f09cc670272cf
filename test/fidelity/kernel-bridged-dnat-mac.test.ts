// Bridged DNAT while the node does not yet know the endpoint's MAC, against the kernel. The client pod
// a connects to a ClusterIP whose endpoint b is on the same cni0, and node1 has no neighbour entry for
// b: br_nf_pre_routing_finish_bridge hands the SYN to the neighbour layer (cni0 ARPs for b), and when
// it is sent, br_dev_xmit puts the saved source MAC back (nf_bridge->neigh_header) and bridges it from
// its ingress port (br_nf_pre_routing_finish_bridge_slow). Measured: b receives the SYN from a's MAC,
// TTL 64, right after cni0's ARP exchange. Compared on b's eth0, frame by frame.
//
//   a (10.244.0.2) ──veth── cni0 10.244.0.1 (node: DNAT 10.96.0.50:80 → 10.244.0.3:8080) ──veth── b (10.244.0.3)
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Packet } from '../../src/packet/packet.js';
import { parseFrame } from '../../src/packet/parse.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4-addr.js';
import { ArpOp, IcmpType, IP_DF, IpProto, TcpFlag } from '../../src/wire/types.js';
import { findProgram, ip, netnsSkipReason, nsExec, nsSysctl, nsSysctlRead, PING, PYTHON, readPcap, sleep, startTcpdump, stopChild } from '../helpers/netns.js';
import { pwaFixture } from './netns-pwa.js';

const IPTABLES = findProgram('iptables');
const skip = netnsSkipReason() ?? (IPTABLES === null ? 'needs iptables' : null);

const SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: bdnat-mac }
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
`;

/** b's eth0 up to the first SYN, MACs as roles. */
function view(frames: Packet[], macs: { a: number; b: number; gw: number }): string[] {
  const role = (m: number): string => (m === macs.a ? 'a' : m === macs.b ? 'b' : m === macs.gw ? 'gw' : m === 0xffffffffffff ? 'bcast' : 'other');
  const out: string[] = [];
  for (const p of frames) {
    const l2 = `${role(p.eth!.src)}>${role(p.eth!.dst)}`;
    if (p.arp !== null) {
      const x = p.arp;
      out.push(x.op === ArpOp.REQUEST ? `${l2} ARP who-has ${formatIpv4(x.tpa)} tell ${formatIpv4(x.spa)}` : `${l2} ARP ${formatIpv4(x.spa)} is-at ${role(x.sha)}`);
    } else if (p.tcp !== null && (p.tcp.flags & TcpFlag.SYN) !== 0) {
      out.push(`${l2} ${formatIpv4(p.ip!.src)} > ${formatIpv4(p.ip!.dst)}:${p.tcp.dstPort} SYN ttl ${p.ip!.ttl}`);
      break;
    }
  }
  return out;
}

describe.skipIf(skip !== null)(`bridged DNAT with an unresolved endpoint: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const { set, dir } = pwaFixture();

  it("the SYN that waited for cni0's ARP reaches b with a's source MAC, TTL 64", async () => {
    // --- kernel
    const node = set.create('bdnode');
    const a = set.create('bda');
    const b = set.create('bdb');
    ip('-n', node, 'link', 'add', 'cni0', 'type', 'bridge');
    ip('-n', node, 'addr', 'add', '10.244.0.1/24', 'dev', 'cni0');
    ip('-n', node, 'link', 'set', 'cni0', 'up');
    for (const [ns, addr, tag] of [[a, '10.244.0.2', 'a'], [b, '10.244.0.3', 'b']] as const) {
      const host = `pwam${tag}${process.pid % 100000}`;
      ip('link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('link', 'set', host, 'netns', node);
      ip('-n', node, 'link', 'set', host, 'master', 'cni0', 'up');
      ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'route', 'add', 'default', 'via', '10.244.0.1');
    }
    nsSysctl(node, { 'net.ipv4.ip_forward': 1 });
    if (nsSysctlRead(node, 'net.bridge.bridge-nf-call-iptables') === '') throw new Error('br_netfilter is not loaded');
    nsSysctl(node, { 'net.bridge.bridge-nf-call-iptables': 1 });
    nsExec(node, IPTABLES!, ['-t', 'nat', '-A', 'PREROUTING', '-d', '10.96.0.50', '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', '10.244.0.3:8080']);
    nsExec(a, PING!, ['-c', '1', '-W', '1', '10.244.0.1'], { allowFail: true }); // a knows its gateway; the node knows a, not b
    const file = join(dir, 'b.pcap');
    const td = await startTcpdump(b, 'eth0', file);
    nsExec(a, PYTHON!, ['-c', 'import socket\ns=socket.socket(); s.settimeout(1)\ntry: s.connect(("10.96.0.50",80))\nexcept Exception: pass'], { allowFail: true, timeoutMs: 5000 });
    await sleep(200);
    await stopChild(td.child);
    const macOf = (ns: string, dev: string): number => parseInt(nsExec(ns, findProgram('cat')!, [`/sys/class/net/${dev}/address`]).trim().replaceAll(':', ''), 16);
    const kernel = view(readPcap(file, 'eth0').map((f) => parseFrame(f.bytes)), { a: macOf(a, 'eth0'), b: macOf(b, 'eth0'), gw: macOf(node, 'cni0') });
    expect(kernel).toEqual([
      'gw>bcast ARP who-has 10.244.0.3 tell 10.244.0.1',
      'b>gw ARP 10.244.0.3 is-at b',
      'a>b 10.244.0.2 > 10.244.0.3:8080 SYN ttl 64',
    ]);

    // --- podwire: a pings its gateway first, then sends the SYN; b's eth0 recorded from then on
    const w = buildWorld(loadScenarioText(SCENARIO, 'bdnat-mac.yaml'), 1);
    const pa = w.cluster!.pods.find((p) => p.name === 'a')!;
    const pb = w.cluster!.pods.find((p) => p.name === 'b')!;
    const n1 = w.cluster!.nodes.find((n) => n.name === 'node1')!;
    const seen: Packet[] = [];
    pb.ns.device('eth0')!.tap.connect((_d, p) => {
      if (w.sim.now >= 1e9) seen.push(p.clone());
    });
    w.sim.scheduleAt(0.5e9, () => {
      const p = new Packet();
      p.ip = { tos: 0, totalLength: 0, id: -1, flags: 0, fragOffset: 0, ttl: 64, protocol: IpProto.ICMP, checksum: null, src: 0, dst: parseIpv4('10.244.0.1')!, options: null };
      p.icmp = { type: IcmpType.ECHO_REQUEST, code: 0, checksum: null, rest: 0x12340001 };
      pa.ns.ipLocalOut(p);
    });
    w.sim.scheduleAt(1e9, () => {
      const p = new Packet();
      p.ip = { tos: 0, totalLength: 0, id: -1, flags: IP_DF, fragOffset: 0, ttl: 64, protocol: IpProto.TCP, checksum: null, src: 0, dst: parseIpv4('10.96.0.50')!, options: null };
      p.tcp = { srcPort: 40000, dstPort: 80, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 64240, checksum: null, urgent: 0, options: [] };
      pa.ns.ipLocalOut(p);
    });
    w.sim.run({ until: 2e9 });
    const podwire = view(seen, { a: pa.ns.device('eth0')!.mac, b: pb.ns.device('eth0')!.mac, gw: n1.cni0!.mac });
    expect(podwire).toEqual(kernel);
  });
});
