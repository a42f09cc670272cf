// netfilter/ct-free — the entries a conntrack table destroyed because they expired, kept for reuse
// (the role of nf_conntrack's slab cache), oldest first. Layer: netfilter (imports nothing).
//
// A queue, not a stack: an entry may be reused only once it has been dead RECYCLE_AFTER (no refcount is
// kept, so the rule is by time: see Conntrack.destroyExpired). In a long run the gc destroys entries that
// have just expired, so the newest one on a stack is never old enough and every new connection made a
// new object (issue 13: 63 % of what the scale workload's scavenges copied and promoted was conntrack
// entries allocated in `in`); the oldest one in a queue is, once the queue covers RECYCLE_AFTER.

/** What the queue needs of an entry: when it expired (ns). */
export interface CtFreeEntry {
  readonly expires: number;
}

/** A ring of destroyed entries in the order they were destroyed, at most `max` (further ones are dropped). */
export class CtFreeQueue<E extends CtFreeEntry> {
  private ring: (E | null)[] = [null, null, null, null, null, null, null, null];
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
    ring[(this.head + n) & (ring.length - 1)] = e;
    this.n = n + 1;
  }

  /**
   * An entry that expired at or before `before`, taken out of the queue: the oldest one destroyed (in a
   * steady stream, the one dead longest), else the newest one (after a burst the gc's sweep may destroy
   * entries out of their expiry order); null when neither is. A taken slot keeps its reference (now a
   * live entry's) until it is overwritten: nothing reads it.
   */
  takeExpiredBy(before: number): E | null {
    const n = this.n;
    if (n === 0) return null;
    const ring = this.ring;
    const mask = ring.length - 1;
    const e = ring[this.head]!;
    if (e.expires <= before) {
      this.head = (this.head + 1) & mask;
      this.n = n - 1;
      return e;
    }
    const last = ring[(this.head + n - 1) & mask]!;
    if (last.expires > before) return null;
    this.n = n - 1;
    return last;
  }

  /** Doubles the ring, oldest entry first at 0. */
  private grow(): (E | null)[] {
    const old = this.ring;
    const next: (E | null)[] = new Array<E | null>(old.length * 2).fill(null);
    for (let i = 0; i < this.n; i++) next[i] = old[(this.head + i) & (old.length - 1)]!;
    this.ring = next;
    this.head = 0;
    return next;
  }
}
