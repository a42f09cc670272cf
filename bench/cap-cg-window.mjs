// bench/cap-cg-window — loaded with `node --import` by bench/cap-cg.sh under `valgrind --tool=callgrind --instr-atstart=no`:
// callgrind instruments capture-cost's child from Simulator.run's start until run() returns (WINDOW=run) or until the
// writer's close() returns (WINDOW=close, the default: the writer thread's backlog, final fsync and rename inside; for a
// mode without a writer, until run() returns). TREE: the checkout whose dist/ the child runs.
import { instrument } from './callgrind-switch.mjs';

const tree = process.env.TREE;
if (tree === undefined) throw new Error('cap-cg-window: set TREE to the checkout whose dist/ runs');
const { Simulator } = await import(`${tree}/dist/src/core/simulator.js`);
const { PcapngWriter } = await import(`${tree}/dist/src/capture/pcapng.js`);
const untilClose = process.env.WINDOW !== 'run';
let open = false;
const run = Simulator.prototype.run;
Simulator.prototype.run = function (...args) {
  instrument(true, 'cap-cg');
  open = true;
  const r = run.apply(this, args);
  if (!untilClose) {
    instrument(false, 'cap-cg');
    open = false;
  }
  return r;
};
const close = PcapngWriter.prototype.close;
PcapngWriter.prototype.close = function (...args) {
  const r = close.apply(this, args);
  if (open) {
    instrument(false, 'cap-cg');
    open = false;
  }
  return r;
};
process.on('exit', () => {
  if (open) instrument(false, 'cap-cg');
});
