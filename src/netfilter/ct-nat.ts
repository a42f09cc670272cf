// netfilter/ct-nat — nf_nat_packet: a packet of a NATed connection rewritten so its tuple becomes the inverse of
// the other direction's tuple (conntrack.ts's Conntrack.natPacket; kept here so that file keeps room for its
// per-packet path). Layer: netfilter (imports wire, packet and this folder).
import { CtStatus, type ConnEntry } from './ct-entry.js';
import { invertIcmpDport, isIcmpError, manipPacket } from './ct-tuple.js';
import type { Packet } from '../packet/packet.js';
import { IpProto } from '../wire/types.js';

const NAT_MASK = CtStatus.SRC_NAT | CtStatus.DST_NAT;

/**
 * nf_nat_packet: rewrites the packet for the hook's manip type (0 SRC, 1 DST: conntrack.ts NatManip) so its tuple
 * becomes the inverse of the other direction's tuple; for ICMP errors also rewrites the quoted header
 * (nf_nat_icmp_reply_translation; only the outer IP address is changed, not the outer ICMP id field).
 */
export function natPacketOf(ct: ConnEntry, pkt: Packet, manip: 0 | 1): void {
  const dir = pkt.ctDir === 1 ? 1 : 0;
  let bit = manip === 0 ? CtStatus.SRC_NAT : CtStatus.DST_NAT;
  if (dir === 1) bit ^= NAT_MASK;
  if (!(ct.status & bit)) return;
  // The other direction's tuple, read field by field (no tuple per packet).
  const oSrc = (dir === 0 ? ct.rSrc : ct.oSrc) >>> 0;
  const oPorts = dir === 0 ? ct.rPorts : ct.oPorts;
  const oSport = oPorts >>> 16;
  const oDst = (dir === 0 ? ct.rDst : ct.oDst) >>> 0;
  const oDport = oPorts & 0xffff;
  // The target is its inverse: src/sport are its dst/dport, dst/dport its src/sport — except an ICMP
  // tuple's id (sport), which inverts to itself.
  const icmpT = ct.proto === IpProto.ICMP;
  const tSport = icmpT ? oSport : oDport;
  const tDport = icmpT ? invertIcmpDport(oDport) : oSport;
  if (isIcmpError(pkt)) {
    if (pkt.inner) manipPacket(pkt.inner, oSrc, oSport, oDst, oDport, manip === 0 ? 1 : 0, true);
    manipPacket(pkt, oDst, tSport, oSrc, tDport, manip, false);
    return;
  }
  manipPacket(pkt, oDst, tSport, oSrc, tDport, manip, true);
}
