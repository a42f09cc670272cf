// packet/describe — one-line text of a packet record, as a reader of `tcpdump -n` expects it: protocol,
// addresses and ports, TTL, and for a VXLAN packet its VNI and the inner packet in brackets. Layer:
// packet (imports wire). Used by `podwire trace`; the smoltcp habit of one pretty-printer per record.
import { formatIpv4 } from '../wire/ipv4-addr.js';
import type { Packet } from './packet.js';

/** "tcp 10.244.0.2:40000 > 10.244.1.2:80 ttl 63", VXLAN as "udp … vxlan vni 1 [inner tcp … ttl 63]". */
export function describePacket(pkt: Packet): string {
  const ip = pkt.ip;
  if (ip === null) return pkt.arp ? 'ARP' : '?';
  const l4 = pkt.tcp ?? pkt.udp;
  const proto = pkt.tcp ? 'tcp' : pkt.udp ? 'udp' : pkt.icmp ? 'icmp' : `proto ${ip.protocol}`;
  const s = l4 ? `${formatIpv4(ip.src)}:${l4.srcPort}` : formatIpv4(ip.src);
  const d = l4 ? `${formatIpv4(ip.dst)}:${l4.dstPort}` : formatIpv4(ip.dst);
  const vx = pkt.vxlan && pkt.inner ? ` vxlan vni ${pkt.vxlan.vni} [inner ${describePacket(pkt.inner)}]` : '';
  return `${proto} ${s} > ${d} ttl ${ip.ttl}${vx}`;
}
