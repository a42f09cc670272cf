// scenario/yaml-fast: the fast reader of plain YAML gives the values the `yaml` package gives (YAML 1.2
// core schema), refuses everything outside its subset (load.ts then uses the `yaml` package), and
// loadScenarioText through it gives the same scenario, manifests, warnings, positions and errors as the
// `yaml` package alone (loadScenarioTextYaml) — on the shipped scenarios, generated clusters, two
// upstream manifests, and seeded random and mutated texts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/core/user-error.js';
import { CLUSTER_GEN_DEFAULTS, generateClusterYaml } from '../../src/scenario/generate.js';
import { loadScenarioText, loadScenarioTextYaml, type LoadedScenario } from '../../src/scenario/load.js';
import { fastParseStream } from '../../src/scenario/yaml-fast.js';
import { BOUTIQUE, GUESTBOOK } from './fixtures/upstream-manifests.js';

const ROOT = join(import.meta.dirname, '../..');
const SEED = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) : 20261202;

/** The `yaml` package's reading of a stream: each document's JS value, or the errors it reports. */
function reference(text: string): { values: unknown[] } | { errors: string[] } {
  const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  const errors = docs.flatMap((d) => d.errors.map((e) => e.message));
  if (errors.length > 0) return { errors };
  try {
    return { values: docs.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown) };
  } catch (e) {
    return { errors: [(e as Error).message] };
  }
}

/** A file's load through loadScenarioText, in comparable form: the loaded parts, or the errors thrown. */
function outcome(load: (text: string, file: string) => LoadedScenario, text: string): unknown {
  try {
    const l = load(text, 'f.yaml');
    return { scenario: l.scenario, manifests: l.manifests, warnings: l.warnings };
  } catch (e) {
    if (e instanceof ScenarioError) return { errors: e.errors };
    throw e;
  }
}

/** Every path (keys and indices) into a plain value. */
function pathsOf(v: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...path, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...path, k], out);
  return out;
}

/**
 * The fast reader reads every document of `text` (`allRead`; else at least one is left to the `yaml`
 * package) to the `yaml` package's values, and the file loads the same way, positions of every field included.
 */
function expectSameAsYaml(text: string, allRead = true): void {
  const fast = fastParseStream(text);
  expect(fast).not.toBeNull();
  expect(fast!.every((d) => d.read)).toBe(allRead);
  const ref = reference(text) as { values: unknown[] };
  expect(ref.values).toHaveLength(fast!.length);
  const read = (vs: unknown[]): unknown[] => vs.filter((_, i) => fast![i]!.read);
  expect(read(ref.values)).toEqual(read(fast!.map((d) => d.value)));
  expect(JSON.stringify(read(ref.values))).toBe(JSON.stringify(read(fast!.map((d) => d.value)))); // key order too
  const a = outcome(loadScenarioText, text);
  expect(a).toEqual(outcome(loadScenarioTextYaml, text));
  if ('errors' in (a as object)) return;
  const lf = loadScenarioText(text, 'f.yaml');
  const ly = loadScenarioTextYaml(text, 'f.yaml');
  ref.values.forEach((v, i) => {
    for (const p of pathsOf(v)) expect([i, p, lf.locate(p, i)]).toEqual([i, p, ly.locate(p, i)]);
  });
}

/** Is any document of `text` left to the `yaml` package (or the whole stream)? */
const refused = (text: string): boolean => fastParseStream(text)?.every((d) => d.read) !== true;

const shipped = [
  ...(readdirSync(join(ROOT, 'scenarios'), { recursive: true }) as string[]).filter((f) => f.endsWith('.yaml')).map((f) => join('scenarios', f)),
  ...readdirSync(join(ROOT, 'experiments')).filter((f) => f.endsWith('.yaml')).map((f) => join('experiments', f)),
].sort();

