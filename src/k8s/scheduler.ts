// k8s/scheduler — kube-scheduler's filters and a deterministic score: spec.nodeName binds the pod there;
// otherwise the filter plugins, in the default profile's order and each node stopping at the first that
// rejects it — NodeUnschedulable (a cordoned node: "node(s) were unschedulable"), TaintToleration
// (NoSchedule / NoExecute), NodeAffinity (nodeSelector and requiredDuringSchedulingIgnoredDuringExecution),
// NodePorts (hostPort conflicts) and NodeResourcesFit's pod count (a node runs at most its kubelet's
// maxPods, 110 by default: "Too many pods") — keep the feasible nodes, and of those the one with the
// fewest pods wins, then node order (what the default scorer's spreading gives on equal nodes). A pod
// no node fits gets the FailedScheduling message ("0/3 nodes are available: ...") and the plugins that
// rejected it, which the scheduling queue (scheduling-queue.ts) uses to decide which cluster events
// may make it fit. Layer: k8s (imports k8s). Mirrors pkg/scheduler/framework/plugins (nodeunschedulable,
// tainttoleration, nodeaffinity, nodeports, noderesources) and k8s.io/component-helpers/scheduling/corev1
// (label selector operators, toleration matching).
// Not modelled: resources, preferred affinity, pod (anti-)affinity, topology spread constraints, preemption.
import { z } from 'zod';
import type { ClusterNode } from './cluster.js';

/** A node's labels, taints and pod capacity (Node.metadata.labels, Node.spec.taints, status.allocatable.pods). */
export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  taints: Taint[];
  /** The kubelet's maxPods (KubeletConfiguration, default 110): the node's allocatable pods. */
  maxPods?: number;
}

/** The kubelet's default maxPods. */
export const DEFAULT_MAX_PODS = 110;

