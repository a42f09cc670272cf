// A VxlanFdb bound to a shared map with no entry of its own answers from the shared map's index
// (link/vxlan.ts SharedFdbIndex): it must answer as a Map holding the copies (all but the excluded
// MAC) does, for MACs using all 48 bits, many devices sharing one index, and after the device's own
// set/delete take it off the index and back.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { VxlanDevice, VxlanFdb } from '../../src/link/vxlan.js';
import { FakeHost, udpEthFrame } from './frames.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const N = 700;
/** MACs that vary in both 24-bit halves and in the top bits (as randomMac's do). */
const mac = (i: number): number => (0x02 + 4 * (i % 60)) * 2 ** 40 + ((i * 0x01000193) % 2 ** 40);
const ip = (i: number): number => (0xac120000 + i) >>> 0; // 172.18.x.y: above the small-integer range

describe('VxlanFdb on a shared map index', () => {
  const shared = new Map<number, number>();
  for (let i = 0; i < N; i++) shared.set(mac(i), ip(i));

  it('distinct MACs', () => {
    expect(shared.size).toBe(N);
  });

  it.each([1, 2, 3])('answers as a per-device copy for every device bound to the same map (seed %i)', (seed) => {
    const rnd = lcg(seed);
    const devs: { fdb: VxlanFdb; copy: Map<number, number> }[] = [];
    for (const self of [0, 17, N - 1, -1]) {
      const fdb = new VxlanFdb();
      expect(fdb.bindShared(shared, self === -1 ? -1 : mac(self))).toBe(true);
      const copy = new Map(shared);
      if (self !== -1) copy.delete(mac(self));
      devs.push({ fdb, copy });
    }
    const probe = (): number => (rnd() < 0.9 ? mac(Math.floor(rnd() * N)) : 0x020000000000 + Math.floor(rnd() * 2 ** 32));
    for (const { fdb, copy } of devs) {
      for (let i = 0; i < N; i++) expect(fdb.get(mac(i))).toBe(copy.get(mac(i)));
      for (let step = 0; step < 400; step++) {
        const m = probe();
        const op = rnd();
        if (op < 0.05) {
          fdb.set(m, step);
          copy.set(m, step);
        } else if (op < 0.1) expect(fdb.delete(m)).toBe(copy.delete(m));
        expect(fdb.get(m)).toBe(copy.get(m));
        expect(fdb.has(m)).toBe(copy.has(m));
      }
      expect(fdb.size).toBe(copy.size);
      expect([...fdb]).toEqual([...copy]);
    }
  });

  it('back on the index after its own entry goes: the excluded MAC stays excluded', () => {
    const fdb = new VxlanFdb();
    fdb.bindShared(shared, mac(5));
    expect(fdb.get(mac(5))).toBeUndefined();
    fdb.set(0x42, 9);
    expect(fdb.get(0x42)).toBe(9);
    expect(fdb.delete(0x42)).toBe(true);
    expect(fdb.get(0x42)).toBeUndefined();
    expect(fdb.get(mac(5))).toBeUndefined();
    expect(fdb.get(mac(6))).toBe(ip(6));
  });

  it.each([4, 5])('a device sends by its copy of the index: each frame to the VTEP a per-device copy names (seed %i)', (seed) => {
    // VxlanDevice.xmit reads the index and its own slot from the device (fdbIx, fdbSelf), which the
    // FDB copies there on every change: as entries of its own take it off the index and back, and
    // after a shared entry's change takes it off for good, the outer packet goes where a Map holding
    // the copies says (and none leaves when it has no entry).
    const rnd = lcg(seed);
    const sim = new Simulator(1);
    const self = 23;
    const dev = new VxlanDevice(sim, 'flannel.1', mac(self), 1, 0x0a640001, 8472, 99);
    const host = new FakeHost();
    dev.attach(host);
    expect(dev.fdb.bindShared(shared, mac(self))).toBe(true);
    const copy = new Map(shared);
    copy.delete(mac(self));
    const ownMac = (k: number): number => 0x040000000000 + (k + 1) * 0x1000001; // (never a shared MAC: theirs are 2 mod 4 in the top byte)
    let onIndex = 0;
    let offIndex = 0;
    for (let step = 0; step < 1500; step++) {
      if (step === 1000) {
        dev.fdb.set(mac(7), ip(N + 7)); // a shared entry changed here: off the index for good
        copy.set(mac(7), ip(N + 7));
      }
      const op = rnd();
      const own = ownMac(Math.floor(rnd() * 2));
      if (op < 0.02) {
        dev.fdb.set(own, ip(N + step));
        copy.set(own, ip(N + step));
      } else if (op < 0.12) expect(dev.fdb.delete(own)).toBe(copy.delete(own));
      expect(dev.fdb.holderAgrees()).toBe(true);
      if (dev.fdbIx !== null) onIndex++;
      else offIndex++;
      const r = rnd();
      const m = r < 0.8 ? mac(Math.floor(rnd() * N)) : r < 0.9 ? own : 0x020000000000 + Math.floor(rnd() * 2 ** 32);
      const before = host.sent.length;
      dev.xmit(udpEthFrame(mac(self), m));
      const want = copy.get(m);
      if (want === undefined) expect(host.sent.length).toBe(before);
      else {
        expect(host.sent.length).toBe(before + 1);
        expect(host.sent[before]!.ip!.dst).toBe(want >>> 0);
      }
    }
    expect(dev.fdbIx).toBeNull();
    expect(onIndex).toBeGreaterThan(100);
    expect(offIndex).toBeGreaterThan(600);
  });
});
