// cli/sweep — `podwire sweep`: variants × seeds on a worker-thread pool, progress and ETA on a TTY,
// resume after an interruption, sweep.json and the comparison table. Layer: cli (reads the clock,
// signals and the terminal; the sweep itself is in src/sweep).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ensureDir, writeFileAtomic } from '../capture/atomic.js';
import { terminalSafe } from '../core/user-error.js';
import { loadScenarioFile } from '../scenario/load.js';
import { aggregate } from '../sweep/aggregate.js';
import { loadVariantsFile, parseSeeds, planRuns, planVariants, type RunTask, type Variant } from '../sweep/plan.js';
import { pendingRuns, runLocal, type RunOutcome } from '../sweep/pool.js';
import { RedisUnreachable, runRedis } from '../sweep/redis.js';
import { comparisonTable } from '../sweep/table.js';
import { parseVaryFlag, SweepInputError, type VaryFlag } from '../sweep/vary.js';
import { checkOutDir, CliError, EXIT } from './run.js';
import { writeSweepReport } from './sweep-report.js';

export interface SweepArgs {
  file: string;
  vary: string[];
  variants: string | undefined;
  seeds: string;
  workers: number | undefined;
  out: string;
  capture: boolean;
  quiet: boolean;
  /** --no-report: no DIR/report.html. */
  report?: boolean;
  /** --redis URL: enqueue the runs in Redis for `podwire worker` processes instead of running them here. */
  redis?: string | undefined;
}

/** A redis:// or rediss:// URL, or a usage error naming the flag. */
export function checkRedisUrl(flag: string, url: string): void {
  let ok = false;
  try {
    const u = new URL(url);
    ok = (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
  } catch {
    ok = false;
  }
  if (!ok) throw new CliError(`${flag}: expected redis://HOST:PORT, got "${terminalSafe(url)}"`, EXIT.usage);
}

function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SweepInputError) throw new CliError(terminalSafe(e.message), EXIT.usage);
    throw e;
  }
}

/** The plan of a sweep: variants validated, variant files written, runs listed. */
export function prepareSweep(args: SweepArgs): { variants: Variant[]; seeds: number[]; tasks: RunTask[]; scenario: string } {
  const flags: VaryFlag[] = usage(() => args.vary.map(parseVaryFlag));
  const seeds = usage(() => parseSeeds(args.seeds));
  const loaded = loadScenarioFile(args.file); // positions in the file itself for its own problems
  const named = args.variants !== undefined ? loadVariantsFile(args.variants) : [];
  const text = readFileSync(args.file, 'utf8');
  const variants = usage(() => planVariants(args.file, text, named, flags));
  checkOutDir(args.out);
  ensureDir(args.out);
  for (const v of variants) {
    const p = join(args.out, 'runs', v.dir, 'scenario.yaml');
    let old: string | null = null;
    try {
      old = readFileSync(p, 'utf8');
    } catch {
      /* first time */
    }
    if (old !== v.text) writeFileAtomic(p, v.text);
  }
  return { variants, seeds, tasks: planRuns(args.file, args.out, variants, seeds, args.capture), scenario: loaded.scenario.metadata.name };
}

/** A TTY progress line: runs done, the last one, an ETA from the mean run time so far. */
function progressLine(total: number, alreadyDone: number, workers: number): ((task: RunTask, o: RunOutcome) => void) | undefined {
  if (!process.stderr.isTTY || process.env['CI']) return undefined;
  const t0 = performance.now();
  let done = 0;
  return (task, o) => {
    done++;
    const wall = (performance.now() - t0) / 1000;
    const left = total - alreadyDone - done;
    const eta = left > 0 ? `  ETA ${Math.ceil((wall / done) * left)} s` : '';
    const what = 'error' in o ? 'FAILED' : 'done';
    process.stderr.write(`\r\x1b[K  runs ${alreadyDone + done}/${total}${eta}  (${workers} workers; ${terminalSafe(task.variant)} seed ${task.seed} ${what})`);
  };
}

