// k8s/scheduling-queue — kube-scheduler's PriorityQueue (pkg/scheduler/backend/queue, earlier
// internal/queue scheduling_queue.go) for pods that wait: three places a pod can be —
//   activeQ            pods to try now, in the order they entered it (PrioritySort: priority, then the
//                      queue timestamp; every pod here has priority 0);
//   backoffQ           pods a cluster event made worth retrying whose back-off has not ended:
//                      backoff = timestamp of the last attempt + 1 s · 2^(attempts − 1), at most 10 s
//                      (calculateBackoffDuration with podInitialBackoffDuration 1 s, podMaxBackoffDuration
//                      10 s); flushBackoffQCompleted, every second, moves the pods whose back-off ended;
//   unschedulablePods  pods an attempt found no node for, with the plugins that rejected a node
//                      (UnschedulablePlugins); a cluster event one of those plugins registers for
//                      (MoveAllToActiveOrBackoffQueue with its queueing hints) moves them to backoffQ, or to
//                      activeQ when their back-off is over; flushUnschedulablePodsLeftover, every 30 s, moves
//                      those that stayed longer than podMaxInUnschedulablePodsDuration (5 min).
// Pure data: time is an integer handed in; the caller (kube-scheduler.ts) arms the timers of the two
// flushes at the instants `nextBackoffFlush` / `nextLeftoverFlush` name. Layer: k8s (imports core, k8s).
// Not modelled: priorities and preemption's nominated pods, scheduling gates, the in-flight events of a
// cycle that runs while an event arrives (an attempt here takes no time), queueing hints finer than the
// plugin (a taint change queues every pod a taint rejected, as a hint returning Queue does).
import type { TimeNs } from '../core/time.js';
import type { FilterPlugin } from './scheduler.js';

/** podInitialBackoffDuration. */
export const POD_INITIAL_BACKOFF_NS = 1e9;
/** podMaxBackoffDuration. */
export const POD_MAX_BACKOFF_NS = 10e9;
/** DefaultPodMaxInUnschedulablePodsDuration. */
export const POD_MAX_IN_UNSCHEDULABLE_NS = 300e9;
/** flushBackoffQCompleted's period. */
export const BACKOFF_FLUSH_PERIOD_NS = 1e9;
/** flushUnschedulablePodsLeftover's period. */
export const LEFTOVER_FLUSH_PERIOD_NS = 30e9;

/** The cluster events that can make a pod fit (framework.ClusterEvent, as podwire produces them). */
export type ClusterEvent = 'NodeAdd' | 'NodeTaintChange' | 'NodeBecameReady' | 'AssignedPodDelete';

