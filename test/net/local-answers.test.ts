// isLocal's cached answers (net/fib-cache.ts `locals`): one array of unboxed doubles, address at 2i and the answer
// at 2i + 1, the same answers as the local table's through a cache that grows (route lookups that conflict) and
// a routing change that empties it; the array stays packed doubles (one shape, no boxed elements).
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { DummyDevice } from '../../src/link/dummy.js';
import { FibCache } from '../../src/net/fib-cache.js';
import { Namespace } from '../../src/net/namespace.js';

setFlagsFromString('--allow-natives-syntax');
const packedDoubles = new Function('a', 'return %HasDoubleElements(a) && !%HasHoleyElements(a);') as (a: unknown) => boolean;
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b);') as (a: object, b: object) => boolean;

const ip = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

describe('isLocal answers cached in one array of doubles', () => {
  it('answer as the local table does through growth and a routing change', () => {
    const sim = new Simulator(1);
    const ns = new Namespace(sim, 'n');
    const eth = new DummyDevice(sim, 'eth0', 0x020000000001);
    ns.addDevice(eth);
    ns.addAddress(eth, ip(10, 1, 0, 2), 24);
    ns.addAddress(eth, ip(200, 1, 0, 9), 24); // above 2^31: not a small integer
    const locals = [ip(10, 1, 0, 2), ip(200, 1, 0, 9), ip(127, 0, 0, 1), ip(127, 3, 2, 1)];
    const others = [ip(10, 1, 0, 3), ip(200, 1, 0, 8), ip(192, 168, 0, 1), ip(10, 1, 0, 255), ip(255, 255, 255, 255)];
    const ask = (): void => {
      for (let round = 0; round < 3; round++) {
        for (const a of locals) expect(ns.isLocal(a)).toBe(true);
        for (const a of others) expect(ns.isLocal(a)).toBe(false);
      }
    };
    ask();
    const fresh = new FibCache().locals;
    expect(packedDoubles(fresh)).toBe(true);
    // Route lookups to many destinations: conflicts grow the cache (and isLocal's slots with it).
    const before = ns.routeCacheSlots;
    for (let i = 0; i < 20_000 && ns.routeCacheSlots === before; i++) ns.fibLookup(ip(10, 1, (i >> 8) & 255, i & 255));
    expect(ns.routeCacheSlots).toBeGreaterThan(before);
    ask();
    // A new address: the cache is emptied (a routing change), the new answer seen.
    ns.addAddress(eth, ip(10, 1, 0, 3), 24);
    expect(ns.isLocal(ip(10, 1, 0, 3))).toBe(true);
    expect(ns.isLocal(ip(10, 1, 0, 4))).toBe(false);
    const cache = (ns as unknown as { fibCache: FibCache }).fibCache;
    expect(cache.locals.length).toBe(2 * ns.routeCacheSlots);
    expect(packedDoubles(cache.locals)).toBe(true);
    expect(sameMap(cache.locals, fresh)).toBe(true);
  });
});

describe("isLocal's own answers in the namespace (localA..localD, localBloom 0: exact)", () => {
  const fields = (ns: Namespace): { set: number[]; bloom: number } => {
    const f = ns as unknown as { localA: number; localB: number; localC: number; localD: number; localBloom: number };
    return { set: [...new Set([f.localA, f.localB, f.localC, f.localD])].map((x) => x >>> 0).sort((a, b) => a - b), bloom: f.localBloom };
  };
  const table = (ns: Namespace, a: number): boolean => {
    const r = ns.localTable.lookup(a);
    return r !== null && r.type === 'local';
  };
  const probe = [
    0,
    0xffffffff,
    ip(127, 0, 0, 1),
    ip(127, 255, 255, 255),
    ip(10, 1, 0, 2),
    ip(10, 1, 0, 3),
    ip(10, 1, 0, 255),
    ip(10, 1, 0, 0),
    ip(10, 244, 3, 0),
    ip(10, 244, 3, 1),
    ip(10, 244, 3, 2),
    ip(10, 244, 3, 255),
    ip(10, 96, 0, 10),
    ip(200, 1, 0, 9),
  ];
  const same = (ns: Namespace): void => {
    for (let round = 0; round < 2; round++) for (const a of [...probe, ...Array.from({ length: 200 }, (_, i) => Math.imul(i + 1, 0x9e3779b1) >>> 0)]) expect([a, ns.isLocal(a)]).toEqual([a, table(ns, a)]);
  };

  it("hold a node's four local addresses exactly and answer as the local table does through address, route and device changes", () => {
    const sim = new Simulator(1);
    const ns = new Namespace(sim, 'node');
    const eth = new DummyDevice(sim, 'eth0', 0x020000000001);
    const vx = new DummyDevice(sim, 'flannel.1', 0x020000000002);
    const br = new DummyDevice(sim, 'cni0', 0x020000000003);
    for (const d of [eth, vx, br]) ns.addDevice(d);
    ns.addAddress(eth, ip(10, 1, 0, 2), 24);
    ns.addAddress(vx, ip(10, 244, 3, 0), 32);
    ns.addAddress(br, ip(10, 244, 3, 1), 24);
    same(ns);
    expect(fields(ns)).toEqual({ set: [ip(10, 1, 0, 2), ip(10, 244, 3, 0), ip(10, 244, 3, 1), ip(127, 0, 0, 1)], bloom: 0 });
    // A device down: its address is no longer the table's answer (lookups skip it), nor one of the exact set.
    vx.up = false;
    same(ns);
    expect(table(ns, ip(10, 244, 3, 0))).toBe(false);
    expect(fields(ns).bloom).not.toBe(0);
    vx.up = true;
    same(ns);
    expect(fields(ns).bloom).toBe(0);
    // A fifth local address: more than the namespace holds, the filter and the cache answer.
    ns.addAddress(eth, ip(200, 1, 0, 9), 24);
    same(ns);
    expect(fields(ns).bloom).not.toBe(0);
  });

  it("leave out an address a broadcast route of the same destination shadows", () => {
    const sim = new Simulator(1);
    const ns = new Namespace(sim, 'p');
    const eth = new DummyDevice(sim, 'eth0', 0x020000000001);
    ns.addDevice(eth);
    ns.addAddress(eth, ip(10, 1, 0, 2), 24);
    // 10.1.0.255 is the subnet's broadcast, added first: the later local route of the same destination is behind it.
    ns.addAddress(eth, ip(10, 1, 0, 255), 24);
    expect(table(ns, ip(10, 1, 0, 255))).toBe(false);
    same(ns);
    expect(fields(ns).bloom).not.toBe(0);
  });
});
