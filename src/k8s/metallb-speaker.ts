// k8s/metallb-speaker — the load-balancer provider's layer-2 announcement, as MetalLB's speaker does
// it (internal/layer2: one node per service IP answers ARP for it and sends gratuitous ARP): the first
// node with a ready endpoint of the service, else the first node. Layer: k8s (imports k8s).
// Not modelled: memberlist leader election, moving the announcement when endpoints or nodes change
// (the choice is made once, at start), gratuitous ARP on failover, BGP mode.
import type { ClusterNode } from './cluster.js';
import type { ServiceView } from './services.js';

/** Announces every LoadBalancer IP from one node. */
export function announceLoadBalancers(nodes: ClusterNode[], services: ServiceView[]): void {
  for (const s of services) {
    for (const lb of s.loadBalancerIPs) {
      const withEp = nodes.find((n) => s.ports.some((p) => p.endpoints.some((e) => e.ready && e.nodeName === n.name)));
      (withEp ?? nodes[0])?.ns.arpAnnounce.add(lb);
    }
  }
}
