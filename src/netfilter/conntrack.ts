// netfilter/conntrack — connection tracking and NAT bindings for one network namespace.
// Layer: netfilter (imports core, wire, packet). Mirrors net/netfilter/nf_conntrack_core.c
// (nf_conntrack_in, __nf_conntrack_confirm with nf_ct_resolve_clash / __nf_ct_resolve_clash /
// nf_ct_resolve_clash_harder as Linux >= 5.9 has them, early_drop), nf_conntrack_proto_tcp.c (state table,
// reduced), nf_conntrack_proto_udp.c / _icmp.c (timeouts, ICMP error -> RELATED), and
// net/netfilter/nf_nat_core.c (nf_nat_setup_info, get_unique_tuple, nf_nat_l4proto_unique_tuple,
// nf_nat_packet) plus nf_nat_proto.c (nf_nat_icmp_reply_translation). UDP as Linux 6.x
// nf_conntrack_udp_packet: 30 s; ASSURED and 120 s only for replied traffic still flowing 2 s after
// the first packet (ct->proto.udp.stream_ts).
//
// The kernel's representation is kept: an entry holds two tuples, ORIGINAL and REPLY; NAT is nothing
// but the REPLY tuple differing from the inverted ORIGINAL one, and each packet is rewritten so its
// tuple becomes the inverse of the other direction's tuple. L4 checksums are set to null (recomputed
// when serialized).
//
// Not modelled: TCP sequence-window tracking (so no INVALID for out-of-window segments), helpers and
// expectations (RELATED only via ICMP errors), zones, conntrack events, per-netns sysctls beyond the
// timeouts and the table limit handed in, SCTP/DCCP state machines (tracked as generic).
import { RECENT as RECENT_I, RECENT_NUMBERS, packPorts as packPortsI, type CtHit } from './ct-hash.js';
import { CT_CLOCK as CT_CLOCK_I, ConnEntry, CtStatus as CtStatusI, EXP_HI_UNIT as EXP_HI_UNIT_I, writeExpiry as writeExpiryI } from './ct-entry.js';
import { freePush as freePushI, freeRing, freeTake as freeTakeI, type CtFreeRing } from './ct-free.js';
import { insertOrResolve as insertOrResolveI, type CtStats } from './ct-confirm.js';
import { CtList, EXP_PER_NS as EXP_PER_NS_I } from './ct-list.js';
import { tcpPacket as tcpPacketI, tcpReopens as tcpReopensI } from './ct-tcp.js';
import { ICMP_QUERY_REQUESTS, invertTuple, isIcmpError, packetTuple, packetTupleInto as packetTupleIntoI, type CtTuple } from './ct-tuple.js';
import { bindNat as bindNatI, bindNatRange as bindNatRangeI, natPacketOf as natPacketOfI, NatManip as NatManipI, type NatManip, type NatSetup, type NatTable } from './ct-nat.js';
import { DEFAULT_CONNTRACK_CONFIG, DEFAULT_CT_TIMEOUTS, TCP_ESTABLISHED as TCP_ESTABLISHED_I, TCP_NONE as TCP_NONE_I, TCP_SYN_SENT as TCP_SYN_SENT_I, TO_GENERIC as TO_GENERIC_I, TO_ICMP as TO_ICMP_I, TO_UDP as TO_UDP_I, TO_UDP_STREAM as TO_UDP_STREAM_I, timeoutsByIndex, type ConntrackConfig, type TcpCt } from './ct-timeouts.js';
import type { Rng } from '../core/rng.js';
import { SEC, type TimeNs } from '../core/time.js';
import type { Packet } from '../packet/packet.js';
import { IpProto as IpProtoI, TcpFlag as TcpFlagI } from '../wire/types.js';
// The imports the per-packet and per-connection code reads, as module constants (an import is a Cell load and check at each use in optimized code; no cycle here).
const [RECENT, packPorts, CT_CLOCK, CtStatus, writeExpiry, insertOrResolve, tcpPacket, tcpReopens, packetTupleInto, natPacketOf, bindNat, IpProto, TcpFlag, EXP_PER_NS] = [RECENT_I, packPortsI, CT_CLOCK_I, CtStatusI, writeExpiryI, insertOrResolveI, tcpPacketI, tcpReopensI, packetTupleIntoI, natPacketOfI, bindNatI, IpProtoI, TcpFlagI, EXP_PER_NS_I] as const;
const [freePush, freeTake, EXP_HI_UNIT, Manip, bindNatRange] = [freePushI, freeTakeI, EXP_HI_UNIT_I, NatManipI, bindNatRangeI] as const;
const [TCP_ESTABLISHED, TCP_NONE, TCP_SYN_SENT, TO_GENERIC, TO_ICMP, TO_UDP, TO_UDP_STREAM] = [TCP_ESTABLISHED_I, TCP_NONE_I, TCP_SYN_SENT_I, TO_GENERIC_I, TO_ICMP_I, TO_UDP_I, TO_UDP_STREAM_I] as const;

