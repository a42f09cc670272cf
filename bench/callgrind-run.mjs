// bench/callgrind-run — loaded with `node --import` under `valgrind --tool=callgrind --instr-atstart=no`:
// callgrind instruments only Simulator.run (the build runs uninstrumented, ~4x faster than ir-of-run's
// two whole-process runs), so the profile and its totals are the run's alone. callgrind_control is
// answered only while the guest runs, so the switch spins on a file instead of blocking on the child.
// TREE: the checkout whose dist/ the child runs. Example (cache simulation as ir-of-run's CACHE_SIM):
//   TREE=T valgrind --tool=callgrind --instr-atstart=no --cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 \
//     --LL=4194304,16,64 --dump-instr=yes --callgrind-out-file=cg.out node --single-threaded \
//     --perf-basic-prof --import bench/callgrind-run.mjs T/dist/bench/scale.js --child 100 1000 3 20 500 10
// (JIT code is named by /tmp/perf-PID.map; a run with a major GC inside it is not comparable with one without.)
import { instrument as switchCallgrind } from './callgrind-switch.mjs';

const tree = process.env.TREE;
if (tree === undefined) throw new Error('callgrind-run: set TREE to the checkout whose dist/ runs');
const { Simulator } = await import(`${tree}/dist/src/core/simulator.js`);
const run = Simulator.prototype.run;

Simulator.prototype.run = function (...args) {
  switchCallgrind(true, 'callgrind-run');
  const r = run.apply(this, args);
  switchCallgrind(false, 'callgrind-run');
  return r;
};
