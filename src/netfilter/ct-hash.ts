// netfilter/ct-hash — the conntrack hash keyed by numbers: a tuple (proto, src, sport, dst, dport) is
// hashed to an integer and its fields are kept in a typed array beside the slot, so a probe compares
// numbers in one cache line and reads the node only when it is the one looked for (issue 13: `tupleKey`
// strings, then a Map of node chains, were a top cost per packet). Layer: netfilter.
// Mirrors the role of nf_conntrack_hash (hash_conntrack_raw over the tuple); only get/set/delete are
// offered, so no behaviour depends on the table's layout or iteration order.

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
 * reply). Lookups hand the node itself back as the { ct, dir } pair, and an entry keeps its two nodes
 * as its tuples (made by `tupleNode` when the entry is created, adopted by `set` at confirm), so an entry
 * costs two nodes and nothing more (an entry stays alive as long as its connection's TIME_WAIT — H1
 * keeps ~90 k of them —, so every object per entry is one more for each scavenge to copy).
 */
class Node<C> implements TupleFields {
  /** True while the node is in a map (a detached node may be adopted by set). */
  linked = false;
  constructor(
    readonly proto: number,
    readonly src: number,
    readonly sport: number,
    readonly dst: number,
    readonly dport: number,
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

/** A tuple for entry `ct`, direction `dir`, not yet in any map: `set(node, ct, dir)` inserts this very node. */
export function tupleNode<C>(proto: number, src: number, sport: number, dst: number, dport: number, ct: C, dir: 0 | 1): TupleNode<C> {
  return new Node(proto, src, sport, dst, dport, ct, dir);
}

/** A 30-bit mix of the tuple; `ports` is sport << 16 | dport. */
function hashOf(proto: number, src: number, dst: number, ports: number): number {
  let h = Math.imul(src ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ dst, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ ports, 0x27d4eb2f);
  h ^= proto << 7;
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

/** A slot's tag: the hash's high bits and the protocol (>= 0; EMPTY marks a free slot). */
const TAG_HASH = 0x3fffff00;
const EMPTY = -1;
/** Int32 words per slot in `keys`: tag, src, dst, sport << 16 | dport. */
const W = 4;
const INITIAL_SLOTS = 256;

/**
 * A map from tuples (compared by value, as at insertion) to an entry and a direction: open addressing
 * with linear probing, at most half full (so every probe ends at a free slot within a few steps), and
 * backward-shift deletion (no tombstones: a miss costs the same after many deletes).
 */
export class TupleMap<C> {
  private mask = INITIAL_SLOTS - 1;
  private keys = new Int32Array(INITIAL_SLOTS * W).fill(EMPTY);
  private nodes: Array<Node<C> | null> = new Array<Node<C> | null>(INITIAL_SLOTS).fill(null);
  private count = 0;

  /** Number of tuples held. */
  get size(): number {
    return this.count;
  }

  /** The slot holding the tuple, or -1. */
  private find(proto: number, src: number, dst: number, ports: number, h: number): number {
    const tag = (h & TAG_HASH) | proto;
    const k = this.keys;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const o = i * W;
      const g = k[o]!;
      if (g === EMPTY) return -1;
      if (g === tag && k[o + 1] === src && k[o + 2] === dst && k[o + 3] === ports) return i;
    }
  }

  get(t: TupleFields): CtHit<C> | undefined {
    const ports = (t.sport << 16) | t.dport;
    const src = t.src | 0;
    const dst = t.dst | 0;
    const i = this.find(t.proto, src, dst, ports, hashOf(t.proto, src, dst, ports));
    return i < 0 ? undefined : this.nodes[i]!;
  }

  has(t: TupleFields): boolean {
    return this.get(t) !== undefined;
  }

  /**
   * Maps `t` to (ct, dir) and returns the node holding it: the tuple's node already in the map (rebound),
   * else `t` itself when it is a detached node made by `tupleNode` for this (ct, dir), else a new node
   * copying `t`'s fields — a node the entry can keep as its tuple.
   */
  set(t: TupleFields, ct: C, dir: 0 | 1): TupleNode<C> {
    const proto = t.proto;
    const ports = (t.sport << 16) | t.dport;
    const src = t.src | 0;
    const dst = t.dst | 0;
    const h = hashOf(proto, src, dst, ports);
    const at = this.find(proto, src, dst, ports, h);
    if (at >= 0) {
      const n = this.nodes[at]!;
      n.ct = ct;
      n.dir = dir;
      return n;
    }
    if ((this.count + 1) * 2 > this.nodes.length) this.grow();
    const n = t instanceof Node && !t.linked && t.ct === ct && t.dir === dir ? (t as Node<C>) : new Node(proto, t.src, t.sport, t.dst, t.dport, ct, dir);
    n.linked = true;
    const k = this.keys;
    const mask = this.mask;
    let i = h & mask;
    while (k[i * W] !== EMPTY) i = (i + 1) & mask;
    const o = i * W;
    k[o] = (h & TAG_HASH) | proto;
    k[o + 1] = src;
    k[o + 2] = dst;
    k[o + 3] = ports;
    this.nodes[i] = n;
    this.count++;
    return n;
  }

  delete(t: TupleFields): void {
    const ports = (t.sport << 16) | t.dport;
    const src = t.src | 0;
    const dst = t.dst | 0;
    let i = this.find(t.proto, src, dst, ports, hashOf(t.proto, src, dst, ports));
    if (i < 0) return;
    this.nodes[i]!.linked = false;
    this.count--;
    // Backward shift: move each later member of the probe run whose home slot does not lie in (i, j]
    // into the hole, so no probe run is broken by the free slot.
    const k = this.keys;
    const nodes = this.nodes;
    const mask = this.mask;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const o = j * W;
      const g = k[o]!;
      if (g === EMPTY) break;
      const home = hashOf(g & 0xff, k[o + 1]!, k[o + 2]!, k[o + 3]!) & mask;
      if (((j - home) & mask) < ((j - i) & mask)) continue;
      const d = i * W;
      k[d] = g;
      k[d + 1] = k[o + 1]!;
      k[d + 2] = k[o + 2]!;
      k[d + 3] = k[o + 3]!;
      nodes[i] = nodes[j]!;
      i = j;
    }
    k[i * W] = EMPTY;
    nodes[i] = null;
  }

  /** Doubles the slots, placing every tuple again from the keys alone (no node is read). */
  private grow(): void {
    const oldK = this.keys;
    const oldN = this.nodes;
    const slots = oldN.length * 2;
    const mask = slots - 1;
    const k = new Int32Array(slots * W).fill(EMPTY);
    const nodes = new Array<Node<C> | null>(slots).fill(null);
    for (let j = 0; j < oldN.length; j++) {
      const o = j * W;
      const g = oldK[o]!;
      if (g === EMPTY) continue;
      let i = hashOf(g & 0xff, oldK[o + 1]!, oldK[o + 2]!, oldK[o + 3]!) & mask;
      while (k[i * W] !== EMPTY) i = (i + 1) & mask;
      const d = i * W;
      k[d] = g;
      k[d + 1] = oldK[o + 1]!;
      k[d + 2] = oldK[o + 2]!;
      k[d + 3] = oldK[o + 3]!;
      nodes[i] = oldN[j]!;
    }
    this.keys = k;
    this.nodes = nodes;
    this.mask = mask;
  }
}
