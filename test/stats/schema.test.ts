// The published JSON Schema of stats.json (schema/stats.schema.json): it is what `podwire schema stats`
// prints (generated from the one zod definition in src/stats/schema.ts), and every scenario's
// stats.json validates against it with an independent validator (ajv, JSON Schema draft 2020-12).
// Regenerate after a deliberate change: node dist/src/cli/main.js schema stats > schema/stats.schema.json
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { statsJsonSchema } from '../../src/stats/schema.js';
import { ROOT, runScenario } from '../integration/run-scenario.js';

const published = JSON.parse(readFileSync(join(ROOT, 'schema/stats.schema.json'), 'utf8')) as Record<string, unknown>;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(published);

describe('schema/stats.schema.json', () => {
  it('is what the zod definition generates (regenerate it when this fails)', () => {
    expect(published).toEqual(statsJsonSchema());
  });

  it('rejects a document with a missing key, a wrong type or an unknown stop reason', () => {
    const file = join(ROOT, 'scenarios/docker0-bridge.yaml');
    const out = runScenario(file, 7);
    rmSync(out.dir, { recursive: true, force: true });
    const doc = JSON.parse(out.stats.toString()) as Record<string, unknown>;
    expect(validate(doc)).toBe(true);
    const { timeline: _t, ...noTimeline } = doc;
    expect(validate(noTimeline)).toBe(false);
    expect(validate({ ...doc, seed: 'seven' })).toBe(false);
    expect(validate({ ...doc, stop: 'crashed' })).toBe(false);
  });

  const scenarios = (readdirSync(join(ROOT, 'scenarios'), { recursive: true }) as string[]).filter((f) => f.endsWith('.yaml') && f.split('/').length <= 2).sort();
  for (const f of scenarios) {
    it(`scenarios/${f}: stats.json validates`, () => {
      const file = join(ROOT, 'scenarios', f);
      const out = runScenario(file, loadScenarioFile(file).scenario.spec.seed ?? 1);
      rmSync(out.dir, { recursive: true, force: true });
      const ok = validate(JSON.parse(out.stats.toString()));
      expect(ok, JSON.stringify(validate.errors)).toBe(true);
    });
  }
});
