// One conformance suite run against every device type (habit 9): what the namespace may assume of any
// NetDevice — counters, capture taps, up/down, handing received frames up.
//
//   veth:   dev ════ peer            nic:   dev ──(Channel 1 Gbps, 0 delay)── peer
//   bridge: dev = br0 with one port (veth p0 ════ st0)      dummy: dev alone
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { BridgeDevice } from '../../src/link/bridge.js';
import { Channel } from '../../src/link/channel.js';
import { NicDevice } from '../../src/link/nic.js';
import type { NetDevice } from '../../src/link/device.js';
import { DummyDevice } from '../../src/link/dummy.js';
import { VethDevice } from '../../src/link/veth.js';
import { recordDrops, udpEthFrame } from './frames.js';

const DEV = 0x020000000001;
const PEER = 0x020000000002;

interface Rig {
  sim: Simulator;
  dev: NetDevice;
}

/** Device kinds under test; `knownBugs` lists titles expected to fail (it.fails) until src/ is fixed. */
const kinds: { name: string; noArp: boolean; make: () => Rig; knownBugs?: string[] }[] = [
  {
    name: 'veth',
    noArp: false,
    make: () => {
      const sim = new Simulator(1);
      const [dev] = VethDevice.pair(sim, 'dev', DEV, 'peer', PEER);
      return { sim, dev };
    },
  },
  {
    name: 'nic',
    noArp: false,
    make: () => {
      const sim = new Simulator(1);
      const dev = new NicDevice(sim, 'dev', DEV);
      new Channel(sim, dev, new NicDevice(sim, 'peer', PEER), { rateBps: 1e9, delayNs: 0, queueLimit: 1000 });
      return { sim, dev };
    },
  },
  {
    name: 'bridge',
    noArp: false,
    make: () => {
      const sim = new Simulator(1);
      const dev = new BridgeDevice(sim, 'dev', DEV);
      const [, p0] = VethDevice.pair(sim, 'st0', PEER, 'p0', 0x020000000003);
      dev.addPort(p0);
      return { sim, dev };
    },
  },
  {
    name: 'dummy',
    noArp: true,
    make: () => {
      const sim = new Simulator(1);
      return { sim, dev: new DummyDevice(sim, 'dev', DEV) };
    },
  },
];

for (const k of kinds) {
  describe(`${k.name} (device conformance)`, () => {
    const t = (title: string, fn: () => void) => (k.knownBugs?.includes(title) ? it.fails(title, fn) : it(title, fn));

    t('xmit counts one tx packet with the frame length and fires the tap once as "out"', () => {
      const { sim, dev } = k.make();
      const taps: string[] = [];
      dev.tap.connect((_d, _p, dir) => taps.push(dir));
      dev.xmit(udpEthFrame(DEV, PEER, 64));
      sim.run();
      expect(dev.stats.txPackets).toBe(1);
      expect(dev.stats.txBytes).toBe(106);
      expect(taps).toEqual(['out']);
    });

    t('xmit on a down device drops it as link-down, without capture or tx counters', () => {
      const { sim, dev } = k.make();
      dev.up = false;
      const drops = recordDrops(dev);
      const taps: string[] = [];
      dev.tap.connect((_d, _p, dir) => taps.push(dir));
      dev.xmit(udpEthFrame(DEV, PEER, 64));
      sim.run();
      expect(drops).toEqual(['dev: link-down']);
      expect(taps).toEqual([]);
      expect(dev.stats.txPackets).toBe(0);
    });

    t('receive hands the frame to the rx handler, counts it and fires the tap as "in"', () => {
      const { dev } = k.make();
      const got: number[] = [];
      dev.rxHandler = (_d, pkt) => got.push(pkt.udp!.srcPort);
      const taps: string[] = [];
      dev.tap.connect((_d, _p, dir) => taps.push(dir));
      dev.receive(udpEthFrame(PEER, DEV, 64, 77), 106);
      expect(got).toEqual([77]);
      expect(dev.stats).toMatchObject({ rxPackets: 1, rxBytes: 106 });
      expect(taps).toEqual(['in']);
    });

    t('receive on a down device drops it as link-down', () => {
      const { dev } = k.make();
      dev.up = false;
      const drops = recordDrops(dev);
      dev.rxHandler = () => expect.unreachable('a down device handed a frame up');
      dev.receive(udpEthFrame(PEER, DEV), 106);
      expect(drops).toEqual(['dev: link-down']);
    });

    t('receive with no handler (not in a namespace, not a bridge port) drops it as no-handler', () => {
      const { dev } = k.make();
      const drops = recordDrops(dev);
      dev.receive(udpEthFrame(PEER, DEV), 106);
      expect(drops).toEqual(['dev: no-handler']);
      expect(dev.stats.drops).toBe(1);
    });

    t('noArp is IFF_NOARP as the kernel sets it (dummy and loopback only)', () => {
      expect(k.make().dev.noArp).toBe(k.noArp);
    });

    t('has a kind, a positive ifindex and starts up', () => {
      const { dev } = k.make();
      expect(dev.kind).toMatch(/^[a-z]+$/);
      expect(dev.ifindex).toBeGreaterThan(0);
      expect(dev.up).toBe(true);
    });
  });
}