describe('yaml-fast: the shipped scenarios and generated clusters', () => {
  it('reads every shipped scenario as the yaml package does: values, warnings, positions of every field', () => {
    expect(shipped.length).toBeGreaterThan(30);
    for (const f of shipped) expectSameAsYaml(readFileSync(join(ROOT, f), 'utf8'));
  });

  it('reads generated clusters (every option) as the yaml package does', () => {
    const opts = [
      { nodes: 3, services: 11, podsPerService: 2, flows: 2 },
      { nodes: 300, services: 30, podsPerService: 1, flows: 0, capture: true },
      { nodes: 5, services: 200, podsPerService: 3, cni: 'host-gw' as const, mode: 'ipvs' as const },
    ];
    for (const o of opts) expectSameAsYaml(generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, ...o }));
  });

  it('places warnings as the yaml package does: comments before and on markers, List items, a removed apiVersion', () => {
    const text = [
      '# leading comment',
      'apiVersion: podwire.dev/v1alpha1',
      'kind: Scenario',
      'metadata: { name: w }',
      'spec:',
      '  cluster:',
      '    nodes: [{ name: n1 }]',
      '---',
      '# a comment before the object',
      '',
      'apiVersion: v1',
      'kind: ServiceAccount',
      'metadata: { name: sa }',
      '--- # marker comment',
      'apiVersion: v1',
      'kind: List',
      'items:',
      '  - apiVersion: extensions/v1beta1',
      '    kind: Deployment',
      '    metadata: { name: old }',
      '    spec: { selector: { matchLabels: { a: b } }, template: { metadata: { labels: { a: b } }, spec: { containers: [{ name: c, image: x }] } } }',
      '  - { apiVersion: v1, kind: ConfigMap, metadata: { name: cm } }',
      '',
    ].join('\n');
    expectSameAsYaml(text);
    const w = loadScenarioText(text, 'w.yaml').warnings.map((e) => `${e.line}:${e.col} ${e.field}`);
    expect(w).toEqual(['12:7 kind', '18:17 apiVersion', '22:29 kind']);
  });

  it('reads the upstream guestbook with a Scenario beside it; the documents of the boutique with block scalars go to the yaml package, same outcome', () => {
    const scenario = 'apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata: { name: up }\nspec:\n  cluster:\n    nodes: [{ name: n1 }, { name: n2 }]\n---\n';
    expectSameAsYaml(scenario + GUESTBOOK);
    expectSameAsYaml(scenario + BOUTIQUE, false);
    const docs = fastParseStream(scenario + BOUTIQUE)!;
    expect(docs.filter((d) => d.read).length).toBeGreaterThan(docs.length / 2);
  });

  it('a document the yaml package finds wrong sends the whole file to it: same errors, same positions', () => {
    const base = 'apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata: { name: e }\nspec:\n  cluster:\n    nodes: [{ name: n1 }]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata:\n';
    for (const bad of ['  a: |\n    x\n   y: 1\n', '  a: 1\n  a: 2\n', '  a: *nothing\n', '  ? [a]\n  : b\n  c: "x\n']) {
      const text = base + bad;
      expect(fastParseStream(text)!.map((d) => d.read)).toEqual([true, false]);
      const o = outcome(loadScenarioText, text) as { errors?: unknown[] };
      expect(o.errors?.length).toBeGreaterThan(0);
      expect(o).toEqual(outcome(loadScenarioTextYaml, text));
    }
  });
});

