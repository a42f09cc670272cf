// IPv4 fragmentation, reassembly and path MTU discovery against the kernel (ip_do_fragment, ip_defrag,
// nf_defrag_ipv4, ip_forward's DF check, __ip_rt_update_pmtu). The same topology in network
// namespaces and in podwire; the frames on both ends compared field by field (length, DF, MF,
// offset, TTL, ICMP type/code/next-hop MTU), the datagrams received, and the learned PMTU.
//
//   a: eth0 10.1.0.2/24 ══ veth ══ ra 10.1.0.1/24 [r, ip_forward=1] rb 10.2.0.1/24 mtu 1400 ══ veth ══ b: eth0 10.2.0.2/24 mtu 1400
//
// a sends, from default UDP sockets (IP_PMTUDISC_WANT): 3000 bytes (does not fit: DF clear, cut at a
// for 1500 and again for 1400), then 1472 bytes twice (fits a's MTU: DF set; r answers fragmentation
// needed, mtu 1400; the second one, past the learned PMTU, leaves a cut for 1400 without DF).
// With conntrack at r (nf_defrag_ipv4) r reassembles and cuts the whole datagram again.
//
//   VXLAN: pa 10.244.0.2 ══ n1 cni0-less veth, flannel.1 (1450) ══ underlay 10.0.0.1 ⇄ 10.0.0.2 ══ n2 flannel.1 ══ pb 10.244.1.2
// pa sends 3000 bytes: cut for 1450 at pa, each fragment its own VXLAN packet (outer 1494, DF clear), pb reassembles.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatPmtuCache } from '../../src/net/ip-output.js';
import type { Namespace } from '../../src/net/namespace.js';
import type { Packet } from '../../src/packet/packet.js';
import { parseFrame } from '../../src/packet/parse.js';
import { serializeFrame } from '../../src/packet/serialize.js';
import { UdpLayer } from '../../src/transport/udp.js';
import type { NetDevice } from '../../src/link/device.js';
import { VxlanDevice } from '../../src/link/vxlan.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { IP_DF, IP_MF } from '../../src/wire/types.js';
import { ip as ipOf, Lab } from '../net/harness.js';
import { findProgram, ip, killAll, NetnsSet, netnsSkipReason, nsExec, nsSpawn, nsSysctl, readPcap, sleep, startTcpdump, stopChild, type Child } from '../helpers/netns.js';

const skip = netnsSkipReason() ?? (findProgram('iptables') === null ? 'needs iptables' : null);
const PY = findProgram('python3')!;

/** One frame as compared: IPv4 only (ARP and the priming traffic filtered by the caller). */
function row(p: Packet): string {
  const h = p.ip!;
  let s = `${formatIpv4(h.src)}>${formatIpv4(h.dst)} len=${h.totalLength} df=${(h.flags & IP_DF) !== 0 ? 1 : 0} mf=${(h.flags & IP_MF) !== 0 ? 1 : 0} off=${h.fragOffset} ttl=${h.ttl}`;
  if (p.icmp !== null) s += ` icmp=${p.icmp.type}/${p.icmp.code} mtu=${p.icmp.rest & 0xffff}`;
  if (p.vxlan !== null && p.inner?.ip) s += ` [${row(p.inner)}]`;
  return s;
}

/** The rows of a pcap, only UDP/ICMP-error frames of the experiment (no ARP, no echo). */
function kernelRows(file: string): string[] {
  return readPcap(file, 'x')
    .map((f) => parseFrame(f.bytes))
    .filter((p) => p.ip !== null && (p.icmp === null || p.icmp.type === 3))
    .map(row);
}

const RECV = `
import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("0.0.0.0",9000)); s.settimeout(2)
try:
  while True:
    d,a=s.recvfrom(70000); print(len(d), flush=True)
except Exception: pass`;

const SEND = (dst: string, sizes: number[]) => `
import socket,time
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
for n in [${sizes.join(',')}]:
  u.sendto(b"x"*n,("${dst}",9000)); time.sleep(0.15)`;

