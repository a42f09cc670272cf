// k8s/kube-scheduler — kube-scheduler's loop around its filters (scheduler.ts) and its queue
// (scheduling-queue.ts): a pod a controller creates is tried at once (scheduleOne); bound, its sandbox
// runs on the node in the same instant, as before. A pod no node fits is created unscheduled (phase
// Pending, no nodeName; `kubectl get events`: Warning FailedScheduling) and waits in the queue until a
// cluster event one of its rejecting plugins registers for — a Node added, a taint changed (cordon,
// uncordon), a Node Ready again, an assigned Pod deleted (its slot on the node freed) — moves it, then
// it is tried again after its back-off (1 s doubling to 10 s), or at the latest by the 5-minute flush.
// Bound later: Normal Scheduled "Successfully assigned NS/NAME to NODE", its sandbox runs and its
// creator (the ReplicaSet controller) hands it to the kubelet. The scheduler's cache is the nodes'
// pod lists (`ClusterNode.pods`): a Pod deleted from the API server, or one that reached phase Succeeded
// or Failed, leaves its node's list there, and only then is its slot free (a terminating pod still holds
// it, as in the real cache).
// Layer: k8s (imports core, k8s).
// Not modelled: binding latency (an attempt and its bind take no time), preemption ("preemption: …" is
// not in the message), the scheduler's own Pod informer delay, more than one profile.
import type { SimEvent } from '../core/scheduler.js';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import { objectMeta, type Node, type Pod } from './api/objects.js';
import type { ApiStore, WatchEvent } from './api/store.js';
import type { ClusterPod, ClusterWorld } from './cluster.js';
import type { NodeDef, PodDef } from './desired-state.js';
import { SchedulingQueue, type ClusterEvent } from './scheduling-queue.js';
import type { Unschedulable } from './scheduler.js';

/** A pod waiting for a node: its definition, and what its creator does once it is bound. */
export interface PendingPod {
  def: PodDef;
  onBound: (pod: ClusterPod) => void;
}

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The taints the scheduler sees on a node: its own plus TaintNodesByCondition's NoSchedule taint while it is not Ready. */
function schedulingTaints(node: Node | undefined): NodeDef['taints'] {
  if (!node) return [];
  const taints: NodeDef['taints'] = (node.spec?.taints ?? []).map((t) => ({ key: t.key, effect: t.effect, ...(t.value !== undefined ? { value: t.value } : {}) }));
  if (!node.status.ready) taints.push({ key: node.status.reason === 'NodeStatusUnknown' ? 'node.kubernetes.io/unreachable' : 'node.kubernetes.io/not-ready', effect: 'NoSchedule' });
  return taints;
}

