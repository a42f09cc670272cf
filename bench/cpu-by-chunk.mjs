// bench/cpu-by-chunk — the CPU time (user+sys of every thread, process.cpuUsage) and wall of each run of N executed
// events of one bench/run scenario, or of a bench/scale child run (a generated cluster's build, then its traffic), with
// the simulated time reached: shows the warm-up (the JIT compiling the datapath, the tables' growth) apart from the
// steady rate, and any later re-warm-up (deoptimizations) or late growth. Plain ESM over the built dist/ (npm run build first):
//
//   node bench/cpu-by-chunk.mjs S1|S2|H1 [tree] [N]      (tree: a checkout with dist/, default this one; N default 100000)
//   node --max-old-space-size=7000 bench/cpu-by-chunk.mjs scale . 2000000 -- 1000 10000 3 100 10000 10   # the 1 M run
//
// Each line (on stderr at exit): `<events>k t=<simulated s> cpu_ms=<CPU of the chunk> wall_ms=<wall of the chunk>`.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const id = process.argv[2];
// `scale TREE N -- NODES SERVICES K FLOWS REQUESTS [RATE]`: bench/scale's child with those arguments.
const dashes = process.argv.indexOf('--');
const scaleArgs = id === 'scale' && dashes > 0 ? process.argv.slice(dashes + 1) : null;
if (id === 'scale' && (scaleArgs === null || scaleArgs.length < 5)) {
  process.stderr.write('usage: node bench/cpu-by-chunk.mjs scale TREE N -- NODES SERVICES K FLOWS REQUESTS [RATE]\n');
  process.exit(2);
}
const tree = resolve(process.argv[3] ?? resolve(dirname(fileURLToPath(import.meta.url)), '..'));
const every = Number(process.argv[4] ?? 100_000);
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
      lines.push(`${events / 1000}k t=${(now / 1e9).toFixed(3)} cpu_ms=${((c.user + c.system) / 1000).toFixed(1)} wall_ms=${(w - w0).toFixed(1)}`);
      c0 = process.cpuUsage();
      w0 = w;
    },
  });
};
process.on('exit', () => process.stderr.write(lines.join('\n') + '\n'));
// The bench script runs its main() on import with process.argv: hand it the child's arguments.
const script = scaleArgs ? 'scale' : 'run';
process.argv = [process.argv[0], `${tree}/dist/bench/${script}.js`, '--child', ...(scaleArgs ?? [id])];
await import(`${tree}/dist/bench/${script}.js`);