/** Runs `podwire sweep`; returns the exit code. */
export async function sweepCommand(args: SweepArgs): Promise<number> {
  if (args.redis !== undefined) {
    checkRedisUrl('--redis', args.redis);
    if (args.capture) throw new CliError('--capture: captures do not travel through Redis; run a capturing sweep with the local executor', EXIT.usage);
  }
  const workers = args.workers ?? Math.max(1, availableParallelism() - 1);
  if (!Number.isSafeInteger(workers) || workers < 0) throw new CliError(`--workers: expected a non-negative integer, got ${args.workers}`, EXIT.usage);
  const { variants, seeds, tasks, scenario } = prepareSweep(args);
  const { skipped, todo } = pendingRuns(tasks);
  if (!args.quiet) process.stderr.write(`podwire sweep: ${variants.length} variants × ${seeds.length} seeds = ${tasks.length} runs${skipped.length > 0 ? `, ${skipped.length} already done (resuming)` : ''}${args.redis !== undefined ? `; queued in Redis for podwire worker` : ''}\n`);
  const ac = new AbortController();
  let signal: 'SIGINT' | 'SIGTERM' | null = null;
  const onSig = (s: 'SIGINT' | 'SIGTERM') => () => {
    if (signal !== null) process.exit(s === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
    signal = s;
    ac.abort();
  };
  const onInt = onSig('SIGINT');
  const onTerm = onSig('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const bar = progressLine(tasks.length, skipped.length, workers);
  let completed = 0;
  let failures;
  try {
    const onDone = (t: RunTask, o: RunOutcome): void => {
      completed++;
      bar?.(t, o);
    };
    const onConnectionError = (line: string): void => void process.stderr.write(`${bar ? '\r\x1b[K' : ''}podwire sweep: ${terminalSafe(line)}\n`);
    failures = args.redis !== undefined ? await runRedis(todo, { url: args.redis, signal: ac.signal, onDone, onConnectionError }) : await runLocal(todo, { workers, signal: ac.signal, onDone });
  } catch (e) {
    if (e instanceof RedisUnreachable) throw new CliError(`--redis: ${terminalSafe(e.message)}`, EXIT.usage);
    if (signal === null) throw e;
    failures = null;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    if (bar) process.stderr.write('\r\x1b[K');
  }
  if (failures === null || signal !== null) {
    process.stderr.write(`podwire sweep: stopped by ${signal}: ${skipped.length + completed} of ${tasks.length} runs complete; run the same command again to resume\n`);
    return signal === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
  }
  if (failures.length > 0) {
    for (const f of failures) process.stderr.write(`podwire sweep: variant ${terminalSafe(f.task.variant)} seed ${f.task.seed} failed: ${terminalSafe(f.message).split('\n').join('\n  ')}\n`);
    process.stderr.write(`podwire sweep: ${failures.length} of ${tasks.length} runs failed; sweep.json not written\n`);
    return EXIT.input;
  }
  return finishSweep(args, scenario, variants, seeds);
}

/** Merges the runs into DIR/sweep.json, writes DIR/report.html (unless --no-report) and prints the comparison table. */
export async function finishSweep(args: Pick<SweepArgs, 'out' | 'file' | 'quiet' | 'report'>, scenario: string, variants: Variant[], seeds: number[]): Promise<number> {
  const doc = aggregate(args.out, args.file, scenario, variants, seeds);
  const path = join(args.out, 'sweep.json');
  writeFileAtomic(path, `${JSON.stringify(doc, null, 2)}\n`);
  const html = args.report !== false ? await writeSweepReport(args.out, doc) : null;
  const partial = doc.variants.flatMap((v) => v.runs.filter((r) => r.partial).map((r) => `${v.name} seed ${r.seed}: ${r.partial}`));
  if (!args.quiet) process.stdout.write(`${comparisonTable(doc).join('\n')}\n\nsweep:  ${path}\n${html !== null ? `report: ${html}\n` : ''}`);
  for (const p of partial) process.stderr.write(`podwire sweep: partial run: ${terminalSafe(p)}\n`);
  return EXIT.ok;
}
