// netfilter/ct-hash — the conntrack hash keyed by numbers: a tuple (proto, src, sport, dst, dport) is
// hashed into a small integer and compared field by field, instead of a string built per lookup (issue
// 13: `tupleKey` strings were a top cost per packet). Layer: netfilter.
// Mirrors the role of nf_conntrack_hash (hash_conntrack_raw over the tuple); only get/set/delete are
// offered, so no behaviour depends on the table's iteration order.
//
// The table holds the entries themselves, each under its two tuples (ORIGINAL, REPLY), which an entry
// keeps as its own fields (`CtKeys`): no object per tuple (an entry lives as long as its connection's
// TIME_WAIT, so every object per entry is one more for the scavenger to copy and the marker to trace).

/**
 * An entry's two tuples as its own fields: the ORIGINAL one (proto, oSrc, oSport, oDst, oDport) and the
 * REPLY one (same proto, rSrc, rSport, rDst, rDport), each tuple's ports in one small integer
 * (`oPorts` = sport << 16 | dport, as a signed 32-bit integer: one field fewer per tuple in every
 * entry, and one comparison). Addresses are kept as signed 32-bit integers (`x | 0`: a V8 small
 * integer, where an address above 2^31 as an unsigned number would be a boxed double in every entry);
 * they are compared that way too.
 */
export interface CtKeys {
  readonly proto: number;
  readonly oSrc: number;
  readonly oDst: number;
  readonly oPorts: number;
  readonly rSrc: number;
  readonly rDst: number;
  readonly rPorts: number;
}

/** A tuple's two ports as CtKeys keeps them. */
export function packPorts(sport: number, dport: number): number {
  return (sport << 16) | dport;
}

/** Slots of the shared recent entries (a power of two). */
const RECENT_SLOTS = 1024;

/** What a lookup finds: the entry and the direction of the tuple looked up (read-only). */
export interface CtHit<C> {
  readonly ct: C;
  readonly dir: 0 | 1;
}

/**
 * The tag of the tuple (proto, src, dst, ports) (addresses as signed or unsigned 32-bit alike; `ports` as
 * packPorts gives them): a 28-bit mix + 1 (never 0), the same for a tuple and its inverse, with ORIENT
 * set when the two ends were swapped to mix them in one order. A tuple and its inverse thus share a home
 * slot but not a tag: an entry whose REPLY tuple is the inverse of its ORIGINAL one (no NAT: every entry
 * of a node that only forwards or serves, and the VXLAN datagrams' UDP entries) has both tuples in one
 * probe run, mostly one cache line of the table. Confirm's second insert and the second delete when the
 * entry is reaped find that line warm instead of reading a cold one of a large table (issue 13: in the
 * scale workload's steady state each new connection inserts two tuples, and reaping deletes two, in
 * every namespace on its path); a probe for one of the two does not read the other's entry (the tags
 * differ), and they use different shared recent slots.
 */
function tag4(proto: number, src: number, dst: number, ports: number): number {
  // (a, b): the ends in one order (signed addresses, then ports), `ab` their ports the same way.
  let a = src;
  let b = dst;
  let ab = ports;
  let orient = 0;
  if (src > dst || (src === dst && ports >>> 16 > (ports & 0xffff))) {
    a = dst;
    b = src;
    ab = (ports << 16) | (ports >>> 16);
    orient = ORIENT;
  }
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ ab, 0x27d4eb2f);
  h ^= proto << 7;
  return (((h ^ (h >>> 15)) & HASH_MASK) + 1) | orient;
}

/** The tag of `e`'s tuple in direction `dir`. */
function tagOf(e: CtKeys, dir: 0 | 1): number {
  return dir === 0 ? tag4(e.proto, e.oSrc, e.oDst, e.oPorts) : tag4(e.proto, e.rSrc, e.rDst, e.rPorts);
}

/** True when `e`'s tuple in direction `dir` is (proto, src, dst, ports); src and dst signed. */
function same(e: CtKeys, dir: number, proto: number, src: number, dst: number, ports: number): boolean {
  return dir === 0
    ? e.oSrc === src && e.oDst === dst && e.oPorts === ports && e.proto === proto
    : e.rSrc === src && e.rDst === dst && e.rPorts === ports && e.proto === proto;
}

