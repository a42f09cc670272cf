// The internet's router (src/k8s/internet.ts) against the kernel: a user pings a node through a
// namespace with forwarding on and no NAT; on the router's two legs the echo request and the reply
// show the same addresses and TTLs (64 on the way in, 63 after the forward) in both.
//
//   user eth0 203.0.113.10 ══ eth1 203.0.113.1 [edge, ip_forward=1] eth0 10.100.11.1 ══ eth0 10.100.11.11 node
//   (podwire: the same with the internet's and the cluster network's switches between them)
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../src/packet/parse.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { IpProto } from '../../src/wire/types.js';
import { ip, netnsSkipReason, nsExec, nsSysctl, PING, readPcap, readPcapng, sleep, startTcpdump, stopChild } from '../helpers/netns.js';
import { pwaFixture } from './netns-pwa.js';

const skip = netnsSkipReason();

const SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: edge }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1, ip: 10.100.11.11 }]
  internet:
    hosts: [{ name: user, ip: 203.0.113.10 }]
  traffic:
    - { name: p, type: ping, from: host/user, to: 10.100.11.11, count: 1 }
`;

/** "leg kind src→dst ttl" for each ICMP echo frame. */
function icmpLines(frames: { iface: string; bytes: Uint8Array }[]): string[] {
  return frames.flatMap((f) => {
    const p = parseFrame(f.bytes);
    if (p.ip === null || p.ip.protocol !== IpProto.ICMP || p.icmp === null) return [];
    const kind = p.icmp.type === 8 ? 'request' : p.icmp.type === 0 ? 'reply' : `type${p.icmp.type}`;
    return [`${f.iface} ${kind} ${formatIpv4(p.ip.src)}→${formatIpv4(p.ip.dst)} ttl ${p.ip.ttl}`];
  });
}

describe.skipIf(skip !== null)(`the edge router: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const { set, dir } = pwaFixture();

  it('forwards both ways without NAT and decrements the TTL once', async () => {
    // --- kernel
    const u = set.create('eru');
    const e = set.create('ere');
    const n = set.create('ern');
    const tag = process.pid % 100000;
    ip('link', 'add', `pwu${tag}`, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', e);
    ip('link', 'set', `pwu${tag}`, 'netns', u, 'name', 'eth0');
    ip('link', 'add', `pwn${tag}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', e);
    ip('link', 'set', `pwn${tag}`, 'netns', n, 'name', 'eth0');
    for (const [ns, dev, addr] of [[u, 'eth0', '203.0.113.10/24'], [e, 'eth1', '203.0.113.1/24'], [e, 'eth0', '10.100.11.1/24'], [n, 'eth0', '10.100.11.11/24']] as const) {
      ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
    nsSysctl(e, { 'net.ipv4.ip_forward': 1 });
    ip('-n', u, 'route', 'add', 'default', 'via', '203.0.113.1');
    ip('-n', n, 'route', 'add', 'default', 'via', '10.100.11.1');
    const f1 = join(dir, 'eth1.pcap');
    const f0 = join(dir, 'eth0.pcap');
    const t1 = await startTcpdump(e, 'eth1', f1);
    const t0 = await startTcpdump(e, 'eth0', f0);
    nsExec(u, PING!, ['-c', '1', '-W', '2', '10.100.11.11'], { timeoutMs: 5000 });
    await sleep(200);
    await stopChild(t1.child);
    await stopChild(t0.child);
    const kernel = [...icmpLines(readPcap(f1, 'edge/eth1')), ...icmpLines(readPcap(f0, 'edge/eth0'))].sort();

    // --- podwire
    const w = buildWorld(loadScenarioText(SCENARIO, 'edge.yaml'), 1);
    const res = runWorld(w, { outDir: dir, format: 'pcapng', snaplen: 262144 });
    const frames = readPcapng(res.files.capture).filter((f) => f.iface === 'edge/eth0' || f.iface === 'edge/eth1');
    const podwire = icmpLines(frames).sort();

    expect(kernel).toEqual([
      'edge/eth0 reply 10.100.11.11→203.0.113.10 ttl 64',
      'edge/eth0 request 203.0.113.10→10.100.11.11 ttl 63',
      'edge/eth1 reply 10.100.11.11→203.0.113.10 ttl 63',
      'edge/eth1 request 203.0.113.10→10.100.11.11 ttl 64',
    ]);
    expect(podwire).toEqual(kernel);
  }, 60_000);
});
