// netfilter/ct-list — the confirmed conntrack entries of a namespace in insertion order, with each
// entry's expiry beside it and the position of the incremental gc sweep. Layer: netfilter. Mirrors the
// role of the kernel's walk over nf_conntrack_hash in gc_worker (which resumes where its last run
// stopped); `conntrack -L` order is this list's.
//
// An array in insertion order (a deleted entry leaves a hole, squeezed out later) rather than links
// through the entries: the gc sweep steps over `exp`, dense 32-bit copies, and touches an entry only
// when it has expired. With links, every step read the next entry — an object cold in the CPU caches
// (tens of thousands of TIME_WAIT entries), ~1.5 % of H1's run for two steps per new connection that
// found nothing to reap (session 23).

import { TupleMap, type CtKeys } from './ct-hash.js';

/** What the list needs of an entry: its index here (-1 while outside the list) and its expiry; the hash its tuples and table. */
export interface CtListEntry extends CtKeys {
  pos: number;
  readonly expires: number;
  readonly owner: unknown;
}

/**
 * Entries in insertion order; add at the tail, delete anywhere in O(1). The hash of their tuples (TupleMap) is the base
 * class, whose slots are this list's `refs`: conntrack's table (Conntrack extends CtList) is one object holding the
 * hash's fields, then the list's, then its own, where the list was an object of its own (issue 13: a cold table's list
 * object was one more line to read for each new connection's gc step, ~0.6 LL misses a request in the scale window).
 * The list's names keep clear of the hash's (`size`, `delete` are the hash's tuples): `listed`, `unlist`.
 */
export class CtList<E extends CtListEntry> extends TupleMap<E> {
  // Fields in the order V8 lays them out (after the hash's): what the gc sweep reads at each step (exp, cursor, len),
  // then what an add or a delete also reads (a table visited seldom has them cold; issue 13).
  /**
   * `exp[i]` for i < `cap`: a lower bound of the expiry of `refs[i]` in EXP_UNIT ticks, `expCopy(e.expires)` when added
   * or set by `setExp`; conntrack writes it with every expiry of a listed entry (exact: floor(expiry / EXP_UNIT)), so its
   * sweep knows a copy below `expTick(now)` expired and reads the entry only at that tick. A hole holds -1 (never a copy: they are 0 or
   * more), so finding the next entry steps over `exp` alone: the sweep reads `refs` only for an entry it reaps (two
   * arrays a step were two cold lines in a namespace the sweep visits seldom). 32 bits (issue 13): 16 entries a line
   * for the sweep, which steps over it for every new connection, where float64's 8 were ~2 cold lines a request in the
   * scale window. `exp[cap + 2i]`, `exp[cap + 2i + 1]`: what the owner handed `add` for `refs[i]` (conntrack: the hash's slot keys
   * of its ORIGINAL and REPLY tuples, so reaping an entry deletes them without reading its tuples, a cold line of a
   * cold object; holes hold anything). One typed array for both (integers, where the copies were float32 before): a
   * reaped entry's keys are read through the array object the sweep has just read, not a second one (its own line in a
   * table visited seldom, ~0.5 LL misses a request in the scale window).
   */
  exp = new Int32Array(3 * MIN_CAP);
  /**
   * The index of the entry the gc sweep looks at next, always an entry; -1: the first entry (as a
   * linked list's null cursor: after the tail, or after its entry was deleted as the tail, the sweep
   * restarts at the head even if entries were added meanwhile).
   */
  private cursor = -1;
  /** Indices used (entries and holes). */
  private len = 0;
  /** Entries held. */
  listed = 0;
  /**
   * Entries by index, where `exp` holds a copy; at a hole (-1 in `exp`, until `squeeze`) null or the entry deleted there
   * (`unlist` does not write it). The same array for the list's whole life (the hash's `slots`; they name
   * listed entries only); do not write it from outside. `cap` long (nulls past `len`),
   * grown with it in `makeRoom`: an add stores into it, never pushes (issue 13: the push was a builtin call per new
   * connection, ~150 instructions, and its write barrier tested the flags of the array's page, a cold line of its own
   * for a large array: ~0.7 LL misses a push in the scale window).
   */
  readonly refs: (E | null)[] = nulls(MIN_CAP);
  /** Indices `exp` and `refs` have room for: the keys of index i are at `exp[cap + 2i]` and `exp[cap + 2i + 1]`. */
  cap = MIN_CAP;
  /** No entry below this index (the holes at the front, skipped once). */
  private first = 0;

