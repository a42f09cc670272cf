// What a device remembers for its namespace (NetDevice.neighLast, the fib* fields) and what a
// namespace remembers of its last neighbour confirmation must never answer for a state that changed:
// an entry that left its table, a device that moved to another namespace, a route added or removed.
//
//   a: eth0 10.0.0.1/24 ══ veth ══ b: eth0 10.0.0.2/24        (c: an empty namespace)
import { describe, expect, it } from 'vitest';
import { DummyDevice } from '../../src/link/dummy.js';
import type { NetDevice } from '../../src/link/device.js';
import { confirmEntry, readyNeighbour, type NeighEntry } from '../../src/net/neighbour.js';
import { buildWorld } from '../../src/scenario/build.js';
import { CLUSTER_GEN_DEFAULTS, generateClusterYaml } from '../../src/scenario/generate.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { addCidr, ip, Lab, udpDatagram, udpSink } from './harness.js';

function setup() {
  const lab = new Lab();
  const a = lab.host('a');
  const b = lab.host('b');
  const [ea, eb] = lab.veth(a, 'eth0', '10.0.0.1/24', b, 'eth0', '10.0.0.2/24');
  const got = udpSink(b);
  udpSink(a);
  lab.capture(ea);
  const arpsFrom = (dev: string) => lab.log.filter((s) => s.dev === dev && s.dir === 'out' && s.line.startsWith('ARP who-has')).length;
  return { lab, a, b, ea, eb, got, arpsFrom };
}

/** Sends one datagram from `ns` to `dst` at the current time and runs the simulation 1 s on. */
function sendAndRun(lab: Lab, ns: { ipLocalOut: (p: ReturnType<typeof udpDatagram>) => boolean }, dst: string): void {
  ns.ipLocalOut(udpDatagram(dst));
  lab.sim.run({ until: lab.sim.now + 1e9 });
}

/** Moves the clock `ns` on (run() alone stops when no event is left, without moving it). */
function advance(lab: Lab, ns: number): void {
  lab.sim.scheduleAt(lab.sim.now + ns, () => {});
  lab.sim.run();
}

describe("the device's last neighbour entry", () => {
  it('answers output while the entry is in the table (one ARP request for many datagrams)', () => {
    const { lab, a, got, arpsFrom } = setup();
    for (let i = 0; i < 5; i++) sendAndRun(lab, a, '10.0.0.2');
    expect(arpsFrom('a/eth0')).toBe(1);
    expect(got.length).toBe(5);
  });

  it('does not answer once the entry was deleted (ip neigh del): the next datagram resolves again', () => {
    const { lab, a, ea, got, arpsFrom } = setup();
    sendAndRun(lab, a, '10.0.0.2');
    a.neigh.delete(ea, ip('10.0.0.2'));
    sendAndRun(lab, a, '10.0.0.2');
    expect(arpsFrom('a/eth0')).toBe(2);
    expect(got.length).toBe(2);
  });

  it('does not answer once the entry was flushed by carrier loss', () => {
    const { lab, a, ea, arpsFrom } = setup();
    sendAndRun(lab, a, '10.0.0.2');
    expect(a.neigh.carrierDown(ea)).toBe(1);
    sendAndRun(lab, a, '10.0.0.2');
    expect(arpsFrom('a/eth0')).toBe(2);
  });

  it("does not answer for another namespace's table after the device moved there", () => {
    const { lab, a, ea, arpsFrom } = setup();
    sendAndRun(lab, a, '10.0.0.2');
    const c = lab.host('c');
    a.removeDevice(ea);
    ea.up = true;
    c.addDevice(ea);
    addCidr(c, ea, '10.0.0.3/24');
    sendAndRun(lab, c, '10.0.0.2');
    expect(arpsFrom('c/eth0')).toBe(1);
    expect(c.neigh.get(ea, ip('10.0.0.2'))!.state).toBe('REACHABLE');
  });
});

