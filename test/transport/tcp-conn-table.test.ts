// The established hash as one open-addressing table (transport/tcp/conn-table): lookups, replacement
// and deletion agree with a Map of local port → Map of peer → entry over a long random sequence of
// operations, listing order included (a container kill aborts sockets in that order).
import { describe, expect, it } from 'vitest';
import { ConnTable, type ConnEntry } from '../../src/transport/tcp/conn-table.js';

class E implements ConnEntry {
  tableSeq = 0;
  constructor(
    readonly localPort: number,
    readonly remoteAddr: number,
    readonly remotePort: number,
    readonly id: number,
  ) {}
}

/** The structure the table replaced, as the reference. */
class Reference {
  readonly m = new Map<number, Map<number, E>>();
  private k(addr: number, port: number): number {
    return (addr >>> 0) * 65536 + port;
  }
  get(lp: number, addr: number, rp: number): E | undefined {
    return this.m.get(lp)?.get(this.k(addr, rp));
  }
  set(e: E): void {
    let g = this.m.get(e.localPort);
    if (!g) this.m.set(e.localPort, (g = new Map()));
    g.set(this.k(e.remoteAddr, e.remotePort), e);
  }
  replace(prev: E, next: E): boolean {
    const g = this.m.get(prev.localPort);
    const k = this.k(prev.remoteAddr, prev.remotePort);
    if (g?.get(k) !== prev) return false;
    g.set(k, next);
    return true;
  }
  delete(e: E): boolean {
    const g = this.m.get(e.localPort);
    const k = this.k(e.remoteAddr, e.remotePort);
    if (g?.get(k) !== e) return false;
    g.delete(k);
    if (g.size === 0) this.m.delete(e.localPort);
    return true;
  }
  values(): E[] {
    const out: E[] = [];
    for (const g of this.m.values()) for (const e of g.values()) out.push(e);
    return out;
  }
}

