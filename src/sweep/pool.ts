// sweep/pool — the local executor: runs the tasks a sweep still needs on a worker-thread pool
// (tinypool), or in this thread (`workers: 0`, for tests and debugging). Layer: sweep (no clock, no
// terminal: the CLI draws progress from onDone).
//
// Why tinypool rather than piscina: it has no dependencies (piscina brings a native optional one for
// thread priorities we do not need), it is ESM-first and loads a compiled .js worker as is, and what a
// sweep needs — a fixed number of threads, a queue, cancellation by AbortSignal that terminates the
// thread — it has. Each task is a whole simulation (seconds), so pool overheads do not matter.
import { setMaxListeners } from 'node:events';
import type { RunRecord, RunTask } from './plan.js';
import { finishedRun, runTask } from './run-one.js';
import { formatUserError, ScenarioError } from '../scenario/errors.js';

/** A run that failed: its task and one line per problem. */
export interface RunFailure {
  task: RunTask;
  message: string;
}

/** What a worker sends back: the record, or the error as text (errors do not keep their class across threads). */
export type RunOutcome = { ok: RunRecord } | { error: string };

/** Runs a task and turns any error into text: the same for every executor. */
export function runTaskOutcome(task: RunTask): RunOutcome {
  try {
    return { ok: runTask(task) };
  } catch (e) {
    if (e instanceof ScenarioError) return { error: e.errors.map(formatUserError).join('\n') };
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

export interface PoolOptions {
  /** Worker threads; 0 runs in this thread. */
  workers: number;
  /** Called as each run finishes (skipped runs are not reported). */
  onDone?: (task: RunTask, outcome: RunOutcome) => void;
  /** Aborting stops the sweep: queued runs are dropped, running ones are terminated. */
  signal?: AbortSignal;
}

export interface SweepProgress {
  /** Runs already complete before this invocation (resume). */
  skipped: RunTask[];
  /** Runs still to do. */
  todo: RunTask[];
}

/** Splits the tasks into those already complete (run.json with the same text) and those to run. */
export function pendingRuns(tasks: readonly RunTask[]): SweepProgress {
  const skipped: RunTask[] = [];
  const todo: RunTask[] = [];
  for (const t of tasks) (finishedRun(t) !== null ? skipped : todo).push(t);
  return { skipped, todo };
}

/** The worker file next to this module (compiled: dist/src/sweep/worker.js). */
export function workerFile(): URL {
  return new URL('./worker.js', import.meta.url);
}

/** Runs `todo`; resolves with the failures (empty when every run succeeded) or rejects when aborted. */
export async function runLocal(todo: readonly RunTask[], opts: PoolOptions): Promise<RunFailure[]> {
  const failures: RunFailure[] = [];
  const settle = (task: RunTask, outcome: RunOutcome): void => {
    if ('error' in outcome) failures.push({ task, message: outcome.error });
    opts.onDone?.(task, outcome);
  };
  if (opts.workers === 0) {
    for (const t of todo) {
      if (opts.signal?.aborted) throw new Error('aborted');
      await new Promise<void>((r) => setImmediate(r));
      settle(t, runTaskOutcome(t));
    }
    return failures;
  }
  const { default: Tinypool } = await import('tinypool');
  // Each queued task listens on the signal until it runs: not a leak.
  if (opts.signal) setMaxListeners(todo.length + 10, opts.signal);
  const n = Math.max(1, Math.min(opts.workers, todo.length));
  const pool = new Tinypool({ filename: workerFile().href, minThreads: n, maxThreads: n, isolateWorkers: false });
  try {
    await Promise.all(todo.map((t) => (pool.run(t, opts.signal ? { signal: opts.signal } : {}) as Promise<RunOutcome>).then((o) => settle(t, o))));
  } finally {
    await pool.destroy();
  }
  return failures;
}
