// link/bridge floods over NICs: each port's copy of the flooded frame (Packet.floodCopy) is made by the
// port when the frame reaches the other end of its channel (NicDevice.xmitFloodCopy), from a template
// of the flood's own; what each receiver gets is its own packet either way. Once any trace had a
// subscriber (it could keep the template it saw depart), the copies are made at the flood again.
//
//   st1 ══ p1 ┐
//   st2 ══ p2 ┼── br0        (NIC pairs joined by 1 Gbps / 50 µs channels)
//   st3 ══ p3 ┘
//
// The order of the tests matters: the last one subscribes to a trace (traceEverSubscribed is sticky).
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { BridgeDevice } from '../../src/link/bridge.js';
import { Channel } from '../../src/link/channel.js';
import { NicDevice } from '../../src/link/nic.js';
import { Packet } from '../../src/packet/packet.js';
import { arpBroadcast, udpEthFrame } from './frames.js';

const ST = [0x020000000001, 0x020000000002, 0x020000000003];

function setup() {
  const sim = new Simulator(1);
  const br = new BridgeDevice(sim, 'br0', 0x0200000000b0);
  const st: NicDevice[] = [];
  const got: { dev: string; pkt: Packet; at: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const s = new NicDevice(sim, `st${i + 1}`, ST[i]!);
    const p = new NicDevice(sim, `p${i + 1}`, 0x0200000000a1 + i);
    new Channel(sim, s, p, { rateBps: 1e9, delayNs: 50_000, queueLimit: 1000 });
    br.addPort(p);
    s.rxHandler = (d, pkt) => got.push({ dev: d.name, pkt, at: sim.now });
    st.push(s);
  }
  return { sim, br, st, got };
}

describe('bridge flood over NICs', () => {
  it('each receiver gets its own copy, made as the frame arrives; the frame itself goes up', () => {
    const { sim, br, st, got } = setup();
    let up: Packet | null = null;
    br.rxHandler = (_d, pkt) => (up = pkt);
    const req = arpBroadcast(ST[0]!);
    st[0]!.xmit(req);
    sim.run({ until: 100_000 }); // the request reaches br0 and is flooded
    const between = new Packet(); // (made after the flood, before its copies arrive)
    sim.run();
    expect(up).toBe(req);
    expect(got.map((g) => g.dev).sort()).toEqual(['st2', 'st3']);
    expect(new Set(got.map((g) => g.pkt)).size).toBe(2);
    for (const g of got) {
      expect(g.pkt).not.toBe(req);
      expect(g.pkt.uid).toBeGreaterThan(between.uid);
      expect(g.pkt.eth).toBe(req.eth); // (an ARP frame's records are shared read-only: Packet.floodCopy)
      expect(g.pkt.arp).toBe(req.arp);
    }
    expect(br.counters.flooded).toBe(1);
    expect(st.map((s) => s.stats.rxPackets)).toEqual([0, 1, 1]);
  });

  it('an IP frame flooded (unknown unicast): each receiver gets records of its own', () => {
    const { sim, st, got } = setup();
    const f = udpEthFrame(ST[0]!, 0x0200000000ff, 64, 5);
    st[0]!.xmit(f);
    sim.run();
    expect(got.map((g) => g.dev).sort()).toEqual(['st2', 'st3']);
    expect(got[0]!.pkt.ip).not.toBe(got[1]!.pkt.ip);
    expect(got[0]!.pkt.eth).not.toBe(got[1]!.pkt.eth);
    got[0]!.pkt.ip!.ttl = 1;
    expect(got[1]!.pkt.ip!.ttl).toBe(f.ip!.ttl);
  });

  it('once a trace had a subscriber, the copies are made at the flood', () => {
    const { sim, br, st, got } = setup();
    const departed: Packet[] = [];
    br.ports[1]!.tap.connect((_d, p, dir) => {
      if (dir === 'out') departed.push(p);
    });
    st[0]!.xmit(arpBroadcast(ST[0]!));
    sim.run({ until: 100_000 });
    const between = new Packet();
    sim.run();
    expect(got.length).toBe(2);
    for (const g of got) expect(g.pkt.uid).toBeLessThan(between.uid);
    // What departed p2 is what st2 received.
    expect(departed).toEqual([got.find((g) => g.dev === 'st2')!.pkt]);
    expect(departed[0]).toBe(got.find((g) => g.dev === 'st2')!.pkt);
  });
});
