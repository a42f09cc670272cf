// Hairpin against the kernel: a pod connects to a ClusterIP Service whose only endpoint is itself.
// The CNI bridge plugin (flannel's CNI config: "hairpinMode": true) sets hairpin mode on the pod's
// cni0 port; br_netfilter DNATs the SYN at the bridge port to the pod itself, and bridged DNAT sends it
// back out of the port it came in on (br_forward.c should_deliver allows that on a hairpin port);
// kube-proxy's `-s POD/32 -j KUBE-MARK-MASQ` in KUBE-SEP has KUBE-POSTROUTING masquerade it to cni0's
// address. The kernel node runs exactly podwire's node1 rules (nf.save() → iptables-restore).
// Compared on the pod's eth0, frame by frame: the pod's broadcast ARP request reflected back to it,
// then each handshake segment twice — as the pod sent it (to 10.96.0.60:80) and as it comes back
// (from 10.244.0.1, to :8080) bridged, not routed: the pod's own MAC as source and destination, TTL 64.
//
//   web (10.244.0.2) ──veth (hairpin on)── cni0 10.244.0.1 (node1: kube-proxy iptables, br_netfilter)
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Packet } from '../../src/packet/packet.js';
import { parseFrame } from '../../src/packet/parse.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { TcpLayer } from '../../src/transport/tcp/layer.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { ArpOp, TcpFlag } from '../../src/wire/types.js';
import { findProgram, ip, netnsSkipReason, nsExec, nsSpawn, nsSysctl, nsSysctlRead, PYTHON, readPcap, sleep, startTcpdump, stopChild } from '../helpers/netns.js';
import { pwaFixture } from './netns-pwa.js';

const RESTORE = findProgram('iptables-restore');
const NFACCT = findProgram('nfacct');
const skip = netnsSkipReason() ?? (RESTORE === null ? 'needs iptables-restore' : null);

const SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: hairpin-fidelity }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1, ip: 10.100.11.11 }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { clusterIP: 10.96.0.60, selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: web, labels: { app: web } }
spec: { containers: [{ name: c, image: x, ports: [{ containerPort: 8080 }] }] }
`;

/** One line per ARP or TCP frame, MACs as roles (pod / gw / bcast), ephemeral ports as `eph`. */
function describe2(p: Packet, podMac: number): string | null {
  const role = (m: number): string => (m === podMac ? 'pod' : m === 0xffffffffffff ? 'bcast' : 'gw');
  const l2 = `${role(p.eth!.src)}>${role(p.eth!.dst)}`;
  if (p.arp !== null) {
    const a = p.arp;
    return a.op === ArpOp.REQUEST ? `${l2} ARP who-has ${formatIpv4(a.tpa)} tell ${formatIpv4(a.spa)}` : `${l2} ARP ${formatIpv4(a.spa)} is-at ${role(a.sha)}`;
  }
  if (p.tcp === null) return null;
  const port = (n: number): string => (n === 80 || n === 8080 ? String(n) : 'eph');
  const f = p.tcp.flags;
  const flags = `${f & TcpFlag.SYN ? 'S' : ''}${f & TcpFlag.FIN ? 'F' : ''}${f & TcpFlag.RST ? 'R' : ''}${f & TcpFlag.ACK ? '.' : ''}`;
  return `${l2} ${formatIpv4(p.ip!.src)}:${port(p.tcp.srcPort)} > ${formatIpv4(p.ip!.dst)}:${port(p.tcp.dstPort)} [${flags}] ttl ${p.ip!.ttl}`;
}

/** ARP frames and the handshake: everything up to the sixth TCP segment. */
function handshake(lines: (string | null)[]): string[] {
  const out: string[] = [];
  let tcp = 0;
  for (const l of lines) {
    if (l === null) continue;
    if (!l.includes(' ARP ') && ++tcp > 6) break;
    out.push(l);
  }
  return out;
}

describe.skipIf(skip !== null)(`hairpin: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const { set, dir } = pwaFixture();

  it('the pod reaches itself through its Service: reflected ARP, each handshake segment twice, masqueraded to 10.244.0.1', async () => {
    // --- podwire
    const w = buildWorld(loadScenarioText(SCENARIO, 'hairpin-fidelity.yaml'), 1);
    const node = w.cluster!.nodes.find((n) => n.name === 'node1')!;
    const pod = w.cluster!.pods.find((p) => p.name === 'web')!;
    const eth0 = pod.ns.device('eth0')!;
    const seen: (string | null)[] = [];
    eth0.tap.connect((_d, p) => seen.push(describe2(p, eth0.mac)));
    const tcp = new TcpLayer(pod.ns);
    tcp.listen(8080, () => {});
    w.sim.scheduleAt(1e9, () => tcp.connect(0x0a60003c, 80));
    w.sim.run({ until: 2e9 });
    const podwire = handshake(seen);
    const rules = node.ns.nf!.save();

    // --- kernel: the same node with podwire's rules
    const nn = set.create('node');
    const pn = set.create('pod');
    ip('-n', nn, 'link', 'add', 'cni0', 'type', 'bridge');
    ip('-n', nn, 'addr', 'add', '10.244.0.1/24', 'dev', 'cni0');
    ip('-n', nn, 'link', 'set', 'cni0', 'up');
    const host = `pwav${process.pid % 100000}`;
    ip('link', 'add', host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pn);
    ip('link', 'set', host, 'netns', nn);
    ip('-n', nn, 'link', 'set', host, 'master', 'cni0', 'up');
    ip('-n', nn, 'link', 'set', host, 'type', 'bridge_slave', 'hairpin', 'on');
    ip('-n', pn, 'addr', 'add', '10.244.0.2/24', 'dev', 'eth0');
    ip('-n', pn, 'link', 'set', 'eth0', 'up');
    ip('-n', pn, 'route', 'add', 'default', 'via', '10.244.0.1');
    nsSysctl(nn, { 'net.ipv4.ip_forward': 1 });
    if (nsSysctlRead(nn, 'net.bridge.bridge-nf-call-iptables') === '') throw new Error('br_netfilter is not loaded (modprobe br_netfilter)');
    nsSysctl(nn, { 'net.bridge.bridge-nf-call-iptables': 1 });
    if (NFACCT) for (const n of new Set([...rules.matchAll(/--nfacct-name\s+(\S+)/g)].map((m) => m[1]!))) nsExec(nn, NFACCT, ['add', n], { allowFail: true });
    nsExec(nn, RESTORE!, [], { input: NFACCT ? rules : rules.replace(/ -m nfacct --nfacct-name +\S+/g, '') });
    const file = join(dir, 'pod.pcap');
    const td = await startTcpdump(pn, 'eth0', file);
    const prog = [
      'import socket, sys',
      'l=socket.socket(); l.bind(("0.0.0.0",8080)); l.listen()',
      's=socket.socket(); s.settimeout(2)',
      'try:',
      '  s.connect(("10.96.0.60",80)); c,a=l.accept(); print(a[0])',
      'except Exception as e: print("error", e)',
      'import time; time.sleep(0.3)',
    ].join('\n');
    const child = nsSpawn(pn, PYTHON!, ['-c', prog]);
    expect(await child.exited(8000)).toBe(0);
    expect(child.stdout().trim()).toBe('10.244.0.1');
    await sleep(100);
    await stopChild(td.child);
    const frames = readPcap(file, 'eth0').map((f) => parseFrame(f.bytes));
    const podMac = frames.find((p) => p.arp !== null)!.arp!.sha;
    const kernel = handshake(frames.map((p) => describe2(p, podMac)));

    expect(kernel).toEqual([
      'pod>bcast ARP who-has 10.244.0.1 tell 10.244.0.2',
      'pod>bcast ARP who-has 10.244.0.1 tell 10.244.0.2',
      'gw>pod ARP 10.244.0.1 is-at gw',
      'pod>gw 10.244.0.2:eph > 10.96.0.60:80 [S] ttl 64',
      'pod>pod 10.244.0.1:eph > 10.244.0.2:8080 [S] ttl 64',
      'pod>gw 10.244.0.2:8080 > 10.244.0.1:eph [S.] ttl 64',
      'pod>pod 10.96.0.60:80 > 10.244.0.2:eph [S.] ttl 64',
      'pod>gw 10.244.0.2:eph > 10.96.0.60:80 [.] ttl 64',
      'pod>pod 10.244.0.1:eph > 10.244.0.2:8080 [.] ttl 64',
    ]);
    expect(podwire).toEqual(kernel);
  });
});
