// transport/tcp/conn-table — the established hash (inet_ehash: local port, peer address, peer port → a
// socket or a TIME_WAIT record) as one open-addressing table: a slot's two keys and its listing order
// side by side in one Int32Array (16 bytes a slot, so a probe, an insert or a delete reads and writes one
// cache line of it), the entries in a parallel array, linear probing, deletion by backward shift (no
// tombstones). A connection costs no Map of its own and no boxed key: the kernel's ehash is one flat
// table too (inet_ehashfn). Listing order (`values`) is what a Map of local port → Map of peer → entry
// gave: local ports in the order their group last went from empty to non-empty, then entries in
// insertion order; each slot keeps its entry's insertion number and group start beside the keys, and a
// small per-port table (port, count, start in one Int32Array too) counts the entries.
// Layer: transport.
import type { Ipv4 } from '../../wire/types.js';

/** What the table keys on (TcpSocket, TimeWaitSock). */
export interface ConnEntry {
  readonly localPort: number;
  readonly remoteAddr: Ipv4;
  readonly remotePort: number;
}

const MIN_CAP = 16;
/** What a table holds before its first entry (a namespace that never uses TCP allocates nothing more). */
const NO_I32 = new Int32Array(0);
/** Insertion numbers are int32: at this one the table numbers its entries again from 0 (same order). */
const SEQ_LIMIT = 0x7fffffff;

