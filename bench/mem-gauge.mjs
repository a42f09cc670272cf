// bench/mem-gauge — the host's memory latency at this minute: a dependent random walk (pointer chase)
// over a table much larger than the last-level cache, in nanoseconds per step. The 1 M-request scale run
// spends its time in cache misses over 1.2 GB of state spread across 1,000 nodes, so it slows when the
// host's memory does (other guests' traffic, the host's page placement), which a cache-resident gauge such
// as ns-3's S1 does not see (session 35: S1 moved 3.66–4.05 s while the runs moved 51.8–67.6 s, r = −0.93
// to +0.93). bench/pair-big.mjs runs this before and after each run with `--gauge mem`.
//
//   node bench/mem-gauge.mjs [MiB=256] [steps=20000000]   → one JSON line {"nsPerStep": …, …}
//   node bench/mem-gauge.mjs curve [steps=5000000]        → one line per size, 1/32 MiB to 256 MiB: where this host's
//     cache levels end as this guest sees them (session 47: ~4–8 MiB of the L3 is effectively ours, a miss ~290 ns)
//
// The cycle is a single random cycle (Sattolo's shuffle, a fixed seed), so each step's address depends on
// the one before and the hardware cannot prefetch it; the same seed gives the same walk on every run.

import { readFileSync } from 'node:fs';

if (process.argv[2] === 'curve') {
  const { spawnSync } = await import('node:child_process');
  const n = process.argv[3] ?? '5000000';
  for (const m of [0.03125, 0.5, 1, 2, 4, 8, 12, 16, 24, 32, 64, 128, 256]) {
    const r = spawnSync(process.execPath, [process.argv[1], String(m), n], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`mem-gauge: ${m} MiB failed: ${r.stderr}`);
    const d = JSON.parse(r.stdout);
    process.stdout.write(`${String(m).padStart(8)} MiB  ${d.nsPerStep.toFixed(1).padStart(6)} ns a step\n`);
  }
  process.exit(0);
}
const mib = Number(process.argv[2] ?? 256);
const steps = Number(process.argv[3] ?? 20_000_000);
if (!(mib >= 1 / 32 && mib <= 4096)) throw new Error('mem-gauge: MiB must be in 1/32..4096');
if (!(Number.isInteger(steps) && steps >= 1000 && steps <= 1e9)) throw new Error('mem-gauge: steps must be an integer in 1000..1e9');

// One entry per 64-byte line: the table's index i lives at word i * 16, so every step is a new line.
const LINE = 16;
const n = Math.floor((mib * 1024 * 1024) / 64);
const table = new Int32Array(n * LINE);

// xorshift32, fixed seed: the walk is the same on every run.
let s = 0x9e3779b9 | 0;
const rnd = () => {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return s >>> 0;
};
// Sattolo's shuffle of 0..n-1 gives one cycle through every entry.
const perm = new Int32Array(n);
for (let i = 0; i < n; i++) perm[i] = i;
for (let i = n - 1; i > 0; i--) {
  const j = rnd() % i;
  const t = perm[i];
  perm[i] = perm[j];
  perm[j] = t;
}
for (let i = 0; i < n; i++) table[i * LINE] = perm[i] * LINE;

function walk(k) {
  let p = 0;
  for (let i = 0; i < k; i++) p = table[p];
  return p;
}
walk(Math.min(steps, 1_000_000)); // warm the code and the TLB's reach, not the data
const t0 = process.hrtime.bigint();
const end = walk(steps);
const ns = Number(process.hrtime.bigint() - t0);
// How much of the process sat in transparent huge pages (a walk over 4 KiB pages is a TLB miss a step).
let hugeMiB = NaN;
try {
  const m = /AnonHugePages:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
  if (m) hugeMiB = Number(m[1]) / 1024;
} catch {}
process.stdout.write(JSON.stringify({ mib, steps, nsPerStep: ns / steps, hugeMiB, end }) + '\n');
