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
