// sch_netem's other options on one NIC's egress (duplicate, reorder with gap, rate, limit, corrupt,
// correlation) and sch_tbf, each checked against what the kernel's algorithm gives, plus the fault
// chain (drop filter → netem → tbf → the device's own qdisc).
//
//   a ══ channel (1 Gb/s, 0 delay) ══ b        qdiscs on a only
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { Channel } from '../../src/link/channel.js';
import { Netem, setNetemOn, type NetemConfig } from '../../src/link/netem.js';
import { NicDevice } from '../../src/link/nic.js';
import { addStage, dstIn, EgressDrop, removeStage, stagesOf } from '../../src/link/qdisc.js';
import { Tbf } from '../../src/link/tbf.js';
import { serializeFrame } from '../../src/packet/serialize.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { udpEthFrame } from './frames.js';

const A = 0x020000000001;
const B = 0x020000000002;

function setup() {
  const sim = new Simulator(1);
  const a = new NicDevice(sim, 'a', A);
  const b = new NicDevice(sim, 'b', B);
  a.qualifiedName = 'ha/eth0';
  b.qualifiedName = 'hb/eth0';
  new Channel(sim, a, b, { rateBps: 1e9, delayNs: 0, queueLimit: 100000 });
  const got: { tag: number; at: number; pkt: import('../../src/packet/packet.js').Packet }[] = [];
  b.tap.connect((_d, pkt, dir) => void (dir === 'in' && got.push({ tag: pkt.udp!.srcPort, at: sim.now, pkt })));
  return { sim, a, b, got };
}
const base: NetemConfig = { loss: 0, delayNs: 0, jitterNs: 0 };
const send = (sim: Simulator, a: NicDevice, n: number, gapNs = 10_000, size = 64) => {
  for (let i = 0; i < n; i++) sim.scheduleAt(i * gapNs, () => a.xmit(udpEthFrame(A, B, size, i)));
};

