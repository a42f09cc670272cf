// Fuzzing with fast-check (seeded, bounded): scenario files and iptables-save dumps mutated from the
// shipped ones must be accepted or refused with user errors — never a crash, a hang or a partial file.
//
// Invariants checked for every generated input:
//   - a scenario either builds, or throws ScenarioError whose every error has a line and column ≥ 1
//     and a one-line message; nothing else is thrown;
//   - a scenario that builds runs (bounded by --max-events, as the CLI does) and leaves whole outputs:
//     stats.json validates against schema/stats.schema.json, no temporary file remains;
//   - an iptables-save dump either parses (and then loads into a Netfilter and renders again), or throws
//     IptablesParseError with a position;
//   - each input is handled within a time bound;
//   - absurd sizes (replicas, closed-loop users) are refused by the memory estimate at their field, or
//     run under the memory guard and stop cleanly: never V8's heap abort.
// `npm test` runs a short seeded pass; `npm run fuzz` (FUZZ_RUNS=400) a longer one with a random seed.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { isMap, isScalar, isSeq, parseAllDocuments, type Document } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { ScenarioError } from '../../src/core/user-error.js';
import { Netfilter } from '../../src/netfilter/netfilter.js';
import { parseIptablesSave, renderIptablesSave } from '../../src/netfilter/iptables-save.js';
import { IptablesParseError } from '../../src/netfilter/xtables.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { ScenarioRun } from '../../src/scenario/run.js';
import { podMemoryProblems, userMemoryProblems } from '../../src/scenario/work-estimate.js';
import { runWithGuards, SignalGuard } from '../../src/cli/run.js';

const ROOT = join(import.meta.dirname, '../..');
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 25);
const SEED = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) : process.env['FUZZ_RUNS'] ? Date.now() % 1e9 : 20261202;
const PER_INPUT_MS = 20_000;
const dir = mkdtempSync(join(tmpdir(), 'podwire-fuzz-'));
const validate = new Ajv2020({ strict: true }).compile(JSON.parse(readFileSync(join(ROOT, 'schema/stats.schema.json'), 'utf8')) as object);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scenarioFiles = (readdirSync(join(ROOT, 'scenarios'), { recursive: true }) as string[]).filter((f) => f.endsWith('.yaml') && f.split('/').length <= 2).sort();

/** Values a careless or hostile user writes where a field is expected. */
const hostile = fc.oneof(
  fc.constantFrom(-1, 0, 1e300, -1e300, 2 ** 53, 1e-12, 99999999999, NaN, Infinity, '', ' ', '0', '1e300s', '-5s', '0.0000001ns', '10.0.0.0/8', '10.96.0.0/12', '255.255.255.255', '0.0.0.0/0', 'eth0', 'a/b/c', '\u202e\u001b[31m', 'x'.repeat(3000), true, null, [], {}),
  fc.integer({ min: -10, max: 1_000_000 }),
  fc.string({ maxLength: 40 }),
);

type Path = (string | number)[];

/** Every path to a scalar or a collection in a YAML document. */
function pathsOf(doc: Document.Parsed): Path[] {
  const out: Path[] = [];
  const walk = (node: unknown, path: Path): void => {
    out.push(path);
    if (isMap(node)) for (const p of node.items) walk(p.value, [...path, String((p.key as { value?: unknown }).value)]);
    else if (isSeq(node)) node.items.forEach((n, i) => walk(n, [...path, i]));
    else if (!isScalar(node)) return;
  };
  walk(doc.contents, []);
  return out.slice(1);
}

/** One mutation of one document of a scenario file. */
const mutation = fc.record({ file: fc.constantFrom(...scenarioFiles), doc: fc.nat(), at: fc.nat(), op: fc.constantFrom('set', 'delete', 'duplicate'), value: hostile });

type Mutation = { file: string; doc: number; at: number; op: string; value: unknown };

/** A shipped scenario file with the first mutation and then the others applied. */
function mutate(first: Mutation, more: Mutation[]): string {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'scenarios', first.file), 'utf8'));
  if (!Array.isArray(docs) || docs.length === 0) return '';
  for (const m of [first, ...more]) {
    const doc = docs[m.doc % docs.length]!;
    const paths = pathsOf(doc);
    if (paths.length === 0) continue;
    const path = paths[m.at % paths.length]!;
    if (m.op === 'delete') doc.deleteIn(path);
    else if (m.op === 'duplicate' && typeof path[path.length - 1] === 'number') doc.addIn(path.slice(0, -1), doc.getIn(path));
    else doc.setIn(path, m.value);
  }
  return docs.map((d) => d.toString()).join('---\n');
}

function tempFiles(d: string): string[] {
  return readdirSync(d).filter((f) => /\.tmp-\d+$/.test(f));
}

