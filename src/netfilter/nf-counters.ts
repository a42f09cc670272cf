// netfilter/nf-counters — one namespace's packet and byte counters of its rules and built-in chain
// policies (`iptables-save -c`, `iptables -L -v`), the base class of Netfilter (its fields inline in the
// namespace's Netfilter object: no object more to reach per count). Layer: netfilter.
// Mirrors the per-rule struct xt_counters of ip_tables.c (ADD_COUNTER in ipt_do_table, the underflow
// rule's counters for a built-in chain's policy).
import type { Counters } from './rules.js';

/**
 * The doubles of an id's entry: id, packets, bytes. Three, not a quad of four with one unused: a namespace's hot ids (its
 * chains' consecutive rules) span a quarter fewer lines, and an entry lies within one line more often (a packet's walks in
 * a cold namespace read one line per run of hits, a probe the lines of the run it passes).
 */
export const COUNT_STRIDE = 3;
const STRIDE = COUNT_STRIDE;
/** Entries ("quads": the name they had at four doubles) a fresh table holds; it doubles past half full, or a quarter once SPARSE_QUADS. */
const INIT_QUADS = 32;
/**
 * From this many quads on the table is kept at most a quarter full. A small table holds the hot ids of a namespace
 * (its chains' rules hit by every packet: what a packet's walks read, so dense is fewer lines); a big one holds
 * mostly ids of rules a new connection hits once (kube-proxy's nat rules, in the namespace where connections are
 * made), where an id out of its home quad costs a call from the generated walk and a probe (one more line, cold):
 * ~8 a request in the scale workload at half full, ~3 at a quarter. Sparse small tables cost more than they saved
 * (the walks' home-quad reads spread over twice the lines).
 */
const SPARSE_QUADS = 512;
/** The key of a free quad. */
const FREE = -1;

/**
 * Rules of a pinned slot's built-in chain counted beside its policy (its first ones): a nat walk of a new connection in a
 * cold namespace counts PREROUTING's / OUTPUT's `-j KUBE-SERVICES` and the policy, or POSTROUTING's two jumps and the
 * policy, on one line where their entries in the hash were one line each (issue 13).
 */
export const PIN_RULES = 2;
/** Doubles of a pinned slot's block: its policy's packets and bytes, then each pinned rule's. */
const PIN_BLOCK = 2 * (1 + PIN_RULES);
/** A slot's pinned id in `slotInfo` when the slot has no block (below pinFrom). */
const NOPIN = -2;
/** Ints a slot has in `slotInfo`: its offset in countTab, its built-in chain's id (-1: none), its pinned rules' ids (-1: none). */
const INFO = 2 + PIN_RULES;

/**
 * The offset in countTab of slot `s`'s policy counts (NfCounters.countSlot's `o`, a built-in chain's walk's `so`) when the
 * slots from `pinFrom` on are pinned: a pair each before them, a block of PIN_BLOCK (the pinned rules' pairs after the
 * policy's) from there. Small, for the hooks to inline (a constant slot folds).
 */
export function slotOffset(s: number, pinFrom: number): number {
  return s < pinFrom ? s << 1 : (pinFrom << 1) + (s - pinFrom) * PIN_BLOCK;
}

/** Counts by compiled rule / chain id (ids are global, shared chains share them; the counts are this namespace's). */
export abstract class NfCounters {
  /**
   * Every count of the namespace in one array: first the policy counts of the hooks' built-in chains by
   * slot ([packets, bytes] pairs; a pinned slot's followed by its first PIN_RULES rules' pairs; `countHead`
   * doubles rounded up to a quad), then an open-addressing hash of
   * the rule / chain ids counted since load, a quad each: id (FREE: none), packets, bytes. In a big
   * cluster a packet's namespace is cold in cache: a count is two dependent misses here (the array
   * object, then the quad's line), where pages of ids by page number were four (the page array, its
   * elements, the page, its store); the policy counts of a hook share the object. Public with
   * `countHead` and `countMask` for the generated walks (walk-gen.ts), which count a rule found in its
   * home quad (or a pinned one in its slot's block) themselves (as count() does) and call hit() otherwise; written only
   * by this class and the walks. A number
   * array of packed doubles (freshTable), not a Float64Array: its header is 32 bytes, where a typed array's
   * is 80 and its data pointers lie past the map's line (a packet's first count read three lines, now two).
   * A rule's count is its hash entry's plus, if pinned, its cell's (hit() counts into the hash: the interpreter, a trace).
   */
  countTab: number[];
  /** Doubles before the first quad (the slot counts). */
  readonly countHead: number;
  /** Quads - 1 (a power of two). */
  countMask = INIT_QUADS - 1;
  /** Quads holding an id. */
  private used = 0;
  /** INFO ints a slot: its offset, the id of its built-in chain (-1: none loaded; its policy counts are added to that id's when read), its pinned rules' ids (-1: none; their cells' counts added to theirs). */
  private readonly slotInfo: Int32Array;

