// `kubectl scale` and `kubectl rollout restart` on the fault timeline (scenario/faults-workload): the
// ReplicaSet controller's scale up and down (getPodsToDelete's ranking), the Deployment controller's
// RollingUpdate and Recreate, and what a deleted pod does between its delete and its end
// (k8s/pod-termination: preStop hooks, SIGTERM, the grace period).
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/k8s/api/objects.js';
import { scaledValue } from '../../src/k8s/deployment-controller.js';
import { preStopNs, terminationPlan } from '../../src/k8s/pod-termination.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { threeNodeScenario } from '../helpers/scenario-text.js';

const SEC = 1e9;

/** A 3-node cluster, Deployment web (`replicas`, pod spec extras), the given faults. */
function scenario(faults: string[], opts: { replicas?: number; spec?: string; container?: string; strategy?: string; annotations?: string } = {}): string {
  return `${threeNodeScenario('ops', '10.100.43.0/24', faults)}---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: ${opts.replicas ?? 3}
  selector: { matchLabels: { app: web } }
${opts.strategy ?? ''}
  template:
    metadata: { labels: { app: web }, annotations: { podwire.dev/app: http${opts.annotations ?? ''} } }
    spec:
${opts.spec ?? ''}
      containers:
        - name: web
          image: nginx
          ports: [{ containerPort: 8080 }]
${opts.container ?? ''}
`;
}

const build = (yaml: string): World => buildWorld(loadScenarioText(yaml, 'ops.yaml'), 7);

/** The Deployment's pods that ran, with their state (`gone`: deleted from the API server by their kubelet once stopped). */
function webPods(w: World): { name: string; hash: string; active: boolean; ready: boolean; stopped: boolean; gone: boolean }[] {
  const cp = w.controlPlane!;
  return w.cluster!.pods
    .filter((p) => p.labels['app'] === 'web')
    .map((p) => ({ p, obj: cp.api.get('Pod', p.namespace, p.name) as Pod | undefined }))
    .map(({ p, obj }) => ({ name: p.name, hash: p.labels['pod-template-hash']!, active: obj?.metadata.deletionTimestamp === null, ready: obj?.status.ready ?? false, stopped: cp.kubelet.hasStopped(p), gone: obj === undefined }));
}

const lines = (w: World, re: RegExp): string[] => w.timeline.filter((e) => re.test(e.what)).map((e) => `${e.atNs / SEC}s ${e.what}`);

describe('pod termination: preStop hooks and the SIGTERM action', () => {
  it('a preStop sleep action or an exec of sleep takes its seconds; other hooks none', () => {
    expect(preStopNs({ lifecycle: { preStop: { sleep: { seconds: 5 } } } })).toBe(5 * SEC);
    expect(preStopNs({ lifecycle: { preStop: { exec: { command: ['sleep', '3'] } } } })).toBe(3 * SEC);
    expect(preStopNs({ lifecycle: { preStop: { exec: { command: ['/bin/sh', '-c', 'sleep 2.5 && nginx -s quit'] } } } })).toBe(2.5 * SEC);
    expect(preStopNs({ lifecycle: { preStop: { exec: { command: ['/bin/sh', '-c', 'nginx -s quit; /usr/bin/sleep 10s'] } } } })).toBe(10 * SEC);
    expect(preStopNs({ lifecycle: { preStop: { exec: { command: ['echo', 'sleepy 5'] } } } })).toBe(0);
    expect(preStopNs({ lifecycle: { preStop: { httpGet: { path: '/quit', port: 8080 } } } })).toBe(0);
    expect(preStopNs({ name: 'web' })).toBe(0);
  });

  it('the app exits on SIGTERM unless its pod says podwire.dev/sigterm: ignore; the longest hook counts', () => {
    const containers = [{ lifecycle: { preStop: { sleep: { seconds: 2 } } } }, { lifecycle: { preStop: { exec: { command: ['sleep', '7'] } } } }] as never;
    expect(terminationPlan({ spec: { containers } as never, annotations: {} })).toEqual({ preStopNs: 7 * SEC, sigterm: 'exit' });
    expect(terminationPlan({ spec: { containers: [] } as never, annotations: { 'podwire.dev/sigterm': 'ignore' } })).toEqual({ preStopNs: 0, sigterm: 'ignore' });
  });

  it('maxSurge rounds up, maxUnavailable down; integers as written', () => {
    expect([scaledValue(undefined, 3, true, '25%'), scaledValue(undefined, 3, false, '25%')]).toEqual([1, 0]);
    expect([scaledValue('50%', 5, true, '25%'), scaledValue('50%', 5, false, '25%'), scaledValue(2, 10, true, '25%')]).toEqual([3, 2, 2]);
  });
});

