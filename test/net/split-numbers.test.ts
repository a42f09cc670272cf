// The numbers above 2^31 the per-packet path reads as two small integers (issue 13, session 33): a
// device's MAC (NetDevice.macHi/macLo: eth_type_trans's otherhost compare, the source of a frame sent
// through the neighbour layer) and a neighbour entry's MAC and REACHABLE deadline (NeighEntry.macHi/macLo,
// untilHi/untilLo). Each must answer exactly as the number would.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { DummyDevice } from '../../src/link/dummy.js';
import { neighSend, neighSendLast } from '../../src/net/arp.js';
import { Namespace } from '../../src/net/namespace.js';
import { confirmEntry, confirmEntryNow, NeighbourTable, readyNeighbour, type NeighOwner } from '../../src/net/neighbour.js';
import { Packet } from '../../src/packet/packet.js';
import { udpEthFrame } from '../link/frames.js';

/** 48-bit MACs with the low half's top bit set or clear, the high half full or empty. */
const MACS = [1, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x020000000001, 0xfedcba987655, 0xffffffffffff, 0x0a580af40a07];
const T0 = 3e12 + 123457;
const IP = 0x0af40300;

class Owner implements NeighOwner {
  readonly sends: number[] = [];
  arpSolicit(): void {}
  neighSend(_dev: unknown, mac: number): void {
    this.sends.push(mac);
  }
  neighFailed(): void {}
  neighQueueFull(): void {}
}