export { ConnEntry, CtStatus } from './ct-entry.js';
export { formatConntrackEntry, formatConntrackStats, formatConntrackTable } from './ct-format.js';
export { invertTuple, isIcmpError, packetTuple, type CtTuple } from './ct-tuple.js';
export { NatManip, NAT_PERSISTENT, NAT_RANDOM, NAT_RANDOM_FULLY, natFlags, type NatSetup } from './ct-nat.js';
export { DEFAULT_CT_TIMEOUTS, DEFAULT_CONNTRACK_CONFIG, TcpCt, TCP_CT_NAMES, type TcpCtState, type CtTimeouts, type ConntrackConfig } from './ct-timeouts.js';

/**
 * The lookup key of inIcmp and inNew, reused for every packet and shared by every table (module-level, where each
 * table had its own: a cluster's thousand tables each had it cold in the CPU caches when a new connection reached one,
 * issue 13): written and read within one call of theirs, which nothing in conntrack nests another of.
 */
const KEY: CtTuple = { proto: 0, src: 0, sport: 0, dst: 0, dport: 0 };
/** nf_conntrack_udp_packet's stream_ts: 2 * HZ after the first packet. */
const UDP_STREAM_AFTER = 2 * SEC;

/** Why conntrack dropped a packet. */
export type CtDropReason = 'conntrack-table-full' | 'conntrack-insert-clash' | 'nat-no-unique-tuple';

/** The attachment of a packet NOTRACK'ed in raw (nf_ct_untracked); one per table so it does not leak across namespaces. */
export interface Untracked {
  readonly untracked: true;
  readonly owner: Conntrack;
}

/** Result of nf_conntrack_in for one packet. */
export type CtInResult = { ok: true } | { ok: false; reason: CtDropReason };
const CT_OK: CtInResult = Object.freeze({ ok: true });

/** The connection tracking table of one namespace (one netns's nf_conntrack hash + nat bysource). */
export class Conntrack extends CtList<ConnEntry> implements NatTable {
  // The fields `in` and `confirm` read for every packet come first: the hash's (TupleMap, CtList's base class: its fields
  // in this object, one object fewer per lookup), then the list's of confirmed entries in insertion order (CtList, the
  // base class: the gc sweep's fields here too, no list object to read per new connection), then these (a big cluster's
  // thousand tables are each cold when a packet reaches one; V8 lays fields out in declaration order, base classes first).
  /** What pkt.ct holds after -j NOTRACK / -j CT --notrack in this namespace. */
  readonly untracked: Untracked = Object.freeze({ untracked: true as const, owner: this });
  /**
   * The timeouts by `timeoutIndex` (TCP states 0-8, then UDP, UDP stream, ICMP, generic), read from
   * `to` when the table is made: a number from a typed array, where a load from `to`'s objects is a
   * heap number for the per-packet expiry to unbox (or, returned from a call, a new one).
   */
  private readonly toNs: Float64Array;
  /**
   * nf_conntrack_max, the live value (`cfg.max` reads and writes it): a field of the table, which a new connection reads
   * anyway, where the config object was one more line to read for each (issue 13: ~0.6 LL misses a request in the scale
   * window). A small integer.
   */
  private maxEntries: number;
  /** The configuration; `max` is an accessor of the table's `maxEntries`. */
  readonly cfg: ConntrackConfig;
  /**
   * Set with the rule-cost model (netfilter/cost-model.ts): a packet's rule walk then takes simulated time, which the
   * kernel spends between conntrack `in` and confirm (ipt_do_table runs in the hooks in between). The hooks leave a new
   * entry unconfirmed (`confirm` does nothing) and the net layer confirms it where the packet leaves the node's IP
   * path, after its hold (`confirmHeld`): two packets of one tuple held at once each get an entry of their own and race
   * to confirm, as on two CPUs.
   */
  holdConfirm = false;
  /**
   * Destroyed entries kept for reuse (nf_conntrack_free / the slab cache): only entries removed because they had
   * expired (see `destroyExpired`), the latest first (warm), else the oldest, at most FREE_MAX. A long run creates ~6
   * entries per request that live their timeout (TIME_WAIT, UDP 30-120 s): new objects would each be copied twice by
   * the scavenger, promoted, and freed only by a mark-compact of the whole heap; a recycled entry is already old and is
   * written with small integers only. One plain array (ct-free.ts: no queue object to read in a cold table).
   */
  private readonly free: CtFreeRing<ConnEntry> = freeRing<ConnEntry>();
  private nextId = 1;
  /**
   * The per-table statistics `conntrack -S` prints (ctnetlink's per-CPU stats; one CPU here, `formatConntrackStats`):
   * `drop` counts packets conntrack dropped — new connections refused because the table was full (the kernel logs
   * "nf_conntrack: table full, dropping packet") and confirm clashes it could not resolve; `early_drop` entries evicted
   * to make room; `insert_failed` confirm clashes that dropped the packet (nf_ct_resolve_clash's drop path counts it
   * with `drop`); `clash_resolve` confirm clashes resolved without a drop (the packet attached to the entry that won
   * the race, or the loser held by its REPLY tuple alone).
   */
  readonly stats: CtStats = { drop: 0, early_drop: 0, insert_failed: 0, clash_resolve: 0 };