describe('kubectl scale', () => {
  it('up: new pods of the same ReplicaSet, Ready, in the EndpointSlice after endpointDelay and in the rules after proxySyncDelay', () => {
    const w = build(scenario(['{ at: 2s, kind: scale, target: deployment/web, replicas: 5 }']));
    w.sim.run({ until: 2 * SEC });
    const hash = webPods(w)[0]!.hash;
    w.sim.run({ until: 2.5 * SEC });
    expect(webPods(w).filter((p) => p.active && p.ready && p.hash === hash)).toHaveLength(5);
    const endpoints = () => w.services.find((s) => s.name === 'web')!.ports[0]!.endpoints.length;
    expect(endpoints()).toBe(3);
    w.sim.run({ until: 3.5 * SEC });
    expect(endpoints()).toBe(5);
    expect(lines(w, /^replicaset .*created pod/)).toHaveLength(2);
  });

  it('up past the nodes\' room: the pods that fit run, the rest are created unscheduled (Pending, FailedScheduling each)', () => {
    const w = build(scenario(['{ at: 2s, kind: scale, target: deployment/web, replicas: 10 }']).replace('nodes: [{ name: node1 }, { name: node2 }, { name: node3 }]', 'nodes: [{ name: node1, maxPods: 2 }, { name: node2, maxPods: 2 }, { name: node3, maxPods: 2 }]'));
    w.sim.run({ until: 3 * SEC });
    expect(webPods(w).filter((p) => p.active)).toHaveLength(6);
    const pending = w.controlPlane!.api.list('Pod').filter((p) => p.status.phase === 'Pending');
    expect(pending).toHaveLength(4);
    expect(pending.every((p) => p.spec.nodeName === '')).toBe(true);
    expect(lines(w, /FailedScheduling/)).toEqual(pending.map((p) => `2s scheduler: Warning FailedScheduling pod/${p.metadata.name}: 0/3 nodes are available: 3 Too many pods.`));
    // They count as the ReplicaSet's: no more pods are made.
    expect(lines(w, /created pod/)).toHaveLength(7);
  });

  it('down: the pods not Ready go first, then those doubled up on a node; each terminates gracefully', () => {
    const w = build(scenario(['{ at: 2s, kind: scale, target: deployment/web, replicas: 4 }', '{ at: 5s, kind: scale, target: deployment/web, replicas: 1 }'], { replicas: 4 }));
    w.sim.run({ until: 4 * SEC });
    // Four pods on three nodes: one node holds two. Mark one pod of a single-pod node not Ready.
    const cp = w.controlPlane!;
    const pods = w.cluster!.pods.filter((p) => p.labels['app'] === 'web');
    const perNode = (n: string) => pods.filter((p) => p.node.name === n).length;
    const lone = pods.find((p) => perNode(p.node.name) === 1)!;
    const doubled = pods.filter((p) => perNode(p.node.name) === 2);
    expect(doubled).toHaveLength(2);
    const obj = cp.api.get('Pod', lone.namespace, lone.name) as Pod;
    cp.api.update<Pod>({ ...obj, status: { ...obj.status, ready: false, reason: 'ContainersNotReady' } });
    w.sim.run({ until: 5 * SEC });
    const deleted = lines(w, /^replicaset .*deleted pod/).map((l) => /deleted pod (\S+)/.exec(l)![1]);
    expect(deleted).toHaveLength(3);
    // The not-Ready pod first, then one of the two doubled-up pods; the survivor is Ready.
    expect(deleted[0]).toBe(lone.name);
    expect(doubled.map((p) => p.name)).toContain(deleted[1]);
    const left = webPods(w).filter((p) => p.active);
    expect(left).toHaveLength(1);
    expect(left[0]!.ready).toBe(true);
    // No preStop, the default SIGTERM action: each deleted pod stops in the same instant.
    expect(webPods(w).filter((p) => !p.active).every((p) => p.stopped)).toBe(true);
  });

  it('a preStop sleep keeps a deleted pod serving that long; an app ignoring SIGTERM until terminationGracePeriodSeconds', () => {
    const sleep = build(scenario(['{ at: 2s, kind: scale, target: deployment/web, replicas: 1 }'], { container: '          lifecycle: { preStop: { sleep: { seconds: 4 } } }' }));
    sleep.sim.run({ until: 5.9 * SEC });
    expect(webPods(sleep).filter((p) => p.stopped)).toEqual([]);
    sleep.sim.run({ until: 6 * SEC });
    expect(webPods(sleep).filter((p) => p.stopped)).toHaveLength(2);
    expect(lines(sleep, /preStop/)).toHaveLength(2);

    const ignore = build(scenario(['{ at: 2s, kind: scale, target: deployment/web, replicas: 1 }'], { annotations: ', podwire.dev/sigterm: ignore', spec: '      terminationGracePeriodSeconds: 8' }));
    ignore.sim.run({ until: 9.9 * SEC });
    expect(webPods(ignore).filter((p) => p.stopped)).toEqual([]);
    ignore.sim.run({ until: 10 * SEC });
    expect(lines(ignore, /stopped \(grace period over\)/)).toEqual(expect.arrayContaining([expect.stringMatching(/^10s /)]));
    expect(webPods(ignore).filter((p) => p.stopped)).toHaveLength(2);
  });
});

