// Values stored mid-run keep the hidden class (V8 map) namespaces and routes were built with. A field
// that held only small integers and then gets a number outside them (an address above 2^31, or a
// small one read back boxed from a double field) is re-shaped as a double: the map every object of
// that class was built with is deprecated, and each of them is migrated by a runtime call when next
// touched (tens of thousands in a thousand-node cluster). The answers are checked too.
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { intsInto, RngFactory } from '../../src/core/rng.js';
import { Simulator } from '../../src/core/simulator.js';
import { DummyDevice } from '../../src/link/dummy.js';
import { newRoute, RouteTable, SharedRoutes, type Route } from '../../src/net/fib.js';
import { IpIdents } from '../../src/net/ip-output.js';
import { Namespace } from '../../src/net/namespace.js';
import { manipPacket } from '../../src/netfilter/ct-tuple.js';
import { buildIndex } from '../../src/netfilter/dst-index.js';
import { parseIptablesSave } from '../../src/netfilter/iptables-save.js';
import type { Rule } from '../../src/netfilter/rules.js';
import { Packet } from '../../src/packet/packet.js';
import { ipv4Header } from '../../src/wire/ipv4.js';
import { IpProto } from '../../src/wire/types.js';

setFlagsFromString('--allow-natives-syntax');
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b);') as (a: object, b: object) => boolean;

const ip = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

describe('hidden classes kept through the run', () => {
  it('isLocal leaves a namespace the shape of one that never asked (lo 127.0.0.0/8 is summarised as a signed mask)', () => {
    const sim = new Simulator(1);
    const a = new Namespace(sim, 'a');
    const b = new Namespace(sim, 'b');
    const eth = new DummyDevice(sim, 'eth0', 0x020000000001);
    a.addDevice(eth);
    a.addAddress(eth, ip(10, 1, 0, 2), 24);
    expect(sameMap(a, b)).toBe(true);
    expect(a.isLocal(ip(127, 0, 0, 1))).toBe(true);
    expect(a.isLocal(ip(127, 9, 9, 9))).toBe(true);
    expect(a.isLocal(ip(10, 1, 0, 2))).toBe(true);
    expect(a.isLocal(ip(10, 1, 0, 3))).toBe(false);
    expect(a.isLocal(ip(192, 168, 0, 1))).toBe(false);
    expect(sameMap(a, b)).toBe(true);
  });

  it('a route made from a shared entry has the shape of the routes built before it', () => {
    const sim = new Simulator(1);
    const flannel = new DummyDevice(sim, 'flannel.1', 0x020000000002);
    const eth0 = new DummyDevice(sim, 'eth0', 0x020000000003);
    // One entry above 2^31 makes the entries' dst a double field: the others read back boxed.
    const shared = new SharedRoutes(true);
    shared.add(ip(10, 244, 1, 0), 24, ip(10, 244, 1, 0));
    shared.add(ip(192, 168, 7, 0), 24, ip(192, 168, 7, 0));
    shared.add(ip(10, 244, 2, 0), 24, ip(10, 244, 2, 0));
    const t = new RouteTable();
    const own: Route = newRoute('main', 'unicast', ip(10, 0, 0, 0), 8, 0, eth0, 0, 'link', false, 0, 'boot');
    t.add(own);
    const later: Route = newRoute('main', 'unicast', ip(10, 9, 0, 0), 16, 0, eth0, 0, 'link', false, 0, 'boot');
    expect(t.bindShared(shared, flannel, undefined)).toBe(true);
    const r = t.lookup(ip(10, 244, 2, 9))!;
    expect([r.dst, r.prefix, r.gateway, r.dev]).toEqual([ip(10, 244, 2, 0), 24, ip(10, 244, 2, 0), flannel]);
    expect(sameMap(r, own)).toBe(true);
    expect(sameMap(later, own)).toBe(true);
    // A route to an address above 2^31 is a double field whatever is done (fib.ts, materialise).
    const far = t.lookup(ip(192, 168, 7, 1))!;
    expect([far.dst, far.gateway]).toEqual([ip(192, 168, 7, 0), ip(192, 168, 7, 0)]);
    expect(t.lookup(ip(10, 3, 3, 3))).toBe(own);
  });

  it("a namespace's routes of every kind share one shape, the device first (what a packet's path reads, beside the map)", () => {
    const sim = new Simulator(1);
    const ns = new Namespace(sim, 'n');
    const eth = new DummyDevice(sim, 'eth0', 0x020000000004);
    const flannel = new DummyDevice(sim, 'flannel.1', 0x020000000005);
    ns.addDevice(eth);
    ns.addDevice(flannel);
    ns.addAddress(eth, ip(10, 1, 0, 2), 24);
    ns.addRoute({ dst: 0, prefix: 0, gateway: ip(10, 1, 0, 1), dev: eth });
    const shared = new SharedRoutes(true);
    shared.add(ip(10, 244, 1, 0), 24, ip(10, 244, 1, 0));
    expect(ns.mainTable.bindShared(shared, flannel, undefined)).toBe(true);
    const local = ns.fibLookup(ip(10, 1, 0, 2))!;
    const link = ns.fibLookup(ip(10, 1, 0, 9))!;
    const dflt = ns.fibLookup(ip(8, 8, 8, 8))!;
    const made = ns.fibLookup(ip(10, 244, 1, 7))!;
    const bcast = ns.fibLookup(ip(10, 1, 0, 255))!;
    expect([local.type, link.type, dflt.type, made.type, bcast.type]).toEqual(['local', 'unicast', 'unicast', 'unicast', 'broadcast']);
    expect([made.dev, made.gateway, dflt.gateway]).toEqual([flannel, ip(10, 244, 1, 0), ip(10, 1, 0, 1)]);
    const lo = ns.loRoute(local);
    expect(lo.dev).toBe(ns.lo);
    expect([link, dflt, made, bcast, lo].map((r) => sameMap(r, local))).toEqual([true, true, true, true, true]);
    for (const r of [local, link, dflt, made, bcast, lo]) expect(Object.keys(r).slice(0, 3)).toEqual(['dev', 'gateway', 'type']);
  });
});

