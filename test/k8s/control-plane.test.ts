// The control plane at the object level: a change to a Pod reaches the EndpointSlice after the
// EndpointSlice controller's watch delay (endpointDelay) and the nodes' rules after kube-proxy's sync
// delay (proxySyncDelay); a Node going down marks its pods not ready in one step.
//
//   node1: web-0, client          node2: web-1          svc/web:80 → 8080
//   t=0 web-1's containers stop · t=1s EndpointSlice: web-1 not ready · t=1.5s rules without web-1
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';

const SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: cp }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    endpointDelay: 1s
    proxySyncDelay: 500ms
    nodes: [{ name: node1 }, { name: node2 }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: web-0, labels: { app: web } }
spec: { nodeName: node1, containers: [{ name: w, image: nginx, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: web-1, labels: { app: web } }
spec: { nodeName: node2, containers: [{ name: w, image: nginx, ports: [{ containerPort: 8080 }] }] }
`;

function setup() {
  const w = buildWorld(loadScenarioText(SCENARIO, 'cp.yaml'), 1);
  const cp = w.controlPlane!;
  const pod = (name: string) => w.cluster!.pods.find((p) => p.name === name)!;
  const slice = () =>
    cp.api
      .list('EndpointSlice')
      .find((s) => s.serviceName === 'web')!
      .ports[0]!.endpoints.map((e) => `${e.pod!.name}:${e.ready ? 'ready' : 'not-ready'}`)
      .join(' ');
  const dnatTo = (node: string) => {
    const rules = w.cluster!.nodes.find((n) => n.name === node)!.ns.nf!.save();
    return ['web-0', 'web-1'].filter((p) => rules.includes(`--to-destination ${formatIpv4(pod(p).ip)}:8080`));
  };
  return { w, cp, pod, slice, dnatTo };
}

describe('control plane', () => {
  it('pod not ready → EndpointSlice after endpointDelay → kube-proxy rules after proxySyncDelay', () => {
    const { w, cp, pod, slice, dnatTo } = setup();
    expect(slice()).toBe('web-0:ready web-1:ready');
    expect(dnatTo('node1')).toEqual(['web-0', 'web-1']);
    cp.podContainersStopped(pod('web-1'), 'test');
    expect(cp.api.get('Pod', 'default', 'web-1')!.status).toMatchObject({ ready: false, reason: 'test' });
    expect(pod('web-1').ns.device('eth0')!.up).toBe(false);
    w.sim.run({ until: 1e9 - 1 });
    expect(slice()).toBe('web-0:ready web-1:ready');
    w.sim.run({ until: 1e9 });
    expect(slice()).toBe('web-0:ready web-1:not-ready');
    expect(w.services[0]!.ports[0]!.endpoints.map((e) => e.ready)).toEqual([true, false]);
    w.sim.run({ until: 1.5e9 - 1 });
    expect(dnatTo('node1')).toEqual(['web-0', 'web-1']);
    w.sim.run({ until: 1.5e9 });
    expect(dnatTo('node1')).toEqual(['web-0']);
    expect(dnatTo('node2')).toEqual(['web-0']);
    expect(w.timeline.map((t) => `${t.atNs / 1e9}s ${t.what}`)).toEqual(['1s endpointslice: web-1 not ready (test)', '1.5s kube-proxy: rules synced on every node']);
  });

  it('node down: the node lifecycle controller marks all its pods not ready in one step', () => {
    const { w, cp, slice } = setup();
    cp.nodeDown(w.cluster!.nodes[1]!);
    expect(cp.api.get('Node', '', 'node2')!.status.ready).toBe(false);
    expect(cp.api.get('Pod', 'default', 'web-1')!.status).toMatchObject({ ready: false, reason: 'node node2 down' });
    expect(cp.api.get('Pod', 'default', 'web-0')!.status.ready).toBe(true);
    w.sim.run();
    expect(slice()).toBe('web-0:ready web-1:not-ready');
    expect(w.timeline.map((t) => t.what)).toEqual(['endpointslice: web-1 not ready (node node2 down)', 'kube-proxy: rules synced on every node']);
  });

  it('graceful delete: terminating (still serving) after endpointDelay; the kubelet stops the pod when the grace period ends', () => {
    const { w, cp, pod, slice } = setup();
    cp.deletePod(pod('web-1'), 2e9);
    w.sim.run({ until: 1.9e9 });
    expect(pod('web-1').hostVeth!.up).toBe(true);
    expect(w.services[0]!.ports[0]!.endpoints[1]).toMatchObject({ ready: false, serving: true, terminating: true });
    w.sim.run();
    expect(pod('web-1').hostVeth!.up).toBe(false);
    expect(slice()).toBe('web-0:ready web-1:not-ready');
    expect(w.timeline.map((t) => `${t.atNs / 1e9}s ${t.what}`)).toEqual([
      '1s endpointslice: web-1 terminating (serving, not ready)',
      '1.5s kube-proxy: rules synced on every node',
      '2s pod web-1 stopped (grace period over)',
      '3s endpointslice: web-1 not ready (pod gone)',
      '3.5s kube-proxy: rules synced on every node',
    ]);
  });
});
