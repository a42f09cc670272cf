// The StatefulSet and DaemonSet controllers (k8s/statefulset-controller.ts, k8s/daemonset-controller.ts)
// driven by `kubectl scale` / `kubectl rollout restart` and pod-kill on the fault timeline:
// OrderedReady against Parallel, minReadySeconds, a pod name used again (a new sandbox, the old one gone
// first), partition and OnDelete, a DaemonSet's maxUnavailable / maxSurge and OnDelete.
//
//   node1, node2, node3 (flannel VXLAN); StatefulSet web (headless Service web), DaemonSet agent
import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/k8s/api/objects.js';
import type { ClusterPod } from '../../src/k8s/cluster.js';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { threeNodeScenario } from '../helpers/scenario-text.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';

const SEC = 1e9;

/** A 3-node cluster, StatefulSet web (3 replicas) and DaemonSet agent, the given faults and spec extras. */
function scenario(faults: string[], opts: { sts?: string; ds?: string; dsSpec?: string; probe?: boolean; preStop?: number } = {}): string {
  const probe = opts.probe === false ? '' : '          readinessProbe: { httpGet: { path: /, port: 8080 }, initialDelaySeconds: 2, periodSeconds: 1 }\n';
  const preStop = opts.preStop ? `          lifecycle: { preStop: { sleep: { seconds: ${opts.preStop} } } }\n` : '';
  return `${threeNodeScenario('sts', '10.100.44.0/24', faults)}---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { clusterIP: None, selector: { app: web }, ports: [{ port: 8080, targetPort: 8080 }] }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: web
  replicas: 3
  selector: { matchLabels: { app: web } }
${opts.sts ?? ''}
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: nginx
          ports: [{ containerPort: 8080 }]
${probe}${preStop}---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent }
spec:
  selector: { matchLabels: { app: agent } }
${opts.ds ?? ''}
  template:
    metadata: { labels: { app: agent } }
    spec:
${opts.dsSpec ?? ''}
      containers:
        - name: agent
          image: prom/node-exporter
          ports: [{ containerPort: 9100 }]
          readinessProbe: { httpGet: { path: /, port: 9100 }, initialDelaySeconds: 2, periodSeconds: 1 }
`;
}

const build = (yaml: string): World => buildWorld(loadScenarioText(yaml, 'sts.yaml'), 7);
const lines = (w: World, re: RegExp): string[] => w.timeline.filter((e) => re.test(e.what)).map((e) => `${Math.round((e.atNs / SEC) * 1000) / 1000}s ${e.what}`);

/** The live pods of an owner (their Pod object is this sandbox's), with state. */
function live(w: World, app: string): { pod: ClusterPod; obj: Pod }[] {
  const cp = w.controlPlane!;
  return w.cluster!.pods
    .filter((p) => p.labels['app'] === app)
    .map((pod) => ({ pod, obj: cp.api.get('Pod', pod.namespace, pod.name) as Pod | undefined }))
    .filter((x): x is { pod: ClusterPod; obj: Pod } => x.obj !== undefined && x.obj.status.podIP === x.pod.ip);
}
const names = (w: World, app: string) => live(w, app).map((x) => x.pod.name).sort();