describe('IPv4 header records keep small-integer address fields', () => {
  const isSmi = new Function('x', 'return %IsSmi(x);') as (x: unknown) => boolean;
  // A value read from a double field is a boxed number even when it is a small integer.
  const boxed = (v: number): number => {
    const o = { v: 0.5 };
    o.v = v;
    return o.v;
  };

  it('a header made or NATed from boxed addresses has the shape of one made from small integers', () => {
    const plain = ipv4Header(IpProto.TCP, ip(10, 0, 0, 1), ip(10, 0, 0, 2));
    const src = boxed(ip(10, 0, 0, 3));
    expect(isSmi(src)).toBe(false);
    const made = ipv4Header(IpProto.TCP, src, boxed(ip(10, 0, 0, 4)));
    expect(sameMap(made, plain)).toBe(true);
    expect([made.src, made.dst]).toEqual([ip(10, 0, 0, 3), ip(10, 0, 0, 4)]);
    const pkt = new Packet();
    pkt.ip = made;
    manipPacket(pkt, boxed(ip(10, 0, 0, 5)), 0, 0, 0, 0, false);
    manipPacket(pkt, 0, 0, boxed(ip(10, 0, 0, 6)), 0, 1, false);
    expect([made.src, made.dst]).toEqual([ip(10, 0, 0, 5), ip(10, 0, 0, 6)]);
    expect(isSmi(made.src) && isSmi(made.dst)).toBe(true);
    expect(sameMap(made, plain)).toBe(true);
    // An address above 2^31 is a double field whatever is done: the value is kept.
    const far = ipv4Header(IpProto.TCP, ip(192, 168, 0, 1), ip(10, 0, 0, 2));
    expect(far.src).toBe(ip(192, 168, 0, 1));
  });
});

