// Golden outputs: every scenario in scenarios/ (and its subfolders) at seeds 1, 7 and 42 writes a capture.pcapng and a
// stats.json whose sha256 equals the one recorded in test/fixtures/golden/hashes.json. A refactor that
// moves code must leave them identical; a deliberate change of output (a new stats.json key, a fixed
// wire behaviour) updates the hashes in a commit of its own that says why:
//
//   UPDATE_GOLDEN=1 npx vitest run test/integration/golden.test.ts
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runScenario } from './run-scenario.js';

type Hashes = Record<string, Record<string, { capture: string; stats: string }>>;
const FILE = join(ROOT, 'test/fixtures/golden/hashes.json');
const SEEDS = [1, 7, 42];
const update = process.env['UPDATE_GOLDEN'] === '1';
const recorded = JSON.parse(readFileSync(FILE, 'utf8')) as Hashes;
const now: Hashes = {};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
// scenarios/*.yaml and one folder down (scenarios/faults/NAME.yaml is recorded as faults/NAME).
const scenarios = (readdirSync(join(ROOT, 'scenarios'), { recursive: true }) as string[]).filter((f) => f.endsWith('.yaml') && f.split('/').length <= 2).map((f) => f.slice(0, -5)).sort();

afterAll(() => {
  // A filtered update (`-t NAME`) rewrites only the scenarios it ran; every other scenario keeps its recorded
  // hashes, and scenarios no longer in scenarios/ are dropped.
  if (!update) return;
  const merged: Hashes = {};
  for (const name of scenarios) if (now[name] ?? recorded[name]) merged[name] = { ...recorded[name], ...now[name] };
  writeFileSync(FILE, JSON.stringify(merged, null, 1) + '\n');
});

describe('golden outputs (sha256 of capture.pcapng and stats.json)', () => {
  it('every scenario has recorded hashes', () => {
    if (update) return;
    expect(Object.keys(recorded).sort()).toEqual(scenarios);
  });
  for (const name of scenarios) {
    for (const seed of SEEDS) {
      it(`${name} --seed ${seed}`, () => {
        const out = runScenario(join(ROOT, 'scenarios', `${name}.yaml`), seed);
        rmSync(out.dir, { recursive: true, force: true });
        const got = { capture: sha(out.capture), stats: sha(out.stats) };
        (now[name] ??= {})[String(seed)] = got;
        if (update) return;
        expect(got.capture, 'capture.pcapng').toBe(recorded[name]?.[String(seed)]?.capture);
        expect(got.stats, 'stats.json').toBe(recorded[name]?.[String(seed)]?.stats);
      });
    }
  }
});
