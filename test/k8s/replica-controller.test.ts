// The ReplicaSet controller replaces a pod when it leaves the active set (controller.FilterActivePods:
// not Succeeded or Failed, no deletionTimestamp), once: a pod that turned Failed and is then deleted
// gracefully left the set when it failed, so the delete adds no second replacement.
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/k8s/api/objects.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';

const SEC = 1e9;
const YAML = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: rc }
spec:
  cluster:
    network: { cidr: 10.100.42.0/24 }
    dns: { enabled: false }
    nodes: [{ name: node1 }, { name: node2 }]
  traffic: []
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web }, annotations: { podwire.dev/app: http } }
    spec: { containers: [{ name: web, image: nginx, ports: [{ containerPort: 8080 }] }] }
`;

describe('ReplicaSet controller: one replacement per pod leaving the active set', () => {
  it('a pod that fails is replaced at once; deleting it afterwards (gracefully, then outright) replaces nothing more', () => {
    const w = buildWorld(loadScenarioText(YAML, 'rc.yaml'), 5);
    const api = w.controlPlane!.api;
    const victim = w.cluster!.pods.find((p) => p.labels['app'] === 'web')!;
    const replaced = () => w.timeline.filter((e) => e.what.includes(`(replaces ${victim.name})`)).length;
    const current = () => api.get('Pod', victim.namespace, victim.name) as Pod;
    w.sim.run({ until: 2 * SEC });
    expect(replaced()).toBe(0);

    api.update<Pod>({ ...current(), status: { ...current().status, phase: 'Failed' } });
    w.sim.run({ until: 3 * SEC });
    expect(replaced()).toBe(1);

    api.update<Pod>({ ...current(), metadata: { ...current().metadata, deletionTimestamp: w.sim.now } });
    w.sim.run({ until: 4 * SEC });
    // Its kubelet deleted it once its containers ended; if not, the user does.
    if (current()) api.delete('Pod', victim.namespace, victim.name);
    w.sim.run({ until: 5 * SEC });
    expect(replaced()).toBe(1);
    expect(w.cluster!.pods.filter((p) => p.labels['app'] === 'web' && p !== victim)).toHaveLength(2);
  });

  it('a running pod deleted outright (grace 0) is replaced once', () => {
    const w = buildWorld(loadScenarioText(YAML, 'rc.yaml'), 5);
    const victim = w.cluster!.pods.find((p) => p.labels['app'] === 'web')!;
    w.sim.run({ until: 2 * SEC });
    w.controlPlane!.api.delete('Pod', victim.namespace, victim.name);
    w.sim.run({ until: 3 * SEC });
    expect(w.timeline.filter((e) => e.what.includes(`(replaces ${victim.name})`)).length).toBe(1);
  });
});