describe('a chain index keeps its destination bounds small integers', () => {
  const isSmi = new Function('x', 'return %IsSmi(x);') as (x: unknown) => boolean;
  const rulesOf = (lines: string[]): Rule[] => parseIptablesSave(['*nat', ':KUBE-SERVICES - [0:0]', ...lines, 'COMMIT', ''].join('\n')).tables[0]!.chains[0]!.rules;

  it('the bounds are the lowest and highest /32 destination; an index without one has an empty range', () => {
    const ix = buildIndex(rulesOf([
      '-A KUBE-SERVICES -d 10.96.0.20/32 -p tcp -m tcp --dport 80 -j ACCEPT',
      '-A KUBE-SERVICES -d 10.96.0.3/32 -p tcp -m tcp --dport 80 -j ACCEPT',
      '-A KUBE-SERVICES -d 10.96.1.9/32 -p udp -m udp --dport 53 -j ACCEPT',
      '-A KUBE-SERVICES -p tcp -m tcp --dport 30000 -j ACCEPT',
    ]), 1)!;
    expect([ix.dstLo, ix.dstHi]).toEqual([ip(10, 96, 0, 3), ip(10, 96, 1, 9)]);
    expect(isSmi(ix.dstLo) && isSmi(ix.dstHi)).toBe(true);
    const none = buildIndex(rulesOf(['-A KUBE-SERVICES -p tcp -m tcp --dport 30000 -j ACCEPT']), 1)!;
    expect(none.dstLo > none.dstHi).toBe(true);
    expect(isSmi(none.dstLo) && isSmi(none.dstHi)).toBe(true);
  });
});

/** The IP IDs of `n` kernel-numbered UDP sends from `ns`, the i-th to `dst(i)`. */
function idsTo(ns: Namespace, n: number, dst: (i: number) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const pkt = new Packet();
    pkt.ip = ipv4Header(IpProto.UDP, 0, dst(i)); // (id -1: the kernel numbers it)
    pkt.udp = { srcPort: 1, dstPort: 2, length: 8, checksum: null };
    ns.ipLocalOut(pkt);
    out.push(pkt.ip.id);
  }
  return out;
}
/** A namespace with one device and 10.0.0.1/8. */
function nsOf(sim: Simulator, name: string): Namespace {
  const ns = new Namespace(sim, name);
  const eth = new DummyDevice(sim, 'eth0', 0x020000000001);
  ns.addDevice(eth);
  ns.addAddress(eth, ip(10, 0, 0, 1), 8);
  return ns;
}