  /** Feeds NAT's port choice for --random / --random-fully and SNAT offsets (ct-nat.ts: the table is its NatTable). */
  readonly rng: Rng;

  /** `rng` feeds NAT port choice for --random / --random-fully and SNAT offsets (a named stream). */
  constructor(rng: Rng, cfg: Partial<ConntrackConfig> = {}) {
    super();
    this.rng = rng;
    const c = { ...DEFAULT_CONNTRACK_CONFIG, ...cfg };
    this.maxEntries = c.max;
    const table = this; // (cfg.max: an accessor of the table's field)
    this.cfg = { get max(): number { return table.maxEntries; }, set max(n: number) { table.maxEntries = n; }, timeouts: c.timeouts, tcpLoose: c.tcpLoose };
    this.toNs = this.cfg.timeouts === DEFAULT_CT_TIMEOUTS ? CT_CLOCK : timeoutsByIndex(this.cfg.timeouts); // CT_CLOCK's slots 1 …: the defaults
  }

  /** Keeps the list's copy of a confirmed entry's expiry (ConnEntry's `expires` setter calls it). */
  expiryChanged(ct: ConnEntry, t: TimeNs): void {
    if (this.holds(ct)) this.setExp(ct, t); // (not an entry the sweep reaped: its pos is stale, see reap)
  }

  /** Number of confirmed entries (what nf_conntrack_count reports). */
  get count(): number {
    return this.listed;
  }

  /** The entry and direction a tuple belongs to, ignoring expired entries (a new pair per call; for inspection). */
  lookup(t: CtTuple, now: TimeNs): CtHit<ConnEntry> | undefined {
    const ct = this.find(t, now);
    return ct === undefined ? undefined : { ct, dir: this.dir };
  }

  /** `find` at the time in CT_CLOCK[0] (NAT's uniqueness probes: the table is ct-nat.ts's NatTable). */
  findAlive(t: CtTuple): ConnEntry | undefined {
    return this.find(t, CT_CLOCK[0]!);
  }

  /** The entry a tuple belongs to, its direction in `this.dir`, ignoring (and removing) an expired entry. */
  private find(t: CtTuple, now: TimeNs): ConnEntry | undefined {
    const ct = this.get(t);
    if (ct !== undefined && ct.expires <= now) {
      this.destroyExpired(ct);
      return undefined;
    }
    return ct;
  }

  /**
   * The entry attached to `pkt` if it belongs to this table (another namespace's entry counts as none). pkt.ct is null, a
   * table's `untracked` or a ConnEntry, each with its table as `owner`: no `instanceof` (a cell load, a hole check, a
   * prototype walk).
   */
  ctOf(pkt: Packet): ConnEntry | null {
    const ct = pkt.ct as ConnEntry | null;
    return ct !== null && ct.owner === this && ct !== (this.untracked as object) ? ct : null;
  }

  /**
   * nf_conntrack_in: attaches (pkt.ct, pkt.ctDir) for a packet entering PREROUTING or OUTPUT. New connections stay
   * unconfirmed until confirm() at the last hook. Packets that cannot be tracked leave pkt.ct null (the INVALID state);
   * only a full table drops.
   */
  in(pkt: Packet, now: TimeNs): CtInResult {
    CT_CLOCK[0] = now;
    return this.inAt(pkt);
  }

