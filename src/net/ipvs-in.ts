// net/ipvs-in — IPVS in a namespace's LOCAL_IN (net/netfilter/ipvs/ip_vs_core.c ip_vs_in, with
// ip_vs_nat_xmit and ip_vs_update_conntrack). The virtual services and schedulers are
// netfilter/ipvs.ts. Layer: net (imports core, wire, packet, netfilter, and net/).
// Not modelled: the filter table's INPUT chain before IPVS, DR and tunnel forwarding, persistence
// templates beyond the scheduler's, ip_vs_out for replies (conntrack un-NATs them).
import { CtStatus, NatManip } from '../netfilter/conntrack.js';
import type { IpvsProto } from '../netfilter/ipvs.js';
import { NfHook } from '../netfilter/netfilter.js';
import type { Packet } from '../packet/packet.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import { IcmpType } from '../wire/types.js';
import { dropPacket } from './drop.js';
import { icmpSend, verdictDrop } from './icmp.js';
import { ipOutput, routeOutput } from './ip-output.js';
import type { Namespace } from './namespace.js';

/**
 * ip_vs_in (LOCAL_IN): a packet for an IPVS virtual service is scheduled to a real server, its
 * conntrack entry gets the DNAT binding (net.ipv4.vs.conntrack=1, ip_vs_update_conntrack), the TTL
 * is decremented, and it leaves through LOCAL_OUT and POSTROUTING (ip_vs_nat_xmit). Returns true when
 * IPVS took the packet (sent or dropped), false when it goes on to INPUT.
 */
export function ipvsIn(ns: Namespace, pkt: Packet): boolean {
  const ip = pkt.ip!;
  const l4 = pkt.tcp ?? pkt.udp;
  if (l4 === null) return false;
  const proto: IpvsProto = pkt.tcp !== null ? 'tcp' : 'udp';
  const ipvs = ns.ipvs!;
  if (!ipvs.has(proto, ip.dst, l4.dstPort)) return false;
  const nf = ns.nf;
  if (nf === null) return false;
  const ep = ipvs.schedule(proto, { src: ip.src, sport: l4.srcPort }, ip.dst, l4.dstPort, ns.sim.now);
  if (ep === null) {
    dropPacket(ns, pkt, 'ipvs-no-destination');
    return true;
  }
  if (ns.hops.connected) ns.hops.fire(ns, pkt, { kind: 'ipvs', server: `${formatIpv4(ep.ip)}:${ep.port}` });
  const ct = nf.conntrack.ctOf(pkt);
  if (ct !== null && pkt.ctDir === 0) {
    const r = { minIp: ep.ip, maxIp: ep.ip, ports: { min: ep.port, max: ep.port }, random: false, randomFully: false, persistent: false };
    if (!(ct.status & CtStatus.DST_NAT)) nf.conntrack.setupNat(ct, NatManip.DST, r, ns.sim.now);
    nf.conntrack.natPacket(pkt, NatManip.DST);
  } else {
    ip.dst = ep.ip;
    l4.dstPort = ep.port;
    l4.checksum = null;
  }
  ip.checksum = null;
  const rt = routeOutput(ns, ip.dst);
  if (rt === null) {
    dropPacket(ns, pkt, 'no-route');
    return true;
  }
  if (rt.type === 'local') return false;
  if (ip.ttl <= 1) {
    icmpSend(ns, pkt, IcmpType.TIME_EXCEEDED, 0, 0);
    dropPacket(ns, pkt, 'ttl-expired');
    return true;
  }
  ip.ttl--;
  const v = nf.hook(NfHook.OUTPUT, pkt, null, rt.dev!.name);
  if (v.kind !== 'accept') {
    verdictDrop(ns, pkt, v);
    return true;
  }
  ipOutput(ns, pkt, rt);
  return true;
}
