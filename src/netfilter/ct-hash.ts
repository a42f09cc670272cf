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

interface Node<V> {
  proto: number;
  src: number;
  sport: number;
  dst: number;
  dport: number;
  value: V;
  next: Node<V> | null;
}

/** A 30-bit mix of the tuple (a V8 small integer, so the bucket Map needs no boxed keys). */
function hashTuple(t: TupleFields): number {
  let h = Math.imul(t.src ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ t.dst, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ ((t.sport << 16) | t.dport), 0x27d4eb2f);
  h ^= t.proto << 7;
  return (h ^ (h >>> 15)) & 0x3fffffff;
}

const same = <V>(n: Node<V>, t: TupleFields): boolean => n.src === t.src && n.dst === t.dst && n.sport === t.sport && n.dport === t.dport && n.proto === t.proto;

/** A map from tuples (compared by value, as at insertion) to V. */
export class TupleMap<V> {
  private readonly buckets = new Map<number, Node<V>>();

  get(t: TupleFields): V | undefined {
    for (let n = this.buckets.get(hashTuple(t)) ?? null; n !== null; n = n.next) if (same(n, t)) return n.value;
    return undefined;
  }

  has(t: TupleFields): boolean {
    return this.get(t) !== undefined;
  }

  set(t: TupleFields, value: V): void {
    const h = hashTuple(t);
    const head = this.buckets.get(h) ?? null;
    for (let n = head; n !== null; n = n.next) {
      if (same(n, t)) {
        n.value = value;
        return;
      }
    }
    this.buckets.set(h, { proto: t.proto, src: t.src, sport: t.sport, dst: t.dst, dport: t.dport, value, next: head });
  }

  delete(t: TupleFields): void {
    const h = hashTuple(t);
    let prev: Node<V> | null = null;
    for (let n = this.buckets.get(h) ?? null; n !== null; prev = n, n = n.next) {
      if (!same(n, t)) continue;
      if (prev !== null) prev.next = n.next;
      else if (n.next !== null) this.buckets.set(h, n.next);
      else this.buckets.delete(h);
      return;
    }
  }
}
