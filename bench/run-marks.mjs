// bench/run-marks — loaded with `node --import`: writes `@@RUN-START` / `@@RUN-END` to stdout around
// Simulator.run, so the run's part of a V8 trace that also goes to stdout (--trace-migration,
// --trace-deopt, --trace-turbo-inlining) can be cut out of the build's. TREE: the checkout whose dist/ runs.
//   TREE=T node --import bench/run-marks.mjs --trace-migration T/dist/bench/scale.js --child 300 3000 3 100 20 10 \
//     | sed -n '/@@RUN-START/,/@@RUN-END/p' | sed -E 's/0x[0-9a-f]+//g' | sort | uniq -c | sort -rn
import { writeSync } from 'node:fs';

const tree = process.env.TREE;
if (tree === undefined) throw new Error('run-marks: set TREE to the checkout whose dist/ runs');
const { Simulator } = await import(`${tree}/dist/src/core/simulator.js`);
const run = Simulator.prototype.run;
Simulator.prototype.run = function (...args) {
  writeSync(1, '@@RUN-START\n'); // synchronous: V8's traces are printed straight to fd 1
  const r = run.apply(this, args);
  writeSync(1, '@@RUN-END\n');
  return r;
};