describe('yaml-fast: YAML 1.2 core schema', () => {
  it('resolves plain scalars as the yaml package does (on, yes, no are strings; 0o octal; no sexagesimal, no timestamps)', () => {
    const words = ['on', 'off', 'yes', 'no', 'y', 'n', 'Yes', 'ON', 'true', 'True', 'TRUE', 'tRue', 'false', 'FALSE', 'null', 'Null', 'NULL', 'nULL', '~', '0', '-0', '+0', '007', '0o17', '0o18', '017', '0x1F', '0X1F', '0b101', '1_000', '12:30', '1:20:30', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '1.5', '-1.5', '+.5', '.5', '5.', '1e3', '1E-3', '1.5e+3', 'e3', '.inf', '-.Inf', '+.INF', '.nan', '.NaN', '.NAN', 'nan', 'inf', '9007199254740993', '-a', 'a-', 'a b', 'a#b', 'é', 'nginx:1.27', 'http://x:80/y', '10.0.0.0/8', '1ms', '0.0.0.0'];
    const text = words.map((w, i) => `k${i}: ${w}\nf${i}: [${w}, { x: ${w} }]`).join('\n') + '\n';
    expectSameAsYaml(text);
    const v = fastParseStream(text)![0]!.value as Record<string, unknown>;
    expect([v['k0'], v['k2'], v['k4'], v['k18'], v['k22'], v['k23'], v['k24'], v['k26']]).toEqual(['on', 'yes', 'y', null, 7, 15, '0o18', 31]);
  });

  it('counts documents as parseAllDocuments does (leading comments, empty and trailing documents)', () => {
    for (const t of ['', '# c\n', '# c\n---\na: 1\n', 'a: 1\n---\n', '---\n---\n', '---\n', 'a: 1\n---\n# c\n', 'a: 1\n--- # x\nb: 2\n', '\n\n---\na: 1', '---\na: 1\n---\n# only\n---\nb: 1\n']) {
      const fast = fastParseStream(t)!;
      expect(fast.every((d) => d.read)).toBe(true);
      expect(reference(t)).toEqual({ values: fast.map((d) => d.value) });
    }
  });

  it('refuses what it does not read (the yaml package reads it instead)', () => {
    const cases = [
      'a: &x 1\nb: *x\n', // anchors, aliases
      'base: { a: 1 }\nc:\n  <<: { a: 1 }\n', // merge key
      'a: !!str 1\n', // tag
      'a: |\n  x\n', // block scalars
      'a: >\n  x\n',
      'a: one\n  two\n', // multi-line plain scalar
      'a: "x\n  y"\n', // multi-line quoted
      'a: [1,\n  2]\n', // multi-line flow
      'a: 1\na: 2\n', // duplicate keys (the yaml package reports them)
      'a: { b: 1, b: 2 }\n',
      'a:\tb\n', // tab
      'a: 1\r\nb: 2\r\n', // CRLF
      '%YAML 1.2\n---\na: 1\n', // directive
      'a: 1\n...\n', // document end
      '? a\n: 1\n', // explicit key
      'a: "x\\ty"\n', // escape
      '--- a: 1\n', // content on the marker line
      'a: b: c\n', // nested compact mapping (an error)
      '1: x\n', // non-string keys
      'true: x\n',
      'a: [b: c]\n', // a pair in a flow sequence
      'a: {b}\n', // a key without value in a flow mapping
      'a: [1, 2,]\n', // trailing comma
      '  a: 1\n b: 2\n', // bad indentation
      'a:\n  - 1\n  b: 2\n',
      'a: @x\n', // reserved indicators
      '- a\nb: 1\n',
    ];
    cases.push('k: -\n'); // a sequence indicator where a value goes
    for (const t of cases) expect([t, refused(t)]).toEqual([t, true]);
    expect(fastParseStream('a: 1\n---\nb: 1\nc: |\n  x\n')!.map((d) => [d.read, d.refusedAt])).toEqual([[true, undefined], [false, 3]]);
    expect(fastParseStream('a: 1\n---\nb:\tc\n')).toBeNull(); // tabs, CR, directives, '...': the whole stream
  });
});

