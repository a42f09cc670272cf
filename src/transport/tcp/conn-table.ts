// transport/tcp/conn-table — the established hash (inet_ehash: local port, peer address, peer port → a
// socket or a TIME_WAIT record) as one open-addressing table: a slot's two keys, its insertion number
// and its entry side by side in one array (four words, 32 bytes a slot, so a probe, an insert or a
// delete reads one line of it, two when the slot straddles one), linear probing, deletion by backward
// shift (no tombstones). A connection costs no Map of its own and no boxed key: the kernel's ehash is
// one flat table too (inet_ehashfn). Listing order (`values`) is what a Map of local port → Map of peer
// → entry gave: local ports in the order their group last went from empty to non-empty, then entries in
// insertion order; each slot keeps its entry's insertion number, and a small per-port table (port,
// count, start in one Int32Array) counts the entries and keeps the group's start, the group counted last
// held in the table's own fields (a server's one port: its count never reads the Int32Array).
// (Keys and entries were an Int32Array and an array of entries: a cold insert or delete read the typed
// array's object, its slot's line, the entries' array object, its header and the entry's line: at a big
// world's server, whose table is cold by its next connection, and at a client's TIME_WAIT expiry.)
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

/**
 * A slot array of `cap` empty slots, built by pushes: PACKED_ELEMENTS (Smis and entries; no hole checks),
 * the same elements kind for every table, the shared empty one included. The keys and numbers are int32,
 * small integers to V8 (no box, no write barrier).
 */
function emptySlots(cap: number): unknown[] {
  const t: unknown[] = [];
  for (let i = 0; i < cap; i++) t.push(0, 0, 0, null);
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
   * Per slot i, four words: t[4i] = localPort << 16 | remotePort (0 = an empty slot: no connection has
   * both ports 0), t[4i + 1] = the peer address, t[4i + 2] = the entry's insertion number (the listing
   * order within its local port's group), t[4i + 3] = the entry (null when empty).
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
    const p = (localPort << 16) | remotePort;
    const mask = this.cap - 1;
    const t = this.t;
    let i = mix(a, p) & mask;
    for (;;) {
      const pi = t[4 * i] as number;
      if (pi === 0) return undefined;
      if (pi === p && t[4 * i + 1] === a) return t[4 * i + 3] as T;
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
    const t = this.t;
    let i = mix(a, p) & mask;
    for (let pi = t[4 * i] as number; pi !== 0; pi = t[4 * i] as number) {
      if (pi === p && t[4 * i + 1] === a) {
        t[4 * i + 3] = e;
        return;
      }
      i = (i + 1) & mask;
    }
    const seq = this.nextSeq++;
    this.groupAdd(e.localPort, seq);
    t[4 * i] = p;
    t[4 * i + 1] = a;
    t[4 * i + 2] = seq;
    t[4 * i + 3] = e;
    this.size++;
  }

  /** Puts `next` in `prev`'s slot (same 4-tuple, same place in the listing); false when `prev` is not there. */
  replace(prev: T, next: T): boolean {
    const i = this.slotOf(prev);
    if (i < 0) return false;
    this.t[4 * i + 3] = next;
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
      const pj = t[4 * j] as number;
      if (pj === 0) break;
      const aj = t[4 * j + 1] as number;
      const home = mix(aj, pj) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        t[4 * i] = pj;
        t[4 * i + 1] = aj;
        t[4 * i + 2] = t[4 * j + 2];
        t[4 * i + 3] = t[4 * j + 3];
        i = j;
      }
    }
    t[4 * i] = 0;
    t[4 * i + 3] = null;
    return true;
  }

  /** Every entry, in the order a Map of local port → Map of peer → entry would list them. */
  values(): T[] {
    return this.listed().map((i) => this.t[4 * i + 3] as T);
  }

  /** The occupied slots in listing order (their group's start, then insertion number). */
  private listed(): number[] {
    this.groupFlush(); // (every group's start in pg)
    const at: number[] = [];
    const start = new Map<number, number>();
    const t = this.t;
    for (let i = 0; i < this.cap; i++) {
      const p = t[4 * i] as number;
      if (p === 0) continue;
      at.push(i);
      const port = p >>> 16;
      if (!start.has(port)) start.set(port, this.pg[4 * this.groupSlot(port) + 2]!);
    }
    const startOf = (i: number): number => start.get((t[4 * i] as number) >>> 16)!;
    at.sort((x, y) => startOf(x) - startOf(y) || (t[4 * x + 2] as number) - (t[4 * y + 2] as number));
    return at;
  }

  private slotOf(e: T): number {
    if (this.size === 0) return -1;
    const a = e.remoteAddr | 0;
    const p = (e.localPort << 16) | e.remotePort;
    const mask = this.cap - 1;
    const t = this.t;
    let i = mix(a, p) & mask;
    for (;;) {
      const pi = t[4 * i] as number;
      if (pi === 0) return -1;
      if (pi === p && t[4 * i + 1] === a) return t[4 * i + 3] === e ? i : -1;
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
      const p = old[4 * o] as number;
      if (p === 0) continue;
      const a = old[4 * o + 1] as number;
      let i = mix(a, p) & mask;
      while (t[4 * i] !== 0) i = (i + 1) & mask;
      t[4 * i] = p;
      t[4 * i + 1] = a;
      t[4 * i + 2] = old[4 * o + 2];
      t[4 * i + 3] = old[4 * o + 3];
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
      const port = (t[4 * i] as number) >>> 16;
      if (port !== prevPort) {
        // a group's entries are listed together, the first at its new start
        prevPort = port;
        this.pg[4 * this.groupSlot(port) + 2] = seq;
      }
      t[4 * i + 2] = seq++;
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
