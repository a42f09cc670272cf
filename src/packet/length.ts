// packet/length — wire lengths of a packet computed from its records, without serializing.
// Layer: packet (imports core, wire). Hot path: the net layer fills ip.totalLength / udp.length from
// these, channels use frameLength for serialization delay; no allocation, no closures.
// Mirrors what Linux puts on the wire (RFC 791 total length, RFC 768 length, RFC 7348 encapsulation).
//
// ICMP errors quote their `inner` datagram as Linux icmp_send() (net/ipv4/icmp.c) does:
//   room = min(dst_mtu, 576) - sizeof(iphdr) - optlen - sizeof(icmphdr); data_len = min(len, room)
// RFC 1812 §4.3.2.3: "the ICMP datagram SHOULD contain as much of the original datagram as possible
// without the length of the ICMP datagram exceeding 576 bytes." A path MTU below 576 is not modelled.
import { ARP_LENGTH as ARP_LENGTHImported } from '../wire/arp.js';
import { ETHERNET_HEADER_LENGTH as ETHERNET_HEADER_LENGTHImported } from '../wire/ethernet.js';
import { ICMP_HEADER_LENGTH as ICMP_HEADER_LENGTHImported } from '../wire/icmp.js';
import { IPV4_MIN_HEADER_LENGTH as IPV4_MIN_HEADER_LENGTHImported, ipv4HeaderLength as ipv4HeaderLengthImported } from '../wire/ipv4.js';
import { tcpHeaderLength as tcpHeaderLengthImported } from '../wire/tcp.js';
import { UDP_HEADER_LENGTH as UDP_HEADER_LENGTHImported } from '../wire/udp.js';
import { VXLAN_HEADER_LENGTH as VXLAN_HEADER_LENGTHImported } from '../wire/vxlan.js';
import type { Packet } from './packet.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const ARP_LENGTH = ARP_LENGTHImported;
const ETHERNET_HEADER_LENGTH = ETHERNET_HEADER_LENGTHImported;
const ICMP_HEADER_LENGTH = ICMP_HEADER_LENGTHImported;
const IPV4_MIN_HEADER_LENGTH = IPV4_MIN_HEADER_LENGTHImported;
const ipv4HeaderLength = ipv4HeaderLengthImported;
const tcpHeaderLength = tcpHeaderLengthImported;
const UDP_HEADER_LENGTH = UDP_HEADER_LENGTHImported;
const VXLAN_HEADER_LENGTH = VXLAN_HEADER_LENGTHImported;
const skbLengthHere = skbLength;
const frameLengthHere = frameLength;
const ipTotalLengthHere = ipTotalLength;
const l4HeaderLengthHere = l4HeaderLength;
const l4DataLengthHere = l4DataLength;
const icmpQuoteLengthHere = icmpQuoteLength;

/** Largest ICMP error datagram (IP header + ICMP header + quote), per RFC 1812 and Linux icmp_send. */
export const ICMP_ERROR_MAX_LENGTH = 576;
const ICMP_ERROR_MAX_LENGTHHere = ICMP_ERROR_MAX_LENGTH; // own export, as a module constant

/** Length of the L4 header record (ICMP 8, UDP 8, TCP 20 + options), 0 when there is none. */
export function l4HeaderLength(pkt: Packet): number {
  if (pkt.tcp !== null) return tcpHeaderLength(pkt.tcp);
  if (pkt.udp !== null) return UDP_HEADER_LENGTH;
  if (pkt.icmp !== null) return ICMP_HEADER_LENGTH;
  return 0;
}

/** Bytes carried after the L4 header: payload, VXLAN header + inner frame, or an ICMP error's quote. */
export function l4DataLength(pkt: Packet): number {
  if (pkt.vxlan !== null) return VXLAN_HEADER_LENGTH + (pkt.inner !== null ? frameLengthHere(pkt.inner) : pkt.payloadLength);
  if (pkt.icmp !== null && pkt.inner !== null) return icmpQuoteLengthHere(pkt);
  return pkt.payloadLength;
}

