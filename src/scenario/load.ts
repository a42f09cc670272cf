// scenario/load — YAML text → validated Scenario document + the Kubernetes manifests beside it.
// Layer: scenario (imports core, k8s/api-versions). Errors name file:line:col and the field path: zod
// issue paths are mapped back to YAML nodes, and their offsets to line and column with yaml's
// LineCounter. Like `kubectl apply -f`, any kind is accepted: a multi-document stream, `kind: List`
// (its items), documents holding only comments. Kinds podwire does not model (ServiceAccount, RBAC,
// ConfigMap, CRDs, ...) are kept and warned about once per kind; a removed apiVersion is warned about
// with its replacement (k8s/api-versions.ts). Null fields are dropped (unset, as the API server decodes them), and a
// ReplicationController becomes the ReplicaSet it is equivalent to. Documents in the plain subset of YAML are read by
// yaml-fast.ts (10× faster than the `yaml` package's document model on a 150,000-line generated
// cluster), the others by the `yaml` package from their own text; positions are computed per
// document on demand, and any error sends the whole file through the `yaml` package again, so every
// message and position is the same as before.
import { yamlTypeOf } from '../core/zod-messages.js';
import { closeSync, openSync, readSync } from 'node:fs';
import { isMap, isPair, isSeq, LineCounter, parseAllDocuments, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { formatPath, ScenarioError, type UserError } from './errors.js';
import { fastParseStream, MAX_NESTING, type FastDocument } from './yaml-fast.js';
import { CHAOS_MESH_KINDS, chaosMeshFaults } from './chaos-mesh.js';
import { FaultSpec, ScenarioDoc, type ScenarioDocT } from './schema.js';
import { durationOr0 } from '../core/time.js';
import { CLUSTER_SCOPED_KINDS, CONVERTED_ON_ADMISSION, isModelledKind, removedApiVersion, SERVED_VERSION } from '../k8s/api-versions.js';

/** A Kubernetes manifest found beside the Scenario (validated by later layers). */
export interface Manifest {
  kind: string;
  apiVersion: string;
  /** Plain JS value of the document. */
  value: Record<string, unknown>;
  /** Locator of the object: the YAML document's index, or (for an item of a `kind: List`) an index past the documents. */
  docIndex: number;
}

/** A loaded scenario file. */
export interface LoadedScenario {
  file: string;
  scenario: ScenarioDocT;
  manifests: Manifest[];
  /** Non-fatal problems found while loading (kinds podwire ignores, removed API versions). */
  warnings: UserError[];
  /** Position of a field of document `docIndex` (the Scenario's by default), for later semantic errors. */
  locate(path: readonly (string | number)[], docIndex?: number): { line: number; col: number };
  /** Builds a UserError at a field of the Scenario document (path relative to the document root). */
  error(path: readonly (string | number)[], message: string, docIndex?: number): UserError;
}

/** How a file is read: what `kubectl apply` would be told besides the file. */
export interface LoadOptions {
  /** `kubectl apply -n NS` (the CLI's --namespace): wins over spec.namespace, and an object naming another namespace is an error. */
  namespace?: string;
}

/** Most alias expansions a document may make (yaml's guard against alias bombs). */
const MAX_ALIAS_COUNT = 100;


/** Reads and validates a scenario file. Throws ScenarioError with every problem found. */
export function loadScenarioFile(file: string, opts: LoadOptions = {}): LoadedScenario {
  let text: string;
  try {
    text = readCapped(file, MAX_FILE_BYTES);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const msg = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a scenario file' : code === 'EACCES' ? 'cannot read: permission denied' : `cannot read: ${(e as Error).message}`;
    throw new ScenarioError([{ file, line: 1, col: 1, field: '', message: msg }]);
  }
  return loadScenarioText(text, file, opts);
}

/** Largest scenario file read (the generated 1,000-node, 30,000-pod scale scenario is ~6 MB). */
export const MAX_FILE_BYTES = 256 * 1024 ** 2;

/** A file's text, read in chunks so that a device or a pipe without end (/dev/zero) stops at `cap` bytes with an error. */
function readCapped(file: string, cap: number): string {
  const fd = openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(16 * 1024 ** 2, cap + 1 - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > cap) throw new Error(`larger than ${cap / 1024 ** 2} MiB, the most podwire reads of a scenario file`);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Offset of the node at `path` in a YAML document: walks as deep as the path exists and reports the
 * deepest node found (a missing key → its parent map); `atKey` points at the last key instead of its value.
 * `base` is added to the document's offsets (a document parsed alone, out of its file).
 */
function nodeOffset(doc: Document.Parsed, path: readonly (string | number)[], atKey: boolean, base = 0): number {
  let node: unknown = doc.contents;
  const r0 = (doc.contents as { range?: [number, number, number] } | null)?.range?.[0];
  let best = r0 === undefined ? 0 : base + r0;
  for (const key of path) {
    let next: unknown = undefined;
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === key);
      if (pair) {
        const k = pair.key as { range?: [number, number, number] };
        next = pair.value ?? pair.key;
        const last = key === path[path.length - 1];
        const r = atKey && last ? k.range : ((pair.value as { range?: [number, number, number] } | null)?.range ?? k.range);
        if (r) best = base + r[0];
      }
    } else if (isSeq(node) && typeof key === 'number') {
      next = node.items[key];
      const r = (next as { range?: [number, number, number] } | undefined)?.range;
      if (r) best = base + r[0];
    }
    if (next === undefined) break;
    node = next;
  }
  return best;
}