  /** `slots` hook slots, those from `pinFrom` on pinned (PIN_RULES rules of their built-in chains counted in their blocks). */
  constructor(slots: number, pinFrom = slots) {
    this.countHead = (slotOffset(slots, pinFrom) + 3) & ~3;
    this.countTab = freshTable(this.countHead, INIT_QUADS);
    this.slotInfo = new Int32Array(slots * INFO).fill(-1);
    for (let s = 0; s < slots; s++) {
      this.slotInfo[s * INFO] = slotOffset(s, pinFrom);
      if (s < pinFrom) this.slotInfo.fill(NOPIN, s * INFO + 2, s * INFO + INFO); // no block: never pinned
    }
  }

  /** Drops every count (a load): `ids` are the slots' built-in chain ids now (-1: none), `pins[s]` the ids of slot s's built-in chain's rules (its first PIN_RULES pinned, if its slot is). */
  protected resetCounts(ids: readonly number[], pins: readonly (readonly number[])[] = []): void {
    this.countTab = freshTable(this.countHead, INIT_QUADS);
    this.countMask = INIT_QUADS - 1;
    this.used = 0;
    const info = this.slotInfo;
    for (let o = 0, s = 0; o < info.length; o += INFO, s++) {
      info[o + 1] = ids[s] ?? -1;
      if (info[o + 2] !== NOPIN) for (let k = 0; k < PIN_RULES; k++) info[o + 2 + k] = pins[s]?.[k] ?? -1;
    }
  }

  /** Counts one packet of `bytes` for a rule or built-in chain (its quad taken on its first packet). */
  protected count(id: number, bytes: number): void {
    const t = this.countTab;
    // Consecutive ids (a chain's rules) fall in consecutive quads: a traversal's hits share lines, and
    // nearly every id is in its first quad (the table is at most half full). That case alone here,
    // small enough for V8 to inline into hit(); probing on and inserting in countProbe.
    const q = this.countHead + (countHash(id) & this.countMask) * STRIDE;
    if (t[q] === id) {
      t[q + 1] = t[q + 1]! + 1;
      t[q + 2] = t[q + 2]! + bytes;
    } else this.countProbe(id, bytes, q);
  }

  /**
   * count() past the first quad: linear probing from `q` (the id's home quad), a free quad taken for the id.
   * An id found away from home that has now counted more packets than the id in its home quad swaps
   * quads with it (the table only grows: the one moved out stays reachable from its own home, every quad
   * between having been probed through). So the hot ids of a namespace sit in their home quads, which a
   * generated walk counts itself: a rule hit on every packet (FORWARD's jump to KUBE-FORWARD, OUTPUT's
   * rules for VXLAN datagrams) displaced by an id of a new connection's nat rule was a call of hit() and
   * this probe for every packet (issue 13: ~27 a request in the scale workload's server nodes).
   */
  private countProbe(id: number, bytes: number, q: number): void {
    let t = this.countTab;
    const head = this.countHead;
    const end = t.length;
    const home = q;
    let k = t[q]!;
    while (k !== id) {
      if (k === FREE) {
        q = this.insert(id);
        t = this.countTab;
        t[q + 1] = 1;
        t[q + 2] = bytes;
        return;
      }
      q += STRIDE;
      if (q === end) q = head;
      k = t[q]!;
    }
    const packets = t[q + 1]! + 1;
    const total = t[q + 2]! + bytes;
    if (packets > t[home + 1]!) {
      t[q] = t[home]!;
      t[q + 1] = t[home + 1]!;
      t[q + 2] = t[home + 2]!;
      q = home;
      t[q] = id;
    }
    t[q + 1] = packets;
    t[q + 2] = total;
  }

  /** Counts one packet of `bytes` for the policy of the built-in chain of a slot, its counts at `o` (slotOffset). */
  protected countSlot(o: number, bytes: number): void {
    const t = this.countTab;
    t[o] = t[o]! + 1;
    t[o + 1] = t[o + 1]! + bytes;
  }

  /** What this namespace counted since the load, by id (ids never counted are absent). */
  protected countedIds(): Map<number, Counters> {
    const out = new Map<number, Counters>();
    const t = this.countTab;
    for (let q = this.countHead; q < t.length; q += STRIDE) {
      const packets = t[q + 1]!;
      const bytes = t[q + 2]!;
      if (t[q] !== FREE && (packets !== 0 || bytes !== 0)) out.set(t[q]!, { packets, bytes });
    }
    this.slotCells((id, o) => {
      const packets = t[o]!;
      const bytes = t[o + 1]!;
      if (packets === 0 && bytes === 0) return;
      const k = out.get(id);
      out.set(id, k === undefined ? { packets, bytes } : { packets: k.packets + packets, bytes: k.bytes + bytes });
    });
    return out;
  }