  constructor() {
    super([], null);
    this.slots = this.refs; // the hash holds the list's indices
  }

  /** Appends `e` (its expiry as it is now) with its keys `k0`, `k1`. Small, to be inlined: the rare work is in `makeRoom`. */
  add(e: E, k0 = 0, k1 = 0): void {
    let i = this.len;
    if (i === this.cap || i - this.listed > SQUEEZE_RATIO * this.listed + SQUEEZE_MIN) i = this.makeRoom();
    this.len = i + 1;
    this.refs[i] = e; // i < cap === refs.length
    const exp = this.exp;
    exp[i] = expCopy(e.expires);
    const k = this.cap + 2 * i;
    exp[k] = k0;
    exp[k + 1] = k1;
    e.pos = i;
    this.listed++;
  }

  /**
   * Before an add: squeezes out the holes when they outnumber the entries SQUEEZE_RATIO times (and
   * SQUEEZE_MIN more), grows `exp` (copies and keys) and `refs` when full; returns the index to add at.
   */
  private makeRoom(): number {
    if (this.len - this.listed > SQUEEZE_RATIO * this.listed + SQUEEZE_MIN) this.squeeze();
    const i = this.len;
    if (i === this.cap) {
      const exp = new Int32Array(6 * i);
      exp.set(this.exp.subarray(0, i)); // the copies, then the keys at the new cap
      exp.set(this.exp.subarray(i, 3 * i), 2 * i);
      this.exp = exp;
      this.cap = 2 * i;
      const refs = this.refs;
      for (let j = refs.length; j < 2 * i; j++) refs.push(null);
    }
    return i;
  }

  /** True when `e` is in the list (an entry the sweep unlisted by `unlistIndex` keeps a stale `pos`: its index is a hole or another entry's). */
  holds(e: E): boolean {
    const i = e.pos;
    return i >= 0 && this.refs[i] === e && this.exp[i]! >= 0;
  }

  /** Takes `e` out of the list (nothing when it is not in it); its tuples stay in the hash. */
  unlist(e: E): void {
    if (this.holds(e)) this.unlistAt(e, e.pos);
  }

  /** `unlist` of `e`, known to be the entry at index `i` (its `pos` not read: conntrack's gc sweep, a cold entry). */
  unlistAt(e: E, i: number): void {
    this.unlistIndex(i);
    e.pos = -1;
  }

  /**
   * Takes the entry at index `i` out of the list without writing it (conntrack's gc sweep, which does not read a reaped
   * entry: a cold object of a cold table). Its `pos` stays `i`, stale: `holds` tells it apart (a hole, or another entry
   * there after the tail was dropped or squeezed).
   */
  unlistIndex(i: number): void {
    if (this.cursor === i) this.cursor = this.nextAfter(i);
    // The hole is -1 in `exp` alone: `refs[i]` keeps `e` (stale: e.pos is -1, so no membership test takes it) until an
    // add or a squeeze writes it. A store of null into `refs` was a write barrier testing the page flags of the array (a
    // large object: its page header a cold line of its own) and a read of its elements' header line, for each reaped entry.
    const exp = this.exp;
    exp[i] = -1;
    this.listed--;
    if (i === this.len - 1) {
      // The tail: drop it and the holes before it (a later add must not land between them and the sweep), their stale
      // references cleared (past `len`, refs holds nulls only: nothing kept alive there; a tail is rarely deleted).
      let n = i;
      while (n > this.first && exp[n - 1]! < 0) n--;
      this.refs.fill(null, n, i + 1);
      this.len = n;
      if (n <= this.first) this.first = n;
    }
  }

  /** `e`'s expiry changed (e is in the list). */
  setExp(e: E, t: number): void {
    this.exp[e.pos] = expCopy(t);
  }

  /** The entry at index `i` (an index `gcNextIndex` or `firstIndex`/`nextAfter` gave). */
  at(i: number): E {
    return this.refs[i]!;
  }

  /** The entries in order (a new array). */
  all(): E[] {
    const out: E[] = [];
    for (let i = this.firstIndex(); i >= 0; i = this.nextAfter(i)) out.push(this.refs[i]!);
    return out;
  }