/** Runs the sender in `src` against a receiver in `dst`, capturing on the given interfaces. */
async function kernelRun(dir: string, src: string, dst: string, dstAddr: string, sizes: number[], caps: [string, string][]): Promise<{ rows: string[][]; got: number[] }> {
  const tds = [];
  for (const [ns, dev] of caps) tds.push(await startTcpdump(ns, dev, join(dir, `${ns}-${dev}.pcap`)));
  const rx: Child = nsSpawn(dst, PY, ['-c', RECV]);
  await sleep(300);
  nsExec(src, PY, ['-c', SEND(dstAddr, sizes)], { timeoutMs: 10_000 });
  await rx.exited(8000);
  await sleep(200);
  for (const t of tds) await stopChild(t.child);
  return { rows: tds.map((t) => kernelRows(t.file)), got: rx.stdout().split('\n').filter((l) => l !== '').map(Number) };
}

/** Podwire's rows on a device (both directions, in event order), serialized when seen and parsed back as a capture would. */
function podwireTap(dev: NetDevice): string[] {
  const rows: string[] = [];
  dev.tap.connect((_d, pkt) => {
    if (pkt.ip === null) return;
    const p = parseFrame(serializeFrame(pkt));
    if (p.icmp === null || p.icmp.type === 3) rows.push(row(p));
  });
  return rows;
}

function podwireRouter(conntrack: boolean) {
  const lab = new Lab();
  const a = lab.host('a');
  const r = lab.host('r', true);
  const b = lab.host('b');
  const [ea] = lab.veth(a, 'eth0', '10.1.0.2/24', r, 'ra', '10.1.0.1/24');
  const [rb, eb] = lab.veth(r, 'rb', '10.2.0.1/24', b, 'eth0', '10.2.0.2/24');
  rb.mtu = eb.mtu = 1400;
  a.addRoute({ dst: 0, prefix: 0, gateway: ipOf('10.1.0.1'), dev: ea });
  b.addRoute({ dst: 0, prefix: 0, gateway: ipOf('10.2.0.1'), dev: eb });
  if (conntrack) r.enableNetfilter();
  return { lab, a, r, b, ea, eb };
}

/** Sends the sizes from a fresh socket in `src` (one per 150 ms), counting what `dst`'s port 9000 receives. */
function podwireRun(lab: Lab, src: Namespace, dst: Namespace, dstAddr: string, sizes: number[], capture: () => void): number[] {
  const got: number[] = [];
  const rx = new UdpLayer(dst).socket().bind(9000);
  rx.onMessage = (_d, len) => got.push(len);
  const tx = new UdpLayer(src).socket();
  // Prime the neighbours (the kernel run pings first), then capture.
  tx.sendTo(ipOf(dstAddr), 9001, 1);
  lab.sim.run();
  capture();
  sizes.forEach((n, i) => lab.sim.schedule(i * 150e6, () => tx.sendTo(ipOf(dstAddr), 9000, n)));
  lab.sim.run();
  return got;
}

