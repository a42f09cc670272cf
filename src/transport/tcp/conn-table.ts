// transport/tcp/conn-table — the established hash (inet_ehash: local port, peer address, peer port → a
// socket or a TIME_WAIT record) as one open-addressing table: a slot is the key's 32-bit hash and the
// entry side by side in one array (two words, 16 bytes a slot: a probe, an insert or a delete reads one
// line of it, rarely two), linear probing, deletion by backward shift (no tombstones). A connection costs
// no Map of its own and no boxed key: the kernel's ehash is one flat table too (inet_ehashfn). A lookup
// compares the hash, then the entry's own key fields (the caller reads the entry next anyway); a delete
// compares entries by identity and moves slots by their stored hash, reading no entry. Listing order
// (`values`) is what a Map of local port → Map of peer → entry gave: local ports in the order their group
// last went from empty to non-empty, then entries in insertion order; each entry keeps its insertion
// number (`tableSeq`), and a small per-port table (port, count, start in one Int32Array) counts the
// entries and keeps the group's start, the group counted last held in the table's own fields (a server's
// one port: its count never reads the Int32Array).
// (Keys and entries were an Int32Array and an array of entries: a cold insert or delete read the typed
// array's object, its slot's line, the entries' array object, its header and the entry's line: at a big
// world's server, whose table is cold by its next connection, and at a client's TIME_WAIT expiry. Then
// four-word slots (ports, address, insertion number, entry): 32 bytes, a slot straddled two lines 3 times
// in 8 and a probe run spanned twice the lines.)
// Layer: transport.
import type { Ipv4 } from '../../wire/types.js';

/** What the table keys on (TcpSocket, TimeWaitSock). */
export interface ConnEntry {
  readonly localPort: number;
  readonly remoteAddr: Ipv4;
  readonly remotePort: number;
  /** @internal (ConnTable) The entry's insertion number in its table (its place in the listing within its local port's group), written by the table. */
  tableSeq: number;
}

const MIN_CAP = 16;
/** What a table holds before its first entry (a namespace that never uses TCP allocates nothing more). */
const NO_I32 = new Int32Array(0);

/**
 * A slot array of `cap` empty slots, built by pushes: PACKED_ELEMENTS (Smis and entries; no hole checks),
 * the same elements kind for every table, the shared empty one included. The hashes are int32,
 * small integers to V8 (no box, no write barrier).
 */
function emptySlots(cap: number): unknown[] {
  const t: unknown[] = [];
  for (let i = 0; i < cap; i++) t.push(0, null);
  return t;
}
/** The slots of a table that never held an entry (cap 0: never read or written). */
const NO_SLOTS = emptySlots(1);
/** Insertion numbers are int32: at this one the table numbers its entries again from 0 (same order). */
const SEQ_LIMIT = 0x7fffffff;

