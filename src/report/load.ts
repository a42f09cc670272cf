// report/load — reads a run's output directory (stats.json, <flow>.hgrm, timeseries.json,
// topology.json) or a directory of runs (one sub-directory per variant) into a ReportInput. Layer:
// report (imports stats for the schemas, node:fs).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { StatsDocumentSchema, TimeseriesDocumentSchema, type StatsDocument } from '../stats/index.js';
import { cdfOfHgrm } from './hgrm.js';
import type { CdfPoint, ReportInput, RunData, Topology } from './model.js';

/** A directory that holds nothing to report, or a file in it that does not parse. */
export class ReportInputError extends Error {}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ReportInputError(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function readStats(path: string): StatsDocument {
  const r = StatsDocumentSchema.safeParse(readJson(path));
  if (!r.success) throw new ReportInputError(`${path}: not a podwire stats.json (${r.error.issues[0]?.path.join('.') ?? ''}: ${r.error.issues[0]?.message ?? ''})`);
  return r.data;
}

/** One run directory: stats.json is required; the .hgrm files and timeseries.json are optional. */
export function loadRun(dir: string, label: string): RunData {
  const stats = readStats(join(dir, 'stats.json'));
  const cdf = new Map<string, CdfPoint[]>();
  for (const f of stats.flows) {
    const p = join(dir, `${f.name}.hgrm`);
    if (existsSync(p)) cdf.set(f.name, cdfOfHgrm(readFileSync(p, 'utf8')));
  }
  const tsPath = join(dir, 'timeseries.json');
  const ts = existsSync(tsPath) ? TimeseriesDocumentSchema.safeParse(readJson(tsPath)) : null;
  if (ts && !ts.success) throw new ReportInputError(`${tsPath}: not a podwire timeseries.json`);
  return { label, stats, cdf, series: ts ? ts.data : null };
}

function loadTopology(dir: string): Topology | null {
  const p = join(dir, 'topology.json');
  if (!existsSync(p)) return null;
  const t = readJson(p) as Topology;
  if (t?.schema !== 'podwire-topology/1') throw new ReportInputError(`${p}: not a podwire topology.json`);
  return t;
}

/** The sub-directories of `dir` that hold a stats.json, sorted by name. */
function runDirs(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => statSync(join(dir, n)).isDirectory() && existsSync(join(dir, n, 'stats.json')))
    .sort();
}

/** What `podwire report DIR` shows: DIR's own run, or one variant per sub-directory with a stats.json. */
export function loadReportInput(dir: string, flow?: string): ReportInput {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ReportInputError(`${dir}: not a directory`);
  if (existsSync(join(dir, 'stats.json'))) {
    const run = loadRun(dir, '');
    return { title: run.stats.scenario || basename(dir), runs: [run], topology: loadTopology(dir), ...(flow !== undefined ? { flow } : {}) };
  }
  const subs = runDirs(dir);
  if (subs.length === 0) throw new ReportInputError(`${dir}: no stats.json in it nor in any sub-directory (run \`podwire run FILE --out ${dir}\` first)`);
  const runs = subs.map((s) => loadRun(join(dir, s), s));
  const topology = subs.map((s) => loadTopology(join(dir, s))).find((t) => t !== null) ?? null;
  return { title: runs[0]!.stats.scenario || basename(dir), runs, topology, ...(flow !== undefined ? { flow } : {}) };
}