/** Where the documents of a file come from: their plain values and the positions of their fields. */
interface DocumentSource {
  count: number;
  /** Document i as a plain mapping; null (after `report`, or nothing to report for an empty document) otherwise. */
  value(i: number, report: (message: string) => void): Record<string, unknown> | null;
  /** Line and column of `path` in document i (`atKey`: the last key rather than its value). */
  locate(i: number, path: readonly (string | number)[], atKey?: boolean): { line: number; col: number };
}

/**
 * Validates scenario text (`file` names it in errors). Documents in the plain subset of YAML that
 * scenarios use are read by yaml-fast.ts, without positions, the others by the `yaml` package from
 * their own text; a document's positions are computed (by the `yaml` package, on that document
 * alone) only when a warning or a later error names one of its fields. A file with any error (or
 * tabs, CR, directives, `...`) is read by the `yaml` package as a whole, as before, so every error
 * message and position is the `yaml` package's.
 */
export function loadScenarioText(text: string, file: string, opts: LoadOptions = {}): LoadedScenario {
  const fast = fastParseStream(text);
  const src = fast === null ? null : fastSource(text, fast);
  if (src !== null) {
    try {
      return assemble(file, src, opts);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
    }
  }
  return loadScenarioTextYaml(text, file, opts);
}

/** The reference reading, the `yaml` package alone on the whole file: what loadScenarioText falls back to (tests compare the two). */
export function loadScenarioTextYaml(text: string, file: string, opts: LoadOptions = {}): LoadedScenario {
  return assemble(file, yamlSource(text, file), opts);
}

const YAML_OPTIONS = { prettyErrors: false, uniqueKeys: true } as const;

/**
 * The documents read by yaml-fast.ts, those it left read by the `yaml` package from their own text;
 * positions from the `yaml` package on one document's text, on demand. Null when the `yaml` package
 * finds a problem in a document (the whole file is then read as before, for the same messages).
 */
function fastSource(text: string, docs: FastDocument[]): DocumentSource | null {
  let lc: LineCounter | null = null;
  const parsed = new Map<number, Document.Parsed>();
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i]!;
    if (d.read) continue;
    const one = parseAllDocuments(text.slice(d.start, d.end), YAML_OPTIONS);
    if (!Array.isArray(one) || one.length !== 1 || one[0]!.errors.length > 0 || tooDeepAt(one[0]!) !== null) return null;
    try {
      d.value = one[0]!.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
    } catch {
      return null;
    }
    parsed.set(i, one[0]!);
  }
  return {
    count: docs.length,
    value: (i, report) => {
      const v = docs[i]!.value;
      if (v === null || v === undefined) return null;
      if (typeof v !== 'object' || Array.isArray(v)) {
        report('expected a mapping with apiVersion and kind');
        return null;
      }
      return v as Record<string, unknown>;
    },
    locate: (i, path, atKey = false) => {
      if (lc === null) {
        lc = new LineCounter();
        lc.addNewLine(0);
        for (let k = text.indexOf('\n'); k >= 0; k = text.indexOf('\n', k + 1)) lc.addNewLine(k + 1);
      }
      const d = docs[i]!;
      let doc = parsed.get(i);
      if (doc === undefined) {
        doc = parseDocument(text.slice(d.start, d.end), YAML_OPTIONS);
        parsed.set(i, doc);
      }
      const p = lc.linePos(nodeOffset(doc, path, atKey, d.start));
      return { line: p.line, col: p.col };
    },
  };
}

