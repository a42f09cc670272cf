// cli/run — `podwire run`: builds the world, runs it in steps with the resource guards and signal
// handling, prints the summary. Layer: cli (reads the clock, memory, signals and the terminal).
//
// Guards: --max-events, --max-sim-time, --max-capture (scenario/run enforces them) and the memory guard
// (checked here between steps): the resident set against --max-memory, and the JavaScript heap against
// 80% of V8's own limit (old space: heap_size_limit less the young generation, --max-old-space-size), which is often the lower of the two —
// V8 aborts the process (signal 6, no outputs) when it is reached. Steps shrink when memory grows fast
// (headroom / growth per event), so the guard looks again before the limit is crossed. The simulator runs synchronously, so
// the loop yields to the event loop between steps of STEP_EVENTS events: that is when SIGINT/SIGTERM
// handlers run. The first signal stops the run at the next step and writes whole, partial outputs (see
// SignalGuard for a second one). Exit codes: 0 done, 3 stopped by a guard
// (outputs whole, stats.json has `partial`), 73 outputs could not be written, 130 SIGINT, 143 SIGTERM.
import { statSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { resolve } from 'node:path';
import type { StopReason } from '../core/simulator.js';
import { durationProblem, formatTime, parseDuration } from '../core/time.js';
import { terminalSafe } from '../core/user-error.js';
import type { RunResult, ScenarioRun } from '../scenario/run.js';
import type { World } from '../scenario/build.js';
import { dropsOf } from '../stats/drops.js';
import { onSignal, SIGNAL_EXIT, type Signal } from './signals.js';

/** Events run between two looks at signals and memory (about 50 ms of simulation). */
const STEP_EVENTS = 50_000;

/** Fewest events between two looks at memory, when it grows fast. */
const MIN_STEP_EVENTS = 256;
/**
 * Share of V8's old-space limit at which a run stops: past it V8 spends most of its time collecting
 * garbage before it aborts, and the rest is for finishing the outputs.
 */
const HEAP_SHARE = 0.8;
/** What heap_size_limit adds to --max-old-space-size: the young generation (3 × 16 MiB semi-spaces on 64-bit). */
const YOUNG_GENERATION = 48 * 1024 ** 2;

/** V8's old-space limit: --max-old-space-size, or its default from the machine's memory. */
function oldSpaceLimit(): number {
  const total = getHeapStatistics().heap_size_limit;
  return total > 2 * YOUNG_GENERATION ? total - YOUNG_GENERATION : total;
}

/** The memory limits a run is held to: resident bytes (--max-memory) and JavaScript heap bytes (V8's limit). */
export interface MemoryLimits {
  rssBytes: number;
  heapBytes: number;
}

/** The limits for a --max-memory value: it, and 80% of V8's old-space limit. */
export function memoryLimits(maxRssBytes: number): MemoryLimits {
  return { rssBytes: maxRssBytes, heapBytes: Math.floor(oldSpaceLimit() * HEAP_SHARE) };
}

/** The lower of the two limits, in bytes (what a scenario's estimate is compared with). */
export function memoryBudget(l: MemoryLimits): number {
  return Math.min(l.rssBytes, l.heapBytes);
}

/** "3.5 GiB", "512 MiB". */
export function formatBytes(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`;
}

/** Null while memory is under both limits; else which limit was hit and how to raise it, in words. */
export function memoryOver(l: MemoryLimits): string | null {
  const rss = process.memoryUsage.rss();
  if (rss > l.rssBytes) return `the process uses ${formatBytes(rss)}, above --max-memory ${formatBytes(l.rssBytes)} (raise it with --max-memory)`;
  const heap = getHeapStatistics().used_heap_size;
  if (heap > l.heapBytes) return `the JavaScript heap holds ${formatBytes(heap)}, past 80% of Node's heap limit ${formatBytes(l.heapBytes / HEAP_SHARE)} (raise it with NODE_OPTIONS=--max-old-space-size=<MiB>)`;
  return null;
}

/** Exit codes of `podwire run`, as the README lists them. */
export const EXIT = { ok: 0, input: 1, usage: 2, partial: 3, output: 73, internal: 70, sigint: SIGNAL_EXIT.SIGINT, sigterm: SIGNAL_EXIT.SIGTERM } as const;

/** A bad flag or an unusable environment: one line, a dedicated exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3 };

/** Parses "500MB", "2GiB", "1e9" into bytes; a CliError (exit 2) names the flag otherwise. */
export function parseBytesFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?(?:e[0-9]+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined || !(Number(m[1]) > 0)) throw new CliError(`${flag}: expected a size like 500MB or 2GiB, got "${terminalSafe(text)}"`, EXIT.usage);
  return Math.round(Number(m[1]) * unit);
}