  /** Sets what this namespace counted for `id` (loadNoflush carrying a counter over, after the load's reset). */
  protected setCount(id: number, k: Counters): void {
    let q = this.find(id);
    if (q < 0) q = this.insert(id);
    this.countTab[q + 1] = k.packets;
    this.countTab[q + 2] = k.bytes;
  }

  /** `base` (the counters the rule or chain was loaded with) plus what this namespace counted. */
  protected counted(id: number, base: Counters): Counters {
    let packets = base.packets;
    let bytes = base.bytes;
    const t = this.countTab;
    const q = this.find(id);
    if (q >= 0) {
      packets += t[q + 1]!;
      bytes += t[q + 2]!;
    }
    this.slotCells((sid, o) => {
      if (sid !== id) return;
      packets += t[o]!;
      bytes += t[o + 1]!;
    });
    return { packets, bytes };
  }

  /** Calls `f` with each id counted in the head and its pair's offset: the slots' built-in chains (policies) and pinned rules. */
  private slotCells(f: (id: number, o: number) => void): void {
    const info = this.slotInfo;
    for (let i = 0; i < info.length; i += INFO) {
      const o = info[i]!;
      for (let k = 0; k <= PIN_RULES; k++) if (info[i + 1 + k]! >= 0) f(info[i + 1 + k]!, o + 2 * k);
    }
  }

  /** The quad of `id`, or -1. */
  private find(id: number): number {
    const t = this.countTab;
    let q = this.countHead + (countHash(id) & this.countMask) * STRIDE;
    for (;;) {
      const k = t[q]!;
      if (k === id) return q;
      if (k === FREE) return -1;
      q += STRIDE;
      if (q === t.length) q = this.countHead;
    }
  }

  /** Takes a free quad for `id` (absent), doubling the table past half full (a quarter from SPARSE_QUADS on); its index. */
  private insert(id: number): number {
    // (A loop: half full at SPARSE_QUADS / 2 is past a quarter of SPARSE_QUADS, so that doubling doubles again.)
    while ((this.used + 1) * (this.countMask + 1 >= SPARSE_QUADS ? 4 : 2) > this.countMask + 1) this.grow();
    const t = this.countTab;
    let q = this.countHead + (countHash(id) & this.countMask) * STRIDE;
    while (t[q] !== FREE) {
      q += STRIDE;
      if (q === t.length) q = this.countHead;
    }
    t[q] = id;
    this.used++;
    return q;
  }

  /** Doubles the hash part (the slot counts copied as they are). */
  private grow(): void {
    const old = this.countTab;
    const head = this.countHead;
    const quads = (this.countMask + 1) * 2;
    const t = freshTable(head, quads);
    for (let o = 0; o < head; o++) t[o] = old[o]!;
    this.countTab = t;
    this.countMask = quads - 1;
    for (let o = head; o < old.length; o += STRIDE) {
      const id = old[o]!;
      if (id === FREE) continue;
      let q = head + (countHash(id) & this.countMask) * STRIDE;
      while (t[q] !== FREE) {
        q += STRIDE;
        if (q === t.length) q = head;
      }
      t[q] = id;
      t[q + 1] = old[o + 1]!;
      t[q + 2] = old[o + 2]!;
    }
  }
}

/** The hash of a rule / chain id whose low bits pick its home quad. */
export function countHash(id: number): number {
  return id ^ (id >>> 12);
}

/** countHash as a JS expression of the identifier `x`, for generated code (walk-gen's hits): the same operations. */
export function countHashSrc(x: string): string {
  return `(${x} ^ (${x} >>> 12))`;
}

/** The index of id `x`'s home entry in the countTab of WalkHost `host` as a JS expression (count()'s `q`). */
export function countHomeSrc(x: string, host: string): string {
  return `${host}.countHead + (${countHashSrc(x)} & ${host}.countMask) * ${STRIDE}`;
}

/**
 * A table of `head` zeroed slot doubles and `quads` free quads: an array of doubles from its first element (the
 * literal's NaN), so V8 keeps its elements unboxed and it never changes kind (small integers first would make it
 * an array of small integers, turned into doubles by the first byte count past 2^31).
 */
function freshTable(head: number, quads: number): number[] {
  const t = [NaN];
  const n = head + quads * STRIDE;
  for (let i = 1; i < n; i++) t.push(0);
  t[0] = 0;
  for (let q = head; q < n; q += STRIDE) t[q] = FREE;
  return t;
}
