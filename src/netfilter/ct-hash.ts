// netfilter/ct-hash — the conntrack hash keyed by numbers: a tuple (proto, src, sport, dst, dport) is
// hashed into a small integer bucket key and compared field by field, instead of a string built per
// lookup (issue 13: `tupleKey` strings were a top cost per packet). Layer: netfilter.
// Mirrors the role of nf_conntrack_hash (hash_conntrack_raw over the tuple, a power-of-two bucket array);
// only get/set/delete are offered, so no behaviour depends on the table's iteration order.

/** The fields of a conntrack tuple (CtTuple). */
export interface TupleFields {
  proto: number;
  src: number;
  sport: number;
  dst: number;
  dport: number;
}

/**
 * One tuple of an entry in the hash: the tuple's fields copied at insertion, the entry and the direction
 * this tuple is (0 original, 1 reply). Lookups hand the node itself back as the { ct, dir } pair, so an
 * entry costs two nodes and nothing more (an entry stays alive as long as its connection's TIME_WAIT
 * — H1 keeps ~90 k of them —, so every object per entry is one more for each scavenge to copy).
 */
class Node<C> implements TupleFields {
  constructor(
    readonly proto: number,
    readonly src: number,
    readonly sport: number,
    readonly dst: number,
    readonly dport: number,
    public ct: C,
    public dir: 0 | 1,
    public next: Node<C> | null,
  ) {}
}

/** What a lookup finds: the entry and the direction of the tuple looked up (read-only). */
export interface CtHit<C> {
  readonly ct: C;
  readonly dir: 0 | 1;
}

/** A tuple in the hash: its fields (never changed) and the entry it leads to. */
export type TupleNode<C> = CtHit<C> & Readonly<TupleFields>;

/** A 30-bit mix of the tuple (a V8 small integer, so the bucket Map needs no boxed keys). */
function hashTuple(t: TupleFields): number {
  let h = Math.imul(t.src ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ t.dst, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ ((t.sport << 16) | t.dport), 0x27d4eb2f);
  h ^= t.proto << 7;
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

const same = <C>(n: Node<C>, t: TupleFields): boolean => n.src === t.src && n.dst === t.dst && n.sport === t.sport && n.dport === t.dport && n.proto === t.proto;

/** A map from tuples (compared by value, as at insertion) to an entry and a direction. */
export class TupleMap<C> {
  /**
   * Chained buckets indexed by the tuple hash's low bits (a power-of-two array: one indexed load per
   * lookup instead of a Map probe; doubled when the nodes outnumber the buckets, never shrunk, as the
   * kernel's nf_conntrack_htable_size).
   */
  private buckets: Array<Node<C> | null> = new Array<Node<C> | null>(INITIAL_BUCKETS).fill(null);
  private mask = INITIAL_BUCKETS - 1;
  private size = 0;

  get(t: TupleFields): CtHit<C> | undefined {
    for (let n: Node<C> | null = (this.buckets[hashTuple(t) & this.mask] as Node<C> | null); n !== null; n = n.next) if (same(n, t)) return n;
    return undefined;
  }

  has(t: TupleFields): boolean {
    return this.get(t) !== undefined;
  }

  /**
   * Maps `t` to (ct, dir) and returns the node holding it: a copy of `t`'s fields the entry can keep as
   * its tuple (Conntrack.confirm does, so an entry's tuples are its two nodes and nothing more).
   */
  set(t: TupleFields, ct: C, dir: 0 | 1): TupleNode<C> {
    const b = hashTuple(t) & this.mask;
    const head = this.buckets[b] as Node<C> | null;
    for (let n: Node<C> | null = head; n !== null; n = n.next) {
      if (same(n, t)) {
        n.ct = ct;
        n.dir = dir;
        return n;
      }
    }
    const n = new Node(t.proto, t.src, t.sport, t.dst, t.dport, ct, dir, head);
    this.buckets[b] = n;
    if (++this.size > this.buckets.length) this.grow();
    return n;
  }

  delete(t: TupleFields): void {
    const b = hashTuple(t) & this.mask;
    let prev: Node<C> | null = null;
    for (let n: Node<C> | null = this.buckets[b] as Node<C> | null; n !== null; prev = n, n = n.next) {
      if (!same(n, t)) continue;
      if (prev !== null) prev.next = n.next;
      else this.buckets[b] = n.next;
      this.size--;
      return;
    }
  }

  /** Twice the buckets; every node moves to the bucket of its hash's next bit. */
  private grow(): void {
    const old = this.buckets;
    const len = old.length * 2;
    const mask = len - 1;
    const nb = new Array<Node<C> | null>(len).fill(null);
    for (let i = 0; i < old.length; i++) {
      for (let n: Node<C> | null = old[i] as Node<C> | null; n !== null; ) {
        const next: Node<C> | null = n.next;
        const b = hashTuple(n) & mask;
        n.next = nb[b] as Node<C> | null;
        nb[b] = n;
        n = next;
      }
    }
    this.buckets = nb;
    this.mask = mask;
  }
}

const INITIAL_BUCKETS = 64;
