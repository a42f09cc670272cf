// bench/run-marks — a preload that prints @@RUNSTART / @@RUNEND on stdout around Simulator.run, so a
// `--trace-gc-nvp` log (also on stdout) can be cut to the run (bench/gc-nvp-sum.py). TREE: the checkout.
//   TREE=. node --trace-gc-nvp --max-old-space-size=7000 --import ./bench/run-marks.mjs dist/bench/scale.js --child 1000 10000 3 100 1000 10 > /tmp/nvp.txt
//   python3 bench/gc-nvp-sum.py /tmp/nvp.txt 100000
const { Simulator } = await import(`${process.env.TREE ?? '.'}/dist/src/core/simulator.js`);
const run = Simulator.prototype.run;
Simulator.prototype.run = function (...a) {
  process.stdout.write('@@RUNSTART\n');
  try {
    return run.apply(this, a);
  } finally {
    process.stdout.write('@@RUNEND\n');
  }
};