/** The documents as the `yaml` package reads the whole stream (throws ScenarioError on YAML errors). */
function yamlSource(text: string, file: string): DocumentSource {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, ...YAML_OPTIONS });
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
      // The parser reports its own stack overflow as an error at the node it was reading.
      const m = /call stack/i.test(e.message) ? `YAML: nested too deeply to read (podwire reads at most ${MAX_NESTING} levels of mappings and sequences)` : `YAML: ${e.message.split('\n')[0]}`;
      errors.push({ file, ...p, field: '', message: m });
    }
    const deep = d.errors.length === 0 ? tooDeepAt(d) : null;
    if (deep !== null) errors.push({ file, ...pos(deep), field: '', message: `YAML: nested more than ${MAX_NESTING} levels deep (podwire's limit for mappings and sequences)` });
  }
  if (errors.length > 0) throw new ScenarioError(errors);
  return {
    count: docs.length,
    value: (i, report) => documentValue(docs[i]!, report),
    locate: (i, path, atKey = false) => pos(nodeOffset(docs[i]!, path, atKey)),
  };
}

/**
 * Offset of the first collection nested deeper than MAX_NESTING in a parsed document, or null: walked
 * with an explicit stack, so the check itself cannot overflow; toJS, zod and the loaders recurse, and
 * are never handed a deeper document.
 */
function tooDeepAt(doc: Document.Parsed): number | null {
  const stack: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (isPair(node)) {
      stack.push({ node: node.key, depth }, { node: node.value, depth });
      continue;
    }
    if (!isMap(node) && !isSeq(node)) continue; // scalars; aliases are bounded by MAX_ALIAS_COUNT
    if (depth + 1 > MAX_NESTING) return node.range?.[0] ?? 0;
    for (const it of node.items as unknown[]) stack.push({ node: it, depth: depth + 1 });
  }
  return null;
}

