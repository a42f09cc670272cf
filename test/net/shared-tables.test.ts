// Shared flannel peers (net/fib SharedRoutes, net/neighbour SharedNeighbours, link/vxlan VxlanFdb):
// a table bound to a shared set must read, list and forward exactly as the same table holding a copy
// of each entry (but its own) added at the binding — checked differentially against per-node copies,
// over the same seeded sequence of later adds, lookups, ARP updates, deletes and removals.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { DummyDevice } from '../../src/link/dummy.js';
import { VxlanFdb } from '../../src/link/vxlan.js';
import type { NetDevice } from '../../src/link/device.js';
import { RouteTable, SharedRoutes, formatRoute, type Route } from '../../src/net/fib.js';
import { NeighbourTable, SharedNeighbours, type NeighOwner } from '../../src/net/neighbour.js';
import type { Packet } from '../../src/packet/packet.js';

const sim = new Simulator(1);
const flannel = new DummyDevice(sim, 'flannel.1', 0x020000000001);
const eth0 = new DummyDevice(sim, 'eth0', 0x020000000002);
const N = 12;
const SELF = 5;
const podNet = (i: number): number => (0x0af40000 + (i << 8)) >>> 0; // 10.244.i.0
const nodeIp = (i: number): number => (0x0a000000 + i + 10) >>> 0;
const vtepMac = (i: number): number => 0x0a0000000000 + i;

