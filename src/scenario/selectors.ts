// scenario/selectors — which pods, nodes or hosts a fault acts on, as Chaos Mesh's selectors say it
// (pkg/selector: namespaces, labelSelectors, annotationSelectors, pods, nodes, nodeSelectors, then a
// mode) plus podwire's shorthands `pod/NAME`, `node/NAME`, `host/NAME` (an external host or a plain
// host) and `svc/NAME[.NS]` (the pods behind a Service's EndpointSlice when the fault fires).
// Layer: scenario (imports core, k8s types). Pure: the caller says when to resolve (Chaos Mesh selects
// when the chaos is applied) and hands in the RNG stream that `one`, `fixed`, `fixed-percent` and
// `random-max-percent` draw from, so a selection is part of the seeded run.
//
// Semantics (Chaos Mesh's SelectPods and filterPodsByMode):
// - `pods: { ns: [names] }` names pods outright; the other pod fields are then not consulted.
// - otherwise a pod is selected when every given field matches: its namespace is in `namespaces`
//   (empty: every namespace; a Chaos Mesh object defaults it to its own namespace, see chaos-mesh.ts),
//   every `labelSelectors` and `annotationSelectors` pair is on it, and, when `nodes` or
//   `nodeSelectors` is given, it runs on one of those nodes (listed, or whose labels match).
// - a selector with only `nodes` / `nodeSelectors` and `select: nodes` picks nodes instead of pods.
// - mode: `one` one at random; `all`; `fixed` N at random (all if fewer); `fixed-percent` ⌊n·V/100⌋
//   at random; `random-max-percent` ⌊n·U/100⌋ with U uniform in [0, V]. The random picks keep the
//   candidates' order (pods in creation order), so a list reads the same way every run.
// - the candidates are the pods the API server still has when the fault fires: one its kubelet deleted
//   after it stopped, or the pod GC removed, is no target (a shorthand naming it: "no pod …").
import { z } from 'zod';
import type { Rng } from '../core/rng.js';
import type { ClusterNode, ClusterPod, ExternalHost } from '../k8s/cluster.js';
import { currentPod } from '../k8s/pod-uid.js';
import type { ServiceView } from '../k8s/services.js';
import type { Namespace } from '../net/namespace.js';
import type { Ipv4 } from '../wire/types.js';

const LABEL_MAP = z.record(z.string(), z.string());

/** Chaos Mesh's `selector` (GenericSelector + PodSelectorSpec fields podwire models). */
export const SelectorSpec = z.strictObject({
  namespaces: z.array(z.string()).optional(),
  labelSelectors: LABEL_MAP.optional(),
  annotationSelectors: LABEL_MAP.optional(),
  /** Pods by name, per namespace: `{ default: [web-0, web-1] }`. */
  pods: z.record(z.string(), z.array(z.string())).optional(),
  /** Only pods on these nodes (or, with `select: nodes`, these nodes). */
  nodes: z.array(z.string()).optional(),
  /** Only pods on nodes with these labels (or, with `select: nodes`, those nodes). */
  nodeSelectors: LABEL_MAP.optional(),
});
export type SelectorSpecT = z.infer<typeof SelectorSpec>;

export const SelectMode = z.enum(['one', 'all', 'fixed', 'fixed-percent', 'random-max-percent']);
export type SelectModeT = z.infer<typeof SelectMode>;

/** A shorthand target: `pod/NAME[.NS]`, `node/NAME`, `host/NAME`, `svc/NAME[.NS]`. */
export const TargetText = z.string().regex(/^(pod|node|host|svc)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'expected pod/NAME, node/NAME, host/NAME or svc/NAME');

/** Chaos Mesh's PodSelector: `{ selector, mode, value }`; `select: nodes` picks nodes (podwire). */
export const SelectorTarget = z
  .strictObject({
    selector: SelectorSpec.default({}),
    mode: SelectMode.default('all'),
    /** The count (fixed) or percentage (fixed-percent, random-max-percent), as Chaos Mesh's string. */
    value: z.union([z.string().regex(/^\d+$/, 'expected a whole number'), z.number().int().nonnegative()]).optional(),
    select: z.enum(['pods', 'nodes']).default('pods'),
  })
  .superRefine((t, ctx) => {
    if ((t.mode === 'fixed' || t.mode === 'fixed-percent' || t.mode === 'random-max-percent') && t.value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `mode ${t.mode} needs a value` });
    }
    const v = t.value === undefined ? 0 : Number(t.value);
    if ((t.mode === 'fixed-percent' || t.mode === 'random-max-percent') && (v <= 0 || v > 100)) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'expected a percentage in 1..100' });
    }
    if (t.mode === 'fixed' && t.value !== undefined && v <= 0) ctx.addIssue({ code: 'custom', path: ['value'], message: 'expected at least 1' });
  });
export type SelectorTargetT = z.infer<typeof SelectorTarget>;