/** The Scenario and the manifests of a file's documents; throws ScenarioError with every problem found. */
function assemble(file: string, src: DocumentSource, opts: LoadOptions): LoadedScenario {
  const errors: UserError[] = [];
  const locateIn = (doc: number, path: readonly (string | number)[], atKey = false) => src.locate(doc, path, atKey);

  let scenario: ScenarioDocT | null = null;
  let scenarioIndex = -1;
  const manifests: Manifest[] = [];
  // Where each object lives: a document, or an item of a List document (path prefix ['items', i]).
  const locators: { doc: number; prefix: (string | number)[] }[] = Array.from({ length: src.count }, (_, doc) => ({ doc, prefix: [] }));
  const locate = (path: readonly (string | number)[], id = scenarioIndex) => locateIn(locators[id]!.doc, [...locators[id]!.prefix, ...path]);
  const at = (id: number, path: (string | number)[], message: string): UserError => ({ file, ...locate(path, id), field: formatPath(path), message });
  const objects: { id: number; v: Record<string, unknown> }[] = [];
  for (let i = 0; i < src.count; i++) {
    const v = src.value(i, (message) => errors.push({ file, ...locateIn(i, []), field: '', message }));
    if (v === null) continue;
    // kubectl flattens any list (`List`, and the typed `ConfigMapList`, `ServiceList`, ... the API returns) into its items.
    if (typeof v['kind'] === 'string' && v['kind'].endsWith('List') && Array.isArray(v['items'])) {
      (v['items'] as unknown[]).forEach((item, j) => {
        const id = locators.push({ doc: i, prefix: ['items', j] }) - 1;
        if (item === null || typeof item !== 'object' || Array.isArray(item)) errors.push(at(id, [], 'expected a mapping with apiVersion and kind'));
        else objects.push({ id, v: item as Record<string, unknown> });
      });
      continue;
    }
    objects.push({ id: i, v });
  }
  for (const { id, v } of objects) {
    const kind = v['kind'];
    if (typeof kind !== 'string' || kind === '') {
      errors.push(at(id, ['kind'], kind === undefined || kind === null || kind === '' ? 'missing: every document needs a kind (Scenario, Pod, Service, ...)' : `expected a string (Scenario, Pod, Service, ...), got ${yamlTypeOf(kind)}`));
      continue;
    }
    const apiVersion = v['apiVersion'];
    if (apiVersion !== undefined && apiVersion !== null && typeof apiVersion !== 'string') {
      errors.push(at(id, ['apiVersion'], `expected a string (v1, apps/v1, ...), got ${yamlTypeOf(apiVersion)}`));
      continue;
    }
    if (kind === 'Scenario') {
      if (scenarioIndex >= 0) {
        errors.push(at(id, ['kind'], 'a file holds one Scenario document'));
        continue;
      }
      scenarioIndex = id;
      const r = ScenarioDoc.safeParse(v);
      if (r.success) scenario = r.data;
      else for (const issue of r.error.issues) errors.push(issueToError(file, locators[id]!.doc, issue, locateIn));
      continue;
    }
    const m = replicationControllerAsReplicaSet(dropNullFields(v));
    manifests.push({ kind: String(m['kind']), apiVersion: String(m['apiVersion'] ?? ''), value: m, docIndex: id });
  }
  if (scenarioIndex < 0 && errors.length === 0) {
    errors.push({ file, line: 1, col: 1, field: '', message: 'no document with kind: Scenario (apiVersion: podwire.dev/v1alpha1)' });
  }
  if (errors.length > 0 || scenario === null) throw new ScenarioError(errors);
  const ns = opts.namespace ?? scenario.spec.namespace;
  if (ns !== undefined) placeInNamespace(manifests, ns, opts.namespace !== undefined, at, errors);
  const chaosWarnings = chaosMeshToFaults(scenario, manifests, at, errors); // NetworkChaos, PodChaos, DNSChaos, Schedule
  if (errors.length > 0) throw new ScenarioError(errors);
  const warnings = [...manifestWarnings(manifests, at), ...chaosWarnings].sort((a, b) => a.line - b.line || a.col - b.col);
  return {
    file,
    scenario,
    manifests,
    warnings,
    locate,
    error: (path, message, docIndex = scenarioIndex) => at(docIndex, [...path], message),
  };
}

/**
 * Puts the namespaced objects that name no namespace in `ns`, as kubectl's resource builder does: the
 * namespace of its context fills them (spec.namespace), `-n` (`enforce`: the CLI's --namespace) fills
 * them and refuses an object naming another one, with kubectl's message. Cluster-scoped kinds are left as
 * they are: the built-in ones and those a CustomResourceDefinition in the file declares `scope: Cluster`.
 */
function placeInNamespace(manifests: Manifest[], ns: string, enforce: boolean, at: (id: number, path: (string | number)[], message: string) => UserError, errors: UserError[]): void {
  const clusterScoped = new Set(CLUSTER_SCOPED_KINDS);
  for (const m of manifests) {
    const spec = m.kind === 'CustomResourceDefinition' ? (m.value['spec'] as { scope?: unknown; names?: { kind?: unknown } } | undefined) : undefined;
    if (spec?.scope === 'Cluster' && typeof spec.names?.kind === 'string') clusterScoped.add(spec.names.kind);
  }
  for (const m of manifests) {
    if (clusterScoped.has(m.kind)) continue;
    const md = (m.value['metadata'] ??= {}) as Record<string, unknown>;
    if (typeof md !== 'object' || md === null || Array.isArray(md)) continue; // refused by the kind's own validation
    const own = md['namespace'];
    if (own === undefined || own === '') md['namespace'] = ns;
    else if (enforce && typeof own === 'string' && own !== ns) errors.push(at(m.docIndex, ['metadata', 'namespace'], `the namespace from the provided object "${own}" does not match the namespace "${ns}". You must pass '--namespace=${own}' to perform this operation`));
  }
}

/**
 * `value` without its null-valued fields, at any depth (in place): the API server decodes `field: null`
 * as a field left unset, and Helm renders many (`annotations:` under an `{{- with }}` that produced
 * nothing, `ports:`, `env:`), so `kubectl apply` takes them; list items stay as written.
 */
