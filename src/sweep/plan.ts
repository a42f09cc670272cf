// sweep/plan — the runs of a sweep: variants (named variants from a file × the product of the --vary
// flags) × seeds, each variant's scenario text validated up front, each run's directory. Layer: sweep
// (imports scenario's loader, the yaml package and node:crypto / node:fs).
//
// Layout of the output directory:
//   DIR/runs/<variant>/scenario.yaml        the variant's scenario (`podwire run` it to reproduce a run)
//   DIR/runs/<variant>/seed-<N>/stats.json  …and the .hgrm files: what `podwire run … --seed N` writes
//   DIR/runs/<variant>/seed-<N>/run.json    written last: the run is complete (resume skips it)
//   DIR/sweep.json                          the statistics across seeds (schema/sweep.schema.json)
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { loadScenarioText } from '../scenario/load.js';
import { ScenarioError, type UserError } from '../scenario/errors.js';
import { applyAssignments, findDoc, labelKey, parseVaryPath, resolveSegments, SweepInputError, type Assignment, type AssignmentSource, type VaryFlag } from './vary.js';
import { offsetOf, PositionedYaml, type Trail } from './where.js';

/** One variant: a label, what it sets, and its scenario text. */
export interface Variant {
  /** Label, e.g. `mode=ipvs,scheduler=rr` or a name from the variants file. */
  name: string;
  /** Directory name under DIR/runs (the label made safe for a file system). */
  dir: string;
  /** PATH → value as given. */
  set: Record<string, string>;
  text: string;
  /** sha256 of `text`: a finished run of other text is not reused on resume. */
  sha256: string;
}

/** One (variant, seed) run: what an executor needs and nothing else. */
export interface RunTask {
  variant: string;
  seed: number;
  /** The scenario file's path, for messages only. */
  file: string;
  text: string;
  sha256: string;
  outDir: string;
  /** Write the capture too (off by default: a sweep's captures are large and never read). */
  capture: boolean;
}

/** What run.json holds: the run is complete. */
export interface RunRecord {
  variant: string;
  seed: number;
  sha256: string;
  events: number;
}

/** A named variant from a variants file. */
export interface NamedVariant {
  name: string;
  assignments: Assignment[];
}

/** Parses `--seeds 1..20`, `--seeds 3`, `--seeds 1,4,9` (non-negative integers, no repeats). */
export function parseSeeds(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new SweepInputError(`--seeds: expected N, A..B or a comma list, got "${text}"`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || b < a) throw new SweepInputError(`--seeds: bad range "${part.trim()}"`);
    if (b - a >= 100_000) throw new SweepInputError(`--seeds: at most 100000 seeds`);
    for (let s = a; s <= b; s++) out.push(s);
  }
  if (new Set(out).size !== out.length) throw new SweepInputError(`--seeds: a seed is repeated in "${text}"`);
  return out;
}

