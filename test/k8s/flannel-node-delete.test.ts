// flanneld and a Node leaving: deleting a Node from the API server makes every other node's flanneld
// remove that node's route, permanent neighbour and FDB entry (kube subnet manager DeleteFunc →
// lease.EventRemoved → vxlan handleSubnetEvents: DelARP, DelFDB, RouteDel; host-gw: RouteDel), the
// other entries staying in their order; a node that only goes NotReady keeps them (flanneld ignores a
// Node update that does not change its annotations). The entries come from the shared sets
// (programFlannelRoutes), so this also checks that the bound tables shrink.
import { describe, expect, it } from 'vitest';
import type { Node } from '../../src/k8s/api/objects.js';
import type { ClusterNode } from '../../src/k8s/cluster.js';
import { formatRoute } from '../../src/net/fib.js';
import { buildWorld } from '../../src/scenario/build.js';
import { generateClusterYaml, CLUSTER_GEN_DEFAULTS } from '../../src/scenario/generate.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';

function world(cni: 'flannel-vxlan' | 'host-gw') {
  const yaml = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 5, services: 2, podsPerService: 2, flows: 1, requests: 5, cni });
  return buildWorld(loadScenarioText(yaml, 'node-delete.yaml'), 1);
}

/** flanneld's entries on `n`: routes to other nodes' pod subnets, neighbours and FDB entries of flannel.1, as `ip route` / `ip neigh` / `bridge fdb` list them. */
function flannelState(n: ClusterNode): { routes: string[]; neigh: string[]; fdb: string[] } {
  const routes = n.ns.mainTable
    .all()
    .filter((r) => r.dev !== null && (r.dev === n.flannel || r.gateway !== 0))
    .map(formatRoute);
  const neigh = n.flannel === null ? [] : n.ns.neigh.all().filter((e) => e.dev === n.flannel).map((e) => `${formatIpv4(e.ip)} lladdr ${e.mac.toString(16)} ${e.state}`);
  const fdb = n.flannel === null ? [] : [...n.flannel.fdb.entries()].map(([mac, ip]) => `${mac.toString(16)} dst ${formatIpv4(ip)}`);
  return { routes, neigh, fdb };
}

describe('flanneld: a deleted Node', () => {
  for (const cni of ['flannel-vxlan', 'host-gw'] as const) {
    it(`${cni}: its subnet goes from every other node; NotReady keeps it`, () => {
      const w = world(cni);
      const nodes = w.cluster!.nodes;
      const api = w.controlPlane!.api;
      const gone = nodes[2]!;
      const before = new Map(nodes.map((n) => [n, flannelState(n)]));
      const sizes = new Map(nodes.map((n) => [n, n.ns.mainTable.size]));
      for (const n of nodes) {
        if (n === gone) continue;
        // Every other node routes to the subnet before; flannel.1 holds a neighbour and an FDB entry per peer.
        expect(before.get(n)!.routes.filter((r) => r.startsWith(`${formatIpv4(gone.podNet)}/`))).toHaveLength(1);
        if (cni === 'flannel-vxlan') {
          expect(before.get(n)!.neigh).toHaveLength(nodes.length - 1);
          expect(before.get(n)!.fdb).toHaveLength(nodes.length - 1);
        }
      }
      // The node fails first: NotReady (a Node update without flannel annotation changes) changes nothing.
      const obj = api.get('Node', '', gone.name) as Node;
      api.update({ ...obj, status: { ...obj.status, ready: false, reason: 'NodeStatusUnknown' } });
      for (const n of nodes) expect(flannelState(n)).toEqual(before.get(n));
      // Then it is deleted.
      api.delete('Node', '', gone.name);
      const subnet = `${formatIpv4(gone.podNet)}/${gone.podPrefix}`;
      for (const n of nodes) {
        if (n === gone) continue;
        const b = before.get(n)!;
        const after = flannelState(n);
        expect(after.routes).toEqual(b.routes.filter((r) => !r.startsWith(`${subnet} `)));
        expect(after.routes.length).toBe(b.routes.length - 1);
        if (cni === 'flannel-vxlan') {
          expect(after.neigh).toEqual(b.neigh.filter((e) => !e.startsWith(`${formatIpv4(gone.podNet)} `)));
          expect(after.neigh).toHaveLength(nodes.length - 2);
          expect(after.fdb).toEqual(b.fdb.filter((e) => !e.endsWith(` dst ${formatIpv4(gone.ip)}`)));
          expect(after.fdb).toHaveLength(nodes.length - 2);
          expect(n.flannel!.fdb.get(gone.flannel!.mac)).toBeUndefined();
          expect(n.ns.neigh.get(n.flannel!, gone.podNet)).toBeUndefined();
        }
        // A packet to the gone subnet no longer takes flanneld's route (the default route, if any, or none).
        const r = n.ns.mainTable.lookup(gone.podNet + 5);
        expect(r === null || r.prefix < gone.podPrefix).toBe(true);
        // The other peers are still reachable through their routes.
        for (const m of nodes) if (m !== n && m !== gone) expect(n.ns.mainTable.lookup(m.podNet + 5)?.prefix).toBe(m.podPrefix);
      }
      // The deleted node's own tables are not flanneld's business any more (its machine is gone): unchanged.
      expect(flannelState(gone)).toEqual(before.get(gone));
      // A second node deleted: both subnets gone, the others still there.
      const second = nodes[0]!;
      api.delete('Node', '', second.name);
      for (const n of nodes) {
        if (n === gone || n === second) continue;
        const b = before.get(n)!;
        const keep = (e: string): boolean => !e.startsWith(`${formatIpv4(gone.podNet)}`) && !e.startsWith(`${formatIpv4(second.podNet)}`);
        expect(flannelState(n).routes).toEqual(b.routes.filter(keep));
        if (cni === 'flannel-vxlan') expect(flannelState(n).neigh).toEqual(b.neigh.filter(keep));
        expect(n.ns.mainTable.size).toBe(sizes.get(n)! - 2);
      }
    });
  }
});
