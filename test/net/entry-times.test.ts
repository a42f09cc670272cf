// Neighbour entries and bridge FDB entries (net/neighbour.ts, link/bridge.ts), far from time zero and
// at odd nanoseconds: the NUD_* transitions and FDB ageing happen at the exact nanosecond Linux's
// comparisons give (a change to how the times are stored that rounded or truncated them would move
// them; one such change was tried in session 25 and dropped), and a 48-bit MAC reads back as set.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { BridgeDevice } from '../../src/link/bridge.js';
import type { NetDevice } from '../../src/link/device.js';
import { DummyDevice } from '../../src/link/dummy.js';
import { VethDevice } from '../../src/link/veth.js';
import { NeighbourTable, readyNeighbour, type NeighOwner } from '../../src/net/neighbour.js';
import { Packet } from '../../src/packet/packet.js';
import { udpEthFrame } from '../link/frames.js';

class Owner implements NeighOwner {
  readonly log: string[] = [];
  arpSolicit(_dev: NetDevice, ip: number, unicastTo: number | null): void {
    this.log.push(`solicit ${ip} ${unicastTo}`);
  }
  neighSend(_dev: NetDevice, mac: number): void {
    this.log.push(`send ${mac}`);
  }
  neighFailed(): void {
    this.log.push('failed');
  }
  neighQueueFull(): void {
    this.log.push('full');
  }
}

/** A time far past 2^32 ns, at an odd nanosecond. */
const T0 = 3e12 + 123457;
const MAC = 0xfedcba987655; // all 48 bits in use, low bit set
const IP = 0x0af40300;

describe('NeighEntry times and MAC', () => {
  it('REACHABLE lasts exactly reachable_time from the reply, DELAY returns to REACHABLE on a confirmation within delay_first_probe_time', () => {
    const sim = new Simulator(7);
    const dev = new DummyDevice(sim, 'eth0', 0x020000000002);
    const owner = new Owner();
    const t = new NeighbourTable(sim, owner, sim.rng.stream('n'));
    let R = 0;
    const seen: string[] = [];
    const state = (): string => t.get(dev, IP)!.state;
    sim.scheduleAt(T0, () => {
      t.output(dev, IP, new Packet());
      t.update(dev, IP, MAC, 'reply');
      const e = t.get(dev, IP)!;
      expect(e.state).toBe('REACHABLE');
      expect(e.confirmed).toBe(T0);
      expect(e.mac).toBe(MAC);
      R = e.reachableNs;
      expect(Number.isInteger(R)).toBe(true);
      expect(R).toBeGreaterThanOrEqual(15e9);
      expect(R).toBeLessThan(45e9);
      sim.scheduleAt(T0 + R - 1, () => {
        expect(readyNeighbour(t, t.id, dev, IP)).not.toBeNull();
        t.output(dev, IP, new Packet());
        seen.push(`${sim.now - T0 - R} ${state()}`);
      });
      sim.scheduleAt(T0 + R, () => {
        expect(readyNeighbour(t, t.id, dev, IP)).toBeNull();
        t.output(dev, IP, new Packet()); // REACHABLE past its time → STALE → DELAY, sent
        seen.push(`${sim.now - T0 - R} ${state()}`);
      });
      sim.scheduleAt(T0 + R + 1, () => {
        t.confirm(dev, IP);
        expect(t.get(dev, IP)!.confirmed).toBe(T0 + R + 1);
      });
      // The DELAY timer fires at T0 + R + 5 s: confirmed 5 s - 1 ns before, so REACHABLE, no probe.
      sim.scheduleAt(T0 + R + 5e9, () => seen.push(`timer-due ${state()}`));
      sim.scheduleAt(T0 + R + 5e9 + 1, () => seen.push(`after ${state()}`));
    });
    sim.run();
    expect(seen).toEqual(['-1 REACHABLE', '0 DELAY', 'timer-due DELAY', 'after REACHABLE']);
    expect(owner.log.filter((l) => l.startsWith('send'))).toEqual([`send ${MAC}`, `send ${MAC}`, `send ${MAC}`]);
    expect(owner.log.filter((l) => l.startsWith('solicit'))).toHaveLength(1);
  });

  it('DELAY turns to PROBE (unicast to the known MAC) when the last confirmation is 1 ns older than delay_first_probe_time', () => {
    const sim = new Simulator(8);
    const dev = new DummyDevice(sim, 'eth0', 0x020000000002);
    const owner = new Owner();
    const t = new NeighbourTable(sim, owner, sim.rng.stream('n'));
    const seen: string[] = [];
    sim.scheduleAt(T0, () => {
      t.update(dev, IP, MAC, 'request-for-us'); // STALE, never confirmed
      t.output(dev, IP, new Packet()); // → DELAY, timer at T0 + 5 s
      t.confirm(dev, IP); // confirmed = T0: at the timer, now - confirmed = 5 s exactly → REACHABLE
    });
    sim.scheduleAt(T0 + 5e9 + 1, () => {
      seen.push(t.get(dev, IP)!.state);
      // Expire it again, then a confirmation 1 ns too old for the next DELAY.
      const e = t.get(dev, IP)!;
      const late = T0 + 5e9 + 1 + e.reachableNs;
      sim.scheduleAt(late, () => {
        t.output(dev, IP, new Packet()); // → DELAY, timer at late + 5 s
        t.get(dev, IP)!.confirmed = late - 1;
      });
      sim.scheduleAt(late + 5e9 + 1, () => seen.push(t.get(dev, IP)!.state));
    });
    sim.run();
    expect(seen).toEqual(['REACHABLE', 'PROBE']);
    // ucast_solicit (3) unicast probes to the known MAC, then FAILED.
    expect(owner.log.filter((l) => l.startsWith('solicit'))).toEqual([`solicit ${IP} ${MAC}`, `solicit ${IP} ${MAC}`, `solicit ${IP} ${MAC}`]);
    expect(t.get(dev, IP)!.state).toBe('FAILED');
  });

  it('reads back any 48-bit MAC and integer time as set', () => {
    const sim = new Simulator(9);
    const dev = new DummyDevice(sim, 'eth0', 0x020000000002);
    const t = new NeighbourTable(sim, new Owner(), sim.rng.stream('n'));
    t.addPermanent(dev, IP, 0);
    const e = t.get(dev, IP)!;
    for (const m of [0, 1, 0xffffff, 0x1000000, 0xffffffffffff, 0x020000000001, MAC]) {
      e.mac = m;
      expect(e.mac).toBe(m);
    }
    for (const x of [0, 1, 2 ** 30 - 1, 2 ** 30, 2 ** 30 + 1, T0, 2 ** 53 - 1]) {
      e.confirmed = x;
      e.reachableNs = x;
      expect(e.confirmed).toBe(x);
      expect(e.reachableNs).toBe(x);
    }
  });
});

