// netfilter/ct-list — the confirmed conntrack entries of a namespace in insertion order, linked through
// the entries themselves (no Set to hash each connection into and out of), with the position of the
// incremental gc sweep. Layer: netfilter. Mirrors the role of the kernel's walk over nf_conntrack_hash
// in gc_worker (which resumes where its last run stopped); `conntrack -L` order is this list's.

/** What the list needs of an entry: its two links (null while outside the list). */
export interface CtListEntry<E> {
  prev: E | null;
  next: E | null;
}

/** Entries in insertion order; add at the tail, delete anywhere in O(1). */
export class CtList<E extends CtListEntry<E>> {
  head: E | null = null;
  private tail: E | null = null;
  size = 0;
  /** The entry the gc sweep looks at next; null: the head. */
  private cursor: E | null = null;

  add(e: E): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail !== null) this.tail.next = e;
    else this.head = e;
    this.tail = e;
    this.size++;
  }

  /** Takes `e` out (nothing when it is not in the list). */
  delete(e: E): void {
    if (e.prev === null && this.head !== e) return;
    if (this.cursor === e) this.cursor = e.next;
    if (e.prev !== null) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next !== null) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = null;
    e.next = null;
    this.size--;
  }

  /** The next entry of the gc sweep (from the head again after the tail); null when the list is empty. */
  gcNext(): E | null {
    const e = this.cursor ?? this.head;
    if (e !== null) this.cursor = e.next;
    return e;
  }
}
