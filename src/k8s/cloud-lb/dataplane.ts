// k8s/cloud-lb/dataplane — the packet path of the load balancers that do not terminate TCP, as a
// program on the load-balancer machine's eth0 receive path (as an XDP load balancer such as Katran or
// a Maglev forwarder sits in front of the kernel): a frame for a Service's LB address is handled here
// and sent straight back out of eth0; anything else goes up the machine's own stack. Layer: k8s
// (imports core, wire, packet, link, net, k8s).
//
//   aws-nlb (nat)   client → LB IP:port  ⇒  client → node IP:NodePort (source kept), a flow entry so
//                   the connection keeps its target; the node's reply (routed to the LB: the nodes'
//                   route for the clients) ⇒ LB IP:port → client. Unknown or idle (> 350 s) TCP flow
//                   that is not a SYN ⇒ RST from the LB address, as the NLB does after its idle timeout.
//   gcp, azure (dsr) the unchanged packet (dst still the LB IP, TTL kept) to the chosen node's MAC;
//                   kube-proxy's "loadbalancer IP" rule catches it and the node answers the client
//                   directly (direct server return). A flow table keeps a connection on its node;
//                   Azure drops a non-SYN segment of an unknown/idle flow, GCP hashes it again.
//   metallb-bgp (ecmp) a router: TTL − 1, next hop = one of the nodes advertising the /32, chosen by a
//                   stateless 5-tuple hash, so a change of the next-hop set moves (and breaks) flows.
//
// The per-packet path allocates nothing but a flow entry per new connection.
// Not modelled: the LB's own ARP cache ageing toward nodes (the machine's neighbour table does it), ICMP
// to the LB address, UDP idle timeouts, NLB's connection termination on deregistration, cross-zone.
import type { NicDevice } from '../../link/nic.js';
import type { Namespace } from '../../net/namespace.js';
import { routeOutput } from '../../net/ip-output.js';
import { Packet } from '../../packet/packet.js';
import { ipv4Header } from '../../wire/ipv4.js';
import { IP_DF, IpProto, TcpFlag, type Ipv4 } from '../../wire/types.js';
import { flowHash, pickTarget, type LbListener, type LbService, type LbTarget } from './model.js';

/** How the load balancer forwards. */
export type DataplaneMode = 'nat' | 'dsr' | 'ecmp';

/** One connection through the load balancer. */
interface LbFlow {
  svc: LbService;
  vport: number;
  target: LbTarget;
  nodePort: number;
  lastSeen: number;
}

/** Counters of the load balancer's data path (inspect --lb). */
export interface DataplaneCounters {
  newFlows: number;
  forwarded: number;
  replies: number;
  resets: number;
  dropped: number;
}

/** The forwarding program of the load-balancer machine's eth0. */
export class LbDataplane {
  private readonly byVip = new Map<Ipv4, LbService>();
  /** Flows by (client address, client port, protocol). */
  private readonly flows = new Map<number, LbFlow>();
  readonly counters: DataplaneCounters = { newFlows: 0, forwarded: 0, replies: 0, resets: 0, dropped: 0 };

  constructor(
    readonly ns: Namespace,
    readonly dev: NicDevice,
    readonly mode: DataplaneMode,
  ) {
    const up = dev.rxHandler;
    dev.rxHandler = (d, pkt) => {
      if (!this.rx(pkt) && up !== null) up(d, pkt);
    };
  }

  /** Serves a Service's address: the machine answers ARP for it (the address lives only in this program's table). */
  add(svc: LbService): void {
    this.byVip.set(svc.vip, svc);
    this.ns.announceArp(svc.vip);
  }

  /** Flows currently tracked. */
  get flowCount(): number {
    return this.flows.size;
  }

  private rx(pkt: Packet): boolean {
    const ip = pkt.ip;
    if (ip === null || pkt.eth === null || pkt.eth.dst !== this.dev.mac) return false;
    const svc = this.byVip.get(ip.dst);
    if (svc !== undefined) return this.toVip(svc, pkt);
    return this.mode === 'nat' && this.reply(pkt);
  }

