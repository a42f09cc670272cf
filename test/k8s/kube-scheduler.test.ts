// k8s/kube-scheduler in a running cluster: pods no node fits are created Pending and retried as
// kube-scheduler retries them (the 5-minute flush without any event; an assigned pod's delete, which a
// terminating pod only makes once its kubelet deleted it); scaling down deletes the unscheduled pods
// first; a Deployment that cannot progress says so after progressDeadlineSeconds; deleted pods leave
// the nodes' pod lists and the report's topology.
//
//   node1 (maxPods 2)   node2 (maxPods 2)   node3 (maxPods 2)      Deployment web, 3 replicas at start
import { describe, expect, it } from 'vitest';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { topologyOf } from '../../src/report/topology.js';

const SEC = 1e9;

/** The cluster above, Deployment web (`replicas` 3 unless `deployment` says more of its spec, `container` extras), the given faults. */
function scenario(faults: string[], opts: { deployment?: string; container?: string } = {}): string {
  const nodes = [1, 2, 3].map((i) => `{ name: node${i}, maxPods: 2 }`).join(', ');
  return [
    'apiVersion: podwire.dev/v1alpha1',
    'kind: Scenario',
    'metadata: { name: sched }',
    'spec:',
    `  cluster: { network: { cidr: 10.100.44.0/24 }, dns: { enabled: false }, nodes: [${nodes}] }`,
    '  traffic: []',
    `  faults: [${faults.join(', ')}]`,
    '---',
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: { name: web }',
    `spec:${opts.deployment ?? ''}`,
    '  replicas: 3',
    '  selector: { matchLabels: { app: web } }',
    '  template:',
    '    metadata: { labels: { app: web } }',
    '    spec:',
    '      containers:',
    '        - { name: web, image: "nginx:1.27"' + (opts.container ?? '') + ' }',
    '',
  ].join('\n');
}

const build = (yaml: string): World => buildWorld(loadScenarioText(yaml, 'sched.yaml'), 7);
const lines = (w: World, re: RegExp): [number, string][] => w.timeline.filter((e) => re.test(e.what)).map((e) => [e.atNs / SEC, e.what]);
const pendingPods = (w: World) => w.controlPlane!.api.list('Pod').filter((p) => p.status.phase === 'Pending');

