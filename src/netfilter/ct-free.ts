// netfilter/ct-free — the entries a conntrack table destroyed because they expired, kept for reuse
// (the role of nf_conntrack's slab cache). Layer: netfilter (imports nothing).
//
// An entry may be reused only once it has been dead RECYCLE_AFTER (no refcount is kept, so the rule is by
// time: see Conntrack.destroyExpired). The entry destroyed last is handed out first when it has been dead
// that long: conntrack's gc destroys entries just before a new connection takes one (Conntrack.inAt), and
// the one it destroyed has just been read and written (its expiry, tuples, list index), so its cache lines
// are at hand for the new entry's writes, where any other dead entry is cold (issue 13: in the scale
// workload three quarters of the entries the gc destroys have been dead 10 s or more). Otherwise the one
// destroyed first, which has been dead longest: in a long run the gc also destroys entries that have just
// expired, so with the newest alone most new connections made a new object (63 % of what the scale
// workload's scavenges copied and promoted was conntrack entries allocated in `in`).
/** What the queue needs of an entry: when it expired (ns). */
export interface CtFreeEntry {
  readonly expires: number;
}

/** A ring of destroyed entries in the order they were destroyed, at most `max` (further ones are dropped). */
export class CtFreeQueue<E extends CtFreeEntry> {
  private ring: (E | null)[] = [null, null, null, null, null, null, null, null];
  /**
   * `dead[k]`: the expiry of `ring[k]`, copied when it was pushed (a destroyed entry's expiry no longer changes):
   * `takeExpiredBy` tests it here, not in the entry (its oldest is cold by then, and its expiry fields may be on
   * a line of it the new entry's writes do not need read).
   */
  private dead = new Float64Array(8);
  private head = 0;
  private n = 0;

  constructor(private readonly max: number) {}

  /** Entries held. */
  get size(): number {
    return this.n;
  }

  /** Keeps `e` (just destroyed) unless the queue holds `max` already. */
  push(e: E): void {
    const n = this.n;
    let ring = this.ring;
    if (n === ring.length) {
      if (n >= this.max) return;
      ring = this.grow();
    }
    const k = (this.head + n) & (ring.length - 1);
    ring[k] = e;
    this.dead[k] = e.expires;
    this.n = n + 1;
  }

  /**
   * An entry that expired at or before `before`, taken out of the queue: the newest one destroyed (the
   * one the gc destroyed just now, warm in cache), else the oldest (dead longest); null when neither is.
   * An entry that expired after `now` counts as expired long enough: destroyed at or after its expiry, it was
   * destroyed under another clock (a world run before this one in the process; conntrack's queue is shared),
   * and would otherwise hold up the oldest end until this clock passes it.
   * A taken slot keeps its reference (now a live entry's) until it is overwritten: nothing reads it.
   */
  takeExpiredBy(before: number, now: number = Infinity): E | null {
    const n = this.n;
    if (n === 0) return null;
    const ring = this.ring;
    const dead = this.dead;
    const mask = ring.length - 1;
    const last = (this.head + n - 1) & mask;
    const d = dead[last]!;
    if (d <= before || d > now) {
      this.n = n - 1;
      return ring[last]!;
    }
    const head = this.head;
    const h = dead[head]!;
    if (h > before && h <= now) return null;
    this.head = (head + 1) & mask;
    this.n = n - 1;
    return ring[head]!;
  }

  /** Drops every entry held (a caller done with them: nothing is handed out again). */
  clear(): void {
    this.ring.fill(null);
    this.head = 0;
    this.n = 0;
  }

  /** Doubles the ring, oldest entry first at 0. */
  private grow(): (E | null)[] {
    const old = this.ring;
    const next: (E | null)[] = new Array<E | null>(old.length * 2).fill(null);
    const dead = new Float64Array(old.length * 2);
    for (let i = 0; i < this.n; i++) {
      const k = (this.head + i) & (old.length - 1);
      next[i] = old[k]!;
      dead[i] = this.dead[k]!;
    }
    this.ring = next;
    this.dead = dead;
    this.head = 0;
    return next;
  }
}

/**
 * Destroyed entries kept for reuse (nf_conntrack_free / the slab cache), shared by every conntrack table: only entries
 * removed because they had expired (Conntrack.destroyExpired), the latest first (warm), else the oldest. A long run
 * creates ~6 entries a request that live their timeout (TIME_WAIT, UDP 30-120 s): new objects would each be copied
 * twice by the scavenger, promoted, and freed only by a mark-compact of the whole heap; a recycled entry is already old.
 * One queue for all tables (issue 13): a table's own (its object, ring and copies: 65,536 entries at most) was ~4 cold
 * lines a reaped or recycled entry in a cluster of a thousand tables each cold, the shared one is warm. Safe across
 * tables and worlds: a packet's entry counts only where its `owner` is the table (Conntrack.ctOf, inAt), and a recycled
 * entry takes its new table as owner (ConnEntry.renew). At most 2^18 (the scale workload's client node alone destroys
 * ~3,000 a second; 4,096 a table, an earlier bound, let only one in seven be reused there); `clear` drops them all.
 */
export const CT_FREE = new CtFreeQueue<CtFreeEntry>(1 << 18);
