// sweep/redis — the distributed executor: a sweep's runs as BullMQ jobs in Redis. The sweep enqueues
// one job per (variant, seed) and waits; `podwire worker` processes (any number, any machine) take
// jobs, run each in a worker thread of their own pool (run-one.ts, the code the local pool runs), and
// return the run's output files in the job's result; the sweep writes them into DIR/runs/… as the
// local pool would (run.json last), so one scenario + one seed gives the same bytes whichever
// executor ran it. Layer: sweep.
//
// Why BullMQ: jobs are locked by the worker running them and the lock is renewed while it runs; a
// worker that dies stops renewing it, and another worker's stalled-job check puts the job back in
// the queue (up to maxStalledCount times) — a killed worker's run is retried elsewhere, with no code
// of ours. The run itself is CPU-bound for seconds, so it goes to a thread: the worker's event loop
// stays free to renew its locks. Captures are not sent through Redis (they can be a GiB).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../capture/atomic.js';
import type { RunRecord, RunTask } from './plan.js';
import { runTaskOutcome, workerFile, type RunFailure, type RunOutcome } from './pool.js';

/** The queue every sweep and worker on one Redis share. */
export const QUEUE_NAME = 'podwire-sweep';

/** A job's data: the task (its outDir is the sweep's, on the sweep's machine) and the sweep it belongs to. */
export interface RunJobData {
  sweep: string;
  task: RunTask;
}

/** A job's result: the outcome and, for a successful run, its output files (name → UTF-8 text). */
export interface RunJobResult {
  outcome: RunOutcome;
  files: Record<string, string>;
}

/** How long a worker's lock on a job lasts without renewal, and so how soon a dead worker's job is retried. */
export const DEFAULT_LOCK_MS = 30_000;

/** Redis connection options (ioredis) from a redis:// URL; BullMQ needs maxRetriesPerRequest null for workers. */
export async function redisConnection(url: string, onError: (e: Error) => void = () => {}): Promise<import('ioredis').Redis> {
  const { Redis } = await import('ioredis');
  const conn = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  // A listener always: without one ioredis prints every failed reconnection as a multi-line dump.
  // Before the first connection the error is the reason it failed (connect() itself says only "Connection is closed.").
  let first: Error | null = null;
  let connected = false;
  conn.on('error', (e: Error) => {
    if (connected) onError(e);
    else first ??= e;
  });
  try {
    await conn.connect();
    connected = true;
  } catch (e) {
    conn.disconnect();
    throw new RedisUnreachable(`cannot connect to ${url}: ${(first ?? (e as Error)).message.split('\n')[0]}`);
  }
  return conn;
}

/** The Redis server of a --redis URL did not answer the first connection (message: one line). */
export class RedisUnreachable extends Error {}

/**
 * Reports a connection's errors once each (the client retries every few seconds, and BullMQ's objects
 * print each error as a multi-line dump unless they have a listener): one line per distinct message.
 */
export function onceEach(report: (line: string) => void): (e: Error) => void {
  const seen = new Set<string>();
  return (e) => {
    const m = e.message.split('\n')[0]!;
    if (seen.has(m)) return;
    seen.add(m);
    report(`redis: ${m} (retrying)`);
  };
}

