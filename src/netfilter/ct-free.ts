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
   * A taken slot keeps its reference (now a live entry's) until it is overwritten: nothing reads it.
   */
  takeExpiredBy(before: number): E | null {
    const n = this.n;
    if (n === 0) return null;
    const ring = this.ring;
    const dead = this.dead;
    const mask = ring.length - 1;
    const last = (this.head + n - 1) & mask;
    if (dead[last]! <= before) {
      this.n = n - 1;
      return ring[last]!;
    }
    const head = this.head;
    if (dead[head]! > before) return null;
    this.head = (head + 1) & mask;
    this.n = n - 1;
    return ring[head]!;
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
