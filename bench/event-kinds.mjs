// bench/event-kinds — loaded with `node --import`: counts the events a run executes by what they call
// (the callback's name and its first argument's class), and prints the table to stderr at exit. It
// wraps Scheduler.take (Simulator.run's one call per event; pop calls it too), so it sees every event the simulator takes (cancelled ones are left out, as
// Simulator.eventsExecuted leaves them out). Slower than a plain run; for finding where events come from.
// TREE: the checkout whose dist/ the child runs. Example:
//   TREE=. node --import ./bench/event-kinds.mjs dist/bench/scale.js --child 100 1000 3 20 500 10
//   TREE=. node --import ./bench/event-kinds.mjs dist/bench/run.js --child H1
import { resolve } from 'node:path';

const tree = resolve(process.env.TREE ?? '.');
const { Scheduler } = await import(`${tree}/dist/src/core/scheduler.js`);
const take = Scheduler.prototype.take;
const counts = new Map();

Scheduler.prototype.take = function (until) {
  const ev = take.call(this, until);
  if (ev !== undefined && !ev.cancelled) {
    const a = ev.a;
    const key = `${ev.fn.name || '(anonymous)'} ${a !== null && typeof a === 'object' ? a.constructor.name : typeof a}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return ev;
};

process.on('exit', () => {
  let total = 0;
  for (const n of counts.values()) total += n;
  const rows = [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
  process.stderr.write(`events by callback and first argument (${total} in all)\n`);
  for (const [key, n] of rows) process.stderr.write(`${String(n).padStart(10)} ${((100 * n) / total).toFixed(1).padStart(5)} %  ${key}\n`);
});