/** Line-shaped YAML fragments: the random texts are lines of these, at random indents. */
const SCALARS = ['a', 'on', 'yes', 'null', '~', 'true', 'False', '1', '-1', '0o17', '017', '0x1f', '1.5', '.5', '1e3', '-.inf', '.NaN', '1_000', '12:30', 'a:b', 'a: b', 'x y', 'a#b', 'a #b', '"q"', "'s'", "'it''s'", '"a:b"', '"x\\ny"', '-', '-a', '[]', '{}', '[a, b]', '{a: 1}', '{a: 1, b: [x, y]}', '[a: b]', '{a:1}', '{ "a": 1 }', '[a,]', '&x a', '*x', '!!str 1', '|', '? a', '@x', '', 'a,b', 'a]', '<<', 'nginx:1.27', '2001-12-14', '-0', '3.0', 'é', 'k: v', '- x', '[a, [b, {c: d}]]', '{ a: b c }', '"', '#c', 'a # c', '"a"#c', '[a]#c', '{a: b}x', 'a:', ':a', 'true:'];
const line = fc.tuple(fc.constantFrom(0, 0, 1, 2, 2, 3, 4, 4, 6), fc.integer({ min: 0, max: 9 }), fc.constantFrom(...SCALARS), fc.constantFrom(...SCALARS)).map(([ind, shape, x, y]) => {
  const sp = ' '.repeat(ind);
  return [`${sp}${x}: ${y}`, `${sp}${x}:`, `${sp}- ${x}`, `${sp}- ${x}: ${y}`, `${sp}-`, `${sp}name: ${y}`, `${sp}${x}`, '---', '# c', `${sp}k: ${y}`][shape]!;
});

describe('yaml-fast: seeded random texts', () => {
  it('whatever document it reads, the yaml package reads alone without error to the same value; documents split alike when the yaml package finds no error', () => {
    let read = 0;
    let left = 0;
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), (lines) => {
        const text = `${lines.join('\n')}\n`;
        const fast = fastParseStream(text);
        if (fast === null) return;
        fast.forEach((d, i) => {
          if (!d.read) return void left++;
          read++;
          const alone = parseAllDocuments(text.slice(d.start, d.end), { prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
          expect([text, i, alone.length, alone[0]?.errors.map((e) => e.message), alone[0]?.toJS()]).toEqual([text, i, 1, [], d.value]);
        });
        const ref = reference(text);
        if ('values' in ref) {
          expect([text, ref.values.length]).toEqual([text, fast.length]);
          fast.forEach((d, i) => d.read && expect([text, i, ref.values[i]]).toEqual([text, i, d.value]));
        }
      }),
      { seed: SEED, numRuns: 3000 },
    );
    expect([read, left].every((n) => n > 300)).toBe(true); // the property is not vacuous
  });

  it('random manifests beside a Scenario load with the same warnings and positions, or fail with the same errors, as with the yaml package alone', () => {
    const scenario = 'apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata: { name: r }\nspec:\n  cluster:\n    nodes: [{ name: n1 }]\n';
    let loaded = 0;
    fc.assert(
      fc.property(fc.array(fc.array(line, { minLength: 0, maxLength: 5 }), { minLength: 1, maxLength: 3 }), (docs) => {
        const text = scenario + docs.map((lines, i) => `---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c${i} }\ndata:\n${lines.map((l) => `  ${l}`).join('\n')}\n`).join('');
        const a = outcome(loadScenarioText, text);
        expect([text, a]).toEqual([text, outcome(loadScenarioTextYaml, text)]);
        if ('errors' in (a as object)) return;
        loaded++;
        const lf = loadScenarioText(text, 'f.yaml');
        const ly = loadScenarioTextYaml(text, 'f.yaml');
        for (const m of ly.manifests) for (const p of pathsOf(m.value)) expect([text, p, lf.locate(p, m.docIndex)]).toEqual([text, p, ly.locate(p, m.docIndex)]);
      }),
      { seed: SEED, numRuns: 400 },
    );
    expect(loaded).toBeGreaterThan(40);
  });

  it('a scenario with one line replaced loads (or fails, with the same errors at the same positions) as with the yaml package alone', () => {
    const base = readFileSync(join(ROOT, 'scenarios/http-clusterip.yaml'), 'utf8').split('\n');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: base.length - 1 }), line, (at, repl) => {
        const lines = [...base];
        const indent = /^ */.exec(lines[at]!)![0];
        lines[at] = repl.startsWith(' ') || repl === '---' ? repl : indent + repl;
        const text = lines.join('\n');
        expect(outcome(loadScenarioText, text)).toEqual(outcome(loadScenarioTextYaml, text));
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});
