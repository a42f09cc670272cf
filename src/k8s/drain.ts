// k8s/drain — `kubectl cordon`, `kubectl uncordon` and `kubectl drain` (kubectl's drain package) with the
// Eviction API's PodDisruptionBudget check (pkg/registry/core/pod/storage/eviction.go, the disruption
// controller's status):
//   cordon    spec.unschedulable: the node lifecycle controller's TaintNodeByCondition adds
//             node.kubernetes.io/unschedulable:NoSchedule, which the scheduler honours (new pods go elsewhere)
//   uncordon  the taint goes
//   drain     cordon, then every pod of the node but DaemonSet pods (as --ignore-daemonsets) is evicted:
//             a pod no controller owns stops the drain unless `force` (kubectl: "cannot delete Pods that
//             declare no controller"), after the cordon; an eviction the PodDisruptionBudgets refuse
//             (429 "Cannot evict pod as it would violate the pod's disruption budget") is retried every
//             5 s, as kubectl does; an evicted pod is deleted gracefully (its terminationGracePeriodSeconds,
//             or the drain's gracePeriod) and its controller replaces it on another node. The drain is
//             done when every evicted pod has stopped.
// A PodDisruptionBudget (policy/v1; policy/v1beta1 is run as it) allows an eviction when the pods its
// selector matches that are Ready and not terminating, less one, are still at least desiredHealthy:
// minAvailable (an integer, or a percentage of the expected pods rounded up), or expected − maxUnavailable
// (a percentage rounded up). The expected pods are the replicas of the matched pods' ReplicaSets (their
// controllers' scale), or the matched pods themselves for pods without one. A pod two budgets match
// cannot be evicted (the API server's 500). Layer: k8s (imports core, k8s).
// Not modelled: --timeout, --delete-emptydir-data, --pod-selector, unhealthyPodEvictionPolicy, the
// disruption controller's delay (its status is computed at each eviction), drain of static pods.
import type { Simulator } from '../core/simulator.js';
import type { UserError } from '../core/user-error.js';
import type { Node, Pod } from './api/objects.js';
import type { ApiStore } from './api/store.js';
import type { ClusterNode, ClusterPod, ClusterWorld } from './cluster.js';
import type { Kubelet } from './kubelet.js';
import { graceSecondsOf } from './pod-termination.js';
import { intOrPercent } from './deployment-controller.js';
import type { ReplicaSetController } from './replica-controller.js';
import { selectorMatches } from './services.js';
import { UNSCHEDULABLE_TAINT } from './scheduler.js';

/** kubectl drain's wait before it retries an eviction a budget refused. */
export const EVICTION_RETRY_NS = 5e9;

/** One PodDisruptionBudget. */
export interface DisruptionBudget {
  namespace: string;
  name: string;
  selector: Record<string, string>;
  minAvailable?: number | string;
  maxUnavailable?: number | string;
}

/** The PodDisruptionBudget manifests; a malformed one is an error at its field. */
export function disruptionBudgets(cluster: ClusterWorld, errors: UserError[]): DisruptionBudget[] {
  const out: DisruptionBudget[] = [];
  for (const m of cluster.manifests) {
    if (m.kind !== 'PodDisruptionBudget') continue;
    const md = (m.value['metadata'] ?? {}) as { name?: unknown; namespace?: unknown };
    const spec = (m.value['spec'] ?? {}) as { selector?: { matchLabels?: unknown }; minAvailable?: unknown; maxUnavailable?: unknown };
    const ok = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'string' && /^\d+%$/.test(v));
    if (!ok(spec.minAvailable)) errors.push(m.error(['spec', 'minAvailable'], 'expected a non-negative integer or a percentage like 50%'));
    else if (!ok(spec.maxUnavailable)) errors.push(m.error(['spec', 'maxUnavailable'], 'expected a non-negative integer or a percentage like 50%'));
    else if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) errors.push(m.error(['spec'], 'minAvailable and maxUnavailable cannot both be set'));
    else {
      const labels = spec.selector?.matchLabels;
      out.push({
        namespace: typeof md.namespace === 'string' ? md.namespace : 'default',
        name: String(md.name ?? ''),
        selector: labels && typeof labels === 'object' ? (labels as Record<string, string>) : {},
        ...(spec.minAvailable !== undefined ? { minAvailable: spec.minAvailable as number | string } : {}),
        ...(spec.maxUnavailable !== undefined ? { maxUnavailable: spec.maxUnavailable as number | string } : {}),
      });
    }
  }
  return out;
}

