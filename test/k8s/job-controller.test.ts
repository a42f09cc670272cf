// The Job controller and a Job pod's run under the kubelet (k8s/job-controller.ts, kubelet.ts),
// read off the timeline of small clusters: completions / parallelism, backoffLimit with restartPolicy
// Never (the controller's 10 s, 20 s … back-off), OnFailure (restarts in place with CrashLoopBackOff),
// activeDeadlineSeconds, completionMode Indexed, ttlSecondsAfterFinished, and the CronJob controller.
import { describe, expect, it } from 'vitest';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { jobBackoffNs } from '../../src/k8s/job-controller.js';

const HEAD = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: jobs }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1 }, { name: node2 }]
`;

function world(manifests: string, seed = 1): World {
  return buildWorld(loadScenarioText(`${HEAD}---\n${manifests}`, 'jobs.yaml'), seed);
}

function job(name: string, spec: string, template: string, annotations = ''): string {
  return `apiVersion: batch/v1
kind: Job
metadata: { name: ${name} }
spec:
${spec}
  template:
    metadata:
      annotations: {${annotations}}
    spec:
${template}
      containers: [{ name: c, image: busybox }]
`;
}

/** Timeline lines matching `re`, as "<seconds>s <what>". */
function lines(w: World, re: RegExp): string[] {
  return w.timeline.filter((t) => re.test(t.what)).map((t) => `${t.atNs / 1e9}s ${t.what}`);
}

describe('Job controller', () => {
  it('completions 5, parallelism 2: two at a time, a new pod as each succeeds, Complete after the 5th', () => {
    const w = world(job('batch', '  completions: 5\n  parallelism: 2', '      restartPolicy: Never', '"podwire.dev/run-time": 3s'));
    w.sim.run({ until: 60e9 });
    const done = lines(w, /Succeeded/).map((l) => l.split(' ')[0]);
    // Exits at 3 s (two pods), noticed 1 s later (the PLEG relist); the next pair starts then.
    expect(done).toEqual(['4s', '4s', '8s', '8s', '12s']);
    const created = lines(w, /^job batch: created pod/).map((l) => l.split(' ')[0]);
    expect(created).toEqual(['4s', '4s', '8s']);
    expect(lines(w, /^job batch: Complete/)).toEqual(['12s job batch: Complete; 5 succeeded, 0 failed']);
    const pods = w.cluster!.pods.filter((p) => p.owner?.name === 'batch');
    expect(pods).toHaveLength(5);
    for (const p of pods) {
      expect(p.name).toMatch(/^batch-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(p.labels['job-name']).toBe('batch');
      expect(w.controlPlane!.api.get('Pod', 'default', p.name)!.status.phase).toBe('Succeeded');
      // The sandbox is gone: the pod's eth0 and the host end of its veth are down.
      expect(p.ns.device('eth0')!.up).toBe(false);
      expect(p.hostVeth!.up).toBe(false);
    }
  });

  it('restartPolicy Never: each failure is a new pod after 10 s, 20 s; failures > backoffLimit → Failed', () => {
    const w = world(job('flaky', '  backoffLimit: 3', '      restartPolicy: Never', '"podwire.dev/run-time": 1s, "podwire.dev/exit-code": "2"'));
    w.sim.run({ until: 200e9 });
    // Failures noticed at 2 s; then a pod at 12 s (10 s back-off) fails at 14 s; 34 s (20 s); 76 s (40 s).
    expect(lines(w, /^job flaky: created/).map((l) => l.split(' ')[0])).toEqual(['12s', '34s', '76s']);
    expect(lines(w, /terminated/).map((l) => l.replace(/flaky-\w+/, 'P'))).toEqual(['1s kubelet: P/c terminated (exit code 2, reason Error)', '13s kubelet: P/c terminated (exit code 2, reason Error)', '35s kubelet: P/c terminated (exit code 2, reason Error)', '77s kubelet: P/c terminated (exit code 2, reason Error)']);
    expect(lines(w, /^job flaky: (Complete|Failed)/)).toEqual(['78s job flaky: Failed (BackoffLimitExceeded: Job has reached the specified backoff limit); 0 succeeded, 4 failed']);
  });

  it('the pod-failure back-off doubles from 10 s and is capped at 6 min', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 10].map((n) => jobBackoffNs(n) / 1e9)).toEqual([0, 10, 20, 40, 80, 160, 320, 360, 360]);
  });

  it('restartPolicy OnFailure: the container restarts in place (CrashLoopBackOff 0, 10 s, …); restarts ≥ backoffLimit → Failed, the pod killed', () => {
    const w = world(job('retry', '  backoffLimit: 3', '      restartPolicy: OnFailure', '"podwire.dev/run-time": 1s, "podwire.dev/exit-code": "1"'));
    w.sim.run({ until: 100e9 });
    // Exits at 1 s, 3 s, 15 s, each noticed 1 s later (PLEG); back-off 0, then 10 s; the third
    // exit makes restartCount 3 = backoffLimit.
    expect(lines(w, /started \(restart/).map((l) => l.replace(/retry-\w+/, 'P'))).toEqual(['2s kubelet: P/c started (restart 1)', '14s kubelet: P/c started (restart 2)']);
    expect(lines(w, /back-off/).map((l) => l.replace(/retry-\w+/, 'P'))).toEqual(['4s kubelet: back-off 10s restarting failed container=c pod=P', '16s kubelet: back-off 20s restarting failed container=c pod=P']);
    expect(lines(w, /^job retry: (Complete|Failed)/)).toEqual(['16s job retry: Failed (BackoffLimitExceeded: Job has reached the specified backoff limit); 0 succeeded, 0 failed, 1 active pod killed']);
    expect(lines(w, /^job retry: created/)).toEqual([]);
    const pod = w.cluster!.pods.find((p) => p.owner?.name === 'retry')!;
    expect(w.controlPlane!.api.get('Pod', 'default', pod.name)!.status).toMatchObject({ phase: 'Failed', restartCount: 3 });
  });

  it('activeDeadlineSeconds: DeadlineExceeded, the active pods killed', () => {
    const w = world(job('slow', '  parallelism: 2\n  completions: 2\n  activeDeadlineSeconds: 5', '      restartPolicy: Never', '"podwire.dev/run-time": 30s'));
    w.sim.run({ until: 60e9 });
    expect(lines(w, /^job slow: (Complete|Failed)/)).toEqual(['5s job slow: Failed (DeadlineExceeded: Job was active longer than specified deadline); 0 succeeded, 0 failed, 2 active pods killed']);
    expect(lines(w, /terminated/)).toEqual([]);
    expect(lines(w, /Failed \(DeadlineExceeded\); sandbox removed/)).toHaveLength(2);
  });

  it('completionMode Indexed: pods <job>-<index>-<5 chars>, hostname <job>-<index>, JOB_COMPLETION_INDEX; a failed index is retried', () => {
    const w = world(job('idx', '  completions: 3\n  parallelism: 3\n  completionMode: Indexed', '      restartPolicy: Never', '"podwire.dev/run-time": 2s'));
    w.sim.run({ until: 30e9 });
    const pods = w.cluster!.pods.filter((p) => p.owner?.name === 'idx');
    expect(pods.map((p) => p.name.replace(/-\w{5}$/, ''))).toEqual(['idx-0', 'idx-1', 'idx-2']);
    for (const [i, p] of pods.entries()) {
      expect((p.spec as { hostname?: string }).hostname).toBe(`idx-${i}`);
      expect(p.labels['batch.kubernetes.io/job-completion-index']).toBe(String(i));
      expect(p.spec.containers[0]!['env']).toEqual([{ name: 'JOB_COMPLETION_INDEX', value: String(i) }]);
    }
    expect(lines(w, /^job idx: Complete/)).toEqual(['3s job idx: Complete; 3 succeeded, 0 failed']);
  });

  it('Indexed with parallelism 1: indexes run in order', () => {
    const w = world(job('seq', '  completions: 3\n  parallelism: 1\n  completionMode: Indexed', '      restartPolicy: Never', '"podwire.dev/run-time": 1s'));
    w.sim.run({ until: 30e9 });
    // (seq-0 Succeeded at 2 s: a terminal pod is out of the scheduler's cache, so node1 has room again.)
    expect(lines(w, /^job seq: created/).map((l) => l.replace(/-\w{5} \(/, ' ('))).toEqual(['2s job seq: created pod seq-1 (index 1); scheduler: bound to node1', '4s job seq: created pod seq-2 (index 2); scheduler: bound to node1']);
    expect(lines(w, /^job seq: Complete/)).toEqual(['6s job seq: Complete; 3 succeeded, 0 failed']);
  });

  it('ttlSecondsAfterFinished: the Job and its pods are deleted that long after it finished', () => {
    const w = world(job('ttl', '  ttlSecondsAfterFinished: 10', '      restartPolicy: Never'));
    w.sim.run({ until: 30e9 });
    expect(lines(w, /^job ttl/)).toEqual(['2s job ttl: Complete; 1 succeeded, 0 failed', '12s job ttl: deleted with its 1 pod (ttlSecondsAfterFinished 10)']);
    const api = w.controlPlane!.api;
    expect(api.get('Job', 'default', 'ttl')).toBeUndefined();
    expect(api.list('Pod').filter((p) => p.metadata.labels['job-name'] === 'ttl')).toEqual([]);
  });

  it('a work queue (no completions): no new pods once one succeeded; Complete when none is active', () => {
    const w = world(job('queue', '  parallelism: 2', '      restartPolicy: Never', '"podwire.dev/run-time": "uniform:1s,5s"'));
    w.sim.run({ until: 30e9 });
    expect(lines(w, /^job queue: created/)).toEqual([]);
    const done = lines(w, /Succeeded/).map((l) => Number(l.split('s ')[0]));
    expect(done).toHaveLength(2);
    expect(lines(w, /^job queue: Complete/)).toEqual([`${Math.max(...done)}s job queue: Complete; 2 succeeded, 0 failed`]);
  });

  it('traffic from job/NAME: a pod exits when its share is done — 0 when every request was answered, 1 when any failed', () => {
    const yaml = (to: string) => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: jobs }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1 }, { name: node2 }]
  traffic:
    - { name: calls, type: http, from: job/caller, to: "${to}", rate: 10, count: 3, start: 1s, timeout: 1s }
---
apiVersion: v1
kind: Pod
metadata: { name: web, labels: { app: web }, annotations: { podwire.dev/app: http } }
spec: { containers: [{ name: w, image: nginx, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: v1
kind: Service
metadata: { name: empty }
spec: { selector: { app: none }, ports: [{ port: 80, targetPort: 8080 }] }
---
${job('caller', '  completions: 2\n  backoffLimit: 0', '      restartPolicy: Never', '"podwire.dev/run-time": 100s')}`;
    const ok = buildWorld(loadScenarioText(yaml('svc/web:80'), 'jobs.yaml'), 1);
    ok.sim.run({ until: 30e9 });
    // The first pod's 3 requests (1 s, 1.1 s, 1.2 s) end its run (not the 100 s run-time); the
    // second pod sends its own 3 from when it starts.
    const exits = lines(ok, /^kubelet: caller-\w+\/c terminated/);
    expect(exits.map((l) => l.replace(/caller-\w+/, 'P').replace(/^[\d.]+s/, 'T'))).toEqual(['T kubelet: P/c terminated (exit code 0, reason Completed)', 'T kubelet: P/c terminated (exit code 0, reason Completed)']);
    expect(Number(exits[0]!.split('s ')[0])).toBeLessThan(1.3);
    expect(lines(ok, /^job caller: Complete/).map((l) => l.replace(/^[\d.]+s /, ''))).toEqual(['job caller: Complete; 2 succeeded, 0 failed']);
    expect(ok.flows[0]!.counts).toMatchObject({ sent: 6, received: 6, errors: 0 });
    const bad = buildWorld(loadScenarioText(yaml('svc/empty:80'), 'jobs.yaml'), 1);
    bad.sim.run({ until: 30e9 });
    expect(lines(bad, /^kubelet: caller-\w+\/c terminated/).map((l) => l.replace(/caller-\w+/, 'P').replace(/^[\d.]+s /, ''))).toEqual(['kubelet: P/c terminated (exit code 1, reason Error)']);
    expect(lines(bad, /^job caller: (Complete|Failed)/).map((l) => l.replace(/^[\d.]+s /, ''))).toEqual(['job caller: Failed (BackoffLimitExceeded: Job has reached the specified backoff limit); 0 succeeded, 1 failed']);
  });

  it('node-reboot: a running Job pod starts its work over after the boot; a pod that had terminated stays down', () => {
    const yaml = `${HEAD}  faults: [{ at: 3s, kind: node-reboot, target: node/node1, duration: 4s }]
---
${job('short', '  completions: 1', '      restartPolicy: Never\n      nodeName: node1', '"podwire.dev/run-time": 1s')}---
${job('long', '  completions: 1', '      restartPolicy: Never\n      nodeName: node1', '"podwire.dev/run-time": 5s')}`;
    const w = buildWorld(loadScenarioText(yaml, 'jobs.yaml'), 1);
    w.sim.run({ until: 30e9 });
    // short ended at 1 s (noticed at 2 s): not started again at the boot (7 s). long's run was cut at
    // 3 s: it runs 5 s again from 7 s, exits at 12 s.
    expect(lines(w, /after node boot/).map((l) => l.replace(/-\w{5} /, ' '))).toEqual(['7s kubelet: long containers started after node boot (restart 0)']);
    expect(lines(w, /^job (short|long): Complete/)).toEqual(['2s job short: Complete; 1 succeeded, 0 failed', '13s job long: Complete; 1 succeeded, 0 failed']);
    const short = w.cluster!.pods.find((p) => p.owner?.name === 'short')!;
    expect(short.hostVeth!.up).toBe(false);
  });

  it('a deleted Job pod (Chaos Mesh pod-kill) counts as failed and is replaced after the back-off', () => {
    const w0 = world(job('victim', '  completions: 1', '      restartPolicy: Never', '"podwire.dev/run-time": 30s'));
    const first = w0.cluster!.pods.find((p) => p.owner?.name === 'victim')!.name;
    const yaml = `${HEAD}  faults: [{ at: 5s, kind: pod-kill, target: pod/${first} }]
---
${job('victim', '  completions: 1', '      restartPolicy: Never', '"podwire.dev/run-time": 30s')}`;
    const w = buildWorld(loadScenarioText(yaml, 'jobs.yaml'), 1);
    w.sim.run({ until: 60e9 });
    expect(lines(w, /^job victim/).map((l) => l.replace(/victim-\w{5}/, 'P'))).toEqual(['15s job victim: created pod P; scheduler: bound to node1', '46s job victim: Complete; 1 succeeded, 1 failed']);
    expect(lines(w, new RegExp(`^kubelet: ${first}`))).toEqual([]);
  });

  it('refuses a Job whose pods restart Always, and bad work annotations, at the field', () => {
    expect(() => world(job('bad', '  completions: 1', '      restartPolicy: Always'))).toThrow(/jobs\.yaml:\d+:\d+.*spec\.template\.spec\.restartPolicy.*Never or OnFailure, not Always/s);
    expect(() => world(job('bad', '  completions: 1', '      restartPolicy: Never', '"podwire.dev/run-time": soon'))).toThrow(/podwire\.dev\/run-time.*"soon" is not a duration/s);
  });
});

