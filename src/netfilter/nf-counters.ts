// netfilter/nf-counters — one namespace's packet and byte counters of its rules and built-in chain
// policies (`iptables-save -c`, `iptables -L -v`), the base class of Netfilter (its fields inline in the
// namespace's Netfilter object: no object more to reach per count). Layer: netfilter.
// Mirrors the per-rule struct xt_counters of ip_tables.c (ADD_COUNTER in ipt_do_table, the underflow
// rule's counters for a built-in chain's policy).
import type { Counters } from './rules.js';

/** Counter pages (NfCounters.pages): PAGE ids each. */
const PAGE_BITS = 6;
const PAGE = 1 << PAGE_BITS;

/**
 * Counts not yet added to their namespace: one log for every namespace, appended to per rule hit and
 * policy, applied in one pass when it is full or before any count is read or reset (`flushCounts`).
 * In a big cluster a packet's namespace is cold in cache: adding at once cost three dependent misses
 * per count (the page array, the page, its store) inside the traversal; appended here they are writes
 * to a few hot lines, and the pass overlaps the misses (its additions do not depend on each other).
 * Packet and byte counts are integers, so the order of the additions changes no sum.
 */
const LOG_MAX = 2048;
/** Whose count each entry is (null past `logN`: the log holds no namespace alive). */
const logOwner: Array<NfCounters | null> = new Array<NfCounters | null>(LOG_MAX).fill(null);
/** The rule or chain id counted (>= 0), or -1 - slot for a built-in chain's policy count. */
const logKey = new Int32Array(LOG_MAX);
/** The bytes counted (an IPv4 total length). */
const logBytes = new Int32Array(LOG_MAX);
let logN = 0;

/** Adds every logged count to its namespace (a read or reset of any namespace's counts comes after it). */
export function flushCounts(): void {
  const n = logN;
  logN = 0;
  for (let k = 0; k < n; k++) {
    const key = logKey[k]!;
    const nf = logOwner[k]!;
    if (key >= 0) nf.addCount(key, logBytes[k]!);
    else nf.addSlot(-1 - key, logBytes[k]!);
  }
  logOwner.fill(null, 0, n);
}

/** Counts logged and not yet added (tests). */
export function pendingCounts(): number {
  return logN;
}

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
    flushCounts(); // counts logged for the ids before the load go to the pages dropped here
    this.pages = [];
    this.slotCounts.fill(0);
    this.slotIds.set(ids);
  }

  /** Counts one packet of `bytes` for a rule (logged: added by flushCounts). */
  protected count(id: number, bytes: number): void {
    let n = logN;
    if (n === LOG_MAX) {
      flushCounts();
      n = 0;
    }
    logOwner[n] = this;
    logKey[n] = id;
    logBytes[n] = bytes;
    logN = n + 1;
  }

  /** Counts one packet of `bytes` for the policy of the built-in chain of `slot` (logged: added by flushCounts). */
  protected countSlot(slot: number, bytes: number): void {
    let n = logN;
    if (n === LOG_MAX) {
      flushCounts();
      n = 0;
    }
    logOwner[n] = this;
    logKey[n] = -1 - slot;
    logBytes[n] = bytes;
    logN = n + 1;
  }

  /** Adds one packet of `bytes` to a rule's or chain's count (its page created on its first packet). */
  addCount(id: number, bytes: number): void {
    const pg = this.pageFor(id);
    const o = (id & (PAGE - 1)) << 1;
    pg[o] = pg[o]! + 1;
    pg[o + 1] = pg[o + 1]! + bytes;
  }

  /** Adds one packet of `bytes` to the policy count of the built-in chain of `slot`. */
  addSlot(slot: number, bytes: number): void {
    const sc = this.slotCounts;
    const o = slot << 1;
    sc[o] = sc[o]! + 1;
    sc[o + 1] = sc[o + 1]! + bytes;
  }

  /** What this namespace counted since the load, by id (ids never counted are absent). */
  protected countedIds(): Map<number, Counters> {
    flushCounts();
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
    flushCounts();
    const pg = this.pageFor(id);
    const o = (id & (PAGE - 1)) << 1;
    pg[o] = k.packets;
    pg[o + 1] = k.bytes;
  }

  /** `base` (the counters the rule or chain was loaded with) plus what this namespace counted. */
  protected counted(id: number, base: Counters): Counters {
    flushCounts();
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
