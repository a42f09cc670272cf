// bench/survivors — where the objects that outlive a scavenge are allocated, for one bench/run
// scenario: V8's sampling heap profiler over Simulator.run, keeping the samples of objects a major GC
// collected (or still alive at the end) and dropping those a scavenge collected — what the scavenges
// copied and promoted. Prints the allocation sites (function, file:line) with the most sampled bytes.
// Plain ESM over the built dist/ (npm run build first):
//
//   node bench/survivors.mjs H1 [tree] [--top N]
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { Session } from 'node:inspector';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 30;
const [id, treeArg] = args;
const tree = resolve(treeArg ?? resolve(dirname(fileURLToPath(import.meta.url)), '..'));
const session = new Session();
session.connect();
const post = (method, params = {}) =>
  new Promise((ok, fail) => session.post(method, params, (err, r) => (err ? fail(err) : ok(r))));
// The inspector answers on the same thread: a synchronous run cannot wait for it, so sampling starts
// before the scenario is built and stops after the run returns.
await post('HeapProfiler.enable');
await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false });
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = () => true; // the bench line is not needed
process.argv = [process.argv[0], `${tree}/dist/bench/run.js`, '--child', id];
await import(`${tree}/dist/bench/run.js`);
const { profile } = await post('HeapProfiler.stopSampling');
const by = new Map();
let total = 0;
const walk = (n) => {
  const self = n.selfSize;
  if (self > 0) {
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/dist\//, '')}:${f.lineNumber + 1}`;
    by.set(key, (by.get(key) ?? 0) + self);
    total += self;
  }
  for (const c of n.children) walk(c);
};
walk(profile.head);
write(`${id}: ${(total / 1e6).toFixed(1)} MB sampled that outlived a scavenge\n`);
for (const [k, v] of [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) write(`  ${(v / 1e6).toFixed(1).padStart(7)} MB  ${k}\n`);
process.exit(0);
