// k8s/pod-gc — kube-controller-manager's pod garbage collector (pkg/controller/podgc/gc_controller.go),
// the part that removes the pods of a Node that no longer exists (gcOrphaned). The controller runs
// gc() every gcCheckPeriod (20 s, from its start); a run that finds a pod bound to a node missing from
// its node informer puts that node in a delaying queue for quarantineTime (40 s); the first run after
// the quarantine asks the API server whether the node exists (checkIfNodeExists) and, if it does not,
// force-deletes every pod bound to it (markFailedAndDeletePodWithCondition: status phase Failed with
// the DisruptionTarget condition, reason DeletionByPodGC, then DELETE with grace period 0: the Pod is
// gone at once, no kubelet confirms). So a node deleted at T loses its pods at the first run at or
// after T, plus 40 s (T + 40 s … T + 60 s). A node back (re-registered) before that keeps its pods.
// Their controllers react as to any pod going away: a ReplicaSet's pod is replaced (replica-controller.ts:
// a Failed pod is no longer active), the EndpointSlice controller drops them, a running kubelet kills
// their containers. Layer: k8s (imports core, k8s).
// gcTerminated: once more pods than --terminated-pod-gc-threshold (spec.cluster.terminatedPodGcThreshold,
// default 12500, 0: never) are Succeeded or Failed, the next gc() deletes the oldest of them down to the
// threshold (byEvictionAndCreationTimestamp: creation order here). Below it terminated pods stay
// (`kubectl get pods` lists Completed / Error pods; a Job's TTL or its deletion removes them sooner).
// Not modelled: gcUnscheduledTerminating (an unscheduled pod's delete is immediate here) and
// gcTerminating (out-of-service taint); eviction order among terminated pods; the delaying queue's exact
// instants (the check runs at the first gc() at or after the quarantine's end, which for the defaults is
// 40 s after the first sighting); both periods are constants of the controller, not flags.
import type { Simulator } from '../core/simulator.js';
import type { Pod } from './api/objects.js';
import type { ApiStore, Write } from './api/store.js';

/** gc_controller.go gcCheckPeriod. */
export const POD_GC_CHECK_PERIOD_NS = 20e9;
/** gc_controller.go quarantineTime. */
export const POD_GC_QUARANTINE_NS = 40e9;

/** kube-controller-manager --terminated-pod-gc-threshold's default. */
export const DEFAULT_TERMINATED_POD_GC_THRESHOLD = 12500;

const terminal = (p: Pod): boolean => p.status.phase === 'Succeeded' || p.status.phase === 'Failed';