describe('SIGTERM drain (graceful shutdown)', () => {
  it('the app stops accepting (new connections refused while kube-proxy still sends them), answers what is in flight, and exits when its last connection closes', () => {
    const yaml = scenario(['{ at: 10.2s, kind: scale, target: deployment/web, replicas: 1 }'], { replicas: 2, annotations: ', podwire.dev/sigterm: drain, podwire.dev/service-time: "constant:2s", podwire.dev/workers: "100"' })
      .replace('  traffic: []', '  traffic:\n    - { name: load, type: http, from: pod/client, to: "svc/web:80", rate: 10, arrival: constant, start: 5s, duration: 10s, timeout: 5s, retries: 0 }')
      .concat('---\napiVersion: v1\nkind: Pod\nmetadata: { name: client }\nspec: { nodeName: node3, containers: [{ name: c, image: curl }] }\n');
    const w = build(yaml);
    w.sim.run({ until: 20 * SEC });
    const f = w.stats.flow('load');
    // In flight at 10.2 s on the deleted pod: answered (with Connection: close). Sent to it in the 2 s before
    // the rules drop it: refused by its kernel (nothing listens), not timed out.
    expect(f.errors.refused).toBeGreaterThan(0);
    // (Only a request sent between its exit, ~12.1 s, and the rules' sync at 12.2 s may time out.)
    expect(f.errors.timeout).toBeLessThanOrEqual(1);
    expect(f.errorCount).toBe(f.errors.refused + f.errors.timeout);
    const stopped = lines(w, /stopped \(its app drained its connections and exited/);
    expect(stopped).toHaveLength(1);
    const t = Number(stopped[0]!.split('s ')[0]);
    // Its last request in flight ends 2 s (its service time) after the last one it accepted before 10.2 s.
    expect(t).toBeGreaterThan(11.9);
    expect(t).toBeLessThanOrEqual(12.2);
  });
});

describe('kubectl rollout restart', () => {
  const probe = '          readinessProbe: { httpGet: { path: /, port: 8080 }, initialDelaySeconds: 2, periodSeconds: 1 }';

  it('RollingUpdate (defaults: maxSurge 25 % up, maxUnavailable 25 % down): never more than replicas + 1 pods, never fewer than replicas − 1 Ready; ends on a new ReplicaSet', () => {
    const w = build(scenario(['{ at: 5s, kind: rollout-restart, target: deployment/web }'], { replicas: 4, container: probe }));
    w.sim.run({ until: 5 * SEC });
    const oldHash = webPods(w)[0]!.hash;
    let most = 0;
    let fewestReady = Infinity;
    for (let t = 5.05; t < 30; t += 0.1) {
      w.sim.run({ until: Math.round(t * SEC) });
      const running = webPods(w).filter((p) => !p.stopped);
      most = Math.max(most, running.length);
      fewestReady = Math.min(fewestReady, running.filter((p) => p.active && p.ready).length);
    }
    // 25 % of 4: maxSurge 1, maxUnavailable 1.
    expect(most).toBe(5);
    expect(fewestReady).toBeGreaterThanOrEqual(3);
    const active = webPods(w).filter((p) => p.active);
    expect(active).toHaveLength(4);
    expect(active.every((p) => p.hash !== oldHash && p.ready)).toBe(true);
    expect(lines(w, /rollout complete/)).toHaveLength(1);
    expect(lines(w, /new replicaset web-/)[0]).toMatch(/RollingUpdate, maxSurge 1, maxUnavailable 1/);
  });

  it('Recreate: every old pod stops before the first new one is created', () => {
    const w = build(scenario(['{ at: 5s, kind: rollout-restart, target: deployment/web }'], { container: probe, strategy: '  strategy: { type: Recreate }', spec: '      terminationGracePeriodSeconds: 3', annotations: ', podwire.dev/sigterm: ignore' }));
    w.sim.run({ until: 20 * SEC });
    const stoppedAt = lines(w, /^pod web-.* stopped/).map((l) => Number(l.split('s ')[0]));
    const createdAt = lines(w, /^replicaset .*created pod/).map((l) => Number(l.split('s ')[0]));
    expect(stoppedAt).toEqual([8, 8, 8]);
    expect(createdAt).toEqual([8, 8, 8]);
    expect(lines(w, /stopped/).length + lines(w, /created pod/).length).toBe(6);
    const created = w.timeline.findIndex((e) => /created pod/.test(e.what));
    expect(w.timeline.slice(created).some((e) => /stopped/.test(e.what))).toBe(false);
    // The new pods' readiness probes pass 2 s after they start: the rollout is complete then.
    expect(lines(w, /rollout complete/).map((l) => Math.round(Number(l.split('s ')[0])))).toEqual([10]);
  });

  it('scale during a rollout works toward the new count', () => {
    const w = build(scenario(['{ at: 5s, kind: rollout-restart, target: deployment/web }', '{ at: 6s, kind: scale, target: deployment/web, replicas: 2 }'], { replicas: 4, container: probe }));
    w.sim.run({ until: 30 * SEC });
    const active = webPods(w).filter((p) => p.active);
    expect(active).toHaveLength(2);
    expect(new Set(active.map((p) => p.hash)).size).toBe(1);
    expect(lines(w, /rollout complete/)).toHaveLength(1);
  });
});

describe('bad operations are refused with the field', () => {
  it('an unknown Deployment, a kind that cannot scale, a negative count', () => {
    const err = (f: string) => {
      try {
        build(scenario([f]));
      } catch (e) {
        expect(e).toBeInstanceOf(ScenarioError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err('{ at: 1s, kind: scale, target: deployment/nope, replicas: 2 }')).toMatch(/^ops\.yaml:\d+:\d+: spec\.faults\[0\]\.target: no Deployment "nope"$/m);
    expect(err('{ at: 1s, kind: scale, target: service/web, replicas: 2 }')).toMatch(/spec\.faults\[0\]\.target: expected deployment\/NAME, replicaset\/NAME or statefulset\/NAME/);
    expect(err('{ at: 1s, kind: scale, target: daemonset/web, replicas: 2 }')).toMatch(/spec\.faults\[0\]\.target: expected deployment\/NAME, replicaset\/NAME or statefulset\/NAME/);
    expect(err('{ at: 1s, kind: scale, target: statefulset/nope, replicas: 2 }')).toMatch(/^ops\.yaml:\d+:\d+: spec\.faults\[0\]\.target: no StatefulSet "nope"$/m);
    expect(err('{ at: 1s, kind: rollout-restart, target: daemonset/nope }')).toMatch(/^ops\.yaml:\d+:\d+: spec\.faults\[0\]\.target: no DaemonSet "nope"$/m);
    expect(err('{ at: 1s, kind: scale, target: deployment/web, replicas: -1 }')).toMatch(/spec\.faults\[0\]\.replicas/);
    expect(err('{ at: 1s, kind: rollout-restart, target: replicaset/web }')).toMatch(/spec\.faults\[0\]\.target: expected deployment\/NAME, statefulset\/NAME or daemonset\/NAME/);
  });

  it('a podwire.dev/sigterm other than exit, drain or ignore, at the annotation', () => {
    expect(() => build(scenario([], { annotations: ', podwire.dev/sigterm: sometimes' }))).toThrow(/^ops\.yaml:\d+:\d+: spec\.template\.metadata\.annotations\.podwire\.dev\/sigterm: "sometimes" is not exit, drain or ignore/m);
  });
});

describe('kubectl cordon, uncordon, drain', () => {
  const bare = `---
apiVersion: v1
kind: Pod
metadata: { name: lone, labels: { app: lone } }
spec: { nodeName: node2, containers: [{ name: lone, image: nginx, ports: [{ containerPort: 8080 }] }] }
`;
  const pdb = (spec: string, name = 'web') => `---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: ${name} }
spec: { selector: { matchLabels: { app: web } }, ${spec} }
`;
  const onNode = (w: World, node: string) => webPods(w).filter((p) => p.active && w.cluster!.pods.find((x) => x.name === p.name)!.node.name === node);

  it('a cordoned node gets no new pod; uncordoned, the scheduler uses it again', () => {
    const w = build(scenario(['{ at: 1s, kind: cordon, target: node/node2 }', '{ at: 2s, kind: scale, target: deployment/web, replicas: 9 }', '{ at: 3s, kind: uncordon, target: node/node2 }', '{ at: 4s, kind: scale, target: deployment/web, replicas: 12 }']));
    w.sim.run({ until: 3 * SEC });
    expect(onNode(w, 'node2')).toHaveLength(1);
    expect(webPods(w).filter((p) => p.active)).toHaveLength(9);
    w.sim.run({ until: 5 * SEC });
    // node2, the least loaded, takes the next three.
    expect(onNode(w, 'node2')).toHaveLength(4);
    expect(lines(w, /^node\/node2 (cordoned|uncordoned)/)).toEqual(['1s node/node2 cordoned', '3s node/node2 uncordoned']);
  });

  it('drain evicts every pod of the node; their replacements go to other nodes; drained once they stopped', () => {
    const w = build(scenario(['{ at: 2s, kind: drain, target: node/node2 }'], { replicas: 6 }));
    w.sim.run({ until: 3 * SEC });
    expect(onNode(w, 'node2')).toHaveLength(0);
    expect(webPods(w).filter((p) => p.active)).toHaveLength(6);
    expect(lines(w, /drained/)).toEqual(['2s node/node2 drained']);
  });

  it('a pod without a controller stops the drain (after the cordon) unless force', () => {
    const w = build(scenario(['{ at: 2s, kind: drain, target: node/node2 }']) + bare);
    w.sim.run({ until: 3 * SEC });
    expect(lines(w, /^drain node\/node2: error: cannot delete Pods that declare no controller \(use force\): lone$/)).toHaveLength(1);
    expect(lines(w, /cordoned/)).toHaveLength(1);
    expect(onNode(w, 'node2')).toHaveLength(1);
    const forced = build(scenario(['{ at: 2s, kind: drain, target: node/node2, force: true }']) + bare);
    forced.sim.run({ until: 3 * SEC });
    expect(lines(forced, /evicting pod lone/)).toHaveLength(1);
    expect(onNode(forced, 'node2')).toHaveLength(0);
  });

  it('a PodDisruptionBudget holds evictions back until replacements are Ready, retried every 5 s', () => {
    const probe = '          readinessProbe: { httpGet: { path: /, port: 8080 }, initialDelaySeconds: 2, periodSeconds: 1 }';
    // Six pods, two per node; minAvailable 5: one disruption at a time.
    const w = build(scenario(['{ at: 5s, kind: drain, target: node/node2 }'], { replicas: 6, container: probe }) + pdb('minAvailable: 5'));
    w.sim.run({ until: 30 * SEC });
    const evicted = lines(w, /evicting pod/).map((l) => Number(l.split('s ')[0]));
    expect(evicted).toEqual([5, 10]);
    expect(lines(w, /cannot evict pod .* would violate the PodDisruptionBudget web \(5 healthy, 5 needed\); retrying in 5s/).map((l) => l.split('s ')[0])).toEqual(['5']);
  });

  it("maxUnavailable as a percentage rounds up (50 % of 3: two at once); two budgets over one pod refuse it", () => {
    const half = build(scenario(['{ at: 2s, kind: drain, target: node/node2 }'], { replicas: 3, spec: '      nodeName: node2' }) + pdb('maxUnavailable: "50%"'));
    half.sim.run({ until: 3 * SEC });
    expect(lines(half, /evicting pod/)).toHaveLength(2);
    expect(lines(half, /cannot evict/)).toHaveLength(1);
    const two = build(scenario(['{ at: 2s, kind: drain, target: node/node2 }']) + pdb('maxUnavailable: 3') + pdb('maxUnavailable: 3', 'web-too'));
    two.sim.run({ until: 3 * SEC });
    expect(lines(two, /cannot evict pod .*: it matches more than one PodDisruptionBudget \(web, web-too\)/)).toHaveLength(1);
  });

  it('a budget with both fields, or a bad value, is an error at its field', () => {
    expect(() => build(scenario([]) + pdb('minAvailable: 1, maxUnavailable: 1'))).toThrow(/ops\.yaml:\d+:\d+: spec: minAvailable and maxUnavailable cannot both be set/);
    expect(() => build(scenario([]) + pdb('minAvailable: half'))).toThrow(/ops\.yaml:\d+:\d+: spec\.minAvailable: expected a non-negative integer or a percentage/);
  });
});
