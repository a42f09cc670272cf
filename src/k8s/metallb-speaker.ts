// k8s/metallb-speaker — MetalLB's layer-2 mode (internal/layer2): for each LoadBalancer IP one node's
// speaker answers ARP. The first announcer is the first node with a ready endpoint of the Service, else
// the first node. The speakers watch Services, EndpointSlices and Nodes through their own informer;
// when the announcing node goes NotReady or loses its ready endpoints (while another Ready node has
// one), the IP moves: the first Ready node with a ready endpoint (else the first Ready node) answers
// from then on and sends gratuitous ARP — a request and a reply, broadcast, as MetalLB's
// arpResponder.Gratuitous does — so the clients' and the switch's caches follow at once; the move is
// a timeline entry. Layer: k8s (imports core, wire, packet, link, k8s).
// Not modelled: memberlist's failure detection (the Node's Ready condition stands for it), the
// leader hash over node+IP, withdrawing an IP, the --gratuitous-arp-interval repeats, NDP.
import { Packet } from '../packet/packet.js';
import { arpReply, arpRequest } from '../wire/arp.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import { BROADCAST_MAC, EtherType, type Ipv4 } from '../wire/types.js';
import type { ApiStore } from './api/store.js';
import type { ClusterNode } from './cluster.js';
import { ServiceInformer } from './service-informer.js';
import type { ServiceView } from './services.js';

const hasReadyOn = (s: ServiceView, node: string): boolean => s.ports.some((p) => p.endpoints.some((e) => e.ready && e.nodeName === node));

/** Starts the speakers: announces the LoadBalancer IPs of the Services in the store, and of later ones, and moves them on failure. */
export function startMetalLbSpeaker(api: ApiStore, nodes: ClusterNode[], record: (what: string) => void = () => {}): void {
  const announced = new Map<Ipv4, ClusterNode>();
  const ready = new Map(nodes.map((n) => [n.name, true]));
  const react = (): void => {
    announceLoadBalancers(nodes, informer.list(), announced);
    failover(nodes, informer.list(), announced, (n) => ready.get(n.name) ?? false, (ip, from, to) => {
      sendGratuitousArp(to, ip);
      record(`metallb: ${formatIpv4(ip)} moves from ${from.name} to ${to.name} (gratuitous ARP)`);
    });
  };
  const informer: ServiceInformer = new ServiceInformer(api, react);
  api.watch('Node', (events) => {
    for (const e of events) ready.set(e.object.metadata.name, e.type !== 'DELETED' && e.object.status.ready); // a deleted Node is no candidate
    react();
  });
  announceLoadBalancers(nodes, informer.list(), announced);
}

/** Announces every LoadBalancer IP not yet announced from one node. */
export function announceLoadBalancers(nodes: ClusterNode[], services: readonly ServiceView[], announced: Map<Ipv4, ClusterNode> = new Map()): void {
  for (const s of services) {
    for (const lb of s.loadBalancerIPs) {
      if (announced.has(lb)) continue;
      const node = nodes.find((n) => hasReadyOn(s, n.name)) ?? nodes[0];
      if (!node) continue;
      announced.set(lb, node);
      node.ns.announceArp(lb);
    }
  }
}

/** Moves each IP whose node is NotReady, or has lost its ready endpoints while another Ready node has one. */
export function failover(nodes: ClusterNode[], services: readonly ServiceView[], announced: Map<Ipv4, ClusterNode>, isReady: (n: ClusterNode) => boolean, moved: (ip: Ipv4, from: ClusterNode, to: ClusterNode) => void): void {
  for (const s of services) {
    for (const lb of s.loadBalancerIPs) {
      const cur = announced.get(lb);
      if (!cur) continue;
      const withEp = nodes.find((n) => isReady(n) && hasReadyOn(s, n.name));
      if (isReady(cur) && (hasReadyOn(s, cur.name) || withEp === undefined)) continue;
      const next = withEp ?? nodes.find(isReady);
      if (!next || next === cur) continue;
      cur.ns.arpAnnounce.delete(lb);
      next.ns.announceArp(lb);
      announced.set(lb, next);
      moved(lb, cur, next);
    }
  }
}

/** Gratuitous ARP for `ip` from the node's eth0: a broadcast request and a broadcast reply (sender = target = ip). */
export function sendGratuitousArp(node: ClusterNode, ip: Ipv4): void {
  const mac = node.eth0.mac;
  for (const arp of [arpRequest(mac, ip, ip), arpReply(mac, ip, BROADCAST_MAC, ip)]) {
    const p = new Packet();
    p.eth = { dst: BROADCAST_MAC, src: mac, etherType: EtherType.ARP };
    p.arp = arp;
    node.eth0.xmit(p);
  }
}
