// bench/skip-run — loaded with `node --import` by bench/ir-of-run.sh: Simulator.run returns at once, so
// the process does everything but the run (module loading, the scenario's build, the result line).
// TREE: the checkout whose dist/ the child runs.
const tree = process.env.TREE;
if (tree === undefined) throw new Error('skip-run: set TREE to the checkout whose dist/ runs');
const { Simulator } = await import(`${tree}/dist/src/core/simulator.js`);
Simulator.prototype.run = function () {
  return 'idle';
};
