// net/fib: longest-prefix match over a routing table, metric ties, routes over down devices, and the
// connected/local/broadcast routes the kernel installs on `ip addr add` (checked as `ip route` prints them).
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { DummyDevice } from '../../src/link/dummy.js';
import { RouteTable, SharedRoutes, type Route } from '../../src/net/fib.js';
import { maskFromPrefix as prefixMask } from '../../src/wire/ipv4-addr.js';
import { formatRoute, Namespace } from '../../src/net/namespace.js';
import { ip } from './harness.js';

const sim = new Simulator(1);
const eth0 = new DummyDevice(sim, 'eth0', 0x020000000001);
const eth1 = new DummyDevice(sim, 'eth1', 0x020000000002);

function r(dst: string, prefix: number, extra: Partial<Route> = {}): Route {
  return { table: 'main', type: 'unicast', dst: ip(dst), prefix, gateway: 0, dev: eth0, prefsrc: 0, scope: 'link', onlink: false, metric: 0, proto: 'boot', ...extra };
}

/** The route chosen for `dst`, as `ip route get` would name it, or "none". */
function pick(t: RouteTable, dst: string): string {
  const x = t.lookup(ip(dst));
  return x === null ? 'none' : formatRoute(x);
}

describe('RouteTable (LPM)', () => {
  const t = new RouteTable();
  t.add(r('0.0.0.0', 0, { gateway: ip('192.168.1.1'), scope: 'global' }));
  t.add(r('10.1.0.0', 16, { dev: eth1 }));
  t.add(r('10.1.2.0', 24));
  t.add(r('10.1.2.7', 32, { dev: eth1 }));

  it.each([
    ['10.1.2.7', '10.1.2.7 dev eth1 scope link'],
    ['10.1.2.8', '10.1.2.0/24 dev eth0 scope link'],
    ['10.1.3.1', '10.1.0.0/16 dev eth1 scope link'],
    ['8.8.8.8', 'default via 192.168.1.1 dev eth0'],
  ] as const)('%s → %s', (dst, want) => {
    expect(pick(t, dst)).toBe(want);
  });

  it('finds nothing without a covering route', () => {
    const u = new RouteTable();
    u.add(r('10.0.0.0', 8));
    expect(pick(u, '11.0.0.1')).toBe('none');
  });

  it('masks host bits of the destination when a route is added', () => {
    const u = new RouteTable();
    u.add(r('10.9.9.9', 24));
    expect(pick(u, '10.9.9.1')).toBe('10.9.9.0/24 dev eth0 scope link');
  });

  it('among routes with the same prefix, the lowest metric wins whatever the insertion order', () => {
    const u = new RouteTable();
    u.add(r('10.0.0.0', 8, { metric: 200, dev: eth1 }));
    u.add(r('10.0.0.0', 8, { metric: 100 }));
    expect(pick(u, '10.1.1.1')).toBe('10.0.0.0/8 dev eth0 scope link metric 100');
  });

  it('among equal metrics, the first route added wins', () => {
    const u = new RouteTable();
    u.add(r('10.0.0.0', 8, { dev: eth1 }));
    u.add(r('10.0.0.0', 8));
    expect(pick(u, '10.1.1.1')).toBe('10.0.0.0/8 dev eth1 scope link');
  });

  it('a longer prefix beats a lower metric', () => {
    const u = new RouteTable();
    u.add(r('10.0.0.0', 8, { metric: 0 }));
    u.add(r('10.1.0.0', 16, { metric: 1000, dev: eth1 }));
    expect(pick(u, '10.1.1.1')).toBe('10.1.0.0/16 dev eth1 scope link metric 1000');
  });

  it('skips a route whose device is down and falls back to the next candidate', () => {
    const s = new Simulator(1);
    const up = new DummyDevice(s, 'up0', 1);
    const down = new DummyDevice(s, 'down0', 2);
    const u = new RouteTable();
    u.add(r('10.0.0.0', 24, { dev: down }));
    u.add(r('10.0.0.0', 8, { dev: up }));
    down.up = false;
    expect(pick(u, '10.0.0.5')).toBe('10.0.0.0/8 dev up0 scope link');
  });

  it('remove() deletes matching routes and lookups stop finding them', () => {
    const u = new RouteTable();
    u.add(r('10.0.0.0', 8));
    u.add(r('10.1.0.0', 16));
    expect(u.remove((x) => x.prefix === 16)).toBe(1);
    expect(u.size).toBe(1);
    expect(pick(u, '10.1.1.1')).toBe('10.0.0.0/8 dev eth0 scope link');
  });

  it('prefixMask gives the netmask for /0, /8, /24, /32', () => {
    expect([0, 8, 24, 32].map(prefixMask)).toEqual([0, 0xff000000, 0xffffff00, 0xffffffff]);
  });
});