  /**
   * `in` at the time in CT_CLOCK[0] (netfilter's hooks write it there: no time handed to a call, see CT_CLOCK). A packet of a
   * known connection (nearly every one) here, the rest in inIcmp / inNew: small enough for V8 to inline update into it.
   */
  inAt(pkt: Packet): CtInResult {
    const had = pkt.ct;
    if (had !== null && (had as Untracked).owner === this) return CT_OK; // NOTRACK, or already tracked (looped back inside this namespace): the owner test alone, as ctOf
    pkt.ct = null;
    pkt.ctDir = 0;
    const ip = pkt.ip;
    if (ip === null) return CT_OK;
    if (pkt.icmp !== null) return this.inIcmp(pkt);
    // TCP, UDP (nearly every packet: VXLAN's outer ones are UDP) or another protocol: the tuple (nf_ct_get_tuple, as
    // packetTupleInto) read straight from the headers, written into the key only when a new entry needs it.
    const tcp = pkt.tcp;
    const udp = pkt.udp;
    const ports = tcp !== null ? packPorts(tcp.srcPort, tcp.dstPort) : udp !== null ? packPorts(udp.srcPort, udp.dstPort) : 0;
    const proto = ip.protocol;
    const src = ip.src | 0;
    const dst = ip.dst | 0;
    // get4's shared recent slot written out (it answers ~82 % of lookups): get4 is a call here once it has optimized code of
    // its own (its inlined size then exceeds V8's budget). tag4, recentSlot and same as ct-hash.ts has them, with its
    // numbers (checked at load, below the class); a tag computed otherwise would only send every lookup to get4.
    let a = src;
    let b = dst;
    let ab = ports;
    let orient = 0;
    if (src > dst || (src === dst && ports >>> 16 > (ports & 0xffff))) {
      a = dst;
      b = src;
      ab = (ports << 16) | (ports >>> 16);
      orient = 0x20000000;
    }
    let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 16) ^ ab, 0x27d4eb2f);
    h ^= proto << 7;
    const key = (((h ^ (h >>> 15)) & 0x0fffffff) + 1) | orient;
    const rs = 2 * ((key ^ (key >>> 20) ^ this.salt) & 1023);
    const rk = RECENT[rs] as number;
    const r = RECENT[rs + 1] as ConnEntry;
    let ct: ConnEntry;
    let dir = (rk >>> 30) as 0 | 1;
    if ((rk & 0x3fffffff) === key && r.owner === this && r.proto === proto && (dir === 0 ? r.oSrc === src && r.oDst === dst && r.oPorts === ports : r.rSrc === src && r.rDst === dst && r.rPorts === ports)) {
      ct = r;
      this.dir = dir;
    } else {
      const e = this.get4(proto, src, dst, ports);
      if (e === undefined) return this.inNew(pkt, true);
      ct = e;
      dir = this.dir;
    }
    if (ct.expires <= CT_CLOCK[0]!) this.destroyExpired(ct);
    else if (tcp !== null && dir === 0 && (tcp.flags & 0x16) === 2 && tcpReopens(ct, tcp.flags)) { // a SYN without ACK, RST first: no call
      // nf_conntrack_tcp_packet: "Attempt to reopen a closed/aborted connection. Delete this connection and look up
      // again" (nf_ct_kill, -NF_REPEAT): the SYN starts a fresh entry, so the NAT rules (and a DNAT's endpoint choice) run again.
      this.remove(ct);
    } else {
      pkt.ct = ct;
      pkt.ctDir = dir;
      if (dir === 1) ct.status |= 2; // SEEN_REPLY (the numbers: checked at load, below the class)
      // update(ct, dir, pkt) written out: as a call V8 inlined it only until update had optimized code of its own (its
      // inlined size then counts against inAt's budget), a call for nearly every tracked packet in the scale workload.
      const now = CT_CLOCK[0]!;
      if (tcp !== null) tcpPacket(ct, dir, tcp.flags); // ct-tcp.ts
      else if (udp !== null && (ct.status & 2) !== 0 && now > ct.udpStreamTs && (ct.status & 4096) === 0) ct.status |= 4;
      const st = ct.status;
      if ((st & 1024) !== 0) return CT_OK;
      const t = now + this.toNs[proto === 6 ? ct.tcpCt + 1 : proto === 17 ? ((st & 4) !== 0 ? 11 : 10) : proto === 1 ? 12 : 13]!; // toNs: slot s at 1 + s
      this.exp[ct.pos] = Math.min(t * EXP_PER_NS, 0x7fffffff) | 0; // the list's copy, exact (ct-list's expCopy; see update)
      writeExpiry(ct, t);
      return CT_OK;
    }
    return this.inNew(pkt, true);
  }

  /** inAt for an ICMP packet: an error takes its quote's entry, a query is tracked as its own connection. */
  private inIcmp(pkt: Packet): CtInResult {
    const now = CT_CLOCK[0]!;
    if (isIcmpError(pkt)) {
      // icmp_error_message: the quoted datagram travelled the other way, so look up its inverted
      // tuple; the direction found is the error's own direction.
      const inner = pkt.inner ? packetTuple(pkt.inner) : null;
      const hit = inner ? this.find(invertTuple(inner), now) : undefined;
      if (hit !== undefined) {
        pkt.ct = hit;
        pkt.ctDir = this.dir;
      }
      return CT_OK;
    }
    packetTupleInto(pkt, KEY);
    const ct = this.find(KEY, now);
    if (ct === undefined) return this.inNew(pkt, false);
    const dir = this.dir;
    pkt.ct = ct;
    pkt.ctDir = dir;
    if (dir === 1) ct.status |= CtStatus.SEEN_REPLY;
    this.update(ct, dir, pkt);
    return CT_OK;
  }

  /** inAt for a packet of no (live) entry: a new connection if the packet may start one; `notIcmp`: the key is still to fill. */
  private inNew(pkt: Packet, notIcmp: boolean): CtInResult {
    const now = CT_CLOCK[0]!;
    const t = KEY;
    let tcpCt: TcpCt = TCP_NONE;
    if (pkt.tcp) {
      const f = pkt.tcp.flags;
      if (f & TcpFlag.RST) return CT_OK;
      if (f & TcpFlag.SYN && !(f & TcpFlag.ACK)) tcpCt = TCP_SYN_SENT;
      else if (this.cfg.tcpLoose && f & TcpFlag.ACK && !(f & TcpFlag.SYN) && !(f & TcpFlag.FIN)) tcpCt = TCP_ESTABLISHED;
      else return CT_OK;
    } else if (pkt.icmp && !ICMP_QUERY_REQUESTS.has(pkt.icmp.type)) return CT_OK;
    if (notIcmp) packetTupleInto(pkt, t);
    const spare = this.reap();
    if (this.listed >= this.maxEntries && !this.earlyDrop(now)) {
      if (spare !== null) freePush(this.free, spare, spare.expHi, spare.expLo, FREE_MAX);
      this.stats.drop++;
      return { ok: false, reason: 'conntrack-table-full' };
    }
    const ct = this.newEntry(t, spare);
    ct.tcpCt = tcpCt;
    if (pkt.udp) ct.udpStreamTs = now + UDP_STREAM_AFTER; // (once a new UDP entry)
    writeExpiry(ct, now + this.toNs[1 + this.timeoutIndex(ct, t.proto)]!); // unconfirmed: not in the list, no copy to keep
    pkt.ct = ct;
    pkt.ctDir = 0;
    return CT_OK;
  }

  /** __nf_conntrack_confirm: inserts a new connection's two tuples at the last hook (INPUT or POSTROUTING). */
  confirm(pkt: Packet, now: TimeNs): CtInResult {
    CT_CLOCK[0] = now;
    return this.confirmAt(pkt);
  }

  /** `confirm` at the time in CT_CLOCK[0] (see inAt). */
  confirmAt(pkt: Packet): CtInResult {
    const ct = this.ctOf(pkt);
    if (!ct || ct.status & CtStatus.CONFIRMED || this.holdConfirm) return CT_OK;
    return this.confirmNew(ct, pkt);
  }

  /** The confirm of a packet leaving after its rule-cost hold (`holdConfirm`); nothing to do for a confirmed entry. */
  confirmHeld(pkt: Packet, now: TimeNs): CtInResult {
    const ct = this.ctOf(pkt);
    if (!ct || ct.status & CtStatus.CONFIRMED) return CT_OK;
    CT_CLOCK[0] = now;
    return this.confirmNew(ct, pkt);
  }

  /** Confirms `ct` at the time in CT_CLOCK[0]. */
  private confirmNew(ct: ConnEntry, pkt: Packet): CtInResult {
    // Only an ORIGINAL-direction packet confirms: an ICMP error attached to an unconfirmed entry
    // (nf_ct_attach, e.g. REJECT's answer) goes out without inserting it.
    if (pkt.ctDir !== 0) return CT_OK;
    // Both tuples into the hash, or a clash resolved or refused (ct-confirm.ts).
    const clash = insertOrResolve(this, ct, pkt);
    if (clash !== null) return clash;
    if (!(ct.status & CtStatus.SRC_NAT_DONE)) ct.status |= CtStatus.SRC_NAT_DONE;
    if (!(ct.status & CtStatus.DST_NAT_DONE)) ct.status |= CtStatus.DST_NAT_DONE;
    ct.status |= CtStatus.CONFIRMED;
    // timeoutIndex written out with its numbers (checked at load, below the class), as in update: a call here once
    // timeoutIndex has optimized code of its own (V8 then no longer inlines it into confirmAt).
    const proto = ct.proto;
    const t = CT_CLOCK[0]! + this.toNs[proto === 6 ? ct.tcpCt + 1 : proto === 17 ? ((ct.status & 4) !== 0 ? 11 : 10) : proto === 1 ? 12 : 13]!; // toNs: slot s at 1 + s
    writeExpiry(ct, t);
    this.exp[ct.pos] = Math.min(t * EXP_PER_NS, 0x7fffffff) | 0; // the list's copy (expCopy; ct is in the list since insertOrResolve)
    return CT_OK;
  }

  /** Removes an entry (conntrack -D). A listed entry goes by `removeAt`. */
  remove(ct: ConnEntry): void {
    const i = ct.pos;
    if (this.holds(ct)) return this.removeAt(ct, i);
    if (i < 0) {
      this.deleteKey(this.keyOf(ct, 0), i, ct);
      this.deleteKey(this.keyOf(ct, 1), i, ct);
    } // (else reaped by the sweep, its pos stale: out of the hash already)
    ct.status |= CtStatus.DYING;
  }

  /** `remove` of `ct` listed at `i`: by the slot keys its list keeps (confirm wrote them), reading of a reaped entry (cold) neither its tuples nor its index. */
  private removeAt(ct: ConnEntry, i: number): void {
    const exp = this.exp; // the keys after the copies (ct-list.ts)
    const k = this.cap + 2 * i;
    this.deleteKey(exp[k]!, i, ct);
    this.deleteKey(exp[k + 1]!, i, ct);
    this.unlistAt(ct, i);
    ct.status |= CtStatus.DYING;
  }

  /**
   * Removes an entry found expired and keeps it for reuse. Safe to reuse later (the kernel frees an nf_conn when its
   * last skb reference goes; here no refcount is kept, so the rule is by time): a tracked packet pushes its entry's
   * expiry a timeout on, and `newEntry` waits RECYCLE_AFTER past it. A packet's `pkt.ct` counts only in the namespace
   * that attached it (`ctOf`; an ICMP error takes its quote's entry only there, net/icmp.ts), read in hooks a passage
   * of no simulated time apart (loopback included) or, queued between hooks, far less than RECYCLE_AFTER. Entries
   * removed alive (a reopening SYN, early_drop of an unassured one, conntrack -D) may still be attached to packets in
   * flight and are left to the garbage collector. Public for confirm's clash handling (ct-confirm.ts, ConfirmTable).
   */
  destroyExpired(ct: ConnEntry): void {
    this.remove(ct);
    freePush(this.free, ct, ct.expHi, ct.expLo, FREE_MAX);
  }

  /** A new unconfirmed entry for `t`: `spare` (reap's), else a recycled one when the free list has one expired long enough. */
  private newEntry(t: CtTuple, spare: ConnEntry | null): ConnEntry {
    const b = CT_CLOCK[0]! - RECYCLE_AFTER, bh = Math.floor(b / EXP_HI_UNIT); // the bound as ConnEntry's expHi, expLo and a copy tick: small integers to a call
    const ct = spare ?? freeTake(this.free, bh, b - bh * EXP_HI_UNIT, Math.floor(b * EXP_PER_NS));
    if (ct === null) return new ConnEntry(this, this.nextId++, t);
    ct.renew(this.nextId++, t);
    return ct;
  }

  /**
   * The gc worker, incrementally (gc_worker: expired entries are removed some time after their timeout passes; nothing
   * else sees them meanwhile — lookups, NAT uniqueness and the clash check of confirm treat an expired entry as absent,
   * and `conntrack -L` skips it): each new connection moves the scan GC_STEP entries on, deleting the expired ones, so
   * a table of n entries is swept once per n/GC_STEP new connections and entries do not outlive a long run.
   * Deterministic: no timer, no random order. Returns an entry it destroyed that has been dead RECYCLE_AFTER, if any.
   */
  private reap(): ConnEntry | null {
    const now = CT_CLOCK[0]!;
    const tick = Math.floor(now * EXP_PER_NS); // ct-list's expTick: a copy at most this is at most now
    const old = Math.floor((now - RECYCLE_AFTER) * EXP_PER_NS), cold = tick < 0x7fffffff; // a copy below `old`: dead RECYCLE_AFTER; `cold`: copies exact (below 2^52 ns)
    let spare: ConnEntry | null = null; // returned to inNew, straight to newEntry: no push and take through the free list
    let sc = 0; // the spare's copy
    for (let k = 0; k < GC_STEP; k++) {
      const i = this.gcNextIndex();
      if (i < 0) break;
      const c = this.exp[i]!;
      if (c > tick) continue; // alive: the entry itself is read only when its copy is this tick's
      let ct: ConnEntry;
      if (c < tick && cold) {
        // Expired (the copy is exact: see update): removed by its list index and slot keys, its object (a cold line or two
        // of a cold table) neither read nor written. It keeps a stale `pos` and no DYING bit (`holds` tells it apart).
        ct = this.at(i);
        const x = this.cap + 2 * i;
        this.deleteKey(this.exp[x]!, i, ct);
        this.deleteKey(this.exp[x + 1]!, i, ct);
        this.unlistIndex(i);
      } else {
        const e = this.expiredAt(i, now);
        if (e === null) continue;
        ct = e;
      }
      // Dead RECYCLE_AFTER (its expiry in [c, c + 1) ticks; within a tick of the bound, or past 2^52 ns, the entry tells): the spare.
      if (cold ? c < old || (c === old && ct.expires <= now - RECYCLE_AFTER) : ct.expires <= now - RECYCLE_AFTER) {
        if (spare !== null) freePush(this.free, spare, cold ? sc : spare.expHi, cold ? -1 : spare.expLo, FREE_MAX); // the last one destroyed that may be reused
        spare = ct;
        sc = c;
      } else freePush(this.free, ct, cold ? c : ct.expHi, cold ? -1 : ct.expLo, FREE_MAX);
    }
    return spare;
  }

  /** Removes the entry at list index `i` if it has expired by `now` and returns it (the caller keeps it for reuse); else brings the list's copy of its expiry up to date. */
  private expiredAt(i: number, now: number): ConnEntry | null {
    const ct = this.at(i);
    const t = ct.expires;
    if (t > now) this.exp[i] = Math.min(t * EXP_PER_NS, 0x7fffffff) | 0; // expCopy
    else this.removeAt(ct, i); // destroyExpired, the index known
    return t > now ? null : ct;
  }

  /** Deletes expired entries (the whole gc sweep); returns how many went. */
  gc(now: TimeNs): number {
    CT_CLOCK[0] = now;
    const tick = Math.floor(now * EXP_PER_NS); // expTick
    let n = 0;
    for (let i = this.firstIndex(); i >= 0; ) {
      const next = this.nextAfter(i);
      const ct = this.exp[i]! <= tick ? this.expiredAt(i, now) : null;
      if (ct !== null) {
        freePush(this.free, ct, ct.expHi, ct.expLo, FREE_MAX);
        n++;
      }
      i = next;
    }
    return n;
  }

  /** The earliest expiry among entries, for a caller that schedules gc; null when empty. */
  nextDeadline(): TimeNs | null {
    let d: number | null = null;
    for (let i = this.firstIndex(); i >= 0; i = this.nextAfter(i)) if (d === null || this.at(i).expires < d) d = this.at(i).expires;
    return d;
  }

  /** Entries in insertion order (expired ones not yet reaped included). */
  list(): ConnEntry[] {
    return this.all();
  }

  /**
   * early_drop, as the kernel bounds it: nf_conntrack's early_drop looks only at NF_CT_EVICTION_RANGE (8) hash buckets
   * from the new tuple's, deletes expired entries on the way and evicts the first entry that is not ASSURED; when that
   * window holds none the packet is dropped, even if such entries exist elsewhere. Here the window is EVICTION_WINDOW
   * entries from the gc sweep's position (the list order stands in for the hash order, which is the kernel's per-boot
   * random seed): bounded work per new connection however big the table. An expired entry found makes room without
   * counting an early drop.
   */
  private earlyDrop(now: TimeNs): boolean {
    const n = Math.min(EVICTION_WINDOW, this.listed);
    for (let k = 0; k < n; k++) {
      const i = this.gcNextIndex();
      if (i < 0) return false;
      const ct = this.at(i);
      if (ct.expires <= now) {
        this.destroyExpired(ct);
        return true;
      }
      if (!(ct.status & CtStatus.ASSURED)) {
        this.remove(ct);
        this.stats.early_drop++;
        return true;
      }
    }
    return false;
  }

  /** The `toNs` slot of `ct`'s timeout in its current state (its element 1 + slot); `proto` is its tuples' protocol (handed in: one object fewer to read per packet). */
  private timeoutIndex(ct: ConnEntry, proto: number): number {
    return proto === IpProto.TCP ? ct.tcpCt
      : proto === IpProto.UDP ? (ct.status & CtStatus.ASSURED ? TO_UDP_STREAM : TO_UDP)
      : proto === IpProto.ICMP ? TO_ICMP
      : TO_GENERIC;
  }

  /**
   * Per-protocol state update for a packet of a known connection (tcp_packet, reduced; udp_packet; written out in inAt,
   * a call from inIcmp), then __nf_ct_refresh_acct: `ct` expires its state's timeout after now (CT_CLOCK[0]), unless
   * its timeout is fixed (a clash's loser is not pushed on by packets). ct is confirmed, in the list, whose copy of its
   * expiry (CtList.exp) is written with it, exact (session 46; it lagged behind per-packet pushes before): the gc sweep
   * then reaps an entry whose copy is below now's tick without reading it (reap), where each reaped entry was a cold
   * object of a cold table read (map, expiry: 1-2 lines, ~4.4 LL misses a request in the scale window).
   */
  private update(ct: ConnEntry, dir: 0 | 1, pkt: Packet): void {
    // Status bits, protocols and timeout slots as numbers (a module constant is a cell load and a hole check at each use in
    // optimized code): SEEN_REPLY 2, ASSURED 4, FIXED_TIMEOUT 1024, NAT_CLASH 4096; TCP 6, UDP 17, ICMP 1; TO_UDP 9 …
    // TO_GENERIC 12 (checked at load, below the class), each at toNs[1 + slot].
    const tcp = pkt.tcp;
    const now = CT_CLOCK[0]!;
    if (tcp !== null) tcpPacket(ct, dir, tcp.flags); // ct-tcp.ts
    else if (pkt.udp !== null && (ct.status & 2) !== 0 && now > ct.udpStreamTs) {
      // nf_conntrack_udp_packet (Linux 6.x): traffic both ways and still active after 2 s is a stream:
      // ASSURED and 120 s; a reply within the first 2 s keeps the 30 s timeout and no ASSURED. Never
      // for a NAT_CLASH entry ("they time out soon").
      if ((ct.status & 4096) === 0) ct.status |= 4;
    }
    // __nf_ct_refresh_acct (the packet's tuple is one of ct's: the same protocol), see below.
    const st = ct.status;
    if ((st & 1024) !== 0) return;
    const proto = pkt.ip!.protocol; // timeoutIndex's choice
    const t = now + this.toNs[proto === 6 ? ct.tcpCt + 1 : proto === 17 ? ((st & 4) !== 0 ? 11 : 10) : proto === 1 ? 12 : 13]!; // toNs: slot s at 1 + s
    this.exp[ct.pos] = Math.min(t * EXP_PER_NS, 0x7fffffff) | 0; // expCopy
    writeExpiry(ct, t);
  }

  // ------------------------------------------------------------------------------------------
  // NAT (nf_nat_core.c)
  // ------------------------------------------------------------------------------------------

  /** True when NAT of this manip type has been set up (nf_nat_initialized). */
  natDone(ct: ConnEntry, manip: NatManip): boolean {
    return (ct.status & (manip === Manip.SRC ? CtStatus.SRC_NAT_DONE : CtStatus.DST_NAT_DONE)) !== 0;
  }

  /** Marks the manip done without a mapping (nf_nat_alloc_null_binding when no nat rule matched). */
  nullBinding(ct: ConnEntry, manip: NatManip): void {
    ct.status |= manip === Manip.SRC ? CtStatus.SRC_NAT_DONE : CtStatus.DST_NAT_DONE;
  }

  /**
   * nf_nat_setup_info: binds a NEW connection to a NAT mapping for `manip`. Returns false when no
   * unique tuple exists in the range (the packet is then dropped).
   */
  setupNat(ct: ConnEntry, manip: NatManip, r: NatSetup, now: TimeNs): boolean {
    CT_CLOCK[0] = now;
    return this.setupNatAt(ct, manip, r);
  }

  /** setupNat at the time in CT_CLOCK[0] (a NAT target inside netfilter's hook, which wrote it: see inAt). */
  setupNatAt(ct: ConnEntry, manip: NatManip, r: NatSetup): boolean {
    return bindNat(this, ct, manip, r); // ct-nat.ts
  }

  /**
   * setupNatAt with the range as numbers (ct-nat.ts bindNatRange: ports -1 for none, `flags` NAT_RANDOM …): a DNAT / SNAT
   * rule's target hands its range so, no object of its own to read.
   */
  setupNatRange(ct: ConnEntry, manip: NatManip, minIp: number, maxIp: number, pMin: number, pMax: number, flags: number): boolean {
    return bindNatRange(this, ct, manip, minIp, maxIp, pMin, pMax, flags); // ct-nat.ts
  }

  /**
   * nf_nat_packet: rewrites the packet for the hook's manip type so its tuple becomes the inverse of the other direction's
   * tuple; for ICMP errors also the quoted header (nf_nat_icmp_reply_translation; only the outer IP address, not the
   * outer ICMP id field). `ct` is `pkt`'s entry in this table (the caller found it with ctOf).
   */
  natPacket(ct: ConnEntry, pkt: Packet, manip: NatManip): void {
    natPacketOf(ct, pkt, manip); // ct-nat.ts
  }
}

