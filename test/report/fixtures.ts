// test/report/fixtures — runs shipped scenarios in-process and writes their reports into temporary
// directories: a lone run (faults.yaml: a fault timeline, three endpoints) and a directory of variants.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadReportInput, writeReport, writeRunReport } from '../../src/report/index.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import type { StatsDocument } from '../../src/stats/index.js';

export const ROOT = resolve(import.meta.dirname, '../..');

/** Runs scenarios/NAME.yaml into `dir` and writes its report; returns stats.json's document. */
export async function runWithReport(name: string, seed: number, dir: string): Promise<StatsDocument> {
  const loaded = loadScenarioFile(join(ROOT, 'scenarios', `${name}.yaml`));
  const world = buildWorld(loaded, seed);
  const res = runWorld(world, { outDir: dir, format: 'pcapng', snaplen: loaded.scenario.spec.capture.snaplen });
  await writeRunReport(world, res.stats, dir);
  return res.stats;
}

/** Two variants (seeds 1 and 7) of http-clusterip under one directory, with the comparison report. */
export async function variantsReport(): Promise<{ dir: string; stats: StatsDocument[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'podwire-report-variants-'));
  const stats = [await runWithReport('http-clusterip', 1, join(dir, 'seed-1')), await runWithReport('http-clusterip', 7, join(dir, 'seed-7'))];
  await writeReport(join(dir, 'report.html'), loadReportInput(dir));
  return { dir, stats };
}
