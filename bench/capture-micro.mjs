// bench/capture-micro — the capture path alone: 800,000 S1-like UDP frames (106 B, zero payload) each written twice to a PcapngWriter (departure + arrival at the wire peer).
// Prints the CPU of the process (writer thread included) and of the simulation thread alone (this thread: /proc/thread-self/schedstat), both around the loop and close().
// usage: npm run build && node bench/capture-micro.mjs TREE MODE [ROUNDS]   (TREE: an absolute path to a built checkout)
//   memo    writePacketRecord(departure, LINK_SAVE) then writePacketRecord(arrival, peer): the writer's calls alone
//   nomemo  the same without the link argument (every frame serialized); sync: memo with the synchronous writer
//   tap     as S4 connected its devices before session 20: a TraceSource per device (fire3) and a closure calling writePacketRecord
//   point   capture points (trees from session 20 on): the device's `capture` field, departed()/arrived()
//   none    the point loop with no capture hung (d.capture null): the loop's own cost, to subtract from point's
//   expand  point's records in one 128 MiB chunk, no writer thread; the file on /dev/shm: close() expands
//           and writes them on this thread, so `expand` (close's CPU) is the writer thread's work alone
// tap and point go through 4 interfaces like S1's hop pairs (ea out, ra in, rb out, eb in: 400,000 × 4 captures).
// ROUNDS (default 1): the whole measurement repeated in this process, a line each (the first includes the JIT's warm-up).
const [tree, mode, roundsArg = '1'] = process.argv.slice(2);
const { readFileSync } = await import('node:fs');
const threadCpu = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e9;
const { PcapngWriter } = await import(`${tree}/dist/src/capture/pcapng.js`);
const { Packet } = await import(`${tree}/dist/src/packet/packet.js`);
const { TraceSource } = await import(`${tree}/dist/src/core/trace.js`);
const { mkdtempSync, rmSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const mk = (i) => { const p = new Packet(); p.eth = { dst: 0x020000000002, src: 0x020000000001, etherType: 0x0800 };
  p.ip = { version: 4, ihl: 5, tos: 0, totalLength: 92, id: i & 0xffff, flags: 2, fragOffset: 0, ttl: 64, protocol: 17, checksum: null, src: 0x0a010101, dst: 0x0a010202, options: null };
  p.udp = { srcPort: 40000, dstPort: 9, length: 72, checksum: null }; p.payloadLength = 64; return p; };
const pk = Array.from({ length: 1024 }, (_, i) => mk(i));
for (let round = 0; round < Number(roundsArg); round++) {
  const expand = mode === 'expand';
  const dir = mkdtempSync(expand ? '/dev/shm/capser-micro-' : `${tmpdir()}/capser-micro-`);
  const w = new PcapngWriter(`${dir}/m.pcapng`, { application: 'x', ...(mode === 'sync' ? { sync: true } : {}), ...(expand ? { slots: 2, slotSize: 128 << 20, startAt: 128 << 20 } : {}) });
  for (const n of ['a', 'b', 'c', 'd']) w.addInterface(n);
  const clock = { now: 0 };
  const devs = [0, 1, 2, 3].map(() => ({ capture: null, tap: new TraceSource() }));
  if (mode === 'tap') devs.forEach((d, id) => d.tap.connect((_d, pkt, dir) => w.writePacketRecord(id, clock.now, pkt, dir === 'out' ? -2 : id ^ 1)));
  if (mode === 'point' || expand) devs.forEach((d, id) => { d.capture = w.point(id, clock, id ^ 1); });
  const [d0, d1, d2, d3] = devs;
  const c0 = process.cpuUsage();
  const t0 = threadCpu();
  if (mode === 'tap' || mode === 'point' || mode === 'none' || expand) {
    // The device's call sites (link/device.ts noteTx and receive) as they are in each tree.
    const out = (d, p) => { const c = d.capture; if (c !== null) c.departed(p); if (d.tap.connected) d.tap.fire3(d, p, 'out'); };
    const inn = (d, p) => { const c = d.capture; if (c !== null) c.arrived(p); if (d.tap.connected) d.tap.fire3(d, p, 'in'); };
    for (let i = 0; i < 400_000; i++) {
      const p = pk[i & 1023];
      clock.now = i * 4; out(d0, p);
      clock.now++; inn(d1, p);
      clock.now++; out(d2, p);
      clock.now++; inn(d3, p);
    }
  } else
    for (let i = 0; i < 800_000; i++) {
      const p = pk[i & 1023];
      if (mode === 'memo' || mode === 'sync') { w.writePacketRecord(0, i, p, -2); w.writePacketRecord(1, i + 1, p, 0); }
      else { w.writePacketRecord(0, i, p); w.writePacketRecord(1, i + 1, p); }
    }
  const tc = threadCpu();
  w.close();
  const t = threadCpu() - t0;
  if (expand) console.log('expand', (threadCpu() - tc).toFixed(3), 'records', (tc - t0).toFixed(3));
  const c = process.cpuUsage(c0);
  rmSync(dir, { recursive: true, force: true });
  const ts = w.asyncSink?.threadStats; // the writer thread's own figures (trees from session 19 on)
  const th = ts ? ` writer-thread ${(ts[6] / 1e3).toFixed(3)} (expanding+writing ${(ts[4] / 1e3).toFixed(3)}, write(2) ${(ts[0] / 1e3).toFixed(3)}) stalls ${w.asyncSink.stalls} (${w.asyncSink.stallMs.toFixed(0)} ms) finish ${w.asyncSink.finishMs.toFixed(0)} ms` : '';
  console.log(mode, 'process', ((c.user + c.system) / 1e6).toFixed(3), 'sim-thread', t.toFixed(3) + th, 'packets', w.packetCount, 'hits', w.memoHits);
}
