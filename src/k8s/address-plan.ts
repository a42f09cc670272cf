// k8s/address-plan — the cluster's address plan checked before anything runs, as kubeadm and the
// controller manager refuse it: the pod CIDR must overlap neither the service CIDR (kube-apiserver
// --service-cluster-ip-range vs --cluster-cidr) nor the node network (routes to pods would capture the
// nodes). The node network may lie inside the service CIDR, as the seeds' 10.100.11.0/24 lies in the
// default 10.96.0.0/12: ClusterIPs are virtual, so clusters run that way in iptables and IPVS mode —
// but not in nftables mode, whose cluster-ips-check chain drops new connections to any address of the
// service range that is not a ClusterIP (the node addresses included): a warning says so. The pod CIDR must hold a node subnet
// for every node (the node IPAM controller's "no remaining CIDRs" — here refused up front instead of
// leaving nodes without a podCIDR), and node podCIDRs must lie inside the pod CIDR and not overlap.
// Layer: k8s (imports core, wire).
import type { UserError } from '../core/user-error.js';
import { formatCidr, maskFromPrefix, parseCidr } from '../wire/ipv4-addr.js';
import type { Ipv4 } from '../wire/types.js';

/** A node's pod subnet and where it was declared (null for one the node IPAM controller assigned). */
export interface NodeSubnet {
  name: string;
  net: Ipv4;
  prefix: number;
  declaredAt: (string | number)[] | null;
}

type At = (path: (string | number)[], message: string) => UserError;

/** True when a/ap and b/bp share an address. */
export function cidrsOverlap(a: Ipv4, ap: number, b: Ipv4, bp: number): boolean {
  const p = Math.min(ap, bp);
  const m = maskFromPrefix(p);
  return ((a & m) >>> 0) === ((b & m) >>> 0);
}

const CLUSTER = ['spec', 'cluster'];

/** Pushes one error per contradiction in the cluster's ranges (before any node is built). */
export function checkClusterRanges(cfg: { podCIDR: string; serviceCIDR: string; nodeSubnetPrefix: number; network: { cidr: string }; kubeProxy?: { mode: string } }, nodeCount: number, errors: UserError[], at: At, warnings: UserError[] = []): void {
  const pod = parseCidr(cfg.podCIDR);
  const svc = parseCidr(cfg.serviceCIDR);
  const net = parseCidr(cfg.network.cidr);
  if (!pod || !svc || !net) return; // the schema reported the text
  const text = (c: { addr: Ipv4; prefix: number }) => formatCidr(c.addr, c.prefix);
  if (cidrsOverlap(pod.addr, pod.prefix, svc.addr, svc.prefix)) errors.push(at([...CLUSTER, 'serviceCIDR'], `${text(svc)} overlaps the pod CIDR ${text(pod)} (spec.cluster.podCIDR): Services and pods need separate ranges`));
  if (cidrsOverlap(net.addr, net.prefix, pod.addr, pod.prefix)) errors.push(at([...CLUSTER, 'network', 'cidr'], `the node network ${text(net)} overlaps the pod CIDR ${text(pod)}`));
  if (cfg.kubeProxy?.mode === 'nftables' && cidrsOverlap(net.addr, net.prefix, svc.addr, svc.prefix)) {
    warnings.push(at([...CLUSTER, 'serviceCIDR'], `${text(svc)} overlaps the node network ${text(net)}: kube-proxy's nftables mode drops new connections to unallocated service addresses ("Drop traffic to unallocated ClusterIPs"), node addresses included`));
  }
  if (cfg.nodeSubnetPrefix >= pod.prefix) {
    const room = 2 ** (cfg.nodeSubnetPrefix - pod.prefix);
    if (nodeCount > room) errors.push(at([...CLUSTER, 'nodeSubnetPrefix'], `the pod CIDR ${text(pod)} holds ${room} node subnet${room === 1 ? '' : 's'} of /${cfg.nodeSubnetPrefix}; ${nodeCount} nodes need ${nodeCount} (a shorter nodeSubnetPrefix or a larger podCIDR)`));
  }
}

/** Pushes an error for a node podCIDR outside the pod CIDR or overlapping another node's. */
export function checkNodeSubnets(podCIDR: string, subnets: NodeSubnet[], errors: UserError[], at: At): void {
  const pod = parseCidr(podCIDR);
  if (!pod) return;
  subnets.forEach((s, i) => {
    const where = s.declaredAt ? [...s.declaredAt, 'podCIDR'] : [...CLUSTER, 'podCIDR'];
    if (s.declaredAt && (s.prefix < pod.prefix || !cidrsOverlap(s.net, s.prefix, pod.addr, pod.prefix))) {
      errors.push(at(where, `${formatCidr(s.net, s.prefix)} is outside the pod CIDR ${formatCidr(pod.addr, pod.prefix)}`));
      return;
    }
    const other = subnets.slice(0, i).find((o) => cidrsOverlap(o.net, o.prefix, s.net, s.prefix));
    if (other) errors.push(at(where, `node ${s.name}'s pod subnet ${formatCidr(s.net, s.prefix)} overlaps node ${other.name}'s ${formatCidr(other.net, other.prefix)}`));
  });
}