/** 32-bit mix of the three key fields (a murmur3-style finaliser). */
function mix(addr: number, ports: number): number {
  let h = Math.imul(addr ^ Math.imul(ports, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * The connection table of one TCP layer: the layer's base class (TcpLayer extends it), so these fields
 * are the layer object's first ones, in the order a lookup and an insert read them (a server's SYN reads
 * `size` to find no connection, then inserts): a table object of its own was one or two more lines read
 * cold at a big world's server by its next connection.
 */
export class ConnTable<T extends ConnEntry> {
  /** Entries in the table. */
  size = 0;
  private cap = 0;
  /**
   * Per slot i, two words: t[2i] = the key's hash (mix of the peer address and localPort << 16 |
   * remotePort: an int32, a small integer to V8), t[2i + 1] = the entry (null when the slot is empty).
   */
  private t: unknown[] = NO_SLOTS;
  private nextSeq = 0;
  /** Insertion number at which the entries are numbered again (a constructor argument for tests). */
  private readonly seqLimit: number;
  /**
   * One group held in these fields instead of `pg` (its port + 1, 0: none; its count, 0 when empty; its
   * start): the one last counted. Its record in `pg`, if any, is stale until groupFlush writes it back. A
   * server's connections all come to its one port: counting them reads no `pg` (the typed array's object
   * and its data, two lines cold by a big world's next connection to that server).
   */
  private gK = 0;
  private gCount = 0;
  private gStart = 0;
  /**
   * Local port → entries with that port and the insertion number that started the group: per slot g,
   * pg[4g] = port + 1 (0 = empty), pg[4g + 1] = the count, pg[4g + 2] = the start.
   */
  private pg = NO_I32;
  private pgCap = 0;
  private pgSize = 0;

  constructor(seqLimit = SEQ_LIMIT) {
    this.seqLimit = seqLimit;
  }

  /** The entry for this 4-tuple (the local address is not in the key: one address per side), or undefined. */
  get(localPort: number, remoteAddr: Ipv4, remotePort: number): T | undefined {
    if (this.size === 0) return undefined;
    const a = remoteAddr | 0;
    const h = mix(a, (localPort << 16) | remotePort);
    const mask = this.cap - 1;
    const t = this.t;
    let i = h & mask;
    for (;;) {
      const e = t[2 * i + 1] as T | null;
      if (e === null) return undefined;
      // (the hash first; the key's fields are the entry's own, read once the hash matches: the caller reads the entry next)
      if (t[2 * i] === h && e.localPort === localPort && e.remotePort === remotePort && (e.remoteAddr | 0) === a) return e;
      i = (i + 1) & mask;
    }
  }

  /** Adds `e`; an entry already there for its 4-tuple gives `e` its slot (and its place in the listing). */
  set(e: T): void {
    if ((this.size + 1) * 2 > this.cap) this.grow(); // (at most half full: a probe always ends at an empty slot)
    if (this.nextSeq >= this.seqLimit) this.renumber();
    const a = e.remoteAddr | 0;
    const lp = e.localPort;
    const rp = e.remotePort;
    const h = mix(a, (lp << 16) | rp);
    const mask = this.cap - 1;
    const t = this.t;
    let i = h & mask;
    for (let o = t[2 * i + 1] as T | null; o !== null; o = t[2 * i + 1] as T | null) {
      if (t[2 * i] === h && o.localPort === lp && o.remotePort === rp && (o.remoteAddr | 0) === a) {
        e.tableSeq = o.tableSeq;
        t[2 * i + 1] = e;
        return;
      }
      i = (i + 1) & mask;
    }
    const seq = this.nextSeq++;
    this.groupAdd(lp, seq);
    e.tableSeq = seq;
    t[2 * i] = h;
    t[2 * i + 1] = e;
    this.size++;
  }

  /** Puts `next` in `prev`'s slot (same 4-tuple, same place in the listing); false when `prev` is not there. */
  replace(prev: T, next: T): boolean {
    const i = this.slotOf(prev);
    if (i < 0) return false;
    next.tableSeq = prev.tableSeq;
    this.t[2 * i + 1] = next;
    return true;
  }

  /** Removes `e` if it is the entry for its 4-tuple; true when it was. */
  delete(e: T): boolean {
    let i = this.slotOf(e);
    if (i < 0) return false;
    this.size--;
    this.groupRemove(e.localPort);
    const mask = this.cap - 1;
    const t = this.t;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const ej = t[2 * j + 1];
      if (ej === null) break;
      const hj = t[2 * j] as number;
      if (((j - (hj & mask)) & mask) >= ((j - i) & mask)) {
        // (its home is not in (i, j]: it moves back into the hole)
        t[2 * i] = hj;
        t[2 * i + 1] = ej;
        i = j;
      }
    }
    t[2 * i] = 0;
    t[2 * i + 1] = null;
    return true;
  }

  /** Every entry, in the order a Map of local port → Map of peer → entry would list them. */
  values(): T[] {
    return this.listed().map((i) => this.t[2 * i + 1] as T);
  }

  /** The occupied slots in listing order (their group's start, then insertion number). */
  private listed(): number[] {
    this.groupFlush(); // (every group's start in pg)
    const at: number[] = [];
    const start = new Map<number, number>();
    const t = this.t;
    for (let i = 0; i < this.cap; i++) {
      const e = t[2 * i + 1] as T | null;
      if (e === null) continue;
      at.push(i);
      const port = e.localPort;
      if (!start.has(port)) start.set(port, this.pg[4 * this.groupSlot(port) + 2]!);
    }
    const entry = (i: number): T => t[2 * i + 1] as T;
    at.sort((x, y) => start.get(entry(x).localPort)! - start.get(entry(y).localPort)! || entry(x).tableSeq - entry(y).tableSeq);
    return at;
  }

  /**
   * The slot holding `e` itself, or -1. The hash first: an entry compared by identity has its map read
   * (the compare checks what kind of value each side is), a line of another connection's, cold; a
   * compare with null or of two small integers reads nothing.
   */
  private slotOf(e: T): number {
    if (this.size === 0) return -1;
    const mask = this.cap - 1;
    const t = this.t;
    const h = mix(e.remoteAddr | 0, (e.localPort << 16) | e.remotePort);
    let i = h & mask;
    for (;;) {
      const o = t[2 * i + 1];
      if (o === null) return -1;
      if (t[2 * i] === h && o === e) return i;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.t;
    const oldCap = this.cap;
    this.cap = Math.max(MIN_CAP, 2 * this.cap);
    const t = (this.t = emptySlots(this.cap));
    const mask = this.cap - 1;
    for (let o = 0; o < oldCap; o++) {
      const e = old[2 * o + 1];
      if (e === null) continue;
      const h = old[2 * o] as number;
      let i = h & mask;
      while (t[2 * i + 1] !== null) i = (i + 1) & mask;
      t[2 * i] = h;
      t[2 * i + 1] = e;
    }
  }

  /**
   * Numbers the entries again from 0 in listing order, each group starting at its first entry's new
   * number (the order stays the same; later insertion numbers stay above every one given here).
   */
  private renumber(): void {
    const t = this.t;
    let seq = 0;
    let prevPort = -1;
    // (listed() reads every group's start before the loop below changes any)
    for (const i of this.listed()) {
      const e = t[2 * i + 1] as T;
      const port = e.localPort;
      if (port !== prevPort) {
        // a group's entries are listed together, the first at its new start
        prevPort = port;
        this.pg[4 * this.groupSlot(port) + 2] = seq;
      }
      e.tableSeq = seq++;
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

  /** Counts one more entry on `port`; a group that was empty starts at `seq`. */
  private groupAdd(port: number, seq: number): void {
    if (port + 1 !== this.gK) this.groupTo(port + 1);
    if (this.gCount++ === 0) this.gStart = seq;
  }

  /** Counts one entry less on `port` (the group goes at zero). */
  private groupRemove(port: number): void {
    if (port + 1 !== this.gK) this.groupTo(port + 1);
    if (this.gCount > 0) this.gCount--;
  }

  /** Writes the held group back (into pg, or out of it at zero), then holds group `k`: its pg record's count and start, or an empty one. */
  private groupTo(k: number): void {
    this.groupFlush();
    this.gK = k;
    const g = this.pgFind(k);
    this.gCount = g < 0 ? 0 : this.pg[4 * g + 1]!;
    this.gStart = g < 0 ? 0 : this.pg[4 * g + 2]!;
  }

  /** Writes the held group (if any) back into pg and holds none. */
  private groupFlush(): void {
    const k = this.gK;
    if (k === 0) return;
    this.gK = 0;
    if (this.gCount > 0) this.pgPut(k, this.gCount, this.gStart);
    else this.pgDelete(k);
  }

  /** The pg slot of key `k` (port + 1), or -1. */
  private pgFind(k: number): number {
    if (this.pgSize === 0) return -1;
    const mask = this.pgCap - 1;
    const pg = this.pg;
    let g = Math.imul(k, 0x9e3779b1) & mask;
    for (let kg = pg[4 * g]!; kg !== k; kg = pg[4 * g]!) {
      if (kg === 0) return -1;
      g = (g + 1) & mask;
    }
    return g;
  }

  /** Sets key `k`'s record in pg (added when absent). */
  private pgPut(k: number, count: number, start: number): void {
    if ((this.pgSize + 1) * 2 > this.pgCap) this.groupGrow();
    const mask = this.pgCap - 1;
    const pg = this.pg;
    let g = Math.imul(k, 0x9e3779b1) & mask;
    for (;;) {
      const kg = pg[4 * g]!;
      if (kg === k) break;
      if (kg === 0) {
        pg[4 * g] = k;
        this.pgSize++;
        break;
      }
      g = (g + 1) & mask;
    }
    pg[4 * g + 1] = count;
    pg[4 * g + 2] = start;
  }

  /** Removes key `k`'s record from pg, if there. */
  private pgDelete(k: number): void {
    let g = this.pgFind(k);
    if (g < 0) return;
    const mask = this.pgCap - 1;
    const pg = this.pg;
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
