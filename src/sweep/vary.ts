// sweep/vary — what a sweep varies: `--vary PATH=V1,V2` flags and named variants, applied to the YAML
// documents of a scenario file. Layer: sweep (imports scenario's loader only through plan.ts; here only
// the yaml package).
//
// A PATH addresses one YAML document of the file: the Scenario by default (`spec.cluster.kubeProxy.mode`),
// a manifest by `Kind/name:` (`Deployment/web:spec.replicas`). Segments are separated by dots; a
// bracket holds an index (`spec.traffic[0].rate`), an element by its name (`spec.traffic[name=a].rate`,
// matching `name` or `metadata.name`), or a key with dots in it (`annotations[podwire.dev/service-time]`,
// optionally quoted). Missing maps on the way are created. A value replacing a string keeps being a
// string (annotations stay strings); otherwise it is read as a YAML scalar (`3`, `true`, `ipvs`).
// Values are separated by commas; `\,` is a comma inside a value (`uniform:1ms\,3ms`).
import { isMap, isScalar, isSeq, parse as parseYaml, parseAllDocuments, type Document, type LineCounter } from 'yaml';

/** A bad --vary flag or variants file: one line, exit 2 (flags) or 1 (a file, with its position). */
export class SweepInputError extends Error {
  /** The assignment that could not be applied (applyAssignments), so a variants file's can be pointed at. */
  assignment?: Assignment;
}

/** A name selector inside brackets: the sequence element whose name (or metadata.name) is `name`. */
export interface ByName {
  name: string;
}
export type Segment = string | number | ByName;

/** A parsed PATH. */
export interface VaryPath {
  text: string;
  /** null: the Scenario document. */
  target: { kind: string; name: string } | null;
  segments: Segment[];
}

/** Where a variants file wrote an assignment: its PATH key and value nodes, and that file's line counter. */
export interface AssignmentSource {
  file: string;
  lc: LineCounter;
  /** The field of the variants file, e.g. `variants[1].set`. */
  field: string;
  key: unknown;
  value: unknown;
}

/** One field set to one value; `raw` values come from a flag, `value` from a variants file (`from`: where). */
export type Assignment = { path: VaryPath; raw: string } | { path: VaryPath; value: unknown; from?: AssignmentSource };

/** One --vary flag: a path and the values it takes. */
export interface VaryFlag {
  path: VaryPath;
  values: string[];
}

/** Parses a PATH (see the header). */
export function parseVaryPath(text: string): VaryPath {
  const m = /^([A-Z][A-Za-z]*)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?):(.+)$/.exec(text);
  const target = m ? { kind: m[1]!, name: m[2]! } : null;
  const body = m ? m[4]! : text;
  const segments: Segment[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (c === '.' && i > 0 && body[i - 1] !== '.') {
      i++;
      continue;
    }
    if (c === '[') {
      const end = body.indexOf(']', i);
      if (end < 0) throw new SweepInputError(`path "${text}": "[" without "]"`);
      const inner = body.slice(i + 1, end);
      const q = /^(["'])(.*)\1$/.exec(inner);
      if (q) segments.push(q[2]!);
      else if (/^\d+$/.test(inner)) segments.push(Number(inner));
      else if (inner.startsWith('name=') && inner.length > 5) segments.push({ name: inner.slice(5) });
      else if (inner.length > 0) segments.push(inner);
      else throw new SweepInputError(`path "${text}": empty brackets`);
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < body.length && body[j] !== '.' && body[j] !== '[') j++;
    if (j === i) throw new SweepInputError(`path "${text}": empty segment at character ${i + 1}`);
    segments.push(body.slice(i, j));
    i = j;
  }
  if (segments.length === 0) throw new SweepInputError(`path "${text}": empty`);
  return { text, target, segments };
}

/** Splits on commas not preceded by a backslash, and unescapes `\,`. */
function splitValues(text: string): string[] {
  return text.split(/(?<!\\),/).map((v) => v.replace(/\\,/g, ','));
}

/** Parses `PATH=V1,V2,...` (the first `=` outside brackets ends the path). */
export function parseVaryFlag(text: string): VaryFlag {
  let depth = 0;
  let eq = -1;
  for (let i = 0; i < text.length && eq < 0; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === '=' && depth === 0) eq = i;
  }
  if (eq <= 0) throw new SweepInputError(`--vary "${text}": expected PATH=V1,V2,... (e.g. spec.cluster.kubeProxy.mode=iptables,ipvs)`);
  const values = splitValues(text.slice(eq + 1));
  if (values.some((v) => v.length === 0)) throw new SweepInputError(`--vary "${text}": an empty value`);
  if (new Set(values).size !== values.length) throw new SweepInputError(`--vary "${text}": a value is repeated`);
  return { path: parseVaryPath(text.slice(0, eq)), values };
}

