// experiments/keepalive.yaml: kube-proxy balances connections, not requests (kubernetes/kubernetes#37932).
// With four keep-alive connections every request of a client lands where its connection was DNATed:
// each pod serves a multiple of 60 requests, and four connections over three pods leave one pod at
// least twice the mean (max/mean ≥ 1.5 by pigeonhole). With a new connection per request the 240 draws
// spread: max/mean stays under 1.5 and each pod accepted as many connections as it served requests.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import type { StatsDocument } from '../../src/stats/schema.js';

const FILE = join(import.meta.dirname, '../../experiments/keepalive.yaml');
const dir = mkdtempSync(join(tmpdir(), 'podwire-keepalive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(connection: 'keep-alive' | 'new', seed: number): { served: number[]; accepted: number[] } {
  const text = readFileSync(FILE, 'utf8').replace('connection: keep-alive', `connection: ${connection}`);
  const loaded = loadScenarioText(text, 'keepalive.yaml');
  const out = join(dir, `${connection}-${seed}`);
  runWorld(buildWorld(loaded, seed), { outDir: out, format: 'pcapng', snaplen: 262144 });
  const doc = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as StatsDocument;
  return { served: doc.endpoints.map((e) => e.served), accepted: doc.endpoints.map((e) => doc.counters[`tcp/${e.name}`]?.['PassiveOpens'] ?? 0) };
}

const maxOverMean = (xs: number[]): number => Math.max(...xs) / (xs.reduce((a, b) => a + b, 0) / xs.length);

describe('keep-alive: request shares follow the connections', () => {
  it.each([1, 2, 3, 4, 5])('seed %i', (seed) => {
    const ka = run('keep-alive', seed);
    expect(ka.served.reduce((a, b) => a + b, 0)).toBe(240);
    expect(ka.accepted.reduce((a, b) => a + b, 0)).toBe(4);
    ka.served.forEach((n, i) => expect(n).toBe(60 * ka.accepted[i]!));
    expect(maxOverMean(ka.served)).toBeGreaterThanOrEqual(1.5);

    const fresh = run('new', seed);
    expect(fresh.accepted).toEqual(fresh.served);
    expect(fresh.served.reduce((a, b) => a + b, 0)).toBe(240);
    expect(maxOverMean(fresh.served)).toBeLessThan(1.5);
  }, 60_000);
});
