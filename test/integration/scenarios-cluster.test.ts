// Behaviour of scenarios/pod-to-pod.yaml (flannel VXLAN) and scenarios/host-gw.yaml (routing, no
// encapsulation), read from the capture they write (issue 3, "Done means"): the inner TTL hop by hop
// (64 at the source pod's eth0, 63 after node1, 62 at the destination pod), the underlay frames (UDP
// 8472, VXLAN VNI 1, the inner frame byte for byte as flannel.1 saw it), no NAT on any of these paths,
// same-node traffic on cni0 only with its TTL unchanged, and host-gw routing pod packets between the
// node MACs with no VXLAN at all. Each scenario runs once, in process, into a temporary directory.
//
//   node1 10.100.11.11                             node2 10.100.11.12
//   +--------------------------------+             +--------------------------------+
//   | web-a 10.244.0.2  web-b .0.3    |             | web-c 10.244.1.2               |
//   |     \           /               |             |      |                         |
//   |   cni0 10.244.0.1/24            |             |   cni0 10.244.1.1/24           |
//   |   flannel.1 10.244.0.0/32  eth0 |---network---| eth0  flannel.1 10.244.1.0/32  |
//   +--------------------------------+   (br0)     +--------------------------------+
//                                          |                  (host-gw: no flannel.1;
//                                   host/laptop 10.100.11.100  routes via the node IPs)
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Packet } from '../../src/packet/packet.js';
import { type World } from '../../src/scenario/build.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { formatMac } from '../../src/wire/mac.js';
import { IcmpType, type Mac } from '../../src/wire/types.js';
import { hasTshark, NO_TSHARK, tsharkCheck, tsharkRecords } from '../helpers/tshark.js';
import { runScenarioFrames, type Frame } from './run-scenario.js';


interface Run {
  dir: string;
  world: World;
  capturePath: string;
  frames: Frame[];
  stats: { stop: string; flows: { name: string; sent: number; received: number; errors: number }[] };
}

/** Runs scenarios/NAME.yaml with its own seed; parses every captured frame. */
function runScenario(name: string): Run {
  const { dir, world, capturePath, frames, statsJson } = runScenarioFrames(name);
  return { dir, world, capturePath, frames, stats: JSON.parse(statsJson) };
}

const ip = formatIpv4;
const mac = (m: Mac) => formatMac(m);
/** The innermost packet: the inner frame of a VXLAN datagram, else the packet itself. */
const innermost = (p: Packet): Packet => (p.vxlan && p.inner ? innermost(p.inner) : p);
const echoId = (p: Packet) => (p.icmp!.rest >>> 16) & 0xffff;
const echoSeq = (p: Packet) => p.icmp!.rest & 0xffff;
const podIp = (r: Run, pod: string) => ip(r.world.cluster!.pods.find((p) => p.name === pod)!.ip);
const node = (r: Run, name: string) => r.world.cluster!.nodes.find((n) => n.name === name)!;
const hostVeth = (r: Run, pod: string) => `${r.world.cluster!.pods.find((p) => p.name === pod)!.node.name}/${r.world.cluster!.pods.find((p) => p.name === pod)!.hostVeth!.name}`;

/** ICMP echo frames (innermost) between two addresses, in capture order. */
function echoes(r: Run, type: number, src: string, dst: string): Frame[] {
  return r.frames.filter((f) => {
    const p = innermost(f.pkt);
    return p.icmp?.type === type && ip(p.ip!.src) === src && ip(p.ip!.dst) === dst;
  });
}

/** "if:ttl" hop list of one echo (by id/seq), in capture order; VXLAN frames show the inner TTL. */
function hops(frames: Frame[], id: number, seq: number): string[] {
  return frames.filter((f) => echoId(innermost(f.pkt)) === id && echoSeq(innermost(f.pkt)) === seq).map((f) => `${f.ifName}:${innermost(f.pkt).ip!.ttl}`);
}

const runs: Run[] = [];
afterAll(() => {
  for (const r of runs) rmSync(r.dir, { recursive: true, force: true });
});

