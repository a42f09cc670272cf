// netfilter/ct-entry — one tracked connection (struct nf_conn) and its status bits. Layer: netfilter.
// The entry keeps its ORIGINAL and REPLY tuples as its own fields, under which the conntrack hash
// (ct-hash.ts) holds it: no object per tuple. The table's logic is conntrack.ts's.
import { packPorts as packPorts_I, type CtKeys } from './ct-hash.js';
import { invertIcmpDport as invertIcmpDport_I, type CtTuple } from './ct-tuple.js';
import { TCP_CT_NAMES, TCP_NONE as TCP_NONE_I, TO_GENERIC as TO_GENERIC_I, type TcpCt, type TcpCtState } from './ct-timeouts.js';
import type { Conntrack } from './conntrack.js';
import type { TimeNs } from '../core/time.js';
import { IpProto as IpProto_I } from '../wire/types.js';
const [packPorts, invertIcmpDport, TCP_NONE, TO_GENERIC, IpProto] = [packPorts_I, invertIcmpDport_I, TCP_NONE_I, TO_GENERIC_I, IpProto_I] as const; // hot imports as module constants (no Cell load and check a use)

/** Conntrack status bits (include/uapi/linux/netfilter/nf_conntrack_common.h). */
export const CtStatus = {
  SEEN_REPLY: 1 << 1,
  ASSURED: 1 << 2,
  CONFIRMED: 1 << 3,
  SRC_NAT: 1 << 4,
  DST_NAT: 1 << 5,
  SRC_NAT_DONE: 1 << 7,
  DST_NAT_DONE: 1 << 8,
  /** Set on an entry removed (conntrack -D, a lookup finding it expired, early_drop), not on one the gc sweep reaps unread (Conntrack.reap). */
  DYING: 1 << 9,
  /** The timeout is not refreshed by packets (__nf_ct_refresh_acct returns early). */
  FIXED_TIMEOUT: 1 << 10,
  /**
   * A confirm-time clash's loser held by its REPLY tuple only (nf_ct_resolve_clash_harder): never
   * ASSURED, not listed by `conntrack -L`. The kernel's bit 12, which IPS_UNTRACKED used before it.
   */
  NAT_CLASH: 1 << 12,
} as const;

