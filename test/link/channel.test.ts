// link/channel: a full-duplex point-to-point wire with rate, propagation delay and a drop-tail queue.
//
//   a (NIC) ──── 1 Gbps, 50 µs ──── b (NIC)
//
// Wire occupancy of a frame = (max(len, 60) + 4 FCS + 8 preamble/SFD + 12 IFG) bytes at the rate;
// it arrives at the end of that plus the propagation delay.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { Channel, type ChannelConfig } from '../../src/link/channel.js';
import { NicDevice } from '../../src/link/nic.js';
import { arpBroadcast, recordDrops, udpEthFrame } from './frames.js';

const A = 0x02000000000a;
const B = 0x02000000000b;

function setup(cfg: Partial<ChannelConfig> = {}, cfgBA?: Partial<ChannelConfig>) {
  const sim = new Simulator(1);
  const a = new NicDevice(sim, 'a', A);
  const b = new NicDevice(sim, 'b', B);
  const full: ChannelConfig = { rateBps: 1e9, delayNs: 50_000, queueLimit: 1000, ...cfg };
  const ch = new Channel(sim, a, b, full, cfgBA ? { ...full, ...cfgBA } : full);
  const arrivals: { dev: string; t: number; tag: number }[] = [];
  for (const d of [a, b]) d.rxHandler = (dev, pkt) => arrivals.push({ dev: dev.name, t: sim.now, tag: pkt.udp?.srcPort ?? -1 });
  const drops = recordDrops(a, b);
  return { sim, a, b, ch, arrivals, drops };
}

describe('Channel + NicDevice', () => {
  it('a 106-byte frame at 1 Gbps takes (106 + 24) × 8 = 1040 ns on the wire, then 50 µs of propagation', () => {
    const { sim, a, arrivals } = setup();
    a.xmit(udpEthFrame(A, B, 64)); // 14 + 20 + 8 + 64 = 106 bytes
    sim.run();
    expect(arrivals).toEqual([{ dev: 'b', t: 1040 + 50_000, tag: 1000 }]);
  });

  it('a 1514-byte frame at 1 Gbps takes (1514 + 24) × 8 = 12304 ns', () => {
    const { sim, a, arrivals } = setup({ delayNs: 0 });
    a.xmit(udpEthFrame(A, B, 1472));
    sim.run();
    expect(arrivals[0]!.t).toBe(12_304);
  });

  it('pads a short frame (42-byte ARP) to the 60-byte minimum: (60 + 24) × 8 = 672 ns', () => {
    const { sim, a, arrivals } = setup({ delayNs: 0 });
    a.xmit(arpBroadcast(A));
    sim.run();
    expect(arrivals[0]!.t).toBe(672);
  });

  it('scales with the rate: the same 106-byte frame at 100 Mbps takes 10400 ns', () => {
    const { sim, a, arrivals } = setup({ rateBps: 100e6, delayNs: 0 });
    a.xmit(udpEthFrame(A, B, 64));
    sim.run();
    expect(arrivals[0]!.t).toBe(10_400);
  });

  it('back-to-back frames serialize one after the other (arrivals 1040 ns apart)', () => {
    const { sim, a, arrivals } = setup();
    for (let i = 0; i < 3; i++) a.xmit(udpEthFrame(A, B, 64, i));
    sim.run();
    expect(arrivals.map((x) => [x.tag, x.t])).toEqual([
      [0, 51_040],
      [1, 52_080],
      [2, 53_120],
    ]);
  });

  it('is full duplex: both directions transmit at the same time without waiting for each other', () => {
    const { sim, a, b, arrivals } = setup();
    a.xmit(udpEthFrame(A, B, 64, 1));
    b.xmit(udpEthFrame(B, A, 64, 2));
    sim.run();
    expect(arrivals.map((x) => [x.dev, x.t])).toEqual([
      ['b', 51_040],
      ['a', 51_040],
    ]);
  });

  it('uses each direction\'s own configuration', () => {
    const { sim, a, b, arrivals } = setup({ delayNs: 1000 }, { delayNs: 7000 });
    a.xmit(udpEthFrame(A, B, 64, 1));
    b.xmit(udpEthFrame(B, A, 64, 2));
    sim.run();
    expect(arrivals.map((x) => [x.tag, x.t])).toEqual([
      [1, 2040],
      [2, 8040],
    ]);
  });

  it('drop-tail: with queueLimit 2, of 5 frames sent at once 1 goes on the wire, 2 wait, 2 are dropped as queue-full', () => {
    const { sim, a, arrivals, drops } = setup({ queueLimit: 2 });
    for (let i = 0; i < 5; i++) a.xmit(udpEthFrame(A, B, 64, i));
    sim.run();
    expect(arrivals.map((x) => x.tag)).toEqual([0, 1, 2]);
    expect(drops).toEqual(['a: queue-full', 'a: queue-full']);
    expect(a.stats.drops).toBe(2);
    expect(a.stats.txPackets).toBe(3);
  });

  it('the queue drains: a frame sent once a waiting frame has started serializing is accepted again', () => {
    const { sim, a, arrivals, drops } = setup({ queueLimit: 1, delayNs: 0 });
    a.xmit(udpEthFrame(A, B, 64, 0)); // on the wire 0..1040
    a.xmit(udpEthFrame(A, B, 64, 1)); // waits, starts at 1040
    a.xmit(udpEthFrame(A, B, 64, 2)); // queue full → dropped
    sim.schedule(1040, () => a.xmit(udpEthFrame(A, B, 64, 3))); // frame 1 has started: room again
    sim.run();
    expect(drops).toEqual(['a: queue-full']);
    expect(arrivals.map((x) => [x.tag, x.t])).toEqual([
      [0, 1040],
      [1, 2080],
      [3, 3120],
    ]);
  });

  it('capture sees a queued frame when its serialization starts, not when it was queued', () => {
    const { sim, a } = setup();
    const tapped: [number, number][] = [];
    a.tap.connect((_d, pkt, dir) => dir === 'out' && tapped.push([pkt.udp!.srcPort, sim.now]));
    a.xmit(udpEthFrame(A, B, 64, 0));
    a.xmit(udpEthFrame(A, B, 64, 1));
    sim.run();
    expect(tapped).toEqual([
      [0, 0],
      [1, 1040],
    ]);
  });

  it('a root qdisc on the NIC sees each frame before the channel: it may drop it (never captured) or hold it (captured when handed on)', () => {
    const { sim, a, arrivals, drops } = setup({ delayNs: 0 });
    const tapped: [number, number][] = [];
    a.tap.connect((_d, pkt, dir) => dir === 'out' && tapped.push([pkt.udp!.srcPort, sim.now]));
    let n = 0;
    a.qdisc = { enqueue: (dev, pkt) => (n++ === 0 ? dev.drop(pkt, 'fault-loss') : void sim.schedule(500, () => dev.transmit(pkt))) };
    a.xmit(udpEthFrame(A, B, 64, 0));
    a.xmit(udpEthFrame(A, B, 64, 1));
    sim.run();
    expect(drops).toEqual(['a: fault-loss']);
    expect(tapped).toEqual([[1, 500]]);
    expect(arrivals.map((x) => [x.tag, x.t])).toEqual([[1, 500 + 1040]]);
  });

  it('a NIC that is down drops with link-down; an unattached NIC drops with no-carrier', () => {
    const sim = new Simulator(1);
    const lone = new NicDevice(sim, 'lone', A);
    const drops = recordDrops(lone);
    lone.xmit(udpEthFrame(A, B));
    lone.up = false;
    lone.xmit(udpEthFrame(A, B));
    expect(drops).toEqual(['lone: no-carrier', 'lone: link-down']);
  });
});

