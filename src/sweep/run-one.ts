// sweep/run-one — one (variant, seed) run, the same code whichever executor calls it (in process, a
// worker thread, a Redis worker): load the variant's text, build the world with the seed, run it with
// `podwire run`'s defaults, write stats.json and the .hgrm files atomically, then run.json. The outputs
// are those of `podwire run scenario.yaml --seed N` (the capture only with `capture`). Layer: sweep.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, writeFileAtomic } from '../capture/atomic.js';
import { buildWorld } from '../scenario/build.js';
import { loadScenarioText } from '../scenario/load.js';
import { runWorld } from '../scenario/run.js';
import type { RunRecord, RunTask } from './plan.js';

/** `podwire run`'s --max-events default: a sweep run stops where a single run would. */
export const RUN_MAX_EVENTS = 50_000_000;
/** `podwire run`'s --max-capture default. */
const RUN_MAX_CAPTURE = 1024 ** 3;

/** The run's record when it is complete with the same scenario text, else null. */
export function finishedRun(task: Pick<RunTask, 'outDir' | 'sha256' | 'seed'>): RunRecord | null {
  try {
    const rec = JSON.parse(readFileSync(join(task.outDir, 'run.json'), 'utf8')) as RunRecord;
    return rec.sha256 === task.sha256 && rec.seed === task.seed ? rec : null;
  } catch {
    return null;
  }
}

/** Removes what an interrupted attempt left: temporary files, and run.json of other text. */
function clearAttempt(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (/\.tmp-\d+$/.test(n) || n === 'run.json') rmSync(join(dir, n), { recursive: true, force: true });
}

/** Runs one task to its end and returns its record (run.json). */
export function runTask(task: RunTask): RunRecord {
  clearAttempt(task.outDir);
  ensureDir(task.outDir);
  const loaded = loadScenarioText(task.text, task.file);
  const world = buildWorld(loaded, task.seed);
  // Without a capture, the run opens no writer; the simulation and stats.json do not depend on it.
  if (!task.capture) world.captured.length = 0;
  const spec = loaded.scenario.spec;
  const res = runWorld(world, { outDir: task.outDir, format: spec.capture.format, snaplen: spec.capture.snaplen, ...(spec.capture.filter !== undefined ? { filter: spec.capture.filter } : {}), maxEvents: RUN_MAX_EVENTS, maxCaptureBytes: RUN_MAX_CAPTURE });
  const rec: RunRecord = { variant: task.variant, seed: task.seed, sha256: task.sha256, events: res.events };
  writeFileAtomic(join(task.outDir, 'run.json'), `${JSON.stringify(rec)}\n`);
  return rec;
}