describe('StatefulSet: OrderedReady and Parallel', () => {
  it('OrderedReady: each ordinal is created once the one before is Ready; scale down waits for each to be gone', () => {
    const w = build(scenario(['{ at: 10s, kind: scale, target: statefulset/web, replicas: 5 }', '{ at: 20s, kind: scale, target: statefulset/web, replicas: 2 }'], { preStop: 2 }));
    expect(names(w, 'web')).toEqual(['web-0']);
    w.sim.run({ until: 30 * SEC });
    expect(lines(w, /^statefulset web: (create|delete) Pod/).map((l) => l.replace(/ successful.*/, ''))).toEqual([
      '2s statefulset web: create Pod web-1 in StatefulSet web',
      '4s statefulset web: create Pod web-2 in StatefulSet web',
      '10s statefulset web: create Pod web-3 in StatefulSet web',
      '12s statefulset web: create Pod web-4 in StatefulSet web',
      '20s statefulset web: delete Pod web-4 in StatefulSet web',
      '22s statefulset web: delete Pod web-3 in StatefulSet web',
      '24s statefulset web: delete Pod web-2 in StatefulSet web',
    ]);
    expect(names(w, 'web')).toEqual(['web-0', 'web-1']);
  });

  it('OrderedReady with minReadySeconds: the next ordinal waits that long after Ready', () => {
    const w = build(scenario([], { sts: '  minReadySeconds: 3' }));
    w.sim.run({ until: 20 * SEC });
    expect(lines(w, /^statefulset web: create Pod/).map((l) => l.split(' ')[0])).toEqual(['5s', '10s']);
  });

  it('Parallel: every ordinal at start; scale up and down in one step', () => {
    const w = build(scenario(['{ at: 10s, kind: scale, target: statefulset/web, replicas: 5 }', '{ at: 20s, kind: scale, target: statefulset/web, replicas: 1 }'], { sts: '  podManagementPolicy: Parallel', preStop: 2 }));
    expect(names(w, 'web')).toEqual(['web-0', 'web-1', 'web-2']);
    w.sim.run({ until: 30 * SEC });
    expect(lines(w, /^statefulset web: (create|delete) Pod/).map((l) => l.replace(/ in StatefulSet.*/, ''))).toEqual([
      '10s statefulset web: create Pod web-3',
      '10s statefulset web: create Pod web-4',
      '20s statefulset web: delete Pod web-4',
      '20s statefulset web: delete Pod web-3',
      '20s statefulset web: delete Pod web-2',
      '20s statefulset web: delete Pod web-1',
    ]);
    expect(names(w, 'web')).toEqual(['web-0']);
  });
});

describe('StatefulSet: a pod name used again', () => {
  it('pod-kill web-1: created again under its name once the old sandbox is gone; a new address, probes and endpoint of its own', () => {
    const w = build(scenario(['{ at: 10s, kind: pod-kill, target: pod/web-1, gracePeriod: 0s }']));
    w.sim.run({ until: 9 * SEC });
    const old = live(w, 'web').find((x) => x.pod.name === 'web-1')!.pod;
    const oldVeth = old.hostVeth!;
    w.sim.run({ until: 10 * SEC + 1 });
    const fresh = live(w, 'web').find((x) => x.pod.name === 'web-1')!;
    expect(fresh.pod).not.toBe(old);
    expect(fresh.pod.ip).not.toBe(old.ip);
    // CNI DEL of the old sandbox before the new one: its veth left cni0 and the node.
    expect(old.node.cni0!.ports).not.toContain(oldVeth);
    expect(old.node.ns.device(oldVeth.name)).toBeUndefined();
    expect(old.node.pods).not.toContain(old);
    const seq = lines(w, /web-1/).filter((l) => l.startsWith('10s'));
    const gone = seq.findIndex((l) => /pod web-1 stopped/.test(l));
    expect(gone).toBeGreaterThan(-1);
    expect(gone).toBeLessThan(seq.findIndex((l) => /create Pod web-1 /.test(l)));
    // The new pod is not the old one to the kubelet: not stopped, not Ready until its own probe passes (2 s).
    const cp = w.controlPlane!;
    expect(cp.kubelet.hasStopped(fresh.pod)).toBe(false);
    expect(fresh.obj.status.ready).toBe(false);
    w.sim.run({ until: 13.5 * SEC });
    expect((cp.api.get('Pod', 'default', 'web-1') as Pod).status.ready).toBe(true);
    // The EndpointSlice holds the new address, never the old one.
    const eps = w.services.find((s) => s.name === 'web')!.ports[0]!.endpoints.map((e) => formatIpv4(e.ip));
    expect(eps).toContain(formatIpv4(fresh.pod.ip));
    expect(eps).not.toContain(formatIpv4(old.ip));
  });
});

