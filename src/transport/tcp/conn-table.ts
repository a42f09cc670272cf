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

/** 32-bit mix of the three key fields (a murmur3-style finaliser). */
function mix(addr: number, ports: number): number {
  let h = Math.imul(addr ^ Math.imul(ports, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Local port → entries with that port and the insertion number that started the group. A slot is four
 * int32 side by side (port + 1, 0 = empty; count; start; unused), so an add or remove reads one cache
 * line: a client's ports are ephemeral, one group each, and this table is as large and as cold as the
 * connection table (three arrays were three lines an insert or delete).
 */
class PortGroups {
  private cap = 0;
  private g = NO_I32;
  private size = 0;

  /** Counts one more entry on `port`; returns the group's start (`seq` when the group was empty). */
  add(port: number, seq: number): number {
    if ((this.size + 1) * 2 > this.cap) this.grow();
    const k = port + 1;
    const mask = this.cap - 1;
    const g = this.g;
    let i = Math.imul(k, 0x9e3779b1) & mask;
    for (;;) {
      const ki = g[4 * i]!;
      if (ki === k) {
        g[4 * i + 1]!++;
        return g[4 * i + 2]!;
      }
      if (ki === 0) break;
      i = (i + 1) & mask;
    }
    g[4 * i] = k;
    g[4 * i + 1] = 1;
    g[4 * i + 2] = seq;
    this.size++;
    return seq;
  }

  /** Counts one entry less on `port` (the group goes at zero). */
  remove(port: number): void {
    if (this.size === 0) return;
    const k = port + 1;
    const mask = this.cap - 1;
    const g = this.g;
    let i = Math.imul(k, 0x9e3779b1) & mask;
    while (g[4 * i] !== k) {
      if (g[4 * i] === 0) return;
      i = (i + 1) & mask;
    }
    if (--g[4 * i + 1]! > 0) return;
    this.size--;
    // Backward shift: pull later entries of the probe run into the hole.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const kj = g[4 * j]!;
      if (kj === 0) break;
      const home = Math.imul(kj, 0x9e3779b1) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        g[4 * i] = kj;
        g[4 * i + 1] = g[4 * j + 1]!;
        g[4 * i + 2] = g[4 * j + 2]!;
        i = j;
      }
    }
    g[4 * i] = 0;
  }

  private grow(): void {
    const old = this.g;
    this.cap = Math.max(MIN_CAP, 2 * this.cap);
    const g = (this.g = new Int32Array(4 * this.cap));
    const mask = this.cap - 1;
    for (let s = 0; s < old.length; s += 4) {
      const k = old[s]!;
      if (k === 0) continue;
      let i = Math.imul(k, 0x9e3779b1) & mask;
      while (g[4 * i] !== 0) i = (i + 1) & mask;
      g[4 * i] = k;
      g[4 * i + 1] = old[s + 1]!;
      g[4 * i + 2] = old[s + 2]!;
    }
  }
}

/** The connection table of one TCP layer. */
export class ConnTable<T extends ConnEntry> {
  private cap = 0;
  /**
   * Per slot i, four int32 side by side: keys[4i] = localPort << 16 | remotePort (0 = an empty slot: no
   * connection has both ports 0), keys[4i + 1] = the peer address, keys[4i + 2] = the entry's insertion
   * number and keys[4i + 3] its local port group's start (the listing order). One cache line holds a
   * probe's keys and what an insert or a delete writes beside them: in a steady state of thousands of
   * TIME_WAIT entries the slot is seldom in cache, and the order in an array of its own was a second
   * cold line. (An int32 insertion number: 2^31 connections through one layer is no run's size.)
   */
  private keys = NO_I32;
  private vals: (T | null)[] = [];
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
      const pi = keys[4 * i]!;
      if (pi === 0) return undefined;
      if (pi === p && keys[4 * i + 1] === a) return this.vals[i]!;
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
    for (let pi = keys[4 * i]!; pi !== 0; pi = keys[4 * i]!) {
      if (pi === p && keys[4 * i + 1] === a) {
        this.vals[i] = e;
        return;
      }
      i = (i + 1) & mask;
    }
    keys[4 * i] = p;
    keys[4 * i + 1] = a;
    this.vals[i] = e;
    const seq = this.nextSeq++;
    keys[4 * i + 2] = seq;
    keys[4 * i + 3] = this.groups.add(e.localPort, seq);
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
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const pj = keys[4 * j]!;
      if (pj === 0) break;
      const aj = keys[4 * j + 1]!;
      const home = mix(aj, pj) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        keys[4 * i] = pj;
        keys[4 * i + 1] = aj;
        keys[4 * i + 2] = keys[4 * j + 2]!;
        keys[4 * i + 3] = keys[4 * j + 3]!;
        this.vals[i] = this.vals[j]!;
        i = j;
      }
    }
    keys[4 * i] = 0;
    this.vals[i] = null;
    return true;
  }

  /** Every entry, in the order a Map of local port → Map of peer → entry would list them. */
  values(): T[] {
    const at: number[] = [];
    const keys = this.keys;
    for (let i = 0; i < this.cap; i++) if (keys[4 * i] !== 0) at.push(i);
    at.sort((x, y) => keys[4 * x + 3]! - keys[4 * y + 3]! || keys[4 * x + 2]! - keys[4 * y + 2]!);
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
      const pi = keys[4 * i]!;
      if (pi === 0) return -1;
      if (pi === p && keys[4 * i + 1] === a) return this.vals[i] === e ? i : -1;
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const vals = this.vals;
    const keys = this.keys;
    this.cap = Math.max(MIN_CAP, 2 * this.cap);
    const nk = (this.keys = new Int32Array(4 * this.cap));
    const nv = (this.vals = new Array<T | null>(this.cap).fill(null));
    const mask = this.cap - 1;
    for (let s = 0; s < vals.length; s++) {
      const v = vals[s]!;
      if (v === null) continue;
      const p = keys[4 * s]!;
      const a = keys[4 * s + 1]!;
      let i = mix(a, p) & mask;
      while (nk[4 * i] !== 0) i = (i + 1) & mask;
      nk[4 * i] = p;
      nk[4 * i + 1] = a;
      nk[4 * i + 2] = keys[4 * s + 2]!;
      nk[4 * i + 3] = keys[4 * s + 3]!;
      nv[i] = v;
    }
  }
}
