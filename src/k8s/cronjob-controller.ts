// k8s/cronjob-controller — the CronJob controller (pkg/controller/cronjob, syncCronJob): at each time
// the schedule names (cron.ts; simulated time 0 = CRON_EPOCH_MS, 2025-01-01T00:00:00Z) it creates a
// Job from spec.jobTemplate named `<cronjob>-<scheduled time in minutes since the Unix epoch>`
// (getTimeHashInMinutes) and hands it to the Job controller (job-controller.ts). Layer: k8s.
//
//   suspend: true            no Job is created (the run is recorded as skipped)
//   concurrencyPolicy Allow   a new Job even while earlier ones run
//                     Forbid  the run is skipped while a Job is active; when that Job finishes, the
//                             most recent skipped run starts then, unless startingDeadlineSeconds
//                             has passed since its scheduled time (then it is missed)
//                     Replace the active Jobs are deleted (with their pods), then the new one starts
//   successfulJobsHistoryLimit (3) / failedJobsHistoryLimit (1): finished Jobs beyond them are
//   deleted, oldest first.
// Schedule activations are background events (a CronJob alone does not keep a run without a
// duration going). Not modelled: spec.timeZone, the controller missing schedules while it is down
// (so startingDeadlineSeconds only bounds a Forbid run started late), more than 100 missed starts.
import type { Simulator } from '../core/simulator.js';
import type { UserError } from '../core/user-error.js';
import type { ClusterWorld, ManifestInput } from './cluster.js';
import { CRON_EPOCH_MS, nextActivation, parseCron, type CronSchedule } from './cron.js';
import { parseWork, type JobController, type JobState } from './job-controller.js';
import { unknownFieldWarnings } from './manifests.js';
import { CronJobSchema, type CronJobT, type JobT } from './workload-controllers.js';

const SEC = 1e9;

interface CronState {
  cj: CronJobT;
  m: ManifestInput;
  schedule: CronSchedule;
  active: JobState[];
  succeeded: JobState[];
  failed: JobState[];
  /** Forbid: the most recent run skipped while a Job was active (wall ms), or null. */
  missed: number | null;
}

/** Simulated ns of a wall time (ms). */
const simOf = (wallMs: number): number => (wallMs - CRON_EPOCH_MS) * 1e6;
/** Wall time (ms) of a simulated time. */
const wallOf = (ns: number): number => CRON_EPOCH_MS + Math.floor(ns / 1e6);

/** The CronJob controller of the cluster. */
export class CronJobController {
  readonly cronJobs: CronState[] = [];

  constructor(
    private readonly sim: Simulator,
    private readonly cluster: ClusterWorld,
    private readonly jobs: JobController,
    private readonly record: (what: string) => void,
  ) {}

  /** Validates the CronJob manifests and schedules their first activation. */
  start(errors: UserError[]): void {
    for (const m of this.cluster.manifests) {
      if (m.kind !== 'CronJob') continue;
      const r = CronJobSchema.safeParse(m.value);
      if (!r.success) {
        for (const i of r.error.issues) errors.push(m.error(i.path.filter((p): p is string | number => typeof p !== 'symbol'), i.message));
        continue;
      }
      unknownFieldWarnings('CronJob', m.value, (p, msg) => this.cluster.warnings.push(m.error(p, msg)));
      const tz = (r.data.spec as { timeZone?: unknown }).timeZone;
      if (tz !== undefined && tz !== 'UTC' && tz !== 'Etc/UTC') this.cluster.warnings.push(m.error(['spec', 'timeZone'], `timeZone ${String(tz)} is not modelled by podwire: the schedule is evaluated in UTC`));
      let schedule: CronSchedule;
      try {
        schedule = parseCron(r.data.spec.schedule);
      } catch (e) {
        errors.push(m.error(['spec', 'schedule'], `invalid schedule: ${(e as Error).message}`));
        continue;
      }
      const tmpl = r.data.spec.jobTemplate.spec.template;
      const work = parseWork(tmpl.metadata.annotations);
      if ('at' in work) {
        errors.push(m.error(['spec', 'jobTemplate', 'spec', 'template', 'metadata', 'annotations', work.at], work.message));
        continue;
      }
      const rp = (tmpl.spec as { restartPolicy?: string }).restartPolicy;
      if (rp !== 'Never' && rp !== 'OnFailure') {
        errors.push(m.error(['spec', 'jobTemplate', 'spec', 'template', 'spec', 'restartPolicy'], `a Job's pods need restartPolicy Never or OnFailure, not ${rp ?? 'Always (the default)'}`));
        continue;
      }
      const s: CronState = { cj: r.data, m, schedule, active: [], succeeded: [], failed: [], missed: null };
      this.cronJobs.push(s);
      this.sim.inBackground(() => this.scheduleNext(s));
    }
  }

