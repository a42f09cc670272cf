// k8s/job-controller — the Job controller (pkg/controller/job/job_controller.go syncJob) and what a Job
// pod's container does under the kubelet. Layer: k8s (imports core, wire, k8s).
//
//   Job ──▶ min(parallelism, remaining) pods (desired-state.ts stamps the first ones)
//   pod's container runs its work ──▶ exits: code 0 → phase Succeeded, else restartPolicy OnFailure →
//   restarted in place after the CrashLoopBackOff delay (kubelet.ts), Never → phase Failed
//   pod terminal ──▶ syncJob: succeeded / failed counted; Complete when `completions` succeeded (every
//   index for Indexed; for a work queue without completions: one succeeded and none active); Failed
//   (BackoffLimitExceeded) when failed pods > backoffLimit (Never) or container restarts ≥ backoffLimit
//   (OnFailure); else new pods up to min(parallelism, completions − succeeded) active, after the
//   controller's pod-failure back-off: 10 s · 2^(consecutive failures − 1), capped at 6 min
//   activeDeadlineSeconds after the Job started ──▶ Failed (DeadlineExceeded), active pods killed
//   finished ──▶ condition Complete / Failed on the timeline; ttlSecondsAfterFinished later the Job and
//   its pods are deleted (the TTL-after-finished controller)
//
// A Job pod's work (what podwire can model of a container's run):
//   podwire.dev/run-time: 5s | uniform:2s,8s   how long the container runs (default 1 s)
//   podwire.dev/exit-code: "1"                 its exit code (default 0)
// A pod that is the source of a traffic entry (`from: job/NAME`) instead runs until its share of that
// traffic is done (scenario/workloads calls `trafficDone`): exit 0 when every request was answered, 1
// when any failed (a client that saw an error exits non-zero).
// Not modelled: suspend after start (a suspended Job just creates no pods), podFailurePolicy,
// backoffLimitPerIndex, successPolicy, podReplacementPolicy, the controller's expectations and
// resync, a pod of a later attempt that cannot be scheduled (it is recorded and not retried).
import type { SimEvent } from '../core/scheduler.js';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { UserError } from '../core/user-error.js';
import { parseDistribution, sample, type Distribution } from '../core/distributions.js';
import { parseDuration } from '../core/time.js';
import type { ApiObject, Pod } from './api/objects.js';
import { objectMeta } from './api/objects.js';
import type { ApiStore, WatchEvent } from './api/store.js';
import type { ClusterPod, ClusterWorld, ManifestInput } from './cluster.js';
import { jobUid, schedulingOf, type PodDef } from './desired-state.js';
import type { ContainerWork, Kubelet } from './kubelet.js';
import { SchedulingSchema } from './scheduler.js';
import { jobLabels, jobPod, JobSchema, type JobT } from './workload-controllers.js';

const SEC = 1e9;
/** How long a Job pod's container runs without podwire.dev/run-time. */
export const DEFAULT_RUN_NS = 1 * SEC;
/** The Job controller's first pod-failure back-off (DefaultJobPodFailureBackOff). */
export const JOB_BACKOFF_NS = 10 * SEC;
/** Its cap (the Job documentation: "capped at six minutes"). */
export const MAX_JOB_BACKOFF_NS = 360 * SEC;

/** The Job controller's pod-failure back-off after `failures` consecutive failures (0: none). */
export function jobBackoffNs(failures: number): TimeNs {
  if (failures <= 0) return 0;
  return Math.min(JOB_BACKOFF_NS * 2 ** (failures - 1), MAX_JOB_BACKOFF_NS);
}

/** A Job's condition once it finished. */
export interface JobCondition {
  type: 'Complete' | 'Failed';
  reason: string;
  message: string;
  at: TimeNs;
}

/** The stored Job object: batch/v1 status as the controller writes it. */
export interface JobObject extends ApiObject {
  kind: 'Job';
  status: { active: number; succeeded: number; failed: number; startTime: TimeNs; conditions: JobCondition[] };
}