/** A small deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('ConnTable', () => {
  it('agrees with a Map of Maps over random adds, replacements, deletions and lookups, listing order included', () => {
    const r = rng(12345);
    const t = new ConnTable<E>();
    const ref = new Reference();
    const live: E[] = [];
    // Few ports and peers so keys collide, groups empty and refill, and probe runs wrap.
    const ports = [80, 443, 8080, 32768, 32770, 60999, 65535, 1];
    const addrs = [0x0a000001, 0x0a600001, 0xc0a80001, 0xfffffffe, 0x7f000001];
    let id = 0;
    for (let step = 0; step < 20000; step++) {
      const op = r();
      const lp = ports[Math.floor(r() * ports.length)]!;
      const ra = addrs[Math.floor(r() * addrs.length)]!;
      const rp = 32768 + Math.floor(r() * 40);
      if (op < 0.45) {
        const e = new E(lp, ra, rp, id++);
        const prev = ref.get(lp, ra, rp);
        t.set(e);
        ref.set(e);
        if (prev !== undefined) live.splice(live.indexOf(prev), 1);
        live.push(e);
      } else if (op < 0.85 && live.length > 0) {
        const e = live.splice(Math.floor(r() * live.length), 1)[0]!;
        expect(t.delete(e)).toBe(ref.delete(e));
        expect(t.delete(e)).toBe(false);
      } else if (op < 0.95 && live.length > 0) {
        const i = Math.floor(r() * live.length);
        const prev = live[i]!;
        const next = new E(prev.localPort, prev.remoteAddr, prev.remotePort, id++);
        expect(t.replace(prev, next)).toBe(ref.replace(prev, next));
        live[i] = next;
      } else {
        expect(t.get(lp, ra, rp)).toBe(ref.get(lp, ra, rp));
      }
      expect(t.size).toBe(live.length);
      if (step % 500 === 0) expect(t.values().map((e) => e.id)).toEqual(ref.values().map((e) => e.id));
    }
    for (const e of live) expect(t.get(e.localPort, e.remoteAddr, e.remotePort)).toBe(e);
    expect(t.values().map((e) => e.id)).toEqual(ref.values().map((e) => e.id));
  });

  it('keeps the listing order with a group per ephemeral port (a client): groups empty and refill in long probe runs', () => {
    // Hundreds of local ports of one or two entries each: the per-port table is dense, so emptying a
    // group shifts later groups back, and each must keep its own start (the listing order) there.
    const r = rng(777);
    churn(new ConnTable<E>(), r, 30000, 0.52, (id) => new E(32768 + Math.floor(r() * 600), 0x0a600001 + Math.floor(r() * 2), 80, id), 1000);
  });

  it('numbers its entries again at its insertion-number limit without changing the listing order', () => {
    // A limit of 64 renumbers every few dozen inserts: groups that emptied and refilled, and groups
    // whose first entry is gone, must keep their places.
    const r = rng(4242);
    churn(new ConnTable<E>(64), r, 6000, 0.55, (id) => new E([80, 443, 32768 + Math.floor(r() * 30)][Math.floor(r() * 3)]!, 0x0a600001 + Math.floor(r() * 3), 40000 + Math.floor(r() * 20), id), 50);
  });

  it('holds the group counted last in its fields: one port never writes the per-port table; other ports and listings write it back in order', () => {
    const pgSize = (t: ConnTable<E>): number => (t as unknown as { pgSize: number }).pgSize;
    // A server: every connection on port 80, the group emptying and refilling while held.
    const r = rng(99);
    const t = new ConnTable<E>();
    const ref = new Reference();
    const live: E[] = [];
    for (let id = 0; id < 3000; id++) {
      if (r() < 0.5 || live.length === 0) {
        const e = new E(80, 0x0a000001 + Math.floor(r() * 4), 30000 + Math.floor(r() * 3000), id);
        if (ref.get(e.localPort, e.remoteAddr, e.remotePort) !== undefined) continue;
        t.set(e);
        ref.set(e);
        live.push(e);
      } else {
        const e = live.splice(Math.floor(r() * live.length), 1)[0]!;
        expect(t.delete(e)).toBe(true);
        ref.delete(e);
      }
      expect(pgSize(t)).toBe(0);
    }
    expect(t.values().map((e) => e.id)).toEqual(ref.values().map((e) => e.id));
    // Two ports in turns, each group emptying while held and while written back, listed at every step.
    churn(new ConnTable<E>(), rng(5), 4000, 0.5, (id) => new E(id % 7 < 4 ? 80 : 443, 0x0a000001, 40000 + (id % 5), id), 1);
  });

  it('answers before its first entry and after its last one', () => {
    const t = new ConnTable<E>();
    const e = new E(80, 0x0a000001, 40000, 1);
    expect(t.get(80, 0x0a000001, 40000)).toBeUndefined();
    expect(t.delete(e)).toBe(false);
    expect(t.replace(e, new E(80, 0x0a000001, 40000, 2))).toBe(false);
    expect(t.values()).toEqual([]);
    t.set(e);
    expect(t.get(80, 0x0a000001, 40000)).toBe(e);
    expect(t.delete(e)).toBe(true);
    expect(t.get(80, 0x0a000001, 40000)).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it('tells apart entries whose keys hash alike (the slot keeps the hash, the entry its key)', () => {
    // mix xors the peer address with a multiple of the ports first: a peer address chosen so that the
    // xor is the same for other ports gives the same 32-bit hash, so both slots' hashes match.
    const c = 0x9e3779b1;
    const a1 = 0x0a000001;
    const ports1 = (80 << 16) | 40000;
    const keys: [number, number, number][] = [[80, a1, 40000]];
    for (const [lp, rp] of [[80, 40001], [443, 40000], [8080, 50000], [80, 65535]] as const) {
      const a = (a1 ^ Math.imul(ports1, c) ^ Math.imul((lp << 16) | rp, c)) >>> 0;
      keys.push([lp, a, rp]);
    }
    const t = new ConnTable<E>();
    const ref = new Reference();
    const es = keys.map(([lp, a, rp], i) => new E(lp, a, rp, i));
    for (const e of es) {
      t.set(e);
      ref.set(e);
    }
    for (const e of es) expect(t.get(e.localPort, e.remoteAddr, e.remotePort)).toBe(e);
    expect(t.get(80, a1, 40002)).toBeUndefined();
    expect(t.values().map((e) => e.id)).toEqual(ref.values().map((e) => e.id));
    // a new entry for an existing key takes that one's slot and place, not a colliding one's
    const again = new E(443, keys[2]![1], 40000, 99);
    t.set(again);
    ref.set(again);
    expect(t.size).toBe(es.length);
    expect(t.get(443, keys[2]![1], 40000)).toBe(again);
    // deleting from the middle of the run moves the others back; each is still found
    expect(t.delete(es[1]!)).toBe(true);
    ref.delete(es[1]!);
    expect(t.delete(es[2]!)).toBe(false); // (replaced)
    for (const e of [es[0]!, again, es[3]!, es[4]!]) expect(t.get(e.localPort, e.remoteAddr, e.remotePort)).toBe(e);
    expect(t.get(es[1]!.localPort, es[1]!.remoteAddr, es[1]!.remotePort)).toBeUndefined();
    expect(t.values().map((e) => e.id)).toEqual(ref.values().map((e) => e.id));
  });

  it('grows past thousands of entries and empties completely', () => {
    const t = new ConnTable<E>();
    const es: E[] = [];
    for (let i = 0; i < 5000; i++) {
      const e = new E(32768 + (i % 28000), 0x0a600000 + (i % 7), 80, i);
      t.set(e);
      es.push(e);
    }
    expect(t.size).toBe(5000);
    for (const e of es) expect(t.get(e.localPort, e.remoteAddr, e.remotePort)).toBe(e);
    expect(t.get(32768, 0x0a600000, 81)).toBeUndefined();
    for (const e of es) expect(t.delete(e)).toBe(true);
    expect(t.size).toBe(0);
    expect(t.values()).toEqual([]);
    for (const e of es) expect(t.get(e.localPort, e.remoteAddr, e.remotePort)).toBeUndefined();
  });
});

/**
 * `steps` random sets (new entries from `make`, with probability `pAdd`) and deletes of live entries on
 * `t` and on the reference, comparing their listings every `every` steps and at the end.
 */
function churn(t: ConnTable<E>, r: () => number, steps: number, pAdd: number, make: (id: number) => E, every: number): void {
  const ref = new Reference();
  const live: E[] = [];
  let id = 0;
  for (let step = 0; step < steps; step++) {
    if (r() < pAdd || live.length === 0) {
      const e = make(id++);
      const prev = ref.get(e.localPort, e.remoteAddr, e.remotePort);
      t.set(e);
      ref.set(e);
      if (prev !== undefined) live.splice(live.indexOf(prev), 1);
      live.push(e);
    } else {
      const e = live.splice(Math.floor(r() * live.length), 1)[0]!;
      expect(t.delete(e)).toBe(true);
      ref.delete(e);
    }
    if (step % every === every - 1) expect(t.values().map((e) => e.id)).toEqual(ref.values().map((e) => e.id));
  }
  expect(t.values().map((e) => e.id)).toEqual(ref.values().map((e) => e.id));
}
