// bench/cpu-by-chunk — the CPU time (user+sys, process.cpuUsage) of each run of N executed events of one
// bench/run scenario, with the simulated time reached: shows the warm-up (the JIT compiling the
// datapath) apart from the steady rate, and any later re-warm-up (deoptimizations). Plain ESM over the
// built dist/ (npm run build first):
//
//   node bench/cpu-by-chunk.mjs S1|S2|H1 [tree] [N]      (tree: a checkout with dist/, default this one; N default 100000)
//
// Each line: `<events>k t=<simulated s> cpu_ms=<CPU of the chunk> wall_ms=<wall of the chunk>`.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const id = process.argv[2];
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
process.argv = [process.argv[0], `${tree}/dist/bench/run.js`, '--child', id];
await import(`${tree}/dist/bench/run.js`);
