// experiments/prestop.yaml: a rolling update loses the requests kube-proxy still sends to pods that have
// exited; a preStop sleep at least as long as endpointDelay + proxySyncDelay (2 s here) loses none.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';

const FILE = join(import.meta.dirname, '../../experiments/prestop.yaml');

function errors(sleep: number, seed: number): { errors: number; timeouts: number; requests: number } {
  const text = readFileSync(FILE, 'utf8').replace('sleep: { seconds: 0 }', `sleep: { seconds: ${sleep} }`);
  const w = buildWorld(loadScenarioText(text, 'prestop.yaml'), seed);
  w.sim.run({ until: 30e9 });
  const f = w.stats.flow('load');
  return { errors: f.errorCount, timeouts: f.errors.timeout, requests: f.requests };
}

describe('preStop sleep against a rolling update', () => {
  it.each([1, 2])('seed %i: no sleep loses requests (timeouts), 1 s fewer, 2 s and 3 s none', (seed) => {
    const [s0, s1, s2, s3] = [0, 1, 2, 3].map((s) => errors(s, seed));
    expect(s0!.errors).toBeGreaterThan(0);
    expect(s0!.errors).toBe(s0!.timeouts);
    expect(s1!.errors).toBeLessThan(s0!.errors);
    expect(s1!.errors).toBeGreaterThan(0);
    expect(s2!.errors).toBe(0);
    expect(s3!.errors).toBe(0);
    expect(s3!.requests).toBeGreaterThan(400);
  }, 60_000);
});
