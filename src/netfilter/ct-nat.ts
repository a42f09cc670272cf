// netfilter/ct-nat — conntrack's NAT bookkeeping (net/netfilter/nf_nat_core.c), kept out of conntrack.ts (room for its
// per-packet path): the binding of a new connection (nf_nat_setup_info: Conntrack.setupNatAt), its tuple choice
// (get_unique_tuple, nf_nat_used_tuple) and nf_nat_packet (Conntrack.natPacket: a packet of a NATed connection rewritten
// so its tuple becomes the inverse of the other direction's tuple). NAT is nothing but an entry's REPLY tuple differing
// from its inverted ORIGINAL one. Layer: netfilter (imports core, wire, packet and this folder).
import { CtStatus as CtStatus_I, type ConnEntry } from './ct-entry.js';
import { invertIcmpDport as invertIcmpDport_I, invertTupleInto as invertTupleInto_I, isIcmpError as isIcmpError_I, manipPacket as manipPacket_I, type CtTuple } from './ct-tuple.js';
import type { Rng } from '../core/rng.js';
import type { Packet } from '../packet/packet.js';
import { IpProto as IpProto_I } from '../wire/types.js';
const [CtStatus, invertIcmpDport, invertTupleInto, isIcmpError, manipPacket, IpProto] = [CtStatus_I, invertIcmpDport_I, invertTupleInto_I, isIcmpError_I, manipPacket_I, IpProto_I] as const; // hot imports as module constants (no Cell load and check a use)

const NAT_MASK = CtStatus.SRC_NAT | CtStatus.DST_NAT;

/** A NAT range as nf_nat_range2 carries it. */
export interface NatSetup {
  minIp: number;
  maxIp: number;
  /** null: keep the port when unique (NF_NAT_RANGE_PROTO_SPECIFIED unset). */
  ports: { min: number; max: number } | null;
  random: boolean;
  randomFully: boolean;
  persistent: boolean;
}

/** Which half of the tuple a NAT hook rewrites (enum nf_nat_manip_type). */
export const NatManip = { SRC: 0, DST: 1 } as const;
/** SRC (SNAT/MASQUERADE, at POSTROUTING/INPUT) or DST (DNAT, at PREROUTING/OUTPUT). */
export type NatManip = (typeof NatManip)[keyof typeof NatManip];

/**
 * What a NAT binding uses of its table: Conntrack itself (its own field and method, where an object of their own and a
 * closure were three more objects to read in a table visited seldom, issue 13).
 */
export interface NatTable {
  /** Feeds the port choice for --random / --random-fully and SNAT offsets. */
  readonly rng: Rng;
  /** The alive entry one of whose tuples is `t` (Conntrack's lookup at the operation's time: an expired one is absent). */
  findAlive(t: CtTuple): ConnEntry | undefined;
}

const tuple = (): CtTuple => ({ proto: 0, src: 0, sport: 0, dst: 0, dport: 0 });
// The tuples a binding works in, reused: no object per NAT binding. Shared by every table (module-level), where each
// table had its own: a binding runs to its end before another starts (nothing in it binds again), and a cluster's
// thousand tables each had these cold in the CPU caches when a new connection reached one (issue 13).
/** The lookup key of `usedTuple` (the uniqueness probes). */
const USED_KEY = tuple();
/** `bindNat`'s REPLY tuple. */
const NAT_REPLY = tuple();
/** `bindNat`'s current tuple (the inverse of the REPLY one). */
const NAT_CURR = tuple();
/** uniqueTuple's answer (a copy of the current tuple it changes). */
const NAT_NEW = tuple();

/** True when some other connection than `self` already uses `t` as its original direction (nf_nat_used_tuple). */
function usedTuple(tbl: NatTable, t: CtTuple, self: ConnEntry): boolean {
  const k = USED_KEY;
  invertTupleInto(t, k);
  const found = tbl.findAlive(k);
  return found !== undefined && found !== self;
}

/** NatRange flag bits (bindNatRange's `flags`): nf_nat_range2's NF_NAT_RANGE_PROTO_RANDOM, _PROTO_RANDOM_FULLY, _PERSISTENT. */
export const NAT_RANDOM = 1;
export const NAT_RANDOM_FULLY = 2;
export const NAT_PERSISTENT = 4;

/** `r`'s booleans as bindNatRange's flag bits. */
export function natFlags(random: boolean, randomFully: boolean, persistent: boolean): number {
  return (random ? NAT_RANDOM : 0) | (randomFully ? NAT_RANDOM_FULLY : 0) | (persistent ? NAT_PERSISTENT : 0);
}

/**
 * nf_nat_setup_info: binds the NEW connection `ct` to a NAT mapping for `manip` (0 SRC, 1 DST) in range `r`, at the
 * time in CT_CLOCK[0]. Returns false when no unique tuple exists in the range (the packet is then dropped).
 */