/** A fault's target: a shorthand string or a selector object. */
export const Target = z.union([TargetText, SelectorTarget]);
export type TargetT = z.infer<typeof Target>;

/** What the selector looks at (the cluster now, the plain hosts). */
export interface SelectorWorld {
  readonly pods: readonly ClusterPod[];
  readonly nodes: readonly ClusterNode[];
  /** External hosts of the cluster network. */
  readonly hosts: readonly ExternalHost[];
  /** Plain hosts of spec.hosts by name (namespaces that are not a node, pod or external host). */
  readonly plainHosts: ReadonlyMap<string, Namespace>;
  /** Services with their endpoints now. */
  readonly services: readonly ServiceView[];
  /** A node's labels (kubernetes.io/hostname, role, spec.cluster.nodes[].labels, Node manifests). */
  nodeLabels(node: ClusterNode): Readonly<Record<string, string>>;
}

/** One selected thing: where a fault acts. */
export type Selected =
  | { kind: 'pod'; name: string; pod: ClusterPod; ns: Namespace; ip: Ipv4 }
  | { kind: 'node'; name: string; node: ClusterNode; ns: Namespace; ip: Ipv4 }
  | { kind: 'host'; name: string; ns: Namespace; ip: Ipv4 | null };

/** The outcome: the selection, or why nothing could be selected (one line, for a user error). */
export type Selection = { ok: true; selected: Selected[] } | { ok: false; error: string };

const podSel = (pod: ClusterPod): Selected => ({ kind: 'pod', name: pod.name, pod, ns: pod.ns, ip: pod.ip });
const nodeSel = (node: ClusterNode): Selected => ({ kind: 'node', name: node.name, node, ns: node.ns, ip: node.ip });

/**
 * `NAME` or `NAME.NS` naming a pod (the first namespace's pod of that name when no namespace is given);
 * of a name used again (a StatefulSet's pod created anew), the newest sandbox: the pod that runs now.
 */
export function findPod(pods: readonly ClusterPod[], name: string): ClusterPod | undefined {
  const first = pods.find((p) => p.name === name) ?? pods.find((p) => `${p.name}.${p.namespace}` === name);
  return first && currentPod(pods, first.namespace, first.name);
}

function matches(have: Readonly<Record<string, string>>, want: Readonly<Record<string, string>> | undefined): boolean {
  if (want === undefined) return true;
  for (const k of Object.keys(want)) if (have[k] !== want[k]) return false;
  return true;
}

/** Resolves a shorthand target (no randomness: it names one thing, or a Service's pods). */
function resolveText(w: SelectorWorld, text: string): Selection {
  const slash = text.indexOf('/');
  const kind = text.slice(0, slash);
  const name = text.slice(slash + 1);
  switch (kind) {
    case 'pod': {
      const pod = findPod(w.pods, name);
      return pod ? { ok: true, selected: [podSel(pod)] } : { ok: false, error: `no pod "${name}"` };
    }
    case 'node': {
      const node = w.nodes.find((n) => n.name === name);
      return node ? { ok: true, selected: [nodeSel(node)] } : { ok: false, error: `no node "${name}"` };
    }
    case 'host': {
      const ext = w.hosts.find((h) => h.name === name);
      if (ext) return { ok: true, selected: [{ kind: 'host', name, ns: ext.ns, ip: ext.ip }] };
      const ns = w.plainHosts.get(name);
      return ns ? { ok: true, selected: [{ kind: 'host', name, ns, ip: firstAddress(ns) }] } : { ok: false, error: `no host "${name}"` };
    }
    case 'svc': {
      const svc = w.services.find((s) => s.name === name) ?? w.services.find((s) => `${s.name}.${s.namespace}` === name);
      if (!svc) return { ok: false, error: `no Service "${name}"` };
      const seen = new Set<ClusterPod>();
      for (const p of svc.ports) for (const e of p.endpoints) if (e.pod !== null) seen.add(e.pod);
      // Endpoints in the cluster's pod order, each pod once.
      return { ok: true, selected: w.pods.filter((p) => seen.has(p)).map(podSel) };
    }
    default:
      return { ok: false, error: `unknown target kind "${kind}"` };
  }
}

function firstAddress(ns: Namespace): Ipv4 | null {
  return ns.addrs.find((a) => a.dev.kind !== 'loopback')?.addr ?? null;
}

