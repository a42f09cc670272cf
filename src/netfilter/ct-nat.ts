// netfilter/ct-nat — conntrack's NAT steps kept out of conntrack.ts (room for its per-packet path): get_unique_tuple
// (Conntrack.setupNatAt's tuple choice) and nf_nat_packet (Conntrack.natPacket: a packet of a NATed connection rewritten
// so its tuple becomes the inverse of the other direction's tuple). Layer: netfilter (imports core, wire, packet and this folder).
import { CtStatus as CtStatus_I, type ConnEntry } from './ct-entry.js';
import { invertIcmpDport as invertIcmpDport_I, isIcmpError as isIcmpError_I, manipPacket as manipPacket_I, type CtTuple } from './ct-tuple.js';
import type { NatSetup } from './conntrack.js';
import type { Rng } from '../core/rng.js';
import type { Packet } from '../packet/packet.js';
import { IpProto as IpProto_I } from '../wire/types.js';
const [CtStatus, invertIcmpDport, isIcmpError, manipPacket, IpProto] = [CtStatus_I, invertIcmpDport_I, isIcmpError_I, manipPacket_I, IpProto_I] as const; // hot imports as module constants (no Cell load and check a use)

const NAT_MASK = CtStatus.SRC_NAT | CtStatus.DST_NAT;

/** What uniqueTuple uses of its table (Conntrack's `nx`). */
export interface NatTable {
  /** The answer, reused: no object per NAT binding. */
  readonly natNew: CtTuple;
  /** Feeds the port choice for --random / --random-fully and SNAT offsets. */
  readonly rng: Rng;
  /** True when some other connection than `self` already uses `t` as its original direction (nf_nat_used_tuple). */
  used(t: CtTuple, self: ConnEntry): boolean;
}

function jhash3(a: number, b: number, c: number): number {
  // A small integer mix (not the kernel's jhash; only determinism and spread matter here).
  let h = (a ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) ^ c;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Sets the port NAT of this manip type changes: the source port for SRC, the destination one for DST. */
function setTuplePort(t: CtTuple, src: boolean, p: number): void {
  if (src) t.sport = p;
  else t.dport = p;
}

/** get_unique_tuple: pick address then port so the resulting tuple is unique. */
export function uniqueTuple(tbl: NatTable, orig: CtTuple, r: NatSetup, manip: 0 | 1, ct: ConnEntry): CtTuple | null {
  const src = manip === 0; // NatManip.SRC
  const randomAll = r.random || r.randomFully;
  const t = tbl.natNew;
  t.proto = orig.proto;
  t.src = orig.src;
  t.sport = orig.sport;
  t.dst = orig.dst;
  t.dport = orig.dport;
  // find_best_ips_proto: spread over the address range by a hash of the addresses (dst ignored with --persistent).
  const span = r.maxIp - r.minIp + 1;
  const pick = span <= 1 ? 0 : jhash3(orig.src, r.persistent ? 0 : orig.dst, 0) % span;
  if (src) t.src = (r.minIp + pick) >>> 0;
  else t.dst = (r.minIp + pick) >>> 0;
  const hasPorts = orig.proto === IpProto.TCP || orig.proto === IpProto.UDP || orig.proto === IpProto.SCTP || (orig.proto === IpProto.ICMP && src);
  if (!randomAll) {
    if (r.ports) {
      const p = src ? t.sport : t.dport;
      if (!hasPorts || (p >= r.ports.min && p <= r.ports.max && (r.ports.min === r.ports.max || !tbl.used(t, ct)))) return t;
    } else if (!tbl.used(t, ct)) return t;
  }
  if (!hasPorts) return tbl.used(t, ct) ? null : t;
  // nf_nat_l4proto_unique_tuple
  let min: number;
  let size: number;
  if (r.ports) {
    if (r.ports.min === r.ports.max && !src) {
      setTuplePort(t, src, r.ports.min);
      return t;
    }
    min = r.ports.min;
    size = r.ports.max - r.ports.min + 1;
  } else {
    if (!src) return tbl.used(t, ct) ? null : t; // a DNAT without ports cannot change the port
    const p = src ? t.sport : t.dport;
    if (p < 512) (min = 1), (size = 511);
    else if (p < 1024) (min = 600), (size = 424);
    else (min = 1024), (size = 64512);
  }
  const off = randomAll || src ? tbl.rng.int(size) : 0;
  for (let i = 0; i < size; i++) {
    setTuplePort(t, src, min + ((off + i) % size));
    if (!tbl.used(t, ct)) return t;
  }
  return null;
}

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
