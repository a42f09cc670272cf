// link/netem: `tc qdisc add dev X root netem` acts on X's egress only and before X's capture tap, as
// sch_netem sits in front of dev_hard_start_xmit: a lost frame is never captured on X, a delayed one is
// captured when netem releases it; frames sent the other way on the same link are untouched.
//
//   a ══ channel (1 Gb/s, 0 delay) ══ b        netem on a only
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { Channel } from '../../src/link/channel.js';
import { setNetem, setNetemOn } from '../../src/link/netem.js';
import { NicDevice } from '../../src/link/nic.js';
import { udpEthFrame } from './frames.js';

const A = 0x020000000001;
const B = 0x020000000002;

function setup() {
  const sim = new Simulator(1);
  const a = new NicDevice(sim, 'a', A);
  const b = new NicDevice(sim, 'b', B);
  a.qualifiedName = 'ha/eth0';
  b.qualifiedName = 'hb/eth0';
  const ch = new Channel(sim, a, b, { rateBps: 1e9, delayNs: 0, queueLimit: 1000 });
  const log: string[] = [];
  for (const d of [a, b]) d.tap.connect((dev, pkt, dir) => log.push(`${dev.name} ${dir} ${pkt.udp!.srcPort} @${sim.now}`));
  return { sim, a, b, ch, log };
}

describe('netem on one interface', () => {
  it('loss: every frame a captures leaving it arrives at b (drops happen before the tap); b → a is untouched', () => {
    const { sim, a, b, log } = setup();
    const n = setNetemOn(a, { loss: 0.5, delayNs: 0, jitterNs: 0 }, sim);
    for (let i = 0; i < 200; i++) sim.scheduleAt(i * 10_000, () => a.xmit(udpEthFrame(A, B, 64, i)));
    for (let i = 0; i < 50; i++) sim.scheduleAt(i * 10_000 + 5000, () => b.xmit(udpEthFrame(B, A, 64, 1000 + i)));
    sim.run();
    const sent = log.filter((l) => l.startsWith('a out')).map((l) => l.split(' ')[2]);
    const got = log.filter((l) => l.startsWith('b in')).map((l) => l.split(' ')[2]).filter((x) => Number(x) < 1000);
    expect(got).toEqual(sent);
    expect(n.counters.lost).toBe(200 - sent.length);
    expect(n.counters.lost).toBeGreaterThan(60);
    expect(a.dropsByReason['fault-loss']).toBe(n.counters.lost);
    expect(log.filter((l) => l.startsWith('a in')).length).toBe(50);
    expect(b.dropsByReason['fault-loss']).toBeUndefined();
  });

  it('delay: a frame is captured on a when netem releases it, not when it was sent', () => {
    const { sim, a, log } = setup();
    setNetemOn(a, { loss: 0, delayNs: 20e6, jitterNs: 0 }, sim);
    sim.scheduleAt(1000, () => a.xmit(udpEthFrame(A, B, 64, 7)));
    sim.run();
    expect(log).toEqual([`a out 7 @${1000 + 20e6}`, `b in 7 @${1000 + 20e6 + 1040}`]);
  });

  it('setNetem on a link puts netem on both ends (a network-wide loss), with one stream per end', () => {
    const { sim, a, b, ch } = setup();
    setNetem(ch, { loss: 0.1, delayNs: 0, jitterNs: 0 }, sim);
    expect(a.qdisc).not.toBeNull();
    expect(b.qdisc).not.toBeNull();
    expect(a.qdisc).not.toBe(b.qdisc);
  });
});