describe("the receiving device's last route", () => {
  it('is looked up again after the tables changed: a destination made local is delivered, not dropped', () => {
    const { lab, a, b, ea, eb, got } = setup();
    a.addRoute({ dst: ip('10.0.9.0'), prefix: 24, gateway: ip('10.0.0.2'), dev: ea });
    sendAndRun(lab, a, '10.0.9.1');
    sendAndRun(lab, a, '10.0.9.1');
    expect(b.drops['forwarding-disabled']).toBe(2);
    expect(got.length).toBe(0);
    b.addAddress(eb, ip('10.0.9.1'), 32);
    sendAndRun(lab, a, '10.0.9.1');
    expect(got.length).toBe(1);
    expect(b.drops['forwarding-disabled']).toBe(2);
  });

  // (Moving a device takes it down and up, which moves the epoch too: the namespace check is a second guard.)
  it('belongs to its namespace: a moved device does not bring its old namespace\'s route', () => {
    const { lab, a, b, eb, got } = setup();
    sendAndRun(lab, a, '10.0.0.2');
    expect(got.length).toBe(1);
    // The same device, same destination, now in a namespace where 10.0.0.2 is not local.
    const c = lab.host('c');
    udpSink(c);
    b.removeDevice(eb);
    eb.up = true;
    c.addDevice(eb);
    addCidr(c, eb, '10.0.0.4/24');
    c.ipForwardEnabled = false;
    // a still has b's MAC for 10.0.0.2 (REACHABLE), so the frame reaches c's eth0.
    sendAndRun(lab, a, '10.0.0.2');
    expect(got.length).toBe(1);
    expect(c.drops['forwarding-disabled']).toBe(1);
  });
});

describe("a namespace's last output route", () => {
  it('is looked up again after a route change: the next datagram goes to the new gateway', () => {
    const { lab, a, ea } = setup();
    a.addRoute({ dst: ip('10.0.9.0'), prefix: 24, gateway: ip('10.0.0.2'), dev: ea });
    sendAndRun(lab, a, '10.0.9.1');
    sendAndRun(lab, a, '10.0.9.1');
    a.mainTable.remove((r) => r.dst === ip('10.0.9.0'));
    a.addRoute({ dst: ip('10.0.9.0'), prefix: 24, gateway: ip('10.0.0.7'), dev: ea });
    sendAndRun(lab, a, '10.0.9.1');
    // (10.0.0.7 does not answer: its request is sent again after retrans_time)
    expect([...new Set(lab.seen('a/eth0', 'out').filter((l) => l.startsWith('ARP')))]).toEqual(['ARP who-has 10.0.0.2 tell 10.0.0.1', 'ARP who-has 10.0.0.7 tell 10.0.0.1']);
  });
});

describe("a namespace's last neighbour confirmation", () => {
  it('confirms the entry that is in the table now, not one deleted since', () => {
    const { lab, a, ea } = setup();
    sendAndRun(lab, a, '10.0.0.2');
    a.confirmNeighbour(ip('10.0.0.2'));
    a.neigh.delete(ea, ip('10.0.0.2'));
    sendAndRun(lab, a, '10.0.0.2'); // a new entry, REACHABLE from its ARP reply
    const e = a.neigh.get(ea, ip('10.0.0.2'))!;
    const before = e.confirmed;
    advance(lab, 1e9);
    a.confirmNeighbour(ip('10.0.0.2'));
    expect(e.confirmed).toBe(lab.sim.now);
    expect(e.confirmed).toBeGreaterThan(before);
  });

  it('follows a route change to another gateway', () => {
    const { lab, a, ea } = setup();
    // Two next hops on the link: b (10.0.0.2) and a made-up 10.0.0.5, both REACHABLE.
    sendAndRun(lab, a, '10.0.0.2');
    a.neigh.output(ea, ip('10.0.0.5'), udpDatagram('10.0.0.5'));
    a.neigh.update(ea, ip('10.0.0.5'), 0x02000000aaaa, 'reply');
    advance(lab, 1e9);
    a.addRoute({ dst: ip('10.0.9.0'), prefix: 24, gateway: ip('10.0.0.2'), dev: ea });
    a.confirmNeighbour(ip('10.0.9.1'));
    expect(a.neigh.get(ea, ip('10.0.0.2'))!.confirmed).toBe(lab.sim.now);
    advance(lab, 1e9);
    a.mainTable.remove((r) => r.dst === ip('10.0.9.0'));
    a.addRoute({ dst: ip('10.0.9.0'), prefix: 24, gateway: ip('10.0.0.5'), dev: ea });
    a.confirmNeighbour(ip('10.0.9.1'));
    expect(a.neigh.get(ea, ip('10.0.0.5'))!.confirmed).toBe(lab.sim.now);
    expect(a.neigh.get(ea, ip('10.0.0.2'))!.confirmed).toBeLessThan(lab.sim.now);
  });
});