  private scheduleNext(s: CronState): void {
    const next = nextActivation(s.schedule, wallOf(this.sim.now));
    if (next === null) return;
    this.sim.scheduleBackground(simOf(next) - this.sim.now, () => {
      this.activate(s, next);
      this.scheduleNext(s);
    });
  }

  private activate(s: CronState, scheduled: number): void {
    const name = s.cj.metadata.name;
    const at = new Date(scheduled).toISOString().slice(0, 16).replace('T', ' ');
    if (s.cj.spec.suspend) return this.record(`cronjob ${name}: run of ${at} skipped (suspended)`);
    if (s.active.length > 0 && s.cj.spec.concurrencyPolicy === 'Forbid') {
      s.missed = scheduled;
      return this.record(`cronjob ${name}: run of ${at} skipped (concurrencyPolicy Forbid: job ${s.active[0]!.name} still active)`);
    }
    if (s.active.length > 0 && s.cj.spec.concurrencyPolicy === 'Replace') {
      for (const j of s.active.splice(0)) this.jobs.deleteJob(j, `cronjob ${name}: concurrencyPolicy Replace`);
    }
    this.createJob(s, scheduled, at);
  }

  private createJob(s: CronState, scheduled: number, at: string): void {
    const cj = s.cj;
    const jobName = `${cj.metadata.name}-${Math.floor(scheduled / 60_000)}`;
    const tmpl = cj.spec.jobTemplate;
    const job: JobT = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: jobName, namespace: cj.metadata.namespace, labels: { ...tmpl.metadata.labels }, annotations: { ...tmpl.metadata.annotations } },
      spec: tmpl.spec,
    };
    this.record(`cronjob ${cj.metadata.name}: created job ${jobName} (scheduled ${at} UTC)`);
    const st = this.jobs.addJob(job, s.m, [], (j) => this.jobFinished(s, j), ['spec', 'jobTemplate', 'spec', 'template', 'spec'], cj.metadata.name);
    if (st && !st.finished) s.active.push(st);
  }

  private jobFinished(s: CronState, j: JobState): void {
    const i = s.active.indexOf(j);
    if (i >= 0) s.active.splice(i, 1);
    if (j.finished?.reason === 'Deleted') return;
    const ok = j.finished?.type === 'Complete';
    const history = ok ? s.succeeded : s.failed;
    history.push(j);
    const limit = ok ? s.cj.spec.successfulJobsHistoryLimit : s.cj.spec.failedJobsHistoryLimit;
    // The controller cleans up after this sync (not inside the Job controller's own write).
    this.sim.schedule(0, () => {
      while (history.length > limit) this.jobs.deleteJob(history.shift()!, `cronjob ${s.cj.metadata.name}: ${ok ? 'successful' : 'failed'}JobsHistoryLimit ${limit}`);
      if (s.missed === null || s.active.length > 0) return;
      const scheduled = s.missed;
      s.missed = null;
      const at = new Date(scheduled).toISOString().slice(0, 16).replace('T', ' ');
      const deadline = s.cj.spec.startingDeadlineSeconds;
      if (deadline !== undefined && this.sim.now - simOf(scheduled) > deadline * SEC) {
        this.record(`cronjob ${s.cj.metadata.name}: missed the run of ${at} (startingDeadlineSeconds ${deadline} passed)`);
        return;
      }
      this.createJob(s, scheduled, at);
    });
  }
}