describe('Channel far from time zero', () => {
  it('queued frames serialize back to back at exact nanoseconds far past 2^32 ns', () => {
    const { sim, a, arrivals } = setup({ rateBps: 3e9, delayNs: 7 });
    const T0 = 5e12 + 333; // odd, far past 2^32
    sim.scheduleAt(T0, () => {
      for (let i = 0; i < 3; i++) a.xmit(udpEthFrame(A, B, 64, i)); // (106 + 24) × 8 / 3 = 346.67 → 347 ns each
    });
    sim.scheduleAt(T0 + 3 * 347 + 1, () => a.xmit(udpEthFrame(A, B, 64, 3))); // 1 ns after the wire went idle
    sim.run();
    expect(arrivals.map((x) => [x.t - T0, x.tag])).toEqual([
      [347 + 7, 0],
      [2 * 347 + 7, 1],
      [3 * 347 + 7, 2],
      [3 * 347 + 1 + 347 + 7, 3],
    ]);
  });
});

describe('NicDevice.busyUntil (the wire\'s state in the NIC, kept as its double\'s two 32-bit words)', () => {
  it('is the exact end of the last serialization for clock times past 2^32 and near 2^52 ns', () => {
    for (const T0 of [0.5, 1e9 + 0.375, 2 ** 32 + 1.25, 5e12 + 333.0625, 2 ** 52 + 2]) {
      const { sim, a, ch, arrivals } = setup({ rateBps: 3e9, delayNs: 7 });
      const tx = (ch as unknown as { ab: { busyUntil: number; queued(): number[] } }).ab;
      expect(tx.busyUntil).toBe(0);
      let at = -1;
      let queued: number[] = [];
      sim.scheduleAt(T0, () => {
        at = sim.now; // (the clock's own value of T0)
        for (let i = 0; i < 3; i++) a.xmit(udpEthFrame(A, B, 64, i)); // 347 ns each
        queued = tx.queued();
      });
      sim.run();
      expect(at).toBeGreaterThan(0);
      expect(tx.busyUntil).toBe(at + 347 + 347 + 347);
      expect(queued).toEqual([at + 347, at + 347 + 347]);
      expect(arrivals.map((x) => x.t)).toEqual([at + 347 + 7, at + 347 + 347 + 7, at + 347 + 347 + 347 + 7]);
    }
  });
});