/** The candidates of a selector object, before the mode. */
function candidates(w: SelectorWorld, t: SelectorTargetT): Selected[] {
  const s = t.selector;
  const nodeOk = (n: ClusterNode): boolean => (s.nodes === undefined || s.nodes.includes(n.name)) && matches(w.nodeLabels(n), s.nodeSelectors);
  const nodeFilter = s.nodes !== undefined || s.nodeSelectors !== undefined;
  if (t.select === 'nodes') return w.nodes.filter(nodeOk).map(nodeSel);
  if (s.pods !== undefined) {
    const out: Selected[] = [];
    for (const [ns, names] of Object.entries(s.pods)) {
      for (const name of names) {
        const pod = currentPod(w.pods, ns, name);
        if (pod) out.push(podSel(pod));
      }
    }
    return out;
  }
  return w.pods
    .filter((p) => (s.namespaces === undefined || s.namespaces.length === 0 || s.namespaces.includes(p.namespace)) && matches(p.labels, s.labelSelectors) && matches(p.annotations, s.annotationSelectors) && (!nodeFilter || nodeOk(p.node)))
    .map(podSel);
}

/** Picks `k` of `items` at random (a partial Fisher–Yates over indexes), keeping their order. */
function pick<T>(items: readonly T[], k: number, rng: Rng): T[] {
  if (k >= items.length) return items.slice();
  const idx = items.map((_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(idx.length - i);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx
    .slice(0, k)
    .sort((a, b) => a - b)
    .map((i) => items[i]!);
}

/** How many of `n` candidates a mode keeps (drawing for random-max-percent). */
export function modeCount(mode: SelectModeT, value: number, n: number, rng: Rng): number {
  switch (mode) {
    case 'one':
      return Math.min(1, n);
    case 'all':
      return n;
    case 'fixed':
      return Math.min(value, n);
    case 'fixed-percent':
      return Math.floor((n * value) / 100);
    case 'random-max-percent':
      return Math.floor((n * rng.int(value + 1)) / 100);
    default: {
      const never: never = mode;
      throw new Error(`unknown mode ${String(never)}`);
    }
  }
}

/**
 * Resolves a target now. A shorthand names its thing (or a Service's endpoint pods now); a selector
 * object filters, then its mode draws from `rng`. An empty selection is an error, as Chaos Mesh's
 * "no pod is selected".
 */
export function resolveTarget(w: SelectorWorld, target: TargetT, rng: Rng): Selection {
  if (typeof target === 'string') {
    const r = resolveText(w, target);
    if (r.ok && r.selected.length === 0) return { ok: false, error: `${target} has no endpoints now` };
    return r;
  }
  const all = candidates(w, target);
  const k = modeCount(target.mode, target.value === undefined ? 0 : Number(target.value), all.length, rng);
  const selected = target.mode === 'all' ? all : pick(all, k, rng);
  if (selected.length === 0) return { ok: false, error: `the selector matches no ${target.select === 'nodes' ? 'node' : 'pod'}${all.length > 0 ? ` (mode ${target.mode} keeps none of ${all.length})` : ''}` };
  return { ok: true, selected };
}

/** One line naming what a target selects (for the timeline). */
export function describeSelection(selected: readonly Selected[]): string {
  return selected.map((s) => `${s.kind}/${s.name}`).join(', ');
}

/** A target as text for the timeline: the shorthand, or a short rendering of the selector. */
export function describeTarget(target: TargetT): string {
  if (typeof target === 'string') return target;
  const s = target.selector;
  const parts: string[] = [];
  if (s.namespaces?.length) parts.push(`namespaces=${s.namespaces.join(',')}`);
  if (s.labelSelectors) parts.push(Object.entries(s.labelSelectors).map(([k, v]) => `${k}=${v}`).join(','));
  if (s.pods) parts.push(Object.entries(s.pods).map(([ns, names]) => `${ns}/${names.join('|')}`).join(','));
  if (s.nodes?.length) parts.push(`nodes=${s.nodes.join(',')}`);
  if (s.nodeSelectors) parts.push(`node:${Object.entries(s.nodeSelectors).map(([k, v]) => `${k}=${v}`).join(',')}`);
  return `${target.select === 'nodes' ? 'nodes' : 'pods'}{${parts.join(' ')}} mode ${target.mode}${target.value !== undefined ? ` ${target.value}` : ''}`;
}

/** The SelectorWorld of a cluster (nodes' labels from the scenario's node list) and plain hosts. */
export function selectorWorld(
  cluster: { pods: readonly ClusterPod[]; nodes: readonly ClusterNode[]; hosts: readonly ExternalHost[] } | null,
  plainHosts: ReadonlyMap<string, Namespace>,
  services: () => readonly ServiceView[],
  labelsOf: ReadonlyMap<string, Readonly<Record<string, string>>>,
  /** Whether a pod is still in the API server (a pod its kubelet or the pod GC deleted is no target). */
  exists: (pod: ClusterPod) => boolean = () => true,
): SelectorWorld {
  return {
    get pods() {
      return (cluster?.pods ?? []).filter(exists);
    },
    nodes: cluster?.nodes ?? [],
    hosts: cluster?.hosts ?? [],
    plainHosts,
    get services() {
      return services();
    },
    nodeLabels: (node) => labelsOf.get(node.name) ?? { 'kubernetes.io/hostname': node.name },
  };
}
