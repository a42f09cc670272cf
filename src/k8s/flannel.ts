// k8s/flannel — flanneld: the VXLAN device flannel.1 (pkg/backend/vxlan: `ip link add flannel.1 type
// vxlan id 1 local NODE_IP dev eth0 dstport 8472 nolearning`, address 10.244.N.0/32, MTU = eth0 − 50),
// and for every other node's subnet an onlink route via flannel.1, a permanent neighbour (the remote
// flannel.1's MAC) and an FDB entry (that MAC → the remote node's IP); or, with the host-gw backend,
// a route via the other node's IP. Then the iptables rules flanneld installs on every node with
// --ip-masq (the kube-flannel default; pkg/trafficmngr/iptables MasqRules and ForwardRules): pod
// traffic leaving the cluster network is masqueraded to the node's address, traffic inside the pod
// network is not, and the FORWARD chain accepts the pod network both ways. Layer: k8s (imports link).
// A Node deleted from the API server makes every other node's flanneld remove that node's neighbour,
// FDB entry and route (kube subnet manager: the node informer's DeleteFunc → lease.EventRemoved;
// pkg/backend/vxlan handleSubnetEvents: DelARP, DelFDB, RouteDel; host-gw: RouteDel). A node that
// only fails (NotReady) keeps them: flanneld reacts to a Node update only when its flannel annotations
// change. A Node registered again (a restarted kubelet) is ignored too: it lacks the annotations
// (kube-subnet-manager, public-ip, backend-data) that only its own flanneld writes, once, at its start
// (kube subnet manager AcquireLease; handleAddLeaseEvent skips a Node without them).
// Not modelled: the subnet lease in etcd / the Node annotations flanneld reads (the routes of
// the scenario's nodes are written at the start), a Node added later, the L3 miss handler.
import { VxlanDevice } from '../link/vxlan.js';
import { SharedRoutes, type Route } from '../net/fib.js';
import { SharedNeighbours } from '../net/neighbour.js';
import type { Ipv4, Mac } from '../wire/types.js';
import type { ApiStore } from './api/store.js';
import type { ClusterConfig, ClusterNode } from './cluster.js';
import type { Inventory } from './inventory.js';

/** flannel.1 on a node (VXLAN backend). */
export function createFlannelDevice(inv: Inventory, cfg: ClusterConfig, node: ClusterNode, mtu: number): void {
  const hashSeed = inv.sim.rng.stream(`${node.name}/hashrnd`).uint32();
  const vx = new VxlanDevice(inv.sim, 'flannel.1', inv.mac(node.name, 'flannel.1'), cfg.vni, node.ip, cfg.vxlanPort, hashSeed, mtu);
  inv.add(node.ns, vx);
  vx.attach(node.ns);
  node.ns.addAddress(vx, node.podNet, 32);
  node.flannel = vx;
}

/**
 * Routes to the other nodes' pod subnets, as flanneld programs them (VXLAN or host-gw): on every node,
 * for every other node M, `M.podNet via M.podNet dev flannel.1 onlink`, `ip neigh replace M.podNet
 * lladdr M.flannel.mac dev flannel.1 nud permanent` and `bridge fdb append M.flannel.mac dev flannel.1
 * dst M.ip` (host-gw: `M.podNet via M.ip dev eth0`). Those N² entries are the same on every node but
 * the node's own, so they are built once per cluster (SharedRoutes, SharedNeighbours, a shared FDB map)
 * and each node's route table, neighbour table and flannel.1 FDB is bound to them, excluding its own
 * subnet; they read, list and forward exactly as per-node copies would. When two nodes share a subnet
 * or a MAC (a scenario the cluster's checks reject), or a table already holds one of the entries, the
 * entries are written per node as flanneld would.
 */
export function programFlannelRoutes(nodes: ClusterNode[], overlay: boolean): void {
  const routes = new SharedRoutes(overlay);
  const neighs = new SharedNeighbours();
  const fdb = new Map<Mac, Ipv4>();
  let distinct = true;
  for (const m of nodes) {
    distinct &&= routes.add(m.podNet, m.podPrefix, overlay ? m.podNet : m.ip);
    if (overlay) {
      distinct &&= neighs.add(m.podNet, m.flannel!.mac);
      distinct &&= !fdb.has(m.flannel!.mac);
      fdb.set(m.flannel!.mac, m.ip);
    }
  }
  for (const n of nodes) {
    const others = (): ClusterNode[] => nodes.filter((m) => m !== n);
    if (!distinct) {
      programPerNode(n, others(), overlay, true, true, true);
      continue;
    }
    const dev = overlay ? n.flannel! : n.eth0;
    const r = n.ns.mainTable.bindShared(routes, dev, routes.get(n.podNet, n.podPrefix));
    const nb = !overlay || n.ns.neigh.bindShared(neighs, dev, n.podNet);
    const fb = !overlay || n.flannel!.fdb.bindShared(fdb, n.flannel!.mac);
    if (!r || !nb || !fb) programPerNode(n, others(), overlay, !r, !nb, !fb);
  }
}

