// scenario/load — YAML text → validated Scenario document + the Kubernetes manifests beside it.
// Layer: scenario. Errors name file:line:col and the field path: zod issue paths are mapped back to
// YAML nodes, and their offsets to line and column with yaml's LineCounter.
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { z } from 'zod';
import { formatPath, ScenarioError, type UserError } from './errors.js';
import { ScenarioDoc, type ScenarioDocT } from './schema.js';

/** A Kubernetes manifest found beside the Scenario (validated by later layers). */
export interface Manifest {
  kind: string;
  apiVersion: string;
  /** Plain JS value of the document. */
  value: Record<string, unknown>;
  /** Index of the YAML document in the file. */
  docIndex: number;
}

/** A loaded scenario file. */
export interface LoadedScenario {
  file: string;
  scenario: ScenarioDocT;
  manifests: Manifest[];
  /** Position of a field of document `docIndex` (the Scenario's by default), for later semantic errors. */
  locate(path: readonly (string | number)[], docIndex?: number): { line: number; col: number };
  /** Builds a UserError at a field of the Scenario document (path relative to the document root). */
  error(path: readonly (string | number)[], message: string, docIndex?: number): UserError;
}

/** Most alias expansions a document may make (yaml's guard against alias bombs). */
const MAX_ALIAS_COUNT = 100;

/** Kinds the loader recognises beside the Scenario; other layers validate their fields. */
export const KNOWN_MANIFEST_KINDS = ['Node', 'Pod', 'Deployment', 'Service', 'Endpoints', 'EndpointSlice', 'Ingress', 'ConfigMap', 'Namespace'] as const;

/** Reads and validates a scenario file. Throws ScenarioError with every problem found. */
export function loadScenarioFile(file: string): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const msg = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read: ${(e as Error).message}`;
    throw new ScenarioError([{ file, line: 1, col: 1, field: '', message: msg }]);
  }
  return loadScenarioText(text, file);
}

/**
 * Offset of the node at `path` in a YAML document: walks as deep as the path exists and reports the
 * deepest node found (a missing key → its parent map); `atKey` points at the last key instead of its value.
 */
function nodeOffset(doc: Document.Parsed, path: readonly (string | number)[], atKey: boolean): number {
  let node: unknown = doc.contents;
  let best = (doc.contents as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
  for (const key of path) {
    let next: unknown = undefined;
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === key);
      if (pair) {
        const k = pair.key as { range?: [number, number, number] };
        next = pair.value ?? pair.key;
        const last = key === path[path.length - 1];
        const r = atKey && last ? k.range : ((pair.value as { range?: [number, number, number] } | null)?.range ?? k.range);
        if (r) best = r[0];
      }
    } else if (isSeq(node) && typeof key === 'number') {
      next = node.items[key];
      const r = (next as { range?: [number, number, number] } | undefined)?.range;
      if (r) best = r[0];
    }
    if (next === undefined) break;
    node = next;
  }
  return best;
}

/** Validates scenario text (`file` names it in errors). */
export function loadScenarioText(text: string, file: string): LoadedScenario {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const errors: UserError[] = [];
  const pos = (offset: number): { line: number; col: number } => {
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  };
  if (!Array.isArray(docs)) {
    throw new ScenarioError([{ file, line: 1, col: 1, field: '', message: 'not a YAML document stream' }]);
  }
  for (const d of docs) {
    for (const e of d.errors) {
      const p = pos(e.pos[0]);
      errors.push({ file, ...p, field: '', message: `YAML: ${e.message.split('\n')[0]}` });
    }
  }
  if (errors.length > 0) throw new ScenarioError(errors);

  const locateIn = (doc: Document.Parsed, path: readonly (string | number)[], atKey = false) => pos(nodeOffset(doc, path, atKey));

  let scenario: ScenarioDocT | null = null;
  let scenarioDoc: Document.Parsed | null = null;
  let scenarioIndex = -1;
  const manifests: Manifest[] = [];
  docs.forEach((doc, i) => {
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
    } catch (e) {
      // yaml refuses to expand aliases past the count (a "billion laughs" document would otherwise
      // take all memory); any other conversion error is reported the same way, at the document.
      const msg = /alias/i.test((e as Error).message) ? `YAML: more than ${MAX_ALIAS_COUNT} alias expansions in one document (an alias bomb?); expand the anchors by hand` : `YAML: ${(e as Error).message.split('\n')[0]}`;
      errors.push({ file, ...locateIn(doc, []), field: '', message: msg });
      return;
    }
    if (value === null || value === undefined) return; // empty document (e.g. a trailing ---)
    if (typeof value !== 'object' || Array.isArray(value)) {
      errors.push({ file, ...locateIn(doc, []), field: '', message: 'expected a mapping with apiVersion and kind' });
      return;
    }
    const v = value as Record<string, unknown>;
    const kind = v['kind'];
    if (typeof kind !== 'string') {
      errors.push({ file, ...locateIn(doc, ['kind']), field: 'kind', message: 'missing: every document needs a kind (Scenario, Pod, Service, ...)' });
      return;
    }
    if (kind === 'Scenario') {
      if (scenarioDoc !== null) {
        errors.push({ file, ...locateIn(doc, ['kind']), field: 'kind', message: 'a file holds one Scenario document' });
        return;
      }
      scenarioDoc = doc;
      scenarioIndex = i;
      const r = ScenarioDoc.safeParse(v);
      if (r.success) scenario = r.data;
      else for (const issue of r.error.issues) errors.push(issueToError(file, doc, issue, locateIn));
      return;
    }
    if (!(KNOWN_MANIFEST_KINDS as readonly string[]).includes(kind)) {
      errors.push({ file, ...locateIn(doc, ['kind']), field: 'kind', message: `unsupported kind "${kind}" (supported: Scenario, ${KNOWN_MANIFEST_KINDS.join(', ')})` });
      return;
    }
    manifests.push({ kind, apiVersion: String(v['apiVersion'] ?? ''), value: v, docIndex: i });
  });
  if (scenarioDoc === null && errors.length === 0) {
    errors.push({ file, line: 1, col: 1, field: '', message: 'no document with kind: Scenario (apiVersion: podwire.dev/v1alpha1)' });
  }
  if (errors.length > 0 || scenario === null) throw new ScenarioError(errors);
  const locate = (path: readonly (string | number)[], docIndex = scenarioIndex) => locateIn(docs[docIndex]!, path);
  return {
    file,
    scenario,
    manifests,
    locate,
    error: (path, message, docIndex = scenarioIndex) => ({ file, ...locate(path, docIndex), field: formatPath(path), message }),
  };
}

function issueToError(
  file: string,
  doc: Document.Parsed,
  issue: z.core.$ZodIssue,
  locateIn: (doc: Document.Parsed, path: readonly (string | number)[], atKey?: boolean) => { line: number; col: number },
): UserError {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    const fieldPath = [...path, keys[0]!];
    return { file, ...locateIn(doc, fieldPath, true), field: formatPath(fieldPath), message: `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}` };
  }
  if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = `missing: ${message.replace(/, received undefined$/, '').replace(/^Invalid input: /, '')}`;
  return { file, ...locateIn(doc, path), field: formatPath(path), message };
}