describe('Namespace.addAddress (connected routes)', () => {
  function routes(ns: Namespace) {
    return { main: ns.mainTable.all().map(formatRoute), local: ns.localTable.all().map(formatRoute) };
  }

  it('a /24 installs the connected subnet route in main, and local + broadcast routes in local, as `ip route` shows them', () => {
    const s = new Simulator(1);
    const ns = new Namespace(s, 'h');
    const d = new DummyDevice(s, 'eth0', 1);
    ns.addDevice(d);
    ns.addAddress(d, ip('10.1.2.3'), 24);
    const got = routes(ns);
    expect(got.main).toEqual(['10.1.2.0/24 dev eth0 proto kernel scope link src 10.1.2.3']);
    expect(got.local).toContain('local 10.1.2.3 dev eth0 proto kernel scope host src 10.1.2.3');
    expect(got.local).toContain('broadcast 10.1.2.255 dev eth0 proto kernel scope link src 10.1.2.3');
    expect(got.local).toContain('local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1');
    expect(got.local).toContain('local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1');
  });

  it('a /32 installs no subnet route and no broadcast; a /31 no broadcast', () => {
    const s = new Simulator(1);
    const ns = new Namespace(s, 'h');
    const d = new DummyDevice(s, 'eth0', 1);
    ns.addDevice(d);
    ns.addAddress(d, ip('10.0.0.9'), 32);
    ns.addAddress(d, ip('10.0.1.0'), 31);
    const got = routes(ns);
    expect(got.main).toEqual(['10.0.1.0/31 dev eth0 proto kernel scope link src 10.0.1.0']);
    expect(got.local.filter((x) => x.startsWith('broadcast'))).toEqual([]);
  });

  it('isLocal, sourceFor and fibLookup agree with the installed routes', () => {
    const s = new Simulator(1);
    const ns = new Namespace(s, 'h');
    const d = new DummyDevice(s, 'eth0', 1);
    ns.addDevice(d);
    ns.addAddress(d, ip('10.1.2.3'), 24);
    ns.addRoute({ dst: 0, prefix: 0, gateway: ip('10.1.2.1'), dev: d });
    expect(ns.isLocal(ip('10.1.2.3'))).toBe(true);
    expect(ns.isLocal(ip('127.0.0.53'))).toBe(true);
    expect(ns.isLocal(ip('10.1.2.4'))).toBe(false);
    expect(ns.sourceFor(ip('8.8.8.8'))).toBe(ip('10.1.2.3'));
    expect(formatRoute(ns.fibLookup(ip('8.8.8.8'))!)).toBe('default via 10.1.2.1 dev eth0');
    expect(formatRoute(ns.fibLookup(ip('10.1.2.3'))!)).toBe('local 10.1.2.3 dev eth0 proto kernel scope host src 10.1.2.3');
  });

  it("a namespace's cached lookups follow route changes, shared routes and devices going down and up", () => {
    const s = new Simulator(1);
    const ns = new Namespace(s, 'c');
    const d0 = new DummyDevice(s, 'eth0', 1);
    const d1 = new DummyDevice(s, 'eth1', 2);
    ns.addDevice(d0);
    ns.addDevice(d1);
    ns.addAddress(d0, ip('10.1.2.3'), 24);
    ns.addRoute({ dst: 0, prefix: 0, gateway: ip('10.1.2.1'), dev: d0 });
    const get = (dst: string): string => {
      const rt = ns.fibLookup(ip(dst));
      return rt === null ? 'none' : formatRoute(rt);
    };
    // Looked up twice (the second from the cache), then a more specific route appears.
    expect(get('10.9.0.1')).toBe('default via 10.1.2.1 dev eth0');
    expect(get('10.9.0.1')).toBe('default via 10.1.2.1 dev eth0');
    // 0.0.0.0 (the value that marks an empty slot) is answered, not taken for a cached entry.
    for (let i = 0; i < 2; i++) {
      expect(get('0.0.0.0')).toBe('default via 10.1.2.1 dev eth0');
      expect(ns.outputSource(ns.fibLookup(0)!, 0)).toBe(ip('10.1.2.3'));
    }
    ns.addRoute({ dst: ip('10.9.0.0'), prefix: 16, dev: d1 });
    expect(get('10.9.0.1')).toBe('10.9.0.0/16 dev eth1 scope link');
    // The device of that route goes down: the default again; up: the /16 again.
    d1.up = false;
    expect(get('10.9.0.1')).toBe('default via 10.1.2.1 dev eth0');
    d1.up = true;
    expect(get('10.9.0.1')).toBe('10.9.0.0/16 dev eth1 scope link');
    // Removed.
    ns.mainTable.remove((r) => r.dev === d1);
    expect(get('10.9.0.1')).toBe('default via 10.1.2.1 dev eth0');
    // A shared set bound to the table, then an entry added to the set after the lookup was cached.
    const shared = new SharedRoutes(true);
    expect(get('10.244.7.9')).toBe('default via 10.1.2.1 dev eth0');
    ns.mainTable.bindShared(shared, d1, undefined);
    shared.add(ip('10.244.7.0'), 24, ip('10.244.7.0'));
    expect(get('10.244.7.9')).toBe('10.244.7.0/24 via 10.244.7.0 dev eth1 onlink');
    // Destinations colliding in the cache's 16 slots each get their own answer.
    for (let i = 0; i < 64; i++) expect(get(`10.1.2.${i + 10}`)).toBe('10.1.2.0/24 dev eth0 proto kernel scope link src 10.1.2.3');
    for (let i = 0; i < 64; i++) expect(get(`10.77.${i}.1`)).toBe('default via 10.1.2.1 dev eth0');
    expect(get('10.1.2.3')).toBe('local 10.1.2.3 dev eth0 proto kernel scope host src 10.1.2.3');
    // The source chosen for an unbound socket's packets follows addresses added.
    const d2 = new DummyDevice(s, 'eth2', 3);
    ns.addDevice(d2);
    ns.addRoute({ dst: ip('10.60.0.0'), prefix: 16, dev: d2 });
    const src = (dst: string): number => ns.outputSource(ns.fibLookup(ip(dst))!, ip(dst));
    expect(src('10.60.1.1')).toBe(ip('10.1.2.3'));
    expect(src('10.60.1.1')).toBe(ip('10.1.2.3'));
    ns.addAddress(d2, ip('10.60.0.5'), 16);
    expect(src('10.60.1.1')).toBe(ip('10.60.0.5'));
    // isLocal's answers follow addresses added and devices going down.
    expect(ns.isLocal(ip('10.5.5.5'))).toBe(false);
    expect(ns.isLocal(ip('10.5.5.5'))).toBe(false);
    ns.addAddress(d1, ip('10.5.5.5'), 24);
    expect(ns.isLocal(ip('10.5.5.5'))).toBe(true);
    d1.up = false;
    expect(ns.isLocal(ip('10.5.5.5'))).toBe(false);
    d1.up = true;
    expect(ns.isLocal(ip('10.5.5.5'))).toBe(true);
  });
});