describe('ip_idents keeps its key a small integer', () => {
  it('namespaces share pools of buckets (256 a pool), each its own place: the IDs are those of a namespace drawn alone', () => {
    const idsOf = (ns: Namespace, n: number): number[] => idsTo(ns, n, (i) => ip(10, 0, 1 + (i % 3), 2 + i));
    const sim = new Simulator(5);
    const all = Array.from({ length: 300 }, (_, i) => nsOf(sim, `n${i}`));
    const got = all.map((ns) => idsOf(ns, 4));
    // Interleaved sends (the namespaces drew in order), then again: each namespace's counters only.
    all.forEach((ns, i) => got[i]!.push(...idsOf(ns, 3)));
    const pools = new Set(all.map((ns) => ns.identSlots));
    expect(pools.size).toBe(2);
    expect(all[255]!.identSlots).toBe(all[0]!.identSlots);
    expect(all[256]!.identSlots).not.toBe(all[0]!.identSlots);
    expect(all[256]!.identBase).toBe(0);
    expect(new Set(all.slice(0, 256).map((ns) => ns.identBase)).size).toBe(256);
    for (const i of [0, 1, 255, 256, 299]) {
      const alone = new Simulator(5);
      const ns = nsOf(alone, `n${i}`);
      expect([...idsOf(ns, 4), ...idsOf(ns, 3)]).toEqual(got[i]);
    }
  });

  it("a torn-down namespace's slice goes to the next namespace that draws, each simulator has its own pools: the IDs are those drawn alone", () => {
    const idsOf = (ns: Namespace, n: number): number[] => idsTo(ns, n, (i) => ip(10, 0, 2, 2 + i));
    const alone = (name: string, n: number): number[] => idsOf(nsOf(new Simulator(9), name), n);
    const sim = new Simulator(9);
    const [a, b, c] = ['a', 'b', 'c'].map((n) => nsOf(sim, n)) as [Namespace, Namespace, Namespace];
    const gotB = idsOf(b, 3);
    idsOf(a, 3);
    const aPool = a.identSlots;
    const aBase = a.identBase;
    expect(aBase).toBe(2048);
    a.releaseIdents();
    expect(a.identSlots).toBeNull();
    const gotC = idsOf(c, 5);
    expect(c.identSlots).toBe(aPool);
    expect(c.identBase).toBe(aBase); // (a's slice, not appended)
    expect(aPool!.length).toBe(2 * 2048);
    expect(gotC).toEqual(alone('c', 5));
    const bAlone = nsOf(new Simulator(9), 'b');
    expect([...gotB, ...idsOf(b, 4)]).toEqual([...idsOf(bAlone, 3), ...idsOf(bAlone, 4)]); // (c's draw wrote only its own slice)
    idsOf(a, 1); // (a namespace released that sends again draws again, into a slice of its own)
    expect(a.identBase).toBe(2 * 2048);
    const other = nsOf(new Simulator(9), 'd');
    idsOf(other, 1);
    expect(other.identBase).toBe(0);
    expect(other.identSlots).not.toBe(aPool);
  });

  const isSmi = new Function('x', 'return %IsSmi(x);') as (x: unknown) => boolean;
  it('the key of every stream is a signed 32-bit integer, the draw it was made from', () => {
    const f = new RngFactory(7);
    for (let i = 0; i < 16; i++) {
      const k = new IpIdents(f.stream(`ids-${i}`)).key;
      const r = new RngFactory(7).stream(`ids-${i}`);
      intsInto(r, 65536, new Float64Array(4096), 1, 2, 2048); // the counters' draws come first
      expect(k).toBe(r.uint32() | 0);
      expect(isSmi(k)).toBe(true);
    }
  });

  it("a namespace draws them on its first kernel-numbered send, into its own fields: the draws, as packed doubles in the array's own elements", () => {
    const hasDoubleElements = new Function('a', 'return %HasDoubleElements(a);') as (a: unknown) => boolean;
    const sim = new Simulator(3);
    const ns = new Namespace(sim, 'p');
    const eth = new DummyDevice(sim, 'eth0', 0x020000000001);
    ns.addDevice(eth);
    ns.addAddress(eth, ip(10, 0, 0, 1), 24);
    expect(ns.identSlots).toBeNull();
    const pkt = new Packet();
    pkt.ip = ipv4Header(IpProto.UDP, 0, ip(10, 0, 0, 2)); // (id -1: the kernel numbers it)
    pkt.udp = { srcPort: 1, dstPort: 2, length: 8, checksum: null };
    ns.ipLocalOut(pkt);
    const pool = ns.identSlots!;
    const base = ns.identBase;
    expect(base % 2048).toBe(0);
    expect(pool.length).toBeGreaterThanOrEqual(base + 2048);
    expect(hasDoubleElements(pool)).toBe(true);
    const slots = pool.slice(base, base + 2048);
    const r = new Simulator(3).rng.stream('p/ip-ident');
    const want = new Float64Array(4096);
    intsInto(r, 65536, want, 1, 2, 2048);
    expect(ns.identKey).toBe(r.uint32() | 0);
    // Bucket h is jiffy * 65536 + counter, the counter the draw at 2h + 1. The packet took its bucket's counter
    // (jiffy 0 at time 0, as the bucket's: no increment), which moved on by one; every other bucket is the draw.
    const moved = slots.map((v, h) => (v === want[2 * h + 1] ? -1 : h)).filter((h) => h >= 0);
    expect(moved.length).toBe(1);
    const m = moved[0]!;
    expect(pkt.ip.id).toBe(want[2 * m + 1]);
    expect(slots[m]).toBe((want[2 * m + 1]! + 1) & 0xffff);
  });
});