  private toVip(svc: LbService, pkt: Packet): boolean {
    const ip = pkt.ip!;
    const l4 = pkt.tcp ?? pkt.udp;
    const proto = pkt.tcp !== null ? IpProto.TCP : pkt.udp !== null ? IpProto.UDP : ip.protocol;
    const sport = l4 === null ? 0 : l4.srcPort;
    const dport = l4 === null ? 0 : l4.dstPort;
    if (this.mode === 'ecmp') {
      const t = pickTarget(svc, flowHash(proto, ip.src, sport, ip.dst, dport));
      if (t === null || ip.ttl <= 1) return this.drop();
      ip.ttl--;
      ip.checksum = null;
      return this.send(pkt, t.node.ip);
    }
    if (l4 === null) return this.drop();
    let listener: LbListener | null = null;
    for (const l of svc.listeners) if (l.port === dport && (l.protocol === 'TCP') === (pkt.tcp !== null)) listener = l;
    if (listener === null) return this.drop();
    const now = this.ns.sim.now;
    const key = (ip.src * 65536 + sport) * 2 + (pkt.tcp !== null ? 0 : 1);
    let f = this.flows.get(key);
    if (f !== undefined && (f.svc !== svc || f.vport !== dport || (svc.idleTimeoutNs > 0 && now - f.lastSeen > svc.idleTimeoutNs))) {
      this.flows.delete(key);
      f = undefined;
    }
    const tcp = pkt.tcp;
    if (f === undefined) {
      const syn = tcp === null || (tcp.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
      if (!syn && svc.provider === 'aws-nlb') return this.reset(pkt);
      if (!syn && svc.provider === 'azure') return this.drop();
      const t = pickTarget(svc, flowHash(proto, ip.src, sport, ip.dst, dport, svc.provider === 'aws-nlb' && tcp !== null ? tcp.seq : 0), listener.targets);
      if (t === null) return this.drop();
      f = { svc, vport: dport, target: t, nodePort: listener.nodePort, lastSeen: now };
      this.flows.set(key, f);
      this.counters.newFlows++;
    }
    f.lastSeen = now;
    if (tcp !== null && tcp.flags & TcpFlag.RST) this.flows.delete(key);
    if (this.mode === 'nat') {
      ip.dst = f.target.node.ip >>> 0;
      l4.dstPort = f.nodePort;
      l4.checksum = null;
      ip.checksum = null;
    }
    return this.send(pkt, f.target.node.ip);
  }

  /** NLB: a node's reply on a tracked flow gets the LB address back. */
  private reply(pkt: Packet): boolean {
    const ip = pkt.ip!;
    const l4 = pkt.tcp ?? pkt.udp;
    if (l4 === null) return false;
    const key = (ip.dst * 65536 + l4.dstPort) * 2 + (pkt.tcp !== null ? 0 : 1);
    const f = this.flows.get(key);
    if (f === undefined || f.target.node.ip !== ip.src || f.nodePort !== l4.srcPort) return false;
    f.lastSeen = this.ns.sim.now;
    if (pkt.tcp !== null && pkt.tcp.flags & TcpFlag.RST) this.flows.delete(key);
    ip.src = f.svc.vip >>> 0;
    l4.srcPort = f.vport;
    l4.checksum = null;
    ip.checksum = null;
    this.counters.replies++;
    const rt = routeOutput(this.ns, ip.dst);
    if (rt === null || rt.dev === null) return this.drop();
    this.ns.neigh.output(rt.dev, rt.gateway !== 0 ? rt.gateway : ip.dst, pkt);
    return true;
  }

  private send(pkt: Packet, nextHop: Ipv4): boolean {
    this.counters.forwarded++;
    this.ns.neigh.output(this.dev, nextHop, pkt);
    return true;
  }

  private drop(): boolean {
    this.counters.dropped++;
    return true;
  }

  /** The NLB's answer to a segment of a flow it does not know (or timed out): RST from the LB address (tcp_v4_send_reset's fields). */
  private reset(orig: Packet): boolean {
    const oi = orig.ip!;
    const ot = orig.tcp!;
    this.counters.resets++;
    if (ot.flags & TcpFlag.RST) return true;
    const p = new Packet();
    p.ip = ipv4Header(IpProto.TCP, oi.dst, oi.src, IP_DF, 0, 64, 0);
    let seq = 0;
    let ack = 0;
    let flags = TcpFlag.RST;
    if (ot.flags & TcpFlag.ACK) seq = ot.ack;
    else {
      ack = (ot.seq + orig.payloadLength + (ot.flags & TcpFlag.FIN ? 1 : 0)) >>> 0;
      flags |= TcpFlag.ACK;
    }
    p.tcp = { srcPort: ot.dstPort, dstPort: ot.srcPort, seq, ack, flags, window: 0, checksum: null, urgent: 0, options: [] };
    this.ns.ipLocalOut(p);
    return true;
  }
}