describe("an entry's table id (NeighEntry.ownerId, Namespace.neighId)", () => {
  it('is its own table\'s, distinct and non-zero for every table, and 0 once the entry left it', () => {
    const { lab, a, b, ea } = setup();
    const c = lab.host('c');
    const ids = [a, b, c].map((ns) => ns.neigh.id);
    expect(new Set(ids).size).toBe(3);
    for (const ns of [a, b, c]) {
      expect(ns.neigh.id).toBeGreaterThan(0);
      expect(ns.neighId).toBe(ns.neigh.id);
    }
    sendAndRun(lab, a, '10.0.0.2');
    const e = a.neigh.get(ea, ip('10.0.0.2'))!;
    expect(e.ownerId).toBe(a.neighId);
    a.neigh.delete(ea, ip('10.0.0.2'));
    expect(e.ownerId).toBe(0);
  });

  it("does not let another table answer from the device's slot (the same device and address in two tables)", () => {
    const { lab, a, ea } = setup();
    sendAndRun(lab, a, '10.0.0.2');
    expect(ea.neighLast).toBe(a.neigh.get(ea, ip('10.0.0.2')));
    const c = lab.host('c');
    expect(c.neigh.get(ea, ip('10.0.0.2'))).toBeUndefined();
    expect(readyNeighbour(c.neigh, c.neighId, ea, ip('10.0.0.2'))).toBeNull();
    expect(readyNeighbour(a.neigh, a.neighId, ea, ip('10.0.0.2'))).toBe(a.neigh.get(ea, ip('10.0.0.2')));
  });
});

describe("mtuFor from routeOutput's last route", () => {
  it("gives lo's MTU for a local destination, as ip_route_output's dev_out is lo (the address's device's MTU does not count)", () => {
    const { lab, a, ea } = setup();
    ea.mtu = 1400;
    const before = a.mtuFor(ip('10.0.0.1')); // (no routeOutput answer yet)
    sendAndRun(lab, a, '10.0.0.1'); // routeOutput's last answer: the local route on lo
    expect(a.mtuFor(ip('10.0.0.1'))).toBe(a.lo.mtu);
    expect(before).toBe(a.lo.mtu);
  });

  it('follows a route change after the last send (the epoch moved)', () => {
    const { lab, a, ea } = setup();
    const d = new DummyDevice(lab.sim, 'dummy0', 0x020000000099);
    d.mtu = 1300;
    a.addDevice(d);
    a.addRoute({ dst: ip('10.0.9.0'), prefix: 24, gateway: ip('10.0.0.2'), dev: ea });
    sendAndRun(lab, a, '10.0.9.1');
    expect(a.mtuFor(ip('10.0.9.1'))).toBe(1500);
    a.mainTable.remove((r) => r.dst === ip('10.0.9.0'));
    a.addRoute({ dst: ip('10.0.9.0'), prefix: 24, dev: d });
    expect(a.mtuFor(ip('10.0.9.1'))).toBe(1300);
  });

  it('answers as fibLookup for an unroutable destination after a send to it (null)', () => {
    const { lab, a } = setup();
    sendAndRun(lab, a, '192.0.2.1'); // no route: routeOutput's last answer is null
    expect(a.drops['no-route']).toBe(1);
    expect(a.mtuFor(ip('192.0.2.1'))).toBeNull();
  });
});

