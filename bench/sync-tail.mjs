// bench/sync-tail — the capture writer's disk pattern without the simulation (session 31): 224 MiB in 1 MiB
// write(2)s paced at RATE MB/s (a spin between writes, as the expander's CPU), periodic fdatasyncs on
// libuv's pool every EVERY MiB, then the final fsync; prints the tail after the last write (what finish()
// waits for on the disk). Strategies: one (one sync out at a time, the final fsync after it: the writer
// before session 31), onec (one at a time, the final fsync at once), multi (up to MAX out, wait then fsync),
// multic (up to MAX out, the final fsync at once: the writer since session 31), none (only the final fsync).
// The file goes to TMPDIR. Write a 224 MiB file first and delete it (a run of this) so that the page cache
// gets warm pages: a cold run's writes take 2–10 ms a MiB (bench/cold-memory.mjs) and hide the tail.
//
//   node bench/sync-tail.mjs [STRATEGY=multic] [RATE=750] [MIB=224] [EVERY=8] [MAX=3]
import { closeSync, fdatasync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [strategy = 'multic', rate = '750', mib = '224', every = '8', max = '3'] = process.argv.slice(2);
const total = Number(mib) << 20;
const syncEvery = Number(every) << 20;
const maxOut = strategy === 'one' || strategy === 'onec' ? 1 : strategy === 'none' ? 0 : Number(max);
const path = join(tmpdir(), `podwire-sync-tail-${process.pid}`);
const fd = openSync(path, 'w');
const buf = Buffer.alloc(1 << 20);
for (let i = 0; i < buf.length; i += 64) buf[i] = i & 255;
const bytesPerMs = Number(rate) * 1e3;
let out = 0;
let unsynced = 0;
let syncs = 0;
let writeMs = 0;
const turn = () => new Promise((r) => setImmediate(r));
const t0 = performance.now();
for (let off = 0; off < total; off += buf.length) {
  const due = t0 + off / bytesPerMs;
  while (performance.now() < due);
  const tw = performance.now();
  let o = 0;
  while (o < buf.length) o += writeSync(fd, buf, o, buf.length - o);
  writeMs += performance.now() - tw;
  unsynced += buf.length;
  if (unsynced >= syncEvery && out < maxOut) {
    unsynced = 0;
    out++;
    syncs++;
    fdatasync(fd, (e) => {
      if (e) throw e;
      out--;
    });
  }
  if (out > 0) await turn();
}
const tEnd = performance.now();
if (strategy === 'onec' || strategy === 'multic') {
  fsyncSync(fd);
  while (out > 0) await turn();
} else {
  while (out > 0) await turn();
  fsyncSync(fd);
}
const tail = performance.now() - tEnd;
closeSync(fd);
rmSync(path);
console.log(JSON.stringify({ strategy, rate: Number(rate), maxOut, syncs, produceMs: +(tEnd - t0).toFixed(1), writeMs: +writeMs.toFixed(0), tailMs: +tail.toFixed(1) }));