/** A small deterministic generator (the test's own, so the sequence is fixed). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function route(dst: number, prefix: number, extra: Partial<Route> = {}): Route {
  return { table: 'main', type: 'unicast', dst, prefix, gateway: 0, dev: eth0, prefsrc: 0, scope: 'link', onlink: false, metric: 0, proto: 'boot', ...extra };
}

function flannelRoute(m: number): Route {
  return route(podNet(m), 24, { gateway: podNet(m), dev: flannel, scope: 'global', onlink: true });
}

const show = (t: RouteTable): string[] => t.all().map(formatRoute);
const pick = (t: RouteTable, dst: number): string => {
  const r = t.lookup(dst);
  return r === null ? 'none' : formatRoute(r);
};

describe('RouteTable bound to SharedRoutes', () => {
  const shared = new SharedRoutes(true);
  for (let m = 0; m < N; m++) expect(shared.add(podNet(m), 24, podNet(m))).toBe(true);

  it('refuses a destination already in the set', () => {
    expect(shared.add(podNet(3) | 7, 24, 1)).toBe(false);
  });

  it.each([1, 2, 3, 4, 5, 6])('matches per-node copies over a seeded sequence (seed %i)', (seed) => {
    const rnd = lcg(seed);
    const copy = new RouteTable();
    const bound = new RouteTable();
    // Routes already there before flanneld: some collide with a peer's subnet.
    const before = [route(0, 0, { gateway: nodeIp(99), scope: 'global' }), route(podNet(2), 24, { metric: 0 }), route(podNet(7), 16)];
    for (const r of before) {
      copy.add({ ...r });
      bound.add({ ...r });
    }
    for (let m = 0; m < N; m++) if (m !== SELF) copy.add(flannelRoute(m));
    expect(bound.bindShared(shared, flannel, shared.get(podNet(SELF), 24))).toBe(true);
    expect(bound.bindShared(shared, flannel, undefined)).toBe(false);
    expect(bound.size).toBe(copy.size);
    for (let step = 0; step < 40; step++) {
      const m = Math.floor(rnd() * (N + 2));
      const op = rnd();
      if (op < 0.4) {
        const r = route(podNet(m) | Math.floor(rnd() * 4), [24, 25, 32][Math.floor(rnd() * 3)]!, { metric: Math.floor(rnd() * 3) * 50 });
        copy.add({ ...r });
        bound.add({ ...r });
      } else if (op < 0.9) {
        const dst = podNet(m) | Math.floor(rnd() * 256);
        expect(pick(bound, dst), `lookup ${dst.toString(16)}`).toBe(pick(copy, dst));
      } else {
        flannel.up = !flannel.up;
      }
      expect(show(bound)).toEqual(show(copy));
      expect(bound.size).toBe(copy.size);
    }
    flannel.up = true;
    const pred = (r: Route): boolean => r.metric === 50 || r.dst === podNet(3);
    expect(bound.remove(pred)).toBe(copy.remove(pred));
    expect(show(bound)).toEqual(show(copy));
    for (let m = 0; m < N + 2; m++) expect(pick(bound, podNet(m) + 9)).toBe(pick(copy, podNet(m) + 9));
  });

  it('has no route to its own subnet through the shared set', () => {
    const t = new RouteTable();
    t.bindShared(shared, flannel, shared.get(podNet(SELF), 24));
    expect(t.lookup(podNet(SELF) + 1)).toBeNull();
    expect(pick(t, podNet(4) + 1)).toBe(`10.244.4.0/24 via 10.244.4.0 dev flannel.1 onlink`);
    expect(show(t)).toHaveLength(N - 1);
  });
});

class Owner implements NeighOwner {
  readonly log: string[] = [];
  arpSolicit(dev: NetDevice, ip: number, unicastTo: number | null): void {
    this.log.push(`solicit ${dev.name} ${ip} ${unicastTo}`);
  }
  neighSend(dev: NetDevice, mac: number, pkt: Packet): void {
    this.log.push(`send ${dev.name} ${mac} ${(pkt as unknown as { id: number }).id}`);
  }
  neighFailed(dev: NetDevice): void {
    this.log.push(`failed ${dev.name}`);
  }
  neighQueueFull(dev: NetDevice): void {
    this.log.push(`full ${dev.name}`);
  }
}

describe('NeighbourTable bound to SharedNeighbours', () => {
  const shared = new SharedNeighbours();
  for (let m = 0; m < N; m++) expect(shared.add(podNet(m), vtepMac(m))).toBe(true);
  const fmt = (t: NeighbourTable): string[] => t.all().map((e) => `${e.ip} ${e.dev.name} ${e.mac} ${e.state}`);

  it.each([1, 2, 3, 4])('matches per-node copies over a seeded sequence (seed %i)', (seed) => {
    const s = new Simulator(seed);
    const rnd = lcg(seed);
    const o1 = new Owner();
    const o2 = new Owner();
    const copy = new NeighbourTable(s, o1, s.rng.stream('a'));
    const bound = new NeighbourTable(s, o2, s.rng.stream('a'));
    for (const t of [copy, bound]) t.update(eth0, nodeIp(1), 0x77, 'request-for-us');
    for (let m = 0; m < N; m++) if (m !== SELF) copy.addPermanent(flannel, podNet(m), vtepMac(m));
    expect(bound.bindShared(shared, flannel, podNet(SELF))).toBe(true);
    for (let step = 0; step < 60; step++) {
      const m = Math.floor(rnd() * (N + 2));
      const dev = rnd() < 0.7 ? flannel : eth0;
      const ip = podNet(m);
      const op = rnd();
      const pkt = { id: step } as unknown as Packet;
      if (op < 0.35) {
        copy.output(dev, ip, pkt);
        bound.output(dev, ip, pkt);
      } else if (op < 0.55) {
        const how = (['reply', 'request-for-us', 'other'] as const)[Math.floor(rnd() * 3)]!;
        copy.update(dev, ip, 0x99, how);
        bound.update(dev, ip, 0x99, how);
      } else if (op < 0.65) {
        copy.delete(dev, ip);
        bound.delete(dev, ip);
      } else if (op < 0.75) {
        copy.addPermanent(dev, ip, 0x55 + step);
        bound.addPermanent(dev, ip, 0x55 + step);
      } else if (op < 0.8) {
        expect(bound.carrierDown(dev)).toBe(copy.carrierDown(dev));
      } else {
        const a = copy.get(dev, ip);
        const b = bound.get(dev, ip);
        expect(b === undefined ? 'none' : `${b.mac} ${b.state} ${copy.connected(a!)}`).toBe(a === undefined ? 'none' : `${a.mac} ${a.state} ${bound.connected(b!)}`);
      }
      expect(fmt(bound)).toEqual(fmt(copy));
      expect(o2.log).toEqual(o1.log);
    }
  });

  it('is not bound over an entry it would replace', () => {
    const t = new NeighbourTable(sim, new Owner(), sim.rng.stream('b'));
    t.addPermanent(flannel, podNet(2), 1);
    expect(t.bindShared(shared, flannel, podNet(SELF))).toBe(false);
    expect(t.all()).toHaveLength(1);
  });
});

describe('VxlanFdb bound to a shared map', () => {
  const shared = new Map<number, number>();
  for (let m = 0; m < N; m++) shared.set(vtepMac(m), nodeIp(m));

  it.each([1, 2, 3, 4])('reads and iterates as a Map holding the copies (seed %i)', (seed) => {
    const rnd = lcg(seed);
    const copy = new Map<number, number>();
    const bound = new VxlanFdb();
    copy.set(0x42, 1);
    bound.set(0x42, 1);
    for (let m = 0; m < N; m++) if (m !== SELF) copy.set(vtepMac(m), nodeIp(m));
    expect(bound.bindShared(shared, vtepMac(SELF))).toBe(true);
    for (let step = 0; step < 60; step++) {
      const mac = rnd() < 0.2 ? 0x42 + Math.floor(rnd() * 2) : vtepMac(Math.floor(rnd() * (N + 1)));
      const op = rnd();
      if (op < 0.3) {
        expect(bound.set(mac, step)).toBe(bound);
        copy.set(mac, step);
      } else if (op < 0.5) expect(bound.delete(mac)).toBe(copy.delete(mac));
      else {
        expect(bound.get(mac)).toBe(copy.get(mac));
        expect(bound.has(mac)).toBe(copy.has(mac));
      }
      expect([...bound]).toEqual([...copy]);
      expect(bound.size).toBe(copy.size);
    }
  });
});

describe('NeighbourTable lookups after entries leave', () => {
  it('get answers as the entry list does after deletes, carrier loss and deleted shared entries, whatever was looked up before', () => {
    const s = new Simulator(3);
    const t = new NeighbourTable(s, new Owner(), s.rng.stream('c'));
    const shared = new SharedNeighbours();
    for (let m = 0; m < N; m++) shared.add(podNet(m), vtepMac(m));
    expect(t.bindShared(shared, flannel, podNet(SELF))).toBe(true);
    const listed = (dev: NetDevice, ip: number): string => {
      const e = t.all().find((x) => x.dev === dev && x.ip === ip);
      return e === undefined ? 'none' : `${e.mac} ${e.state}`;
    };
    const got = (dev: NetDevice, ip: number): string => {
      const e = t.get(dev, ip);
      return e === undefined ? 'none' : `${e.mac} ${e.state}`;
    };
    const rnd = lcg(9);
    for (let step = 0; step < 400; step++) {
      const dev = rnd() < 0.5 ? flannel : eth0;
      const ip = rnd() < 0.5 ? podNet(Math.floor(rnd() * N)) : nodeIp(Math.floor(rnd() * 20));
      const op = rnd();
      if (op < 0.3) t.update(dev, ip, 0x99 + step, 'request-for-us');
      else if (op < 0.45) t.delete(dev, ip);
      else if (op < 0.5) t.carrierDown(dev);
      else if (op < 0.6) t.addPermanent(dev, ip, 0x1000 + step);
      // Looked up twice: the second answer may come from the recent-entry cache.
      expect(got(dev, ip)).toBe(listed(dev, ip));
      expect(got(dev, ip)).toBe(listed(dev, ip));
    }
  });
});


describe('NeighbourTable recent-entry cache at scale', () => {
  it('grows when lookups over hundreds of next hops evict each other, and answers as the entry list does throughout', () => {
    const s = new Simulator(4);
    const t = new NeighbourTable(s, new Owner(), s.rng.stream('d'));
    const shared = new SharedNeighbours();
    const M = 700;
    for (let m = 0; m < M; m++) shared.add(podNet(m), vtepMac(m));
    expect(t.bindShared(shared, flannel, podNet(SELF))).toBe(true);
    const want = new Map<string, string>();
    for (let m = 0; m < M; m++) if (m !== SELF) want.set(`flannel.1 ${podNet(m)}`, `${vtepMac(m)} PERMANENT`);
    for (let i = 0; i < 300; i++) {
      t.update(eth0, nodeIp(i), 0x500 + i, 'request-for-us');
      want.set(`eth0 ${nodeIp(i)}`, `${0x500 + i} STALE`);
    }
    const got = (dev: NetDevice, ip: number): string => {
      const e = t.get(dev, ip);
      return e === undefined ? 'none' : `${e.mac} ${e.state}`;
    };
    const rnd = lcg(11);
    let grew = 0;
    for (let step = 0; step < 30000; step++) {
      const onFlannel = rnd() < 0.6;
      const dev = onFlannel ? flannel : eth0;
      const ip = onFlannel ? podNet(Math.floor(rnd() * M)) : nodeIp(Math.floor(rnd() * 320));
      const op = rnd();
      if (op < 0.002) {
        t.delete(dev, ip);
        want.delete(`${dev.name} ${ip}`);
      } else if (op < 0.004) {
        t.addPermanent(dev, ip, 0x9000 + step);
        want.set(`${dev.name} ${ip}`, `${0x9000 + step} PERMANENT`);
      }
      expect(got(dev, ip)).toBe(want.get(`${dev.name} ${ip}`) ?? 'none');
      grew = Math.max(grew, t.recentSlots);
    }
    expect(grew).toBeGreaterThan(4);
    expect(grew).toBeLessThanOrEqual(1024);
    // The list agrees with the lookups at the end.
    for (const e of t.all()) expect(`${e.mac} ${e.state}`).toBe(want.get(`${e.dev.name} ${e.ip}`));
    expect(t.all()).toHaveLength(want.size);
  });
});
