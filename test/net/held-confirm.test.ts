// TCP's neighbour confirmations held in the namespace (net/arp.ts confirmNeighbour, Namespace.confirmPendHi/Lo,
// net/neighbour.ts settleConfirm): an entry confirmed again and again through the namespace goes through the same
// states at the same nanoseconds, with the same times and device copy, as one confirmed at once through a table
// that holds nothing back; and an entry that left the table is no longer the one a confirmation is held for.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import type { NetDevice } from '../../src/link/device.js';
import { DummyDevice } from '../../src/link/dummy.js';
import { Namespace } from '../../src/net/namespace.js';
import { NeighbourTable, readyNeighbour, type NeighEntry, type NeighOwner } from '../../src/net/neighbour.js';
import { Packet } from '../../src/packet/packet.js';

class Owner implements NeighOwner {
  arpSolicit(): void {}
  neighSend(): void {}
  neighFailed(): void {}
  neighQueueFull(): void {}
}

const ip = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
/** Far past 2^32 ns, at an odd nanosecond. */
const T0 = 3e12 + 123457;
const GW = ip(10, 0, 0, 254);
const DST = ip(192, 168, 1, 5);
const MAC = 0x02aabbccddee;

/** What can be seen of an entry and its device's copy. */
function look(e: NeighEntry | undefined, dev: NetDevice): string {
  if (e === undefined) return 'none';
  return [e.state, e.confirmed, e.reachableNs, e.untilHi, e.untilLo, dev.neighKey, dev.neighOwner !== 0, dev.neighUntil, dev.neighMacHi, dev.neighMacLo].join(' ');
}

