// cli/worker — `podwire worker --redis URL`: takes sweep runs from a Redis queue (BullMQ) and runs
// them on this machine's worker threads until SIGINT/SIGTERM, which lets the running ones finish
// (a second signal exits at once; Redis hands an unfinished run to another worker). Layer: cli.
import './v8-tuning.js';
import { availableParallelism } from 'node:os';
import { terminalSafe } from '../core/user-error.js';
import { RedisUnreachable, startRedisWorker } from '../sweep/redis.js';
import { CliError, EXIT } from './run.js';
import { checkRedisUrl } from './sweep.js';

export interface WorkerArgs {
  redis: string;
  concurrency: number | undefined;
  lockMs: number | undefined;
  quiet: boolean;
}

/** Runs `podwire worker`; resolves with the exit code once stopped by a signal. */
export async function workerCommand(args: WorkerArgs): Promise<number> {
  checkRedisUrl('--redis', args.redis);
  const concurrency = args.concurrency ?? Math.max(1, availableParallelism() - 1);
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new CliError(`--concurrency: expected a positive integer, got ${args.concurrency}`, EXIT.usage);
  if (args.lockMs !== undefined && (!Number.isSafeInteger(args.lockMs) || args.lockMs < 1000)) throw new CliError(`--lock-ms: expected an integer of at least 1000, got ${args.lockMs}`, EXIT.usage);
  const say = (s: string): void => {
    if (!args.quiet) process.stderr.write(`podwire worker: ${s}\n`);
  };
  const w = await startRedisWorker({
    url: args.redis,
    concurrency,
    onConnectionError: (line) => process.stderr.write(`podwire worker: ${terminalSafe(line)}\n`),
    ...(args.lockMs !== undefined ? { lockMs: args.lockMs } : {}),
    onJob: (what, data, outcome) => {
      const name = `${terminalSafe(data.task.variant)} seed ${data.task.seed}`;
      if (what === 'start') say(`running ${name}`);
      else say(`${outcome && 'error' in outcome ? 'FAILED' : 'done'} ${name}`);
    },
  }).catch((e: unknown) => {
    throw e instanceof RedisUnreachable ? new CliError(`--redis: ${terminalSafe(e.message)}`, EXIT.usage) : e;
  });
  await w.ready;
  say(`waiting for runs on ${terminalSafe(args.redis)} (${concurrency} threads)`);
  const sig = await new Promise<'SIGINT' | 'SIGTERM'>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const hard = (): never => process.exit(sig === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
  process.once('SIGINT', hard);
  process.once('SIGTERM', hard);
  say(`${sig}: finishing the running runs`);
  await w.close();
  return EXIT.ok;
}