describe('StatefulSet: rollout restart', () => {
  it('RollingUpdate: the highest ordinal first, each after the one before is back Ready; kubectl rollout status lines', () => {
    const w = build(scenario(['{ at: 10s, kind: rollout-restart, target: statefulset/web }']));
    w.sim.run({ until: 30 * SEC });
    expect(lines(w, /^statefulset web: delete Pod/).map((l) => l.replace(/ in StatefulSet.*/, ''))).toEqual(['10s statefulset web: delete Pod web-2', '12s statefulset web: delete Pod web-1', '14s statefulset web: delete Pod web-0']);
    const rev = /update revision (\S+)/.exec(lines(w, /rollout restart: update revision/)[0]!)![1]!;
    expect(live(w, 'web').map((x) => x.pod.labels['controller-revision-hash'])).toEqual([rev, rev, rev]);
    expect(lines(w, /^statefulset web: (Waiting|partitioned)/)).toEqual([
      '10s statefulset web: Waiting for partitioned roll out to finish: 0 out of 3 new pods have been updated...',
      '10s statefulset web: Waiting for 1 pods to be ready...',
      '12s statefulset web: Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated...',
      '12s statefulset web: Waiting for 1 pods to be ready...',
      '14s statefulset web: Waiting for partitioned roll out to finish: 2 out of 3 new pods have been updated...',
      '14s statefulset web: Waiting for 1 pods to be ready...',
      '16s statefulset web: partitioned roll out complete: 3 new pods have been updated...',
    ]);
  });

  it('partition 2: only web-2 moves to the new revision', () => {
    const w = build(scenario(['{ at: 10s, kind: rollout-restart, target: statefulset/web }'], { sts: '  updateStrategy: { type: RollingUpdate, rollingUpdate: { partition: 2 } }' }));
    w.sim.run({ until: 30 * SEC });
    expect(lines(w, /^statefulset web: delete Pod/).map((l) => l.replace(/ in StatefulSet.*/, ''))).toEqual(['10s statefulset web: delete Pod web-2']);
    expect(lines(w, /partitioned roll out complete/)).toEqual(['12s statefulset web: partitioned roll out complete: 1 new pods have been updated...']);
  });

  it('OnDelete: nothing is replaced (the timeline says so) until a pod is deleted, which comes back at the new revision', () => {
    const w = build(scenario(['{ at: 10s, kind: rollout-restart, target: statefulset/web }', '{ at: 20s, kind: pod-kill, target: pod/web-0 }'], { sts: '  updateStrategy: { type: OnDelete }' }));
    w.sim.run({ until: 19 * SEC });
    expect(lines(w, /rollout restart: update revision/)[0]).toMatch(/OnDelete: no pod is replaced until it is deleted/);
    expect(lines(w, /^statefulset web: delete Pod/)).toEqual([]);
    const rev = /update revision (\S+)/.exec(lines(w, /rollout restart: update revision/)[0]!)![1]!;
    expect(live(w, 'web').filter((x) => x.pod.labels['controller-revision-hash'] === rev)).toHaveLength(0);
    w.sim.run({ until: 25 * SEC });
    expect(live(w, 'web').map((x) => [x.pod.name, x.pod.labels['controller-revision-hash'] === rev])).toEqual([
      ['web-1', false],
      ['web-2', false],
      ['web-0', true],
    ]);
  });
});

