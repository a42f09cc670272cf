// scenarios/pending.yaml held to its header: web scaled past the nodes' room leaves three pods Pending
// (FailedScheduling); uncordoning node3 schedules one at once and the other two fail again; the batch
// pods deleted at 21 s free two slots, but the waiting pods are in back-off until 22 s; api's new pod
// pulls its image for 40 s, past its 20 s progress deadline, and the Deployment says so at 29 s.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatsDocument } from '../../src/stats/index.js';
import { ROOT, runScenario } from '../integration/run-scenario.js';

const out = runScenario(join(ROOT, 'scenarios', 'pending.yaml'), 7);
rmSync(out.dir, { recursive: true, force: true });
const s = JSON.parse(out.stats.toString('utf8')) as StatsDocument;

/** [seconds, line] of the timeline lines matching `re`. */
const at = (re: RegExp): [number, string][] => s.timeline.filter((e) => re.test(e.what)).map((e) => [e.atUs / 1e6, e.what]);
const times = (re: RegExp): number[] => at(re).map(([t]) => t);

describe('scenarios/pending.yaml', () => {
  it('scale past capacity: two web pods bound at 10 s, three FailedScheduling with the scheduler\'s message', () => {
    expect(times(/^replicaset web-.*created pod .*bound to/)).toEqual([10, 10]);
    const failed = at(/^scheduler: Warning FailedScheduling pod\/web-/);
    expect(failed.filter(([t]) => t === 10).map(([, w]) => w.replace(/pod\/[^:]+/, 'pod/X'))).toEqual(Array(3).fill('scheduler: Warning FailedScheduling pod/X: 0/3 nodes are available: 1 node(s) were unschedulable, 2 Too many pods.'));
  });

  it('uncordon at 20 s: one pod scheduled at once (attempt 2), two fail again; the 21 s deletes bind them at 22 s, after their back-off', () => {
    const scheduled = at(/^scheduler: Normal Scheduled pod\/web-/);
    expect(scheduled.map(([t, w]) => [t, /to (node\d) \(attempt (\d)\)/.exec(w)!.slice(1).join(' ')])).toEqual([
      [20, 'node3 2'],
      [22, 'node3 3'],
      [22, 'node2 3'],
    ]);
    expect(at(/^scheduler: Warning FailedScheduling/).filter(([t]) => t === 20).map(([, w]) => w.replace(/pod\/[^:]+/, 'pod/X'))).toEqual(Array(2).fill('scheduler: Warning FailedScheduling pod/X: 0/3 nodes are available: 3 Too many pods.'));
    // The batch pods left the API server at 21 s (their kubelets' final delete), yet nothing was bound then.
    expect(times(/^pod batch-.* stopped/)).toEqual([21, 21]);
    expect(times(/^scheduler: /).filter((t) => t === 21)).toEqual([]);
  });

  it('start latency: 1 s sandbox; nginx present on node1/node2, pulled in 3 s on node3 (the second pod there waits for that pull)', () => {
    const started = new Map(at(/^kubelet: web-\S+ started on/).map(([t, w]) => [/kubelet: (\S+) started/.exec(w)![1]!, t] as const));
    expect([...started.values()].sort((a, b) => a - b)).toEqual([11, 11, 23, 24, 24]);
    expect(at(/Pulling image "nginx:1.27"/).map(([t]) => t)).toEqual([21]);
    expect(at(/Successfully pulled image "nginx:1.27" in 3s/).map(([t]) => t)).toEqual([24]);
    // Each new pod serves only after it runs, its endpoint (1 s) and the rules (≤ 1 s more).
    const first = new Map<string, number>();
    for (const x of s.recovery!.seconds) for (const [pod, share] of Object.entries(x.endpointShares)) if (share > 0 && !first.has(pod)) first.set(pod, x.t);
    for (const [pod, t] of started) {
      expect(first.get(pod)! - t, pod).toBeGreaterThanOrEqual(1);
      expect(first.get(pod)! - t, pod).toBeLessThanOrEqual(2);
    }
    expect(s.flows.find((f) => f.name === 'to-web')!.errors).toBe(0);
    expect(s.endpoints.filter((e) => e.name.startsWith('web-') && e.served > 0)).toHaveLength(8);
  });

  it('progressDeadlineSeconds 20: api is Progressing=False at 29 s while its pod pulls, True again when it runs at 49 s', () => {
    expect(at(/^deployment api: Progressing/).map(([t, w]) => [t, w.split(':')[1]!.trim()])).toEqual([
      [29, 'Progressing=False ProgressDeadlineExceeded'],
      [49, 'Progressing=True NewReplicaSetAvailable'],
    ]);
    expect(at(/^deployment api: Progressing=False/)[0]![1]).toMatch(/ReplicaSet "api-[a-z0-9]+" has timed out progressing\. \(kubectl rollout status: error: deployment "api" exceeded its progress deadline\)$/);
    expect(times(/Successfully pulled image "registry.example.com\/api:2.0" in 40s/)).toEqual([49]);
  });
});