describe('Channel queue (a ring of start times)', () => {
  it('drops and times bursts as a plain list of start times does, across the ring wrapping and growing', () => {
    // Bursts of 1–30 frames at irregular times against a queue of 20: the ring (8 slots at first)
    // wraps, doubles while holding frames, and is emptied by the clock. The reference is the list
    // model: a frame is dropped when the wire is busy and `queueLimit` frames have not started yet.
    const limit = 20;
    const delay = 5;
    const { sim, a, ch, arrivals, drops } = setup({ rateBps: 1e9, delayNs: delay, queueLimit: limit });
    const tx = (ch as unknown as { ab: { queued(): number[] } }).ab;
    const seen: number[][] = [];
    const want: number[][] = [];
    const wire = (106 + 24) * 8; // 1040 ns per 64-byte-payload frame
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const expected: [number, number][] = [];
    const expectedDrops: number[] = [];
    let busy = 0;
    let starts: number[] = [];
    let t = 1000;
    let tag = 0;
    for (let burst = 0; burst < 120; burst++) {
      const k = 1 + rnd(burst < 40 ? 8 : burst < 80 ? 16 : 30); // (the ring moves its head before it must grow)
      const at = t;
      const first = tag;
      sim.scheduleAt(at, () => {
        for (let i = 0; i < k; i++) a.xmit(udpEthFrame(A, B, 64, first + i));
        seen.push(tx.queued().filter((s) => s > at)); // (oldest first; entries not after now are pruned lazily)
      });
      for (let i = 0; i < k; i++, tag++) {
        starts = starts.filter((s) => s > at);
        if (busy > at && starts.length >= limit) {
          expectedDrops.push(first + i);
          continue;
        }
        const start = busy > at ? busy : at;
        if (start > at) starts.push(start);
        busy = start + wire;
        expected.push([first + i, busy + delay]);
      }
      want.push(starts.filter((s) => s > at));
      t += rnd(40) * wire + rnd(1000);
    }
    sim.run();
    expect(expectedDrops.length).toBeGreaterThan(50); // (the queue did fill)
    expect(arrivals.map((x) => [x.tag, x.t])).toEqual(expected);
    expect(drops).toEqual(expectedDrops.map(() => 'a: queue-full'));
    expect(seen).toEqual(want);
  });
});

describe('Channel queue: the oldest start time apart from the ring', () => {
  it('holds the oldest waiting start in the transmitter and the others in the ring (8 slots for 9 waiting, 16 for 10)', () => {
    const { sim, a, ch } = setup({ rateBps: 1e9, delayNs: 5, queueLimit: 100 });
    type Tx = { queued(): number[]; waiting(): number; q: Float64Array; qLen: number; qFirstLo: number; qFirstHi: number };
    const tx = (ch as unknown as { ab: Tx }).ab;
    const wire = (106 + 24) * 8;
    const got: { n: number; ring: number; queued: number[] }[] = [];
    sim.scheduleAt(1000, () => {
      a.xmit(udpEthFrame(A, B, 64, 0)); // on the wire at once: nothing waits
      got.push({ n: tx.waiting(), ring: tx.q.length, queued: tx.queued() });
      a.xmit(udpEthFrame(A, B, 64, 1)); // one waiting: the first, the ring empty
      got.push({ n: tx.waiting(), ring: tx.q.length, queued: tx.queued() });
      for (let i = 2; i < 10; i++) a.xmit(udpEthFrame(A, B, 64, i));
      got.push({ n: tx.waiting(), ring: tx.q.length, queued: tx.queued() });
      a.xmit(udpEthFrame(A, B, 64, 10));
      got.push({ n: tx.waiting(), ring: tx.q.length, queued: tx.queued() });
    });
    // Mid-way through the third frame's serialization: two have started since.
    sim.scheduleAt(1000 + 2 * wire + 1, () => got.push({ n: tx.waiting(), ring: tx.q.length, queued: tx.queued() }));
    sim.run();
    const starts = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => 1000 + (from + k) * wire);
    expect(got).toEqual([
      { n: 0, ring: 8, queued: [] },
      { n: 1, ring: 8, queued: starts(1, 2) },
      { n: 9, ring: 8, queued: starts(1, 10) },
      { n: 10, ring: 16, queued: starts(1, 11) },
      { n: 8, ring: 16, queued: starts(3, 11) },
    ]);
    // Drained: the first's words are what the last waiting frame left, and the count says none waits.
    expect(tx.waiting()).toBe(0);
    expect(tx.queued()).toEqual([]);
  });

  it("each end's wireTo is the other; unplugged, a NIC has none and drops what it sends as no-carrier", () => {
    const sim = new Simulator(1);
    const lone = new NicDevice(sim, 'lone', A);
    expect(lone.wireTo).toBeNull();
    const dropped = recordDrops(lone);
    lone.xmit(udpEthFrame(A, B, 64));
    expect(dropped).toEqual(['lone: no-carrier']);
    const { a, b } = setup();
    expect([a.wireTo, b.wireTo]).toEqual([b, a]);
  });
});
