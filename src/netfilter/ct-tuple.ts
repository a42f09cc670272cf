// netfilter/ct-tuple — conntrack tuples: a packet's tuple, the inverse tuple, ICMP query/error types.
// Layer: netfilter (imports packet, wire). Mirrors nf_conntrack_core.c (nf_ct_get_tuple,
// nf_ct_invert_tuple) and nf_conntrack_proto_icmp.c (invmap, icmp_error_message's types).
import type { Packet } from '../packet/packet.js';
import { IpProto as IpProto_I } from '../wire/types.js';
const [IpProto] = [IpProto_I] as const; // hot imports as module constants (no Cell load and check a use)

/** A conntrack tuple (struct nf_conntrack_tuple): for ICMP, sport is the echo id and dport the ICMP type<<8|code. */
export interface CtTuple {
  proto: number;
  src: number;
  sport: number;
  dst: number;
  dport: number;
}

/** Request type -> reply type for ICMP queries (nf_conntrack_proto_icmp.c invmap). */
export const ICMP_INVERT: Record<number, number> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 17: 18, 18: 17 };
export const ICMP_QUERY_REQUESTS = new Set([8, 13, 15, 17]);

/** The ICMP error types 3, 4, 5, 11, 12 as bits (a test per packet without a Set probe). */
const ICMP_ERROR_BITS = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 11) | (1 << 12);

/** True when the packet is an ICMP error message (its `inner` quotes the offending datagram). */
export function isIcmpError(pkt: Packet): boolean {
  const icmp = pkt.icmp;
  return icmp !== null && icmp.type < 32 && ((ICMP_ERROR_BITS >>> icmp.type) & 1) === 1;
}

/** The inverse of a tuple (nf_ct_invert_tuple). */
export function invertTuple(t: CtTuple): CtTuple {
  if (t.proto === IpProto.ICMP) return { proto: t.proto, src: t.dst, dst: t.src, sport: t.sport, dport: invertIcmpDport(t.dport) };
  return { proto: t.proto, src: t.dst, sport: t.dport, dst: t.src, dport: t.sport };
}

/** invertTuple into `out` (no allocation; `out` must not be `t`). */
export function invertTupleInto(t: CtTuple, out: CtTuple): void {
  out.proto = t.proto;
  out.src = t.dst;
  out.dst = t.src;
  if (t.proto === IpProto.ICMP) {
    out.sport = t.sport;
    out.dport = invertIcmpDport(t.dport);
    return;
  }
  out.sport = t.dport;
  out.dport = t.sport;
}

/** The tuple of a packet's headers (nf_ct_get_tuple), or null when it has no IPv4 header. */
export function packetTuple(pkt: Packet): CtTuple | null {
  const ip = pkt.ip;
  if (!ip) return null;
  const proto = ip.protocol;
  if (pkt.tcp) return { proto, src: ip.src, sport: pkt.tcp.srcPort, dst: ip.dst, dport: pkt.tcp.dstPort };
  if (pkt.udp) return { proto, src: ip.src, sport: pkt.udp.srcPort, dst: ip.dst, dport: pkt.udp.dstPort };
  if (pkt.icmp) return { proto, src: ip.src, sport: (pkt.icmp.rest >>> 16) & 0xffff, dst: ip.dst, dport: (pkt.icmp.type << 8) | pkt.icmp.code };
  return { proto, src: ip.src, sport: 0, dst: ip.dst, dport: 0 };
}

/**
 * packetTuple into `t` (no allocation): the lookup key of nf_conntrack_in, whose fields are copied only
 * when a new entry keeps them. False when the packet has no IPv4 header.
 */
export function packetTupleInto(pkt: Packet, t: CtTuple): boolean {
  const ip = pkt.ip;
  if (!ip) return false;
  t.proto = ip.protocol;
  t.src = ip.src;
  t.dst = ip.dst;
  if (pkt.tcp) {
    t.sport = pkt.tcp.srcPort;
    t.dport = pkt.tcp.dstPort;
  } else if (pkt.udp) {
    t.sport = pkt.udp.srcPort;
    t.dport = pkt.udp.dstPort;
  } else if (pkt.icmp) {
    t.sport = (pkt.icmp.rest >>> 16) & 0xffff;
    t.dport = (pkt.icmp.type << 8) | pkt.icmp.code;
  } else {
    t.sport = 0;
    t.dport = 0;
  }
  return true;
}

/** An ICMP tuple's dport (type << 8 | code) with a query type turned into its reply's (and back). */
export function invertIcmpDport(dport: number): number {
  const type = dport >> 8;
  return ((ICMP_INVERT[type] ?? type) << 8) | (dport & 0xff);
}

/**
 * nf_nat_ipv4_manip_pkt: set one half of the packet's addresses/ports from the target tuple
 * (src, sport, dst, dport); `manip` is NatManip's SRC (0) or DST (1).
 */
export function manipPacket(pkt: Packet, src: number, sport: number, dst: number, dport: number, manip: number, l4: boolean): void {
  const ip = pkt.ip;
  if (!ip) return;
  if (manip === 0) ip.src = src >>> 0;
  else ip.dst = dst >>> 0;
  ip.checksum = null;
  if (!l4) return;
  if (pkt.tcp) {
    if (manip === 0) pkt.tcp.srcPort = sport;
    else pkt.tcp.dstPort = dport;
    pkt.tcp.checksum = null;
  } else if (pkt.udp) {
    if (manip === 0) pkt.udp.srcPort = sport;
    else pkt.udp.dstPort = dport;
    pkt.udp.checksum = null;
  } else if (pkt.icmp && ICMP_INVERT[pkt.icmp.type] !== undefined) {
    pkt.icmp.rest = ((sport << 16) | (pkt.icmp.rest & 0xffff)) >>> 0;
    pkt.icmp.checksum = null;
  }
}