/**
 * NetDevice.neighKey … neighMacLo, the device's copy of its last neighbour entry: the copy of neighLast's
 * entry (key, owner and MAC always: NeighbourTable.get answers by its key and owner without reading the
 * entry; owner 0 with no entry), its deadline, while ahead, no later than the one readyNeighbour's test of
 * the entry uses (2^20 ns units; PERMANENT, DELAY and PROBE at any time).
 */
function expectCopyOfLast(dev: NetDevice): void {
  const e = dev.neighLast as NeighEntry | null;
  if (e === null) {
    expect(dev.neighOwner).toBe(0);
    return;
  }
  expect(e.dev).toBe(dev);
  expect([dev.neighKey, dev.neighOwner, dev.neighMacHi, dev.neighMacLo]).toEqual([e.key, e.ownerId, e.macHi, e.macLo]);
  if (dev.neighOwner === 0 || dev.neighUntil <= 0) return;
  if (e.state === 'PERMANENT' || e.state === 'DELAY' || e.state === 'PROBE') return;
  expect(e.state).toBe('REACHABLE');
  expect(e.untilHi).toBeGreaterThanOrEqual(0);
  expect(dev.neighUntil * 2 ** 20).toBeLessThanOrEqual(e.untilHi * 2 ** 30 + e.untilLo);
}

/** The destination MACs of the IP frames `dev` sends from now on (read at the tap: the frame's record is reused later). */
function ipDstMacsOut(dev: NetDevice): number[] {
  const out: number[] = [];
  dev.tap.connect((_d, p, dir) => {
    if (dir === 'out' && p.ip !== null) out.push(p.eth!.dst);
  });
  return out;
}

