// Determinism of a whole run: scenarios/docker0-bridge.yaml (one host, docker0, three containers on
// veth pairs) run twice with the same seed writes byte-identical capture.pcapng and stats.json, also
// across processes (the CLI); another seed changes them.
//
//        c1 (172.17.0.2)      c2 (172.17.0.3)      c3 (172.17.0.4)
//          eth0                  eth0                  eth0
//       veth1a2b3c4           veth5d6e7f8           veth9a0b1c2
//           +----------- docker0 172.17.0.1/16 --------+          (host "docker-host")
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt } from '../scenario/dist.js';
import { DOCKER0, ROOT, runScenario, type ScenarioOutput } from './run-scenario.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16);
const dirs: string[] = [];
let seven: ScenarioOutput;
let sevenAgain: ScenarioOutput;

beforeAll(() => {
  seven = runScenario(DOCKER0, 7);
  sevenAgain = runScenario(DOCKER0, 7);
  dirs.push(seven.dir, sevenAgain.dir);
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('determinism (docker0-bridge)', () => {
  it('same seed, same process: byte-identical capture.pcapng', () => {
    expect(sha(sevenAgain.capture)).toBe(sha(seven.capture));
    expect(sevenAgain.capture.equals(seven.capture)).toBe(true);
  });

  it('same seed, same process: byte-identical stats.json', () => {
    expect(sevenAgain.stats.toString()).toBe(seven.stats.toString());
  });

  it('same seed in a fresh process (the CLI): byte-identical to the in-process run', () => {
    ensureBuilt();
    const out = mkdtempSync(join(tmpdir(), 'podwire-det-'));
    dirs.push(out);
    const r = spawnSync(process.execPath, [CLI, 'run', DOCKER0, '--seed', '7', '--out', out, '--quiet'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(sha(readFileSync(join(out, 'capture.pcapng')))).toBe(sha(seven.capture));
    expect(readFileSync(join(out, 'stats.json'), 'utf8')).toBe(seven.stats.toString());
  });

  it('a different seed changes the capture and stats.json', () => {
    const eight = runScenario(DOCKER0, 8);
    dirs.push(eight.dir);
    expect(sha(eight.capture)).not.toBe(sha(seven.capture));
    expect(eight.stats.toString()).not.toBe(seven.stats.toString());
  });
});
