// k8s/pod-control — what every workload controller does to create or delete one of its pods
// (pkg/controller controller_utils.go RealPodControl): schedule the pod onto a Ready node (kube-scheduler's
// filters, scheduler.ts) and run its sandbox (ClusterWorld.spawner), store the Pod, hand it to its
// node's kubelet; or start a graceful delete (deletionTimestamp and the pod's grace period). And the
// informer, queue and availability bookkeeping the StatefulSet and DaemonSet controllers share. Layer: k8s.
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import { objectMeta, type Pod } from './api/objects.js';
import type { ApiStore } from './api/store.js';
import type { ClusterNode, ClusterPod, ClusterWorld } from './cluster.js';
import type { PodDef, WorkloadTemplate } from './desired-state.js';
import type { Kubelet } from './kubelet.js';
import { graceSecondsOf } from './pod-termination.js';
import { currentPod, podObject } from './pod-uid.js';

/** Schedules `def` onto one of `nodes` (default: the Ready ones) and runs its sandbox; returns why it stays Pending otherwise. */
export function bindPod(api: ApiStore, cluster: ClusterWorld, def: PodDef, nodes?: ClusterNode[]): ClusterPod | string {
  const ready = nodes ?? cluster.nodes.filter((n) => api.get('Node', '', n.name)?.status.ready === true);
  const pod = cluster.spawner.spawn(def, ready, apiTaints(api));
  return 'pending' in pod ? pod.pending : pod;
}

