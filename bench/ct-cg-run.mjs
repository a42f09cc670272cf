// bench/ct-cg-run.mjs — preload for callgrind: instrumentation (and the cache simulation) only inside
// Simulator.run, so a big world's build runs uninstrumented (several times faster) and the profile holds
// the run alone. The instrumentation is switched by `callgrind_control -i on|off PID` from a child shell;
// this process waits for it in Atomics.wait slices (a busy loop would be counted).
//
//   TREE=/path/to/tree valgrind --tool=callgrind --instr-atstart=no --cache-sim=yes \
//     --I1=32768,8,64 --D1=32768,8,64 --LL=4194304,16,64 --callgrind-out-file=OUT \
//     node --perf-basic-prof --single-threaded --import ./bench/ct-cg-run.mjs --max-old-space-size=7000 \
//     TREE/dist/bench/scale.js --child 100 1000 3 20 200 10
//
// JIT functions appear in OUT as bare addresses; /tmp/perf-PID.map (--perf-basic-prof) names them.
// `callgrind_control -d PID` dumps what was collected so far (OUT.1, OUT.2, … each since the last dump).
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
const tree = process.env.TREE;
if (tree === undefined) throw new Error('ct-cg-run: set TREE to the checkout whose dist/ runs');
const { Simulator } = await import(`${tree}/dist/src/core/simulator.js`);
const run = Simulator.prototype.run;
const slot = new Int32Array(new SharedArrayBuffer(4));
function instrument(on) {
  const flag = `${tmpdir()}/ct-cg-run.${process.pid}`;
  rmSync(flag, { force: true });
  spawn('sh', ['-c', `callgrind_control -i ${on ? 'on' : 'off'} ${process.pid} >/dev/null 2>&1; touch ${flag}`], { stdio: 'ignore', detached: true }).unref();
  while (!existsSync(flag)) Atomics.wait(slot, 0, 0, 20);
  rmSync(flag, { force: true });
}
Simulator.prototype.run = function (...args) {
  instrument(true);
  const r = run.apply(this, args);
  instrument(false);
  return r;
};