/** cordon, uncordon, drain and evictions. */
export class Drainer {
  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    private readonly cluster: ClusterWorld,
    private readonly replicaSets: ReplicaSetController,
    private readonly kubelet: Kubelet,
    private readonly budgets: DisruptionBudget[],
    private readonly record: (what: string) => void,
  ) {}

  /** spec.unschedulable on or off (the unschedulable NoSchedule taint). */
  setUnschedulable(node: ClusterNode, on: boolean): void {
    const obj = this.api.get('Node', '', node.name);
    if (!obj) return void this.record(`kubectl: node ${node.name} not found`);
    const taints = (obj.spec?.taints ?? []).filter((t) => t.key !== UNSCHEDULABLE_TAINT);
    if (on) taints.push({ key: UNSCHEDULABLE_TAINT, effect: 'NoSchedule', timeAdded: this.sim.now });
    this.api.update<Node>({ ...obj, spec: { ...obj.spec, taints } });
    this.record(`node/${node.name} ${on ? 'cordoned' : 'uncordoned'}`);
  }

  /** `kubectl drain`: cordon, then evict every pod but DaemonSet ones, retrying refused evictions every 5 s. */
  drain(node: ClusterNode, opts: { force: boolean; gracePeriodS?: number | undefined }): void {
    this.setUnschedulable(node, true);
    const live = (p: ClusterPod) => {
      const o = this.api.get('Pod', p.namespace, p.name);
      return o !== undefined && o.metadata.deletionTimestamp === null && o.status.phase === undefined;
    };
    const pods = node.pods.filter((p) => live(p) && p.owner?.kind !== 'DaemonSet');
    const bare = pods.filter((p) => p.owner === null);
    if (bare.length > 0 && !opts.force) {
      this.record(`drain node/${node.name}: error: cannot delete Pods that declare no controller (use force): ${bare.map((p) => p.name).join(', ')}`);
      return;
    }
    this.record(`drain node/${node.name}: evicting ${pods.length} pod${pods.length === 1 ? '' : 's'}`);
    const waiting = new Set(pods);
    const done = () => {
      if ([...waiting].every((p) => this.kubelet.hasStopped(p))) this.record(`node/${node.name} drained`);
      else this.sim.scheduleBackground(1e9, done);
    };
    const evict = (pod: ClusterPod): void => {
      if (!live(pod)) return;
      const refusal = this.evictionRefused(pod);
      if (refusal !== null) {
        this.record(`drain node/${node.name}: cannot evict pod ${pod.name}: ${refusal}; retrying in 5s`);
        // (In the background: a drain a budget blocks for good does not keep a run without a duration going.)
        this.sim.scheduleBackground(EVICTION_RETRY_NS, () => evict(pod));
        return;
      }
      const grace = opts.gracePeriodS ?? graceSecondsOf(pod);
      const obj = this.api.get('Pod', pod.namespace, pod.name)!;
      this.record(`drain node/${node.name}: evicting pod ${pod.name} (grace period ${grace}s)`);
      this.api.update<Pod>({ ...obj, metadata: { ...obj.metadata, deletionTimestamp: this.sim.now, deletionGracePeriodSeconds: grace } });
    };
    for (const p of pods) evict(p);
    if (pods.length === 0) this.record(`node/${node.name} drained`);
    else this.sim.schedule(0, done);
  }

  /** Why the Eviction API refuses the pod now (its budgets), or null when it may go. */
  evictionRefused(pod: ClusterPod): string | null {
    const mine = this.budgets.filter((b) => b.namespace === pod.namespace && Object.keys(b.selector).length > 0 && selectorMatches(b.selector, pod.labels));
    if (mine.length > 1) return `it matches more than one PodDisruptionBudget (${mine.map((b) => b.name).join(', ')})`;
    const b = mine[0];
    if (!b) return null;
    const matched = this.cluster.pods.filter((p) => p.namespace === b.namespace && selectorMatches(b.selector, p.labels));
    const objs = matched.map((p) => this.api.get('Pod', p.namespace, p.name)).filter((o): o is Pod => o !== undefined);
    const healthy = objs.filter((o) => o.status.ready && o.metadata.deletionTimestamp === null).length;
    // expectedCount: the scale of the matched pods' ReplicaSets, or the pods themselves.
    const sets = new Set(matched.map((p) => this.replicaSets.setOf(p)).filter((s) => s !== undefined));
    const bareCount = matched.filter((p) => this.replicaSets.setOf(p) === undefined && objs.some((o) => o.metadata.name === p.name && o.metadata.deletionTimestamp === null)).length;
    const expected = [...sets].reduce((n, s) => n + s!.replicas, 0) + bareCount;
    const desired = b.minAvailable !== undefined ? intOrPercent(b.minAvailable, expected, true)! : expected - intOrPercent(b.maxUnavailable ?? 0, expected, true)!;
    if (healthy - 1 >= desired) return null;
    return `it would violate the PodDisruptionBudget ${b.name} (${healthy} healthy, ${desired} needed)`;
  }
}
