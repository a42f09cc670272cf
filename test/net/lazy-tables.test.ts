// net: a pod's state stays small until it is used. A routing table of a few routes is one ordered list
// (indexed by prefix length only past SMALL_TABLE_MAX routes) and answers exactly as an indexed one;
// devices are found by name (and by ifindex) with or without the Maps a namespace with many devices keeps.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { DummyDevice } from '../../src/link/dummy.js';
import { RouteTable, SMALL_TABLE_MAX, type Route } from '../../src/net/fib.js';
import { formatRoute, Namespace } from '../../src/net/namespace.js';
import { maskFromPrefix } from '../../src/wire/ipv4-addr.js';
import { ip } from './harness.js';

const sim = new Simulator(1);
const eth0 = new DummyDevice(sim, 'eth0', 0x020000000001);
const eth1 = new DummyDevice(sim, 'eth1', 0x020000000002);

function r(dst: number, prefix: number, dev: DummyDevice, metric: number, gateway = 0): Route {
  return { table: 'main', type: 'unicast', dst, prefix, gateway, dev, prefsrc: 0, scope: gateway ? 'global' : 'link', onlink: false, metric, proto: 'boot' };
}

/** A small deterministic generator (the test's own: no simulator stream). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
}

/** The route longest-prefix match must give: longest prefix, lowest metric, first added, device up. */
function reference(routes: Route[], dst: number): Route | null {
  let best: Route | null = null;
  for (const x of routes) {
    if (((dst & maskFromPrefix(x.prefix)) >>> 0) !== x.dst || (x.dev !== null && !x.dev.up)) continue;
    if (best === null || x.prefix > best.prefix || (x.prefix === best.prefix && x.metric < best.metric)) best = x;
  }
  return best;
}

describe('a small routing table', () => {
  it('stays one list up to SMALL_TABLE_MAX routes and is indexed from the next one on', () => {
    const t = new RouteTable();
    for (let i = 0; i < SMALL_TABLE_MAX; i++) t.add(r(ip('10.9.0.0') + i * 256, 24, eth0, 0));
    expect(t.indexed).toBe(false);
    t.add(r(ip('10.8.0.0'), 16, eth0, 0));
    expect(t.indexed).toBe(true);
    expect(t.size).toBe(SMALL_TABLE_MAX + 1);
    expect(formatRoute(t.lookup(ip('10.9.3.7'))!)).toBe('10.9.3.0/24 dev eth0 scope link');
    expect(formatRoute(t.lookup(ip('10.8.200.1'))!)).toBe('10.8.0.0/16 dev eth0 scope link');
  });

  it('answers lookups and listings as an indexed table does, through metrics, ties, a device going down and removals', () => {
    const next = lcg(7);
    const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length]!;
    for (let round = 0; round < 40; round++) {
      eth1.up = true;
      const small = new RouteTable();
      const big = new RouteTable();
      // Indexed for good: past the limit with routes far from the ones tested, then rid of them.
      for (let i = 0; i <= SMALL_TABLE_MAX; i++) big.add(r(ip('192.0.2.0') + i, 32, eth0, 0));
      big.remove((x) => x.dst >>> 24 === 192);
      expect(big.indexed).toBe(true);
      const added: Route[] = [];
      const n = 1 + (next() % SMALL_TABLE_MAX);
      for (let i = 0; i < n; i++) {
        const prefix = pick([0, 8, 16, 24, 24, 32]);
        const dst = (ip('10.0.0.0') + (next() % 4) * 65536 + (next() % 3) * 256 + (next() % 4)) >>> 0;
        const dev = pick([eth0, eth1]);
        const metric = pick([0, 0, 100, 50]);
        const gw = next() % 2 === 0 ? 0 : ip('10.0.0.1') + i;
        const masked = (dst & maskFromPrefix(prefix)) >>> 0;
        small.add(r(dst, prefix, dev, metric, gw));
        big.add(r(dst, prefix, dev, metric, gw));
        added.push(r(masked, prefix, dev, metric, gw));
      }
      expect(small.indexed).toBe(false);
      const check = (): void => {
        expect(small.all().map(formatRoute)).toEqual(big.all().map(formatRoute));
        expect(small.size).toBe(big.size);
        for (let k = 0; k < 64; k++) {
          const dst = (ip('10.0.0.0') + (next() % 5) * 65536 + (next() % 4) * 256 + (next() % 5)) >>> 0;
          const want = reference(added, dst);
          const s = small.lookup(dst);
          const b = big.lookup(dst);
          expect(s && formatRoute(s)).toBe(want && formatRoute(want));
          expect(b && formatRoute(b)).toBe(want && formatRoute(want));
        }
      };
      check();
      eth1.up = false;
      check();
      eth1.up = true;
      const gone = (x: Route): boolean => x.metric === 100;
      expect(small.remove(gone)).toBe(big.remove(gone));
      added.splice(0, added.length, ...added.filter((x) => !gone(x)));
      check();
    }
    eth1.up = true;
  });
});

describe('devices by name', () => {
  it('are found by a scan while few and by a Map past eight, before and after one leaves', () => {
    const ns = new Namespace(new Simulator(1), 'node');
    const devs: DummyDevice[] = [];
    for (let i = 0; i < 20; i++) {
      const d = new DummyDevice(ns.sim, `veth${i}`, 0x020000000100 + i);
      devs.push(d);
      ns.addDevice(d);
      for (let j = 0; j <= i; j++) expect(ns.device(`veth${j}`)).toBe(devs[j]);
      for (let j = 0; j <= i; j++) expect(ns.deviceName(devs[j]!.ifindex)).toBe(`veth${j}`);
      expect(ns.device(`veth${i + 1}`)).toBeUndefined();
      expect(() => ns.addDevice(new DummyDevice(ns.sim, `veth${i}`, 1))).toThrow(/exists/);
    }
    expect(ns.devices.map((d) => d.name)).toEqual(['lo', ...devs.map((d) => d.name)]);
    ns.removeDevice(devs[3]!);
    expect(ns.device('veth3')).toBeUndefined();
    expect(ns.deviceName(devs[3]!.ifindex)).toBe('');
    expect(ns.deviceName(devs[4]!.ifindex)).toBe('veth4');
    expect(ns.devices).toHaveLength(20);
    ns.addDevice(new DummyDevice(ns.sim, 'veth3', 9));
    expect(ns.device('veth3')!.mac).toBe(9);

    const pod = new Namespace(new Simulator(1), 'pod');
    const eth = new DummyDevice(pod.sim, 'eth0', 1);
    pod.addDevice(eth);
    expect(pod.device('eth0')).toBe(eth);
    expect(pod.deviceName(eth.ifindex)).toBe('eth0');
    pod.removeDevice(eth);
    expect(pod.device('eth0')).toBeUndefined();
    expect(pod.deviceName(eth.ifindex)).toBe('');
    expect(pod.devices.map((d) => d.name)).toEqual(['lo']);
  });
});