/** One tracked connection (struct nf_conn). */
export class ConnEntry implements CtKeys {
  // Fields in the order V8 lays them out, by who reads them: first, on the map word's cache line, what the gc sweep
  // reads of an entry it reaps (expiry, status, list index: its tuples' slot keys are the list's, ct-list.ts `keys`)
  // and the TCP state a packet updates; then the owner and tuples a lookup compares; the rest last.
  /**
   * The absolute expiry time (ns) as expHi * 2^30 + expLo (`expires`): two small integers where one
   * number above 2^31 would be a boxed double, a second object per entry for the scavenger to copy.
   */
  expHi = 0;
  expLo = 0;
  status = 0;
  /** The entry's index in its table's list of confirmed entries (ct-list.ts); -1 before it is listed. An entry the gc
   * sweep reaped keeps its old index: whether it is listed is `CtList.holds(entry)`, never `pos >= 0` alone. */
  pos = -1;
  /** TCP state as a TcpCt number (`tcpState` gives its name). */
  tcpCt: TcpCt = TCP_NONE;
  /**
   * TCP's per-direction flags in one small integer (fewer fields per entry): bit d (FIN_SEEN << d) a FIN
   * was seen in direction d; bit 2 + d (CLOSE_INIT << d) direction d's FIN moved the entry to FIN_WAIT
   * (IP_CT_TCP_FLAG_CLOSE_INIT); bit 4 + d (LAST_RST << d) the last segment was a RST from direction d
   * (last_index == TCP_RST_SET, last_dir); no bit of 4-5 when the last segment was not a RST.
   */
  tcpSeen = 0;
  /** The table the entry belongs to (its hash's `owner`). */
  readonly owner: Conntrack;
  /**
   * The ORIGINAL tuple (proto, oSrc, oDst, oPorts) and the REPLY one (proto, rSrc, rDst, rPorts) as
   * fields of the entry, under which the conntrack hash holds the entry (no object per tuple); addresses
   * as signed 32-bit integers (`orig` and `reply` give them unsigned), each tuple's ports in one small
   * integer (packPorts; `oSport`, `oDport`, `rSport`, `rDport` read them). NAT rewrites the REPLY tuple
   * while the entry is unconfirmed (IPVS too, through `reply`); never changed once confirmed.
   */
  proto = 0;
  oSrc = 0;
  oDst = 0;
  oPorts = 0;
  rSrc = 0;
  rDst = 0;
  rPorts = 0;
  /** ct->mark (CONNMARK, -m connmark). */
  mark = 0;
  /**
   * UDP: ct->proto.udp.stream_ts, 2 s after the first packet (replies after it make a stream), as
   * udpHi * 2^30 + udpLo (`udpStreamTs`); 0 elsewhere.
   */
  udpHi = 0;
  udpLo = 0;
  /** The table's serial number of the entry (a recycled entry gets a new one, see `renew`). */
  id = 0;
  /** `t`'s fields are copied (the caller may reuse it); the REPLY tuple is its inverse. */
  constructor(owner: Conntrack, id: number, t: CtTuple) {
    this.owner = owner;
    this.name(id, t);
  }
  /** Names the entry: `id`, the ORIGINAL tuple `t` (fields copied) and its inverse as the REPLY one. */
  private name(id: number, t: CtTuple): void {
    this.id = id;
    this.proto = t.proto;
    this.oSrc = t.src | 0;
    this.oDst = t.dst | 0;
    this.oPorts = packPorts(t.sport, t.dport);
    this.replyInverseOf(t);
  }
  /**
   * Makes a destroyed entry (out of the table, no longer referenced by any packet: Conntrack's free
   * list decides) the new entry `id` for `t`, as the constructor would: every field back to its initial
   * value. The table recycles expired entries so a long run does not promote and later mark-compact one
   * object per connection (an entry outlives the scavenges by its timeout).
   */
  renew(id: number, t: CtTuple): void {
    this.name(id, t);
    this.status = 0;
    this.tcpCt = TCP_NONE;
    this.tcpSeen = 0;
    this.expHi = 0;
    this.expLo = 0;
    this.mark = 0;
    this.udpHi = 0;
    this.udpLo = 0;
    this.pos = -1;
  }
  /** The ORIGINAL tuple's source port. */
  get oSport(): number {
    return this.oPorts >>> 16;
  }
  /** The ORIGINAL tuple's destination port. */
  get oDport(): number {
    return this.oPorts & 0xffff;
  }
  /** The REPLY tuple's source port. */
  get rSport(): number {
    return this.rPorts >>> 16;
  }
  /** The REPLY tuple's destination port. */
  get rDport(): number {
    return this.rPorts & 0xffff;
  }
  /** Absolute expiry time (ns). */
  get expires(): TimeNs {
    return this.expHi * HI + this.expLo;
  }
  set expires(t: TimeNs) {
    writeExpiry(this, t);
    if (this.pos >= 0) this.owner.expiryChanged(this, t); // the list's copy, read by the gc sweep
  }
  /** UDP's stream_ts (ns); 0 for other protocols. */
  get udpStreamTs(): TimeNs {
    return this.udpHi * HI + this.udpLo;
  }
  set udpStreamTs(t: TimeNs) {
    if (!(t < NEVER)) throw new Error(`conntrack: stream_ts ${t} ns is not a finite time`);
    const hi = Math.floor(t / HI);
    this.udpHi = hi | 0;
    this.udpLo = (t - hi * HI) | 0;
  }
  /** The ORIGINAL tuple, a new object per call (for inspection, rules and IPVS; the hot path reads the fields). */
  get orig(): CtTuple {
    return { proto: this.proto, src: this.oSrc >>> 0, sport: this.oPorts >>> 16, dst: this.oDst >>> 0, dport: this.oPorts & 0xffff };
  }
  /** The REPLY tuple, a new object per call. */
  get reply(): CtTuple {
    return { proto: this.proto, src: this.rSrc >>> 0, sport: this.rPorts >>> 16, dst: this.rDst >>> 0, dport: this.rPorts & 0xffff };
  }
  /** The REPLY tuple written into `out` (returned), with no new object. */
  replyInto(out: CtTuple): CtTuple {
    out.proto = this.proto;
    out.src = this.rSrc >>> 0;
    out.sport = this.rPorts >>> 16;
    out.dst = this.rDst >>> 0;
    out.dport = this.rPorts & 0xffff;
    return out;
  }
  /** Sets the REPLY tuple (nf_conntrack_alter_reply, IPVS): only while unconfirmed; the protocol stays. */
  set reply(t: CtTuple) {
    if (this.status & CtStatus.CONFIRMED) throw new Error('conntrack: the REPLY tuple of a confirmed entry cannot change');
    this.rSrc = t.src | 0;
    this.rDst = t.dst | 0;
    this.rPorts = packPorts(t.sport, t.dport);
  }
  /** Sets the REPLY tuple to the inverse of `t` (nf_ct_invert_tuple): at creation and for a NAT binding. */
  replyInverseOf(t: CtTuple): void {
    this.rSrc = t.dst | 0;
    this.rDst = t.src | 0;
    this.rPorts = t.proto === IpProto.ICMP ? packPorts(t.sport, invertIcmpDport(t.dport)) : packPorts(t.dport, t.sport);
  }
  /** The TCP state's name (enum tcp_conntrack), as conntrack -L prints it. */
  get tcpState(): TcpCtState {
    return TCP_CT_NAMES[this.tcpCt]!;
  }
  /** [ORIGINAL, REPLY], a new pair per call (for inspection; the fields save an array per entry). */
  get tuple(): readonly [CtTuple, CtTuple] {
    return [this.orig, this.reply];
  }
}

