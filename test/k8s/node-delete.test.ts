// node-delete (`kubectl delete node`) and what the control plane does about it, on the clock of the
// real components:
//   - flanneld on every other node removes the deleted Node's subnet at once (route, neighbour, FDB);
//   - nothing marks its pods not ready; the EndpointSlice controller skips them at its next sync
//     ("Node not found"), and takes them back when a restarted kubelet has registered the Node again;
//   - the pod GC (gcOrphaned) runs every 20 s from its start: its first run after the delete quarantines
//     the node for 40 s, the run after that force-deletes the pods (phase Failed, then DELETE grace 0);
//   - the ReplicaSet replaces them at once on a node that has a Node; a running kubelet kills them;
//   - a running kubelet does not register its Node again (kubernetes#71398); a restarted one does.
//
//   node1: web-0 (Deployment)     node2: web-1 (Deployment)     node3: client     svc/web :80 → 8080
import { describe, expect, it } from 'vitest';
import type { ClusterNode } from '../../src/k8s/cluster.js';
import { POD_GC_CHECK_PERIOD_NS, POD_GC_QUARANTINE_NS } from '../../src/k8s/pod-gc.js';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';

const SEC = 1e9;

const SCENARIO = (faults: string, traffic = '    []') => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: nd }
spec:
  cluster:
    network: { cidr: 10.100.41.0/24 }
    dns: { enabled: false }
    endpointDelay: 1s
    proxySyncDelay: 1s
    nodes: [{ name: node1 }, { name: node2 }, { name: node3 }]
  traffic:
${traffic}
  faults:
