// netfilter/ct-confirm — the insertion half of conntrack's confirm and its clash resolution. Layer:
// netfilter. Mirrors nf_conntrack_core.c: __nf_conntrack_confirm's two clash checks (ORIGINAL tuple,
// then REPLY tuple) and, as Linux >= 5.9 has them, nf_ct_resolve_clash, __nf_ct_resolve_clash and
// nf_ct_resolve_clash_harder. Conntrack (conntrack.ts) calls it for a new entry's first packet; the
// status and timeout of a normally inserted entry are conntrack.ts's.
import type { CtInResult } from './conntrack.js';
import { CT_CLOCK as CT_CLOCK_I, CtStatus as CtStatus_I, type ConnEntry } from './ct-entry.js';
import type { CtList } from './ct-list.js';
import { SEC as SEC_I, type TimeNs } from '../core/time.js';
import type { Packet } from '../packet/packet.js';
import { IpProto as IpProto_I } from '../wire/types.js';
const [CT_CLOCK, CtStatus, SEC, IpProto] = [CT_CLOCK_I, CtStatus_I, SEC_I, IpProto_I] as const; // hot imports as module constants (no Cell load and check a use)

/** The counters of `conntrack -S` a table keeps (Conntrack.stats). */
export interface CtStats {
  drop: number;
  early_drop: number;
  insert_failed: number;
  clash_resolve: number;
}

/** What insertion and clash resolution use of a table: Conntrack itself, its list and hash (CtList) with these. */
export interface ConfirmTable extends CtList<ConnEntry> {
  readonly stats: CtStats;
  /** Removes an expired entry (Conntrack.destroyExpired). */
  destroyExpired(ct: ConnEntry): void;
}

const RESOLVED: CtInResult = Object.freeze({ ok: true });
const CLASH_DROP: CtInResult = Object.freeze({ ok: false, reason: 'conntrack-insert-clash' });
/** IPS_NAT_DONE_MASK. */
const NAT_DONE_MASK = CtStatus.SRC_NAT_DONE | CtStatus.DST_NAT_DONE;
/** nf_ct_resolve_clash_harder: "We want the clashing entry to go away real soon: 1 second timeout." */
const NAT_CLASH_TIMEOUT = SEC;
const IPPROTO_UDPLITE = 136;
const IPPROTO_GRE = 47;

/**
 * Puts the unconfirmed entry `ct` of `pkt` (ORIGINAL direction) into the list and both its tuples into
 * the hash: null when done (the caller marks it confirmed), else the outcome of a clash with an alive
 * entry — accepted (resolved) or a drop.
 * The clash check of each tuple inserts it when there is none (one probe per tuple); a clash takes the
 * ORIGINAL tuple out again. An entry whose two tuples are one (a socket connected to itself) finds its
 * own: that slot is rebound to REPLY, as set does. An expired holder is destroyed and both tuples are
 * checked again: the other tuple may have an alive holder, which clashes as Linux's two lookups do. At
 * most two holders (one per tuple) can be found. The entry joins the list first: the hash holds its
 * index there.
 */
export function insertOrResolve(t: ConfirmTable, ct: ConnEntry, pkt: Packet): CtInResult | null {
  const now = CT_CLOCK[0]!; // the confirm's time (a time handed in would be a heap number a call)
  // The tuples' slot keys, kept by the list for the entry's removal (Conntrack.remove) and handed to the inserts.
  const k0 = t.keyOf(ct, 0);
  const k1 = t.keyOf(ct, 1);
  t.add(ct, k0, k1);
  for (;;) {
    const clash = insertBoth(t, ct, k0, k1);
    if (clash === undefined) return null;
    if (clash.expires > now) return resolveClash(t, pkt, ct, clash, now); // not on the hot path: a race lost
    // Out of the list while the expired holder goes (none of ct's tuples is in the hash now): were the
    // holder the list's last entry before ct, with the gc sweep's cursor on it, the cursor would move on
    // to ct instead of wrapping to the head as it does when ct is not listed yet (Linux lists an entry
    // only once it is inserted).
    t.unlist(ct);
    t.destroyExpired(clash);
    t.add(ct, k0, k1);
  }
}

/** Inserts both of `ct`'s tuples (their slot keys `k0`, `k1`), or neither: returns the entry holding one of them. */
function insertBoth(h: CtList<ConnEntry>, ct: ConnEntry, k0: number, k1: number): ConnEntry | undefined {
  const clash = h.insert(ct, 0, k0);
  if (clash !== undefined) return clash;
  const replyClash = h.insert(ct, 1, k1);
  if (replyClash === undefined) return undefined;
  if (replyClash === ct) {
    h.set(ct, 1);
    return undefined;
  }
  h.delete(ct, 0);
  return replyClash;
}