/** One Job as the controller tracks it. */
export interface JobState {
  job: JobT;
  namespace: string;
  name: string;
  uid: string;
  template: PodDef;
  startTime: TimeNs;
  /** Active pods by name (created, not terminal). */
  active: Map<string, ClusterPod>;
  /** Completion index of each Indexed pod. */
  indexOf: Map<string, number>;
  succeededIndexes: Set<number>;
  succeeded: number;
  failed: number;
  /** OnFailure: container restarts of each pod. */
  restarts: Map<string, number>;
  consecutiveFailures: number;
  lastFailureAt: TimeNs;
  finished: JobCondition | null;
  /** Every pod the Job created, in order (its pods, for deletion with the Job). */
  pods: string[];
  wake: SimEvent | null;
  deadline: SimEvent | null;
  /** Called once the Job finished (its CronJob's controller). */
  onFinished: ((s: JobState) => void) | null;
}

/** The work of a Job pod from its annotations, or an error (the annotation and what is wrong). */
export function parseWork(a: Record<string, string>): { runTime: Distribution; exitCode: number } | { at: string; message: string } {
  const rt = a['podwire.dev/run-time'];
  let runTime: Distribution = { kind: 'constant', value: DEFAULT_RUN_NS };
  if (rt !== undefined) {
    const d = parseDuration(rt);
    const dist = d !== null ? ({ kind: 'constant', value: d } as const) : parseDistribution(rt);
    if (dist === null) return { at: 'podwire.dev/run-time', message: `"${rt}" is not a duration or a distribution like uniform:2s,8s` };
    runTime = dist;
  }
  const ec = a['podwire.dev/exit-code'] ?? '0';
  const exitCode = Number(ec);
  if (!/^\d+$/.test(ec) || exitCode > 255) return { at: 'podwire.dev/exit-code', message: `"${ec}" is not an exit code (0-255)` };
  return { runTime, exitCode };
}