describe('CronJob controller', () => {
  const cron = (policy: string, runTime: string, extra = '') => `apiVersion: batch/v1
kind: CronJob
metadata: { name: tick }
spec:
  schedule: "*/2 * * * *"
  concurrencyPolicy: ${policy}
${extra}
  jobTemplate:
    spec:
      template:
        metadata: { annotations: { "podwire.dev/run-time": ${runTime} } }
        spec:
          restartPolicy: Never
          containers: [{ name: c, image: busybox }]
`;
  // 2025-01-01T00:00Z is minute 28928160 since the Unix epoch.
  it('Allow: a Job every 2 minutes named <cronjob>-<minutes>; history limit 3 deletes the oldest', () => {
    const w = world(cron('Allow', '10s'));
    w.sim.run({ until: 610e9 });
    expect(lines(w, /^cronjob tick: created/)).toEqual([
      '120s cronjob tick: created job tick-28928162 (scheduled 2025-01-01 00:02 UTC)',
      '240s cronjob tick: created job tick-28928164 (scheduled 2025-01-01 00:04 UTC)',
      '360s cronjob tick: created job tick-28928166 (scheduled 2025-01-01 00:06 UTC)',
      '480s cronjob tick: created job tick-28928168 (scheduled 2025-01-01 00:08 UTC)',
      '600s cronjob tick: created job tick-28928170 (scheduled 2025-01-01 00:10 UTC)',
    ]);
    expect(lines(w, /deleted/)).toEqual(['491s job tick-28928162: deleted with its 1 pod (cronjob tick: successfulJobsHistoryLimit 3)']);
  });

  it('Forbid: a run while a Job is active is skipped, then started when it finishes (within startingDeadlineSeconds)', () => {
    const w = world(cron('Forbid', '150s', '  startingDeadlineSeconds: 60'));
    w.sim.run({ until: 500e9 });
    expect(lines(w, /^cronjob tick/)).toEqual([
      '120s cronjob tick: created job tick-28928162 (scheduled 2025-01-01 00:02 UTC)',
      '240s cronjob tick: run of 2025-01-01 00:04 skipped (concurrencyPolicy Forbid: job tick-28928162 still active)',
      '271s cronjob tick: created job tick-28928164 (scheduled 2025-01-01 00:04 UTC)',
      '360s cronjob tick: run of 2025-01-01 00:06 skipped (concurrencyPolicy Forbid: job tick-28928164 still active)',
      '422s cronjob tick: missed the run of 2025-01-01 00:06 (startingDeadlineSeconds 60 passed)',
      '480s cronjob tick: created job tick-28928168 (scheduled 2025-01-01 00:08 UTC)',
    ]);
  });

  it('Replace: the active Job is deleted with its pods, the new one starts', () => {
    const w = world(cron('Replace', '150s'));
    w.sim.run({ until: 250e9 });
    expect(lines(w, /^(cronjob tick|job tick-\d+: (deleted|Complete|Failed))/)).toEqual([
      '120s cronjob tick: created job tick-28928162 (scheduled 2025-01-01 00:02 UTC)',
      '240s job tick-28928162: deleted with its 1 pod (cronjob tick: concurrencyPolicy Replace)',
      '240s cronjob tick: created job tick-28928164 (scheduled 2025-01-01 00:04 UTC)',
    ]);
  });

  it('unknown fields of a CronJob warn with the path and a likely correction', () => {
    const w = world(cron('Allow', '1s', '  schedul: x\n  timeZone: Europe/Paris'));
    expect(w.warnings.map((x) => `${x.field}: ${x.message}`)).toEqual(['spec.schedul: unknown field "schedul", ignored: did you mean "schedule"?', 'spec.timeZone: timeZone Europe/Paris is not modelled by podwire: the schedule is evaluated in UTC']);
  });

  it('suspend: no Jobs; a bad schedule is refused at spec.schedule', () => {
    const w = world(cron('Allow', '1s', '  suspend: true'));
    w.sim.run({ until: 130e9 });
    expect(lines(w, /^cronjob tick/)).toEqual(['120s cronjob tick: run of 2025-01-01 00:02 skipped (suspended)']);
    expect(() => world(cron('Allow', '1s').replace('*/2 * * * *', '61 * * * *'))).toThrow(/spec\.schedule.*invalid schedule: 61 is out of range 0-59 in the minute field/s);
  });
});