describe.skipIf(skip !== null)(`IPv4 fragmentation and PMTU: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const set = new NetnsSet('pwf');
  const dir = mkdtempSync(join(tmpdir(), 'pwf-'));
  afterAll(async () => {
    await killAll();
    set.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  function kernelRouter(tag: string, conntrack: boolean) {
    const a = set.create(`${tag}a`);
    const r = set.create(`${tag}r`);
    const b = set.create(`${tag}b`);
    const id = `${tag}${process.pid % 100000}`;
    ip('link', 'add', `pfa${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', a);
    ip('link', 'set', `pfa${id}`, 'netns', r, 'name', 'ra');
    ip('link', 'add', `pfb${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b);
    ip('link', 'set', `pfb${id}`, 'netns', r, 'name', 'rb');
    ip('-n', a, 'addr', 'add', '10.1.0.2/24', 'dev', 'eth0');
    ip('-n', a, 'link', 'set', 'eth0', 'up');
    ip('-n', a, 'route', 'add', 'default', 'via', '10.1.0.1');
    ip('-n', r, 'addr', 'add', '10.1.0.1/24', 'dev', 'ra');
    ip('-n', r, 'link', 'set', 'ra', 'up');
    ip('-n', r, 'addr', 'add', '10.2.0.1/24', 'dev', 'rb');
    ip('-n', r, 'link', 'set', 'rb', 'up', 'mtu', '1400');
    ip('-n', b, 'addr', 'add', '10.2.0.2/24', 'dev', 'eth0');
    ip('-n', b, 'link', 'set', 'eth0', 'up', 'mtu', '1400');
    ip('-n', b, 'route', 'add', 'default', 'via', '10.2.0.1');
    nsSysctl(r, { 'net.ipv4.ip_forward': 1 });
    if (conntrack) nsExec(r, findProgram('iptables')!, ['-A', 'FORWARD', '-m', 'conntrack', '--ctstate', 'NEW,ESTABLISHED', '-j', 'ACCEPT']);
    nsExec(a, findProgram('ping')!, ['-c', '1', '-W', '1', '10.2.0.2']);
    return { a, r, b };
  }

  for (const conntrack of [false, true]) {
    it(`cuts, forwards${conntrack ? ' (reassembled and cut again by conntrack)' : ''}, answers DF with frag-needed and learns the PMTU`, async () => {
      const k = kernelRouter(conntrack ? 'c' : 'p', conntrack);
      const sizes = [3000, 1472, 1472];
      const kr = await kernelRun(dir, k.a, k.b, '10.2.0.2', sizes, [[k.a, 'eth0'], [k.b, 'eth0']]);
      const route = ip('-n', k.a, 'route', 'get', '10.2.0.2');
      expect(route).toMatch(/cache expires 5\d\dsec mtu 1400/);

      const w = podwireRouter(conntrack);
      let pa: string[] = [];
      let pb: string[] = [];
      const got = podwireRun(w.lab, w.a, w.b, '10.2.0.2', sizes, () => {
        pa = podwireTap(w.ea);
        pb = podwireTap(w.eb);
      });
      expect(pa).toEqual(kr.rows[0]);
      expect(pb).toEqual(kr.rows[1]);
      expect(got).toEqual(kr.got);
      expect(kr.got).toEqual([3000, 1472]);
      // What the kernel did at b: without conntrack each 1500-byte fragment cut in two; with it, 3028 cut anew.
      expect(kr.rows[1]!.slice(0, conntrack ? 3 : 5).map((r) => /len=(\d+)/.exec(r)![1])).toEqual(conntrack ? ['1396', '1396', '276'] : ['1396', '124', '1396', '124', '68']);
      expect(w.a.mtuFor(ipOf('10.2.0.2'))).toBe(1400);
      expect(formatPmtuCache(w.a, ipOf('10.2.0.2'))).toMatch(/^cache expires 5\d\dsec mtu 1400$/);
    }, 30_000);
  }

  it('through VXLAN: each fragment its own VXLAN packet, reassembled by the receiving pod', async () => {
    // --- kernel
    const n1 = set.create('vn1');
    const n2 = set.create('vn2');
    const pa = set.create('vpa');
    const pb = set.create('vpb');
    const id = process.pid % 100000;
    ip('link', 'add', `pfu${id}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n2);
    ip('link', 'set', `pfu${id}`, 'netns', n1, 'name', 'eth0');
    const nodes = [
      [n1, '10.0.0.1', '10.0.0.2', pa, '10.244.0', '10.244.1'],
      [n2, '10.0.0.2', '10.0.0.1', pb, '10.244.1', '10.244.0'],
    ] as const;
    for (const [n, self, peer, pod, net, other] of nodes) {
      ip('-n', n, 'addr', 'add', `${self}/24`, 'dev', 'eth0');
      ip('-n', n, 'link', 'set', 'eth0', 'up');
      ip('-n', n, 'link', 'add', 'flannel.1', 'type', 'vxlan', 'id', '1', 'local', self, 'dev', 'eth0', 'dstport', '8472', 'nolearning');
      ip('-n', n, 'link', 'set', 'flannel.1', 'address', self === '10.0.0.1' ? '02:00:00:00:01:01' : '02:00:00:00:02:02', 'mtu', '1450', 'up');
      ip('-n', n, 'addr', 'add', `${net}.0/32`, 'dev', 'flannel.1');
      const peerMac = self === '10.0.0.1' ? '02:00:00:00:02:02' : '02:00:00:00:01:01';
      ip('-n', n, 'neigh', 'add', `${other}.0`, 'lladdr', peerMac, 'dev', 'flannel.1', 'nud', 'permanent');
      nsExec(n, findProgram('bridge')!, ['fdb', 'append', peerMac, 'dev', 'flannel.1', 'dst', peer]);
      ip('-n', n, 'route', 'add', `${other}.0/24`, 'via', `${other}.0`, 'dev', 'flannel.1', 'onlink');
      ip('link', 'add', `pfp${id}${self.slice(-1)}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod);
      ip('link', 'set', `pfp${id}${self.slice(-1)}`, 'netns', n, 'name', 'vpod', 'mtu', '1450');
      ip('-n', n, 'addr', 'add', `${net}.1/24`, 'dev', 'vpod');
      ip('-n', n, 'link', 'set', 'vpod', 'up');
      ip('-n', pod, 'addr', 'add', `${net}.2/24`, 'dev', 'eth0');
      ip('-n', pod, 'link', 'set', 'eth0', 'up', 'mtu', '1450');
      ip('-n', pod, 'route', 'add', 'default', 'via', `${net}.1`);
      nsSysctl(n, { 'net.ipv4.ip_forward': 1 });
    }
    nsExec(pa, findProgram('ping')!, ['-c', '1', '-W', '1', '10.244.1.2']);
    const kr = await kernelRun(dir, pa, pb, '10.244.1.2', [3000], [[n1, 'eth0'], [pb, 'eth0']]);
    expect(kr.got).toEqual([3000]);
    // Outer length @ inner offset: 3028 cut for 1450 (1444, 1444, 180), each + 50 bytes of VXLAN.
    expect(kr.rows[0]!.map((r) => /^\S+ len=(\d+).*off=(\d+) ttl=\d+\]$/.exec(r)?.slice(1).join('@'))).toEqual(['1494@0', '1494@178', '230@356']);

    // --- podwire
    const lab = new Lab();
    const [wn1, wn2, wpa, wpb] = [lab.host('n1', true), lab.host('n2', true), lab.host('pa'), lab.host('pb')];
    const [u1, u2] = lab.veth(wn1, 'eth0', '10.0.0.1/24', wn2, 'eth0', '10.0.0.2/24');
    const pods: [Namespace, Namespace, string, string, number, number, number][] = [
      [wn1, wpa, '10.244.0', '10.244.1', 0x020000000101, 0x020000000202, ipOf('10.0.0.2')],
      [wn2, wpb, '10.244.1', '10.244.0', 0x020000000202, 0x020000000101, ipOf('10.0.0.1')],
    ];
    for (const [n, pod, net, other, mac, peerMac, peer] of pods) {
      const vx = new VxlanDevice(lab.sim, 'flannel.1', mac, 1, n === wn1 ? ipOf('10.0.0.1') : ipOf('10.0.0.2'), 8472, 7, 1450);
      n.addDevice(vx);
      vx.attach(n);
      vx.fdb.set(peerMac, peer);
      n.addAddress(vx, ipOf(`${net}.0`), 32);
      n.neigh.addPermanent(vx, ipOf(`${other}.0`), peerMac);
      n.addRoute({ dst: ipOf(`${other}.0`), prefix: 24, gateway: ipOf(`${other}.0`), dev: vx, onlink: true });
      const [vp, pe] = lab.veth(n, 'vpod', `${net}.1/24`, pod, 'eth0', `${net}.2/24`);
      vp.mtu = pe.mtu = 1450;
      pod.addRoute({ dst: 0, prefix: 0, gateway: ipOf(`${net}.1`), dev: pe });
    }
    let under: string[] = [];
    let atPod: string[] = [];
    const got = podwireRun(lab, wpa, wpb, '10.244.1.2', [3000], () => {
      under = podwireTap(u1);
      atPod = podwireTap(wpb.device('eth0')!);
    });
    expect(got).toEqual(kr.got);
    // The outer UDP source port is a hash (different in each); the rows compare IP fields only.
    expect(under).toEqual(kr.rows[0]);
    expect(atPod).toEqual(kr.rows[1]);
    void u2;
  }, 30_000);
});
