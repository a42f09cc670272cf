// k8s/deployment-controller — the Deployment controller's rollout (pkg/controller/deployment), started by
// `kubectl rollout restart deployment/NAME`: kubectl writes the annotation kubectl.kubernetes.io/restartedAt
// into the pod template, so the template hashes anew and the controller creates a new ReplicaSet
// <deployment>-<new pod-template-hash> (pods <rs>-<5 chars>, drawn from the Deployment's name stream) and
// moves the replicas over as spec.strategy says:
//   RollingUpdate (default; maxSurge and maxUnavailable default 25 %, surge rounded up, unavailable down,
//     both 0 → maxUnavailable 1): rolling.go reconcileNewReplicaSet scales the new ReplicaSet up to at most
//     replicas + maxSurge pods in all; reconcileOldReplicaSets scales the old ones down, first their
//     pods that are not Ready, then Ready ones, never below replicas − maxUnavailable available pods
//     (counting the new ReplicaSet's not-yet-Ready pods as unavailable);
//   Recreate: the old ReplicaSets go to 0 first; the new one is scaled up once none of their pods runs.
// The controller syncs again whenever a pod of the Deployment changes (created, Ready, deleted, stopped):
// each step's pods are created or deleted by the ReplicaSet controller (replica-controller.ts), deleted
// ones terminate gracefully (pod-termination.ts). A pod counts as available once Ready (and Ready for
// spec.minReadySeconds: the controller looks again then). The rollout is complete when the new
// ReplicaSet has every replica available and the old ones no active pod (pods still terminating do
// not count, as in the ReplicaSets' status.replicas).
// The Progressing condition (progress.go syncRolloutStatus), for every Deployment from its first scale or
// rollout on: a change of its status that counts as progress (more updated, ready or available pods, fewer
// old ones: DeploymentProgressing) renews the condition's lastUpdateTime (reason ReplicaSetUpdated); a
// Deployment complete again is NewReplicaSetAvailable; one that has not progressed for
// spec.progressDeadlineSeconds (default 600) is found by the controller's requeue at lastUpdateTime +
// the deadline + 1 s (requeueStuckDeployment) and gets Progressing=False, reason ProgressDeadlineExceeded
// (`kubectl rollout status` then says `deployment "web" exceeded its progress deadline`). Nothing else
// changes: the controller neither rolls back nor stops the rollout.
// Layer: k8s (imports core, k8s).
// Not modelled: paused Deployments,
// rollout history (revisionHistoryLimit), a second rollout while one runs (it starts from the
// ReplicaSets as they are then, as the real controller does, so it works; not tested further).
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { ApiStore } from './api/store.js';
import type { WorkloadTemplate } from './desired-state.js';
import type { Kubelet } from './kubelet.js';
import { podTemplateHash } from './names.js';
import { restartedTemplate } from './pod-control.js';
import type { ReplicaSetController, ReplicaSetState } from './replica-controller.js';

/** An intstr (apimachinery GetScaledValueFromIntOrPercent): an integer as it is, or a percentage of `total` rounded up or down; null for neither. */
export function intOrPercent(v: unknown, total: number, roundUp: boolean): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : null;
  const m = typeof v === 'string' ? /^(\d+)%$/.exec(v) : null;
  if (!m) return null;
  const f = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(f) : Math.floor(f);
}

/** maxSurge / maxUnavailable of `total` replicas (surge rounded up, unavailable down); `dflt` when unset or not an intstr. */
export function scaledValue(v: unknown, total: number, roundUp: boolean, dflt: string): number {
  return intOrPercent(v, total, roundUp) ?? intOrPercent(dflt, total, roundUp)!;
}

/** One Deployment under the controller. */
interface Rollout {
  template: WorkloadTemplate;
  replicas: number;
  maxSurge: number;
  maxUnavailable: number;
  recreate: boolean;
  minReadyNs: TimeNs;
  /** Its ReplicaSets, oldest first; the last is the new one. */
  sets: ReplicaSetState[];
  done: boolean;
  /** The time of the sync scheduled for a pod turning available (minReadySeconds), Infinity for none. */
  wake: TimeNs;
}

/** DeploymentStatus, the counts the Progressing condition compares. */
interface ProgressStatus {
  replicas: number;
  updated: number;
  ready: number;
  available: number;
}

