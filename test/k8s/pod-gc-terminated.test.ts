// k8s/pod-gc gcTerminated: terminated pods (a Job's Completed ones) stay until there are more than
// --terminated-pod-gc-threshold (spec.cluster.terminatedPodGcThreshold); then the pod GC's next run (every
// 20 s) deletes the oldest down to the threshold. The Job's counts do not change.
import { describe, expect, it } from 'vitest';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';

const SEC = 1e9;

function world(threshold: number | null): World {
  return buildWorld(
    loadScenarioText(
      [
        'apiVersion: podwire.dev/v1alpha1',
        'kind: Scenario',
        'metadata: { name: gc }',
        'spec:',
        `  cluster: { network: { cidr: 10.100.45.0/24 }, dns: { enabled: false }, nodes: [{ name: node1 }]${threshold === null ? '' : `, terminatedPodGcThreshold: ${threshold}`} }`,
        '---',
        'apiVersion: batch/v1',
        'kind: Job',
        'metadata: { name: batch }',
        'spec:',
        '  completions: 5',
        '  parallelism: 1',
        '  template:',
        '    metadata: { annotations: { "podwire.dev/run-time": 3s } }',
        '    spec: { restartPolicy: Never, containers: [{ name: c, image: "busybox:1.36" }] }',
      ].join('\n'),
      'gc.yaml',
    ),
    7,
  );
}

const left = (w: World) => w.controlPlane!.api.list('Pod').filter((p) => p.status.phase === 'Succeeded').map((p) => p.metadata.name);

describe('pod GC: terminated pods past the threshold', () => {
  it('threshold 2: at the first 20 s run after the 3rd pod completes, the oldest go down to two; the next run again', () => {
    const w = world(2);
    const order = () => w.cluster!.pods.filter((p) => p.owner?.name === 'batch').map((p) => p.name);
    w.sim.run({ until: 60 * SEC });
    // Pods succeed at 4, 8, 12, 16, 20 s: 3 terminated at 12 s → the run at 20 s (before the 5th) deletes
    // down to 2; the 5th makes 3 again, for the run at 40 s.
    const gc = w.timeline.filter((e) => e.what.startsWith('pod-gc:')).map((e) => [e.atNs / SEC, e.what.replace(/: [^:]*$/, '')]);
    expect(gc).toEqual([
      [20, 'pod-gc: deleting 2 terminated pods (4 > --terminated-pod-gc-threshold=2)'],
      [40, 'pod-gc: deleting 1 terminated pod (3 > --terminated-pod-gc-threshold=2)'],
    ]);
    expect(left(w)).toEqual(order().slice(3));
    expect(w.timeline.filter((e) => e.what.startsWith('job batch: Complete')).map((e) => e.what)).toEqual(['job batch: Complete; 5 succeeded, 0 failed']);
  });

  it('the default (12500) and 0 keep every terminated pod', () => {
    for (const t of [null, 0]) {
      const w = world(t);
      w.sim.run({ until: 60 * SEC });
      expect(left(w)).toHaveLength(5);
    }
  });
});
