// transport/tcp/conn-table — the established hash (inet_ehash: local port, peer address, peer port → a
// socket or a TIME_WAIT record) as one open-addressing table: both keys of a slot side by side in one
// Int32Array (one cache line per probe), the entries in a parallel array, linear probing, deletion
// by backward shift (no tombstones). A connection costs no Map of its own and no boxed key: the
// kernel's ehash is one flat table too (inet_ehashfn). Listing
// order (`values`) is what a Map of local port → Map of peer → entry gave: local ports in the order
// their group last went from empty to non-empty, then entries in insertion order; each slot keeps its
// entry's group start and insertion number beside the keys, and a small per-port table counts the entries.
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
const NO_F64 = new Float64Array(0);

/** 32-bit mix of the three key fields (a murmur3-style finaliser). */
function mix(addr: number, ports: number): number {
  let h = Math.imul(addr ^ Math.imul(ports, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Local port → entries with that port and the insertion number that started the group. */
class PortGroups {
  private cap = 0;
  private keys = NO_I32; // port + 1; 0 = empty
  private counts = NO_I32;
  private starts = NO_F64;
  private size = 0;

  /** Counts one more entry on `port`; returns the group's start (`seq` when the group was empty). */
  add(port: number, seq: number): number {
    if ((this.size + 1) * 2 > this.cap) this.grow();
    const k = port + 1;
    const mask = this.cap - 1;
    let i = Math.imul(k, 0x9e3779b1) & mask;
    for (;;) {
      const ki = this.keys[i]!;
      if (ki === k) {
        this.counts[i]!++;
        return this.starts[i]!;
      }
      if (ki === 0) break;
      i = (i + 1) & mask;
    }
    this.keys[i] = k;
    this.counts[i] = 1;
    this.starts[i] = seq;
    this.size++;
    return seq;
  }

  /** Counts one entry less on `port` (the group goes at zero). */
  remove(port: number): void {
    if (this.size === 0) return;
    const k = port + 1;
    const mask = this.cap - 1;
    let i = Math.imul(k, 0x9e3779b1) & mask;
    while (this.keys[i] !== k) {
      if (this.keys[i] === 0) return;
      i = (i + 1) & mask;
    }
    if (--this.counts[i]! > 0) return;
    this.size--;
    // Backward shift: pull later entries of the probe run into the hole.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const kj = this.keys[j]!;
      if (kj === 0) break;
      const home = Math.imul(kj, 0x9e3779b1) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        this.keys[i] = kj;
        this.counts[i] = this.counts[j]!;
        this.starts[i] = this.starts[j]!;
        i = j;
      }
    }
    this.keys[i] = 0;
  }

  private grow(): void {
    const keys = this.keys;
    const counts = this.counts;
    const starts = this.starts;
    this.cap = Math.max(MIN_CAP, 2 * this.cap);
    this.keys = new Int32Array(this.cap);
    this.counts = new Int32Array(this.cap);
    this.starts = new Float64Array(this.cap);
    const mask = this.cap - 1;
    for (let s = 0; s < keys.length; s++) {
      const k = keys[s]!;
      if (k === 0) continue;
      let i = Math.imul(k, 0x9e3779b1) & mask;
      while (this.keys[i] !== 0) i = (i + 1) & mask;
      this.keys[i] = k;
      this.counts[i] = counts[s]!;
      this.starts[i] = starts[s]!;
    }
  }
}

/** The connection table of one TCP layer. */
export class ConnTable<T extends ConnEntry> {
  private cap = 0;
  /**
   * Per slot i, keys[2i] = localPort << 16 | remotePort (0 = an empty slot: no connection has both ports
   * 0) and keys[2i + 1] = the peer address, side by side so a probe reads one cache line per slot.
   */
  private keys = NO_I32;
  private vals: (T | null)[] = [];
  /** Per slot i, order[2i] = the entry's insertion number and order[2i + 1] its local port group's start (the listing order). */
  private order = NO_F64;
  private readonly groups = new PortGroups();
  private nextSeq = 0;
  /** Entries in the table. */
  size = 0;

  /** The entry for this 4-tuple (the local address is not in the key: one address per side), or undefined. */
  get(localPort: number, remoteAddr: Ipv4, remotePort: number): T | undefined {
    if (this.size === 0) return undefined;
    const a = remoteAddr | 0;
    const p = (localPort << 16) | remotePort;
    const mask = this.cap - 1;
    const keys = this.keys;
    let i = mix(a, p) & mask;
    for (;;) {
      const pi = keys[2 * i]!;
      if (pi === 0) return undefined;
      if (pi === p && keys[2 * i + 1] === a) return this.vals[i]!;
      i = (i + 1) & mask;
    }
  }

  /** Adds `e`; an entry already there for its 4-tuple gives `e` its slot (and its place in the listing). */
  set(e: T): void {
    if ((this.size + 1) * 2 > this.cap) this.grow(); // (at most half full: a probe always ends at an empty slot)
    const a = e.remoteAddr | 0;
    const p = (e.localPort << 16) | e.remotePort;
    const mask = this.cap - 1;
    const keys = this.keys;
    let i = mix(a, p) & mask;
    for (let pi = keys[2 * i]!; pi !== 0; pi = keys[2 * i]!) {
      if (pi === p && keys[2 * i + 1] === a) {
        this.vals[i] = e;
        return;
      }
      i = (i + 1) & mask;
    }
    keys[2 * i] = p;
    keys[2 * i + 1] = a;
    this.vals[i] = e;
    const seq = this.nextSeq++;
    this.order[2 * i] = seq;
    this.order[2 * i + 1] = this.groups.add(e.localPort, seq);
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
    this.groups.remove(e.localPort);
    const mask = this.cap - 1;
    const keys = this.keys;
    const order = this.order;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const pj = keys[2 * j]!;
      if (pj === 0) break;
      const aj = keys[2 * j + 1]!;
      const home = mix(aj, pj) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        keys[2 * i] = pj;
        keys[2 * i + 1] = aj;
        this.vals[i] = this.vals[j]!;
        order[2 * i] = order[2 * j]!;
        order[2 * i + 1] = order[2 * j + 1]!;
        i = j;
      }
    }
    keys[2 * i] = 0;
    this.vals[i] = null;
    return true;
  }

  /** Every entry, in the order a Map of local port → Map of peer → entry would list them. */
  values(): T[] {
    const at: number[] = [];
    for (let i = 0; i < this.cap; i++) if (this.keys[2 * i] !== 0) at.push(i);
    const order = this.order;
    at.sort((x, y) => order[2 * x + 1]! - order[2 * y + 1]! || order[2 * x]! - order[2 * y]!);
    return at.map((i) => this.vals[i]!);
  }

  private slotOf(e: T): number {
    if (this.size === 0) return -1;
    const a = e.remoteAddr | 0;
    const p = (e.localPort << 16) | e.remotePort;
    const mask = this.cap - 1;
    const keys = this.keys;
    let i = mix(a, p) & mask;
    for (;;) {
      const pi = keys[2 * i]!;
      if (pi === 0) return -1;
      if (pi === p && keys[2 * i + 1] === a) return this.vals[i] === e ? i : -1;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const vals = this.vals;
    const keys = this.keys;
    const order = this.order;
    this.cap = Math.max(MIN_CAP, 2 * this.cap);
    const nk = (this.keys = new Int32Array(2 * this.cap));
    const nv = (this.vals = new Array<T | null>(this.cap).fill(null));
    const no = (this.order = new Float64Array(2 * this.cap));
    const mask = this.cap - 1;
    for (let s = 0; s < vals.length; s++) {
      const v = vals[s]!;
      if (v === null) continue;
      const p = keys[2 * s]!;
      const a = keys[2 * s + 1]!;
      let i = mix(a, p) & mask;
      while (nk[2 * i] !== 0) i = (i + 1) & mask;
      nk[2 * i] = p;
      nk[2 * i + 1] = a;
      nv[i] = v;
      no[2 * i] = order[2 * s]!;
      no[2 * i + 1] = order[2 * s + 1]!;
    }
  }
}
