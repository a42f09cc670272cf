// k8s/cni-bridge — the CNI bridge plugin with host-local IPAM (containernetworking/plugins
// plugins/main/bridge, plugins/ipam/host-local), as flannel's CNI config delegates to it: cni0 on the
// node (created with the first pod, the subnet's first address, br_netfilter on), a veth pair with
// eth0 in the pod and vethXXXXXXXX on cni0, the next free address of the node's subnet, and the pod's
// routes (default and the pod network via the gateway). Layer: k8s (imports core, link, net).
import { BridgeDevice } from '../link/bridge.js';
import { VethDevice } from '../link/veth.js';
import type { Namespace } from '../net/namespace.js';
import type { Ipv4 } from '../wire/types.js';
import type { ClusterNode } from './cluster.js';
import type { Inventory } from './inventory.js';
import { randomVethName } from './names.js';

/** The plugin's configuration (from the cluster settings). */
export interface CniBridgeConfig {
  mtu: number;
  vethDelayNs: number;
  /** The cluster's pod network (the route pods get via the gateway). */
  podNet: { addr: Ipv4; prefix: number };
}

/** host-local: the next free address after the last one handed out (.1 is the gateway); null when full. */
export function allocatePodIp(node: ClusterNode): Ipv4 | null {
  const size = 2 ** (32 - node.podPrefix);
  if (node.nextPod >= size - 1) return null;
  return (node.podNet + node.nextPod++) >>> 0;
}

/** CNI ADD: plugs the sandbox `ns` into cni0 with `ip`. Returns the host end of the veth. */
export function cniAdd(inv: Inventory, cfg: CniBridgeConfig, node: ClusterNode, ns: Namespace, ip: Ipv4): VethDevice {
  const cni0 = ensureCni0(inv, cfg, node);
  const vrng = inv.sim.rng.stream(`cni/${node.name}/${ns.name}`);
  const [podEnd, hostEnd] = VethDevice.pair(inv.sim, 'eth0', inv.mac(ns.name, 'eth0'), randomVethName(vrng), inv.mac(node.name, `veth/${ns.name}`), cfg.mtu);
  podEnd.delayNs = hostEnd.delayNs = cfg.vethDelayNs;
  inv.add(ns, podEnd);
  inv.add(node.ns, hostEnd);
  cni0.addPort(hostEnd);
  hostEnd.hairpinMode = true; // flannel's CNI config delegates to the bridge plugin with "hairpinMode": true
  ns.addAddress(podEnd, ip, node.podPrefix);
  const gw = (node.podNet + 1) >>> 0;
  ns.addRoute({ dst: 0, prefix: 0, gateway: gw, dev: podEnd });
  ns.addRoute({ dst: cfg.podNet.addr, prefix: cfg.podNet.prefix, gateway: gw, dev: podEnd });
  return hostEnd;
}

/**
 * CNI DEL of a sandbox cniAdd plugged in: the bridge plugin deletes the pod's veth (`ip link del eth0` in
 * the sandbox takes the host end with it), so the host end leaves cni0 (its FDB entries go) and the
 * node's devices. The pod end stays in the dead sandbox, down (nothing runs there any more). The
 * capture keeps the interface it already described. Not modelled: host-local releasing the IP for reuse.
 */
export function cniDel(node: ClusterNode, hostEnd: VethDevice): void {
  node.cni0?.removePort(hostEnd);
  node.ns.removeDevice(hostEnd);
  hostEnd.peer.up = false;
}

/**
 * cni0, created on first use. The kubelet calls this before it creates a pod's sandbox namespace (the
 * plugin would create it during ADD): podwire keeps that order because it fixes ifindexes and the
 * capture's interface order.
 */
export function ensureCni0(inv: Inventory, cfg: CniBridgeConfig, node: ClusterNode): BridgeDevice {
  if (node.cni0) return node.cni0;
  const br = new BridgeDevice(inv.sim, 'cni0', inv.mac(node.name, 'cni0'), cfg.mtu);
  inv.add(node.ns, br);
  // Kubernetes nodes load br_netfilter with bridge-nf-call-iptables=1 (it acts once the node has rules).
  node.ns.attachBrNetfilter(br);
  node.ns.addAddress(br, (node.podNet + 1) >>> 0, node.podPrefix);
  node.cni0 = br;
  return br;
}