/**
 * Where the entries are: element i is the entry whose `pos` is i (conntrack's CtList's `refs`, one array
 * for the list's whole life). Read directly, not through the list object: a probe hit in a cold table
 * then chases the array and the entry, one object fewer (issue 13).
 */
export type CtSlots<C> = readonly (C | null)[];

/**
 * The entries found or inserted last in any table, by the low bits of their tuple's tag mixed with their
 * table's salt, each beside the slot key it has in its table (0: none): slot s is the pair RECENT[2s] (the key, a
 * small integer) and RECENT[2s + 1] (the entry), one cache line for both (two arrays were two lines a lookup,
 * each a D1 miss in the scale workload's window, ~0.8 a lookup). Shared by every table
 * (module-level, so warm in the CPU caches when the tables are not): a cluster of a thousand nodes has a
 * thousand tables, each cold, while the flows carrying packets are few; a hit costs no read of the
 * table, only of the entry, which the packet's update reads anyway. Each table answers only for its own
 * entries (`owner`), and keeps its slots a subset of its (entry, direction) pairs: `delete` clears the
 * slot it held, a rebinding overwrites it. Entries of tables no longer used (a finished world's) stay
 * referenced here, with their tables, until overwritten: at most RECENT_SLOTS entries.
 */
const recent: unknown[] = new Array<unknown>(2 * RECENT_SLOTS).fill(null).map((_, i) => ((i & 1) === 0 ? 0 : null));
export const RECENT = recent; // read here as `recent`: a module's own export is a Cell load and check at each use in optimized code
/** Salts of the tables made so far (deterministic: a counter, not a random draw). */
let saltSeq = 0;

