// sweep/worker — the worker-thread entry of the local pool (tinypool loads this file in each thread):
// one task in, its outcome out. Layer: sweep.
import type { RunTask } from './plan.js';
import { runTaskOutcome, type RunOutcome } from './pool.js';

export default function run(task: RunTask): RunOutcome {
  return runTaskOutcome(task);
}