/** A node's taints as the API's Node object has them now (cordon, the node lifecycle controller's). */
export function apiTaints(api: ApiStore): (n: ClusterNode) => { key: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[] {
  return (n) => (api.get('Node', '', n.name)?.spec?.taints ?? []).map((t) => ({ key: t.key, effect: t.effect }));
}

/** Stores a bound pod's Pod object (not ready yet) and lets its kubelet start it. */
export function startPod(api: ApiStore, kubelet: Kubelet, pod: ClusterPod): void {
  api.create<Pod>({ kind: 'Pod', metadata: objectMeta(pod.namespace, pod.name, pod.labels), spec: { nodeName: pod.node.name, hostNetwork: pod.hostNetwork }, status: { podIP: pod.ip, ready: false, reason: 'ContainersNotReady' } });
  kubelet.podCreated(pod);
}

/** A graceful delete (the API server sets deletionTimestamp with the pod's grace period); returns the grace period in seconds. */
export function deletePodGracefully(sim: Simulator, api: ApiStore, pod: ClusterPod): number {
  const obj = api.get('Pod', pod.namespace, pod.name)!;
  const grace = graceSecondsOf(pod);
  api.update<Pod>({ ...obj, metadata: { ...obj.metadata, deletionTimestamp: sim.now, deletionGracePeriodSeconds: grace } });
  return grace;
}

/** The pod template of a `kubectl rollout restart`: kubectl.kubernetes.io/restartedAt added to its annotations. */
export function restartedTemplate(raw: unknown, restartedAt: string): unknown {
  const t = raw as { metadata?: { annotations?: Record<string, string> } };
  return { ...t, metadata: { ...t.metadata, annotations: { ...t.metadata?.annotations, 'kubectl.kubernetes.io/restartedAt': restartedAt } } };
}

/** A workload object a per-object controller keeps (a StatefulSet, a DaemonSet). */
export interface OwnedSet {
  namespace: string;
  name: string;
  template: WorkloadTemplate;
  /** The time of the sync scheduled for a pod turning available (minReadySeconds), Infinity for none. */
  wake: TimeNs;
  minReadyNs: TimeNs;
  /** updateStrategy OnDelete: a restart replaces no pod until one is deleted. */
  onDelete: boolean;
  /** A rollout restart is under way (the timeline gets kubectl rollout status lines). */
  rolling: boolean;
  /** The last rollout status line written (each is written once). */
  status: string;
}

/** A pod of a set that exists: its sandbox and its Pod object (the object's podIP is this sandbox's). */
export interface Member {
  pod: ClusterPod;
  obj: Pod;
}

/**
 * What the StatefulSet and DaemonSet controllers share: their objects by namespace/name (from
 * ClusterWorld.workloads), a Pod informer that queues one sync per object and batch after a change of
 * one of its pods, when each pod turned Ready (availability, minReadySeconds), and the pods of an object.
 */
export abstract class OwnerController<S extends OwnedSet> {
  readonly sets = new Map<string, S>();
  private readonly readySince = new Map<string, TimeNs>();
  private readonly queued = new Set<S>();

  constructor(
    protected readonly sim: Simulator,
    protected readonly api: ApiStore,
    protected readonly cluster: ClusterWorld,
    protected readonly kubelet: Kubelet,
    protected readonly record: (what: string) => void,
    private readonly kind: 'StatefulSet' | 'DaemonSet',
    init: (w: WorkloadTemplate) => S,
  ) {
    for (const w of cluster.workloads) if (w.owner.kind === kind) this.sets.set(`${w.namespace}/${w.owner.name}`, init(w));
  }

  /** The controller's sync of one object. */
  protected abstract sync(set: S): void;

  /** Watches Pods: an object syncs (once per batch, after the write's other watchers) after any change of its pods. */
  start(): void {
    if (this.sets.size === 0) return;
    for (const p of this.api.list('Pod')) if (p.status.ready) this.readySince.set(readyKey(p), this.sim.now);
    this.api.watch('Pod', (events) => {
      for (const e of events) {
        if (e.type !== 'DELETED' && e.object.status.ready && !(e.old?.status.ready ?? false)) this.readySince.set(readyKey(e.object), this.sim.now);
        else if (!e.object.status.ready) this.readySince.delete(readyKey(e.object));
        const pod = currentPod(this.cluster.pods, e.object.metadata.namespace, e.object.metadata.name);
        if (pod?.owner?.kind !== this.kind) continue;
        const set = this.sets.get(`${pod.namespace}/${pod.owner.name}`);
        if (set) this.queue(set);
      }
    });
  }

  /** The object named NAME (namespace default) or NAME.NAMESPACE. */
  find(ref: string): S | undefined {
    return this.sets.get(`default/${ref}`) ?? [...this.sets.values()].find((s) => `${s.name}.${s.namespace}` === ref);
  }

  protected queue(set: S): void {
    if (this.queued.has(set)) return;
    this.queued.add(set);
    this.sim.schedule(0, () => {
      this.queued.delete(set);
      this.sync(set);
    });
  }

  /** The object's pods that exist (a Pod object whose sandbox is this one), in creation order. */
  protected members(set: S): Member[] {
    const out: Member[] = [];
    for (const pod of this.cluster.pods) {
      if (pod.owner?.kind !== this.kind || pod.owner.name !== set.name || pod.namespace !== set.namespace) continue;
      const obj = podObject(this.api, pod);
      if (obj) out.push({ pod, obj });
    }
    return out;
  }

  /** IsPodAvailable: Ready and not terminating for `minReadyNs`; when it will be, a sync is scheduled then. */
  protected available(set: S, m: Member | null | undefined, minReadyNs: TimeNs): boolean {
    if (!m || m.obj.metadata.deletionTimestamp !== null || !m.obj.status.ready) return false;
    const at = (this.readySince.get(readyKey(m.obj)) ?? this.sim.now) + minReadyNs;
    if (at <= this.sim.now) return true;
    if (at < set.wake) {
      set.wake = at;
      this.sim.scheduleAt(at, () => {
        set.wake = Infinity;
        this.sync(set);
      });
    }
    return false;
  }
}

/** One sandbox's Ready time is kept under namespace/name/podIP (a name used again is another pod). */
const readyKey = (p: Pod): string => `${p.metadata.namespace}/${p.metadata.name}/${p.status.podIP}`;
