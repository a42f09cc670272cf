// bench/run-marks — loaded with `node --import`: writes `@@RUN-START` / `@@RUN-END` to stdout around
// Simulator.run, so the run's part of a V8 trace that also goes to stdout (--trace-migration,
// --trace-deopt, --trace-turbo-inlining, --trace-gc-nvp) can be cut out of the build's. TREE: the
// checkout whose dist/ runs (default: the current directory). Checked (Node 20, into a pipe): V8's
// --trace-gc lines and the markers come out in the order they were written.
//   TREE=T node --import ./bench/run-marks.mjs --trace-migration T/dist/bench/scale.js --child 300 3000 3 100 20 10 \
//     | sed -n '/@@RUN-START/,/@@RUN-END/p' | sed -E 's/0x[0-9a-f]+//g' | sort | uniq -c | sort -rn
//   node --trace-gc-nvp --max-old-space-size=7000 --import ./bench/run-marks.mjs dist/bench/scale.js --child 1000 10000 3 100 1000 10 > /tmp/nvp.txt
//   python3 bench/gc-nvp-sum.py /tmp/nvp.txt 100000
import { writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const tree = resolve(process.env.TREE ?? '.');
const { Simulator } = await import(pathToFileURL(`${tree}/dist/src/core/simulator.js`).href);
const run = Simulator.prototype.run;
Simulator.prototype.run = function (...args) {
  writeSync(1, '@@RUN-START\n'); // synchronous: straight to fd 1, in order with V8's trace lines
  try {
    return run.apply(this, args);
  } finally {
    writeSync(1, '@@RUN-END\n');
  }
};