/** Parses a positive integer count flag. */
export function parseCountFlag(flag: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v <= 0) throw new CliError(`${flag}: expected a positive integer, got ${v}`, EXIT.usage);
  return v;
}

/** Parses a duration flag (`--until`, `--max-sim-time`, `trace --at`): the limits and words of a scenario's durations. */
export function parseDurationFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const problem = durationProblem(text);
  if (problem !== null) throw new CliError(`${flag}: ${problem}, got "${terminalSafe(text)}"`, EXIT.usage);
  return parseDuration(text)!;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a path component is not a directory',
  EEXIST: 'a file is in the way',
  EISDIR: 'is a directory',
  ENOENT: 'no such file or directory',
  EIO: 'input/output error',
};

/** An error from writing outputs, as one line naming the path and the cause; null for anything else. */
export function outputError(e: unknown): CliError | null {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code !== 'string' || ERRNO_TEXT[err.code] === undefined) return null;
  const path = err.path ?? (err as { dest?: string }).dest ?? '';
  return new CliError(`cannot write ${terminalSafe(String(path).replace(/\.tmp-\d+$/, ''))}: ${ERRNO_TEXT[err.code]} (${err.code})`, EXIT.output);
}

/** Refuses an --out that cannot be a directory before any work is done. */
export function checkOutDir(dir: string): void {
  if (dir.trim() === '') throw new CliError(`--out: expected a directory, got "${dir}"`, EXIT.usage);
  let st;
  try {
    st = statSync(dir);
  } catch {
    return; // created by the run
  }
  if (!st.isDirectory()) throw new CliError(`--out ${terminalSafe(dir)}: exists and is not a directory`, EXIT.output);
}

/** A TTY progress line with simulated time, percentage, event rate and an ETA; undefined off a TTY. */
export function progressBar(untilNs: number | null): ((now: number, events: number) => void) | undefined {
  if (!process.stderr.isTTY || process.env['CI']) return undefined;
  const t0 = performance.now();
  return (now, events) => {
    const wall = (performance.now() - t0) / 1000;
    const frac = untilNs ? Math.min(1, now / untilNs) : 0;
    const pct = untilNs ? ` ${(100 * frac).toFixed(0)}%` : '';
    const eta = frac > 0.01 && frac < 1 ? `  ETA ${Math.ceil((wall * (1 - frac)) / frac)} s` : '';
    process.stderr.write(`\r  sim ${formatTime(now)}${pct}  events ${events.toLocaleString('en-US')}  ${(events / Math.max(wall, 1e-3) / 1e6).toFixed(2)} M events/s${eta}   `);
  };
}

export type { Signal } from './signals.js';

/**
 * A repeated signal this soon after the first is the same request delivered twice, not a user insisting:
 * `timeout` signals its child and then its whole process group, a terminal's Ctrl-C reaches every process
 * of the foreground group (a wrapper that forwards it sends it again), and two signals that arrive during
 * one step are handled in the same event-loop turn. (This is how a SIGTERM after 900 s of a 10^6-user run
 * left nothing: its second copy took the "exit at once" path before the first had stopped the run.)
 */
export const REPEAT_GRACE_MS = 1000;