// The default timeouts in CT_CLOCK's slots 1 … (ct-entry.ts): tables of the defaults read them there (toNs).
CT_CLOCK.set(timeoutsByIndex(DEFAULT_CT_TIMEOUTS).subarray(1), 1);
// The numbers inAt and update use for status bits, protocols, timeout slots and TCP flags.
// inAt's copy of get4's recent-slot test: its numbers (test/netfilter/ct-recent-inline checks the tag through hits).
if (RECENT_NUMBERS.join() !== '268435455,536870912,30,1024') throw new Error('conntrack: ct-hash numbers changed');
if (CtStatus.SEEN_REPLY !== 2 || CtStatus.ASSURED !== 4 || CtStatus.FIXED_TIMEOUT !== 1024 || CtStatus.NAT_CLASH !== 4096 || IpProto.TCP !== 6 || IpProto.UDP !== 17 || IpProto.ICMP !== 1 || TO_UDP !== 9 || TO_UDP_STREAM !== 10 || TO_ICMP !== 11 || TO_GENERIC !== 12 || (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST) !== 0x16) {
  throw new Error('conntrack: status bits, protocols or timeout slots changed');
}
/** Entries early_drop looks at before giving up (the kernel: 8 hash buckets of a full table, a few entries each). */
const EVICTION_WINDOW = 64;
/** The entries the incremental gc looks at per new connection (Conntrack.reap). */
const GC_STEP = 2;
/** Destroyed entries a table keeps for reuse (Conntrack.free, a power of two): enough for RECYCLE_AFTER of a busy node's destroyed
 * entries (the scale workload's client node destroys ~3,000 a second; 4,096, the earlier bound, let only one in seven be reused there). */
const FREE_MAX = 65536;
/** How long past its expiry a destroyed entry waits before it is reused (Conntrack.destroyExpired). */
const RECYCLE_AFTER = 10 * SEC;