export function dropNullFields(value: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(value)) {
    const x = value[k];
    if (x === null) delete value[k];
    else if (typeof x === 'object') dropNullsIn(x as object);
  }
  return value;
}

function dropNullsIn(x: object): void {
  if (Array.isArray(x)) {
    for (const item of x) if (item !== null && typeof item === 'object') dropNullsIn(item as object);
  } else dropNullFields(x as Record<string, unknown>);
}

/**
 * A core/v1 ReplicationController as the apps/v1 ReplicaSet it is equivalent to (the same controller
 * semantics and pod names, `<name>-<5 chars>`): its equality selector becomes `matchLabels`, defaulted as the
 * API server defaults an RC (selector and metadata.labels ← the template's labels, replicas ← 1). Its pods
 * are then `replicaset/NAME` (or `replicationcontroller/NAME`) to traffic. Other objects are returned as they are.
 */
function replicationControllerAsReplicaSet(v: Record<string, unknown>): Record<string, unknown> {
  if (v['kind'] !== 'ReplicationController' || v['apiVersion'] !== 'v1') return v;
  const spec = v['spec'];
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return v;
  const sp = spec as Record<string, unknown>;
  const tmplLabels = ((sp['template'] as { metadata?: { labels?: unknown } } | undefined)?.metadata?.labels ?? null) as Record<string, string> | null;
  const sel = sp['selector'];
  const given = sel !== null && typeof sel === 'object' && !Array.isArray(sel) && Object.keys(sel).length > 0 ? (sel as Record<string, string>) : null;
  const md = (v['metadata'] ?? {}) as Record<string, unknown>;
  const labels = md['labels'] as Record<string, unknown> | undefined;
  return {
    ...v,
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: tmplLabels !== null && (labels === undefined || Object.keys(labels).length === 0) ? { ...md, labels: tmplLabels } : md,
    spec: { ...sp, selector: { matchLabels: given ?? tmplLabels ?? {} } },
  };
}

/**
 * The kinds whose `spec.selector` the API server defaulted, in these removed versions, to the pod
 * template's labels (and `metadata.labels` too when empty): extensions/v1beta1 and apps/v1beta1
 * manifests often leave both out. apps/v1beta2 and apps/v1 require the selector.
 */
const SELECTOR_FROM_TEMPLATE: Record<string, readonly string[]> = {
  'extensions/v1beta1': ['Deployment', 'DaemonSet', 'ReplicaSet'],
  'apps/v1beta1': ['Deployment', 'StatefulSet'],
};

/** An object with the selector (and labels) its API version defaulted from the template; as it is when it has one. */
function selectorFromTemplate(v: Record<string, unknown>): Record<string, unknown> {
  const isMap = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);
  const spec = v['spec'];
  if (!isMap(spec) || spec['selector'] !== undefined) return v;
  const tmpl = spec['template'];
  const labels = isMap(tmpl) && isMap(tmpl['metadata']) ? tmpl['metadata']['labels'] : undefined;
  if (!isMap(labels) || Object.keys(labels).length === 0) return v; // nothing to default from: the schema says what is missing
  const md = isMap(v['metadata']) ? v['metadata'] : undefined;
  const own = md?.['labels'];
  return {
    ...v,
    ...(md && (!isMap(own) || Object.keys(own).length === 0) ? { metadata: { ...md, labels } } : {}),
    spec: { ...spec, selector: { matchLabels: labels } },
  };
}

/** A document's value as a plain mapping; null (nothing reported) for an empty one, null after `report` otherwise. */
function documentValue(doc: Document.Parsed, report: (message: string) => void): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (e) {
    // yaml refuses to expand aliases past the count (a "billion laughs" document would otherwise
    // take all memory); any other conversion error is reported the same way, at the document.
    report(/alias/i.test((e as Error).message) ? `YAML: more than ${MAX_ALIAS_COUNT} alias expansions in one document (an alias bomb?); expand the anchors by hand` : `YAML: ${(e as Error).message.split('\n')[0]}`);
    return null;
  }
  if (value === null || value === undefined) return null; // empty document (a trailing ---, only comments)
  if (typeof value !== 'object' || Array.isArray(value)) {
    report('expected a mapping with apiVersion and kind');
    return null;
  }
  return value as Record<string, unknown>;
}

