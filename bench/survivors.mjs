// bench/survivors — where the objects that outlive a scavenge are allocated, during Simulator.run only
// (the build is left out): V8's sampling heap profiler, keeping the samples of objects a major GC
// collected (or still alive at the end) and dropping those a scavenge collected — what the scavenges
// copied and promoted. Prints the allocation sites (function, file:line) with the most sampled bytes,
// then the same split by caller. Plain ESM over the built dist/ (npm run build first):
//
//   node --expose-gc bench/survivors.mjs H1 [tree] [--top N] [--all] [--interval B] [--sizes]
//   node --expose-gc --max-old-space-size=7000 bench/survivors.mjs scale [tree] -- 1000 10000 3 100 500 10
//
// `scale` runs `dist/bench/scale.js --child` with the numbers after `--` (the big cluster's 50 k run
// above). `--all` keeps the objects scavenges collected too (every allocation: bytes per request).
// The inspector answers a same-thread session synchronously, so sampling starts and stops inside run().
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { Session } from 'node:inspector';

const dash = process.argv.indexOf('--');
const rest = dash >= 0 ? process.argv.slice(dash + 1) : [];
const args = dash >= 0 ? process.argv.slice(2, dash) : process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const flag = (name) => {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
const top = Number(opt('--top') ?? 30);
const interval = Number(opt('--interval') ?? 1024);
const all = flag('--all');
const [id, treeArg] = args;
const tree = resolve(treeArg ?? resolve(dirname(fileURLToPath(import.meta.url)), '..'));
const session = new Session();
session.connect();
const post = (method, params = {}) => {
  let out;
  session.post(method, params, (err, r) => {
    if (err) throw err;
    out = r;
  });
  if (out === undefined) throw new Error(`${method}: no synchronous answer`);
  return out;
};
const { Simulator } = await import(`${tree}/dist/src/core/simulator.js`);
const run = Simulator.prototype.run;
let profile = null;
Simulator.prototype.run = function (...a) {
  post('HeapProfiler.enable');
  post('HeapProfiler.startSampling', { samplingInterval: interval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: all });
  try {
    return run.apply(this, a);
  } finally {
    // With --expose-gc, a last scavenge drops what died since the run's last one (a run's quiet tail,
    // e.g. TIME_WAIT expiring after the traffic, allocates too little to trigger one).
    if (typeof globalThis.gc === 'function') globalThis.gc({ type: 'minor' });
    const p = post('HeapProfiler.stopSampling').profile;
    // Several runs in one process (bench/run's scenarios): the last one is reported.
    profile = p;
  }
};
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = () => true; // the bench line is not needed
if (id === 'scale') {
  process.argv = [process.argv[0], `${tree}/dist/bench/scale.js`, '--child', ...rest];
  await import(`${tree}/dist/bench/scale.js`);
} else {
  process.argv = [process.argv[0], `${tree}/dist/bench/run.js`, '--child', id];
  await import(`${tree}/dist/bench/run.js`);
}
if (profile === null) throw new Error('Simulator.run was not called');
const by = new Map();
const byCaller = new Map();
let total = 0;
const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
const walk = (n, caller) => {
  const f = n.callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/dist\//, '')}:${f.lineNumber + 1}`;
  if (n.selfSize > 0) {
    add(by, key, n.selfSize);
    add(byCaller, `${key} <- ${caller}`, n.selfSize);
    total += n.selfSize;
  }
  for (const c of n.children) walk(c, f.functionName || '(anonymous)');
};
walk(profile.head, '');
write(`${id}: ${(total / 1e6).toFixed(1)} MB sampled during run ${all ? '(every allocation)' : 'that outlived a scavenge'}\n`);
for (const [k, v] of [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) write(`  ${(v / 1e6).toFixed(1).padStart(7)} MB  ${k}\n`);
write('by caller:\n');
// --sizes: each caller line also says its samples by object size (16 B: a heap number; 2 × 8 + n: a FixedArray or
// backing store; a JS object's size names its class), to tell boxes from records.
const sizes = new Map(); // site -> Map(size -> samples)
if (args.includes('--sizes')) {
  const ids = new Map();
  const idx = (n, caller) => {
    const f = n.callFrame;
    ids.set(n.id, `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/dist\//, '')}:${f.lineNumber + 1} <- ${caller}`);
    for (const c of n.children) idx(c, f.functionName || '(anonymous)');
  };
  idx(profile.head, '');
  for (const s of profile.samples) {
    const k = ids.get(s.nodeId);
    let m = sizes.get(k);
    if (m === undefined) sizes.set(k, (m = new Map()));
    m.set(s.size, (m.get(s.size) ?? 0) + 1);
  }
}
for (const [k, v] of [...byCaller.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  const m = sizes.get(k);
  const hist = m === undefined ? '' : `   [samples by size: ${[...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([s, c]) => `${s}B×${c}`).join(' ')}]`;
  write(`  ${(v / 1e6).toFixed(1).padStart(7)} MB  ${k}${hist}\n`);
}
process.exit(0);