/** One Deployment's Progressing condition. */
interface Progress {
  template: WorkloadTemplate;
  /** spec.replicas. */
  replicas: number;
  deadlineNs: TimeNs | null;
  status: ProgressStatus;
  /** The condition: True (ReplicaSetUpdated / NewReplicaSetAvailable) or False (ProgressDeadlineExceeded). */
  timedOut: boolean;
  complete: boolean;
  lastUpdate: TimeNs;
  /** The requeue scheduled for the deadline check, with its time. */
  check: { at: TimeNs } | null;
}

/** DeploymentSpec.progressDeadlineSeconds' default. */
export const DEFAULT_PROGRESS_DEADLINE_S = 600;

/** The Deployment controller's rollouts. */
export class DeploymentController {
  private readonly rollouts = new Map<string, Rollout>();
  private readonly progress = new Map<string, Progress>();
  private syncing = false;

  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    private readonly replicaSets: ReplicaSetController,
    private readonly kubelet: Kubelet,
    private readonly record: (what: string) => void,
  ) {}

  /** `kubectl rollout restart`: a new ReplicaSet from the template stamped with restartedAt, rolled out. */
  rolloutRestart(d: WorkloadTemplate, restartedAt: string): void {
    const key = `${d.namespace}/${d.owner.name}`;
    const old = this.setsOf(d);
    const current = old[old.length - 1];
    if (!current) return;
    const hash = podTemplateHash(restartedTemplate(d.rawTemplate, restartedAt));
    const name = `${d.owner.name}-${hash}`;
    const annotations = { ...current.template.annotations, 'kubectl.kubernetes.io/restartedAt': restartedAt };
    const rs: ReplicaSetState = { namespace: d.namespace, name, owner: d.owner, template: { ...current.template, name, annotations, labels: { ...current.template.labels, 'pod-template-hash': hash } }, replicas: 0 };
    this.replicaSets.add(rs);
    const spec = d.rawSpec;
    const strategy = (spec['strategy'] ?? {}) as { type?: string; rollingUpdate?: { maxSurge?: unknown; maxUnavailable?: unknown } };
    const replicas = current.replicas + old.slice(0, -1).reduce((n, x) => n + x.replicas, 0);
    const maxSurge = scaledValue(strategy.rollingUpdate?.maxSurge, replicas, true, '25%');
    let maxUnavailable = scaledValue(strategy.rollingUpdate?.maxUnavailable, replicas, false, '25%');
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    if (maxUnavailable > replicas) maxUnavailable = replicas;
    const minReady = typeof spec['minReadySeconds'] === 'number' ? (spec['minReadySeconds'] as number) : 0;
    const r: Rollout = { template: d, replicas, maxSurge, maxUnavailable, recreate: strategy.type === 'Recreate', minReadyNs: Math.round(minReady * 1e9), sets: [...old, rs], done: false, wake: Infinity };
    this.rollouts.set(key, r);
    this.progressOf(d).replicas = replicas;
    this.record(`deployment ${d.owner.name}: rollout restart: new replicaset ${name} (${r.recreate ? 'Recreate' : `RollingUpdate, maxSurge ${maxSurge}, maxUnavailable ${maxUnavailable}`})`);
    if (!this.watching) this.watch();
    this.sync(r);
  }

  /**
   * `kubectl scale deployment`: spec.replicas = n. During a rollout the controller's next sync works to the
   * new count (the new ReplicaSet scaled down if it has more); otherwise the newest ReplicaSet takes it.
   */
  scale(d: WorkloadTemplate, n: number): void {
    this.progressOf(d).replicas = n;
    const r = this.rollouts.get(`${d.namespace}/${d.owner.name}`);
    if (r && !r.done) {
      r.replicas = n;
      const nrs = r.sets[r.sets.length - 1]!;
      if (nrs.replicas > n) this.replicaSets.scale(nrs, n);
      this.sync(r);
    } else {
      const sets = this.setsOf(d);
      const newest = sets[sets.length - 1];
      if (newest) this.replicaSets.scale(newest, n);
    }
    if (!this.watching) this.watch();
    this.syncRolloutStatus(this.progressOf(d));
  }

  /** The Deployment's Progressing condition, tracked from now on (its status as it is now, complete or not). */
  private progressOf(d: WorkloadTemplate): Progress {
    const key = `${d.namespace}/${d.owner.name}`;
    let p = this.progress.get(key);
    if (!p) {
      const raw = d.rawSpec['progressDeadlineSeconds'];
      const deadline = typeof raw === 'number' && Number.isInteger(raw) && raw > 0 ? raw : DEFAULT_PROGRESS_DEADLINE_S;
      // (math.MaxInt32 means no deadline, as HasProgressDeadline says.)
      p = { template: d, replicas: d.replicas, deadlineNs: deadline >= 2 ** 31 - 1 ? null : deadline * 1e9, status: { replicas: 0, updated: 0, ready: 0, available: 0 }, timedOut: false, complete: false, lastUpdate: this.sim.now, check: null };
      p.status = this.statusOf(p);
      p.complete = this.isComplete(p, p.status);
      this.progress.set(key, p);
    }
    return p;
  }

  /** calculateStatus: the pods of its ReplicaSets (waiting for a node included), those of the newest, Ready, available. */
  private statusOf(p: Progress): ProgressStatus {
    const sets = this.setsOf(p.template);
    const minReady = typeof p.template.rawSpec['minReadySeconds'] === 'number' ? (p.template.rawSpec['minReadySeconds'] as number) * 1e9 : 0;
    const st: ProgressStatus = { replicas: 0, updated: 0, ready: 0, available: 0 };
    sets.forEach((rs, i) => {
      const n = this.replicaSets.activeCount(rs);
      st.replicas += n;
      if (i === sets.length - 1) st.updated = n;
      for (const x of this.replicaSets.active(rs)) {
        if (!x.obj.status.ready) continue;
        st.ready++;
        if (this.replicaSets.readyAt(x.pod) + minReady <= this.sim.now) st.available++;
      }
    });
    return st;
  }

  /** DeploymentComplete. */
  private isComplete(p: Progress, st: ProgressStatus): boolean {
    return st.updated === p.replicas && st.replicas === p.replicas && st.available === p.replicas;
  }

  /** syncRolloutStatus: the Progressing condition from the status now, then the deadline's requeue. */
  private syncRolloutStatus(p: Progress): void {
    const st = this.statusOf(p);
    const old = p.status;
    const name = p.template.owner.name;
    const sets = this.setsOf(p.template);
    const nrs = sets[sets.length - 1]?.name ?? name;
    const complete = this.isComplete(p, st);
    const progressing = st.updated > old.updated || st.replicas - st.updated < old.replicas - old.updated || st.ready > old.ready || st.available > old.available;
    p.status = st;
    if (complete) {
      if (p.timedOut) this.record(`deployment ${name}: Progressing=True NewReplicaSetAvailable: ReplicaSet "${nrs}" has successfully progressed.`);
      p.timedOut = false;
      p.lastUpdate = this.sim.now;
    } else if (progressing || (p.complete && !complete)) {
      if (p.timedOut) this.record(`deployment ${name}: Progressing=True ReplicaSetUpdated: ReplicaSet "${nrs}" is progressing.`);
      p.timedOut = false;
      p.lastUpdate = this.sim.now;
    } else if (!p.timedOut && p.deadlineNs !== null && p.lastUpdate + p.deadlineNs < this.sim.now) {
      p.timedOut = true;
      this.record(`deployment ${name}: Progressing=False ProgressDeadlineExceeded: ReplicaSet "${nrs}" has timed out progressing. (kubectl rollout status: error: deployment "${name}" exceeded its progress deadline)`);
    }
    p.complete = complete;
    // requeueStuckDeployment: look again a second after the deadline (housekeeping: it keeps no run going).
    if (complete || p.timedOut || p.deadlineNs === null) return;
    const at = p.lastUpdate + p.deadlineNs + 1e9;
    if (p.check !== null && p.check.at === at) return;
    const check = { at };
    p.check = check;
    this.sim.scheduleBackground(Math.max(0, at - this.sim.now), () => {
      if (p.check === check) this.syncRolloutStatus(p);
    });
  }

  /** The Deployment's ReplicaSets, oldest first. */
  private setsOf(d: WorkloadTemplate): ReplicaSetState[] {
    return [...this.replicaSets.sets.values()].filter((rs) => rs.namespace === d.namespace && rs.owner.kind === 'Deployment' && rs.owner.name === d.owner.name);
  }

  private watching = false;

  private watch(): void {
    this.watching = true;
    this.api.watch('Pod', () => {
      // The controller's own sync after the write's other watchers ran (same instant), once per batch.
      if (this.syncing) return;
      this.syncing = true;
      this.sim.schedule(0, () => {
        this.syncing = false;
        for (const r of this.rollouts.values()) if (!r.done) this.sync(r);
        for (const p of this.progress.values()) this.syncRolloutStatus(p);
      });
    });
  }

  /** Pods of the ReplicaSet Ready for minReadySeconds (available), and when the next one will be. */
  private available(r: Rollout, rs: ReplicaSetState): { n: number; next: TimeNs } {
    let n = 0;
    let next = Infinity;
    for (const x of this.replicaSets.active(rs)) {
      if (!x.obj.status.ready) continue;
      const since = this.replicaSets.readyAt(x.pod);
      if (since + r.minReadyNs <= this.sim.now) n++;
      else next = Math.min(next, since + r.minReadyNs);
    }
    return { n, next };
  }

  /** Old pods still running: active, or deleted and not yet stopped. */
  private running(rs: ReplicaSetState): number {
    return this.replicaSets.podsOf(rs).filter((x) => x.obj.metadata.deletionTimestamp === null || !this.kubelet.hasStopped(x.pod)).length;
  }

  private sync(r: Rollout): void {
    const sets = r.sets;
    const nrs = sets[sets.length - 1]!;
    const olds = sets.slice(0, -1);
    let wakeAt = Infinity;
    if (r.recreate) {
      for (const o of olds) if (o.replicas > 0) this.replicaSets.scale(o, 0);
      if (olds.every((o) => this.running(o) === 0) && nrs.replicas < r.replicas) this.replicaSets.scale(nrs, r.replicas);
    } else {
      // reconcileNewReplicaSet
      const total = sets.reduce((n, x) => n + x.replicas, 0);
      const up = Math.min(r.replicas + r.maxSurge - total, r.replicas - nrs.replicas);
      if (up > 0) this.replicaSets.scale(nrs, nrs.replicas + up);
      // reconcileOldReplicaSets
      const minAvailable = r.replicas - r.maxUnavailable;
      const nAvail = this.available(r, nrs);
      wakeAt = Math.min(wakeAt, nAvail.next);
      const allPods = sets.reduce((n, x) => n + this.replicaSets.activeCount(x), 0);
      let budget = allPods - minAvailable - (nrs.replicas - nAvail.n);
      // cleanupUnhealthyReplicas: old pods that are not Ready go first
      for (const o of olds) {
        if (budget <= 0) break;
        const unhealthy = this.replicaSets.active(o).filter((x) => !x.obj.status.ready).length;
        const cut = Math.min(budget, unhealthy, o.replicas);
        if (cut > 0) {
          this.replicaSets.scale(o, o.replicas - cut);
          budget -= cut;
        }
      }
      // scaleDownOldReplicaSetsForRollingUpdate: then available ones, down to minAvailable
      let availableAll = 0;
      for (const x of sets) {
        const a = this.available(r, x);
        availableAll += a.n;
        wakeAt = Math.min(wakeAt, a.next);
      }
      let down = availableAll - minAvailable;
      for (const o of olds) {
        if (down <= 0) break;
        const cut = Math.min(down, o.replicas);
        if (cut > 0) {
          this.replicaSets.scale(o, o.replicas - cut);
          down -= cut;
        }
      }
    }
    if (wakeAt < r.wake) {
      r.wake = wakeAt;
      this.sim.scheduleAt(wakeAt, () => {
        r.wake = Infinity;
        if (!r.done) this.sync(r);
      });
    }
    // DeploymentComplete: the ReplicaSets' status.replicas count active pods only, so pods still terminating do not hold it up.
    const complete = nrs.replicas === r.replicas && this.available(r, nrs).n === r.replicas && olds.every((o) => o.replicas === 0 && this.replicaSets.active(o).length === 0);
    if (complete) {
      r.done = true;
      this.record(`deployment ${r.template.owner.name}: rollout complete (replicaset ${nrs.name}: ${r.replicas} available)`);
    }
  }
}
