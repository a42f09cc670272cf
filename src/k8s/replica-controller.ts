// k8s/replica-controller — the ReplicaSet controller (pkg/controller/replicaset syncReplicaSet →
// manageReplicas): it keeps a ReplicaSet's active pods at spec.replicas. A pod with a deletionTimestamp
// no longer counts as active (controller.FilterActivePods), so the moment a pod of a ReplicaSet (or of a
// Deployment's ReplicaSet) is deleted — by a user, Chaos Mesh's pod-kill or the taint manager's
// eviction — the controller creates a new pod from the template, named <replicaset>-<5 chars> from the
// ReplicaSet's name stream (`k8s/replicaset/NS/NAME`, continuing the names drawn at start); likewise
// when a pod turns Failed or is removed outright (the pod GC's force delete of a deleted node's pods). The
// scheduler binds it to a Ready node without an untolerated taint (kube-scheduler's filters,
// scheduler.ts), the kubelet there runs its sandbox (new namespace, veth, next pod IP) and its app.
// `scale` (`kubectl scale`, the Deployment controller's rollout) sets spec.replicas: more pods are created
// as above; fewer are deleted gracefully (their terminationGracePeriodSeconds; pod-termination.ts), the
// victims ranked as getPodsToDelete ranks them (controller.ActivePodsWithRanks, LogarithmicScaleDown):
// not Ready before Ready, pods on a node holding more pods of the Deployment first, lower
// controller.kubernetes.io/pod-deletion-cost first, Ready more recently first and created more recently
// first (each on a log2 scale of its age in ns), more restarts first; the last tie-break is the pods' UIDs,
// random strings, for which podwire compares the pods' names (their 5 random characters).
// Layer: k8s (imports core, k8s).
// A pod no node fits is created all the same, unscheduled (kube-scheduler.ts: phase Pending, FailedScheduling),
// and counts as active: the ReplicaSet does not make more; the scheduler binds it when a node frees up, is
// uncordoned or added, and the kubelet then starts it. Scaling down deletes unscheduled pods first (they go
// from the API server at once), then the ranking above.
// StatefulSet and DaemonSet pods are their own controllers' (statefulset-controller.ts, daemonset-controller.ts),
// Job pods the Job controller's. Not modelled: the controller's expectations and burst limits, the
// scheduler's latency (a pod that fits is bound in the same instant; the kubelet's start latency is
// `cluster.podStartup`, kubelet.ts), a new pod's devices in the capture (they are created after the
// capture's interfaces were chosen; cni0 and the node's interfaces show its traffic).
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { Pod } from './api/objects.js';
import type { ApiStore } from './api/store.js';
import { objectMeta } from './api/objects.js';
import type { ClusterPod, ClusterWorld } from './cluster.js';
import type { PodDef, PodOwner } from './desired-state.js';
import type { Kubelet } from './kubelet.js';
import type { KubeScheduler } from './kube-scheduler.js';
import { generateNames } from './names.js';
import { currentPod } from './pod-uid.js';
import { graceSecondsOf } from './pod-termination.js';

/** One ReplicaSet: its pods' name prefix (the ReplicaSet's name), template and spec.replicas. */
export interface ReplicaSetState {
  namespace: string;
  /** The ReplicaSet's name (a Deployment's: <deployment>-<pod-template-hash>), its pods' name prefix. */
  name: string;
  owner: PodOwner;
  /** A pod of its template (the name is the controller's to draw). */
  template: PodDef;
  replicas: number;
}

const rsKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** A pod of a ReplicaSet (or of a Deployment's ReplicaSet): the pods this controller keeps. */
function replicated(pod: ClusterPod): boolean {
  return pod.owner !== null && (pod.owner.kind === 'Deployment' || pod.owner.kind === 'ReplicaSet');
}

/** The ReplicaSet a pod of one belongs to: its name without the random suffix. */
function rsNameOf(pod: ClusterPod): string {
  return pod.name.slice(0, pod.name.lastIndexOf('-'));
}

/** controller.FilterActivePods: not Succeeded or Failed, no deletionTimestamp. */
function isActive(p: Pod): boolean {
  return p.metadata.deletionTimestamp === null && p.status.phase !== 'Succeeded' && p.status.phase !== 'Failed';
}

/** int(log2(now − t)) in ns, −1 for no age: LogarithmicScaleDown's bucket of a time. */
function logRank(t: TimeNs, now: TimeNs): number {
  const d = now - t;
  return d > 0 ? Math.floor(Math.log2(d)) : -1;
}

/** The ReplicaSet controller: keeps each ReplicaSet's active pods at its replicas. */
export class ReplicaSetController {
  readonly sets = new Map<string, ReplicaSetState>();
  /** When each pod (by namespace/name) was created and last turned Ready. */
  private readonly created = new Map<string, TimeNs>();
  private readonly readySince = new Map<string, TimeNs>();

  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    private readonly cluster: ClusterWorld,
    private readonly kubelet: Kubelet,
    private readonly scheduler: KubeScheduler,
    private readonly record: (what: string) => void,
  ) {
    for (const w of cluster.workloads) {
      if (w.owner.kind !== 'Deployment' && w.owner.kind !== 'ReplicaSet') continue;
      this.sets.set(rsKey(w.namespace, w.prefix), { namespace: w.namespace, name: w.prefix, owner: w.owner, template: w.def, replicas: w.replicas });
    }
  }

  /** Watches Pods: a pod leaving a ReplicaSet's active set is made up for. */
  start(): void {
    for (const p of this.api.list('Pod')) if (p.status.ready) this.readySince.set(rsKey(p.metadata.namespace, p.metadata.name), this.sim.now);
    this.api.watch('Pod', (events) => {
      for (const e of events) {
        const k = rsKey(e.object.metadata.namespace, e.object.metadata.name);
        if (e.type !== 'DELETED' && e.object.status.ready && !(e.old?.status.ready ?? false)) this.readySince.set(k, this.sim.now);
        else if (!e.object.status.ready) this.readySince.delete(k);
        if (e.old === null) continue;
        // A pod leaves the active set (controller.FilterActivePods): deleted gracefully (a deletionTimestamp),
        // failed (the pod GC marks an orphan Failed before deleting it) or removed without either (a DELETE
        // with grace period 0). A pod that left it already (Failed, then deleted) was made up for then.
        if (!isActive(e.old) || (e.type !== 'DELETED' && isActive(e.object))) continue;
        const pod = currentPod(this.cluster.pods, e.object.metadata.namespace, e.object.metadata.name);
        if (!pod || !replicated(pod)) continue;
        const rs = this.setOf(pod);
        // The controller's own sync, after this write's watchers have run (same instant).
        if (rs) this.sim.schedule(0, () => this.sync(rs, pod));
      }
    });
  }

  /** The ReplicaSet of a pod (one known at start, or one a rollout made). */
  setOf(pod: ClusterPod): ReplicaSetState | undefined {
    return this.sets.get(rsKey(pod.namespace, rsNameOf(pod)));
  }

  /** When the pod last turned Ready (now if it is not Ready). */
  readyAt(pod: ClusterPod): TimeNs {
    return this.readySince.get(rsKey(pod.namespace, pod.name)) ?? this.sim.now;
  }

  /** Adds a ReplicaSet (a Deployment's new one in a rollout). */
  add(rs: ReplicaSetState): void {
    this.sets.set(rsKey(rs.namespace, rs.name), rs);
  }

  /** `kubectl scale rs` (or the Deployment controller): spec.replicas = n, then a sync. */
  scale(rs: ReplicaSetState, n: number): void {
    rs.replicas = n;
    this.sync(rs, null);
  }

  /** The ReplicaSet's pods that exist (created, not removed), and those of them still active. */
  podsOf(rs: ReplicaSetState): { pod: ClusterPod; obj: Pod }[] {
    const out: { pod: ClusterPod; obj: Pod }[] = [];
    for (const pod of this.cluster.pods) {
      if (pod.namespace !== rs.namespace || !replicated(pod) || rsNameOf(pod) !== rs.name) continue;
      const obj = this.api.get('Pod', pod.namespace, pod.name);
      if (obj) out.push({ pod, obj });
    }
    return out;
  }

  /** Active pods of the ReplicaSet bound to a node (no deletionTimestamp, not terminated). */
  active(rs: ReplicaSetState): { pod: ClusterPod; obj: Pod }[] {
    return this.podsOf(rs).filter((x) => isActive(x.obj));
  }

  /** The ReplicaSet's pods waiting for a node (unscheduled, phase Pending), oldest first. */
  pending(rs: ReplicaSetState): PodDef[] {
    return this.scheduler.pendingWithPrefix(rs.namespace, rs.name);
  }

  /** Active pods, bound or waiting for a node (the ReplicaSet's status.replicas). */
  activeCount(rs: ReplicaSetState): number {
    return this.active(rs).length + this.pending(rs).length;
  }

  /** manageReplicas: creates or deletes pods until the active ones are spec.replicas. `replaced`: the pod whose leaving started it. */
  private sync(rs: ReplicaSetState, replaced: ClusterPod | null): void {
    const active = this.active(rs);
    const pending = this.pending(rs);
    const diff = active.length + pending.length - rs.replicas;
    // A sync started by one pod leaving makes up for that pod (each leaving pod has its own sync).
    if (diff < 0) for (let i = replaced ? 1 : -diff; i > 0; i--) this.create(rs, replaced);
    else if (diff > 0) {
      // getPodsToDelete: unassigned pods first (the newest of them first), then the ranking of the bound ones.
      const unassigned = pending.slice(-diff).reverse();
      for (const def of unassigned) {
        this.record(`replicaset ${rs.name}: deleted pod ${def.name} (${rs.replicas} replicas; unscheduled, removed at once)`);
        this.scheduler.deletePending(def);
      }
      if (diff > unassigned.length) for (const v of this.victims(rs, active, diff - unassigned.length)) this.deleteGracefully(rs, v.pod);
    }
  }

  /** Creates one pod of the ReplicaSet: bound and started now, or created unscheduled to wait in the scheduler's queue. */
  private create(rs: ReplicaSetState, replaced: ClusterPod | null): void {
    const { cluster, api } = this;
    const rng = this.sim.rng.stream(`k8s/replicaset/${rs.namespace}/${rs.owner.name}`);
    const taken = (n: string) => cluster.pods.some((p) => p.namespace === rs.namespace && p.name === n) || api.get('Pod', rs.namespace, n) !== undefined;
    let name = generateNames(rs.name, 1, rng)[0]!;
    while (taken(name)) name = generateNames(rs.name, 1, rng)[0]!;
    const def = { ...rs.template, name, labels: { ...rs.template.labels } };
    const why = replaced ? `replaces ${replaced.name}` : `${rs.replicas} replicas`;
    this.created.set(rsKey(rs.namespace, name), this.sim.now);
    const pod = this.scheduler.tryBind(def);
    if ('pending' in pod) {
      this.record(`replicaset ${rs.name}: created pod ${name} (${why})`);
      this.scheduler.enqueue(def, pod, (bound) => this.kubelet.podCreated(bound));
      return;
    }
    this.record(`replicaset ${rs.name}: created pod ${pod.name} (${why}); scheduler: bound to ${pod.node.name}`);
    api.create<Pod>({ kind: 'Pod', metadata: objectMeta(pod.namespace, pod.name, pod.labels), spec: { nodeName: pod.node.name, hostNetwork: pod.hostNetwork }, status: { podIP: pod.ip, ready: false, reason: 'ContainersNotReady' } });
    this.kubelet.podCreated(pod);
  }

  private deleteGracefully(rs: ReplicaSetState, pod: ClusterPod): void {
    const obj = this.api.get('Pod', pod.namespace, pod.name)!;
    const grace = graceSecondsOf(pod);
    this.record(`replicaset ${rs.name}: deleted pod ${pod.name} (${rs.replicas} replicas; grace period ${grace}s)`);
    this.api.update<Pod>({ ...obj, metadata: { ...obj.metadata, deletionTimestamp: this.sim.now, deletionGracePeriodSeconds: grace } });
  }

  /** getPodsToDelete: the `n` pods ranked first for deletion (ActivePodsWithRanks.Less). */
  private victims(rs: ReplicaSetState, active: { pod: ClusterPod; obj: Pod }[], n: number): { pod: ClusterPod; obj: Pod }[] {
    // Related pods: the active pods of every ReplicaSet of the same owner (a Deployment's old and new ones).
    const onNode = new Map<string, number>();
    for (const other of this.sets.values()) {
      if (other.namespace !== rs.namespace || other.owner.kind !== rs.owner.kind || other.owner.name !== rs.owner.name) continue;
      for (const x of this.active(other)) onNode.set(x.pod.node.name, (onNode.get(x.pod.node.name) ?? 0) + 1);
    }
    const now = this.sim.now;
    const nodeReady = (p: ClusterPod) => this.api.get('Node', '', p.node.name)?.status.ready === true;
    const cost = (p: ClusterPod) => {
      const c = Number(p.annotations['controller.kubernetes.io/pod-deletion-cost'] ?? '0');
      return Number.isInteger(c) ? c : 0;
    };
    const key = (p: ClusterPod) => rsKey(p.namespace, p.name);
    const ranked = active.map((x) => ({
      ...x,
      unknown: nodeReady(x.pod) ? 1 : 0, // phase Unknown (node not Ready) before Running
      ready: x.obj.status.ready ? 1 : 0,
      rank: onNode.get(x.pod.node.name) ?? 0,
      cost: cost(x.pod),
      readyRank: logRank(this.readySince.get(key(x.pod)) ?? now, now),
      restarts: x.obj.status.restartCount ?? 0,
      ageRank: logRank(this.created.get(key(x.pod)) ?? 0, now),
    }));
    ranked.sort((a, b) => a.unknown - b.unknown || a.ready - b.ready || b.rank - a.rank || a.cost - b.cost || (a.ready === 1 ? a.readyRank - b.readyRank : 0) || b.restarts - a.restarts || a.ageRank - b.ageRank || (a.pod.name < b.pod.name ? -1 : a.pod.name > b.pod.name ? 1 : 0));
    return ranked.slice(0, n);
  }
}
