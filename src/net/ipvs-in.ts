// net/ipvs-in — IPVS in a namespace's LOCAL_IN (net/netfilter/ipvs/ip_vs_core.c ip_vs_in and
// ip_vs_out, ip_vs_xmit.c ip_vs_nat_xmit, ip_vs_nfct.c ip_vs_update_conntrack). The virtual services
// and schedulers are netfilter/ipvs.ts. Layer: net (imports core, wire, packet, netfilter, and net/).
//
// As the kernel does it, IPVS keeps its own connections and NATs every packet itself: conntrack only
// gets its REPLY tuple altered on a connection's first packet (nf_conntrack_alter_reply), never a
// DNAT binding. So every client packet reaches LOCAL_IN still addressed to the virtual IP (a capture
// on the node's bridge shows it before DNAT, then routed out after it with its TTL decremented), and
// replies are un-NATed by ipvsOut where ip_vs_out_hook sits (FORWARD, LOCAL_IN).
// ip_vs_in also sits at LOCAL_OUT (ip_vs_local_request4, after nat OUTPUT): a node's (or host-network
// pod's) own connection to a Service address on kube-ipvs0 takes the local route's source, the
// address itself, is marked 0x4000 by KUBE-SERVICES (its source is outside the cluster CIDR), DNATed
// here with its TTL decremented, and MASQUERADEd at POSTROUTING to the address of the device toward
// the real server; it never loops through lo.
// Not modelled: the filter table's INPUT chain before IPVS, DR and tunnel forwarding, persistence
// templates beyond the scheduler's, ip_vs_out at LOCAL_OUT (ip_vs_local_reply4: a host-network real
// server's replies), ICMP errors from a client about a connection (ip_vs_in_icmp).
import { CtStatus } from '../netfilter/conntrack.js';
import type { IpvsProto } from '../netfilter/ipvs.js';
import type { Packet } from '../packet/packet.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import { IcmpType, IcmpUnreachCode, IpProto, TcpFlag } from '../wire/types.js';
import { dropPacket } from './drop.js';
import { icmpSend, verdictDrop } from './icmp.js';
import { ipOutput, routeOutput } from './ip-output.js';
import type { Namespace } from './namespace.js';

/**
 * ip_vs_in (LOCAL_IN): a packet for an IPVS virtual service is scheduled to a real server (an
 * existing connection keeps its server), its destination rewritten, the TTL decremented, and it
 * leaves through LOCAL_OUT and POSTROUTING (ip_vs_nat_xmit). On a connection's first packet the
 * conntrack entry's REPLY tuple becomes server → client (net.ipv4.vs.conntrack=1,
 * ip_vs_update_conntrack), so replies are tracked. Returns true when IPVS took the packet (sent or
 * dropped), false when it goes on to INPUT.
 */
export function ipvsIn(ns: Namespace, pkt: Packet): boolean {
  return ipvsXmit(ns, pkt, false);
}

/**
 * ip_vs_local_request4 (LOCAL_OUT, after the OUTPUT chains): a locally generated packet for a virtual
 * service is scheduled and sent on to its real server as at LOCAL_IN. True when IPVS took it (sent or
 * dropped); false when it goes on (not a virtual service, or a real server on this host: then its
 * destination changed and the caller routes it again).
 */
export function ipvsLocalOut(ns: Namespace, pkt: Packet): boolean {
  return ipvsXmit(ns, pkt, true);
}