/** A map from tuples (compared by value) to an entry and the direction of its that tuple is. */
export class TupleMap<C extends CtKeys & { readonly pos: number; readonly owner: unknown }> {
  /**
   * Open addressing with linear probing: slot i is the pair tab[2i], tab[2i + 1]: the tag (`tag4`) of an
   * entry's tuple with the direction in bit 30 (0: empty), and the entry's index in `slots` (its `pos`).
   * A probe reads the dense table and touches an entry only when the tags agree, so a miss (a new
   * connection's lookup in `in`, then confirm's clash checks: 3 per entry) costs about one cache line of
   * a large table, and the insert after a miss finds that line warm. The key and the index of a slot
   * share a cache line (session 25; two arrays before: a hit, an insert and a delete read two cold lines
   * of a big table). Growing and deleting (backward shift) move pairs without reading the entries. Typed
   * (session 23; the entries were held in a JS array before): no write barrier per insert, and growing
   * allocates off-heap stores the scavenger neither copies nor promotes. At most a quarter of the slots are used
   * (MAX_LOAD; half until session 45): a tuple and its inverse share a home, so runs are long at half, and a miss (each
   * new connection's tuple) read past its home's cache line ~16 % of the time in the scale window, the backward shift
   * of a delete (each reaped entry's two tuples) ~24 %.
   */
  private tab = new Int32Array(2 * MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  /** Mixed into the hash for the shared recent slots, so tables holding one tuple use different slots (conntrack's inAt reads it). */
  protected readonly salt = Math.imul(++saltSeq, 0x9e3779b1) & (RECENT_SLOTS - 1);
  private used = 0;
  /** The slot of the tuple `insert` found already held. */
  private atSlot = 0;
  /** The direction of the tuple the last successful `get` found. */
  dir: 0 | 1 = 0;
  /** `slots[i]` is the entry of index i (an entry's `pos` must not change while it is here, except through `remap`). */
  protected slots: CtSlots<C>;
  /** Every entry set here has this as its `owner`, and no other table's entries do. */
  private readonly owner: unknown;

  /**
   * `owner` null: the map itself (conntrack's table is a TupleMap, through CtList: its hash fields in the table's object,
   * no object more to reach per lookup in a cold table; the list hands its `refs` in as `slots` once its fields are made).
   */
  constructor(slots: CtSlots<C>, owner: unknown) {
    this.slots = slots;
    this.owner = owner ?? this;
  }

  /** Number of tuples held. */
  get size(): number {
    return this.used;
  }

  /** The entry one of whose tuples is `t` (its direction in `this.dir`), or undefined. */
  get(t: { proto: number; src: number; sport: number; dst: number; dport: number }): C | undefined {
    return this.get4(t.proto, t.src | 0, t.dst | 0, (t.sport << 16) | t.dport); // packPorts
  }

  /** The entry holding the tuple `e` has in direction `dir` (maybe another entry, or none). */
  getOf(e: CtKeys, dir: 0 | 1): C | undefined {
    return dir === 0 ? this.get4(e.proto, e.oSrc, e.oDst, e.oPorts) : this.get4(e.proto, e.rSrc, e.rDst, e.rPorts);
  }

  /** `get` of the tuple (proto, src, dst, ports): addresses signed (`| 0`), ports as packPorts gives them. */
  get4(proto: number, src: number, dst: number, ports: number): C | undefined {
    const key = tag4(proto, src, dst, ports);
    const slot = recentSlot(key, this.salt);
    const rk = recent[2 * slot] as number;
    if ((rk & KEY_MASK) === key) {
      const r = recent[2 * slot + 1] as C;
      const d = (rk >>> DIR_SHIFT) as 0 | 1;
      if (r.owner === this.owner && same(r, d, proto, src, dst, ports)) {
        this.dir = d;
        return r;
      }
    }
    const tab = this.tab;
    const mask = this.mask;
    for (let i = (key - 1) & mask; ; i = (i + 1) & mask) {
      const k = tab[2 * i]!;
      if (k === 0) return undefined;
      if ((k & KEY_MASK) === key) {
        const e = this.slots[tab[2 * i + 1]!]!;
        const d = (k >>> DIR_SHIFT) as 0 | 1;
        if (same(e, d, proto, src, dst, ports)) {
          recent[2 * slot] = k;
          recent[2 * slot + 1] = e;
          this.dir = d;
          return e;
        }
      }
    }
  }

  has(t: { proto: number; src: number; sport: number; dst: number; dport: number }): boolean {
    return this.get(t) !== undefined;
  }

  /**
   * Maps `e`'s tuple in direction `dir` to (e, dir): a slot already holding that tuple (for whichever
   * entry and direction) is rebound, else the tuple is added. `e`'s tuples must not change while it is in
   * the map.
   */
  set(e: C, dir: 0 | 1): void {
    if (this.insert(e, dir) === undefined) return;
    const i = this.atSlot;
    const tab = this.tab;
    const k = (tab[2 * i]! & KEY_MASK) | (dir << DIR_SHIFT);
    tab[2 * i] = k;
    tab[2 * i + 1] = e.pos;
    this.remember(e, k);
  }

  /**
   * Adds (e, dir) for `e`'s tuple in direction `dir` unless a slot holds that tuple already (for
   * whichever entry and direction): then nothing changes and that slot's entry is returned (its slot in
   * `atSlot`). One probe where a lookup and then `set` would be two (conntrack's confirm: the clash check of
   * each tuple and its insertion, as the kernel's hlist insert needs no second walk). `full`: the tuple's
   * slot key (`keyOf`), when the caller has it already.
   */
  insert(e: C, dir: 0 | 1, full: number = this.keyOf(e, dir)): C | undefined {
    const proto = e.proto;
    const src = dir === 0 ? e.oSrc : e.rSrc;
    const dst = dir === 0 ? e.oDst : e.rDst;
    const ports = dir === 0 ? e.oPorts : e.rPorts;
    const key = full & KEY_MASK;
    const tab = this.tab;
    const mask = this.mask;
    let i = (key - 1) & mask;
    for (; ; i = (i + 1) & mask) {
      const k = tab[2 * i]!;
      if (k === 0) break;
      if ((k & KEY_MASK) === key) {
        const other = this.slots[tab[2 * i + 1]!]!;
        if (same(other, k >>> DIR_SHIFT, proto, src, dst, ports)) {
          this.atSlot = i;
          return other;
        }
      }
    }
    tab[2 * i] = full;
    tab[2 * i + 1] = e.pos;
    if (++this.used * MAX_LOAD > mask + 1) this.grow();
    this.remember(e, full);
    return undefined;
  }

  private remember(e: C, full: number): void {
    const slot = recentSlot(full & KEY_MASK, this.salt);
    recent[2 * slot] = full;
    recent[2 * slot + 1] = e;
  }

  /** The slot key of `e`'s tuple in direction `dir`: its tag with the direction (what `deleteKey` takes). */
  keyOf(e: CtKeys, dir: 0 | 1): number {
    return tagOf(e, dir) | (dir << DIR_SHIFT);
  }

  /** Takes out `e`'s tuple in direction `dir` if it maps to (e, dir) (nothing otherwise). */
  delete(e: C, dir: 0 | 1): void {
    this.deleteKey(this.keyOf(e, dir), e.pos, e);
  }

  /**
   * `delete` of the slot key `full` (`keyOf`: the tuple's tag and direction) of entry `e` at index `pos`: the
   * entry's tuples are not read (conntrack's list keeps its entries' keys, so reaping an entry reads no more
   * of it than its expiry and status).
   */
  deleteKey(full: number, pos: number, e: C): void {
    const key = full & KEY_MASK;
    const tab = this.tab;
    const mask = this.mask;
    let i = (key - 1) & mask;
    for (; ; i = (i + 1) & mask) {
      const k = tab[2 * i]!;
      if (k === 0) return;
      if (k === full && tab[2 * i + 1] === pos) break;
    }
    const slot = recentSlot(key, this.salt);
    // The key first: a small integer, where comparing the entry reads the map of the one held there (maybe another, cold).
    if (recent[2 * slot] === full && recent[2 * slot + 1] === e) {
      recent[2 * slot] = 0;
      recent[2 * slot + 1] = null;
    }
    this.used--;
    // Backward shift: move later entries of the probe run into the hole when their home slot allows it.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const k = tab[2 * j]!;
      if (k === 0) break;
      const home = (k - 1) & mask;
      // j's entry may fill hole i when its home is not in the cyclic range (i, j].
      if (((j - home) & mask) >= ((j - i) & mask)) {
        tab[2 * i] = k;
        tab[2 * i + 1] = tab[2 * j + 1]!;
        i = j;
      }
    }
    tab[2 * i] = 0;
    tab[2 * i + 1] = 0;
  }