describe('FdbEntry ageing', () => {
  it('a learned MAC ages out 1 ns after ageing_time since it was last seen, not before, and a frame renews it', () => {
    const sim = new Simulator(10);
    const br = new BridgeDevice(sim, 'cni0', 0x020000000100);
    const p1 = VethDevice.pair(sim, 'a', 0x020000000201, 'pa', 0x020000000202)[1];
    const p2 = VethDevice.pair(sim, 'b', 0x020000000301, 'pb', 0x020000000302)[1];
    br.addPort(p1);
    br.addPort(p2);
    const X = 0x0a580af40a07;
    const Y = 0x0a580af40a09;
    const T1 = T0 + 300e9;
    const seen: string[] = [];
    const look = (mac: number): (() => void) => () => {
      const e = br.lookup(mac);
      seen.push(`${sim.now - T0} ${e === null ? 'none' : `${e.port.name} ${e.updated - T0}`}`);
    };
    sim.scheduleAt(T0, () => {
      br.portReceive(p1, udpEthFrame(X, br.mac, 64, 1));
      br.portReceive(p1, udpEthFrame(Y, br.mac, 64, 2));
    });
    sim.scheduleAt(T1, look(X)); // seen exactly ageing_time ago: still there
    sim.scheduleAt(T1, () => br.portReceive(p2, udpEthFrame(X, br.mac, 64, 3))); // moves, renewed
    sim.scheduleAt(T1 + 1, look(Y)); // 1 ns past: aged out
    sim.scheduleAt(T1 + 300e9, look(X));
    sim.scheduleAt(T1 + 300e9 + 1, look(X));
    sim.run();
    expect(seen).toEqual(['300000000000 pa 0', '300000000001 none', '600000000000 pb 300000000000', '600000000001 none']);
  });
});

