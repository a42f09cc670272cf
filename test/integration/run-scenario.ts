// test/integration/run-scenario — runs a scenario file in-process (load → build → run) into a fresh
// temporary directory and returns the paths and bytes of what it wrote.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DOCKER0 = join(ROOT, 'scenarios/docker0-bridge.yaml');

export interface ScenarioOutput {
  dir: string;
  capturePath: string;
  capture: Buffer;
  stats: Buffer;
  captured: string[];
}

export function runScenario(file: string, seed: number): ScenarioOutput {
  const loaded = loadScenarioFile(file);
  const world = buildWorld(loaded, seed);
  const dir = mkdtempSync(join(tmpdir(), 'podwire-it-'));
  const res = runWorld(world, { outDir: dir, format: 'pcapng', snaplen: loaded.scenario.spec.capture.snaplen });
  return {
    dir,
    capturePath: res.files.capture,
    capture: readFileSync(res.files.capture),
    stats: readFileSync(res.files.stats),
    captured: world.captured.map((d) => d.qualifiedName),
  };
}
