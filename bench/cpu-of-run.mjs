// bench/cpu-of-run — CPU time (user+sys, process.cpuUsage) of Simulator.run alone for one bench/run
// scenario, as deliveries (H1: requests) per CPU second and CPU µs per delivery. The line of
// `bench/run.js --child ID` gets three fields appended. Plain ESM over the built dist/ (npm run build first):
//
//   node bench/cpu-of-run.mjs S1|S2|H1 [tree]      (tree: a checkout with dist/, default this one)
//
// CPU time is less disturbed than wall time by other processes on a shared machine, but not immune.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const id = process.argv[2];
const tree = resolve(process.argv[3] ?? resolve(dirname(fileURLToPath(import.meta.url)), '..'));
const { Simulator } = await import(`${tree}/dist/src/core/simulator.js`);
const run = Simulator.prototype.run;
let cpu = 0;
Simulator.prototype.run = function (...args) {
  const c0 = process.cpuUsage();
  const r = run.apply(this, args);
  const c = process.cpuUsage(c0);
  cpu += (c.user + c.system) / 1e6;
  return r;
};
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (s) => {
  const d = Number(/deliveries=(\d+)/.exec(String(s))?.[1] ?? NaN);
  return write(`${String(s).trim()} run_cpu_s=${cpu.toFixed(3)} deliveries_per_cpu_s=${Math.round(d / cpu)} cpu_us_per_delivery=${((cpu * 1e6) / d).toFixed(2)}\n`);
};
process.argv = [process.argv[0], `${tree}/dist/bench/run.js`, '--child', id];
await import(`${tree}/dist/bench/run.js`);