describe('NeighEntry lookups by the small-integer key', () => {
  it('finds an entry for an address above 2^31 through the device slot, the recent cache and readyNeighbour, and only that address', () => {
    const sim = new Simulator(7);
    const dev = new DummyDevice(sim, 'eth0', 0x020000000002);
    const t = new NeighbourTable(sim, new Owner(), sim.rng.stream('n'));
    const HIGH = 0xc0a80101; // 192.168.1.1: above 2^31, a negative key
    const LOW = 0x0a000001;
    t.addPermanent(dev, HIGH, MAC);
    t.addPermanent(dev, LOW, MAC - 1);
    const high = t.get(dev, HIGH)!; // through the table
    expect(high.ip).toBe(HIGH);
    expect(high.key).toBe(HIGH | 0);
    expect(t.get(dev, HIGH)).toBe(high); // through the device's last-entry slot
    expect(readyNeighbour(t, t.id, dev, HIGH)).toBe(high);
    expect(readyNeighbour(t, t.id, dev, LOW)!.mac).toBe(MAC - 1); // the slot holds HIGH's entry: through the table
    expect(readyNeighbour(t, t.id, dev, HIGH)).toBe(high);
    expect(readyNeighbour(t, t.id, dev, (HIGH | 0) >>> 0)).toBe(high);
    expect(readyNeighbour(t, t.id, dev, HIGH + 1)).toBeNull();
    const low = t.get(dev, LOW)!;
    expect(low.mac).toBe(MAC - 1);
    expect(t.get(dev, HIGH)).toBe(high); // through the recent cache (the slot holds LOW's)
    expect(t.get(dev, HIGH ^ 0x80000000)).toBeUndefined(); // the same low 31 bits, another address
  });
});

describe('readyNeighbour answers as output would, through the device slot or the table', () => {
  it('gives the entry exactly when output would send by it at once and leave it as it is, whichever entry the slot holds', () => {
    const OTHER = 0x0af40301;
    const cases = ['PERMANENT', 'REACHABLE', 'REACHABLE-expired', 'STALE', 'DELAY', 'PROBE', 'INCOMPLETE', 'FAILED', 'none'];
    for (const c of cases) {
      for (const slot of ['self', 'other']) {
        const sim = new Simulator(13);
        const dev = new DummyDevice(sim, 'eth0', 0x020000000002);
        const owner = new Owner();
        const t = new NeighbourTable(sim, owner, sim.rng.stream('n'));
        sim.scheduleAt(T0, () => {
          t.addPermanent(dev, OTHER, MAC - 7);
          if (c !== 'none') {
            t.output(dev, IP, new Packet()); // INCOMPLETE
            if (c === 'FAILED') for (let i = 0; i < 3; i++) t.timer(t.get(dev, IP)!);
            else if (c !== 'INCOMPLETE') {
              t.update(dev, IP, MAC, 'reply'); // REACHABLE
              const e = t.get(dev, IP)!;
              if (c === 'PERMANENT') t.addPermanent(dev, IP, MAC);
              if (c === 'REACHABLE-expired') e.confirmed = T0 - e.reachableNs;
              if (c === 'STALE' || c === 'DELAY' || c === 'PROBE') e.state = c;
            }
          }
          t.get(dev, slot === 'self' ? IP : OTHER); // what the device's slot holds
          const before = t.get(dev, IP)?.state;
          if (slot === 'other') t.get(dev, OTHER);
          const r = readyNeighbour(t, t.id, dev, IP);
          owner.log.length = 0;
          t.output(dev, IP, new Packet());
          const after = t.get(dev, IP)?.state;
          const atOnce = owner.log.length === 1 && owner.log[0] === `send ${MAC}` && after === before;
          expect([c, slot, r === null ? 'null' : r.state]).toEqual([c, slot, atOnce ? before : 'null']);
          if (r !== null) expect(r).toBe(t.get(dev, IP));
        });
        sim.run({ until: T0 + 1 });
      }
    }
  });
});

describe('readyNeighbour by state', () => {
  it('sends as is in PERMANENT, DELAY and PROBE, never in INCOMPLETE, STALE or FAILED (its bit mask of the NUD numbers)', () => {
    const sim = new Simulator(7);
    const dev = new DummyDevice(sim, 'eth0', 0x020000000002);
    const t = new NeighbourTable(sim, new Owner(), sim.rng.stream('n'));
    t.addPermanent(dev, IP, MAC);
    const e = t.get(dev, IP)!;
    const got: string[] = [];
    for (const s of ['INCOMPLETE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'PERMANENT'] as const) {
      e.state = s;
      got.push(`${s} ${readyNeighbour(t, t.id, dev, IP) === e}`);
    }
    expect(got).toEqual(['INCOMPLETE false', 'STALE false', 'DELAY true', 'PROBE true', 'FAILED false', 'PERMANENT true']);
  });
});