describe(`fuzz (seed ${SEED}, ${RUNS} runs each; replay with FUZZ_SEED=${SEED})`, () => {
  it('mutated scenarios are built and run, or refused with positioned user errors', () => {
    let n = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
        const t0 = Date.now();
        const file = join(dir, `case-${n++}.yaml`);
        writeFileSync(file, mutate(ms[0]!, ms.slice(1)));
        let world;
        try {
          world = buildWorld(loadScenarioFile(file), 1);
        } catch (e) {
          if (!(e instanceof ScenarioError)) throw e;
          for (const err of e.errors) {
            expect(err.line).toBeGreaterThanOrEqual(1);
            expect(err.col).toBeGreaterThanOrEqual(1);
            expect(err.message).not.toMatch(/\n/);
          }
          return;
        }
        const out = join(dir, `out-${n}`);
        const run = new ScenarioRun(world, { outDir: out, format: 'pcapng', snaplen: 262144, maxEvents: 100_000, maxCaptureBytes: 4 << 20 });
        let stop = null;
        while (stop === null) {
          stop = run.step(20_000);
          if (Date.now() - t0 > PER_INPUT_MS) throw new Error(`input ${file} took over ${PER_INPUT_MS} ms`);
        }
        const res = run.finish(stop, run.partial(stop));
        expect(validate(res.stats), JSON.stringify(validate.errors)).toBe(true);
        expect(tempFiles(out)).toEqual([]);
        rmSync(out, { recursive: true, force: true });
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  }, 600_000);

  it('absurd replicas and closed-loop users: refused at the field by the memory estimate, or run under the memory guard to a clean stop', async () => {
    const base = readFileSync(join(ROOT, 'scenarios/http-clusterip.yaml'), 'utf8');
    const size = (small: number) => fc.oneof(fc.integer({ min: 1, max: small }), fc.integer({ min: 100_000, max: 100_000_000 }));
    const budget = 256 * 1024 ** 2;
    let n = 0;
    await fc.assert(
      fc.asyncProperty(size(20), size(2_000), async (replicas, users) => {
        const t0 = Date.now();
        const file = join(dir, `size-${n++}.yaml`);
        writeFileSync(file, base.replace(/replicas: 3\b/, `replicas: ${replicas}`).replace(/rate: 50\b/, `users: ${users}`).replace(/count: 100\b/, 'count: 100000000'));
        const loaded = loadScenarioFile(file);
        const pods = podMemoryProblems(loaded, budget);
        if (pods.errors.length > 0) {
          expect(replicas * 30_000).toBeGreaterThan(budget);
          expect(pods.errors.map((e) => [e.line >= 1, e.col >= 1, e.field])).toEqual([[true, true, 'spec.replicas']]);
          return;
        }
        const world = buildWorld(loaded, 1);
        const usersP = userMemoryProblems(loaded, world.cluster, budget);
        if (usersP.errors.length > 0) {
          expect(usersP.errors.map((e) => e.field)).toEqual(['spec.traffic[0].users']);
          return;
        }
        const out = join(dir, `size-out-${n}`);
        // Limits relative to what this test process already holds, so the guard has 256 MiB to go.
        const limits = { rssBytes: process.memoryUsage.rss() + budget, heapBytes: process.memoryUsage().heapUsed + budget };
        const { res } = await runWithGuards(() => new ScenarioRun(world, { outDir: out, format: 'pcapng', snaplen: 262144, maxEvents: 300_000, maxCaptureBytes: 4 << 20 }), limits, new SignalGuard());
        expect(validate(res.stats), JSON.stringify(validate.errors)).toBe(true);
        expect(['max-events', 'max-memory', undefined]).toContain(res.stats.partial?.reason);
        expect(tempFiles(out)).toEqual([]);
        expect(Date.now() - t0).toBeLessThan(PER_INPUT_MS * 3);
        rmSync(out, { recursive: true, force: true });
      }),
      { seed: SEED, numRuns: Math.max(6, Math.round(RUNS / 3)), endOnFailure: true },
    );
  }, 600_000);

  const dumps = ['kube-proxy-node.save', 'misc.save'].map((f) => readFileSync(join(ROOT, 'test/fixtures/iptables', f), 'utf8'));
  const dumpMutation = fc.record({
    dump: fc.constantFrom(...dumps.keys()),
    edits: fc.array(fc.record({ line: fc.nat(), op: fc.constantFrom('delete', 'duplicate', 'swap', 'token', 'truncate'), text: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('-j', '-m', '--probability', '!', 'KUBE-SERVICES', '-A', 'COMMIT', '*nat', ':X - [0:0]', '-j X', '--to-destination', '0x4000/0x4000', '999999999999')) }), { minLength: 1, maxLength: 4 }),
  });

  it('mutated iptables-save dumps parse, load and render, or are refused with a position', () => {
    fc.assert(
      fc.property(dumpMutation, (m) => {
        const lines = dumps[m.dump]!.split('\n');
        for (const e of m.edits) {
          const i = e.line % lines.length;
          if (e.op === 'delete') lines.splice(i, 1);
          else if (e.op === 'duplicate') lines.splice(i, 0, lines[i]!);
          else if (e.op === 'swap') [lines[i], lines[(i + 1) % lines.length]] = [lines[(i + 1) % lines.length]!, lines[i]!];
          else if (e.op === 'truncate') lines[i] = lines[i]!.slice(0, e.text.length);
          else {
            const toks = lines[i]!.split(' ');
            toks.splice(e.text.length % (toks.length + 1), 0, e.text);
            lines[i] = toks.join(' ');
          }
        }
        let rs;
        try {
          rs = parseIptablesSave(lines.join('\n'), 'fuzz.save');
        } catch (e) {
          if (!(e instanceof IptablesParseError)) throw e;
          expect(e.line).toBeGreaterThanOrEqual(1);
          expect(e.message).not.toMatch(/\n/);
          return;
        }
        const sim = new Simulator(1);
        const nf = new Netfilter({ now: () => sim.now, isLocalAddress: () => false, masqueradeAddress: () => null, routeMtu: () => 1500, rng: (name) => sim.rng.stream(name) });
        nf.load(rs);
        expect(parseIptablesSave(renderIptablesSave(rs), 'rendered.save').tables.length).toBe(rs.tables.length);
      }),
      { seed: SEED, numRuns: RUNS * 8 },
    );
  });
});
