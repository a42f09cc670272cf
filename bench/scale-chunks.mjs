// bench/scale-chunks — the CPU (every thread: process.cpuUsage) and wall of each chunk of N executed events of one
// bench/scale child run (a generated cluster's build, then its traffic), with the simulated time reached: shows the
// warm-up and the tables' growth at the start of a long run apart from its steady rate, and any late growth. Plain
// ESM over a built tree (`npm run build` there first):
//
//   node --max-old-space-size=7000 bench/scale-chunks.mjs TREE N -- NODES SERVICES K FLOWS REQUESTS RATE
//   node --max-old-space-size=7000 bench/scale-chunks.mjs . 2000000 -- 1000 10000 3 100 10000 10   # the 1 M run, by 2 M events
//
// Prints scale's own JSON line, then one line a chunk: `<events>M t=<simulated s> cpu_ms=… wall_ms=…`.
import { resolve } from 'node:path';

const [treeArg, everyArg, sep, ...args] = process.argv.slice(2);
if (!treeArg || !everyArg || sep !== '--' || args.length < 5) {
  process.stderr.write('usage: node bench/scale-chunks.mjs TREE N -- NODES SERVICES K FLOWS REQUESTS [RATE]\n');
  process.exit(2);
}
const tree = resolve(treeArg);
const every = Number(everyArg);
const { Simulator } = await import(`${tree}/dist/src/core/simulator.js`);
const run = Simulator.prototype.run;
const lines = [];
Simulator.prototype.run = function (limits = {}) {
  let c0 = process.cpuUsage();
  let w0 = performance.now();
  return run.call(this, {
    ...limits,
    progressEvery: every,
    onProgress: (now, events) => {
      const c = process.cpuUsage(c0);
      const w = performance.now();
      lines.push(`${events / 1e6}M t=${(now / 1e9).toFixed(1)} cpu_ms=${((c.user + c.system) / 1000).toFixed(0)} wall_ms=${(w - w0).toFixed(0)}`);
      c0 = process.cpuUsage();
      w0 = w;
    },
  });
};
// bench/scale runs its main() on import with process.argv: hand it the child's arguments.
process.argv = [process.argv[0], `${tree}/dist/bench/scale.js`, '--child', ...args];
await import(`${tree}/dist/bench/scale.js`);
process.stdout.write(lines.join('\n') + '\n');