  /** The index of the first entry, -1 when empty. */
  firstIndex(): number {
    const exp = this.exp;
    let i = this.first;
    while (i < this.len && exp[i]! < 0) i++; // a hole: -1
    this.first = i;
    return i < this.len ? i : -1;
  }

  /** The index of the first entry after index `i`, -1 when none. */
  nextAfter(i: number): number {
    const exp = this.exp;
    for (let j = i + 1; j < this.len; j++) if (exp[j]! >= 0) return j; // not a hole (-1)
    return -1;
  }

  /** The index of the next entry of the gc sweep (from the first again after the last); -1 when the list is empty. */
  gcNextIndex(): number {
    const i = this.cursor >= 0 ? this.cursor : this.firstIndex();
    if (i >= 0) this.cursor = this.nextAfter(i);
    return i;
  }

  /** Moves the entries down over the holes, in order (their `pos` rewritten; the sweep's cursor follows its entry). */
  private squeeze(): void {
    const refs = this.refs;
    const exp = this.exp;
    const c = this.cap;
    const map = new Int32Array(this.len);
    let n = 0;
    let cursor = -1;
    for (let i = this.first; i < this.len; i++) {
      if (exp[i]! < 0) continue; // a hole (its refs element null or stale)
      const e = refs[i]!;
      if (i === this.cursor) cursor = n;
      map[i] = n;
      if (i !== n) {
        refs[n] = e;
        exp[n] = exp[i]!;
        exp[c + 2 * n] = exp[c + 2 * i]!;
        exp[c + 2 * n + 1] = exp[c + 2 * i + 1]!;
        e.pos = n;
      }
      n++;
    }
    // The array keeps its length (nulls past the entries): the adds after a squeeze write into it instead
    // of growing it again by copies (a shorter length would give its store back).
    refs.fill(null, n, this.len);
    this.len = n;
    this.first = 0;
    this.cursor = cursor;
    this.remap(map); // the hash's indices follow
  }
}

/** An array of `n` nulls, packed (pushed one by one: `new Array(n)` would be holey, a hole check at each read). */
function nulls<E>(n: number): (E | null)[] {
  const a: (E | null)[] = [];
  for (let j = 0; j < n; j++) a.push(null);
  return a;
}

/**
 * `add` squeezes the array when its holes outnumber the entries SQUEEZE_RATIO times and SQUEEZE_MIN
 * more. A squeeze writes every entry's `pos` (each entry a cold object in a large table) and rewrites
 * the hash's indices (`remap`): in a long run's steady state the holes come as fast as the adds (reaped
 * entries), so the cost is spread over about SQUEEZE_RATIO * size adds; the holes in between cost the
 * sweep a sequential read of `refs` each.
 */
const SQUEEZE_RATIO = 3;
const SQUEEZE_MIN = 64;
/** The unit of the expiry copies in `exp`: 2^21 ns (2.1 ms), so 31 bits reach 2^52 ns (52 days). */
export const EXP_UNIT = 2 ** 21;
/** 1 / EXP_UNIT (a power of two: `t * EXP_PER_NS` is exact). */
export const EXP_PER_NS = 2 ** -21;
/**
 * The copy `exp` keeps of the time `t` (ns, 0 or more): its EXP_UNIT ticks rounded down (exactly floor(t / EXP_UNIT)
 * below 2^52 ns), saturating at 2^31 - 1 ticks; so never later than `t` and never -1 (a hole). What the owner writes into
 * `exp[i]` too (conntrack: `Math.min(t * EXP_PER_NS, 0x7fffffff) | 0` inline). Saturating, not wrapping (`& 0x7fffffff`
 * until session 46): conntrack keeps the copies exact and its sweep takes a copy below the tick of `now` as expired
 * without reading the entry, which a wrapped copy of a time past 2^52 ns would fool.
 */
export function expCopy(t: number): number {
  return Math.min(t * EXP_PER_NS, 0x7fffffff) | 0;
}
/**
 * The tick the sweep compares copies with at `now`: a copy c is at most it exactly when c * EXP_UNIT <= now, so an
 * entry that has expired by `now` always passes (its copy is at most its expiry's ticks).
 */
export function expTick(now: number): number {
  return Math.floor(now * EXP_PER_NS);
}
/** The initial capacity (`exp` 1.5 KB: fewer doublings, each an off-heap allocation, as TupleMap's MIN_SLOTS). */
const MIN_CAP = 128;