describe("a namespace's route cache at scale", () => {
  it('grows when many destinations evict each other, and every answer stays the tables\' own, before and after route changes', () => {
    const s = new Simulator(1);
    const ns = new Namespace(s, 'node-1');
    const d0 = new DummyDevice(s, 'eth0', 1);
    const d1 = new DummyDevice(s, 'flannel.1', 2);
    ns.addDevice(d0);
    ns.addDevice(d1);
    ns.addAddress(d0, ip('10.0.0.11'), 16);
    ns.addRoute({ dst: 0, prefix: 0, gateway: ip('10.0.0.1'), dev: d0 });
    // Half of 600 node subnets have a route of their own (the rest go by default).
    for (let n = 0; n < 600; n += 2) ns.addRoute({ dst: ip(`10.244.${n >> 2}.${(n & 3) << 6}`), prefix: 26, gateway: ip(`10.244.${n >> 2}.${(n & 3) << 6}`), dev: d1, onlink: true });
    const dsts: number[] = [];
    for (let i = 0; i < 1200; i++) dsts.push(ip(`10.244.${(i >> 2) % 150}.${((i & 3) << 6) + 1 + (i % 7)}`), ip(`10.0.${i % 200}.${(i * 7) % 250}`));
    const want = (dst: number): string => {
      const rt = ns.localTable.lookup(dst) ?? ns.mainTable.lookup(dst);
      return rt === null ? 'none' : formatRoute(rt);
    };
    const check = (): void => {
      for (let round = 0; round < 3; round++) {
        for (const dst of dsts) {
          const rt = ns.fibLookup(dst);
          expect(rt === null ? 'none' : formatRoute(rt)).toBe(want(dst));
          expect(ns.isLocal(dst)).toBe(dst === ip('10.0.0.11'));
        }
      }
    };
    expect(ns.routeCacheSlots).toBe(0);
    check();
    const grown = ns.routeCacheSlots;
    expect(grown).toBeGreaterThan(16);
    expect(grown).toBeLessThanOrEqual(4096);
    // A route added, a device down, an address added: the grown cache follows each.
    ns.addRoute({ dst: ip('10.244.3.0'), prefix: 24, dev: d0 });
    check();
    d1.up = false;
    check();
    d1.up = true;
    ns.addAddress(d1, ip('10.244.0.0'), 32);
    check();
    expect(ns.isLocal(ip('10.244.0.0'))).toBe(true);
    expect(ns.routeCacheSlots).toBeGreaterThanOrEqual(grown);
  });

  it("isLocal answers as the local table over addresses, local prefixes (AnyIP), removals and a large table", () => {
    const s = new Simulator(1);
    const ns = new Namespace(s, 'node-7');
    const d0 = new DummyDevice(s, 'eth0', 1);
    const d1 = new DummyDevice(s, 'cni0', 2);
    ns.addDevice(d0);
    ns.addDevice(d1);
    ns.addAddress(d0, ip('10.0.0.7'), 16);
    ns.addAddress(d1, ip('10.244.7.1'), 24);
    const want = (a: number): boolean => {
      const rt = ns.localTable.lookup(a);
      return rt !== null && rt.type === 'local';
    };
    // Other nodes' addresses (what flooded ARP requests ask about), the subnets' own and broadcast
    // addresses, loopback, and addresses near the local ones.
    const probes: number[] = [];
    for (let i = 0; i < 3000; i++) probes.push(ip(`10.0.${i >> 8}.${i & 255}`), ip(`10.244.${i % 40}.${(i * 13) % 256}`), ip(`127.${i % 3}.0.${i % 250}`), ip(`10.50.${i % 7}.${i % 256}`));
    let locals = 0;
    const check = (): void => {
      for (const a of probes) {
        const w = want(a);
        if (w) locals++;
        expect(ns.isLocal(a)).toBe(w);
      }
    };
    check();
    // An AnyIP local prefix: two local routes shorter than /32 (no quick answer), then it goes again.
    const anyIp: Route = { table: 'local', type: 'local', dst: ip('10.50.0.0'), prefix: 16, gateway: 0, dev: ns.lo, prefsrc: 0, scope: 'host', onlink: false, metric: 0, proto: 'kernel' };
    ns.localTable.add(anyIp);
    check();
    expect(ns.isLocal(ip('10.50.3.3'))).toBe(true);
    ns.localTable.remove((r) => r === anyIp);
    check();
    expect(ns.isLocal(ip('10.50.3.3'))).toBe(false);
    // An address added after the answers were given, and one removed.
    ns.addAddress(d1, ip('10.244.9.200'), 32);
    check();
    expect(ns.isLocal(ip('10.244.9.200'))).toBe(true);
    ns.localTable.remove((r) => r.dst === ip('10.244.9.200'));
    check();
    expect(ns.isLocal(ip('10.244.9.200'))).toBe(false);
    // Loopback's prefix removed: no route shorter than /32.
    ns.localTable.remove((r) => r.prefix === 8);
    check();
    expect(ns.isLocal(ip('127.0.0.1'))).toBe(true); // (its /32 stays)
    expect(ns.isLocal(ip('127.0.0.2'))).toBe(false);
    // Many local addresses (an IPVS node's Service addresses on kube-ipvs0).
    for (let i = 0; i < 200; i++) ns.addAddress(d0, ip(`10.96.${i >> 4}.${(i * 17) % 256}`), 32);
    for (let i = 0; i < 200; i++) probes.push(ip(`10.96.${i >> 4}.${(i * 17) % 256}`), ip(`10.96.${i >> 4}.${(i * 17 + 1) % 256}`));
    check();
    expect(locals).toBeGreaterThan(1000);
  });

  it('stays at 16 slots for a namespace with a handful of destinations', () => {
    const s = new Simulator(1);
    const ns = new Namespace(s, 'pod');
    const d0 = new DummyDevice(s, 'eth0', 1);
    ns.addDevice(d0);
    ns.addAddress(d0, ip('10.244.1.5'), 24);
    ns.addRoute({ dst: 0, prefix: 0, gateway: ip('10.244.1.1'), dev: d0 });
    for (let i = 0; i < 20000; i++) ns.fibLookup(ip(`10.96.0.${i % 5}`));
    expect(ns.routeCacheSlots).toBe(16);
  });
});