/** The Job controller of the cluster (Jobs from manifests and the ones CronJobs create). */
export class JobController {
  readonly jobs = new Map<string, JobState>();
  /** Pods whose container exits when their traffic is done (scenario/workloads sets them). */
  readonly trafficDriven = new Set<ClusterPod>();
  /** Called for each pod the controller creates while running, before its work starts (scenario/workloads starts its traffic). */
  readonly podCreatedHooks: ((pod: ClusterPod) => void)[] = [];
  private readonly byPod = new Map<string, JobState>();

  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    private readonly cluster: ClusterWorld,
    private readonly kubelet: Kubelet,
    private readonly record: (what: string) => void,
  ) {}

  /** Reads the Job manifests (their first pods run already), validates their pods' work annotations, and watches Pods. */
  start(errors: UserError[]): void {
    this.kubelet.workOf = (pod) => this.workOf(pod);
    for (const m of this.cluster.manifests) {
      if (m.kind !== 'Job') continue;
      const r = JobSchema.safeParse(m.value);
      if (!r.success) continue; // desired-state reported it
      const work = parseWork(r.data.spec.template.metadata.annotations);
      if ('at' in work) {
        errors.push(m.error(['spec', 'template', 'metadata', 'annotations', work.at], work.message));
        continue;
      }
      const rp = (r.data.spec.template.spec as { restartPolicy?: string }).restartPolicy;
      if (rp !== 'Never' && rp !== 'OnFailure') {
        errors.push(m.error(['spec', 'template', 'spec', 'restartPolicy'], `a Job's pods need restartPolicy Never or OnFailure, not ${rp ?? 'Always (the default)'}`));
        continue;
      }
      const md = r.data.metadata;
      const first = this.cluster.pods.filter((p) => p.owner?.kind === 'Job' && p.owner.name === md.name && p.namespace === md.namespace);
      this.addJob(r.data, m, first, null);
    }
    this.api.watch('Pod', (events) => this.podsChanged(events));
  }

  /** The Jobs' first pods start their work (after their apps run). */
  run(): void {
    for (const s of this.jobs.values()) for (const p of s.active.values()) this.kubelet.runToCompletion(p);
  }

  /**
   * A Job the controller now tracks: `first` are its pods already running (desired state); with
   * none, its first pods are created now (a CronJob's Job). Returns null when its template cannot run.
   */
  addJob(job: JobT, m: ManifestInput, first: ClusterPod[], onFinished: JobState['onFinished'], templatePath: (string | number)[] = ['spec', 'template', 'spec'], cronJob: string | null = null): JobState | null {
    const md = job.metadata;
    const tmpl = job.spec.template;
    if (!SchedulingSchema.safeParse(tmpl.spec).success) return null;
    const uid = jobUid(md.namespace, md.name);
    const labels = jobLabels(md.name, uid, tmpl.metadata.labels);
    const template: PodDef = { name: '', namespace: md.namespace, labels, annotations: tmpl.metadata.annotations, spec: tmpl.spec, deployment: null, owner: { kind: 'Job', name: md.name, ...(cronJob !== null ? { cronJob } : {}) }, scheduling: schedulingOf(tmpl.spec), m, specPath: templatePath };
    const s: JobState = {
      job,
      namespace: md.namespace,
      name: md.name,
      uid,
      template,
      startTime: this.sim.now,
      active: new Map(),
      indexOf: new Map(),
      succeededIndexes: new Set(),
      succeeded: 0,
      failed: 0,
      restarts: new Map(),
      consecutiveFailures: 0,
      lastFailureAt: 0,
      finished: null,
      pods: [],
      wake: null,
      deadline: null,
      onFinished,
    };
    this.jobs.set(`${s.namespace}/${s.name}`, s);
    for (const p of first) this.adopt(s, p);
    this.api.create<JobObject>({ kind: 'Job', metadata: objectMeta(s.namespace, s.name, job.metadata.labels), status: this.statusOf(s) });
    const ads = job.spec.activeDeadlineSeconds;
    if (ads !== undefined) this.deadlineAt(s, ads * SEC);
    if (first.length === 0) this.sync(s);
    return s;
  }

  /** A traffic-driven Job pod's share of its traffic is done: its container exits (1 when any request failed). */
  trafficDone(pod: ClusterPod, failed: boolean): void {
    this.kubelet.containerTerminated(pod, failed ? 1 : 0);
  }

  /** Deletes a Job and its pods (the TTL controller, a CronJob's history limit or Replace). */
  deleteJob(s: JobState, why: string): void {
    if (!s.finished) {
      s.finished = { type: 'Failed', reason: 'Deleted', message: why, at: this.sim.now };
      for (const p of [...s.active.values()]) this.kubelet.podTerminated(p, 'Failed', 'Deleted');
    }
    s.wake?.cancel();
    s.deadline?.cancel();
    for (const name of s.pods) if (this.api.get('Pod', s.namespace, name)) this.api.delete('Pod', s.namespace, name);
    if (this.api.get('Job', s.namespace, s.name)) this.api.delete('Job', s.namespace, s.name);
    this.jobs.delete(`${s.namespace}/${s.name}`);
    this.record(`job ${s.name}: deleted with its ${s.pods.length} pod${s.pods.length === 1 ? '' : 's'} (${why})`);
  }

  private adopt(s: JobState, p: ClusterPod): void {
    s.active.set(p.name, p);
    s.pods.push(p.name);
    this.byPod.set(`${p.namespace}/${p.name}`, s);
    const idx = p.labels['batch.kubernetes.io/job-completion-index'];
    if (idx !== undefined) s.indexOf.set(p.name, Number(idx));
  }

  private deadlineAt(s: JobState, afterNs: TimeNs): void {
    s.deadline = this.sim.schedule(afterNs, () => {
      s.deadline = null;
      if (s.finished) return;
      this.finish(s, 'Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline');
    });
  }

  private workOf(pod: ClusterPod): ContainerWork | null {
    const s = this.byPod.get(`${pod.namespace}/${pod.name}`);
    if (!s) return null;
    if (this.trafficDriven.has(pod)) return { runNs: null, exitCode: 0 };
    const w = parseWork(pod.annotations);
    if ('at' in w) return null; // reported at start
    const rng = this.sim.rng.stream(`k8s/job-run/${pod.namespace}/${pod.name}`);
    return { runNs: Math.round(sample(w.runTime, rng)), exitCode: w.exitCode };
  }

  private podsChanged(events: readonly WatchEvent<Pod>[]): void {
    for (const e of events) {
      if (e.type !== 'MODIFIED') continue;
      const s = this.byPod.get(`${e.object.metadata.namespace}/${e.object.metadata.name}`);
      if (!s || !s.active.has(e.object.metadata.name)) continue;
      const name = e.object.metadata.name;
      const st = e.object.status;
      if ((st.restartCount ?? 0) !== (e.old?.status.restartCount ?? 0)) s.restarts.set(name, st.restartCount ?? 0);
      const deleted = e.object.metadata.deletionTimestamp !== null && e.old?.metadata.deletionTimestamp === null;
      if ((st.phase !== undefined && e.old?.status.phase === undefined) || deleted) {
        // A deleted pod (kubectl delete, an eviction) no longer counts as active: counted failed, replaced.
        s.active.delete(name);
        if (s.finished) continue; // killed by the controller
        if (st.phase === 'Succeeded' && !deleted) {
          s.succeeded++;
          s.consecutiveFailures = 0;
          const idx = s.indexOf.get(name);
          if (idx !== undefined) s.succeededIndexes.add(idx);
        } else {
          s.failed++;
          s.consecutiveFailures++;
          s.lastFailureAt = this.sim.now;
        }
      }
      if (s.finished) continue;
      // syncJob, after this write's other watchers (same instant).
      s.wake?.cancel();
      s.wake = this.sim.schedule(0, () => {
        s.wake = null;
        this.sync(s);
      });
    }
  }

  /** syncJob: finished? else create the pods that are missing (after the failure back-off). */
  sync(s: JobState): void {
    if (s.finished) return;
    const { parallelism, completions, backoffLimit, completionMode, suspend } = s.job.spec;
    const policy = (s.template.spec as { restartPolicy?: string }).restartPolicy ?? 'Never';
    let restarts = 0;
    for (const [name, n] of s.restarts) if (s.active.has(name)) restarts += n;
    if (s.failed > backoffLimit || (policy === 'OnFailure' && backoffLimit >= 0 && restarts > 0 && restarts >= backoffLimit)) {
      return this.finish(s, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    }
    const indexed = completionMode === 'Indexed';
    const done = indexed ? s.succeededIndexes.size >= (completions ?? 0) : completions !== undefined ? s.succeeded >= completions : s.succeeded > 0 && s.active.size === 0;
    if (done) return this.finish(s, 'Complete', '', '');
    this.writeStatus(s);
    if (suspend) return;
    let want: number;
    let pending: number[] = [];
    if (indexed) {
      const activeIdx = new Set(s.indexOf.size > 0 ? [...s.active.keys()].map((n) => s.indexOf.get(n)!) : []);
      for (let i = 0; i < (completions ?? 0); i++) if (!s.succeededIndexes.has(i) && !activeIdx.has(i)) pending.push(i);
      want = Math.min(parallelism - s.active.size, pending.length);
      pending = pending.slice(0, Math.max(0, want));
    } else if (completions !== undefined) want = Math.min(parallelism, completions - s.succeeded) - s.active.size;
    else want = s.succeeded > 0 ? 0 : parallelism - s.active.size;
    if (want <= 0) return;
    const wait = s.lastFailureAt + jobBackoffNs(s.consecutiveFailures) - this.sim.now;
    if (s.consecutiveFailures > 0 && wait > 0) {
      s.wake?.cancel();
      s.wake = this.sim.schedule(wait, () => {
        s.wake = null;
        this.sync(s);
      });
      return;
    }
    for (let i = 0; i < want; i++) this.createPod(s, indexed ? pending[i]! : null);
    this.writeStatus(s);
  }

  private createPod(s: JobState, index: number | null): void {
    const rng = this.sim.rng.stream(`k8s/job-controller/${s.namespace}/${s.name}`);
    const taken = (n: string): boolean => this.cluster.pods.some((p) => p.namespace === s.namespace && p.name === n);
    const stamped = jobPod(s.name, index, s.template.labels, s.template.spec.containers, rng, taken);
    const def: PodDef = { ...s.template, name: stamped.name, labels: stamped.labels, spec: { ...s.template.spec, ...stamped.specOverrides } as PodDef['spec'] };
    const ready = this.cluster.nodes.filter((n) => this.api.get('Node', '', n.name)?.status.ready === true);
    const taintsOf = (n: ClusterPod['node']) => (this.api.get('Node', '', n.name)?.spec?.taints ?? []).map((t) => ({ key: t.key, effect: t.effect }));
    const pod = this.cluster.spawner.spawn(def, ready, taintsOf);
    if ('pending' in pod) {
      this.record(`job ${s.name}: pod ${stamped.name} stays Pending: ${pod.pending}`);
      return;
    }
    this.adopt(s, pod);
    this.record(`job ${s.name}: created pod ${pod.name}${index !== null ? ` (index ${index})` : ''}; scheduler: bound to ${pod.node.name}`);
    this.api.create<Pod>({ kind: 'Pod', metadata: objectMeta(pod.namespace, pod.name, pod.labels), spec: { nodeName: pod.node.name, hostNetwork: pod.hostNetwork }, status: { podIP: pod.ip, ready: false, reason: 'ContainersNotReady' } });
    this.kubelet.podCreated(pod, () => {
      for (const h of this.podCreatedHooks) h(pod);
      this.kubelet.runToCompletion(pod);
    });
  }

  private finish(s: JobState, type: JobCondition['type'], reason: string, message: string): void {
    s.finished = { type, reason, message, at: this.sim.now };
    s.wake?.cancel();
    s.wake = null;
    s.deadline?.cancel();
    s.deadline = null;
    const killed = [...s.active.values()];
    for (const p of killed) this.kubelet.podTerminated(p, 'Failed', reason);
    const counts = `${s.succeeded} succeeded, ${s.failed} failed${killed.length > 0 ? `, ${killed.length} active pod${killed.length === 1 ? '' : 's'} killed` : ''}`;
    this.record(`job ${s.name}: ${type}${reason !== '' ? ` (${reason}: ${message})` : ''}; ${counts}`);
    this.writeStatus(s);
    const ttl = s.job.spec.ttlSecondsAfterFinished;
    if (ttl !== undefined) {
      this.sim.schedule(ttl * SEC, () => {
        if (this.jobs.get(`${s.namespace}/${s.name}`) === s) this.deleteJob(s, `ttlSecondsAfterFinished ${ttl}`);
      });
    }
    s.onFinished?.(s);
  }

  private statusOf(s: JobState): JobObject['status'] {
    return { active: s.active.size, succeeded: s.succeeded, failed: s.failed, startTime: s.startTime, conditions: s.finished ? [s.finished] : [] };
  }

  private writeStatus(s: JobState): void {
    const obj = this.api.get('Job', s.namespace, s.name) as JobObject | undefined;
    if (!obj) return;
    const status = this.statusOf(s);
    const o = obj.status;
    if (o.active === status.active && o.succeeded === status.succeeded && o.failed === status.failed && o.conditions.length === status.conditions.length) return;
    this.api.update<JobObject>({ ...obj, status });
  }
}
