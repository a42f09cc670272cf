// netfilter/nf-counters — one namespace's packet and byte counters of its rules and built-in chain
// policies (`iptables-save -c`, `iptables -L -v`), the base class of Netfilter (its fields inline in the
// namespace's Netfilter object: no object more to reach per count). Layer: netfilter.
// Mirrors the per-rule struct xt_counters of ip_tables.c (ADD_COUNTER in ipt_do_table, the underflow
// rule's counters for a built-in chain's policy).
import type { Counters } from './rules.js';

/** Counter pages (NfCounters.pages): PAGE ids each. */
const PAGE_BITS = 6;
const PAGE = 1 << PAGE_BITS;

/** Counts by compiled rule / chain id (ids are global, shared chains share them; the counts are this namespace's). */
export abstract class NfCounters {
  /**
   * Packet and byte counts by compiled rule / chain id since load: page id >>> PAGE_BITS holds the
   * [packets, bytes] pairs of PAGE ids (a compiled chain's rules have consecutive ids), allocated on the
   * first packet one of them counts; null: none counted.
   */
  private pages: Array<Float64Array | null> = [];
  /**
   * The policy counts of the hooks' built-in chains since load, by slot ([packets, bytes] pairs), kept
   * apart from the pages: a hook's policy count (an empty mangle chain's, at every packet) writes this one
   * small array of the namespace's, not a page reached through the chain's id. Added to the count of the
   * slot's chain id (`slotIds`) when read.
   */
  private readonly slotCounts: Float64Array;
  /** The id of each slot's built-in chain (-1: none loaded). */
  private readonly slotIds: Int32Array;

  constructor(slots: number) {
    this.slotCounts = new Float64Array(slots * 2);
    this.slotIds = new Int32Array(slots).fill(-1);
  }

  /** Drops every count (a load): `ids` are the slots' built-in chain ids now (-1: none). */
  protected resetCounts(ids: readonly number[]): void {
    this.pages = [];
    this.slotCounts.fill(0);
    this.slotIds.set(ids);
  }

  /** Counts one packet of `bytes` for a rule or built-in chain (its page created on its first packet). */
  protected count(id: number, bytes: number): void {
    const pg = this.pageFor(id);
    const o = (id & (PAGE - 1)) << 1;
    pg[o] = pg[o]! + 1;
    pg[o + 1] = pg[o + 1]! + bytes;
  }

  /** Counts one packet of `bytes` for the policy of the built-in chain of `slot`. */
  protected countSlot(slot: number, bytes: number): void {
    const sc = this.slotCounts;
    const o = slot << 1;
    sc[o] = sc[o]! + 1;
    sc[o + 1] = sc[o + 1]! + bytes;
  }

  /** What this namespace counted since the load, by id (ids never counted are absent). */
  protected countedIds(): Map<number, Counters> {
    const out = new Map<number, Counters>();
    this.pages.forEach((pg, pi) => {
      if (pg === null) return;
      for (let j = 0; j < PAGE; j++) {
        const packets = pg[j << 1]!;
        const bytes = pg[(j << 1) + 1]!;
        if (packets !== 0 || bytes !== 0) out.set((pi << PAGE_BITS) | j, { packets, bytes });
      }
    });
    this.slotIds.forEach((id, s) => {
      const packets = this.slotCounts[s << 1]!;
      const bytes = this.slotCounts[(s << 1) + 1]!;
      if (id < 0 || (packets === 0 && bytes === 0)) return;
      const k = out.get(id);
      out.set(id, k === undefined ? { packets, bytes } : { packets: k.packets + packets, bytes: k.bytes + bytes });
    });
    return out;
  }

  /** Sets what this namespace counted for `id` (loadNoflush carrying a counter over, after the load's reset). */
  protected setCount(id: number, k: Counters): void {
    const pg = this.pageFor(id);
    const o = (id & (PAGE - 1)) << 1;
    pg[o] = k.packets;
    pg[o + 1] = k.bytes;
  }

  /** `base` (the counters the rule or chain was loaded with) plus what this namespace counted. */
  protected counted(id: number, base: Counters): Counters {
    let packets = base.packets;
    let bytes = base.bytes;
    const pi = id >>> PAGE_BITS;
    const pg = pi < this.pages.length ? this.pages[pi]! : null;
    if (pg !== null) {
      const o = (id & (PAGE - 1)) << 1;
      packets += pg[o]!;
      bytes += pg[o + 1]!;
    }
    this.slotIds.forEach((sid, s) => {
      if (sid !== id) return;
      packets += this.slotCounts[s << 1]!;
      bytes += this.slotCounts[(s << 1) + 1]!;
    });
    return { packets, bytes };
  }

  /** The counter page holding `id` (created on its first count). */
  private pageFor(id: number): Float64Array {
    const pi = id >>> PAGE_BITS;
    const pages = this.pages;
    const pg = pi < pages.length ? pages[pi]! : null;
    if (pg !== null) return pg;
    while (pages.length <= pi) pages.push(null);
    const fresh = new Float64Array(PAGE * 2);
    pages[pi] = fresh;
    return fresh;
  }
}