/**
 * SIGINT/SIGTERM for the whole of `podwire run`: the first one asks the run to stop at the next step
 * and write whole, partial outputs (and is remembered through the report, so the exit code says it).
 * A repeated one within REPEAT_GRACE_MS is a duplicate and ignored; a repeated SIGTERM is always ignored
 * (it asks for the clean stop already under way; a supervisor that wants the process gone sends
 * SIGKILL); a SIGINT after the grace time is a user pressing Ctrl-C again: temporary files are removed,
 * one line says so, and the process exits at once (130).
 */
export class SignalGuard {
  signal: Signal | null = null;
  /** Removes the temporary files of the run in progress (set by runWithGuards). */
  onAbort: (() => void) | null = null;
  private firstAt = 0;
  private release: (() => void) | null = null;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly exit: (code: number) => void = (c) => process.exit(c),
    private readonly graceMs = REPEAT_GRACE_MS,
  ) {}

  /** Takes SIGINT / SIGTERM over (cli/signals' stack) until uninstall. */
  install(): this {
    this.release ??= onSignal((s) => this.handle(s));
    return this;
  }

  uninstall(): void {
    this.release?.();
    this.release = null;
  }

  private handle(s: Signal): void {
    const t = this.now();
    if (this.signal === null) {
      this.signal = s;
      this.firstAt = t;
      return;
    }
    if (s !== 'SIGINT' || t - this.firstAt < this.graceMs) return; // a duplicate, or SIGTERM again: the stop goes on
    this.onAbort?.();
    process.stderr.write('podwire: SIGINT again: stopped at once; no outputs written\n');
    this.exit(EXIT.sigint);
  }
}

/**
 * Runs a prepared ScenarioRun to its end, a guard or a signal (watched by `signals`, installed by the
 * caller before the run opens its files, so a signal at any moment finds them). Returns the result and
 * the signal or guard that stopped it, if any.
 */
export async function runWithGuards(makeRun: () => ScenarioRun, limits: MemoryLimits, signals: SignalGuard): Promise<{ res: RunResult; stoppedBy: Signal | 'max-memory' | null }> {
  const run = makeRun();
  signals.onAbort = () => run.abort();
  try {
    return await loop(run, limits, () => signals.signal);
  } finally {
    signals.onAbort = null;
  }
}

/**
 * The next step's size: the events that fit in a quarter of the headroom left at the growth per event
 * the last step showed, between MIN_STEP_EVENTS and STEP_EVENTS.
 */
export function nextStep(limits: MemoryLimits, heapBefore: number, heapAfter: number, events: number): number {
  const perEvent = events > 0 ? (heapAfter - heapBefore) / events : 0;
  if (perEvent <= 0) return STEP_EVENTS;
  const headroom = Math.min(limits.heapBytes - heapAfter, limits.rssBytes - process.memoryUsage.rss());
  return Math.max(MIN_STEP_EVENTS, Math.min(STEP_EVENTS, Math.floor(headroom / 4 / perEvent)));
}

