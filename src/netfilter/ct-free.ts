// netfilter/ct-free — the entries a conntrack table destroyed because they expired, kept for reuse
// (the role of nf_conntrack's slab cache). Layer: netfilter (imports nothing).
//
// An entry may be reused only once it has been dead RECYCLE_AFTER (no refcount is kept, so the rule is by
// time: see Conntrack.destroyExpired). The entry destroyed last is handed out first when it has been dead
// that long: conntrack's gc destroys entries just before a new connection takes one (Conntrack.inNew), and
// the one it destroyed has just been read and written (its expiry, tuples, list index), so its cache lines
// are at hand for the new entry's writes, where any other dead entry is cold (issue 13; conntrack hands such
// an entry of its own gc step straight to the new connection, not through this ring: in the scale window ~0.9
// of the ~3.1 entries reaped a request have been dead 10 s when reaped). Otherwise the one
// destroyed first, which has been dead longest: in a long run the gc also destroys entries that have just
// expired, so with the newest alone most new connections made a new object (63 % of what the scale
// workload's scavenges copied and promoted was conntrack entries allocated in `in`).
//
// The queue is one plain array, no object of its own (issue 13): [head, n, mask, e0, hi0, lo0, e1, hi1, lo1, …],
// a ring of (entry, death) triples after three counters. A table visited seldom has it cold: a push read the queue
// object, the ring's array and its store's header line and a Float64Array of the deaths (four lines besides
// the slot), a take the queue object, the array, the Float64Array and two element lines. Here the numbers
// share the store's header line (the elements' first line, which a store into the array reads anyway) and a
// death mostly its entry's line.

/** What the ring reads of an entry whose death it holds as a copy tick only, and only within a tick of the bound: its expiry, as ConnEntry keeps it (hi * 2^30 + lo ns). */
export interface CtFreeEntry {
  readonly expHi: number;
  readonly expLo: number;
}

/**
 * A ring of destroyed entries in the order they were destroyed: element 0 the head's slot, 1 the number held, 2
 * the slots less one (a power of two less one), then slot k at 3 + 3k (the entry), 4 + 3k and 5 + 3k (when it
 * expired, as hi * 2^30 + lo ns: two small integers, as ConnEntry keeps it, where one number would be a heap
 * number a push; or, lo -1, hi the tick of its expiry copy, see freePush). Packed: grown by pushes (`freeGrow`), never by `length`.
 */
export type CtFreeRing<E> = (E | number | null)[];

/** An empty ring of 8 slots. */
export function freeRing<E>(): CtFreeRing<E> {
  const r: CtFreeRing<E> = [0, 0, 7];
  for (let j = 0; j < 3 * 8; j++) r.push(null);
  return r;
}

/** Entries held. */
export function freeSize<E>(r: CtFreeRing<E>): number {
  return r[1] as number;
}

/**
 * Keeps `e` (just destroyed: its expiry no longer changes), dead since `hi` * 2^30 + `lo` ns, unless the ring holds `max`
 * already (a power of two). `lo` -1: `hi` is the tick of ct-list's expiry copy (the death in [hi, hi + 1) * 2^21 ns; the
 * gc sweep's, which does not read the entry). Small integers in and out (a double handed to a call V8 does not inline is
 * a heap number); the rare work is in `freeGrow`.
 */
export function freePush<E>(r: CtFreeRing<E>, e: E, hi: number, lo: number, max: number): void {
  const n = r[1] as number;
  let mask = r[2] as number;
  if (n > mask) {
    if (n >= max) return;
    mask = freeGrow(r);
  }
  const k = 3 + 3 * (((r[0] as number) + n) & mask);
  r[k] = e;
  r[k + 1] = hi;
  r[k + 2] = lo;
  r[1] = n + 1;
}

/**
 * The entry of ring slot `k` (its element index), whose death is kept as its copy tick `bt` (lo -1), the bound's tick:
 * within that tick its exact expiry decides whether it died at or before bh * 2^30 + bl ns (rare: not inlined).
 */
function deadWithin<E extends CtFreeEntry>(r: CtFreeRing<E>, k: number, bh: number, bl: number): boolean {
  const e = r[k] as E;
  return e.expHi < bh || (e.expHi === bh && e.expLo <= bl);
}

/**
 * An entry that expired at or before bh * 2^30 + bl ns (0 <= bl < 2^30: small integers, as freePush's; `bt` the bound's
 * copy tick, floor(bound / 2^21)), taken out of the ring: the newest one destroyed, else the oldest (dead longest); null
 * when neither is. A taken slot keeps its reference (now a live entry's) until it is overwritten: nothing reads it.
 */
export function freeTake<E extends CtFreeEntry>(r: CtFreeRing<E>, bh: number, bl: number, bt: number): E | null {
  const n = r[1] as number;
  if (n === 0) return null;
  const mask = r[2] as number;
  const head = r[0] as number;
  // A death (hi, lo), or (c, -1) a copy tick c: dead by the bound when c < bt, not when c > bt, c = bt the entry tells.
  const last = 3 + 3 * ((head + n - 1) & mask);
  const lh = r[last + 1] as number;
  const ll = r[last + 2] as number;
  if (ll >= 0 ? lh < bh || (lh === bh && ll <= bl) : lh < bt || (lh === bt && deadWithin(r, last, bh, bl))) {
    r[1] = n - 1;
    return r[last] as E;
  }
  const h = 3 + 3 * head;
  const hh = r[h + 1] as number;
  const hl = r[h + 2] as number;
  if (hl >= 0 ? hh > bh || (hh === bh && hl > bl) : hh > bt || (hh === bt && !deadWithin(r, h, bh, bl))) return null;
  r[0] = (head + 1) & mask;
  r[1] = n - 1;
  return r[h] as E;
}

/** Doubles the ring in place (the same array: its holder keeps it), oldest entry first at slot 0; returns its new mask. */
function freeGrow<E>(r: CtFreeRing<E>): number {
  const size = (r[2] as number) + 1;
  const head = r[0] as number;
  const held = r.slice(3);
  for (let j = 0; j < 3 * size; j++) r.push(null);
  for (let i = 0; i < size; i++) {
    const k = 3 * ((head + i) & (size - 1));
    for (let f = 0; f < 3; f++) r[3 + 3 * i + f] = held[k + f]!;
  }
  r[0] = 0;
  r[2] = 2 * size - 1;
  return 2 * size - 1;
}