describe('netem options', () => {
  it('duplicate 100%: every frame arrives twice, the copy right after the original', () => {
    const { sim, a, got } = setup();
    setNetemOn(a, { ...base, duplicate: 1 }, sim);
    send(sim, a, 5);
    sim.run();
    expect(got.map((g) => g.tag)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it('reorder 100% gap 5 with delay 10ms: every 5th frame goes at once, the others 10 ms late (tc-netem(8) example)', () => {
    const { sim, a, got } = setup();
    setNetemOn(a, { ...base, delayNs: 10e6, reorder: 1, gap: 5 }, sim);
    send(sim, a, 10, 1e6);
    sim.run();
    // counter < gap−1 for frames 0..3 (delayed), frame 4 reordered (counter = 0), then 5..8 delayed, 9 reordered.
    const immediate = got.filter((g) => g.at - g.tag * 1e6 < 1e6).map((g) => g.tag);
    expect(immediate).toEqual([4, 9]);
    expect(got.slice(0, 2).map((g) => g.tag)).toEqual([4, 9]);
  });

  it('rate 8 Mbit/s: back-to-back frames leave one serialization time apart ((len + overhead)·8/rate)', () => {
    const { sim, a, got } = setup();
    setNetemOn(a, { ...base, rateBps: 8e6, packetOverhead: 24 }, sim);
    send(sim, a, 4, 0, 958); // 1000-byte frames (14 + 20 + 8 + 958), +24 overhead: 1024 B → 1.024 ms
    sim.run();
    const leave = got.map((g) => g.at - got[0]!.at);
    expect(leave).toEqual([0, 1_024_000, 2_048_000, 3_072_000]);
  });

  it('limit: frames beyond `limit` held are dropped (qdisc-limit)', () => {
    const { sim, a, got } = setup();
    const n = setNetemOn(a, { ...base, delayNs: 1e6, limit: 3 }, sim);
    send(sim, a, 10, 1000);
    sim.run();
    expect(got.map((g) => g.tag)).toEqual([0, 1, 2]);
    expect(n.counters.overLimit).toBe(7);
    expect(a.dropsByReason['qdisc-limit']).toBe(7);
  });

  it('corrupt 100%: one bit differs in the bytes, the record stays; a bit past the Ethernet header breaks a checksum', () => {
    const { sim, a, got } = setup();
    setNetemOn(a, { ...base, corrupt: 1 }, sim);
    send(sim, a, 200, 10_000, 200);
    sim.run();
    let badIp = 0;
    let badUdp = 0;
    let ethFlips = 0;
    for (const g of got) {
      const clean = udpEthFrame(A, B, 200, g.tag);
      const want = serializeFrame(clean);
      const have = serializeFrame(g.pkt);
      let bits = 0;
      for (let i = 0; i < want.length; i++) for (let x = want[i]! ^ have[i]!; x; x >>= 1) bits += x & 1;
      expect(bits).toBe(1);
      if (g.pkt.corruptBit < 0) {
        ethFlips++;
        continue;
      }
      if (g.pkt.corruptBit >> 3 < 20) {
        badIp++;
        expect(internetChecksum(have, 14, 34)).not.toBe(0);
      } else {
        badUdp++;
      }
    }
    // Bytes are drawn uniformly over 242: Ethernet 14, IP 20, UDP + payload 208.
    expect(ethFlips).toBeGreaterThan(3);
    expect(badIp).toBeGreaterThan(5);
    expect(badUdp).toBeGreaterThan(150);
  });

  it('loss 50% with correlation 90%: the same rate in the long run, longer runs of losses than independent draws', () => {
    const runs = (cfg: NetemConfig) => {
      const { sim, a, got } = setup();
      setNetemOn(a, cfg, sim);
      send(sim, a, 20000, 1000);
      sim.run();
      const arrived = new Set(got.map((g) => g.tag));
      let lost = 0;
      let bursts = 0;
      for (let i = 0; i < 20000; i++) {
        if (!arrived.has(i)) {
          lost++;
          if (i === 0 || arrived.has(i - 1)) bursts++;
        }
      }
      return { rate: lost / 20000, meanBurst: lost / bursts };
    };
    const indep = runs({ ...base, loss: 0.5 });
    const corr = runs({ ...base, loss: 0.5, lossCorrelation: 0.9 });
    expect(indep.rate).toBeGreaterThan(0.48);
    expect(indep.rate).toBeLessThan(0.52);
    expect(indep.meanBurst).toBeLessThan(2.2); // geometric: 1/(1−p) = 2
    // netem's correlated generator is a moving average of uniforms: its mean stays 1/2, its bursts lengthen.
    expect(corr.rate).toBeGreaterThan(0.4);
    expect(corr.rate).toBeLessThan(0.6);
    expect(corr.meanBurst).toBeGreaterThan(2 * indep.meanBurst);
  });
});

describe('tbf and the fault chain', () => {
  it('tbf rate 8 Mbit/s burst 3000 B: the first frames use the bucket, then one frame per serialization time; limit drops the rest', () => {
    const { sim, a, got } = setup();
    const t = new Tbf({ rateBps: 8e6, burstBytes: 3000, limitBytes: 5000 }, sim);
    addStage(a, t);
    send(sim, a, 10, 0, 958); // 1000-byte frames at t = 0
    sim.run();
    // 3 frames fit the 3000-byte bucket; 5 wait (5000 bytes limit); 2 are dropped.
    expect(got.length).toBe(8);
    expect(a.dropsByReason['qdisc-limit']).toBe(2);
    const at = got.map((g) => g.at - got[0]!.at);
    expect(at.slice(0, 3).every((x) => x < 30_000)).toBe(true); // the wire serializes them back to back (8 µs each)
    expect(at.slice(3)).toEqual([1e6, 2e6, 3e6, 4e6, 5e6].map((x) => x + at[0]!)); // 1000 B at 1 MB/s = 1 ms each
  });

  it('a drop filter on the destination drops only frames to the peers; removing it restores the device qdisc', () => {
    const { sim, a, got } = setup();
    const own = setNetemOn(a, { ...base, delayNs: 1000 }, sim);
    const f = new EgressDrop(dstIn(new Set([0x0a000002])));
    addStage(a, f);
    expect(stagesOf(a)).toEqual([f]);
    expect(f.next).toBe(own);
    send(sim, a, 3);
    sim.run();
    expect(got.length).toBe(0);
    expect(a.dropsByReason['tc-filter-drop']).toBe(3);
    removeStage(a, f);
    expect(a.qdisc).toBe(own);
    expect(own).toBeInstanceOf(Netem);
  });
});