describe('numbers above 2^31 kept as two small integers', () => {
  it("a device's MAC halves give back its MAC, and a frame's source set from them is the MAC", () => {
    const sim = new Simulator(1);
    for (const m of MACS) {
      const dev = new DummyDevice(sim, 'd', m);
      expect(dev.macHi * 4294967296 + (dev.macLo >>> 0)).toBe(m);
      const sent: Packet[] = [];
      dev.xmit = (p: Packet) => void sent.push(p);
      const p = udpEthFrame(1, 2);
      neighSend(dev, 0x0a580af40a09, p);
      expect(p.eth!.src).toBe(m);
      expect(p.eth!.dst).toBe(0x0a580af40a09);
      expect(sent).toHaveLength(1);
    }
  });

  it('a frame for another MAC is otherhost when it differs from the device MAC in either half only', () => {
    const sim = new Simulator(2);
    const ns = new Namespace(sim, 'a');
    const M = 0xfedcba987655;
    const dev = new DummyDevice(sim, 'eth0', M);
    ns.addDevice(dev);
    ns.addAddress(dev, 0x0a000002, 24);
    for (const dst of [M - 2 ** 41, M - 2, M - 0x80000000, M]) dev.receive(udpEthFrame(0x020000000001, dst), 74);
    expect(ns.drops).toEqual({ otherhost: 3, 'no-socket': 1 });
  });

  it('a neighbour entry sends to its MAC and is ready exactly until confirmed + reachable time', () => {
    const sim = new Simulator(3);
    const dev = new DummyDevice(sim, 'eth0', 0x020000000002);
    const t = new NeighbourTable(sim, new Owner(), sim.rng.stream('n'));
    sim.scheduleAt(T0, () => {
      t.output(dev, IP, new Packet());
      for (const m of MACS) {
        t.update(dev, IP, m, 'reply');
        const e = t.get(dev, IP)!;
        expect(e.mac).toBe(m);
        const p = udpEthFrame(1, 2);
        const sent: Packet[] = [];
        dev.xmit = (q: Packet) => void sent.push(q);
        // (the device's copy of its last entry, what ip_finish_output2 sends by)
        expect(readyNeighbour(t, t.id, dev, IP)).toBe(e);
        neighSendLast(dev, p);
        expect(p.eth!.dst).toBe(m);
        expect(p.eth!.src).toBe(0x020000000002);
        expect(sent).toHaveLength(1);
      }
      const e = t.get(dev, IP)!;
      // A deadline past 2^31 · 2^30 ns, at odd values of both halves.
      for (const [c, r] of [[T0, 2 ** 30 + 1], [2 ** 52 + 1, 2 ** 31 - 1], [T0, 45e9 - 1]] as const) {
        e.confirmed = c;
        e.reachableNs = r;
        expect(e.untilHi * 2 ** 30 + e.untilLo).toBe(c + r);
      }
    });
    sim.run();
  });

  it('a deadline that is not an exact integer leaves the entry to output, which still sends by it', () => {
    const sim = new Simulator(4);
    const dev = new DummyDevice(sim, 'eth0', 0x020000000002);
    const owner = new Owner();
    const t = new NeighbourTable(sim, owner, sim.rng.stream('n'));
    sim.scheduleAt(T0, () => {
      t.output(dev, IP, new Packet());
      t.update(dev, IP, 0xfedcba987655, 'reply');
      const e = t.get(dev, IP)!;
      expect(readyNeighbour(t, t.id, dev, IP)).toBe(e);
      e.confirmed = T0 - 0.5;
      expect(e.untilHi).toBe(-1);
      expect(readyNeighbour(t, t.id, dev, IP)).toBeNull();
      t.output(dev, IP, new Packet());
      expect(e.state).toBe('REACHABLE');
      e.confirmed = T0;
      expect(readyNeighbour(t, t.id, dev, IP)).toBe(e);
    });
    sim.run();
    expect(owner.sends).toEqual([0xfedcba987655, 0xfedcba987655]);
  });

  it("TCP's confirmation moves the deadline from the small integers exactly as confirmed + reachable time", () => {
    const sim = new Simulator(5);
    const dev = new DummyDevice(sim, 'eth0', 0x020000000002);
    const t = new NeighbourTable(sim, new Owner(), sim.rng.stream('n'));
    sim.scheduleAt(T0, () => {
      t.output(dev, IP, new Packet());
      t.update(dev, IP, 0xfedcba987655, 'reply');
      const e = t.get(dev, IP)!;
      const H = 2 ** 30;
      // Low halves that carry (now's + reach's >= 2^30) and that do not; hi halves near the fast path's limits.
      const cases: [number, number][] = [
        [T0, 45e9 - 1],
        [5 * H + (H - 1), H - 1],
        [5 * H + (H - 1), 1],
        [7 * H, 0],
        [0, 3 * H + 5],
        [2 ** 52 - 1, 2 ** 52],
        [2 ** 52 - 1, 2 ** 52 + 1],
        [2 ** 52, 17],
        [2 ** 53 - 3, 2],
        [T0 + 0.5, 30e9],
        [T0, 30e9 + 0.25],
      ];
      for (const [now, r, byClock] of cases.flatMap(([n, r]) => [[n, r, false], [n, r, true]] as const)) {
        e.reachableNs = r;
        // (confirmEntryNow: the clock's time staged, as TCP's confirmations go; the same entry state)
        if (byClock) confirmEntryNow(e, { now });
        else confirmEntry(e, now);
        expect(e.confirmed).toBe(now);
        expect(e.reachableNs).toBe(r);
        const d = now + r;
        if (Number.isSafeInteger(now) && Number.isSafeInteger(r) && Number.isSafeInteger(d)) {
          expect(e.untilHi * H + e.untilLo).toBe(d);
          expect(e.untilLo).toBeGreaterThanOrEqual(0);
          expect(e.untilLo).toBeLessThan(H);
        } else expect(e.untilHi).toBe(-1);
      }
      // At the simulator's clock: ready up to the last ns before confirmed + reachable time, not at it.
      e.reachableNs = 30e9;
      confirmEntry(e, T0);
      expect(readyNeighbour(t, t.id, dev, IP)).toBe(e);
      e.reachableNs = 1;
      confirmEntry(e, T0 - 1);
      expect(readyNeighbour(t, t.id, dev, IP)).toBeNull();
      confirmEntry(e, T0);
      expect(readyNeighbour(t, t.id, dev, IP)).toBe(e);
      // A permanent entry's time does not move.
      const before = e.confirmed;
      e.state = 'PERMANENT';
      confirmEntry(e, T0 + 5);
      expect(e.confirmed).toBe(before);
    });
    sim.run();
  });
});