/** 32-bit mix of the three key fields (a murmur3-style finaliser). */
function mix(addr: number, ports: number): number {
  let h = Math.imul(addr ^ Math.imul(ports, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The connection table of one TCP layer. */
export class ConnTable<T extends ConnEntry> {
  private cap = 0;
  /**
   * Per slot i, 16 bytes: s[4i] = localPort << 16 | remotePort (0 = an empty slot: no connection has
   * both ports 0), s[4i + 1] = the peer address, s[4i + 2] = the entry's insertion number and s[4i + 3]
   * its local port group's start (the listing order).
   */
  private s = NO_I32;
  private vals: (T | null)[] = [];
  /**
   * Local port → entries with that port and the insertion number that started the group: per slot g,
   * pg[4g] = port + 1 (0 = empty), pg[4g + 1] = the count, pg[4g + 2] = the start.
   */
  private pg = NO_I32;
  private pgCap = 0;
  private pgSize = 0;
  private nextSeq = 0;
  /** Insertion number at which the entries are numbered again (a constructor argument for tests). */
  private readonly seqLimit: number;
  /** Entries in the table. */
  size = 0;

  constructor(seqLimit = SEQ_LIMIT) {
    this.seqLimit = seqLimit;
  }

  /** The entry for this 4-tuple (the local address is not in the key: one address per side), or undefined. */
  get(localPort: number, remoteAddr: Ipv4, remotePort: number): T | undefined {
    if (this.size === 0) return undefined;
    const a = remoteAddr | 0;
    const p = (localPort << 16) | remotePort;
    const mask = this.cap - 1;
    const s = this.s;
    let i = mix(a, p) & mask;
    for (;;) {
      const pi = s[4 * i]!;
      if (pi === 0) return undefined;
      if (pi === p && s[4 * i + 1] === a) return this.vals[i]!;
      i = (i + 1) & mask;
    }
  }

  /** Adds `e`; an entry already there for its 4-tuple gives `e` its slot (and its place in the listing). */
  set(e: T): void {
    if ((this.size + 1) * 2 > this.cap) this.grow(); // (at most half full: a probe always ends at an empty slot)
    if (this.nextSeq >= this.seqLimit) this.renumber();
    const a = e.remoteAddr | 0;
    const p = (e.localPort << 16) | e.remotePort;
    const mask = this.cap - 1;
    const s = this.s;
    let i = mix(a, p) & mask;
    for (let pi = s[4 * i]!; pi !== 0; pi = s[4 * i]!) {
      if (pi === p && s[4 * i + 1] === a) {
        this.vals[i] = e;
        return;
      }
      i = (i + 1) & mask;
    }
    const seq = this.nextSeq++;
    s[4 * i] = p;
    s[4 * i + 1] = a;
    s[4 * i + 2] = seq;
    s[4 * i + 3] = this.groupAdd(e.localPort, seq);
    this.vals[i] = e;
    this.size++;
  }

  /** Puts `next` in `prev`'s slot (same 4-tuple, same place in the listing); false when `prev` is not there. */
  replace(prev: T, next: T): boolean {
    const i = this.slotOf(prev);
    if (i < 0) return false;
    this.vals[i] = next;
    return true;
  }

  /** Removes `e` if it is the entry for its 4-tuple; true when it was. */
  delete(e: T): boolean {
    let i = this.slotOf(e);
    if (i < 0) return false;
    this.size--;
    this.groupRemove(e.localPort);
    const mask = this.cap - 1;
    const s = this.s;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const pj = s[4 * j]!;
      if (pj === 0) break;
      const aj = s[4 * j + 1]!;
      const home = mix(aj, pj) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        s[4 * i] = pj;
        s[4 * i + 1] = aj;
        s[4 * i + 2] = s[4 * j + 2]!;
        s[4 * i + 3] = s[4 * j + 3]!;
        this.vals[i] = this.vals[j]!;
        i = j;
      }
    }
    s[4 * i] = 0;
    this.vals[i] = null;
    return true;
  }

  /** Every entry, in the order a Map of local port → Map of peer → entry would list them. */
  values(): T[] {
    return this.listed().map((i) => this.vals[i]!);
  }

  /** The occupied slots in listing order (group start, then insertion number). */
  private listed(): number[] {
    const at: number[] = [];
    const s = this.s;
    for (let i = 0; i < this.cap; i++) if (s[4 * i] !== 0) at.push(i);
    at.sort((x, y) => s[4 * x + 3]! - s[4 * y + 3]! || s[4 * x + 2]! - s[4 * y + 2]!);
    return at;
  }

  private slotOf(e: T): number {
    if (this.size === 0) return -1;
    const a = e.remoteAddr | 0;
    const p = (e.localPort << 16) | e.remotePort;
    const mask = this.cap - 1;
    const s = this.s;
    let i = mix(a, p) & mask;
    for (;;) {
      const pi = s[4 * i]!;
      if (pi === 0) return -1;
      if (pi === p && s[4 * i + 1] === a) return this.vals[i] === e ? i : -1;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const vals = this.vals;
    const s = this.s;
    this.cap = Math.max(MIN_CAP, 2 * this.cap);
    const ns = (this.s = new Int32Array(4 * this.cap));
    const nv = (this.vals = new Array<T | null>(this.cap).fill(null));
    const mask = this.cap - 1;
    for (let o = 0; o < vals.length; o++) {
      const v = vals[o]!;
      if (v === null) continue;
      const p = s[4 * o]!;
      const a = s[4 * o + 1]!;
      let i = mix(a, p) & mask;
      while (ns[4 * i] !== 0) i = (i + 1) & mask;
      ns[4 * i] = p;
      ns[4 * i + 1] = a;
      ns[4 * i + 2] = s[4 * o + 2]!;
      ns[4 * i + 3] = s[4 * o + 3]!;
      nv[i] = v;
    }
  }

  /**
   * Numbers the entries again from 0 in listing order, each group starting at its first entry's new
   * number (the order stays the same; later insertion numbers stay above every one given here).
   */
  private renumber(): void {
    const s = this.s;
    let seq = 0;
    let prevStart = -1;
    let start = 0;
    for (const i of this.listed()) {
      if (seq === 0 || s[4 * i + 3] !== prevStart) {
        prevStart = s[4 * i + 3]!;
        start = seq;
        this.pg[4 * this.groupSlot(s[4 * i]! >>> 16) + 2] = start;
      }
      s[4 * i + 2] = seq++;
      s[4 * i + 3] = start;
    }
    this.nextSeq = seq;
  }

  /** The group slot of `port` (it has one: an entry on it is in the table). */
  private groupSlot(port: number): number {
    const k = port + 1;
    const mask = this.pgCap - 1;
    let g = Math.imul(k, 0x9e3779b1) & mask;
    while (this.pg[4 * g] !== k) g = (g + 1) & mask;
    return g;
  }

  /** Counts one more entry on `port`; returns the group's start (`seq` when the group was empty). */
  private groupAdd(port: number, seq: number): number {
    if ((this.pgSize + 1) * 2 > this.pgCap) this.groupGrow();
    const k = port + 1;
    const mask = this.pgCap - 1;
    const pg = this.pg;
    let g = Math.imul(k, 0x9e3779b1) & mask;
    for (;;) {
      const kg = pg[4 * g]!;
      if (kg === k) {
        pg[4 * g + 1]!++;
        return pg[4 * g + 2]!;
      }
      if (kg === 0) break;
      g = (g + 1) & mask;
    }
    pg[4 * g] = k;
    pg[4 * g + 1] = 1;
    pg[4 * g + 2] = seq;
    this.pgSize++;
    return seq;
  }

  /** Counts one entry less on `port` (the group goes at zero). */
  private groupRemove(port: number): void {
    if (this.pgSize === 0) return;
    const k = port + 1;
    const mask = this.pgCap - 1;
    const pg = this.pg;
    let g = Math.imul(k, 0x9e3779b1) & mask;
    while (pg[4 * g] !== k) {
      if (pg[4 * g] === 0) return;
      g = (g + 1) & mask;
    }
    if (--pg[4 * g + 1]! > 0) return;
    this.pgSize--;
    // Backward shift: pull later entries of the probe run into the hole.
    let j = g;
    for (;;) {
      j = (j + 1) & mask;
      const kj = pg[4 * j]!;
      if (kj === 0) break;
      const home = Math.imul(kj, 0x9e3779b1) & mask;
      if (((j - home) & mask) >= ((j - g) & mask)) {
        pg[4 * g] = kj;
        pg[4 * g + 1] = pg[4 * j + 1]!;
        pg[4 * g + 2] = pg[4 * j + 2]!;
        g = j;
      }
    }
    pg[4 * g] = 0;
  }

  private groupGrow(): void {
    const pg = this.pg;
    this.pgCap = Math.max(MIN_CAP, 2 * this.pgCap);
    const np = (this.pg = new Int32Array(4 * this.pgCap));
    const mask = this.pgCap - 1;
    for (let o = 0; o < pg.length; o += 4) {
      const k = pg[o]!;
      if (k === 0) continue;
      let g = Math.imul(k, 0x9e3779b1) & mask;
      while (np[4 * g] !== 0) g = (g + 1) & mask;
      np[4 * g] = k;
      np[4 * g + 1] = pg[o + 1]!;
      np[4 * g + 2] = pg[o + 2]!;
    }
  }
}
