// k8s/cloud-lb/machine — the load balancer's machine on the cluster network: one namespace `lb` (or
// `bgp-router` for MetalLB BGP) with eth0 on the network's switch, holding every Service's load-balancer
// address. One machine for all Services, as a cloud's load-balancer fleet looks from the VPC (one
// hop, one MAC per address family): each Service still gets its own address, and a capture shows the
// whole fleet on one interface. Layer: k8s (imports core, wire, link, net, k8s).
import type { UserError } from '../../core/user-error.js';
import type { NicDevice } from '../../link/nic.js';
import type { Namespace } from '../../net/namespace.js';
import type { Ipv4 } from '../../wire/types.js';
import type { ClusterConfig } from '../cluster.js';
import type { Underlay } from '../underlay.js';
import { hasLbMachine, lbMachineName } from './config.js';

/** The load balancer's machine. */
export interface LbMachine {
  name: string;
  ns: Namespace;
  eth0: NicDevice;
  ip: Ipv4;
}

type At = (path: (string | number)[], message: string) => UserError;

/** Adds the machine when the scenario's provider has one (address: spec.cluster.loadBalancer.address, else the network's .254). */
export function addLbMachine(underlay: Underlay, cfg: ClusterConfig, taken: (name: string) => boolean, errors: UserError[], at: At): LbMachine | null {
  const lb = cfg.loadBalancer;
  const path = ['spec', 'cluster', 'loadBalancer'];
  if (!lb) return null;
  if ((cfg.loadBalancerPool ?? []).length > 0) errors.push(at([...path], 'give the pool in loadBalancer.pool (loadBalancerPool is the same for metallb-l2)'));
  if (!hasLbMachine(lb.provider)) return null;
  const name = lbMachineName(lb.provider);
  if (taken(name)) {
    errors.push(at([...path, 'provider'], `the load balancer's machine "${name}" clashes with a node or host of that name`));
    return null;
  }
  const size = 2 ** (32 - underlay.net.prefix);
  const ip = underlay.takeIp(lb.address, (underlay.netBase + size - 2) >>> 0, [...path, 'address']);
  const { ns, eth0 } = underlay.addMachine(name, ip);
  return { name, ns, eth0, ip };
}