async function loop(run: ScenarioRun, limits: MemoryLimits, signal: () => Signal | null): Promise<{ res: RunResult; stoppedBy: Signal | 'max-memory' | null }> {
  try {
    let stop: StopReason | null = null;
    let stoppedBy: Signal | 'max-memory' | null = null;
    let memory: string | null = null;
    let budget = STEP_EVENTS;
    while (stop === null) {
      await new Promise<void>((r) => setImmediate(r));
      const sig = signal();
      if (sig !== null) stoppedBy = sig;
      else if ((memory = memoryOver(limits)) !== null) stoppedBy = 'max-memory';
      if (stoppedBy !== null) {
        stop = 'stopped';
        break;
      }
      const heap0 = getHeapStatistics().used_heap_size;
      const ev0 = run.events;
      stop = run.step(budget);
      budget = nextStep(limits, heap0, getHeapStatistics().used_heap_size, run.events - ev0);
    }
    const res = run.finish(stop, stoppedBy !== null ? run.partial(stop, stoppedBy, memory ?? undefined) : run.partial(stop));
    return { res, stoppedBy };
  } catch (e) {
    run.abort();
    throw e;
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** The run summary printed after a run: flows, endpoints, timeline, drops, output paths. */
export function summaryLines(world: World, seed: number, res: RunResult, wallS: number): string[] {
  const doc = res.stats;
  const lines: string[] = [];
  lines.push(`podwire: ${world.name} seed=${seed}: simulated ${formatTime(res.simTimeNs)} (${res.stop}), ${res.events.toLocaleString('en-US')} events in ${wallS.toFixed(2)} s`);
  if (doc.partial) lines.push(doc.partial.message);
  if (doc.capture) lines.push(doc.capture.message);
  lines.push('');
  // sent/recv: probes or requests and their answers; lost: probes or requests without an answer in time
  // (timeouts); err: every request that failed for good, as stats.json's flows[].errors counts it (lost
  // included), listed below by kind.
  lines.push(`${pad('flow', 28)} ${pad('sent', 6)} ${pad('recv', 6)} ${pad('lost', 6)} ${pad('err', 5)} ${pad('min us', 10)} ${pad('p50 us', 10)} ${pad('p99 us', 10)} max us`);
  for (const f of doc.flows) {
    // (latency is of successful requests: none, none to show — stats.json's zeros are not a measured 0 µs)
    const [min, p50, p99, max] = f.successes > 0 ? [f.latencyUs.min, f.latencyUs.p50, f.latencyUs.p99, f.latencyUs.max].map(String) : ['-', '-', '-', '-'];
    lines.push(`${pad(f.name, 28)} ${pad(String(f.sent), 6)} ${pad(String(f.received), 6)} ${pad(String(f.lost), 6)} ${pad(String(f.errors), 5)} ${pad(min!, 10)} ${pad(p50!, 10)} ${pad(p99!, 10)} ${max}`);
  }
  for (const f of doc.flows.filter((x) => x.errors > 0)) {
    const kinds = Object.entries(f.errorsByKind).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`);
    lines.push(`  ${f.name}: err ${f.errors} (${kinds.join(' ')})`);
  }
  if (doc.endpoints.length > 0) {
    // served and share: the traffic's requests; probes: the kubelet's, apart (shown when a pod answered any).
    const probes = doc.endpoints.some((e) => (e.probes ?? 0) > 0);
    lines.push('', `${pad('endpoint', 40)} ${pad('served', 8)} ${probes ? `${pad('share', 7)} probes` : 'share'}`);
    for (const e of doc.endpoints) {
      const share = `${(e.share * 100).toFixed(1)}%`;
      lines.push(`${pad(e.name, 40)} ${pad(String(e.served), 8)} ${probes ? `${pad(share, 7)} ${e.probes ?? 0}` : share}`);
    }
  }
  if (doc.timeline.length > 0) {
    lines.push('');
    for (const t of doc.timeline) lines.push(`${formatTime(Math.round(t.atUs * 1000)).padStart(12)}  ${t.what}`);
  }
  const drops = dropsOf(doc);
  if (drops.length > 0) {
    lines.push('');
    for (const d of drops) lines.push(`${d.where} dropped: ${d.reasons.map(([r, n]) => `${r}=${n}`).join(' ')}`);
  }
  const noListener = Object.entries(doc.counters['no-listener'] ?? {});
  if (noListener.length > 0) {
    lines.push('');
    for (const [where, n] of noListener) lines.push(`no listener on ${where}: ${n} connection attempt${n === 1 ? '' : 's'} refused (RST)`);
  }
  lines.push('');
  if (res.files.capture) lines.push(`capture: ${resolve(res.files.capture)} (${res.packetsCaptured.toLocaleString('en-US')} packets on ${world.captured.length} interfaces)`);
  lines.push(`stats:   ${resolve(res.files.stats)}`);
  return lines;
}