export function bindNat(tbl: NatTable, ct: ConnEntry, manip: NatManip, r: NatSetup): boolean {
  const p = r.ports;
  return bindNatRange(tbl, ct, manip, r.minIp, r.maxIp, p === null ? -1 : p.min, p === null ? -1 : p.max, natFlags(r.random, r.randomFully, r.persistent));
}

/**
 * bindNat with the range as numbers: addresses `minIp`..`maxIp`, ports `pMin`..`pMax` (-1: none, the port kept when
 * unique), `flags` NAT_RANDOM | NAT_RANDOM_FULLY | NAT_PERSISTENT. ext/nat.ts's DNAT / SNAT closures hand their rule's
 * range so (numbers of the closure's context, which the call reads anyway), where a per-rule NatSetup and its ports
 * object were two more objects, cold in a big cluster at each new connection's DNAT (issue 13: ~1.9 LL misses a
 * request in the scale window).
 */
export function bindNatRange(tbl: NatTable, ct: ConnEntry, manip: NatManip, minIp: number, maxIp: number, pMin: number, pMax: number, flags: number): boolean {
  // The current tuple: the inverse of the REPLY one.
  const curr = NAT_CURR;
  invertTupleInto(ct.replyInto(NAT_REPLY), curr);
  const t = uniqueTuple(tbl, curr, manip, minIp, maxIp, pMin, pMax, flags, ct);
  if (!t) return false;
  // Only a NEW connection is bound (the nat chains run while NAT is not done, and confirm marks both
  // done), so the REPLY tuple is not in the hash yet and may change.
  if (ct.status & CtStatus.CONFIRMED) throw new Error('conntrack: NAT binding of a confirmed entry');
  ct.replyInverseOf(t);
  const changed = manip === NatManip.SRC ? t.src !== curr.src || t.sport !== curr.sport : t.dst !== curr.dst || t.dport !== curr.dport;
  if (changed) ct.status |= manip === NatManip.SRC ? CtStatus.SRC_NAT : CtStatus.DST_NAT;
  ct.status |= manip === NatManip.SRC ? CtStatus.SRC_NAT_DONE : CtStatus.DST_NAT_DONE;
  return true;
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

/** get_unique_tuple: pick address then port so the resulting tuple is unique (the range as bindNatRange's). */
function uniqueTuple(tbl: NatTable, orig: CtTuple, manip: NatManip, minIp: number, maxIp: number, pMin: number, pMax: number, flags: number, ct: ConnEntry): CtTuple | null {
  const src = manip === 0; // NatManip.SRC
  const randomAll = (flags & (NAT_RANDOM | NAT_RANDOM_FULLY)) !== 0;
  const ports = pMin >= 0; // NF_NAT_RANGE_PROTO_SPECIFIED
  const t = NAT_NEW;
  t.proto = orig.proto;
  t.src = orig.src;
  t.sport = orig.sport;
  t.dst = orig.dst;
  t.dport = orig.dport;
  // find_best_ips_proto: spread over the address range by a hash of the addresses (dst ignored with --persistent).
  const span = maxIp - minIp + 1;
  const pick = span <= 1 ? 0 : jhash3(orig.src, (flags & NAT_PERSISTENT) !== 0 ? 0 : orig.dst, 0) % span;
  if (src) t.src = (minIp + pick) >>> 0;
  else t.dst = (minIp + pick) >>> 0;
  const hasPorts = orig.proto === IpProto.TCP || orig.proto === IpProto.UDP || orig.proto === IpProto.SCTP || (orig.proto === IpProto.ICMP && src);
  if (!randomAll) {
    if (ports) {
      const p = src ? t.sport : t.dport;
      if (!hasPorts || (p >= pMin && p <= pMax && (pMin === pMax || !usedTuple(tbl, t, ct)))) return t;
    } else if (!usedTuple(tbl, t, ct)) return t;
  }
  if (!hasPorts) return usedTuple(tbl, t, ct) ? null : t;
  // nf_nat_l4proto_unique_tuple
  let min: number;
  let size: number;
  if (ports) {
    if (pMin === pMax && !src) {
      setTuplePort(t, src, pMin);
      return t;
    }
    min = pMin;
    size = pMax - pMin + 1;
  } else {
    if (!src) return usedTuple(tbl, t, ct) ? null : t; // a DNAT without ports cannot change the port
    const p = src ? t.sport : t.dport;
    if (p < 512) (min = 1), (size = 511);
    else if (p < 1024) (min = 600), (size = 424);
    else (min = 1024), (size = 64512);
  }
  const off = randomAll || src ? tbl.rng.int(size) : 0;
  for (let i = 0; i < size; i++) {
    setTuplePort(t, src, min + ((off + i) % size));
    if (!usedTuple(tbl, t, ct)) return t;
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