/** kube-scheduler: scheduleOne for new pods, the queue and its retries for those that wait. */
export class KubeScheduler {
  readonly queue = new SchedulingQueue<PendingPod>();
  private drainArmed = false;
  private backoffTimer: { at: TimeNs; ev: SimEvent } | null = null;
  private leftoverTimer: { at: TimeNs; ev: SimEvent } | null = null;

  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    private readonly cluster: ClusterWorld,
    private readonly record: (what: string) => void,
  ) {}

  /** Watches Nodes (the events that can make a pod fit) and Pods (the cache: deleted pods free their node's slot). */
  start(): void {
    this.api.watch('Node', (events) => {
      for (const e of events) this.nodeChanged(e);
    });
    // Its pod informer lists only pods not Succeeded or Failed (newPodInformer's field selector): a pod
    // reaching a terminal phase is, for the scheduler, deleted.
    const terminal = (p: Pod) => p.status.phase === 'Succeeded' || p.status.phase === 'Failed';
    this.api.watch('Pod', (events) => {
      for (const e of events) if (e.type === 'DELETED' || (terminal(e.object) && e.old !== null && !terminal(e.old))) this.podDeleted(e.object);
    });
  }

  /** The nodes an attempt considers (every node of the API) with the taints it sees on each. */
  private attempt(def: PodDef): ClusterPod | Unschedulable {
    const nodes = this.cluster.nodes.filter((n) => this.api.get('Node', '', n.name) !== undefined);
    return this.cluster.spawner.spawn(def, nodes, (n) => schedulingTaints(this.api.get('Node', '', n.name)));
  }

  /** scheduleOne for a pod just created: the bound pod (its sandbox up), or why it waits. */
  tryBind(def: PodDef): ClusterPod | Unschedulable {
    return this.attempt(def);
  }

  /**
   * A pod the first attempt could not place: its Pod object is created unscheduled (phase Pending) and it
   * waits in unschedulablePods; `onBound` runs when a later attempt binds it.
   */
  enqueue(def: PodDef, why: Unschedulable, onBound: (pod: ClusterPod) => void): void {
    const key = keyOf(def.namespace, def.name);
    this.api.create<Pod>({ kind: 'Pod', metadata: objectMeta(def.namespace, def.name, def.labels), spec: { nodeName: '', hostNetwork: def.spec.hostNetwork }, status: { podIP: 0, ready: false, reason: 'Unschedulable', phase: 'Pending' } });
    this.queue.add(key, { def, onBound }, this.sim.now);
    this.queue.failed(key, why.plugins, this.sim.now);
    this.failedScheduling(def, why);
    this.armTimers();
  }

  /** The pods of `namespace` waiting for a node whose names start with `prefix-` (a ReplicaSet's), oldest first. */
  pendingWithPrefix(namespace: string, prefix: string): PodDef[] {
    return this.queue
      .entries()
      .map((q) => q.item.def)
      .filter((d) => d.namespace === namespace && d.name.slice(0, d.name.lastIndexOf('-')) === prefix);
  }

  /** The API server deletes an unscheduled pod at once (no kubelet to wait for: CheckGracefulDelete's grace period 0). */
  deletePending(def: PodDef): void {
    this.api.delete('Pod', def.namespace, def.name);
  }

  private failedScheduling(def: PodDef, why: Unschedulable): void {
    this.record(`scheduler: Warning FailedScheduling pod/${def.name}: ${why.pending}`);
  }

  private nodeChanged(e: WatchEvent<Node>): void {
    let event: ClusterEvent | null = null;
    if (e.type === 'ADDED') event = 'NodeAdd';
    else if (e.type === 'MODIFIED' && e.old) {
      const taints = (n: Node) => JSON.stringify(n.spec?.taints?.map((t) => [t.key, t.value ?? '', t.effect]) ?? []);
      if (!e.old.status.ready && e.object.status.ready) event = 'NodeBecameReady';
      else if (taints(e.old) !== taints(e.object)) event = 'NodeTaintChange';
    }
    if (event !== null) this.moved(this.queue.onEvent(event, this.sim.now));
  }

  /** The cache's RemovePod: an assigned pod leaves its node's list (its slot is free); an unscheduled one leaves the queue. */
  private podDeleted(obj: Pod): void {
    const key = keyOf(obj.metadata.namespace, obj.metadata.name);
    if (obj.spec.nodeName === '') {
      this.queue.delete(key);
      return this.armTimers();
    }
    const node = this.cluster.nodes.find((n) => n.name === obj.spec.nodeName);
    const i = node ? node.pods.findIndex((p) => p.namespace === obj.metadata.namespace && p.name === obj.metadata.name) : -1;
    if (i < 0) return;
    node!.pods.splice(i, 1);
    this.moved(this.queue.onEvent('AssignedPodDelete', this.sim.now));
  }

  /** Pods moved to activeQ are tried in this instant, after the write's other watchers; the flush timers follow the queue. */
  private moved(n: number): void {
    if (n > 0 && this.queue.active().length > 0) this.armDrain();
    this.armTimers();
  }

  private armDrain(): void {
    if (this.drainArmed) return;
    this.drainArmed = true;
    this.sim.schedule(0, () => {
      this.drainArmed = false;
      this.drain();
    });
  }

  /** scheduleOne for every pod of activeQ, in its order. */
  private drain(): void {
    for (const q of this.queue.active()) {
      if (!this.queue.has(q.key)) continue;
      const r = this.attempt(q.item.def);
      if ('pending' in r) {
        this.queue.failed(q.key, r.plugins, this.sim.now);
        this.failedScheduling(q.item.def, r);
        continue;
      }
      this.queue.delete(q.key);
      const obj = this.api.get('Pod', r.namespace, r.name);
      if (obj) this.api.update<Pod>({ ...obj, spec: { ...obj.spec, nodeName: r.node.name }, status: { podIP: r.ip, ready: false, reason: 'ContainersNotReady' } });
      this.record(`scheduler: Normal Scheduled pod/${r.name}: Successfully assigned ${r.namespace}/${r.name} to ${r.node.name} (attempt ${q.attempts + 1})`);
      q.item.onBound(r);
    }
    this.armTimers();
  }

  /**
   * The two flushes as timers at the next instant they would move a pod: flushBackoffQCompleted's
   * (foreground: a retry an event asked for happens even in a run without a duration) and
   * flushUnschedulablePodsLeftover's (housekeeping: a pod that fits nowhere does not keep a run going).
   */
  private armTimers(): void {
    const b = this.queue.nextBackoffFlush();
    if (b !== null && (this.backoffTimer === null || b < this.backoffTimer.at)) {
      this.backoffTimer?.ev.cancel();
      this.backoffTimer = {
        at: b,
        ev: this.sim.scheduleAt(b, () => {
          this.backoffTimer = null;
          this.queue.flushBackoff(this.sim.now);
          this.drain();
        }),
      };
    }
    const l = this.queue.nextLeftoverFlush();
    if (l !== null && (this.leftoverTimer === null || l < this.leftoverTimer.at)) {
      this.leftoverTimer?.ev.cancel();
      this.leftoverTimer = {
        at: l,
        ev: this.sim.scheduleBackground(l - this.sim.now, () => {
          this.leftoverTimer = null;
          this.queue.flushLeftover(this.sim.now);
          this.drain();
        }),
      };
    }
  }
}
