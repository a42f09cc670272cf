// bench/direct-write — what writing a capture-sized file costs with and without the page cache (session 46, s46-cap: the
// lead of O_DIRECT for the capture file). Writes MIB MiB in 1 MiB writes to a file in DIR (default the OS's tmpdir, where
// capture-cost writes), then fsyncs it and removes it; prints the writes' wall, the fsync's wall and the process's CPU.
//   node bench/direct-write.mjs buffered|direct [QD=1] [MIB=224] [DIR]
// buffered: writeSync from one 1 MiB buffer (the writer thread's way). direct: O_DIRECT with QD writes out at once on
// libuv's pool (fs.write), each from its own 512-aligned buffer: JS cannot ask an ArrayBuffer's address, so the aligned
// offset is found by probing (a 4 KiB O_DIRECT write fails with EINVAL until the offset is aligned; 4080 on glibc's
// mmap'd blocks). O_DIRECT is refused by some filesystems (tmpfs: EINVAL at open).
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const mode = process.argv[2] ?? 'buffered';
const qd = Number(process.argv[3] ?? 1);
const mib = Number(process.argv[4] ?? 224);
const path = join(process.argv[5] ?? tmpdir(), `direct-write-${process.pid}.bin`);
const CHUNK = 1 << 20;
const direct = mode === 'direct';
const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | (direct ? fs.constants.O_DIRECT : 0);
const fd = fs.openSync(path, flags, 0o644);
const bufs = [];
for (let q = 0; q < (direct ? qd : 1); q++) {
  const ab = new ArrayBuffer(CHUNK + 8192);
  let off = 0;
  if (direct) {
    for (off = 0; off < 8192; off += 16) {
      try {
        fs.writeSync(fd, new Uint8Array(ab, off, 4096), 0, 4096, 0);
        break;
      } catch (e) {
        if (e.code !== 'EINVAL') throw e;
      }
    }
    if (off >= 8192) throw new Error('direct-write: no aligned offset found');
  }
  bufs.push(new Uint8Array(ab, off, CHUNK).fill(7));
}
const cpu = () => {
  const r = process.resourceUsage();
  return (r.userCPUTime + r.systemCPUTime) / 1000;
};
const c0 = cpu();
const t0 = performance.now();
if (!direct) {
  for (let i = 0, pos = 0; i < mib; i++) pos += fs.writeSync(fd, bufs[0], 0, CHUNK, pos);
} else {
  let next = 0;
  let done = 0;
  await new Promise((resolve, reject) => {
    const go = (b) => {
      if (next >= mib) return;
      const i = next++;
      fs.write(fd, b, 0, CHUNK, i * CHUNK, (e) => {
        if (e) return reject(e);
        if (++done === mib) resolve();
        else go(b);
      });
    };
    for (const b of bufs) go(b);
  });
}
const t1 = performance.now();
fs.fsyncSync(fd);
const t2 = performance.now();
const c1 = cpu();
fs.closeSync(fd);
fs.unlinkSync(path);
console.log(`${mode}${direct ? ` QD${qd}` : ''} ${mib} MiB: writes ${(t1 - t0).toFixed(0)} ms, fsync ${(t2 - t1).toFixed(0)} ms, process CPU ${(c1 - c0).toFixed(0)} ms`);
