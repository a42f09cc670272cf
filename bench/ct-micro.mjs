// bench/ct-micro.mjs — conntrack alone, CPU ms: 300 k new DNATed TCP connections from one client to 100 VIPs
// (300 backends), a VXLAN-like UDP entry each, and 8 established packets of recent connections per new one
// (tables of ~180 k entries, as node-1's in the big cluster). Usage: node bench/ct-micro.mjs [TREE] [STEP_NS] (a built
// tree; STEP_NS between new connections, default 1000: nothing expires; 2000000 spans 600 s, so the UDP entries
// expire after 30 s and the table reuses them, and the table stays at ~15 k UDP + 150 k TCP entries).
const dir = new URL(`file://${process.argv[2] ?? process.cwd()}/`).href.replace(/\/$/, '');
const { Conntrack, NatManip } = await import(dir + '/dist/src/netfilter/conntrack.js');
const { Packet } = await import(dir + '/dist/src/packet/packet.js');
const { RngFactory } = await import(dir + '/dist/src/core/rng.js');
const mk = (proto, src, sport, dst, dport, flags) => { const p = new Packet(); p.ip = { tos: 0, totalLength: 40, id: 1, flags: 2, fragOffset: 0, ttl: 64, protocol: proto, checksum: null, src, dst, options: null };
  if (proto === 6) p.tcp = { srcPort: sport, dstPort: dport, seq: 1, ack: 0, flags, window: 65535, checksum: 0, urgent: 0, options: [] }; else p.udp = { srcPort: sport, dstPort: dport, length: 18, checksum: 0 }; return p; };
const t = new Conntrack(new RngFactory(1).stream('nat'), { max: 1e7 });
const r = { minIp: 0, maxIp: 0, ports: { min: 8080, max: 8080 }, random: false, randomFully: false, persistent: false };
const c0 = process.cpuUsage();
let now = 4e9;
const step = Number(process.argv[3] ?? 1000);
const N = 300000;
for (let i = 0; i < N; i++) {
  now += step;
  const sport = 32768 + (i % 28000), svc = 0x0a600000 + (i % 100), be = 0x0af40000 + ((i % 300) << 8) + 5;
  const syn = mk(6, 0x0af40105, sport, svc, 80, 2);
  t.in(syn, now); r.minIp = r.maxIp = be; if (syn.ct && !t.natDone(syn.ct, NatManip.DST)) t.setupNat(syn.ct, NatManip.DST, r, now); t.confirm(syn, now);
  // UDP encap flow per connection
  const u = mk(17, 0xac120002, 10000 + (i % 50000), 0xac120000 + (i % 300), 4789, 0); t.in(u, now); t.confirm(u, now);
  // a few packets of this and recent connections
  for (let k = 0; k < 8; k++) {
    const j = i - (k * 13) % 100; if (j < 0) continue;
    const sp = 32768 + (j % 28000);
    const p = (k & 1) ? mk(6, 0x0af40000 + ((j % 300) << 8) + 5, 8080, 0x0af40105, sp, 0x10) : mk(6, 0x0af40105, sp, 0x0a600000 + (j % 100), 80, 0x10);
    t.in(p, now);
  }
}
const c1 = process.cpuUsage(c0);
console.log(process.argv[2] ?? '.', 'step', step, 'cpu ms', ((c1.user + c1.system) / 1000).toFixed(0), 'entries', t.count);