/** Bytes of `pkt.inner` an ICMP error quotes: the whole original, capped so the error fits in 576 bytes. */
export function icmpQuoteLength(pkt: Packet): number {
  const inner = pkt.inner;
  if (inner === null) return 0;
  const full = ipTotalLengthHere(inner);
  const ipHl = pkt.ip !== null ? ipv4HeaderLength(pkt.ip) : 20;
  const room = ICMP_ERROR_MAX_LENGTHHere - ipHl - ICMP_HEADER_LENGTH;
  return full < room ? full : room;
}

/** IPv4 total length from the records: IP header + L4 header + data (VXLAN inner frame, ICMP quote or payload). */
export function ipTotalLength(pkt: Packet): number {
  if (pkt.ip === null) return l4HeaderLengthHere(pkt) + l4DataLengthHere(pkt);
  return ipv4HeaderLength(pkt.ip) + l4HeaderLengthHere(pkt) + l4DataLengthHere(pkt);
}

/** UDP length field value: 8 + data (for the net/transport layer to fill udp.length). */
export function udpLength(pkt: Packet): number {
  return UDP_HEADER_LENGTH + l4DataLengthHere(pkt);
}

/** Frame length on the wire without FCS or padding: 14 + IP total length, or 42 for ARP. */
export function frameLength(pkt: Packet): number {
  const l2 = pkt.eth !== null ? ETHERNET_HEADER_LENGTH : 0;
  if (pkt.arp !== null) return l2 + ARP_LENGTH;
  if (pkt.ip !== null) return l2 + ipTotalLengthHere(pkt);
  return l2 + pkt.payloadLength;
}

/**
 * skb->len of a frame: what a device counts (rx/tx bytes), checks against the MTU and times on a wire.
 * Hot path (every device hop): for IPv4 it is 14 + `ip.totalLength` once the net layer filled the field
 * (ip_local_out, ip_fragment, ip_defrag, TCPMSS — the writers, which keep it equal to the records'
 * length), so no option walk or VXLAN recursion per hop; a record never sent through ip_local_out
 * (totalLength 0) falls back to frameLength. Serialization and captures use frameLength: they write
 * the records as they are, a length field that disagrees with them included.
 */
export function skbLength(pkt: Packet): number {
  const ip = pkt.ip;
  if (ip !== null && ip.totalLength !== 0) return (pkt.eth !== null ? ETHERNET_HEADER_LENGTH : 0) + ip.totalLength;
  return frameLengthHere(pkt);
}

/**
 * ip.totalLength as ip_local_out fills it: ipTotalLength, except that a VXLAN datagram's inner frame
 * counts as its skbLength (its own totalLength, filled as it left its sender and kept equal to its
 * records by the writers, see skbLength) instead of being walked again, TCP options and all, for every
 * encapsulated frame.
 */
export function localOutLength(pkt: Packet): number {
  const ip = pkt.ip;
  const inner = pkt.inner;
  const tcp = pkt.tcp;
  if (ip !== null && tcp !== null && pkt.vxlan === null && pkt.icmp === null) {
    // A TCP segment (every one a socket sends): ipTotalLength's sum written out, no call per term but
    // tcpHeaderLength's (kept small: ipLocalOut, where this is inlined, then has budget left to inline its route lookup).
    return (ip.options === null ? IPV4_MIN_HEADER_LENGTH : IPV4_MIN_HEADER_LENGTH + ip.options.length) + tcpHeaderLength(tcp) + pkt.payloadLength;
  }
  if (ip !== null && pkt.vxlan !== null && inner !== null && pkt.udp !== null && tcp === null) {
    return ipv4HeaderLength(ip) + UDP_HEADER_LENGTH + VXLAN_HEADER_LENGTH + skbLengthHere(inner);
  }
  return ipTotalLengthHere(pkt);
}