/** flanneld's entries on `n` for each of `others`, written one by one (the tables not bound to the shared sets). */
function programPerNode(n: ClusterNode, others: ClusterNode[], overlay: boolean, routes: boolean, neighs: boolean, fdb: boolean): void {
  for (const m of others) {
    if (overlay) {
      if (routes) n.ns.addRoute({ dst: m.podNet, prefix: m.podPrefix, gateway: m.podNet, dev: n.flannel!, onlink: true });
      if (neighs) n.ns.neigh.addPermanent(n.flannel!, m.podNet, m.flannel!.mac);
      if (fdb) n.flannel!.fdb.set(m.flannel!.mac, m.ip);
    } else if (routes) {
      n.ns.addRoute({ dst: m.podNet, prefix: m.podPrefix, gateway: m.ip, dev: n.eth0 });
    }
  }
}

/** flanneld's node watch: a deleted Node's entries go from every other node (removeFlannelNode). */
export function watchFlannelNodes(api: ApiStore, nodes: readonly ClusterNode[], overlay: boolean, record: (what: string) => void): void {
  const removed = new Set<ClusterNode>();
  api.watch('Node', (events) => {
    for (const e of events) {
      if (e.type !== 'DELETED') continue;
      const gone = nodes.find((n) => n.name === e.object.metadata.name);
      if (gone === undefined || removed.has(gone)) continue;
      removed.add(gone);
      removeFlannelNode(nodes, removed, gone, overlay);
      record(`flanneld: ${gone.name} deleted, its subnet removed from every node`);
    }
  });
}

/**
 * lease.EventRemoved for `gone`'s subnet on every other node, in flanneld's order (vxlan_network.go
 * handleSubnetEvents): `ip neigh del GONE.podNet dev flannel.1`, `bridge fdb del GONE.flannel.mac dev
 * flannel.1 dst GONE.ip`, `ip route del GONE.podNet via GONE.podNet dev flannel.1 onlink`; host-gw
 * (route_network.go): `ip route del GONE.podNet via GONE.ip dev eth0`. The neighbours and FDB entries go
 * from each node's view of the shared sets; the routes are bound again to a shared set of the nodes
 * left (each table dropping flanneld's routes first), so they stay one set instead of becoming N²
 * copies. Each node then reads, lists and forwards as if the route had been deleted.
 */
function removeFlannelNode(nodes: readonly ClusterNode[], removed: ReadonlySet<ClusterNode>, gone: ClusterNode, overlay: boolean): void {
  const left = nodes.filter((m) => !removed.has(m));
  const routes = new SharedRoutes(overlay);
  let distinct = true;
  for (const m of left) distinct &&= routes.add(m.podNet, m.podPrefix, overlay ? m.podNet : m.ip);
  // flanneld's route to each node's subnet, by subnet (the nodes left and the gone one).
  const managed = new Map<Ipv4, ClusterNode>([...left, gone].map((m) => [m.podNet, m]));
  for (const n of left) {
    const dev = overlay ? n.flannel! : n.eth0;
    if (overlay) {
      n.ns.neigh.delete(dev, gone.podNet);
      if (n.flannel!.fdb.get(gone.flannel!.mac) === gone.ip) n.flannel!.fdb.delete(gone.flannel!.mac);
    }
    const table = n.ns.mainTable;
    const ours = (r: Route, m: ClusterNode | undefined): boolean => m !== undefined && m !== n && r.prefix === m.podPrefix && r.dev === dev && r.gateway === (overlay ? m.podNet : m.ip);
    if (!distinct) {
      table.remove((r) => r.dst === gone.podNet && ours(r, gone));
      continue;
    }
    table.remove((r) => ours(r, managed.get(r.dst)));
    if (!table.bindShared(routes, dev, routes.get(n.podNet, n.podPrefix))) programPerNode(n, left.filter((m) => m !== n), overlay, true, false, false);
  }
}

/** flanneld's rules for a node whose pod subnet is `nodeSubnet` within `clusterCIDR`, as restore input. */
export function renderFlannelRules(clusterCIDR: string, nodeSubnet: string, randomFully: boolean): string {
  const rf = randomFully ? ' --random-fully' : '';
  return [
    '*nat',
    ':FLANNEL-POSTRTG - [0:0]',
    '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
    '-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN',
    `-A FLANNEL-POSTRTG -s ${nodeSubnet} -d ${clusterCIDR} -m comment --comment "flanneld masq" -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${clusterCIDR} -d ${nodeSubnet} -m comment --comment "flanneld masq" -j RETURN`,
    `-A FLANNEL-POSTRTG ! -s ${clusterCIDR} -d ${nodeSubnet} -m comment --comment "flanneld masq" -j RETURN`,
    `-A FLANNEL-POSTRTG -s ${clusterCIDR} ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE${rf}`,
    `-A FLANNEL-POSTRTG ! -s ${clusterCIDR} -d ${clusterCIDR} -m comment --comment "flanneld masq" -j MASQUERADE${rf}`,
    'COMMIT',
    '*filter',
    ':FLANNEL-FWD - [0:0]',
    '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
    `-A FLANNEL-FWD -s ${clusterCIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
    `-A FLANNEL-FWD -d ${clusterCIDR} -m comment --comment "flanneld forward" -j ACCEPT`,
    'COMMIT',
  ].join('\n') + '\n';
}
