// The fault timeline: a pod goes down, the EndpointSlice controller and kube-proxy follow after
// their delays, and a link gets netem loss.
//
//   client (node1) --HTTP--> svc/web:80 --DNAT--> web-0 (node1), web-1 (node2)
//   t=2s web-1 down; t=3s its endpoint not ready; t=4s kube-proxy rules synced
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { ScenarioError } from '../../src/scenario/errors.js';

const SCENARIO = (faults: string) => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: f }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    endpointDelay: 1s
    proxySyncDelay: 1s
    nodes: [{ name: node1 }, { name: node2 }]
  traffic:
    - { name: load, type: http, from: pod/client, to: "svc/web:80", rate: 50, duration: 5s, start: 1s, timeout: 300ms, retries: 3 }
  faults:
${faults}
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: web-0, labels: { app: web }, annotations: { podwire.dev/app: http } }
spec: { nodeName: node1, containers: [{ name: w, image: nginx, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: web-1, labels: { app: web }, annotations: { podwire.dev/app: http, podwire.dev/sigterm: ignore } }
spec: { nodeName: node2, containers: [{ name: w, image: nginx, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { nodeName: node1, containers: [{ name: c, image: curl }] }
`;

describe('fault timeline', () => {
  it('pod down: endpoints follow after endpointDelay, kube-proxy after proxySyncDelay; afterwards no request reaches the pod', () => {
    const w = buildWorld(loadScenarioText(SCENARIO('    - { at: 2s, kind: pod-down, target: pod/web-1 }'), 'f.yaml'), 3);
    const served: [number, number][] = [];
    const web1 = w.stats.endpoint('web-1');
    const orig = web1.served.bind(web1);
    web1.served = () => {
      served.push([w.sim.now, 1]);
      orig();
    };
    w.sim.run();
    expect(w.timeline.map((t) => [t.atNs / 1e9, t.what])).toEqual([
      [2, 'pod web-1 down'],
      [3, 'endpointslice: web-1 not ready (pod down)'],
      [4, 'kube-proxy: rules synced on every node'],
    ]);
    expect(served.length).toBeGreaterThan(0);
    expect(served.every(([t]) => t < 2e9)).toBe(true);
    expect(w.services[0]!.ports[0]!.endpoints.map((e) => `${e.pod!.name}:${e.ready}`)).toEqual(['web-0:true', 'web-1:false']);
    const f = w.stats.flow('load');
    // Between the failure and the sync, connections DNATed to web-1 time out and are retried.
    expect(f.retries).toBeGreaterThan(0);
    expect(f.requests).toBe(f.successes + f.errorCount);
  });

  it('pod delete (graceful) of an app that ignores SIGTERM: terminating endpoints keep serving, new connections move away after the sync, no request fails', () => {
    const w = buildWorld(loadScenarioText(SCENARIO('    - { at: 2s, kind: pod-delete, target: pod/web-1, gracePeriod: 3s }'), 'f.yaml'), 3);
    const served: number[] = [];
    const web1 = w.stats.endpoint('web-1');
    const orig = web1.served.bind(web1);
    web1.served = () => {
      served.push(w.sim.now);
      orig();
    };
    let conds = '';
    w.sim.scheduleAt(3.5e9, () => {
      const e = w.services[0]!.ports[0]!.endpoints.find((x) => x.pod!.name === 'web-1')!;
      conds = `ready=${e.ready} serving=${e.serving} terminating=${e.terminating}`;
    });
    w.sim.run();
    expect(w.timeline.map((t) => [t.atNs / 1e9, t.what])).toEqual([
      [2, 'pod web-1 deleted (grace period 3s)'],
      [3, 'endpointslice: web-1 terminating (serving, not ready)'],
      [4, 'kube-proxy: rules synced on every node'],
      [5, 'pod web-1 stopped (grace period over)'],
      [6, 'endpointslice: web-1 not ready (pod gone)'],
      [7, 'kube-proxy: rules synced on every node'],
    ]);
    expect(conds).toBe('ready=false serving=true terminating=true');
    expect(served.some((t) => t > 2e9 && t < 4e9)).toBe(true);
    expect(served.every((t) => t < 4.01e9)).toBe(true);
    const f = w.stats.flow('load');
    expect(f.errorCount).toBe(0);
    expect(f.retries).toBe(0);
  });

  it('netem on a node link loses frames from a named stream: TCP retransmits, every request still ends', () => {
    const w = buildWorld(loadScenarioText(SCENARIO('    - { at: 1s, kind: netem, target: node2/eth0, loss: 0.05 }'), 'f.yaml'), 3);
    w.sim.run();
    const tcp = [...w.tcp.values()].reduce((a, t) => a + t.counters.RetransSegs, 0);
    expect(tcp).toBeGreaterThan(0);
    const f = w.stats.flow('load');
    expect(f.requests).toBe(f.successes + f.errorCount);
    expect(w.timeline[0]!.what).toBe('netem on node2/eth0: loss 5.00% delay 0ms jitter 0ms');
  });

  it('names a fault target that does not exist at its field', () => {
    expect(() => buildWorld(loadScenarioText(SCENARIO('    - { at: 1s, kind: pod-down, target: pod/nope }'), 'f.yaml'), 1)).toThrow(ScenarioError);
    let errs: string[] = [];
    try {
      // A pod's eth0 (its veth end) takes a qdisc, as Chaos Mesh's tc in the pod; a bridge does not.
      buildWorld(loadScenarioText(SCENARIO('    - { at: 1s, kind: netem, target: node1/cni0 }'), 'f.yaml'), 1);
    } catch (e) {
      errs = (e as ScenarioError).errors.map((x) => `${x.line}:${x.col}: ${x.field}: ${x.message}`);
    }
    expect(errs).toEqual(["13:38: spec.faults[0].target: node1/cni0 is not a NIC or veth end (a node's or host's eth0, a links[] or veths[] end)"]);
  });
});
