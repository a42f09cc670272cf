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
// Not modelled: gcTerminated (--terminated-pod-gc-threshold), gcUnscheduledTerminating and
// gcTerminating (out-of-service taint); the delaying queue's exact instants (the check runs at the first
// gc() at or after the quarantine's end, which for the defaults is 40 s after the first sighting); both
// periods are constants of the controller, not flags, so no scenario knob changes them.
import type { Simulator } from '../core/simulator.js';
import type { Pod } from './api/objects.js';
import type { ApiStore, Write } from './api/store.js';

/** gc_controller.go gcCheckPeriod. */
export const POD_GC_CHECK_PERIOD_NS = 20e9;
/** gc_controller.go quarantineTime. */
export const POD_GC_QUARANTINE_NS = 40e9;

/** The pod GC's orphan collection, woken by Node deletions (its other runs find nothing to do). */
export class PodGcController {
  /** Nodes seen missing whose quarantine has not ended, by name. */
  private readonly quarantined = new Set<string>();

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
