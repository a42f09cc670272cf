// netfilter/ct-list — the confirmed conntrack entries of a namespace in insertion order, with each
// entry's expiry beside it and the position of the incremental gc sweep. Layer: netfilter. Mirrors the
// role of the kernel's walk over nf_conntrack_hash in gc_worker (which resumes where its last run
// stopped); `conntrack -L` order is this list's.
//
// An array in insertion order (a deleted entry leaves a hole, squeezed out later) rather than links
// through the entries: the gc sweep steps over `exp`, a dense Float32Array, and touches an entry only
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
   * `exp[i]`: a lower bound of the expiry of `refs[i]`, its `expires` times EXP_LOWER when added or set by `setExp`
   * (a float32 never above the time: `lowerExp`); the owner may leave it behind when the expiry moves later
   * (conntrack's update, per packet), so a sweep finding `exp[i] <= now` reads the entry to know. A hole holds NaN
   * (never an expiry: `writeExpiry` takes finite times only), so finding the next entry steps over `exp` alone: the
   * sweep reads `refs` only for an entry it reaps (two arrays a step were two cold lines in a namespace the sweep
   * visits seldom). Float32 (issue 13): 16 entries a line for the sweep, which steps over it for every new
   * connection, where float64's 8 were ~2 cold lines a request in the scale window; a copy as much as 2^-22 of the
   * time early only makes the sweep read an entry that has a few hundred microseconds left (at 1,000 s) and leave it.
   */
  exp = new Float32Array(MIN_CAP);
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
   * Entries by index, where `exp` holds no NaN; at a hole (NaN in `exp`, until `squeeze`) null or the entry deleted there
   * (`unlist` does not write it). The same array for the list's whole life (the hash's `slots`; they name
   * listed entries only); do not write it from outside. As long as `exp` (nulls past `len`),
   * grown with it in `makeRoom`: an add stores into it, never pushes (issue 13: the push was a builtin call per new
   * connection, ~150 instructions, and its write barrier tested the flags of the array's page, a cold line of its own
   * for a large array: ~0.7 LL misses a push in the scale window).
   */
  readonly refs: (E | null)[] = nulls(MIN_CAP);
  /**
   * `keys[2i]`, `keys[2i + 1]`: what the owner handed `add` for `refs[i]` (conntrack: the hash's slot keys of its
   * ORIGINAL and REPLY tuples, so reaping an entry deletes them without reading its tuples, a cold line of a
   * cold object). Holes hold anything.
   */
  keys = new Int32Array(2 * MIN_CAP);
  /** No entry below this index (the holes at the front, skipped once). */
  private first = 0;

  constructor() {
    super([], null);
    this.slots = this.refs; // the hash holds the list's indices
  }

  /** Appends `e` (its expiry as it is now) with its keys `k0`, `k1`. Small, to be inlined: the rare work is in `makeRoom`. */
  add(e: E, k0 = 0, k1 = 0): void {
    let i = this.len;
    if (i === this.exp.length || i - this.listed > SQUEEZE_RATIO * this.listed + SQUEEZE_MIN) i = this.makeRoom();
    this.len = i + 1;
    this.refs[i] = e; // i < exp.length === refs.length
    this.exp[i] = e.expires * EXP_LOWER;
    this.keys[2 * i] = k0;
    this.keys[2 * i + 1] = k1;
    e.pos = i;
    this.listed++;
  }

  /**
   * Before an add: squeezes out the holes when they outnumber the entries SQUEEZE_RATIO times (and
   * SQUEEZE_MIN more), grows `exp`, `keys` and `refs` when full; returns the index to add at.
   */
  private makeRoom(): number {
    if (this.len - this.listed > SQUEEZE_RATIO * this.listed + SQUEEZE_MIN) this.squeeze();
    const i = this.len;
    if (i === this.exp.length) {
      const exp = new Float32Array(i * 2);
      exp.set(this.exp);
      this.exp = exp;
      const keys = new Int32Array(i * 4);
      keys.set(this.keys);
      this.keys = keys;
      const refs = this.refs;
      for (let j = refs.length; j < 2 * i; j++) refs.push(null);
    }
    return i;
  }

  /** Takes `e` out of the list (nothing when it is not in it); its tuples stay in the hash. */
  unlist(e: E): void {
    const i = e.pos;
    if (i < 0 || this.refs[i] !== e) return;
    this.unlistAt(e, i);
  }

  /** `unlist` of `e`, known to be the entry at index `i` (its `pos` not read: conntrack's gc sweep, a cold entry). */
  unlistAt(e: E, i: number): void {
    if (this.cursor === i) this.cursor = this.nextAfter(i);
    // The hole is NaN in `exp` alone: `refs[i]` keeps `e` (stale: e.pos is -1, so no membership test takes it) until an
    // add or a squeeze writes it. A store of null into `refs` was a write barrier testing the page flags of the array (a
    // large object: its page header a cold line of its own) and a read of its elements' header line, for each reaped entry.
    const exp = this.exp;
    exp[i] = NaN;
    e.pos = -1;
    this.listed--;
    if (i === this.len - 1) {
      // The tail: drop it and the holes before it (a later add must not land between them and the sweep), their stale
      // references cleared (past `len`, refs holds nulls only: nothing kept alive there; a tail is rarely deleted).
      let n = i;
      while (n > this.first && exp[n - 1] !== exp[n - 1]) n--;
      this.refs.fill(null, n, i + 1);
      this.len = n;
      if (n <= this.first) this.first = n;
    }
  }

  /** `e`'s expiry changed (e is in the list). */
  setExp(e: E, t: number): void {
    this.exp[e.pos] = t * EXP_LOWER;
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
    while (i < this.len && exp[i] !== exp[i]) i++; // a hole: NaN
    this.first = i;
    return i < this.len ? i : -1;
  }

  /** The index of the first entry after index `i`, -1 when none. */
  nextAfter(i: number): number {
    const exp = this.exp;
    for (let j = i + 1; j < this.len; j++) if (exp[j] === exp[j]) return j; // not a hole (NaN)
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
    const keys = this.keys;
    const map = new Int32Array(this.len);
    let n = 0;
    let cursor = -1;
    for (let i = this.first; i < this.len; i++) {
      if (exp[i] !== exp[i]) continue; // a hole (its refs element null or stale)
      const e = refs[i]!;
      if (i === this.cursor) cursor = n;
      map[i] = n;
      if (i !== n) {
        refs[n] = e;
        exp[n] = exp[i]!;
        keys[2 * n] = keys[2 * i]!;
        keys[2 * n + 1] = keys[2 * i + 1]!;
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
/**
 * What the owner multiplies a time by before storing it in `exp` (`exp[i] = t * EXP_LOWER`, as `add` and `setExp` do):
 * 1 - 2^-23, so the float32 store's rounding to nearest (at most 2^-24 up) never makes the copy later than the time.
 */
export const EXP_LOWER = 1 - 2 ** -23;
/** The initial capacity of `exp` (1 KB: fewer doublings, each an off-heap allocation, as TupleMap's MIN_SLOTS). */
const MIN_CAP = 128;
