// bench/ct-cold.mjs — conntrack alone with the tables cold in cache, as the big cluster's 1,000 nodes have
// them: M tables (a client node and a backend node per connection, picked at random), each connection a
// DNATed TCP entry on both nodes and a VXLAN-like UDP entry each way, its packets interleaved with those
// of the other connections in flight: SYN, SYN-ACK, ACK, request, response, ACK, FIN, ACK, FIN, ACK, each
// through both nodes (`in`, DNAT / un-DNAT rewrite, confirm). CPU ms (process.cpuUsage) of the loop.
//
//   node bench/ct-cold.mjs [TREE] [M] [CONNS]      (TREE: a built tree, default this one; M tables,
//                                                   default 1000; CONNS connections, default 200000)
import { resolve } from 'node:path';
const dir = resolve(process.argv[2] ?? '.');
const M = Number(process.argv[3] ?? 1000);
const CONNS = Number(process.argv[4] ?? 200000);
const { Conntrack, NatManip } = await import(dir + '/dist/src/netfilter/conntrack.js');
const { Packet } = await import(dir + '/dist/src/packet/packet.js');
const { RngFactory } = await import(dir + '/dist/src/core/rng.js');
const tables = [];
for (let m = 0; m < M; m++) tables.push(new Conntrack(new RngFactory(m + 1).stream('nat'), {}));
const mkTcp = () => { const p = new Packet(); p.ip = { tos: 0, totalLength: 40, id: 1, flags: 2, fragOffset: 0, ttl: 64, protocol: 6, checksum: null, src: 0, dst: 0, options: null };
  p.tcp = { srcPort: 0, dstPort: 0, seq: 1, ack: 0, flags: 0, window: 65535, checksum: 0, urgent: 0, options: [] }; return p; };
const mkUdp = () => { const p = new Packet(); p.ip = { tos: 0, totalLength: 90, id: 1, flags: 2, fragOffset: 0, ttl: 64, protocol: 17, checksum: null, src: 0, dst: 0, options: null };
  p.udp = { srcPort: 0, dstPort: 4789, length: 70, checksum: 0 }; return p; };
const VIP = 0x0a600001;
const r = { minIp: 0, maxIp: 0, ports: { min: 8080, max: 8080 }, random: false, randomFully: false, persistent: false };
// the steps of a connection: [flags, dir 0 client->server / 1 back]
const STEPS = [[2, 0], [0x12, 1], [0x10, 0], [0x18, 0], [0x18, 1], [0x10, 0], [0x11, 0], [0x10, 1], [0x11, 1], [0x10, 0]];
const tcp = mkTcp(), udp = mkUdp();
let rs = 12345;
const rnd = (n) => { rs = (Math.imul(rs, 1103515245) + 12345) >>> 0; return (rs >>> 8) % n; };
// one packet of connection c in direction d through node table t (dnat: the client node)
function through(t, c, d, flags, now, client) {
  const p = tcp;
  p.ct = null;
  p.ip.src = d === 0 ? c.cip : c.be; p.ip.dst = d === 0 ? (client ? VIP : c.be) : c.cip;
  p.tcp.srcPort = d === 0 ? c.sport : 8080; p.tcp.dstPort = d === 0 ? (client ? 80 : 8080) : c.sport; p.tcp.flags = flags;
  t.in(p, now);
  if (p.ct !== null && client && d === 0 && !t.natDone(p.ct, NatManip.DST)) { r.minIp = r.maxIp = c.be; t.setupNat(p.ct, NatManip.DST, r, now); }
  if (p.ct !== null) { t.natPacket(p.ct, p, NatManip.DST); t.natPacket(p.ct, p, NatManip.SRC); }
  t.confirm(p, now);
  // the VXLAN outer packet: out of the sender's node, into the other one
  const u = udp;
  u.ct = null; u.ip.src = d === 0 ? c.aNode : c.bNode; u.ip.dst = d === 0 ? c.bNode : c.aNode; u.udp.srcPort = c.uport;
  t.in(u, now); t.confirm(u, now);
}
const inflight = [];
let now = 4e9;
const c0 = process.cpuUsage();
for (let i = 0; i < CONNS; i++) {
  now += 200000; // 5,000 connections per simulated second: TIME_WAIT entries pile up and expire
  const a = rnd(M), b = (a + 1 + rnd(M - 1)) % M;
  inflight.push({ a: tables[a], b: tables[b], aNode: 0xac120000 + a, bNode: 0xac120000 + b, cip: 0x0af40000 + (a << 8) + 2 + (i & 7), be: 0x0af40000 + (b << 8) + 5, sport: 32768 + (i % 28000), uport: 10000 + rnd(50000), step: 0 });
  // advance every connection in flight by one step (the oldest finish)
  for (let k = inflight.length - 1; k >= 0; k--) {
    const c = inflight[k];
    const [flags, d] = STEPS[c.step];
    if (d === 0) { through(c.a, c, 0, flags, now, true); through(c.b, c, 0, flags, now, false); }
    else { through(c.b, c, 1, flags, now, false); through(c.a, c, 1, flags, now, true); }
    if (++c.step === STEPS.length) inflight.splice(k, 1);
  }
}
const c1 = process.cpuUsage(c0);
let n = 0;
for (const t of tables) n += t.count;
console.log(process.argv[2] ?? '.', 'M', M, 'conns', CONNS, 'cpu ms', ((c1.user + c1.system) / 1000).toFixed(0), 'entries', n, 'drops', tables.reduce((s, t) => s + t.stats.drop, 0));
