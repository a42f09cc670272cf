// bench/nf-cold — nf-micro's forward path with the namespaces cold in cache, as in a big cluster: M
// namespaces (each its own Netfilter, conntrack and counters; the compiled chains shared), F established
// flows each, then N packets through PREROUTING, FORWARD and POSTROUTING of a random namespace and flow.
// CPU ns per packet (process.cpuUsage). Plain ESM over a built tree:
//
//   node bench/nf-cold.mjs <tree> [M] [F]        (N from the environment, default 400000)
import { resolve } from 'node:path';
const tree = resolve(process.argv[2] ?? '.');
const M = Number(process.argv[3] ?? 3000);
const F = Number(process.argv[4] ?? 4);
const { Netfilter, NfHook } = await import(`${tree}/dist/src/netfilter/netfilter.js`);
const { parseIptablesSave } = await import(`${tree}/dist/src/netfilter/iptables-save.js`);
const { RngFactory } = await import(`${tree}/dist/src/core/rng.js`);
const { Packet } = await import(`${tree}/dist/src/packet/packet.js`);
const { RULES, CIP, makePkt } = await import('./nf-h1-node1.mjs');
const rs = parseIptablesSave(RULES, 'node1');
let t = 0;
const nfs = [];
for (let m = 0; m < M; m++) {
  const rf = new RngFactory(m + 1);
  const host = { now: () => t, isLocalAddress: (ip) => ip === 0x0a640b02, masqueradeAddress: () => 0x0af40001, routeMtu: () => 1450, rng: (n) => rf.stream(n) };
  const nf = new Netfilter(host);
  nf.load(rs);
  nfs.push(nf);
}
const pkt = makePkt(Packet);
function fwd(nf, p, i, o) {
  let v = nf.hook(NfHook.PREROUTING, p, i, null); if (v.kind !== 'accept') return v;
  v = nf.hook(NfHook.FORWARD, p, i, o); if (v.kind !== 'accept') return v;
  return nf.hook(NfHook.POSTROUTING, p, null, o);
}
const flows = [];
for (let m = 0; m < M; m++) {
  for (let f = 0; f < F; f++) {
    const src = 0x0af40004 + (f % 200), sport = 10000 + ((f / 200) | 0);
    const s = pkt(src, sport, CIP, 80, 2); fwd(nfs[m], s, 'cni0', 'flannel.1');
    const dst = s.ip.dst, dport = s.tcp.dstPort;
    fwd(nfs[m], pkt(dst, dport, src, sport, 0x12), 'flannel.1', 'cni0');
    flows.push([m, src, sport, dst, dport]);
    t += 1000;
  }
}
let seed = 7; const r = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
const N = Number(process.env.N ?? 400000);
const c2 = process.cpuUsage();
for (let k = 0; k < N; k++) {
  const [m, src, sport, dst, dport] = flows[(r() >>> 8) % flows.length];
  if (k & 1) fwd(nfs[m], pkt(src, sport, CIP, 80, 0x10), 'cni0', 'flannel.1'); else fwd(nfs[m], pkt(dst, dport, src, sport, 0x10), 'flannel.1', 'cni0');
  t += 1000;
}
const c3 = process.cpuUsage(c2);
console.log(`M=${M} F=${F} N=${N} established ${(((c3.user + c3.system) * 1000) / N).toFixed(0)} ns/packet (3 hooks, a random namespace each)`);
