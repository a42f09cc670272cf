// bench/ct-equiv.mjs — two built trees' Conntrack side by side (the base's and a changed one): random
// packets (TCP with every flag mix, UDP, ICMP queries, GRE; a few clients and servers, so tuples recur,
// clash, time out, are reaped and recycled) through two tables each, with SNAT bindings and the same
// packet object now and then entering the other table (a packet crossing namespaces). Every in/confirm
// result, the packet's entry (id, status, state, flags, expiry, tuples), direction and rewritten
// headers, the counters, `conntrack -L` / `-S` and the list order must agree; throws at the first
// difference. Not a speed measurement.
//
//   node bench/ct-equiv.mjs BASE_TREE TREE [SEED] [PACKETS] [MAX]   (MAX: nf_conntrack_max, default 300: early drop)
const load = async (d) => ({
  ...(await import(d + '/dist/src/netfilter/conntrack.js')),
  Packet: (await import(d + '/dist/src/packet/packet.js')).Packet,
  Rng: (await import(d + '/dist/src/core/rng.js')).RngFactory,
});
import { resolve } from 'node:path';
const A = await load(resolve(process.argv[2])), B = await load(resolve(process.argv[3] ?? '.'));
const mk = (L, proto, src, sport, dst, dport, flags) => { const p = new L.Packet(); p.ip = { tos: 0, totalLength: 40, id: 1, flags: 2, fragOffset: 0, ttl: 64, protocol: proto, checksum: null, src, dst, options: null };
  if (proto === 6) p.tcp = { srcPort: sport, dstPort: dport, seq: 1, ack: 0, flags, window: 65535, checksum: 0, urgent: 0, options: [] };
  else if (proto === 17) p.udp = { srcPort: sport, dstPort: dport, length: 18, checksum: 0 };
  else if (proto === 1) p.icmp = { type: flags, code: 0, checksum: 0, rest: (sport << 16) >>> 0 };
  return p; };
let seed = Number(process.argv[4] ?? 7);
const rnd = (n) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
const ta = new A.Conntrack(new A.Rng(1).stream('nat'), { max: Number(process.argv[6] ?? 300) }), tb = new B.Conntrack(new B.Rng(1).stream('nat'), { max: Number(process.argv[6] ?? 300) });
const ta2 = new A.Conntrack(new A.Rng(2).stream('nat'), { max: Number(process.argv[6] ?? 300) }), tb2 = new B.Conntrack(new B.Rng(2).stream('nat'), { max: Number(process.argv[6] ?? 300) });
const FL = [2, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x01, 0x00, 0x02 | 0x10];
const r = { minIp: 0x0a0000f0, maxIp: 0x0a0000f3, ports: null, random: false, randomFully: false, persistent: false };
let now = 1e9, n = 0;
const snap = (t, p) => JSON.stringify([p.ct ? [p.ct.id, p.ct.status, p.ct.tcpState, p.ct.tcpSeen, p.ct.expires, p.ct.orig, p.ct.reply] : null, p.ctDir, p.ip.src, p.ip.dst, p.tcp?.srcPort, p.tcp?.dstPort, t.count, t.stats]);
for (let step = 0; step < Number(process.argv[5] ?? 200000); step++) {
  now += rnd(3) === 0 ? rnd(40e9) : rnd(1e6);
  const proto = [6, 6, 6, 17, 17, 1, 47][rnd(7)];
  const c = 0x0a000001 + rnd(4), s = 0x0a000064 + rnd(3), cp = 1000 + rnd(6), sp = [80, 53, 443][rnd(3)];
  const back = rnd(2) === 1;
  const fl = proto === 6 ? FL[rnd(FL.length)] : proto === 1 ? [8, 0, 8][rnd(3)] : 0;
  const args = back ? [proto, s, sp, c, cp, fl] : [proto, c, cp, s, sp, fl];
  const which = rnd(2);
  const [xa, xb] = which ? [ta, tb] : [ta2, tb2];
  const pa = mk(A, ...args), pb = mk(B, ...args);
  const ra = xa.in(pa, now), rb = xb.in(pb, now);
  if (JSON.stringify(ra) !== JSON.stringify(rb)) throw new Error('in result ' + step);
  if (pa.ct && pa.ct.status !== undefined && !(pa.ct.status & 8) && rnd(2)) { xa.setupNat(pa.ct, 0, r, now); xb.setupNat(pb.ct, 0, r, now); }
  if (pa.ct && pa.ct.status !== undefined) { xa.natPacket(pa.ct, pa, 1); xb.natPacket(pb.ct, pb, 1); }
  const ca = xa.confirm(pa, now), cb = xb.confirm(pb, now);
  if (JSON.stringify(ca) !== JSON.stringify(cb)) throw new Error('confirm result ' + step);
  // the same packet object again into the other table sometimes (packets crossing namespaces)
  if (rnd(4) === 0) { const [ya, yb] = which ? [ta2, tb2] : [ta, tb]; ya.in(pa, now); yb.in(pb, now); ya.confirm(pa, now); yb.confirm(pb, now); }
  if (xa.nextId !== xb.nextId || (which ? ta2 : ta).nextId !== (which ? tb2 : tb).nextId) throw new Error(`ids ${step} ${xa.nextId} ${xb.nextId} ${JSON.stringify(args)} ${which}`);
  if (snap(xa, pa) !== snap(xb, pb)) throw new Error(`step ${step}\n${snap(xa, pa)}\n${snap(xb, pb)}`);
  if (step % 5000 === 0) {
    if (A.formatConntrackTable(ta, now) !== B.formatConntrackTable(tb, now) || A.formatConntrackStats(ta2) !== B.formatConntrackStats(tb2)) throw new Error('table ' + step);
    if (JSON.stringify(ta.list().map((e) => [e.id, e.expires, e.status])) !== JSON.stringify(tb.list().map((e) => [e.id, e.expires, e.status]))) throw new Error('list ' + step);
  }
  n++;
}
console.log('equivalent over', n, 'packets; entries', ta.count, ta2.count, 'stats', JSON.stringify(ta.stats));