${faults}
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
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
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { nodeName: node3, containers: [{ name: c, image: curl }] }
`;
const LOAD = '    - { name: load, type: http, from: pod/client, to: "svc/web:80", rate: 10, arrival: constant, start: 1s, duration: 80s, timeout: 1.5s }';
const build = (yaml: string, seed = 3): World => buildWorld(loadScenarioText(yaml, 'nd.yaml'), seed);
const at = (w: World, re: RegExp): number[] => w.timeline.filter((e) => re.test(e.what)).map((e) => e.atNs / SEC);
const node = (w: World, name: string): ClusterNode => w.cluster!.nodes.find((n) => n.name === name)!;
const webOn = (w: World, n: string) => w.cluster!.pods.filter((p) => p.labels['app'] === 'web' && p.node.name === n);
/** The web Service's endpoints as the store's EndpointSlice has them: pod name → ready. */
const endpoints = (w: World): Record<string, boolean> => Object.fromEntries(w.controlPlane!.services.find((s) => s.name === 'web')!.ports[0]!.endpoints.map((e) => [e.pod!.name, e.ready]));
/** Whether `from` routes to `to`'s pod subnet through flanneld's /24 route. */
const routes = (from: ClusterNode, to: ClusterNode): boolean => from.ns.mainTable.lookup(to.podNet + 5)?.prefix === to.podPrefix;

describe('node-delete, kubelet running (a live node deleted)', () => {
  it('routes gone at the delete; pods force-deleted at the pod GC run after the quarantine; replacement, endpoints, rules 0 / 1 / 2 s later; errors only in the gap; the Node stays gone', () => {
    const w = build(SCENARIO('    - { at: 10s, kind: node-delete, target: node/node2 }', LOAD));
    const [n1, n2, n3] = ['node1', 'node2', 'node3'].map((n) => node(w, n)) as [ClusterNode, ClusterNode, ClusterNode];
    const api = w.controlPlane!.api;
    const old = webOn(w, 'node2')[0]!;
    expect(webOn(w, 'node1')).toHaveLength(1);
    w.sim.run({ until: 9.999 * SEC });
    expect(routes(n3, n2) && routes(n1, n2)).toBe(true);
    w.sim.run({ until: 10 * SEC });
    // At the delete: the Node is gone and flanneld on node1 and node3 dropped its subnet.
    expect(api.get('Node', '', 'node2')).toBeUndefined();
    expect(routes(n3, n2) || routes(n1, n2)).toBe(false);
    expect(routes(n3, n1)).toBe(true);
    // Until the pod GC acts, the pod runs, is Ready and is still an endpoint (no sync since the delete).
    w.sim.run({ until: 59.9 * SEC });
    expect(api.get('Pod', old.namespace, old.name)!.status.ready).toBe(true);
    expect(old.hostVeth!.up).toBe(true);
    expect(endpoints(w)[old.name]).toBe(true);
    w.sim.run({ until: 90 * SEC });
    // First pod GC run after 10 s is at 20 s; 40 s of quarantine: the run at 60 s deletes.
    expect(at(w, /^pod-gc: force-deleting pod web-/)).toEqual([60]);
    expect(at(w, new RegExp(`^kubelet: ${old.name} killed on node2 \\(deleted from the API server\\)`))).toEqual([60]);
    expect(api.get('Pod', old.namespace, old.name)).toBeUndefined();
    expect(old.hostVeth!.up).toBe(false);
    const created = w.timeline.find((e) => e.what.startsWith('replicaset '))!;
    expect(created.atNs / SEC).toBe(60);
    expect(created.what).toMatch(new RegExp(`replaces ${old.name}\\); scheduler: bound to node[13]$`));
    const fresh = /created pod (\S+)/.exec(created.what)![1]!;
    expect(at(w, /^endpointslice: .*not ready \(DeletionByPodGC\)/)).toEqual([61]);
    expect(Object.keys(endpoints(w)).sort()).toEqual([webOn(w, 'node1')[0]!.name, fresh].sort());
    expect(Object.values(endpoints(w))).toEqual([true, true]);
    expect(at(w, /^kube-proxy: rules synced/).filter((t) => t > 10)).toEqual([62]);
    expect(at(w, /^kube-proxy: stopped on node2/)).toEqual([60]);
    // The kubelet keeps running but never registers the Node again.
    expect(api.get('Node', '', 'node2')).toBeUndefined();
    expect(at(w, /registered Node/)).toEqual([]);
    // Traffic: requests fail only between the delete and the rules at 62 s (+ the 1.5 s timeout).
    const f = w.stats.flow('load');
    expect(f.errorCount).toBeGreaterThan(10);
    // node2's subnet now follows node3's default route to the network's gateway, which never answers
    // ARP: the SYNs wait 3 s for it (neigh-failed), longer than the 1.5 s timeout.
    expect(f.errors.timeout).toBe(f.errorCount);
    for (const t of f.errorTimes) expect(t > 10 * SEC && t <= 63.5 * SEC, `error at ${t / SEC}s`).toBe(true);
    expect(n3.ns.drops['no-route'] ?? 0).toBe(0);
    expect(n3.ns.drops['neigh-failed']).toBeGreaterThan(0);
  });

  it('the pod GC runs every 20 s from its start: a delete at 25 s is seen at 40 s and acted on at 80 s; with the machine stopped its link is down and nothing is killed', () => {
    expect([POD_GC_CHECK_PERIOD_NS, POD_GC_QUARANTINE_NS]).toEqual([20 * SEC, 40 * SEC]);
    const w = build(SCENARIO('    - { at: 25s, kind: node-delete, target: node/node2, kubelet: stopped }'));
    const old = webOn(w, 'node2')[0]!;
    w.sim.run({ until: 100 * SEC });
    expect(node(w, 'node2').eth0.up).toBe(false);
    expect(at(w, /^node-delete: kubectl delete node node2 \(machine shut down first\)/)).toEqual([25]);
    expect(at(w, /^pod-gc: force-deleting pod/)).toEqual([80]);
    expect(at(w, /killed on node2/)).toEqual([]);
    expect(at(w, /^kube-proxy: stopped on/)).toEqual([]);
    expect(w.controlPlane!.api.get('Pod', old.namespace, old.name)).toBeUndefined();
    expect(at(w, /^replicaset .*replaces/)).toEqual([80]);
    expect(Object.values(endpoints(w))).toEqual([true, true]);
  });
});

describe('node-delete after a graceful delete, and twice', () => {
  it('a pod already terminating is force-deleted by the pod GC without a second replacement; its grace period ending later writes nothing; a second delete finds no Node', () => {
    const faults = [
      '    - { at: 5s, kind: pod-kill, target: { selector: { labelSelectors: { app: web }, nodes: [node2] } }, gracePeriod: 100s }',
      '    - { at: 10s, kind: node-delete, target: node/node2 }',
      '    - { at: 12s, kind: node-delete, target: node/node2 }',
    ].join('\n');
    // An app that ignores SIGTERM: the pod stays terminating until its grace period ends (an app exiting on
    // SIGTERM would be stopped and deleted by its kubelet at once).
    const w = build(SCENARIO(faults).replace('annotations: { podwire.dev/app: http }', 'annotations: { podwire.dev/app: http, podwire.dev/sigterm: ignore }'));
    const old = webOn(w, 'node2')[0]!;
    w.sim.run({ until: 130 * SEC });
    expect(at(w, /^node-delete: node node2 not found \(already deleted\)/)).toEqual([12]);
    // Replaced once, when it started terminating; the pod GC's Failed + DELETE adds none.
    expect(at(w, new RegExp(`^replicaset .*replaces ${old.name}\\)`))).toEqual([5]);
    expect(at(w, /^pod-gc: force-deleting pod/)).toEqual([60]);
    expect(at(w, new RegExp(`killed on node2`))).toEqual([60]);
    // The grace period (100 s) would have ended at 105 s: the pod is gone by then, nothing happens.
    expect(at(w, /stopped \(grace period over\)/)).toEqual([]);
    expect(w.controlPlane!.api.get('Pod', old.namespace, old.name)).toBeUndefined();
  });
});

describe('node-delete with kubeletRestart: the Node is registered again', () => {
  it('a sync meanwhile skips the pod (Node not found); the registration brings it back; the pod GC finds the Node and keeps the pod; flanneld does not route to it (no subnet annotations)', () => {
    // A pod-kill of node1's pod at 15 s makes the EndpointSlice controller sync while node2 is gone.
    const w = build(SCENARIO('    - { at: 10s, kind: node-delete, target: node/node2, kubeletRestart: 20s }\n    - { at: 15s, kind: pod-kill, target: { selector: { labelSelectors: { app: web }, nodes: [node1] } } }'));
    const api = w.controlPlane!.api;
    const kept = webOn(w, 'node2')[0]!;
    w.sim.run({ until: 17 * SEC });
    // The sync at 16 s (pod-kill + endpointDelay) leaves web-1 out: its Node is not found.
    expect(endpoints(w)[kept.name]).toBeUndefined();
    expect(api.get('Pod', kept.namespace, kept.name)!.status.ready).toBe(true);
    w.sim.run({ until: 90 * SEC });
    expect(at(w, /^kubelet: node2 restarted$/)).toEqual([30]);
    expect(at(w, /^kubelet: registered Node node2 \(Ready\)/)).toEqual([30.1]);
    expect(api.get('Node', '', 'node2')!.status.ready).toBe(true);
    // The retry of the failed sync sees the Node again (endpointDelay later).
    expect(at(w, /^endpointslice: resynced \(Node registered again\)/)).toEqual([31.1]);
    expect(endpoints(w)[kept.name]).toBe(true);
    // The pod GC quarantined node2 at 20 s, found it back at 60 s: nothing deleted.
    expect(at(w, /^pod-gc/)).toEqual([]);
    expect(api.get('Pod', kept.namespace, kept.name)).toBeDefined();
    // The new Node has none of flanneld's annotations (set once, at flanneld's start): no route to it.
    expect(routes(node(w, 'node3'), node(w, 'node2'))).toBe(false);
  });
});

describe('node-delete: bad input', () => {
  const err = (faults: string): string => {
    try {
      build(SCENARIO(faults));
    } catch (e) {
      return e instanceof ScenarioError ? e.message : String(e);
    }
    return '';
  };
  it('a missing node, a pod target, an unknown kubelet state, a restart of a stopped machine: errors at the field, with file:line:col', () => {
    expect(err('    - { at: 1s, kind: node-delete, target: node/node9 }')).toMatch(/^nd\.yaml:\d+:\d+: spec\.faults\[0\]\.target: .*node9/);
    expect(err('    - { at: 1s, kind: node-delete, target: pod/client }')).toMatch(/^nd\.yaml:\d+:\d+: spec\.faults\[0\]\.target: .*expected node\/NAME/);
    expect(err('    - { at: 1s, kind: node-delete, target: node/node2, kubelet: paused }')).toMatch(/^nd\.yaml:\d+:\d+: spec\.faults\[0\]\.kubelet: /);
    expect(err('    - { at: 1s, kind: node-delete, target: node/node2, kubelet: stopped, kubeletRestart: 5s }')).toMatch(/^nd\.yaml:\d+:\d+: spec\.faults\[0\]\.kubeletRestart: a stopped machine has no kubelet/);
  });
});
