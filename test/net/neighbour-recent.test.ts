// The neighbour table's recent-entry cache (net/neighbour-recent.ts): a slot holds the entry and its copy
// for the device (key, ifindex, deadline, MAC halves), and a lookup answered there writes that copy to
// the device without reading the entry. The copy must never let a send through that the entry would
// not, nor carry another MAC: checked against the entries over a seeded run of ARP updates, TCP's
// confirmations, deletes and permanent adds across hundreds of next hops on two devices.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { DummyDevice } from '../../src/link/dummy.js';
import type { NetDevice } from '../../src/link/device.js';
import { confirmEntry, NeighbourTable, readyNeighbour, type NeighEntry, type NeighOwner } from '../../src/net/neighbour.js';
import { type RecentSlots, untilOf } from '../../src/net/neighbour-entry.js';
import { recentAt } from '../../src/net/neighbour-recent.js';

class Owner implements NeighOwner {
  arpSolicit(): void {}
  neighSend(): void {}
  neighFailed(): void {}
  neighQueueFull(): void {}
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const hop = (i: number): number => (0x0a000000 + 10 + i) >>> 0;
const recentOf = (t: NeighbourTable): RecentSlots | null => (t as unknown as { recent: RecentSlots | null }).recent;

function advance(sim: Simulator, ns: number): void {
  sim.scheduleAt(sim.now + ns, () => {});
  sim.run();
}

/** Whether readyNeighbour's test of the entry itself lets a send through at `now`. */
function entryReady(e: NeighEntry, now: number): boolean {
  return e.state === 'PERMANENT' || e.state === 'DELAY' || e.state === 'PROBE' || (e.state === 'REACHABLE' && now - e.confirmed < e.reachableNs);
}

/** The device's copy is of `e` (key, owner, MAC) and answers only while `e` would. */
function expectDeviceCopy(dev: NetDevice, e: NeighEntry, owner: number, now: number): void {
  expect(dev.neighLast).toBe(e);
  expect([dev.neighKey, dev.neighOwner, dev.neighMacHi, dev.neighMacLo]).toEqual([e.key, owner, e.macHi, e.macLo]);
  if (now < dev.neighUntil * 2 ** 20) expect(entryReady(e, now)).toBe(true);
  expect(dev.neighUntil).toBeLessThanOrEqual(untilOf(e));
}

/** Every slot's copy is its entry's (key, ifindex, MAC), its deadline never past the entry's; other states' exactly. */
function expectSlots(c: RecentSlots): number {
  let held = 0;
  for (let at = 3; at < c.length; at += 6) {
    const e = c[at] as NeighEntry | null;
    if (e === null) {
      expect(c[at + 2]).toBe(-1);
      continue;
    }
    held++;
    expect([c[at + 1], c[at + 2], c[at + 4], c[at + 5]]).toEqual([e.key, e.dev.ifindex, e.macHi, e.macLo]);
    expect(c[at + 3] as number).toBeLessThanOrEqual(untilOf(e));
    if (e.state !== 'REACHABLE') expect(c[at + 3]).toBe(untilOf(e));
    expect([e.recentIn, e.recentAt]).toEqual([c, at]);
  }
  return held;
}

function setup(seed: number) {
  const sim = new Simulator(seed);
  const t = new NeighbourTable(sim, new Owner(), sim.rng.stream('n'));
  const eth0 = new DummyDevice(sim, 'eth0', 0x020000000001);
  const flannel = new DummyDevice(sim, 'flannel.1', 0x020000000002);
  return { sim, t, eth0, flannel };
}

describe('NeighbourTable recent-entry cache slots', () => {
  it("copy to the device what the entry says, through MAC changes, confirmations, deadlines, deletes and permanent adds", () => {
    const { sim, t, eth0, flannel } = setup(21);
    const rnd = lcg(5);
    let fromCache = 0;
    for (let step = 0; step < 20000; step++) {
      const dev = rnd() < 0.5 ? eth0 : flannel;
      const ip = hop(Math.floor(rnd() * 120));
      const op = rnd();
      if (op < 0.1) t.update(dev, ip, 0x0200_0000_1000 + Math.floor(rnd() * 4), 'request-for-us');
      else if (op < 0.2) t.update(dev, ip, 0x0200_0000_1000 + Math.floor(rnd() * 4), rnd() < 0.5 ? 'reply' : 'other');
      else if (op < 0.3) t.confirm(dev, ip);
      else if (op < 0.301) t.delete(dev, ip); // (every delete empties the cache)
      else if (op < 0.305) t.addPermanent(dev, ip, 0x0200_0000_2000 + step);
      else if (op < 0.33) advance(sim, Math.floor(rnd() * 4e9));
      const before = recentOf(t);
      const held = before !== null && before[recentAt(before, dev, ip) + 1] === (ip | 0) && before[recentAt(before, dev, ip) + 2] === dev.ifindex;
      const lastBefore = dev.neighLast;
      const e = t.get(dev, ip);
      if (e === undefined) continue;
      if (held && lastBefore !== e) fromCache++;
      expectDeviceCopy(dev, e, t.id, sim.now);
      // readyNeighbour answers as the entry would (the copy when it answers, else the entry)
      expect(readyNeighbour(t, t.id, dev, ip) === e).toBe(entryReady(e, sim.now));
      if (step % 500 === 0) expectSlots(recentOf(t)!);
    }
    expect(fromCache).toBeGreaterThan(1000);
    expect(t.recentSlots).toBeGreaterThan(4);
    expect(expectSlots(recentOf(t)!)).toBeGreaterThan(50);
  });

  it("follow an entry that changes while it is not the device's last: the next lookup from the cache copies it", () => {
    const { sim, t, eth0 } = setup(22);
    t.update(eth0, hop(1), 0x020000000a01, 'request-for-us');
    t.update(eth0, hop(2), 0x020000000a02, 'request-for-us');
    t.update(eth0, hop(1), 0x020000000a01, 'reply'); // (found in the table: put in the cache)
    const x = t.get(eth0, hop(1))!;
    t.get(eth0, hop(2)); // the device's last is now hop 2's entry; hop 1's stays in its slot
    expect(eth0.neighLast).not.toBe(x);
    expect(recentOf(t)![x.recentAt]).toBe(x);
    // A confirmation dated back (confirmEntry takes any time): an earlier deadline, 3 ms from now.
    confirmEntry(x, sim.now - x.reachableNs + 3e6);
    expect(t.get(eth0, hop(1))).toBe(x);
    expect(eth0.neighUntil).toBe(untilOf(x));
    advance(sim, 3e6);
    expect(readyNeighbour(t, t.id, eth0, hop(1))).toBeNull();
    t.get(eth0, hop(2));
    x.mac = 0x020000000b01; // a new lladdr, and STALE: not sendable as is
    x.state = 'STALE';
    expect(t.get(eth0, hop(1))).toBe(x);
    expect([eth0.neighMacHi, eth0.neighMacLo, eth0.neighUntil]).toEqual([x.macHi, 0xb01, 0]);
  });

  it("lag TCP's confirmations and catch up on the send that finds the copy expired", () => {
    const { sim, t, eth0 } = setup(23);
    t.update(eth0, hop(1), 0x020000000a01, 'request-for-us');
    t.update(eth0, hop(2), 0x020000000a02, 'request-for-us');
    t.update(eth0, hop(1), 0x020000000a01, 'reply'); // (found in the table: put in the cache)
    const x = t.get(eth0, hop(1))!;
    t.get(eth0, hop(2)); // (put in the cache too: the device's last)
    const c = recentOf(t)!;
    const at = x.recentAt;
    const until0 = c[at + 3] as number;
    expect(until0).toBe(untilOf(x));
    advance(sim, 5e9);
    t.confirm(eth0, hop(1)); // a later deadline: the copies are not written
    t.get(eth0, hop(2));
    expect(c[at + 3]).toBe(until0);
    expect(untilOf(x)).toBeGreaterThan(until0);
    advance(sim, until0 * 2 ** 20 - sim.now);
    expect(readyNeighbour(t, t.id, eth0, hop(1))).toBe(x); // the entry has 5 s left
    expect(c[at + 3]).toBe(untilOf(x));
    expect(eth0.neighUntil).toBe(untilOf(x));
  });
});