/** Reads a variants file: `variants: [{ name, set: { PATH: VALUE, ... } }]`; errors as file:line:col. */
export function loadVariantsFile(file: string): NamedVariant[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError([{ file, line: 1, col: 1, field: '', message: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot read' }]);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const at = (node: unknown, field: string, message: string): ScenarioError => {
    const off = (node as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
    const p = lc.linePos(off);
    return new ScenarioError([{ file, line: p.line, col: p.col, field, message }]);
  };
  if (doc.errors.length > 0) {
    const p = lc.linePos(doc.errors[0]!.pos[0]);
    throw new ScenarioError([{ file, line: p.line, col: p.col, field: '', message: `YAML: ${doc.errors[0]!.message.split('\n')[0]}` }]);
  }
  const list = isMap(doc.contents) ? doc.contents.get('variants', true) : undefined;
  if (!isSeq(list) || list.items.length === 0) throw at(doc.contents, 'variants', 'expected `variants:` with a list of { name, set }');
  const out: NamedVariant[] = [];
  list.items.forEach((item, i) => {
    const field = `variants[${i}]`;
    if (!isMap(item)) throw at(item, field, 'expected { name, set }');
    const name = item.get('name');
    if (typeof name !== 'string' || name.length === 0) throw at(item, `${field}.name`, 'expected a name');
    if (out.some((v) => v.name === name)) throw at(item.get('name', true), `${field}.name`, `variant "${name}" is named twice`);
    const set = item.get('set', true);
    if (!isMap(set)) throw at(item, `${field}.set`, 'expected a map PATH: VALUE');
    const assignments: Assignment[] = [];
    for (const pair of set.items) {
      const key = (pair.key as { value?: unknown } | null)?.value;
      if (typeof key !== 'string') throw at(pair.key, `${field}.set`, 'a PATH must be a string');
      try {
        assignments.push({ path: parseVaryPath(key), value: (pair.value as { toJSON(): unknown } | null)?.toJSON() ?? null, from: { file, lc, field: `${field}.set`, key: pair.key, value: pair.value } });
      } catch (e) {
        throw at(pair.key, `${field}.set`, (e as Error).message);
      }
    }
    out.push({ name, assignments });
  });
  return out;
}

function safeDir(label: string): string {
  const s = label.replace(/,/g, '+').replace(/[^A-Za-z0-9._=+-]/g, '_');
  return s.length > 0 && s !== '.' && s !== '..' ? s.slice(0, 120) : 'base';
}

/** The product of the named variants (or the file itself) and every --vary flag's values. */
export function expandVariants(named: readonly NamedVariant[], flags: readonly VaryFlag[]): { name: string; assignments: Assignment[]; set: Record<string, string> }[] {
  let acc: { name: string[]; assignments: Assignment[]; set: Record<string, string> }[] =
    named.length > 0
      ? named.map((n) => ({ name: [n.name], assignments: n.assignments, set: Object.fromEntries(n.assignments.map((a) => [a.path.text, 'value' in a ? JSON.stringify(a.value) : a.raw])) }))
      : [{ name: [], assignments: [], set: {} }];
  const paths = flags.map((f) => f.path);
  for (const f of flags) {
    const key = labelKey(f.path, paths);
    acc = acc.flatMap((v) => f.values.map((val) => ({ name: [...v.name, `${key}=${val}`], assignments: [...v.assignments, { path: f.path, raw: val }], set: { ...v.set, [f.path.text]: val } })));
  }
  return acc.map((v) => ({ name: v.name.length > 0 ? v.name.join(',') : 'base', assignments: v.assignments, set: v.set }));
}

/** Where in its variants file `trail` (under the value an assignment set; on its PATH when empty and onKey) is. */
function sourcePos(from: AssignmentSource, trail: Trail): { file: string; line: number; col: number } {
  const keyAt = (from.key as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
  const off = trail.keys.length === 0 && trail.onKey ? keyAt : (offsetOf(from.value, trail) ?? keyAt);
  return { file: from.file, ...from.lc.linePos(off) };
}

/**
 * Where a problem the loader found in a variant's text is in the user's files: in a value a variants
 * file set, at that value (or the part of it at fault) in the variants file; anywhere else, at the same
 * field of the scenario file (the variant's text is re-printed: its lines are not the file's).
 */
function relocate(err: UserError, variant: PositionedYaml, original: PositionedYaml, assignments: readonly Assignment[]): UserError {
  const off = variant.offset(err.line, err.col);
  const at = off === null ? null : variant.locate(off);
  if (at === null) return err;
  // The last assignment on the way to the problem set what is there (an earlier one under it was replaced).
  for (let i = assignments.length - 1; i >= 0; i--) {
    const a = assignments[i]!;
    let keys: (string | number)[];
    try {
      const doc = findDoc(variant.docs, a.path);
      if (variant.docs.indexOf(doc) !== at.doc) continue;
      keys = resolveSegments(doc, a.path);
    } catch {
      continue;
    }
    if (keys.length > at.trail.keys.length || keys.some((k, j) => at.trail.keys[j] !== k)) continue;
    if ('from' in a && a.from) return { ...err, ...sourcePos(a.from, { keys: at.trail.keys.slice(keys.length), onKey: at.trail.onKey }) };
    break; // a --vary flag's value: the field in the scenario file
  }
  const o = offsetOf(original.docs[at.doc]?.contents, at.trail);
  return o === null ? err : { ...err, ...original.pos(o) };
}

/** The variant's text; an assignment of a variants file that cannot be applied is an error at its PATH. */
function variantText(text: string, name: string, assignments: readonly Assignment[]): string {
  try {
    return applyAssignments(text, assignments);
  } catch (e) {
    const a = e instanceof SweepInputError ? e.assignment : undefined;
    if (a && 'from' in a && a.from) throw new ScenarioError([{ ...sourcePos(a.from, { keys: [], onKey: true }), field: a.from.field, message: `${(e as Error).message} (variant ${name})` }]);
    throw e;
  }
}

/**
 * Builds every variant's text and validates it with the scenario loader. A variant that does not
 * validate throws ScenarioError whose lines name the variant, each at its place in the user's files
 * (see relocate).
 */
export function planVariants(file: string, text: string, named: readonly NamedVariant[], flags: readonly VaryFlag[]): Variant[] {
  const out: Variant[] = [];
  const dirs = new Set<string>();
  let original: PositionedYaml | null = null;
  for (const v of expandVariants(named, flags)) {
    const vtext = variantText(text, v.name, v.assignments);
    try {
      loadScenarioText(vtext, file);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      original ??= new PositionedYaml(text);
      const variant = new PositionedYaml(vtext);
      throw new ScenarioError(e.errors.map((err) => ({ ...(err.file === file ? relocate(err, variant, original!, v.assignments) : err), message: `${err.message} (variant ${v.name})` })));
    }
    let dir = safeDir(v.name);
    for (let i = 2; dirs.has(dir); i++) dir = `${safeDir(v.name)}-${i}`;
    dirs.add(dir);
    out.push({ name: v.name, dir, set: v.set, text: vtext, sha256: createHash('sha256').update(vtext).digest('hex') });
  }
  return out;
}

/** Every (variant, seed) run, variants outer, seeds inner. */
export function planRuns(file: string, outDir: string, variants: readonly Variant[], seeds: readonly number[], capture: boolean): RunTask[] {
  return variants.flatMap((v) => seeds.map((seed) => ({ variant: v.name, seed, file, text: v.text, sha256: v.sha256, outDir: runDir(outDir, v, seed), capture })));
}

/** DIR/runs/<variant>/seed-<N>. */
export function runDir(outDir: string, v: Variant, seed: number): string {
  return join(outDir, 'runs', v.dir, `seed-${seed}`);
}
