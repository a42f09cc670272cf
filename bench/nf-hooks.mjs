// bench/nf-hooks — the cost of one netfilter hook call alone, per hook, on H1's node1 ruleset (warm
// namespace, one established flow through the ClusterIP): the packet has passed PREROUTING once (its
// conntrack entry attached), then one hook is called on it N times (FORWARD and POSTROUTING change
// nothing but counters; a repeated PREROUTING finds the entry attached and re-applies its DNAT).
// Also the VXLAN-like INPUT/OUTPUT of a node (a UDP flow never replied: ctstate NEW at every packet).
// CPU ns per call (process.cpuUsage). Plain ESM over a built tree:
//
//   node bench/nf-hooks.mjs <tree>        (N from the environment, default 1000000; ONLY=IN: that hook alone)
import { resolve } from 'node:path';
const tree = resolve(process.argv[2] ?? '.');
const { CIP, node1Netfilter } = await import('./nf-h1-node1.mjs');
const { nf, NfHook, Packet, pkt, fwd, clock } = await node1Netfilter(tree);
// 200 flows established (a SYN and its answer), so the walks are generated as in H1.
const flows = [];
for (let f = 0; f < 2000; f++) {
  const src = 0x0af40004 + (f % 200), sport = 10000 + ((f / 200) | 0);
  const s = pkt(src, sport, CIP, 80, 2); fwd(s, 'cni0', 'flannel.1');
  fwd(pkt(s.ip.dst, s.tcp.dstPort, src, sport, 0x12), 'flannel.1', 'cni0');
  flows.push([src, sport, s.ip.dst, s.tcp.dstPort]);
  clock.t += 1000;
}
const udpPkt = (src, sport, dst, dport) => {
  const p = new Packet();
  p.ip = { tos: 0, totalLength: 110, id: 1, flags: 2, fragOffset: 0, ttl: 64, protocol: 17, checksum: null, src, dst, options: null };
  p.udp = { srcPort: sport, dstPort: dport, length: 90, checksum: 0 };
  return p;
};
const N = Number(process.env.N ?? 1000000);
const ONLY = process.env.ONLY ?? '';
function time(name, p, h, i, o) {
  if (ONLY !== '' && ONLY !== name) return NaN;
  for (let k = 0; k < 20000; k++) nf.hook(h, p, i, o);
  const c0 = process.cpuUsage();
  for (let k = 0; k < N; k++) nf.hook(h, p, i, o);
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / N;
}
const [src, sport, dst, dport] = flows[0];
// Each hook's packets; every round times each hook once, the least of REPS rounds is printed (the
// machine is shared: the least is the one least disturbed).
const a = pkt(src, sport, CIP, 80, 0x10);
nf.hook(NfHook.PREROUTING, a, 'cni0', null);
const b = pkt(dst, dport, src, sport, 0x10);
nf.hook(NfHook.PREROUTING, b, 'flannel.1', null);
// A VXLAN datagram out and one in (never replied: NEW at every packet).
const vo = udpPkt(0x0a640b02, 40000, 0x0a640b03, 8472);
nf.hook(NfHook.OUTPUT, vo, null, 'eth0');
nf.hook(NfHook.POSTROUTING, vo, null, 'eth0');
const vi = udpPkt(0x0a640b03, 50000, 0x0a640b02, 8472);
nf.hook(NfHook.PREROUTING, vi, 'eth0', null);
const cases = [
  ['PRE', a, NfHook.PREROUTING, 'cni0', null],
  ['FWD', a, NfHook.FORWARD, 'cni0', 'flannel.1'],
  ['POST', a, NfHook.POSTROUTING, null, 'flannel.1'],
  ['FWDr', b, NfHook.FORWARD, 'flannel.1', 'cni0'],
  ['POSTr', b, NfHook.POSTROUTING, null, 'cni0'],
  ['OUT', vo, NfHook.OUTPUT, null, 'eth0'],
  ['IN', vi, NfHook.INPUT, 'eth0', null],
];
const REPS = Number(process.env.REPS ?? 5);
const best = cases.map(() => Infinity);
for (let rep = 0; rep < REPS; rep++) cases.forEach(([name, p, h, i, o], j) => (best[j] = Math.min(best[j], time(name, p, h, i, o))));
console.log(`N=${N} least of ${REPS}, ns/call: ${cases.map(([name], j) => `${name} ${best[j].toFixed(1)}`).join('  ')}  sum ${best.reduce((x, y) => x + y, 0).toFixed(0)}`);
