// report/write — writes report.html (and, after a run, the topology.json and timeseries.json it is
// drawn from) whole or not at all: every file is finished under a temporary name, then all are
// renamed into place, report.html last. Layer: report (imports capture's atomic files, scenario's
// World type, stats).
import { join } from 'node:path';
import { writeFileFinished, type AtomicFile } from '../capture/atomic.js';
import type { World } from '../scenario/build.js';
import { timeseriesJsonText, type StatsDocument } from '../stats/index.js';
import { cdfOfHgrm } from './hgrm.js';
import { renderReport } from './html.js';
import type { ReportInput } from './model.js';
import { topologyOf } from './topology.js';

/** Writes the files (already rendered) together: all finished, then all published in order. */
export function publishTogether(files: [string, string][]): void {
  const done: AtomicFile[] = [];
  try {
    for (const [path, text] of files) done.push(writeFileFinished(path, text));
    for (const f of done) f.publish();
  } catch (e) {
    for (const f of done) f.abort();
    throw e;
  }
}

/** Renders `input` and writes it to `path` atomically. */
export async function writeReport(path: string, input: ReportInput): Promise<void> {
  publishTogether([[path, await renderReport(input)]]);
}

/** After `podwire run`: topology.json, timeseries.json and report.html beside stats.json. Returns report.html's path. */
export async function writeRunReport(world: World, stats: StatsDocument, outDir: string, flow?: string): Promise<string> {
  const topology = topologyOf(world);
  const series = world.stats.timeseries();
  const cdf = new Map([...world.stats.hgrm()].map(([name, text]) => [name, cdfOfHgrm(text)]));
  const input: ReportInput = { title: stats.scenario, runs: [{ label: '', stats, cdf, series }], topology, ...(flow !== undefined ? { flow } : {}) };
  const html = await renderReport(input);
  const path = join(outDir, 'report.html');
  publishTogether([
    [join(outDir, 'topology.json'), JSON.stringify(topology, null, 2) + '\n'],
    [join(outDir, 'timeseries.json'), timeseriesJsonText(series)],
    [path, html],
  ]);
  return path;
}