describe('pod-to-pod.yaml (flannel VXLAN)', () => {
  let r: Run;
  beforeAll(() => {
    r = runScenario('pod-to-pod');
    runs.push(r);
  });

  it('runs to idle with every probe answered', () => {
    expect(r.stats.stop).toBe('idle');
    expect(Object.fromEntries(r.stats.flows.map((f) => [f.name, `${f.received}/${f.sent} errors=${f.errors}`]))).toEqual({
      'same-node': '3/3 errors=0',
      'cross-node': '3/3 errors=0',
      'cross-node-udp': '5/5 errors=0',
      'node-to-pod': '2/2 errors=0',
      'laptop-to-node': '2/2 errors=0',
    });
  });

  it('cross-node echo request: inner TTL 64 at web-a/eth0, 63 after node1 (flannel.1 and inside VXLAN on the underlay), 62 at web-c', () => {
    const req = echoes(r, IcmpType.ECHO_REQUEST, podIp(r, 'web-a'), podIp(r, 'web-c'));
    expect(req.length).toBeGreaterThan(0);
    const id = echoId(innermost(req[0]!.pkt));
    expect(hops(req, id, 1)).toEqual([
      'web-a/eth0:64',
      `${hostVeth(r, 'web-a')}:64`,
      'node1/cni0:64',
      'node1/flannel.1:63',
      'node1/eth0:63',
      'network/swp1:63',
      'network/br0:63',
      'network/swp2:63',
      'node2/eth0:63',
      'node2/flannel.1:63',
      'node2/cni0:62',
      `${hostVeth(r, 'web-c')}:62`,
      'web-c/eth0:62',
    ]);
    // Every sequence number takes the same hops with the same TTLs.
    for (const seq of [2, 3]) expect(hops(req, id, seq), `seq ${seq}`).toEqual(hops(req, id, 1));
  });

  it('cross-node echo reply: TTL 64 at web-c/eth0, 63 after node2, 62 at web-a', () => {
    const rep = echoes(r, IcmpType.ECHO_REPLY, podIp(r, 'web-c'), podIp(r, 'web-a'));
    const id = echoId(innermost(rep[0]!.pkt));
    const h = hops(rep, id, 1);
    expect(h[0]).toBe('web-c/eth0:64');
    expect(h).toContain('node2/flannel.1:63');
    expect(h).toContain('node2/eth0:63');
    expect(h).toContain('node1/flannel.1:63');
    expect(h.at(-1)).toBe('web-a/eth0:62');
  });

  it('underlay frames of pod traffic are UDP 8472, VXLAN VNI 1 (flags 0x08), node IP to node IP, flannel.1 MAC to flannel.1 MAC inside', () => {
    const n1 = node(r, 'node1');
    const n2 = node(r, 'node2');
    const underlay = r.frames.filter((f) => (f.ifName === 'node1/eth0' || f.ifName === 'node2/eth0' || f.ifName.startsWith('network/')) && f.pkt.ip !== null);
    const vx = underlay.filter((f) => f.pkt.vxlan !== null);
    expect(vx.length).toBeGreaterThan(0);
    const bad: string[] = [];
    for (const f of vx) {
      const p = f.pkt;
      const fromN1 = p.ip!.src === n1.ip;
      const [a, b] = fromN1 ? [n1, n2] : [n2, n1];
      const inner = p.inner!;
      const ok =
        p.udp!.dstPort === 8472 &&
        p.vxlan!.vni === 1 &&
        p.vxlan!.flags === 0x08 &&
        p.ip!.src === a.ip &&
        p.ip!.dst === b.ip &&
        p.eth!.src === a.eth0.mac &&
        p.eth!.dst === b.eth0.mac &&
        inner.eth!.src === a.flannel!.mac &&
        inner.eth!.dst === b.flannel!.mac &&
        inner.ip !== null &&
        ip(inner.ip.src).startsWith('10.244.') &&
        ip(inner.ip.dst).startsWith('10.244.');
      if (!ok) bad.push(`frame ${f.no} ${f.ifName}: ${ip(p.ip!.src)}>${ip(p.ip!.dst)} udp ${p.udp?.dstPort} vni ${p.vxlan!.vni} inner ${mac(inner.eth!.src)}>${mac(inner.eth!.dst)}`);
    }
    expect(bad).toEqual([]);
    // The only plain (not encapsulated) IP on the underlay is the laptop's ping to node2.
    const plain = underlay.filter((f) => f.pkt.vxlan === null).map((f) => `${ip(f.pkt.ip!.src)}>${ip(f.pkt.ip!.dst)}`);
    expect(new Set(plain)).toEqual(new Set(['10.100.11.100>10.100.11.12', '10.100.11.12>10.100.11.100']));
  });

  it('the frame inside VXLAN on node1/eth0 is byte for byte the frame node1/flannel.1 sent', () => {
    const out = r.frames.filter((f) => f.ifName === 'node1/flannel.1' && f.pkt.eth!.src === node(r, 'node1').flannel!.mac);
    const enc = r.frames.filter((f) => f.ifName === 'node1/eth0' && f.pkt.vxlan !== null && f.pkt.ip!.src === node(r, 'node1').ip);
    expect(enc.length).toBe(out.length);
    const key = (p: Packet) => JSON.stringify({ eth: p.eth, ip: p.ip, icmp: p.icmp, udp: p.udp, len: p.payloadLength });
    expect(enc.map((f) => key(f.pkt.inner!))).toEqual(out.map((f) => key(f.pkt)));
  });

  it('no NAT on pod-to-pod, node-to-pod or pod UDP paths: the innermost addresses are the same at every hop', () => {
    const webA = podIp(r, 'web-a');
    const webB = podIp(r, 'web-b');
    const webC = podIp(r, 'web-c');
    const n1Flannel = ip(node(r, 'node1').ns.addrs.find((a) => a.dev.name === 'flannel.1')!.addr);
    // For each probe seen at its sender: the (src, dst) at every interface it crosses.
    const pairsOf = (pred: (p: Packet) => boolean) => new Set(r.frames.map((f) => innermost(f.pkt)).filter((p) => p.ip && pred(p)).map((p) => `${ip(p.ip!.src)}>${ip(p.ip!.dst)}`));
    const crossIds = new Set(echoes(r, IcmpType.ECHO_REQUEST, webA, webC).map((f) => echoId(innermost(f.pkt))));
    expect(pairsOf((p) => p.icmp !== null && crossIds.has(echoId(p)))).toEqual(new Set([`${webA}>${webC}`, `${webC}>${webA}`]));
    expect(pairsOf((p) => p.udp !== null && (p.udp.dstPort === 8080 || p.udp.srcPort === 8080))).toEqual(new Set([`${webC}>${webB}`, `${webB}>${webC}`]));
    // node1 pings web-c from flannel.1's address (the route's device): web-c sees that same address.
    const n2p = r.frames.filter((f) => f.ifName === 'web-c/eth0' && f.pkt.icmp?.type === IcmpType.ECHO_REQUEST).map((f) => ip(f.pkt.ip!.src));
    expect(new Set(n2p)).toEqual(new Set([webA, n1Flannel]));
  });

  it('same-node traffic (web-a → web-b) crosses cni0 and the two veths only, TTL 64 everywhere', () => {
    const req = echoes(r, IcmpType.ECHO_REQUEST, podIp(r, 'web-a'), podIp(r, 'web-b'));
    const rep = echoes(r, IcmpType.ECHO_REPLY, podIp(r, 'web-b'), podIp(r, 'web-a'));
    expect(req.length).toBeGreaterThan(0);
    const where = new Set([...req, ...rep].map((f) => f.ifName));
    expect(where).toEqual(new Set(['web-a/eth0', hostVeth(r, 'web-a'), 'node1/cni0', hostVeth(r, 'web-b'), 'web-b/eth0']));
    expect(new Set([...req, ...rep].map((f) => f.pkt.ip!.ttl))).toEqual(new Set([64]));
    expect(req.every((f) => f.pkt.vxlan === null)).toBe(true);
  });

  describe.skipIf(!hasTshark())(`in tshark (${NO_TSHARK} otherwise)`, () => {
    it('zero malformed frames and zero bad checksums', () => {
      const c = tsharkCheck(r.capturePath);
      expect(c.malformedFrames, c.errors.join('\n')).toEqual([]);
      expect(c.badChecksumFrames, c.errors.join('\n')).toEqual([]);
    });

    it('decodes every UDP 8472 datagram as VXLAN VNI 1 carrying an Ethernet frame with IPv4 inside', () => {
      const rows = tsharkRecords(r.capturePath, ['frame.number', 'udp.dstport', 'vxlan.vni', 'eth.type', 'ip.src']).filter((x) => x['udp.dstport']!.split(',')[0] === '8472');
      expect(rows.length).toBeGreaterThan(0);
      const bad = rows.filter((x) => x['vxlan.vni'] !== '1' || x['ip.src']!.split(',').length !== 2 || x['eth.type']!.split(',').length !== 2);
      expect(bad.map((x) => `frame ${x['frame.number']}: vni=${x['vxlan.vni']} ip.src=${x['ip.src']}`)).toEqual([]);
    });
  });
});