/** The pod GC's orphan collection, woken by Node deletions, and its terminated-pod collection, woken by the count passing the threshold (its other runs find nothing to do). */
export class PodGcController {
  /** Nodes seen missing whose quarantine has not ended, by name. */
  private readonly quarantined = new Set<string>();
  /** Terminated pods (Succeeded or Failed) by key, in the order they were created. */
  private readonly created = new Map<string, number>();
  private readonly terminated = new Set<string>();
  private seq = 0;
  private gcArmed = false;
  private lastGcAt = -1;
  /** --terminated-pod-gc-threshold (0: gcTerminated off). */
  terminatedThreshold = DEFAULT_TERMINATED_POD_GC_THRESHOLD;

  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    private readonly record: (what: string) => void,
    /** Called after the pods bound to a deleted node are gone (their DaemonSet pods, kube-proxy's, with them). */
    private readonly onNodePodsDeleted: (node: string) => void,
  ) {}

  /** Watches Nodes: a deletion is seen by the next gc() run (runs at every multiple of the period). */
  start(): void {
    this.api.watch('Node', (events) => {
      for (const e of events) if (e.type === 'DELETED') this.atNextRun(() => this.sighted(e.object.metadata.name));
    });
    for (const p of this.api.list('Pod')) this.created.set(`${p.metadata.namespace}/${p.metadata.name}`, this.seq++);
    this.api.watch('Pod', (events) => {
      for (const e of events) {
        const key = `${e.object.metadata.namespace}/${e.object.metadata.name}`;
        if (e.type === 'DELETED') {
          this.created.delete(key);
          this.terminated.delete(key);
          continue;
        }
        if (e.type === 'ADDED') this.created.set(key, this.seq++);
        if (terminal(e.object)) this.terminated.add(key);
      }
      if (this.terminatedThreshold > 0 && this.terminated.size > this.terminatedThreshold && !this.gcArmed) {
        // The next gc() run: a run at this instant is over already (its deletes were this batch's cause).
        this.gcArmed = true;
        const next = Math.ceil(this.sim.now / POD_GC_CHECK_PERIOD_NS) * POD_GC_CHECK_PERIOD_NS;
        this.sim.scheduleAt(next === this.lastGcAt ? next + POD_GC_CHECK_PERIOD_NS : next, () => this.gcTerminated());
      }
    });
  }

  /** gcTerminated: the oldest terminated pods go, down to the threshold (DELETE with grace period 0). */
  private gcTerminated(): void {
    this.gcArmed = false;
    this.lastGcAt = this.sim.now;
    const over = this.terminated.size - this.terminatedThreshold;
    if (over <= 0) return;
    const oldest = [...this.terminated].sort((a, b) => this.created.get(a)! - this.created.get(b)!).slice(0, over);
    this.record(`pod-gc: deleting ${over} terminated pod${over === 1 ? '' : 's'} (${this.terminated.size} > --terminated-pod-gc-threshold=${this.terminatedThreshold}): ${oldest.map((k) => k.slice(k.indexOf('/') + 1)).join(', ')}`);
    this.api.commit(oldest.map((k) => ({ op: 'delete', kind: 'Pod', namespace: k.slice(0, k.indexOf('/')), name: k.slice(k.indexOf('/') + 1) }) as Write));
  }

  private atNextRun(fn: () => void): void {
    const next = Math.ceil(this.sim.now / POD_GC_CHECK_PERIOD_NS) * POD_GC_CHECK_PERIOD_NS;
    this.sim.scheduleAt(next, fn);
  }

  /** gcOrphaned: a pod names a node the informer does not have: quarantine that node (AddAfter). */
  private sighted(node: string): void {
    if (this.api.get('Node', '', node) || this.quarantined.has(node)) return;
    if (!this.api.list('Pod').some((p) => p.spec.nodeName === node)) return;
    this.quarantined.add(node);
    // The first run at or after the quarantine's end takes the node from the queue.
    const until = this.sim.now + POD_GC_QUARANTINE_NS;
    this.sim.scheduleAt(Math.ceil(until / POD_GC_CHECK_PERIOD_NS) * POD_GC_CHECK_PERIOD_NS, () => this.discover(node));
  }

  /** discoverDeletedNodes, then the deletes: still missing (checkIfNodeExists) → every pod bound to it is force-deleted. */
  private discover(node: string): void {
    this.quarantined.delete(node);
    if (this.api.get('Node', '', node)) return;
    const pods = this.api.list('Pod').filter((p) => p.spec.nodeName === node);
    for (const p of pods) {
      this.record(`pod-gc: force-deleting pod ${p.metadata.name} (PodGC: node ${node} no longer exists)`);
      this.api.commit(markFailedAndDelete(p));
    }
    this.onNodePodsDeleted(node);
  }
}

/** markFailedAndDeletePodWithCondition: phase Failed (unless already terminal), then DELETE with grace period 0. */
function markFailedAndDelete(p: Pod): Write[] {
  const del: Write = { op: 'delete', kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name };
  if (p.status.phase === 'Succeeded' || p.status.phase === 'Failed') return [del];
  const failed: Pod = { ...p, status: { ...p.status, ready: false, reason: 'DeletionByPodGC', phase: 'Failed' } };
  return [{ op: 'update', object: failed }, del];
}
