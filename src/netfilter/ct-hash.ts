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
  return new Node(proto, src, sport, dst, dport, ct, dir);
}

/**
 * Rewrites the fields of a node made by `tupleNode` that is in no map (the caller knows: an unconfirmed
 * entry's tuple, which NAT rebinds before confirm inserts it); false, changing nothing, when `n` is not
 * such a node.
 */
export function retuple<C>(t: TupleNode<C>, proto: number, src: number, sport: number, dst: number, dport: number): boolean {
  const n: unknown = t;
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
   * Open addressing with linear probing: slot i holds a node in `nodes[i]` and its tuple's hash + 1 in
   * `hashes[i]` (0: empty). A probe reads the dense hash array and touches a node only when the hashes
   * agree, so a miss (a new connection's lookup in `in`, then confirm's clash checks: 3 per entry) costs
   * about one cache line of a large table, and set's probe after a miss finds that line warm. Growing and
   * deleting (backward shift) move hashes and node references without reading the nodes. (Before: a JS
   * Map of node chains by hash, whose probe reads a bucket and an entry record, and whose insert is a
   * get and a set.) At most half the slots are used.
   */
  private hashes = new Int32Array(MIN_SLOTS);
  private nodes: Array<Node<C> | null> = new Array<Node<C> | null>(MIN_SLOTS).fill(null);
  private mask = MIN_SLOTS - 1;
  /**
   * The nodes found or inserted last, by the low bits of their hash, with that hash beside them: a
   * table of tens of thousands of entries (TIME_WAIT ones, mostly) is cold in the CPU caches while the
   * flows that carry packets are few, and a hit here costs no probe of the table. Always a subset of
   * the table's nodes (delete clears a node's slot).
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
    const hashes = this.hashes;
    const mask = this.mask;
    const key = h + 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const k = hashes[i]!;
      if (k === 0) return undefined;
      if (k === key) {
        const n = this.nodes[i]!;
        if (same(n, t)) {
          this.recent[slot] = n;
          this.recentHash[slot] = h;
          return n;
        }
      }
    }
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
    const hashes = this.hashes;
    const mask = this.mask;
    const key = h + 1;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const k = hashes[i]!;
      if (k === 0) break;
      if (k === key) {
        const n = this.nodes[i]!;
        if (same(n, t)) {
          n.ct = ct;
          n.dir = dir;
          return n;
        }
      }
    }
    const n = t instanceof Node && t.ct === ct && t.dir === dir ? (t as Node<C>) : new Node(t.proto, t.src, t.sport, t.dst, t.dport, ct, dir);
    hashes[i] = key;
    this.nodes[i] = n;
    if (++this.count * 2 > mask + 1) this.grow();
    const slot = h & (RECENT - 1);
    this.recent[slot] = n;
    this.recentHash[slot] = h;
    return n;
  }

  delete(t: TupleFields): void {
    const h = hashTuple(t);
    const hashes = this.hashes;
    const nodes = this.nodes;
    const mask = this.mask;
    const key = h + 1;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const k = hashes[i]!;
      if (k === 0) return;
      if (k === key && same(nodes[i]!, t)) break;
    }
    const slot = h & (RECENT - 1);
    if (this.recent[slot] === nodes[i]) {
      this.recent[slot] = null;
      this.recentHash[slot] = -1;
    }
    this.count--;
    // Backward shift: move later nodes of the probe run into the hole when their home slot allows it.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const k = hashes[j]!;
      if (k === 0) break;
      const home = (k - 1) & mask;
      // j's node may fill hole i when its home is not in the cyclic range (i, j].
      if (((j - home) & mask) >= ((j - i) & mask)) {
        hashes[i] = k;
        nodes[i] = nodes[j]!;
        i = j;
      }
    }
    hashes[i] = 0;
    nodes[i] = null;
  }

  /** Doubles the slots, placing each node by its stored hash (the nodes are not read). */
  private grow(): void {
    const oldH = this.hashes;
    const oldN = this.nodes;
    const size = oldH.length * 2;
    const hashes = new Int32Array(size);
    const nodes = new Array<Node<C> | null>(size).fill(null);
    const mask = size - 1;
    for (let j = 0; j < oldH.length; j++) {
      const k = oldH[j]!;
      if (k === 0) continue;
      let i = (k - 1) & mask;
      while (hashes[i] !== 0) i = (i + 1) & mask;
      hashes[i] = k;
      nodes[i] = oldN[j]!;
    }
    this.hashes = hashes;
    this.nodes = nodes;
    this.mask = mask;
  }
}

/** Slots of TupleMap.recent (a power of two). */
const RECENT = 256;
/** Slots of an empty TupleMap's table (a power of two). */
const MIN_SLOTS = 16;