describe("the device's copy of its last neighbour entry", () => {
  it('is the copy of that entry after each send, and sends by its MAC', () => {
    const { lab, a, ea, eb } = setup();
    const macs = ipDstMacsOut(ea);
    for (let i = 0; i < 3; i++) {
      sendAndRun(lab, a, '10.0.0.2');
      expectCopyOfLast(ea);
      expectCopyOfLast(eb);
    }
    const e = a.neigh.get(ea, ip('10.0.0.2'))!;
    expect(ea.neighLast).toBe(e);
    expect(ea.neighOwner).toBe(a.neighId);
    expect(ea.neighUntil).toBeGreaterThan(lab.sim.now / 2 ** 20);
    expect(macs).toEqual([eb.mac, eb.mac, eb.mac]);
  });

  it('follows a new MAC of its entry (a different lladdr learned): the next datagram goes to it', () => {
    const { lab, a, ea } = setup();
    sendAndRun(lab, a, '10.0.0.2');
    const e = a.neigh.get(ea, ip('10.0.0.2'))!;
    a.neigh.update(ea, ip('10.0.0.2'), 0x02000000beef, 'other');
    expect(e.state).toBe('STALE');
    expectCopyOfLast(ea);
    expect(ea.neighUntil).toBe(0); // STALE: output's state machine decides
    expect(readyNeighbour(a.neigh, a.neighId, ea, ip('10.0.0.2'))).toBeNull();
    a.neigh.update(ea, ip('10.0.0.2'), 0x02000000beef, 'reply');
    expect(ea.neighMacLo).toBe(0xbeef);
    const macs = ipDstMacsOut(ea);
    a.ipLocalOut(udpDatagram('10.0.0.2'));
    expect(macs).toEqual([0x02000000beef]);
  });

  it('stops answering at the REACHABLE deadline (not later), and the entry then goes STALE through output', () => {
    const { lab, a, ea } = setup();
    sendAndRun(lab, a, '10.0.0.2');
    const e = a.neigh.get(ea, ip('10.0.0.2'))!;
    const deadline = e.confirmed + e.reachableNs;
    expect(ea.neighUntil * 2 ** 20).toBeLessThanOrEqual(deadline);
    expect(ea.neighUntil * 2 ** 20).toBeGreaterThan(deadline - 2 ** 20);
    advance(lab, deadline - lab.sim.now);
    expect(readyNeighbour(a.neigh, a.neighId, ea, ip('10.0.0.2'))).toBeNull();
    a.ipLocalOut(udpDatagram('10.0.0.2'));
    expect(e.state).toBe('DELAY');
    expectCopyOfLast(ea);
    expect(readyNeighbour(a.neigh, a.neighId, ea, ip('10.0.0.2'))).toBe(e);
  });

  it("lags a confirmation (an earlier deadline than the entry's) and catches up on the send that finds it expired", () => {
    const { lab, a, ea } = setup();
    sendAndRun(lab, a, '10.0.0.2');
    const e = a.neigh.get(ea, ip('10.0.0.2'))!;
    const until0 = ea.neighUntil;
    advance(lab, 5e9);
    a.confirmNeighbour(ip('10.0.0.2')); // TCP's dst_confirm: confirmStaged's path, the copy not written
    expect(e.confirmed).toBe(lab.sim.now);
    expect(ea.neighUntil).toBe(until0);
    expectCopyOfLast(ea);
    advance(lab, until0 * 2 ** 20 - lab.sim.now);
    // The copy expired, the entry has 5 s left: ready from the entry, and the copy is written again.
    expect(readyNeighbour(a.neigh, a.neighId, ea, ip('10.0.0.2'))).toBe(e);
    expect(ea.neighUntil).toBe(Math.floor((e.confirmed + e.reachableNs) / 2 ** 20));
    expectCopyOfLast(ea);
    // A confirmation dated back (confirmEntry takes any time) moves the deadline earlier: the copy follows.
    confirmEntry(e, lab.sim.now - e.reachableNs + 3e6);
    expect(ea.neighUntil).toBe(Math.floor((lab.sim.now + 3e6) / 2 ** 20));
    expectCopyOfLast(ea);
  });

  it('does not answer once its entry left the table; answers for the permanent entry added in its place', () => {
    const { lab, a, ea } = setup();
    sendAndRun(lab, a, '10.0.0.2');
    a.neigh.delete(ea, ip('10.0.0.2'));
    expect(ea.neighOwner).toBe(0);
    expectCopyOfLast(ea);
    expect(readyNeighbour(a.neigh, a.neighId, ea, ip('10.0.0.2'))).toBeNull();
    a.neigh.addPermanent(ea, ip('10.0.0.2'), 0x02000000cafe);
    expect(ea.neighOwner).toBe(a.neighId);
    expect(ea.neighUntil).toBe(0x3fffffff);
    expectCopyOfLast(ea);
    const macs = ipDstMacsOut(ea);
    a.ipLocalOut(udpDatagram('10.0.0.2'));
    expect(macs).toEqual([0x02000000cafe]);
  });
});

describe("the device's copy of its last neighbour entry in a cluster", () => {
  it('is the copy of that entry on every device throughout a run, and answers only while the entry would', () => {
    const yaml = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 4, services: 3, podsPerService: 2, flows: 3, requests: 40, cni: 'flannel-vxlan' });
    const w = buildWorld(loadScenarioText(yaml, 'neigh-copy.yaml'), 1);
    let answering = 0;
    for (let step = 0; step < 400 && w.sim.pending > 0; step++) {
      w.sim.run({ until: w.sim.now + 20e6 });
      const now = w.sim.now;
      for (const d of w.devices) {
        expectCopyOfLast(d);
        if (d.neighOwner === 0 || !(now < d.neighUntil * 2 ** 20)) continue;
        answering++;
        const e = d.neighLast as NeighEntry;
        const ready = e.state === 'PERMANENT' || e.state === 'DELAY' || e.state === 'PROBE' || (e.state === 'REACHABLE' && now - e.confirmed < e.reachableNs);
        expect(ready).toBe(true);
      }
    }
    expect(answering).toBeGreaterThan(100);
  });
});