function docValue(doc: Document.Parsed, key: string): unknown {
  const v = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown> | null;
  if (key === 'kind') return v?.['kind'];
  return (v?.['metadata'] as Record<string, unknown> | undefined)?.['name'];
}

/** The document `path` addresses (the Scenario, or `Kind/name:`'s manifest). */
export function findDoc(docs: readonly Document.Parsed[], path: VaryPath): Document.Parsed {
  const t = path.target;
  const doc = docs.find((d) => (t === null ? docValue(d, 'kind') === 'Scenario' : docValue(d, 'kind') === t.kind && docValue(d, 'name') === t.name));
  if (!doc) throw new SweepInputError(`path "${path.text}": the file has no ${t === null ? 'Scenario document' : `${t.kind} named "${t.name}"`}`);
  return doc;
}

/** The concrete key path (names resolved to indexes) in `doc`. */
export function resolveSegments(doc: Document.Parsed, path: VaryPath): (string | number)[] {
  const out: (string | number)[] = [];
  for (const s of path.segments) {
    if (typeof s !== 'object') {
      out.push(s);
      continue;
    }
    const node = doc.getIn(out, true);
    const idx = isSeq(node)
      ? node.items.findIndex((it) => {
          if (!isMap(it)) return false;
          const js = it.toJSON() as Record<string, unknown>;
          return js['name'] === s.name || (js['metadata'] as Record<string, unknown> | undefined)?.['name'] === s.name;
        })
      : -1;
    if (idx < 0) throw new SweepInputError(`path "${path.text}": no element named "${s.name}" at ${out.join('.') || 'the top'}`);
    out.push(idx);
  }
  return out;
}

/**
 * Returns the scenario text with the assignments applied. With none, the text itself, so a sweep of
 * an unvaried file runs exactly the bytes `podwire run FILE` reads.
 */
export function applyAssignments(text: string, assignments: readonly Assignment[]): string {
  if (assignments.length === 0) return text;
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  if (!Array.isArray(docs)) throw new SweepInputError('the scenario file is not a YAML document stream');
  for (const a of assignments) {
    try {
      apply(docs, a);
    } catch (e) {
      if (e instanceof SweepInputError) e.assignment ??= a;
      throw e;
    }
  }
  return docs
    .map((d, i) => {
      if (i > 0) d.directives.docStart = true;
      return d.toString();
    })
    .join('');
}

function apply(docs: Document.Parsed[], a: Assignment): void {
  const doc = findDoc(docs, a.path);
  const keys = resolveSegments(doc, a.path);
  let value: unknown;
  // A map or list is made a node of the document, so a later PATH can reach into it.
  if ('value' in a) value = a.value !== null && typeof a.value === 'object' ? doc.createNode(a.value) : a.value;
  else {
    const old = doc.getIn(keys, true);
    const oldIsString = isScalar(old) && typeof old.value === 'string';
    value = oldIsString ? a.raw : (parseYaml(a.raw) as unknown);
  }
  try {
    doc.setIn(keys, value);
  } catch (e) {
    throw new SweepInputError(`path "${a.path.text}": cannot set it (${(e as Error).message.split('\n')[0]})`);
  }
}

/** The short name of an assignment in a variant's label: the last key, or the whole path when ambiguous. */
export function labelKey(path: VaryPath, all: readonly VaryPath[]): string {
  const last = (p: VaryPath): string => {
    const s = p.segments[p.segments.length - 1]!;
    return typeof s === 'object' ? s.name : String(s);
  };
  const mine = last(path);
  return all.filter((p) => last(p) === mine).length > 1 ? path.text : mine;
}
