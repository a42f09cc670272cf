// test/integration/run-scenario — runs a scenario file in-process (load → build → run) into a fresh
// temporary directory and returns the paths and bytes of what it wrote.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import type { World } from '../../src/scenario/build.js';
import type { Packet } from '../../src/packet/packet.js';
import { parseFrame } from '../../src/packet/parse.js';
import { readPcapng } from './pcapng-read.js';

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

/** One captured frame, parsed, with the interface it was captured on. */
export interface Frame {
  no: number;
  ifName: string;
  tNs: number;
  pkt: Packet;
}

/** A run of scenarios/NAME.yaml with every captured frame parsed. */
export interface FramedRun {
  dir: string;
  world: World;
  capturePath: string;
  frames: Frame[];
  statsJson: string;
}

/** Runs scenarios/NAME.yaml with its own seed into a fresh temp dir and parses every captured frame. */
export function runScenarioFrames(name: string): FramedRun {
  const loaded = loadScenarioFile(join(ROOT, 'scenarios', `${name}.yaml`));
  const world = buildWorld(loaded, loaded.scenario.spec.seed ?? 1);
  const dir = mkdtempSync(join(tmpdir(), `podwire-${name.replaceAll('/', '-')}-`));
  const res = runWorld(world, { outDir: dir, format: 'pcapng', snaplen: loaded.scenario.spec.capture.snaplen });
  const f = readPcapng(res.files.capture);
  const frames = f.packets.map((p, i) => ({ no: i + 1, ifName: f.interfaces[p.ifId]!, tNs: Number(p.ts), pkt: parseFrame(p.data) }));
  return { dir, world, capturePath: res.files.capture, frames, statsJson: res.statsJson };
}