/**
 * nf_ct_resolve_clash: `loser`, the packet's unconfirmed entry, has a tuple an alive confirmed entry
 * `winner` holds (inserted by another packet since this one passed conntrack `in`; insertBoth left none
 * of the loser's tuples in the hash). Only protocols whose tracker sets `allow_clash` try to keep the
 * packet; the others, and a clash nothing resolves, drop it.
 */
function resolveClash(t: ConfirmTable, pkt: Packet, loser: ConnEntry, winner: ConnEntry, now: TimeNs): CtInResult {
  t.unlist(loser); // the tail again: the list is as it was
  if (!allowClash(loser.proto)) return clashDrop(t);
  // __nf_ct_resolve_clash: the packet joins the winner when the two are one connection.
  if (mergeInto(t, pkt, loser, winner)) return RESOLVED;
  // nf_ct_resolve_clash_harder: the loser's REPLY tuple alone must be free (else the entry holding it
  // is tried as the winner again, the kernel's second __nf_ct_resolve_clash).
  const k0 = t.keyOf(loser, 0);
  const k1 = t.keyOf(loser, 1);
  t.add(loser, k0, k1);
  for (;;) {
    const holder = t.insert(loser, 1, k1);
    if (holder === undefined) break;
    if (holder.expires <= now) {
      // Unlisted while the holder goes, as in insertOrResolve (the gc sweep's cursor must not move onto it).
      t.unlist(loser);
      t.destroyExpired(holder);
      t.add(loser, k0, k1);
      continue;
    }
    t.unlist(loser);
    return mergeInto(t, pkt, loser, holder) ? RESOLVED : clashDrop(t);
  }
  // Held by its REPLY tuple only: the ORIGINAL one stays the winner's, so later packets of that
  // direction follow the winner, while replies to this packet (from where its NAT sent it) still find
  // the loser and are translated back. It expires 1 s from now whatever the traffic
  // (IPS_FIXED_TIMEOUT: conntrack's update leaves it), never becomes ASSURED, and `conntrack -L` does
  // not list it (ctnetlink dumps entries by their ORIGINAL tuple).
  loser.status |= CtStatus.SRC_NAT_DONE | CtStatus.DST_NAT_DONE | CtStatus.CONFIRMED | CtStatus.FIXED_TIMEOUT | CtStatus.NAT_CLASH;
  loser.expires = now + NAT_CLASH_TIMEOUT;
  t.stats.clash_resolve++;
  return RESOLVED;
}

/**
 * __nf_ct_resolve_clash: attaches `pkt` to `winner` in place of `loser` when the winner had no NAT set
 * up (no nat hook ran for it) or the two entries' ORIGINAL and REPLY tuples are equal (nf_ct_match: NAT
 * chose the same); the winner's state is not updated by this packet (its tracker ran on the loser). The
 * winner cannot be dying here (a removed entry leaves the hash at once). Without per-entry accounting
 * there are no counters to merge (nf_ct_acct_merge).
 */
function mergeInto(t: ConfirmTable, pkt: Packet, loser: ConnEntry, winner: ConnEntry): boolean {
  if ((winner.status & NAT_DONE_MASK) !== 0 && !sameTuples(winner, loser)) return false;
  pkt.ct = winner;
  pkt.ctDir = 0;
  t.stats.clash_resolve++;
  return true;
}

/** nf_ct_resolve_clash's drop path: counted as `drop` and `insert_failed`. */
function clashDrop(t: ConfirmTable): CtInResult {
  t.stats.drop++;
  t.stats.insert_failed++;
  return CLASH_DROP;
}

/**
 * The trackers with `allow_clash` (struct nf_conntrack_l4proto): UDP and UDPLITE
 * (nf_conntrack_proto_udp.c), ICMP (nf_conntrack_proto_icmp.c), GRE (nf_conntrack_proto_gre.c, since
 * 6.5; tracked as generic here). Not TCP, SCTP, DCCP or the generic tracker: their clashes drop.
 */
function allowClash(proto: number): boolean {
  return proto === IpProto.UDP || proto === IpProto.ICMP || proto === IPPROTO_UDPLITE || proto === IPPROTO_GRE;
}

/** Both entries' ORIGINAL and REPLY tuples equal (each tuple includes the protocol). */
function sameTuples(a: ConnEntry, b: ConnEntry): boolean {
  return a.proto === b.proto && a.oSrc === b.oSrc && a.oDst === b.oDst && a.oPorts === b.oPorts && a.rSrc === b.rSrc && a.rDst === b.rDst && a.rPorts === b.rPorts;
}
