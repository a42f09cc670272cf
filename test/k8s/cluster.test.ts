// The cluster data plane as kubelet + the CNI bridge plugin + flannel build it: names, addresses,
// routes, scheduling, and the errors a user gets for a wrong manifest.
//
//   node1 (10.100.11.11)          node2 (10.100.11.12)
//   cni0 10.244.0.1/24            cni0 10.244.1.1/24
//   flannel.1 10.244.0.0/32       flannel.1 10.244.1.0/32
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { formatRoute } from '../../src/net/namespace.js';

const HEAD = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: t }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1, ip: 10.100.11.11 }, { name: node2, ip: 10.100.11.12 }]
`;
const world = (docs: string, head = HEAD) => buildWorld(loadScenarioText(head + docs, 'c.yaml'), 1);
const problems = (docs: string, head = HEAD): string[] => {
  try {
    world(docs, head);
    return [];
  } catch (e) {
    if (e instanceof ScenarioError) return e.errors.map((x) => `${x.line}:${x.col}: ${x.field ? `${x.field}: ` : ''}${x.message}`);
    throw e;
  }
};

const deployment = (name: string, replicas: number, extra = '') => `---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec: { ${extra}containers: [{ name: c, image: nginx }] }
`;

describe('cluster data plane', () => {
  it('names Deployment pods like a ReplicaSet does: <deployment>-<10-char hash>-<5 chars>, same hash for all replicas', () => {
    const w = world(deployment('web', 3));
    const names = w.cluster!.pods.map((p) => p.name);
    expect(names).toHaveLength(3);
    for (const n of names) expect(n).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(new Set(names.map((n) => n.split('-')[1])).size).toBe(1);
    expect(new Set(names).size).toBe(3);
    expect(w.cluster!.pods[0]!.labels['pod-template-hash']).toBe(names[0]!.split('-')[1]);
  });

  it('spreads unpinned pods over nodes (fewest pods first) and hands out addresses from .2 in order', () => {
    const w = world(deployment('web', 4));
    const byNode = w.cluster!.pods.map((p) => `${p.node.name}:${formatIpv4(p.ip)}`);
    expect(byNode).toEqual(['node1:10.244.0.2', 'node2:10.244.1.2', 'node1:10.244.0.3', 'node2:10.244.1.3']);
  });

  it('gives pods the routes flannel\'s host-local IPAM writes and nodes onlink routes to the other subnets', () => {
    const w = world(deployment('web', 2));
    const pod = w.cluster!.pods[0]!;
    expect(pod.ns.mainTable.all().map(formatRoute)).toEqual(['default via 10.244.0.1 dev eth0', '10.244.0.0/24 dev eth0 proto kernel scope link src 10.244.0.2', '10.244.0.0/16 via 10.244.0.1 dev eth0']);
    expect(pod.ns.device('eth0')!.mtu).toBe(1450);
    const node1 = w.cluster!.nodes[0]!;
    expect(node1.ns.mainTable.all().map(formatRoute)).toContain('10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink');
    expect(pod.hostVeth!.name).toMatch(/^veth[0-9a-f]{8}$/);
    expect(pod.hostVeth!.master).toBe(node1.cni0);
  });

  it('host-gw routes the other pod subnets via the node IPs, MTU 1500, no flannel.1', () => {
    const w = world(deployment('web', 2), HEAD.replace('    network:', '    cni: host-gw\n    network:'));
    const node1 = w.cluster!.nodes[0]!;
    expect(node1.ns.mainTable.all().map(formatRoute)).toContain('10.244.1.0/24 via 10.100.11.12 dev eth0');
    expect(node1.ns.device('flannel.1')).toBeUndefined();
    expect(w.cluster!.pods[0]!.ns.device('eth0')!.mtu).toBe(1500);
  });

  it('runs hostNetwork pods in their node\'s namespace with the node\'s address', () => {
    const w = world(deployment('agent', 1, 'hostNetwork: true, nodeName: node2, '));
    const p = w.cluster!.pods[0]!;
    expect(p.ns).toBe(w.cluster!.nodes[1]!.ns);
    expect(formatIpv4(p.ip)).toBe('10.100.11.12');
  });

  it('reports a pod pinned to a node that does not exist, and a selector that does not match the template', () => {
    expect(problems(deployment('web', 1, 'nodeName: node9, '))).toEqual(['17:23: spec.template.spec.nodeName: no node "node9" (nodes: node1, node2)']);
    const bad = deployment('web', 1).replace('selector: { matchLabels: { app: web } }', 'selector: { matchLabels: { app: other } }');
    expect(problems(bad)[0]).toMatch(/spec\.selector\.matchLabels\.app: selector does not match template labels/);
  });

  it('warns about fields podwire ignores, naming the line', () => {
    const w = world(deployment('web', 1).replace('image: nginx', 'image: nginx, stdin: true'));
    expect(w.warnings.map((x) => `${x.line}: ${x.field}: ${x.message}`)).toEqual(['17: spec.template.spec.containers[0].stdin: field "stdin" is not modelled by podwire and is ignored']);
  });
});