describe('confirmations held in the namespace', () => {
  it('give the states, times and device copy of confirmations applied at once', () => {
    // The same seed and stream name: both tables draw the same reachable times.
    const simA = new Simulator(5);
    const simB = new Simulator(5);
    const ns = new Namespace(simA, 'n');
    const devA = new DummyDevice(simA, 'eth0', 0x020000000001);
    ns.addDevice(devA);
    ns.addAddress(devA, ip(10, 0, 0, 1), 24);
    ns.addRoute({ dst: 0, prefix: 0, gateway: GW, dev: devA });
    const devB = new DummyDevice(simB, 'eth0', 0x020000000001);
    const ref = new NeighbourTable(simB, new Owner(), simB.rng.stream('n/neigh'));
    const seenA: string[] = [];
    const seenB: string[] = [];
    // Each step at the same time in both: `a` on the namespace, `b` on the reference table.
    const step = (at: number, a: () => void, b: () => void): void => {
      simA.scheduleAt(at, a);
      simB.scheduleAt(at, b);
    };
    const check = (at: number, what: string): void =>
      step(
        at,
        () => seenA.push(`${what} ${readyNeighbour(ns.neigh, ns.neighId, devA, GW) !== null} ${look(ns.neigh.all()[0], devA)}`),
        () => seenB.push(`${what} ${readyNeighbour(ref, ref.id, devB, GW) !== null} ${look(ref.all()[0], devB)}`),
      );
    const send = (at: number): void =>
      step(
        at,
        () => ns.neigh.output(devA, GW, new Packet()),
        () => ref.output(devB, GW, new Packet()),
      );
    const confirm = (at: number): void =>
      step(
        at,
        () => ns.confirmNeighbour(DST),
        () => void ref.confirm(devB, GW),
      );
    step(
      T0,
      () => {
        ns.neigh.output(devA, GW, new Packet());
        ns.neigh.update(devA, GW, MAC, 'reply');
      },
      () => {
        ref.output(devB, GW, new Packet());
        ref.update(devB, GW, MAC, 'reply');
      },
    );
    // Reachable times are 15 to 45 s: confirmations every 7 s keep the entry REACHABLE past its first deadline.
    let t = T0;
    for (let i = 1; i <= 12; i++) {
      t = T0 + i * 7e9 + i;
      confirm(t);
      if (i % 3 === 0) send(t + 1);
      check(t + 2, `confirm ${i}`);
    }
    // No more confirmations: past the deadline a send makes it DELAY; a confirmation (held) 1 ns later, then
    // the DELAY timer 5 s on finds it confirmed: REACHABLE again without a probe.
    const late = t + 46e9;
    send(late);
    check(late, 'delay');
    confirm(late + 1);
    check(late + 5e9 + 1, 'after delay');
    // The entry leaves the table; a new one is made by a send and confirmed (through a route lookup again).
    step(
      late + 6e9,
      () => ns.neigh.delete(devA, GW),
      () => ref.delete(devB, GW),
    );
    confirm(late + 6e9 + 1);
    send(late + 6e9 + 2);
    confirm(late + 6e9 + 3);
    confirm(late + 6e9 + 4);
    check(late + 6e9 + 5, 'new entry');
    simA.run();
    simB.run();
    expect(seenA).toHaveLength(15);
    expect(seenA).toEqual(seenB);
    expect(seenA[12]).toMatch(/^delay true DELAY /);
    expect(seenA[13]).toMatch(/^after delay true REACHABLE /);
    expect(seenA[14]).toMatch(new RegExp(`^new entry false INCOMPLETE ${late + 6e9 + 4} `));
  });

  it('are applied before the table reads the entry, and the held entry is forgotten when it leaves', () => {
    const sim = new Simulator(6);
    const ns = new Namespace(sim, 'n');
    const dev = new DummyDevice(sim, 'eth0', 0x020000000001);
    ns.addDevice(dev);
    ns.addAddress(dev, ip(10, 0, 0, 1), 24);
    ns.addRoute({ dst: 0, prefix: 0, gateway: GW, dev });
    sim.scheduleAt(T0, () => {
      ns.neigh.output(dev, GW, new Packet());
      ns.neigh.update(dev, GW, MAC, 'reply');
      ns.confirmNeighbour(DST); // (a route lookup: applied at once, the entry kept)
      const e = ns.confirmLast!;
      expect(e.confirmed).toBe(T0);
      expect(ns.confirmPendHi).toBe(-1);
    });
    sim.scheduleAt(T0 + 1000, () => {
      ns.confirmNeighbour(DST); // held
      const e = ns.confirmLast!;
      expect(ns.confirmPendHi).toBeGreaterThanOrEqual(0);
      expect(e.confirmed).toBe(T0);
      expect(ns.neigh.connected(e)).toBe(true); // a table method: applied first
      expect(ns.confirmPendHi).toBe(-1);
      expect(e.confirmed).toBe(T0 + 1000);
    });
    sim.scheduleAt(T0 + 2000, () => {
      ns.confirmNeighbour(DST); // held
      const e = ns.confirmLast!;
      ns.neigh.delete(dev, GW); // applied, then forgotten
      expect(e.confirmed).toBe(T0 + 2000);
      expect(ns.confirmLast).toBeNull();
      expect(ns.confirmPendHi).toBe(-1);
    });
    sim.run();
  });

  it('never reach a reader of the table unapplied: get, by the device\'s last entry, the recent-entry cache or the map', () => {
    // The hazard: get() answers the device's last entry without reading the table, so a held confirmation
    // must be applied before it answers (get settles first; the unsettled lookup is private).
    const sim = new Simulator(7);
    const ns = new Namespace(sim, 'n');
    const dev = new DummyDevice(sim, 'eth0', 0x020000000001);
    ns.addDevice(dev);
    ns.addAddress(dev, ip(10, 0, 0, 1), 24);
    ns.addRoute({ dst: 0, prefix: 0, gateway: GW, dev });
    const OTHER = ip(10, 0, 0, 7);
    const seen: string[] = [];
    sim.scheduleAt(T0, () => {
      for (const nh of [OTHER, GW]) {
        ns.neigh.output(dev, nh, new Packet());
        ns.neigh.update(dev, nh, MAC + nh, 'reply');
      }
      ns.confirmNeighbour(DST); // (a route lookup: applied at once, the entry kept)
    });
    // Three held confirmations, each read back by another path: the device's last entry (GW is), the
    // recent-entry cache (OTHER made the device's last in between), and a fresh cache (an entry deleted).
    const held = (at: number, before: () => void, how: string): void => {
      sim.scheduleAt(at, () => {
        before();
        ns.confirmNeighbour(DST);
        expect(ns.confirmPendHi).toBeGreaterThanOrEqual(0);
        const e = ns.neigh.get(dev, GW)!;
        seen.push(`${how} ${e.confirmed - T0} ${ns.confirmPendHi}`);
      });
    };
    held(T0 + 1000, () => {}, 'last');
    held(T0 + 2000, () => void ns.neigh.get(dev, OTHER), 'recent');
    held(T0 + 3000, () => ns.neigh.delete(dev, OTHER), 'map');
    sim.scheduleAt(T0 + 4000, () => {
      ns.confirmNeighbour(DST);
      // all() and connected() settle too; the device's copy of GW's entry is not behind it then.
      const e = ns.neigh.all().find((x) => x.ip === GW)!;
      seen.push(`all ${e.confirmed - T0} ${ns.confirmPendHi}`);
    });
    sim.run();
    expect(seen).toEqual(['last 1000 -1', 'recent 2000 -1', 'map 3000 -1', 'all 4000 -1']);
  });
});