/**
 * Warnings about the manifests as a whole: a removed apiVersion (the object then runs as its
 * replacement, so later layers see a served version), and each kind podwire does not model, once,
 * at its first object, with the number of objects of that kind.
 */
function manifestWarnings(manifests: Manifest[], at: (id: number, path: (string | number)[], message: string) => UserError): UserError[] {
  const warnings: UserError[] = [];
  const ignored = new Map<string, { first: Manifest; n: number }>();
  const groupOf = (apiVersion: string): string => apiVersion.slice(0, Math.max(0, apiVersion.indexOf('/')));
  for (const m of manifests) {
    const removed = removedApiVersion(m.apiVersion, m.kind);
    if (!removed && isModelledKind(m.kind) && m.apiVersion.includes('/') && groupOf(m.apiVersion) !== groupOf(SERVED_VERSION[m.kind])) {
      // The same kind name in another API group is another kind (a CRD: Knative's serving.knative.dev/v1
      // Service, ...): kubectl applies it as that; podwire names it KIND.GROUP and ignores it.
      m.kind = `${m.kind}.${groupOf(m.apiVersion)}`;
    }
    if (removed) {
      const converted = isModelledKind(m.kind) ? CONVERTED_ON_ADMISSION[m.kind] : undefined;
      const runs = converted ? ` (${converted})` : isModelledKind(m.kind) ? ` (podwire runs it as ${SERVED_VERSION[m.kind]})` : '';
      warnings.push(at(m.docIndex, ['apiVersion'], `${m.apiVersion} ${m.kind} was removed in Kubernetes ${removed.removedIn}: use ${removed.replacement}${runs}`));
      if (isModelledKind(m.kind) && converted === undefined) {
        if (SELECTOR_FROM_TEMPLATE[m.apiVersion]?.includes(m.kind)) m.value = selectorFromTemplate(m.value);
        m.apiVersion = SERVED_VERSION[m.kind];
        m.value = { ...m.value, apiVersion: m.apiVersion };
      }
    }
    if (isModelledKind(m.kind)) continue;
    const seen = ignored.get(m.kind);
    if (seen) seen.n++;
    else ignored.set(m.kind, { first: m, n: 1 });
  }
  for (const [kind, { first, n }] of ignored) {
    warnings.push(at(first.docIndex, ['kind'], `${kind} is not modelled by podwire and is ignored${n > 1 ? ` (${n} objects)` : ''}`));
  }
  return warnings.sort((a, b) => a.line - b.line || a.col - b.col);
}

function issueToError(
  file: string,
  doc: number,
  issue: z.core.$ZodIssue,
  locateIn: (doc: number, path: readonly (string | number)[], atKey?: boolean) => { line: number; col: number },
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

/**
 * Chaos Mesh objects (apiVersion chaos-mesh.org/…) of the kinds chaos-mesh.ts translates become
 * entries of spec.faults, after the written ones, in document order; they leave the manifest list.
 * A produced fault whose kind this build lacks is warned about and skipped.
 */
function chaosMeshToFaults(scenario: ScenarioDocT, manifests: Manifest[], at: (id: number, path: (string | number)[], message: string) => UserError, errors: UserError[]): UserError[] {
  const warnings: UserError[] = [];
  const end = scenario.spec.duration !== undefined ? durationOr0(scenario.spec.duration) : null;
  for (let i = 0; i < manifests.length; i++) {
    const m = manifests[i]!;
    if (!m.apiVersion.startsWith('chaos-mesh.org/') || !CHAOS_MESH_KINDS.includes(m.kind)) continue;
    manifests.splice(i--, 1);
    const sink = { error: (path: (string | number)[], msg: string) => errors.push(at(m.docIndex, path, msg)), warn: (path: (string | number)[], msg: string) => warnings.push(at(m.docIndex, path, msg)) };
    for (const raw of chaosMeshFaults(m, end, sink)) {
      const r = FaultSpec.safeParse(raw);
      if (r.success) scenario.spec.faults.push(r.data);
      else if (r.error.issues.some((x) => x.path.length === 1 && x.path[0] === 'kind')) sink.warn(['spec'], `${m.kind} needs the fault kind "${String(raw['kind'])}", which this podwire does not have; ignored`);
      else for (const x of r.error.issues) sink.error(['spec'], `${x.path.map(String).join('.')}: ${x.message}`);
    }
  }
  return warnings;
}