/** The plugins each event concerns (each plugin's EventsToRegister). */
const INTERESTED: { [E in ClusterEvent]: readonly FilterPlugin[] } = {
  NodeAdd: ['NodeUnschedulable', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit'],
  // Node/UpdateNodeTaint: cordon / uncordon (spec.unschedulable and its taint), taints added or removed.
  NodeTaintChange: ['NodeUnschedulable', 'TaintToleration', 'NodeResourcesFit'],
  // The not-ready / unreachable NoSchedule taint goes when the node is Ready again (TaintNodesByCondition).
  NodeBecameReady: ['TaintToleration', 'NodeResourcesFit'],
  // Pod/Delete of an assigned pod: its slot and host ports are free.
  AssignedPodDelete: ['NodeResourcesFit', 'NodePorts'],
};

/** A pod in the queue (QueuedPodInfo). */
export interface QueuedPod<T> {
  key: string;
  item: T;
  /** When it entered the queue or was last tried. */
  timestamp: TimeNs;
  /** Scheduling attempts so far. */
  attempts: number;
  /** The plugins that rejected a node at the last attempt. */
  plugins: readonly FilterPlugin[];
  /** Which of the three places it is in. */
  where: 'active' | 'backoff' | 'unschedulable';
  /** Insertion order, the tie-break of equal timestamps. */
  seq: number;
}

/** The queue of pods waiting for a node. */
export class SchedulingQueue<T> {
  private readonly pods = new Map<string, QueuedPod<T>>();
  private seq = 0;

  /** A new pod (or one created at `now`): into activeQ. */
  add(key: string, item: T, now: TimeNs): void {
    this.pods.set(key, { key, item, timestamp: now, attempts: 0, plugins: [], where: 'active', seq: this.seq++ });
  }

  /** An attempt at `now` found no node (AddUnschedulableIfNotPresent): into unschedulablePods. */
  failed(key: string, plugins: readonly FilterPlugin[], now: TimeNs): void {
    const p = this.pods.get(key);
    if (!p) return;
    p.attempts++;
    p.timestamp = now;
    p.plugins = plugins;
    p.where = 'unschedulable';
  }

  /** The pod was bound or deleted: it leaves the queue. */
  delete(key: string): void {
    this.pods.delete(key);
  }

  has(key: string): boolean {
    return this.pods.has(key);
  }

  get(key: string): QueuedPod<T> | undefined {
    return this.pods.get(key);
  }

  /** Every queued pod, in the order it first entered the queue. */
  entries(): QueuedPod<T>[] {
    return [...this.pods.values()];
  }

  get size(): number {
    return this.pods.size;
  }

  /** When the pod's back-off ends: the last attempt + 1 s doubled per further attempt, at most 10 s. */
  backoffEnd(p: QueuedPod<T>): TimeNs {
    let d = POD_INITIAL_BACKOFF_NS;
    for (let i = 1; i < p.attempts && d < POD_MAX_BACKOFF_NS; i++) d = Math.min(2 * d, POD_MAX_BACKOFF_NS);
    return p.timestamp + (p.attempts === 0 ? 0 : d);
  }

  /** MoveAllToActiveOrBackoffQueue: the unschedulable pods a plugin of the event rejected go to backoffQ, or activeQ when their back-off ended. Returns how many moved. */
  onEvent(event: ClusterEvent, now: TimeNs): number {
    const interested = INTERESTED[event];
    let moved = 0;
    for (const p of this.pods.values()) {
      if (p.where !== 'unschedulable' || !p.plugins.some((x) => interested.includes(x))) continue;
      p.where = this.backoffEnd(p) > now ? 'backoff' : 'active';
      moved++;
    }
    return moved;
  }

  /** flushBackoffQCompleted at `now`: back-off over → activeQ. */
  flushBackoff(now: TimeNs): void {
    for (const p of this.pods.values()) if (p.where === 'backoff' && this.backoffEnd(p) <= now) p.where = 'active';
  }

  /** flushUnschedulablePodsLeftover at `now`: unschedulable for more than 5 min → activeQ (or backoffQ). */
  flushLeftover(now: TimeNs): void {
    for (const p of this.pods.values()) {
      if (p.where === 'unschedulable' && now - p.timestamp > POD_MAX_IN_UNSCHEDULABLE_NS) p.where = this.backoffEnd(p) > now ? 'backoff' : 'active';
    }
  }

  /** activeQ in pop order (timestamp, then insertion). */
  active(): QueuedPod<T>[] {
    return [...this.pods.values()].filter((p) => p.where === 'active').sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
  }

  /** The first flushBackoffQCompleted tick (a multiple of 1 s) at which a backoffQ pod is due, or null. */
  nextBackoffFlush(): TimeNs | null {
    let t: TimeNs | null = null;
    for (const p of this.pods.values()) if (p.where === 'backoff') t = Math.min(t ?? Infinity, tickAtOrAfter(this.backoffEnd(p), BACKOFF_FLUSH_PERIOD_NS));
    return t;
  }

  /** The first flushUnschedulablePodsLeftover tick (a multiple of 30 s) at which an unschedulable pod has waited more than 5 min, or null. */
  nextLeftoverFlush(): TimeNs | null {
    let t: TimeNs | null = null;
    for (const p of this.pods.values()) {
      if (p.where === 'unschedulable') t = Math.min(t ?? Infinity, tickAtOrAfter(p.timestamp + POD_MAX_IN_UNSCHEDULABLE_NS + 1, LEFTOVER_FLUSH_PERIOD_NS));
    }
    return t;
  }
}

/** The first multiple of `period` at or after `t` (the wait.Until ticks of a loop started at time 0). */
export function tickAtOrAfter(t: TimeNs, period: TimeNs): TimeNs {
  return Math.ceil(t / period) * period;
}