/** Runs a task in `dir` instead of its outDir and reads back what it wrote (what travels through Redis). */
export function runTaskForTransport(task: RunTask, run: (t: RunTask) => RunOutcome | Promise<RunOutcome> = runTaskOutcome): Promise<RunJobResult> {
  const dir = mkdtempSync(join(tmpdir(), 'podwire-job-'));
  return Promise.resolve(run({ ...task, outDir: dir, capture: false }))
    .then((outcome) => {
      const files: Record<string, string> = {};
      if ('ok' in outcome) for (const name of readdirSync(dir).sort()) files[name] = readFileSync(join(dir, name), 'utf8');
      return { outcome, files };
    })
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Writes a job's files into the task's directory, run.json last (a run is complete only once it is there). */
export function storeRunFiles(task: RunTask, files: Record<string, string>): void {
  const names = Object.keys(files).sort();
  for (const n of names) if (n !== 'run.json') writeFileAtomic(join(task.outDir, n), files[n]!);
  if (files['run.json'] !== undefined) writeFileAtomic(join(task.outDir, 'run.json'), files['run.json']);
}

export interface RedisSweepOptions {
  url: string;
  /** A line for each distinct connection error after the first connection (the client retries). */
  onConnectionError?: (line: string) => void;
  /** Called as each run's result arrives. */
  onDone?: (task: RunTask, outcome: RunOutcome) => void;
  /** Aborting stops waiting (the jobs stay queued; the sweep resumes from the runs already written). */
  signal?: AbortSignal;
}

/** Enqueues `todo` and waits for every result; resolves with the failures, rejects when aborted. */
export async function runRedis(todo: readonly RunTask[], opts: RedisSweepOptions): Promise<RunFailure[]> {
  const { Queue, QueueEvents } = await import('bullmq');
  const report = onceEach(opts.onConnectionError ?? (() => {}));
  const conn = await redisConnection(opts.url, report);
  const evConn = await redisConnection(opts.url, report);
  const queue = new Queue<RunJobData, RunJobResult>(QUEUE_NAME, { connection: conn });
  const events = new QueueEvents(QUEUE_NAME, { connection: evConn });
  queue.on('error', report);
  events.on('error', report);
  const failures: RunFailure[] = [];
  try {
    await events.waitUntilReady();
    const sweep = `${process.pid}-${Date.now().toString(36)}`;
    const byId = new Map<string, RunTask>();
    const jobs = todo.map((task, i) => {
      const jobId = `${sweep}-${i}`;
      byId.set(jobId, task);
      return { name: 'run', data: { sweep, task }, opts: { jobId, attempts: 1, removeOnComplete: true, removeOnFail: true } };
    });
    const finished = new Promise<void>((resolve, reject) => {
      let left = byId.size;
      const settle = (jobId: string, result: RunJobResult | { error: string }): void => {
        const task = byId.get(jobId);
        if (task === undefined) return;
        byId.delete(jobId);
        let outcome: RunOutcome;
        if ('outcome' in result) {
          outcome = result.outcome;
          if ('ok' in outcome) storeRunFiles(task, result.files);
        } else outcome = { error: result.error };
        if ('error' in outcome) failures.push({ task, message: outcome.error });
        opts.onDone?.(task, outcome);
        if (--left === 0) resolve();
      };
      events.on('completed', ({ jobId, returnvalue }) => {
        try {
          settle(jobId, (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as RunJobResult);
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
      events.on('failed', ({ jobId, failedReason }) => settle(jobId, { error: `worker: ${failedReason}` }));
      opts.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      if (left === 0) resolve();
    });
    await queue.addBulk(jobs);
    await finished;
  } finally {
    await events.close();
    await queue.close();
    conn.disconnect();
    evConn.disconnect();
  }
  return failures;
}

export interface RedisWorkerOptions {
  url: string;
  /** Runs at once (worker threads). */
  concurrency: number;
  lockMs?: number;
  /** Each job as it starts and ends (the CLI prints a line). */
  onJob?: (what: 'start' | 'done', data: RunJobData, outcome?: RunOutcome) => void;
  /** A line for each distinct connection error after the first connection (the client retries). */
  onConnectionError?: (line: string) => void;
}

/** A running `podwire worker`: close() stops taking jobs and waits for the running ones. */
export interface RedisWorkerHandle {
  close(): Promise<void>;
  /** Resolves once the worker is connected and waiting for jobs. */
  ready: Promise<void>;
}

/** Starts a BullMQ worker that runs sweep jobs on a thread pool. */
export async function startRedisWorker(opts: RedisWorkerOptions): Promise<RedisWorkerHandle> {
  const { Worker } = await import('bullmq');
  const { default: Tinypool } = await import('tinypool');
  const n = Math.max(1, opts.concurrency);
  const report = onceEach(opts.onConnectionError ?? (() => {}));
  const conn = await redisConnection(opts.url, report);
  const pool = new Tinypool({ filename: workerFile().href, minThreads: n, maxThreads: n, isolateWorkers: false });
  const lockMs = opts.lockMs ?? DEFAULT_LOCK_MS;
  const worker = new Worker<RunJobData, RunJobResult>(
    QUEUE_NAME,
    async (job) => {
      opts.onJob?.('start', job.data);
      const result = await runTaskForTransport(job.data.task, (t) => pool.run(t) as Promise<RunOutcome>);
      opts.onJob?.('done', job.data, result.outcome);
      return result;
    },
    { connection: conn, concurrency: n, lockDuration: lockMs, stalledInterval: Math.max(500, Math.floor(lockMs / 2)), maxStalledCount: 5 },
  );
  worker.on('error', report);
  return {
    ready: worker.waitUntilReady().then(() => undefined),
    async close() {
      await worker.close();
      await pool.destroy();
      conn.disconnect();
    },
  };
}

/** The record a finished run's files hold (for tests and resume checks). */
export function recordOf(files: Record<string, string>): RunRecord | null {
  const text = files['run.json'];
  return text === undefined ? null : (JSON.parse(text) as RunRecord);
}
