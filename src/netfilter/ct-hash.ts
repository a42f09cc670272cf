// netfilter/ct-hash — the conntrack hash keyed by numbers: a tuple (proto, src, sport, dst, dport) is
// hashed into a small integer bucket key and compared field by field, instead of a string built per
// lookup (issue 13: `tupleKey` strings were a top cost per packet). Layer: netfilter.
// Mirrors the role of nf_conntrack_hash (hash_conntrack_raw over the tuple); only get/set/delete are
// offered, so no behaviour depends on the table's iteration order.

/** The fields of a conntrack tuple (CtTuple). */
export interface TupleFields {
  proto: number;
  src: number;
  sport: number;
  dst: number;
  dport: number;
}

/**
 * One tuple of an entry: the tuple's fields, the entry and the direction this tuple is (0 original, 1
 * reply). Lookups hand the node itself back as the { ct, dir } pair, and an entry keeps its two nodes as
 * its tuples (made by `tupleNode` when the entry is created, adopted by `set` at confirm), so an entry
 * costs two nodes and nothing more (an entry stays alive as long as its connection's TIME_WAIT — H1
 * keeps ~118 k of them —, so every object per entry is one more for each scavenge to copy).
 */
class Node<C> implements TupleFields {
  constructor(
    public proto: number,
    public src: number,
    public sport: number,
    public dst: number,
    public dport: number,
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

/**
 * A tuple for entry `ct`, direction `dir`, in no map yet: `set(node, ct, dir)` inserts this very node
 * instead of a copy (a node is only ever handed to the map of its entry's table).
 */
export function tupleNode<C>(proto: number, src: number, sport: number, dst: number, dport: number, ct: C, dir: 0 | 1): TupleNode<C> {
  return new Node(proto, src, sport, dst, dport, ct, dir, null);
}

/**
 * Rewrites the fields of a node made by `tupleNode` that is in no map (the caller knows: an unconfirmed
 * entry's tuple, which NAT rebinds before confirm inserts it); false, changing nothing, when `n` is not
 * such a node.
 */
export function retuple<C>(n: TupleNode<C>, proto: number, src: number, sport: number, dst: number, dport: number): boolean {
  if (!(n instanceof Node)) return false;
  n.proto = proto;
  n.src = src;
  n.sport = sport;
  n.dst = dst;
  n.dport = dport;
  return true;
}

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
   * Chains by tuple hash. A Map, not a bucket array of our own: its rehash as the table grows moves
   * (hash, node) pairs without reading the nodes, where an array's would visit every node (measured on
   * H1: ~0.7 % of the run in the array's grow, against nothing the Map's set does not already count).
   */
  private readonly buckets = new Map<number, Node<C>>();
  /**
   * The nodes found or inserted last, by the low bits of their hash, with that hash beside them: a
   * table of tens of thousands of entries (TIME_WAIT ones, mostly) is cold in the CPU caches while the
   * flows that carry packets are few, and a hit here costs no probe of the Map. Always a subset of the
   * Map's nodes (delete clears a node's slot).
   */
  private readonly recent: Array<Node<C> | null> = new Array<Node<C> | null>(RECENT).fill(null);
  private readonly recentHash = new Int32Array(RECENT).fill(-1);
  private count = 0;

  /** Number of tuples held. */
  get size(): number {
    return this.count;
  }

  get(t: TupleFields): CtHit<C> | undefined {
    const h = hashTuple(t);
    const slot = h & (RECENT - 1);
    if (this.recentHash[slot] === h) {
      const r = this.recent[slot]!;
      if (same(r, t)) return r;
    }
    for (let n = this.buckets.get(h) ?? null; n !== null; n = n.next) {
      if (same(n, t)) {
        this.recent[slot] = n;
        this.recentHash[slot] = h;
        return n;
      }
    }
    return undefined;
  }

  has(t: TupleFields): boolean {
    return this.get(t) !== undefined;
  }

  /**
   * Maps `t` to (ct, dir) and returns the node holding it: the tuple's node already in the map (rebound),
   * else `t` itself when it is a node made by `tupleNode` for this (ct, dir) — not in the map, since no
   * node of its fields is —, else a new node copying `t`'s fields: a node the entry keeps as its tuple.
   */
  set(t: TupleFields, ct: C, dir: 0 | 1): TupleNode<C> {
    const h = hashTuple(t);
    const head = this.buckets.get(h) ?? null;
    for (let n = head; n !== null; n = n.next) {
      if (same(n, t)) {
        n.ct = ct;
        n.dir = dir;
        return n;
      }
    }
    let n: Node<C>;
    if (t instanceof Node && t.ct === ct && t.dir === dir) {
      n = t as Node<C>;
      n.next = head;
    } else n = new Node(t.proto, t.src, t.sport, t.dst, t.dport, ct, dir, head);
    this.buckets.set(h, n);
    this.count++;
    const slot = h & (RECENT - 1);
    this.recent[slot] = n;
    this.recentHash[slot] = h;
    return n;
  }

  delete(t: TupleFields): void {
    const h = hashTuple(t);
    let prev: Node<C> | null = null;
    for (let n = this.buckets.get(h) ?? null; n !== null; prev = n, n = n.next) {
      if (!same(n, t)) continue;
      const slot = h & (RECENT - 1);
      if (this.recent[slot] === n) {
        this.recent[slot] = null;
        this.recentHash[slot] = -1;
      }
      if (prev !== null) prev.next = n.next;
      else if (n.next !== null) this.buckets.set(h, n.next);
      else this.buckets.delete(h);
      n.next = null;
      this.count--;
      return;
    }
  }
}

/** Slots of TupleMap.recent (a power of two). */
const RECENT = 256;