const TaintSchema = z.looseObject({ key: z.string(), value: z.string().optional(), effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']) });
export type Taint = z.infer<typeof TaintSchema>;
export const TaintsSchema = z.array(TaintSchema).default([]);

const Requirement = z.looseObject({ key: z.string(), operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']), values: z.array(z.string()).default([]) });
const Term = z.looseObject({ matchExpressions: z.array(Requirement).default([]), matchFields: z.array(Requirement).default([]) });
const Toleration = z.looseObject({ key: z.string().optional(), operator: z.enum(['Exists', 'Equal']).default('Equal'), value: z.string().optional(), effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional() });
export type TolerationT = z.infer<typeof Toleration>;

/** The scheduling fields of a pod spec (parsed beside the rest of the spec). */
export const SchedulingSchema = z.looseObject({
  nodeName: z.string().optional(),
  nodeSelector: z.record(z.string(), z.string()).default({}),
  affinity: z
    .looseObject({
      nodeAffinity: z.looseObject({ requiredDuringSchedulingIgnoredDuringExecution: z.looseObject({ nodeSelectorTerms: z.array(Term).min(1) }).optional() }).optional(),
    })
    .optional(),
  tolerations: z.array(Toleration).default([]),
  hostNetwork: z.boolean().default(false),
});
export type SchedulingT = z.infer<typeof SchedulingSchema>;

/** What the scheduler needs of a pod: its scheduling fields and the host ports it claims. */
export interface PodScheduling {
  spec: SchedulingT;
  hostPorts: { port: number; protocol: string }[];
}

function requirementMatches(r: z.infer<typeof Requirement>, value: string | undefined): boolean {
  switch (r.operator) {
    case 'In':
      return value !== undefined && r.values.includes(value);
    case 'NotIn':
      return value === undefined || !r.values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const v = Number(value);
      const bound = Number(r.values[0]);
      if (value === undefined || !Number.isInteger(v) || !Number.isInteger(bound)) return false;
      return r.operator === 'Gt' ? v > bound : v < bound;
    }
  }
}

/** nodeSelector and required node affinity (terms ORed, expressions ANDed; matchFields: metadata.name). */
export function matchesNodeSelection(node: NodeInfo, s: SchedulingT): boolean {
  for (const [k, v] of Object.entries(s.nodeSelector)) if (node.labels[k] !== v) return false;
  const terms = s.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms) return true;
  return terms.some((t) => (t.matchExpressions.length > 0 || t.matchFields.length > 0) && t.matchExpressions.every((r) => requirementMatches(r, node.labels[r.key])) && t.matchFields.every((r) => r.key === 'metadata.name' && requirementMatches(r, node.name)));
}

/** v1.Toleration.ToleratesTaint. */
export function tolerates(t: TolerationT, taint: Taint): boolean {
  if (t.effect !== undefined && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== '' && t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

/** The first NoSchedule / NoExecute taint no toleration tolerates, or null. */
export function untoleratedTaint(node: NodeInfo, tolerations: readonly TolerationT[]): Taint | null {
  return node.taints.find((taint) => taint.effect !== 'PreferNoSchedule' && !tolerations.some((t) => tolerates(t, taint))) ?? null;
}

/** Whether any node of `infos` has a taint (by map: callers build the map once per scheduling round and do not change it). */
const taintedCache = new WeakMap<ReadonlyMap<string, NodeInfo>, boolean>();
function anyTaints(infos: ReadonlyMap<string, NodeInfo>): boolean {
  let t = taintedCache.get(infos);
  if (t === undefined) {
    t = false;
    for (const i of infos.values()) if (i.taints.length > 0) t = true;
    taintedCache.set(infos, t);
  }
  return t;
}

/** The filter plugins whose rejections podwire models (framework plugin names). */
export type FilterPlugin = 'NodeUnschedulable' | 'TaintToleration' | 'NodeAffinity' | 'NodePorts' | 'NodeResourcesFit';

/** Why no node fits: the FailedScheduling message and the plugins that rejected a node (QueuedPodInfo.UnschedulablePlugins). */
export interface Unschedulable {
  pending: string;
  plugins: FilterPlugin[];
}

/** The taint a cordoned node carries (TaintNodeByCondition for spec.unschedulable). */
export const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';

/** The node a pod is bound to, or the reason it stays Pending / cannot be bound. */
export function schedulePod(nodes: ClusterNode[], infos: ReadonlyMap<string, NodeInfo>, pod: PodScheduling, hostPortsOf: (node: ClusterNode) => { port: number; protocol: string }[]): ClusterNode | Unschedulable | { error: string } {
  const s = pod.spec;
  if (s.nodeName !== undefined) return nodes.find((n) => n.name === s.nodeName) ?? { error: `no node "${s.nodeName}" (nodes: ${nodes.map((n) => n.name).join(', ')})` };
  const reasons = new Map<string, number>();
  const plugins = new Set<FilterPlugin>();
  // A pod without node selection or host ports fits every untainted node with room (the common case,
  // checked without the general tests: this runs once per node for each of up to 100,000 pods).
  let selects = pod.hostPorts.length > 0 || s.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution !== undefined;
  if (Object.keys(s.nodeSelector).length > 0) selects = true;
  const noTaints = !anyTaints(infos);
  // The feasible node with the fewest pods, the first of them on a tie.
  let best: ClusterNode | null = null;
  for (const n of nodes) {
    const info = infos.get(n.name);
    let why: string | null = null;
    let plugin: FilterPlugin | null = null;
    if (!selects && (noTaints || info === undefined || info.taints.length === 0)) {
      if (n.pods.length >= (info?.maxPods ?? DEFAULT_MAX_PODS)) [why, plugin] = ['Too many pods', 'NodeResourcesFit'];
    } else {
      const ni: NodeInfo = info ?? { name: n.name, labels: {}, taints: [] };
      const taint = untoleratedTaint(ni, s.tolerations);
      if (taint?.key === UNSCHEDULABLE_TAINT) [why, plugin] = ['node(s) were unschedulable', 'NodeUnschedulable'];
      else if (taint) [why, plugin] = [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`, 'TaintToleration'];
      else if (!matchesNodeSelection(ni, s)) [why, plugin] = ["node(s) didn't match Pod's node affinity/selector", 'NodeAffinity'];
      else if (pod.hostPorts.some((h) => hostPortsOf(n).some((x) => x.port === h.port && x.protocol === h.protocol))) [why, plugin] = ["node(s) didn't have free ports for the requested pod ports", 'NodePorts'];
      else if (n.pods.length >= (info?.maxPods ?? DEFAULT_MAX_PODS)) [why, plugin] = ['Too many pods', 'NodeResourcesFit']; // noderesources.Fit: allocatable pods
    }
    if (why !== null) {
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
      plugins.add(plugin!);
    } else if (best === null || n.pods.length < best.pods.length) best = n;
  }
  if (best === null) {
    // The reason strings as the plugins word them ("node(s) didn't match ...", "Too many pods"), sorted as the scheduler's FitError sorts them.
    const parts = [...reasons].map(([why, n]) => `${n} ${why}`).sort().join(', ');
    return { pending: `0/${nodes.length} nodes are available: ${parts}.`, plugins: [...plugins] };
  }
  return best;
}