describe('kube-scheduler: pods that wait', () => {
  it('with no event, a Pending pod is tried again by the 5-minute flush (first 30 s tick past 5 min)', () => {
    const w = build(scenario(['{ at: 2s, kind: scale, target: deployment/web, replicas: 7 }']));
    w.sim.run({ until: 400 * SEC });
    expect(pendingPods(w)).toHaveLength(1);
    // 2 s + 300 s = 302 s; flushUnschedulablePodsLeftover runs every 30 s: 330 s. Then 330 + 300 → 660 s.
    expect(lines(w, /FailedScheduling/).map(([t]) => t)).toEqual([2, 330]);
  });

  it('a pod no node fitted at bring-up waits in the queue too: a running pod deleted frees its slot and it is bound', () => {
    const first = build(scenario([]).replace('replicas: 3', 'replicas: 7'));
    expect(pendingPods(first).map((p) => p.metadata.name)).toHaveLength(1);
    const victim = first.cluster!.pods[0]!.name;
    const w = build(scenario([`{ at: 2s, kind: pod-kill, target: pod/${victim}, gracePeriod: 30s }`]).replace('replicas: 3', 'replicas: 7'));
    const waiting = pendingPods(w)[0]!.metadata.name;
    w.sim.run({ until: 10 * SEC });
    expect(lines(w, /^scheduler: /).map(([t, l]) => [t, l.replace(/pod\/[^:]+/, (m) => (m === `pod/${waiting}` ? 'pod/WAITING' : 'pod/OTHER'))])).toEqual([
      [0, 'scheduler: Warning FailedScheduling pod/WAITING: 0/3 nodes are available: 3 Too many pods.'],
      [2, 'scheduler: Warning FailedScheduling pod/OTHER: 0/3 nodes are available: 3 Too many pods.'],
      [2, expect.stringMatching(/^scheduler: Normal Scheduled pod\/WAITING: Successfully assigned default\/web-\S+ to node\d \(attempt 2\)$/)],
      [3, 'scheduler: Warning FailedScheduling pod/OTHER: 0/3 nodes are available: 3 Too many pods.'],
    ]);
  });

  it('drain of a full cluster: the evicted pods\' replacements wait Pending; the uncordon puts them back on the node', () => {
    const w = build(scenario(['{ at: 2s, kind: drain, target: node/node1 }', '{ at: 10s, kind: uncordon, target: node/node1 }']).replace('replicas: 3', 'replicas: 6'));
    w.sim.run({ until: 9 * SEC });
    expect(pendingPods(w)).toHaveLength(2);
    // Created at 2 s (the evictions), tried again at 3 s: the evicted pods' deletes moved them, into their 1 s back-off.
    const why = 'scheduler: Warning FailedScheduling pod/X: 0/3 nodes are available: 1 node(s) were unschedulable, 2 Too many pods.';
    expect(lines(w, /FailedScheduling/).map(([t, l]) => [t, l.replace(/pod\/[^:]+/, 'pod/X')])).toEqual([[2, why], [2, why], [3, why], [3, why]]);
    w.sim.run({ until: 11 * SEC });
    expect(lines(w, /Normal Scheduled/).map(([t, l]) => [t, / to (node\d) /.exec(l)![1]])).toEqual([
      [10, 'node1'],
      [10, 'node1'],
    ]);
    expect(pendingPods(w)).toEqual([]);
  });

  it('scaling down deletes the unscheduled pods first, at once; no running pod is touched', () => {
    const w = build(scenario(['{ at: 2s, kind: scale, target: deployment/web, replicas: 9 }', '{ at: 4s, kind: scale, target: deployment/web, replicas: 7 }']));
    w.sim.run({ until: 3 * SEC });
    const before = pendingPods(w).map((p) => p.metadata.name);
    expect(before).toHaveLength(3);
    w.sim.run({ until: 5 * SEC });
    const deleted = lines(w, /deleted pod/).map(([, l]) => /deleted pod (\S+)/.exec(l)![1]);
    expect(deleted).toEqual([before[2], before[1]]);
    expect(lines(w, /deleted pod/).every(([, l]) => l.endsWith('(7 replicas; unscheduled, removed at once)'))).toBe(true);
    expect(pendingPods(w).map((p) => p.metadata.name)).toEqual([before[0]]);
    expect(w.controlPlane!.api.list('Pod').filter((p) => p.metadata.deletionTimestamp !== null)).toEqual([]);
  });

  it('a terminating pod keeps its slot until its kubelet deletes it: the waiting pod is bound then, not at the delete', () => {
    const prestop = { container: ', lifecycle: { preStop: { sleep: { seconds: 4 } } }' };
    const victim = build(scenario([], prestop)).cluster!.pods[0]!.name;
    const w2 = build(scenario(['{ at: 2s, kind: scale, target: deployment/web, replicas: 7 }', `{ at: 5s, kind: pod-kill, target: pod/${victim}, gracePeriod: 30s }`], prestop));
    w2.sim.run({ until: 20 * SEC });
    expect(lines(w2, new RegExp(`pod ${victim} stopped`)).map(([t]) => t)).toEqual([9]);
    // The waiting pod and the victim's replacement (Pending at 5 s): one is bound when the victim is gone (9 s).
    const scheduled = lines(w2, /Normal Scheduled/);
    expect(scheduled.map(([t]) => t)).toEqual([9]);
    expect(pendingPods(w2)).toHaveLength(1);
    expect(w2.cluster!.nodes.map((n) => n.pods.length)).toEqual([2, 2, 2]);
  });

  it('progressDeadlineSeconds: a scale whose pods cannot be placed is ProgressDeadlineExceeded a second after the deadline', () => {
    const w = build(scenario(['{ at: 2s, kind: scale, target: deployment/web, replicas: 8 }'], { deployment: '\n  progressDeadlineSeconds: 10' }));
    w.sim.run({ until: 30 * SEC });
    expect(lines(w, /^deployment web: Progressing/).map(([t, l]) => [t, l.split(':')[1]!.trim()])).toEqual([[13, 'Progressing=False ProgressDeadlineExceeded']]);
    // Nothing else changes: the pods wait, the running ones run.
    expect(pendingPods(w)).toHaveLength(2);
    expect(lines(w, /deleted pod/)).toEqual([]);
  });

  it('deleted pods leave their node\'s pod list and the report\'s topology (no ghost pod, no ghost host)', () => {
    const w = build(scenario(['{ at: 2s, kind: scale, target: deployment/web, replicas: 1 }']));
    w.sim.run({ until: 5 * SEC });
    const gone = w.cluster!.pods.filter((p) => !w.controlPlane!.api.get('Pod', p.namespace, p.name)).map((p) => p.name);
    expect(gone).toHaveLength(2);
    const topo = topologyOf(w);
    const names = topo.hosts.flatMap((h) => [h.name, ...h.pods.map((p) => p.name)]);
    for (const g of gone) expect(names).not.toContain(g);
    expect(w.cluster!.nodes.flatMap((n) => n.pods.map((p) => p.name)).filter((n) => n.startsWith('web-'))).toHaveLength(1);
    // Their host veths are gone from the nodes too (CNI DEL): only the survivor's is left on a cni0.
    expect(w.cluster!.nodes.flatMap((n) => n.cni0?.ports.length ?? 0).reduce((a, b) => a + b, 0)).toBe(1);
  });
});
