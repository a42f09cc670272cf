// bench/ct-per-entry.mjs — heap bytes per conntrack entry: 100 k DNATed TCP entries confirmed after one
// UDP entry (as session 19 s19-ct measured), heapUsed difference / entries.
// Usage: node --expose-gc bench/ct-per-entry.mjs [TREE]   (TREE: a built tree, default the current directory)
const dir = new URL(`file://${process.argv[2] ?? process.cwd()}/`).href.replace(/\/$/, '');
const { Conntrack, NatManip } = await import(dir + '/dist/src/netfilter/conntrack.js');
const { Packet } = await import(dir + '/dist/src/packet/packet.js');
const { RngFactory } = await import(dir + '/dist/src/core/rng.js');
const mk = (proto, src, sport, dst, dport) => {
  const p = new Packet();
  p.ip = { tos: 0, totalLength: 40, id: 1, flags: 2, fragOffset: 0, ttl: 64, protocol: proto, checksum: null, src, dst, options: null };
  if (proto === 6) p.tcp = { srcPort: sport, dstPort: dport, seq: 1, ack: 0, flags: 2, window: 65535, checksum: 0, urgent: 0, options: [] };
  else p.udp = { srcPort: sport, dstPort: dport, length: 18, checksum: 0 };
  return p;
};
const t = new Conntrack(new RngFactory(1).stream('nat'), { max: 1e7 });
const u = mk(17, 0x0a000001, 4789, 0x0a000002, 4789); t.in(u, 3e9); t.confirm(u, 3e9);
const N = 100000;
global.gc(); global.gc(); const m0 = process.memoryUsage().heapUsed;
const r = { minIp: 0x0af50005, maxIp: 0x0af50005, ports: { min: 8080, max: 8080 }, random: false, randomFully: false, persistent: false };
for (let i = 0; i < N; i++) { const p = mk(6, 0x0af40000 + (i % 60000), 10000 + (i % 50000), 0x0a600001 + (i % 97), 80); t.in(p, 4e9); t.setupNat(p.ct, NatManip.DST, r, 4e9); t.confirm(p, 4e9); p.ct = null; }
global.gc(); global.gc(); const m1 = process.memoryUsage().heapUsed;
console.log('entries', t.count, 'bytes/entry', ((m1 - m0) / t.count).toFixed(1));