/** ip_vs_in → ip_vs_nat_xmit for either hook; `localOut`: the packet was generated here. */
function ipvsXmit(ns: Namespace, pkt: Packet, localOut: boolean): boolean {
  const ip = pkt.ip!;
  const l4 = pkt.tcp ?? pkt.udp;
  if (l4 === null) return false;
  const proto: IpvsProto = pkt.tcp !== null ? 'tcp' : 'udp';
  const ipvs = ns.ipvs!;
  if (!ipvs.has(proto, ip.dst, l4.dstPort)) return false;
  const nf = ns.nf;
  if (nf === null) return false;
  const ep = ipvs.schedule(proto, { src: ip.src, sport: l4.srcPort }, ip.dst, l4.dstPort, ns.sim.now, pkt.tcp !== null ? pkt.tcp.flags : 0);
  if (ep === null) {
    // tcp_conn_schedule schedules a SYN only: another segment with no connection goes on to INPUT.
    if (pkt.tcp !== null && (pkt.tcp.flags & TcpFlag.SYN) === 0) return false;
    // ip_vs_leave: a virtual service with no server to take the connection tells the client (TCP or UDP)
    // with ICMP port unreachable, so it fails at once (ECONNREFUSED) rather than timing out.
    icmpSend(ns, pkt, IcmpType.DEST_UNREACH, IcmpUnreachCode.PORT, 0);
    dropPacket(ns, pkt, 'ipvs-no-destination');
    return true;
  }
  if (ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'ipvs', server: `${formatIpv4(ep.ip)}:${ep.port}` });
  const rt = routeOutput(ns, ep.ip);
  if (rt === null) {
    dropPacket(ns, pkt, 'no-route');
    return true;
  }
  // crosses_local_route_boundary: a loopback source never leaves the host (ip_vs_nat_xmit's tx_error).
  if (rt.type !== 'local' && ip.src >>> 24 === 127) {
    dropPacket(ns, pkt, 'ipvs-loopback-source');
    return true;
  }
  const ct = nf.conntrack.ctOf(pkt);
  // ip_vs_update_conntrack alters only an entry not yet confirmed (the connection's first packet).
  if (ct !== null && pkt.ctDir === 0 && (ct.status & CtStatus.CONFIRMED) === 0) {
    // ip_vs_update_conntrack → nf_conntrack_alter_reply: the reply comes from the real server.
    const r = ct.reply;
    ct.reply = { ...r, src: ep.ip, sport: ep.port };
  }
  ip.dst = ep.ip >>> 0;
  l4.dstPort = ep.port;
  l4.checksum = null;
  ip.checksum = null;
  if (rt.type === 'local') return false;
  if (ip.ttl <= 1) {
    icmpSend(ns, pkt, IcmpType.TIME_EXCEEDED, 0, 0);
    dropPacket(ns, pkt, 'ttl-expired');
    return true;
  }
  ip.ttl--;
  // ip_vs_nat_send_or_cont: LOCAL_OUT again, then dst_output. A generated packet's OUTPUT chains ran
  // once, before IPVS, for the virtual address (the kernel runs filter OUTPUT for the real server's).
  if (!localOut) {
    const v = nf.hookOut(pkt, rt.dev!.ifindex);
    if (v.kind !== 'accept') {
      verdictDrop(ns, pkt, v);
      return true;
    }
  }
  ipOutput(ns, pkt, rt);
  return true;
}

/**
 * ip_vs_out (FORWARD and LOCAL_IN): a reply of an IPVS connection, from the real server, gets the
 * virtual service's address and port back as its source; an ICMP error about such a reply gets its
 * quoted packet rewritten the same way (ip_vs_out_icmp). Other packets are left alone.
 */
export function ipvsOut(ns: Namespace, pkt: Packet): void {
  if (pkt.ctDir !== 1 || ns.nf === null) return;
  const ct = ns.nf.conntrack.ctOf(pkt);
  if (ct === null) return;
  // The entry's tuple fields read in place (ct.orig and ct.reply build a tuple per call).
  const proto = ct.proto;
  const vip = ct.oDst >>> 0;
  const vport = ct.oDport;
  const rip = ct.rSrc >>> 0;
  const rport = ct.rSport;
  const ip = pkt.ip!;
  if (vip === rip || !ns.isLocal(vip)) return;
  if (proto !== IpProto.TCP && proto !== IpProto.UDP) return;
  if (!ns.ipvs!.has(proto === IpProto.TCP ? 'tcp' : 'udp', vip, vport)) return;
  const inner = pkt.icmp !== null ? pkt.inner : null;
  if (inner !== null && inner.ip !== null) {
    const il4 = inner.tcp ?? inner.udp;
    if (inner.ip.dst === rip && il4 !== null && il4.dstPort === rport) {
      inner.ip.dst = vip >>> 0;
      il4.dstPort = vport;
      il4.checksum = null;
      inner.ip.checksum = null;
    }
    if (ip.src === rip) ip.src = vip >>> 0;
  } else {
    const l4 = pkt.tcp ?? pkt.udp;
    if (l4 === null || ip.src !== rip || l4.srcPort !== rport) return;
    if (pkt.tcp !== null) ns.ipvs!.reply('tcp', { src: ct.oSrc >>> 0, sport: ct.oSport }, vip, vport, ns.sim.now, pkt.tcp.flags);
    ip.src = vip >>> 0;
    l4.srcPort = vport;
    l4.checksum = null;
  }
  ip.checksum = null;
  if (pkt.icmp !== null) pkt.icmp.checksum = null;
}