describe('DaemonSet: rollout restart', () => {
  const agentNodes = (w: World) => live(w, 'agent').map((x) => `${x.pod.node.name}:${x.obj.metadata.deletionTimestamp === null ? 'up' : 'terminating'}`);

  it('maxUnavailable 1 (default): node by node, each new pod once the old one is gone', () => {
    const w = build(scenario(['{ at: 10s, kind: rollout-restart, target: daemonset/agent }'], { probe: false }));
    w.sim.run({ until: 20 * SEC });
    expect(lines(w, /^daemonset agent: (Deleted|Created) pod/).map((l) => l.replace(/: agent-\S+/, '').replace(/ \(.*/, ''))).toEqual([
      '10s daemonset agent: Deleted pod on node1',
      '10s daemonset agent: Created pod on node1',
      '12s daemonset agent: Deleted pod on node2',
      '12s daemonset agent: Created pod on node2',
      '14s daemonset agent: Deleted pod on node3',
      '14s daemonset agent: Created pod on node3',
    ]);
    expect(lines(w, /successfully rolled out/)).toEqual(['16s daemonset agent: daemon set "agent" successfully rolled out']);
    expect(live(w, 'agent').map((x) => x.obj.metadata.labels['pod-template-generation'])).toEqual(['2', '2', '2']);
  });

  it('maxUnavailable 2: two nodes at a time', () => {
    const w = build(scenario(['{ at: 10s, kind: rollout-restart, target: daemonset/agent }'], { probe: false, ds: '  updateStrategy: { type: RollingUpdate, rollingUpdate: { maxUnavailable: 2 } }' }));
    w.sim.run({ until: 20 * SEC });
    expect(lines(w, /^daemonset agent: Deleted pod/).map((l) => l.split(' ')[0])).toEqual(['10s', '10s', '12s']);
  });

  it('maxSurge 1, maxUnavailable 0: the new pod runs beside the old one until it is Ready', () => {
    const w = build(scenario(['{ at: 10s, kind: rollout-restart, target: daemonset/agent }'], { probe: false, ds: '  updateStrategy: { type: RollingUpdate, rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }' }));
    w.sim.run({ until: 11 * SEC });
    expect(agentNodes(w)).toEqual(['node1:up', 'node2:up', 'node3:up', 'node1:up']);
    w.sim.run({ until: 20 * SEC });
    expect(lines(w, /^daemonset agent: (Deleted|Created) pod/).map((l) => l.replace(/: agent-\S+/, '').replace(/ \(.*/, ''))).toEqual([
      '10s daemonset agent: Created pod on node1',
      '12s daemonset agent: Deleted pod on node1',
      '12s daemonset agent: Created pod on node2',
      '14s daemonset agent: Deleted pod on node2',
      '14s daemonset agent: Created pod on node3',
      '16s daemonset agent: Deleted pod on node3',
    ]);
  });

  it('hostNetwork pods (node-exporter): the node keeps its eth0 up while its daemon pod goes; the new one serves on the node\'s port', () => {
    const w = build(scenario(['{ at: 10s, kind: rollout-restart, target: daemonset/agent }'], { probe: false, dsSpec: '      hostNetwork: true' }));
    w.sim.run({ until: 20 * SEC });
    for (const n of w.cluster!.nodes) expect(n.eth0.up).toBe(true);
    expect(lines(w, /successfully rolled out/)).toEqual(['16s daemonset agent: daemon set "agent" successfully rolled out']);
    expect(live(w, 'agent').every((x) => x.obj.status.ready && x.pod.hostNetwork)).toBe(true);
  });

  it('OnDelete: no pod is replaced', () => {
    const w = build(scenario(['{ at: 10s, kind: rollout-restart, target: daemonset/agent }'], { probe: false, ds: '  updateStrategy: { type: OnDelete }' }));
    w.sim.run({ until: 20 * SEC });
    expect(lines(w, /rollout restart: revision/)[0]).toMatch(/OnDelete: no pod is replaced until it is deleted/);
    expect(lines(w, /^daemonset agent: (Deleted|Created) pod/)).toEqual([]);
  });
});

describe('a name used again: the old sandbox never stands for the new pod', () => {
  it("a NoExecute taint on the old sandbox's node evicts nothing of the new pod running elsewhere", () => {
    const w = build(scenario([], { probe: false }));
    w.sim.run({ until: 5 * SEC });
    const cp = w.controlPlane!;
    const old = live(w, 'web').find((x) => x.pod.name === 'web-1')!.pod;
    // web-1 goes and comes back on another node (its own is cordoned).
    cp.drainer!.setUnschedulable(old.node, true);
    cp.deletePod(old, 0);
    w.sim.run({ until: 6 * SEC });
    const fresh = live(w, 'web').find((x) => x.pod.name === 'web-1')!.pod;
    expect(fresh.node).not.toBe(old.node);
    // The old node gets a NoExecute taint no pod tolerates: the taint manager walks that node's pods.
    const node = cp.api.get('Node', '', old.node.name)!;
    cp.api.update({ ...node, spec: { taints: [...(node.spec?.taints ?? []), { key: 'maintenance', effect: 'NoExecute' as const, timeAdded: w.sim.now }] } });
    w.sim.run({ until: 8 * SEC });
    expect(lines(w, /taint-manager: evicting pod web-1 /)).toEqual([]);
    expect((cp.api.get('Pod', 'default', 'web-1') as Pod).metadata.deletionTimestamp).toBeNull();
  });
});
