// bench/nf-micro — the netfilter forward path alone: node1's iptables ruleset of bench H1 (kube-proxy
// iptables mode + flannel, as `podwire inspect` prints it), F established TCP flows from a pod to the
// ClusterIP (DNAT), then N packets of random flows and directions through PREROUTING, FORWARD and
// POSTROUTING. CPU ns per packet (process.cpuUsage); Packet records are built in the loop (counted).
// With F = 20000 the conntrack table is as big and as cold as H1's; with F = 200 it stays in cache.
// Plain ESM over a built tree (npx tsc -p tsconfig.json first):
//
//   node bench/nf-micro.mjs <tree> [F]        (N from the environment, default 400000)
import { resolve } from 'node:path';
const tree = resolve(process.argv[2] ?? '.');
const F = Number(process.argv[3] ?? 20000);
const { CIP, node1Netfilter } = await import('./nf-h1-node1.mjs');
const { nf, pkt, fwd, clock } = await node1Netfilter(tree);
const flows = [];
const c0 = process.cpuUsage();
for (let f = 0; f < F; f++) {
  const src = 0x0af40004 + (f % 200), sport = 10000 + ((f / 200) | 0);
  const s = pkt(src, sport, CIP, 80, 2); fwd(s, 'cni0', 'flannel.1');
  const dst = s.ip.dst, dport = s.tcp.dstPort;
  fwd(pkt(dst, dport, src, sport, 0x12), 'flannel.1', 'cni0');
  flows.push([src, sport, dst, dport]);
  clock.t += 1000;
}
const c1 = process.cpuUsage(c0);
let seed = 7; const r = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
const N = Number(process.env.N ?? 400000);
const c2 = process.cpuUsage();
for (let k = 0; k < N; k++) {
  const [src, sport, dst, dport] = flows[(r() >>> 8) % F];
  if (k & 1) fwd(pkt(src, sport, CIP, 80, 0x10), 'cni0', 'flannel.1'); else fwd(pkt(dst, dport, src, sport, 0x10), 'flannel.1', 'cni0');
  clock.t += 1000;
}
const c3 = process.cpuUsage(c2);
console.log(`F=${F} N=${N} setup ${(((c1.user + c1.system) * 1000) / F).toFixed(0)} ns/flow (JIT warm-up included)  established ${(((c3.user + c3.system) * 1000) / N).toFixed(0)} ns/packet (3 hooks)  ct=${nf.conntrack.count}`);
