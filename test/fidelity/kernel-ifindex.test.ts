// Interface indexes are per network namespace, as the kernel numbers them (dev_index_reserve on the
// namespace's own counter): lo is 1 in every namespace, a device takes its namespace's next index, and
// `ip link` names a veth's peer in another namespace by its index there (`eth0@if4`). The kernel side
// is built as the CNI bridge plugin builds it (the node's eth0, cni0, then each pod's veth created in
// the pod with its host end in the node); podwire's `inspect` must print the same indexes and peers.
// podwire numbered devices across the whole simulation (a pod's lo was `12: lo`).
//
//   node1: lo, eth0, cni0 ── vethA (pod a: eth0) ── vethB (pod b: eth0)
import { describe, expect, it } from 'vitest';
import { inspectNamespace } from '../../src/cli/inspect.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { ip, netnsSkipReason } from '../helpers/netns.js';
import { pwaFixture } from './netns-pwa.js';

const SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: ifindex }
spec:
  cluster:
    cni: host-gw
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1, ip: 10.100.11.11 }]
---
apiVersion: v1
kind: Pod
metadata: { name: a }
spec: { containers: [{ name: c, image: x }] }
---
apiVersion: v1
kind: Pod
metadata: { name: b }
spec: { containers: [{ name: c, image: x }] }
`;

/** `N: NAME[@PEER]` of each link, host veth names as vethN in order (they are random in both). */
function links(text: string): string[] {
  let n = 0;
  const names = new Map<string, string>();
  return [...text.matchAll(/^(\d+): ([^:@\s]+)(@[^:\s]+)?: </gm)].map((m) => {
    const name = m[2]!.startsWith('veth') ? (names.get(m[2]!) ?? names.set(m[2]!, `veth${n++}`).get(m[2]!)!) : m[2]!;
    return `${m[1]}: ${name}${m[3] ?? ''}`;
  });
}

const skip = netnsSkipReason();

describe('interface indexes per namespace', () => {
  it('podwire: lo is 1 everywhere, a pod eth0 is 2 and names its host end @ifN, the host end names @if2', () => {
    const w = buildWorld(loadScenarioText(SCENARIO, 'ifindex.yaml'), 1);
    const at = (n: string) => links(inspectNamespace(w.namespaces.get(n)!, 0));
    expect(at('node1')).toEqual(['1: lo', '2: eth0', '3: cni0', '4: veth0@if2', '5: veth1@if2']);
    expect([...at('a'), ...at('b')].sort()).toEqual(['1: lo', '1: lo', '2: eth0@if4', '2: eth0@if5']);
  });

});

describe.skipIf(skip !== null)(`interface indexes: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const { set } = pwaFixture();

  it('the kernel numbers the same topology the same way', () => {
    const node = set.create('idxnode');
    const pods = [set.create('idxa'), set.create('idxb')];
    ip('-n', node, 'link', 'add', 'eth0', 'type', 'bridge'); // (a stand-in for the NIC: no dummy module everywhere)
    ip('-n', node, 'link', 'add', 'cni0', 'type', 'bridge');
    pods.forEach((p, i) => ip('-n', p, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `veth${i}`, 'netns', node));
    const kernel = (ns: string) => links(ip('-n', ns, 'link', 'show'));
    const w = buildWorld(loadScenarioText(SCENARIO, 'ifindex.yaml'), 1);
    const podwire = (n: string) => links(inspectNamespace(w.namespaces.get(n)!, 0));
    expect(podwire('node1')).toEqual(kernel(node));
    expect([...podwire('a'), ...podwire('b')].sort()).toEqual([...kernel(pods[0]!), ...kernel(pods[1]!)].sort());
  });
});