/**
 * Sets `ct`'s expiry fields to `t` and nothing else (not the list's copy): the `expires` setter's core,
 * called directly by conntrack's per-packet update, which writes the list's copy itself (small enough to
 * be inlined there, so `t` is not a heap number handed to a call).
 */
export function writeExpiry(ct: ConnEntry, t: TimeNs): void {
  if (!(t < NEVER)) throw new Error(`conntrack: expiry ${t} ns is not a finite time`);
  const hi = Math.floor(t / HI);
  ct.expHi = hi | 0; // `| 0`: an integer to V8 too (a float here would make the field a boxed double)
  ct.expLo = (t - hi * HI) | 0;
}

/**
 * The time of the conntrack operation under way (`[0]`, ns). Conntrack's per-packet path reads the time here rather than taking it as an
 * argument: a time is a double above 2^31 ns, and a double handed to (or returned from) a call V8 does
 * not inline is a new heap number at every call (issue 13: ~1.9 KB of young garbage a request in the
 * scale workload, most of it times passed between conntrack's methods). A Float64Array element carries
 * it unboxed. Written at each entry point (Conntrack.in, confirm, netfilter's hooks), read before any
 * other entry point can run (no conntrack call nests inside another). Slots 1 … TO_GENERIC + 1 hold the default
 * timeouts in timeoutsByIndex's layout (conntrack.ts fills them): a table of the default timeouts reads them here, on
 * the lines the time keeps warm, not from an array of their own (each read of it ~1.2 D1 misses in the scale window).
 */
export const CT_CLOCK = new Float64Array(TO_GENERIC + 2);

/** The unit of a time's high half (2^30 ns): times up to 2^61 ns as two small integers (expHi, expLo; conntrack's free ring too). */
export const EXP_HI_UNIT = 1 << 30;
const HI = EXP_HI_UNIT;
/** Times from here on do not fit (2^61 ns, ~73 years; simulated time is exact only to 2^53 anyway). */
const NEVER = 2 ** 61;
