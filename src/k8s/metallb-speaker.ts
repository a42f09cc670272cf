// k8s/metallb-speaker — the load-balancer provider's layer-2 announcement, as MetalLB's speaker does
// it (internal/layer2: one node per service IP answers ARP for it and sends gratuitous ARP): the first
// node with a ready endpoint of the service, else the first node. The speaker watches Services and
// EndpointSlices through its own informer and announces each LoadBalancer IP once, when it first sees
// it. Layer: k8s (imports wire, k8s).
// Not modelled: memberlist leader election, moving the announcement when endpoints or nodes change
// (each IP's node is chosen once), withdrawing an IP, gratuitous ARP on failover, BGP mode.
import type { Ipv4 } from '../wire/types.js';
import type { ApiStore } from './api/store.js';
import type { ClusterNode } from './cluster.js';
import { ServiceInformer } from './service-informer.js';
import type { ServiceView } from './services.js';

/** Starts the speaker: announces the LoadBalancer IPs of the Services in the store, and of later ones. */
export function startMetalLbSpeaker(api: ApiStore, nodes: ClusterNode[]): void {
  const announced = new Set<Ipv4>();
  const informer: ServiceInformer = new ServiceInformer(api, () => announceLoadBalancers(nodes, informer.list(), announced));
  announceLoadBalancers(nodes, informer.list(), announced);
}

/** Announces every LoadBalancer IP not yet in `announced` from one node. */
export function announceLoadBalancers(nodes: ClusterNode[], services: readonly ServiceView[], announced: Set<Ipv4> = new Set()): void {
  for (const s of services) {
    for (const lb of s.loadBalancerIPs) {
      if (announced.has(lb)) continue;
      announced.add(lb);
      const withEp = nodes.find((n) => s.ports.some((p) => p.endpoints.some((e) => e.ready && e.nodeName === n.name)));
      (withEp ?? nodes[0])?.ns.arpAnnounce.add(lb);
    }
  }
}