  /** The entries moved: the entry at index j is now at `map[j]` (CtList's squeeze; keys stay). */
  remap(map: Int32Array): void {
    const tab = this.tab;
    for (let i = 0; i < tab.length; i += 2) if (tab[i] !== 0) tab[i + 1] = map[tab[i + 1]!]!;
  }

  /** Doubles the slots, placing each entry by its stored key (the entries are not read). */
  private grow(): void {
    const old = this.tab;
    const size = old.length; // slots after doubling: twice the old slots, each two words
    const tab = new Int32Array(2 * size);
    const mask = size - 1;
    for (let j = 0; j < old.length; j += 2) {
      const k = old[j]!;
      if (k === 0) continue;
      let i = (k - 1) & mask;
      while (tab[2 * i] !== 0) i = (i + 1) & mask;
      tab[2 * i] = k;
      tab[2 * i + 1] = old[j + 1]!;
    }
    this.tab = tab;
    this.mask = mask;
  }
}

/**
 * Bits of a tuple hash; a slot's key is its tuple's tag (`tag4`: hash + 1, never 0, in bits 0-28 and the
 * orientation in bit 29) with the direction in bit 30. `(key - 1) & mask` is the home slot (tables stay
 * far below 2^28 slots).
 */
const HASH_MASK = 0x0fffffff;
const ORIENT = 1 << 29;
const DIR_SHIFT = 30;
/** The numbers conntrack's inAt writes out (its copy of get4's recent-slot test; checked at its load). */
export const RECENT_NUMBERS = [HASH_MASK, ORIENT, DIR_SHIFT, RECENT_SLOTS] as const;
const KEY_MASK = (1 << DIR_SHIFT) - 1;

/** A tag's shared recent slot in a table of salt `salt` (a tuple and its inverse differ by ORIENT: bit 9 here). */
function recentSlot(tag: number, salt: number): number {
  return (tag ^ (tag >>> 20) ^ salt) & (RECENT_SLOTS - 1);
}
/**
 * Slots of an empty TupleMap's table (a power of two; 2 KB). Allocating a typed array's off-heap store
 * costs far more than copying a small one: each doubling from 16 slots was one more (the big cluster's
 * thousand tables grow to a few thousand slots each, one allocation per doubling).
 */
const MIN_SLOTS = 256;
/** The table grows when more than 1 / MAX_LOAD of its slots are used (see `tab`): 32-64 bytes of off-heap store a tuple (16-32 at half). */
const MAX_LOAD = 4;
