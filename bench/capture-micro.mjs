// bench/capture-micro — the capture path alone: 800,000 S1-like UDP frames (106 B, zero payload) each written twice to a PcapngWriter (departure + arrival at the wire peer).
// Prints the CPU of the process (writer thread included) and of the simulation thread alone (this thread: /proc/thread-self/schedstat), both around the loop and close().
// usage: npm run build && node bench/capture-micro.mjs TREE memo|nomemo|old|sync   (TREE: an absolute path to a built checkout; "old" calls writePacketRecord without the link argument; "sync" is memo with the synchronous writer)
const [tree, mode] = process.argv.slice(2);
const { readFileSync } = await import('node:fs');
const threadCpu = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e9;
const { PcapngWriter } = await import(`${tree}/dist/src/capture/pcapng.js`);
const { Packet } = await import(`${tree}/dist/src/packet/packet.js`);
const { mkdtempSync, rmSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const dir = mkdtempSync(`${tmpdir()}/capser-micro-`);
const w = new PcapngWriter(`${dir}/m.pcapng`, { application: 'x', ...(mode === 'sync' ? { sync: true } : {}) });
w.addInterface('a'); w.addInterface('b');
const mk = (i) => { const p = new Packet(); p.eth = { dst: 0x020000000002, src: 0x020000000001, etherType: 0x0800 };
  p.ip = { version: 4, ihl: 5, tos: 0, totalLength: 92, id: i & 0xffff, flags: 2, fragOffset: 0, ttl: 64, protocol: 17, checksum: null, src: 0x0a010101, dst: 0x0a010202, options: null };
  p.udp = { srcPort: 40000, dstPort: 9, length: 72, checksum: null }; p.payloadLength = 64; return p; };
const pk = Array.from({ length: 1024 }, (_, i) => mk(i));
const c0 = process.cpuUsage();
const t0 = threadCpu();
for (let i = 0; i < 800_000; i++) {
  const p = pk[i & 1023];
  if (mode === 'memo' || mode === 'sync') { w.writePacketRecord(0, i, p, -2); w.writePacketRecord(1, i + 1, p, 0); }
  else { w.writePacketRecord(0, i, p); w.writePacketRecord(1, i + 1, p); }
}
w.close();
const t = threadCpu() - t0;
const c = process.cpuUsage(c0);
rmSync(dir, { recursive: true, force: true });
const ts = w.asyncSink?.threadStats; // the writer thread's own figures (trees from session 19 on)
const th = ts ? ` writer-thread ${(ts[6] / 1e3).toFixed(3)} (expanding+writing ${(ts[4] / 1e3).toFixed(3)}, write(2) ${(ts[0] / 1e3).toFixed(3)}) stalls ${w.asyncSink.stalls} (${w.asyncSink.stallMs.toFixed(0)} ms) finish ${w.asyncSink.finishMs.toFixed(0)} ms` : '';
console.log(mode, 'process', ((c.user + c.system) / 1e6).toFixed(3), 'sim-thread', t.toFixed(3) + th);