describe('host-gw.yaml (routing via node IPs, no encapsulation)', () => {
  let r: Run;
  beforeAll(() => {
    r = runScenario('host-gw');
    runs.push(r);
  });

  it('runs to idle with every probe answered', () => {
    expect(r.stats.stop).toBe('idle');
    expect(r.stats.flows.map((f) => `${f.name} ${f.received}/${f.sent}`).sort()).toEqual(['cross-node 3/3', 'cross-node-udp 5/5', 'laptop-to-node 2/2', 'node-to-pod 2/2', 'same-node 3/3']);
  });

  it('has no VXLAN anywhere: no flannel.1 interface, no UDP 8472 or 4789', () => {
    expect(r.frames.filter((f) => f.ifName.endsWith('/flannel.1')).length).toBe(0);
    expect(r.world.captured.map((d) => d.qualifiedName).filter((n) => n.includes('flannel'))).toEqual([]);
    expect(r.frames.filter((f) => f.pkt.vxlan !== null || f.pkt.udp?.dstPort === 8472 || f.pkt.udp?.dstPort === 4789).map((f) => f.no)).toEqual([]);
  });

  it('cross-node pod packets cross the underlay between the node MACs, pod addresses unchanged, TTL 64 → 63 → 62', () => {
    const n1 = node(r, 'node1');
    const n2 = node(r, 'node2');
    const webA = podIp(r, 'web-a');
    const webC = podIp(r, 'web-c');
    const req = echoes(r, IcmpType.ECHO_REQUEST, webA, webC);
    const id = echoId(req[0]!.pkt);
    expect(hops(req, id, 1)).toEqual([
      'web-a/eth0:64',
      `${hostVeth(r, 'web-a')}:64`,
      'node1/cni0:64',
      'node1/eth0:63',
      'network/swp1:63',
      'network/br0:63',
      'network/swp2:63',
      'node2/eth0:63',
      'node2/cni0:62',
      `${hostVeth(r, 'web-c')}:62`,
      'web-c/eth0:62',
    ]);
    const onUnderlay = r.frames.filter((f) => (f.ifName === 'node1/eth0' || f.ifName === 'node2/eth0' || f.ifName.startsWith('network/')) && f.pkt.ip && ip(f.pkt.ip.src).startsWith('10.244.'));
    expect(onUnderlay.length).toBeGreaterThan(0);
    const macs = new Set(onUnderlay.map((f) => `${mac(f.pkt.eth!.src)}>${mac(f.pkt.eth!.dst)}`));
    expect(macs).toEqual(new Set([`${mac(n1.eth0.mac)}>${mac(n2.eth0.mac)}`, `${mac(n2.eth0.mac)}>${mac(n1.eth0.mac)}`]));
  });

  it('same-node traffic stays on cni0 with TTL 64', () => {
    const req = echoes(r, IcmpType.ECHO_REQUEST, podIp(r, 'web-a'), podIp(r, 'web-b'));
    expect(new Set(req.map((f) => f.ifName))).toEqual(new Set(['web-a/eth0', hostVeth(r, 'web-a'), 'node1/cni0', hostVeth(r, 'web-b'), 'web-b/eth0']));
    expect(new Set(req.map((f) => f.pkt.ip!.ttl))).toEqual(new Set([64]));
  });

  it.skipIf(!hasTshark())('zero malformed frames and zero bad checksums in tshark', () => {
    const c = tsharkCheck(r.capturePath);
    expect(c.malformedFrames, c.errors.join('\n')).toEqual([]);
    expect(c.badChecksumFrames, c.errors.join('\n')).toEqual([]);
  });
});
