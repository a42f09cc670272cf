// The control plane at the object level: a change to a Pod reaches the EndpointSlice after the
// EndpointSlice controller's watch delay (endpointDelay) and the nodes' rules after kube-proxy's sync
// delay (proxySyncDelay); a Node going down marks its pods not ready in one step.
//
//   node1: web-0, client          node2: web-1          svc/web:80 → 8080
//   t=0 web-1's containers stop · t=1s EndpointSlice: web-1 not ready · t=1.5s rules without web-1
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { objectMeta, type Service } from '../../src/k8s/api/objects.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4-addr.js';

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
metadata: { name: web-1, labels: { app: web }, annotations: { podwire.dev/sigterm: ignore } }
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

  it('graceful delete of an app that exits on SIGTERM (the default): its sandbox goes at once, the endpoint stays until the EndpointSlice and kube-proxy catch up', () => {
    const { w, cp, pod, slice } = setup();
    cp.deletePod(pod('web-0'), 2e9);
    w.sim.run({ until: 1 });
    expect(pod('web-0').hostVeth!.up).toBe(false);
    w.sim.run();
    // Its kubelet deleted the stopped pod from the API server: it leaves the slice.
    expect(cp.api.get('Pod', 'default', 'web-0')).toBeUndefined();
    expect(slice()).toBe('web-1:ready');
    expect(w.timeline.map((t) => `${t.atNs / 1e9}s ${t.what}`)).toEqual([
      '0s pod web-0 stopped (its app exited on SIGTERM; sandbox removed)',
      '1s endpointslice: web-0 terminating (serving, not ready)',
      '1s endpointslice: web-0 not ready (pod gone)',
      '1.5s kube-proxy: rules synced on every node',
    ]);
  });

  it('graceful delete of an app that ignores SIGTERM (podwire.dev/sigterm: ignore): terminating (still serving) after endpointDelay; the kubelet stops the pod when the grace period ends', () => {
    const { w, cp, pod, slice } = setup();
    cp.deletePod(pod('web-1'), 2e9);
    w.sim.run({ until: 1.9e9 });
    expect(pod('web-1').hostVeth!.up).toBe(true);
    expect(w.services[0]!.ports[0]!.endpoints[1]).toMatchObject({ ready: false, serving: true, terminating: true });
    w.sim.run();
    expect(pod('web-1').hostVeth!.up).toBe(false);
    expect(slice()).toBe('web-0:ready');
    expect(w.timeline.map((t) => `${t.atNs / 1e9}s ${t.what}`)).toEqual([
      '1s endpointslice: web-1 terminating (serving, not ready)',
      '1.5s kube-proxy: rules synced on every node',
      '2s pod web-1 stopped (grace period over)',
      '3s endpointslice: web-1 not ready (pod gone)',
      '3.5s kube-proxy: rules synced on every node',
    ]);
  });

  it('a Service created in the store later: the EndpointSlice controller writes its slice at once, kube-proxy programs it after proxySyncDelay, CoreDNS-like informers see it', () => {
    const { w, cp } = setup();
    const dns = cp.serviceInformer();
    const web = cp.api.get('Service', 'default', 'web')!;
    const vip = parseIpv4('10.96.0.99')!;
    cp.api.create<Service>({ ...web, metadata: objectMeta('default', 'web2'), spec: { ...web.spec, name: 'web2', clusterIP: vip, sliceName: 'web2-abcde' } });
    expect(cp.api.get('EndpointSlice', 'default', 'web2-abcde')!.ports[0]!.endpoints.map((e) => e.pod!.name)).toEqual(['web-0', 'web-1']);
    expect(dns.list().map((s) => `${s.name} ${s.ports[0]!.endpoints.length}`)).toEqual(['web 2', 'web2 2']);
    const rules = () => w.cluster!.nodes[0]!.ns.nf!.save();
    w.sim.run({ until: 0.5e9 - 1 });
    expect(rules()).not.toContain('10.96.0.99');
    w.sim.run({ until: 0.5e9 });
    expect(rules()).toContain('-d 10.96.0.99');
  });

  it('each informer has its own cache: a slice written to the store reaches it through the watch, not through a shared object', () => {
    const { cp } = setup();
    const a = cp.serviceInformer();
    const before = a.list();
    const slice = cp.api.list('EndpointSlice')[0]!;
    cp.api.update({ ...slice, ports: [{ ...slice.ports[0]!, endpoints: slice.ports[0]!.endpoints.slice(0, 1) }] });
    expect(before[0]!.ports[0]!.endpoints).toHaveLength(2);
    expect(a.list()[0]!.ports[0]!.endpoints).toHaveLength(1);
    expect(cp.services[0]!.ports[0]!.endpoints).toHaveLength(1);
  });
});
