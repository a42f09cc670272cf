// link/bridge: a Linux learning bridge.
//
//   st1 ══ p1 ┐
//   st2 ══ p2 ┼── br0 (own MAC 02:00:00:00:00:b0, up into the host)
//   st3 ══ p3 ┘
//
// Each station `stN` is one end of a veth pair whose other end `pN` is a bridge port; a station's
// receive log shows what the bridge sent out of that port.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { BridgeDevice } from '../../src/link/bridge.js';
import { VethDevice } from '../../src/link/veth.js';
import type { Packet } from '../../src/packet/packet.js';
import { formatMac } from '../../src/wire/mac.js';
import { BROADCAST_MAC } from '../../src/wire/types.js';
import { arpBroadcast, recordRx, udpEthFrame } from './frames.js';

const BR_MAC = 0x0200000000b0;
const ST = [0x020000000001, 0x020000000002, 0x020000000003];
const PORT_MAC = [0x0200000000a1, 0x0200000000a2, 0x0200000000a3];
const UNKNOWN = 0x0200000000ff;

function setup(ports = 3) {
  const sim = new Simulator(1);
  const br = new BridgeDevice(sim, 'br0', BR_MAC);
  const st: VethDevice[] = [];
  const p: VethDevice[] = [];
  for (let i = 0; i < ports; i++) {
    const [s, q] = VethDevice.pair(sim, `st${i + 1}`, ST[i]!, `p${i + 1}`, PORT_MAC[i]!);
    br.addPort(q);
    st.push(s);
    p.push(q);
  }
  const rx = recordRx(br, ...st);
  /** Who received frame `tag`, sorted. */
  const receivers = (tag: number) => rx.filter((r) => r.tag === tag).map((r) => r.dev).sort();
  return { sim, br, st, p, rx, receivers };
}

describe('BridgeDevice', () => {
  it('learns the source MAC of a frame against the port it arrived on', () => {
    const { br, st, p } = setup();
    st[0]!.xmit(udpEthFrame(ST[0]!, UNKNOWN));
    const e = br.fdb.get(ST[0]!);
    expect(e, 'FDB entry for st1').toBeDefined();
    expect(e!.port.name).toBe(p[0]!.name);
    expect(e!.local).toBe(false);
  });

  it('floods an unknown unicast frame to every other port, not back to the ingress port, and not up', () => {
    const { st, receivers, br } = setup();
    st[0]!.xmit(udpEthFrame(ST[0]!, UNKNOWN, 64, 1));
    expect(receivers(1)).toEqual(['st2', 'st3']);
    expect(br.counters.flooded).toBe(1);
  });

  it('floods a broadcast to every other port and passes it up to the bridge interface', () => {
    const { st, rx } = setup();
    st[1]!.xmit(arpBroadcast(ST[1]!));
    expect(rx.map((r) => r.dev).sort()).toEqual(['br0', 'st1', 'st3']);
    expect(rx.every((r) => r.dst === formatMac(BROADCAST_MAC))).toBe(true);
  });

  it('forwards known unicast to the one port the FDB names, after learning it from a reply', () => {
    const { st, receivers, br } = setup();
    st[0]!.xmit(udpEthFrame(ST[0]!, ST[1]!, 64, 1)); // st2 unknown yet: flooded
    st[1]!.xmit(udpEthFrame(ST[1]!, ST[0]!, 64, 2)); // st1 known: to p1 only
    st[0]!.xmit(udpEthFrame(ST[0]!, ST[1]!, 64, 3)); // st2 now known: to p2 only
    expect(receivers(1)).toEqual(['st2', 'st3']);
    expect(receivers(2)).toEqual(['st1']);
    expect(receivers(3)).toEqual(['st2']);
    expect(br.counters.forwarded).toBe(2);
  });

  it('flooded copies are separate packets: changing one does not change another', () => {
    const { st, br } = setup();
    const seen: number[] = [];
    const got = [] as { ttl: number }[];
    for (const s of st.slice(1)) s.rxHandler = (_d, pkt) => { got.push(pkt.ip!); seen.push(pkt.uid); };
    st[0]!.xmit(udpEthFrame(ST[0]!, UNKNOWN));
    expect(new Set(seen).size).toBe(2);
    got[0]!.ttl = 1;
    expect(got[1]!.ttl).toBe(64);
    expect(br.counters.flooded).toBe(1);
  });

  it('a flooded ARP frame: each port gets its own packet, the header records shared read-only (skb_clone)', () => {
    const { st, br } = setup();
    const got: Packet[] = [];
    for (const s of st.slice(1)) s.rxHandler = (_d, pkt) => got.push(pkt);
    let up: Packet | null = null;
    br.rxHandler = (_d, pkt) => (up = pkt);
    const req = arpBroadcast(ST[0]!);
    const { eth, arp } = req;
    st[0]!.xmit(req);
    expect(got.length).toBe(2);
    expect(new Set([...got, up]).size).toBe(3);
    expect(up).toBe(req); // (the frame itself goes up; the ports get copies)
    for (const g of got) {
      expect(g.eth).toBe(eth);
      expect(g.arp).toBe(arp);
      expect(g.ip).toBeNull();
    }
    // The same frame with an IP header is copied whole (a receiver may rewrite it): the test above.
    const ipFrame = udpEthFrame(ST[0]!, UNKNOWN);
    got.length = 0;
    st[0]!.xmit(ipFrame);
    expect(got.length).toBe(2);
    for (const g of got) {
      expect(g.eth).not.toBe(ipFrame.eth);
      expect(g.eth).toEqual(ipFrame.eth);
      expect(g.ip).not.toBe(ipFrame.ip);
    }
  });

  it('a flood that reaches the bridge again while it runs goes out whole, and so does the outer one', () => {
    const { st, br } = setup();
    const log: string[] = [];
    let again = true;
    for (const s of st) {
      s.rxHandler = (d, pkt) => {
        log.push(`${d.name}:${pkt.udp!.srcPort}`);
        // st2 answers the first flood at once with a flood of its own (veth delivers synchronously).
        if (d.name === 'st2' && again) {
          again = false;
          st[1]!.xmit(udpEthFrame(ST[1]!, UNKNOWN, 64, 2));
        }
      };
    }
    st[0]!.xmit(udpEthFrame(ST[0]!, UNKNOWN, 64, 1));
    expect(log).toEqual(['st2:1', 'st1:2', 'st3:2', 'st3:1']);
    st[2]!.xmit(udpEthFrame(ST[2]!, UNKNOWN, 64, 3)); // (the lists kept hold stale ports past their count)
    expect(log.slice(4)).toEqual(['st1:3', 'st2:3']);
    expect(br.counters.flooded).toBe(3);
  });

  it('passes a frame addressed to the bridge MAC up to the bridge interface only', () => {
    const { st, receivers, br } = setup();
    st[2]!.xmit(udpEthFrame(ST[2]!, BR_MAC, 64, 7));
    expect(receivers(7)).toEqual(['br0']);
    expect(br.counters.local).toBe(1);
  });

  it('passes a frame addressed to a port\'s own MAC up to the bridge interface', () => {
    const { st, receivers } = setup();
    st[0]!.xmit(udpEthFrame(ST[0]!, PORT_MAC[1]!, 64, 8));
    expect(receivers(8)).toEqual(['br0']);
  });

  it('filters a frame whose destination is known on the ingress port (sends it nowhere)', () => {
    const { st, p, receivers, br } = setup();
    // Pretend st1's neighbour 02:..:0c sits behind p1 too (a switch behind the port).
    br.portReceive(p[0]!, udpEthFrame(0x02000000000c, UNKNOWN, 64, 1));
    st[0]!.xmit(udpEthFrame(ST[0]!, 0x02000000000c, 64, 2));
    expect(receivers(2)).toEqual([]);
    expect(br.counters.filtered).toBe(1);
  });

  it('moves a MAC to the new port when it shows up elsewhere (station migration)', () => {
    const { st, p, br } = setup();
    st[0]!.xmit(udpEthFrame(ST[0]!, UNKNOWN));
    br.portReceive(p[2]!, udpEthFrame(ST[0]!, UNKNOWN));
    expect(br.fdb.get(ST[0]!)!.port).toBe(p[2]);
  });

  it('never learns a multicast/broadcast source address', () => {
    const { st, br } = setup();
    st[0]!.xmit(udpEthFrame(0x030000000001, UNKNOWN));
    expect(br.fdb.has(0x030000000001)).toBe(false);
  });

  it('does not let a learned frame overwrite a local entry (the bridge\'s own MAC as source)', () => {
    const { st, br } = setup();
    st[0]!.xmit(udpEthFrame(BR_MAC, UNKNOWN));
    expect(br.fdb.get(BR_MAC)).toMatchObject({ local: true, port: br });
  });

  it('ages a learned entry out after ageingTimeNs: the next frame to it is flooded again', () => {
    const { sim, st, br, receivers } = setup();
    br.ageingTimeNs = 10e9;
    st[0]!.xmit(udpEthFrame(ST[0]!, UNKNOWN)); // learn st1 at t=0 (st2, st3 never speak)
    sim.schedule(10e9 - 1, () => st[1]!.xmit(udpEthFrame(ST[1]!, ST[0]!, 64, 1))); // fresh: to p1 only
    sim.schedule(10e9 + 1, () => st[2]!.xmit(udpEthFrame(ST[2]!, ST[0]!, 64, 2))); // aged out: flooded
    sim.run();
    expect(receivers(1)).toEqual(['st1']);
    expect(receivers(2)).toEqual(['st1', 'st2']);
    expect(br.fdb.has(ST[0]!), 'the aged entry is removed from the FDB').toBe(false);
  });

  it.each([2 ** 31 + 3, 2 ** 30, 1073741823, 10e9 + 0.5, 2 ** 52])('ages out exactly ageingTimeNs (%d ns) after the last frame, by the frame path and by lookup', (age) => {
    const { sim, st, br, receivers } = setup();
    br.ageingTimeNs = age;
    expect(br.ageingTimeNs).toBe(age);
    const t0 = 5e9;
    sim.scheduleAt(t0, () => st[0]!.xmit(udpEthFrame(ST[0]!, UNKNOWN))); // st1 learned at t0
    const last = t0 + Math.floor(age); // the last integer time not past ageing_time
    sim.scheduleAt(last, () => st[1]!.xmit(udpEthFrame(ST[1]!, ST[0]!, 64, 1))); // still known: to p1 only
    sim.scheduleAt(last, () => expect(br.lookup(ST[0]!)?.port.name).toBe('p1'));
    sim.scheduleAt(last, () => br.xmit(udpEthFrame(BR_MAC, ST[0]!, 64, 3))); // the host's own frame: to p1 only
    sim.scheduleAt(last + 1, () => br.xmit(udpEthFrame(BR_MAC, ST[0]!, 64, 4))); // past it: out of every port
    sim.scheduleAt(last + 1, () => st[2]!.xmit(udpEthFrame(ST[2]!, ST[0]!, 64, 2))); // past it: flooded
    sim.run({ until: last + 2 });
    expect(receivers(1)).toEqual(['st1']);
    expect(receivers(3)).toEqual(['st1']);
    expect(receivers(4)).toEqual(['st1', 'st2', 'st3']);
    expect(receivers(2)).toEqual(['st1', 'st2']);
    expect(br.fdb.has(ST[0]!)).toBe(false);
  });

  it.each([0, 2 ** 46 - 1, 2 ** 46 + 32767, 2 ** 52 + 32768 * 5 + 3])("keeps a learned entry's last-seen time exactly, beside the MAC's high half (at %d ns, for a MAC whose high half is the largest unicast one)", (t0) => {
    // (an FDB slot holds the MAC's high 16 bits and the time's low 15 bits in one word: the time read back,
    // and the ageing boundary, must be exact; past 2^46 ns the time's high part is no small integer)
    const sim = new Simulator(1);
    const br = new BridgeDevice(sim, 'br0', BR_MAC);
    const far = 0xfeffffffffff; // (the I/G bit, bit 40, clear)
    const [s1, q1] = VethDevice.pair(sim, 'st1', far, 'p1', PORT_MAC[0]!);
    const [s2, q2] = VethDevice.pair(sim, 'st2', ST[1]!, 'p2', PORT_MAC[1]!);
    br.addPort(q1);
    br.addPort(q2);
    const got = recordRx(s1, s2);
    br.ageingTimeNs = 1000;
    sim.scheduleAt(t0, () => s1.xmit(udpEthFrame(far, UNKNOWN, 64, 1)));
    sim.scheduleAt(t0 + 7, () => s1.xmit(udpEthFrame(far, UNKNOWN, 64, 2))); // refreshed
    sim.scheduleAt(t0 + 7, () => {
      expect(br.lookup(far)?.updated).toBe(t0 + 7);
      expect(br.lookup(far)?.port).toBe(q1);
      expect(br.checkTable()).toBe(true);
    });
    sim.scheduleAt(t0 + 1007, () => s2.xmit(udpEthFrame(ST[1]!, far, 64, 3))); // still known: to p1 only
    sim.scheduleAt(t0 + 1008, () => s2.xmit(udpEthFrame(ST[1]!, far, 64, 4))); // aged out: flooded (p1 only other port)
    sim.scheduleAt(t0 + 1008, () => expect(br.fdb.has(far)).toBe(false));
    sim.run({ until: t0 + 1009 });
    expect(got.filter((r) => r.tag === 3).map((r) => r.dev)).toEqual(['st1']);
    expect(got.filter((r) => r.tag === 4).map((r) => r.dev)).toEqual(['st1']);
    expect(br.fdb.get(ST[1]!)?.updated).toBe(t0 + 1008);
    expect(br.checkTable()).toBe(true);
  });

  it('a frame from a MAC refreshes its entry, so an active station never ages out', () => {
    const { sim, st, br, receivers } = setup();
    br.ageingTimeNs = 10e9;
    for (let t = 0; t <= 30e9; t += 5e9) sim.schedule(t, () => st[0]!.xmit(udpEthFrame(ST[0]!, UNKNOWN)));
    sim.schedule(30e9 + 9e9, () => st[1]!.xmit(udpEthFrame(ST[1]!, ST[0]!, 64, 1)));
    sim.run();
    expect(receivers(1)).toEqual(['st1']);
  });

  it('keeps local entries (bridge and port MACs) forever', () => {
    const { sim, st, br, receivers } = setup();
    br.ageingTimeNs = 1;
    sim.schedule(1e12, () => st[0]!.xmit(udpEthFrame(ST[0]!, BR_MAC, 64, 1)));
    sim.run();
    expect(receivers(1)).toEqual(['br0']);
  });

  it('from the host: a frame sent out of the bridge interface goes to the learned port, or is flooded to all ports', () => {
    const { st, br, receivers } = setup();
    br.xmit(udpEthFrame(BR_MAC, ST[1]!, 64, 1)); // unknown: all ports
    st[1]!.xmit(udpEthFrame(ST[1]!, UNKNOWN, 64, 2)); // learn st2
    br.xmit(udpEthFrame(BR_MAC, ST[1]!, 64, 3));
    expect(receivers(1)).toEqual(['st1', 'st2', 'st3']);
    expect(receivers(3)).toEqual(['st2']);
  });

  it('does not flood to a port that is down', () => {
    const { st, p, receivers } = setup();
    p[2]!.up = false;
    st[0]!.xmit(udpEthFrame(ST[0]!, UNKNOWN, 64, 1));
    expect(receivers(1)).toEqual(['st2']);
  });

  it('removePort forgets the port and the MACs learned on it', () => {
    const { st, p, br } = setup();
    st[0]!.xmit(udpEthFrame(ST[0]!, UNKNOWN));
    br.removePort(p[0]!);
    expect(br.fdb.has(ST[0]!)).toBe(false);
    expect(br.ports).not.toContain(p[0]);
    expect(p[0]!.master).toBeNull();
  });

  it('capture on the bridge (promiscuous) sees forwarded and flooded frames as "in"', () => {
    const { st, br } = setup();
    const tapped: string[] = [];
    br.tap.connect((_d, pkt, dir) => tapped.push(`${dir} ${pkt.udp?.srcPort}`));
    st[0]!.xmit(udpEthFrame(ST[0]!, UNKNOWN, 64, 1));
    expect(tapped).toEqual(['in 1']);
  });

  describe('hairpin mode (bridge_slave hairpin on: br_forward.c should_deliver)', () => {
    it('reflects a broadcast back out of a hairpin port, as well as flooding it and passing it up', () => {
      const { st, p, rx } = setup();
      p[1]!.hairpinMode = true;
      st[1]!.xmit(arpBroadcast(ST[1]!));
      expect(rx.map((r) => r.dev).sort()).toEqual(['br0', 'st1', 'st2', 'st3']);
    });

    it('sends a unicast frame back out of its ingress port when the destination was learned there', () => {
      const { st, p, receivers, br } = setup();
      p[0]!.hairpinMode = true;
      br.portReceive(p[0]!, udpEthFrame(0x02000000000c, UNKNOWN, 64, 1));
      st[0]!.xmit(udpEthFrame(ST[0]!, 0x02000000000c, 64, 2));
      expect(receivers(2)).toEqual(['st1']);
      expect(br.counters.filtered).toBe(0);
    });

    it('an unknown unicast is flooded back to a hairpin ingress port too; other ports are unaffected by the flag', () => {
      const { st, p, receivers } = setup();
      p[2]!.hairpinMode = true;
      st[0]!.xmit(udpEthFrame(ST[0]!, UNKNOWN, 64, 1));
      expect(receivers(1)).toEqual(['st2', 'st3']);
      st[2]!.xmit(udpEthFrame(ST[2]!, UNKNOWN, 64, 2));
      expect(receivers(2)).toEqual(['st1', 'st2', 'st3']);
    });

    it('rebridge (bridged DNAT) to the ingress port: delivered with hairpin, a bridge-same-port drop without', () => {
      const { st, p, receivers, br } = setup();
      st[0]!.xmit(udpEthFrame(ST[0]!, UNKNOWN, 64, 1));
      const drops: string[] = [];
      br.dropped.connect((_d, _p, reason) => drops.push(reason));
      br.rebridge(p[0]!, udpEthFrame(ST[0]!, ST[0]!, 64, 2));
      expect(receivers(2)).toEqual([]);
      expect(drops).toEqual(['bridge-same-port']);
      p[0]!.hairpinMode = true;
      br.rebridge(p[0]!, udpEthFrame(ST[0]!, ST[0]!, 64, 3));
      expect(receivers(3)).toEqual(['st1']);
    });
  });

  it('a bridged-DNAT frame held for its neighbour leaves the bridge interface with the original source MAC, bridged from its ingress port', () => {
    const { br, st, p, receivers } = setup();
    st[1]!.xmit(udpEthFrame(ST[1]!, UNKNOWN, 64, 1)); // learn st2 behind p2
    const f = udpEthFrame(ST[0]!, BR_MAC, 64, 2);
    br.holdBridgedDnat(f, p[0]!);
    // What the neighbour layer does once the MAC is known: the bridge's own MAC as source, xmit on the bridge.
    f.eth!.src = BR_MAC;
    f.eth!.dst = ST[1]!;
    br.xmit(f);
    expect(receivers(2)).toEqual(['st2']);
    expect(formatMac(f.eth!.src)).toBe(formatMac(ST[0]!));
    // An ordinary frame from the host keeps the bridge's MAC.
    const g = udpEthFrame(BR_MAC, ST[1]!, 64, 3);
    br.xmit(g);
    expect(receivers(3)).toEqual(['st2']);
    expect(formatMac(g.eth!.src)).toBe(formatMac(BR_MAC));
  });

  it('a held bridged-DNAT frame is taken back once, by the bridge that held it; its copies and other frames are not held', () => {
    const { sim, br, st, p, receivers } = setup();
    st[1]!.xmit(udpEthFrame(ST[1]!, UNKNOWN, 64, 1)); // learn st2 behind p2
    const other = new BridgeDevice(sim, 'br1', 0x0200000000b1);
    const f = udpEthFrame(ST[0]!, BR_MAC, 64, 2);
    br.holdBridgedDnat(f, p[0]!);
    const copy = f.clone();
    f.eth!.src = BR_MAC;
    f.eth!.dst = ST[1]!;
    other.xmit(f); // not the bridge that held it: an ordinary frame there, still held here
    expect(formatMac(f.eth!.src)).toBe(formatMac(BR_MAC));
    br.xmit(f);
    expect(formatMac(f.eth!.src)).toBe(formatMac(ST[0]!));
    f.eth!.src = BR_MAC;
    br.xmit(f); // taken back already: the host's own frame now
    expect(formatMac(f.eth!.src)).toBe(formatMac(BR_MAC));
    copy.eth = { ...copy.eth!, src: BR_MAC, dst: ST[1]! };
    br.xmit(copy);
    expect(formatMac(copy.eth!.src)).toBe(formatMac(BR_MAC));
    expect(receivers(2)).toEqual(['st2', 'st2', 'st2']);
  });
});

describe('BridgeDevice FDB at scale', () => {
  it('with thousands of MACs learned, moved, aged out and removed with their port, lookups answer as the FDB model does', () => {
    const sim = new Simulator(1);
    const br = new BridgeDevice(sim, 'br0', BR_MAC);
    br.ageingTimeNs = 400e6;
    const ports: VethDevice[] = [];
    for (let i = 0; i < 8; i++) ports.push(VethDevice.pair(sim, `st${i}`, 0x020000001000 + i, `p${i}`, 0x020000002000 + i)[1]);
    for (const q of ports) br.addPort(q);
    // The model: MAC → port and last seen; local entries never age.
    const model = new Map<number, { port: string; updated: number; local: boolean }>();
    model.set(BR_MAC, { port: 'br0', updated: 0, local: true });
    for (const q of ports) model.set(q.mac, { port: q.name, updated: 0, local: true });
    const expected = (mac: number): string => {
      const m = model.get(mac);
      if (m === undefined) return 'none';
      if (!m.local && sim.now - m.updated > br.ageingTimeNs) {
        model.delete(mac);
        return 'none';
      }
      return m.port;
    };
    let x = 7;
    const rnd = (n: number): number => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return Math.floor((x / 2147483648) * n);
    };
    const macOf = (i: number): number => 0x0a0000000000 + i * 0x10001; // both halves vary
    let checked = 0;
    for (let step = 0; step < 6000; step++) {
      sim.scheduleAt(step * 1e6, () => {
        const op = rnd(1000);
        if (op < 2) {
          // A port leaves with its learned MACs, and comes back.
          const q = ports[rnd(ports.length)]!;
          br.removePort(q);
          for (const [mac, m] of model) if (m.port === q.name && mac !== q.mac) model.delete(mac);
          br.addPort(q);
        } else if (op < 600) {
          const mac = macOf(rnd(3000));
          const q = ports[rnd(ports.length)]!;
          br.portReceive(q, udpEthFrame(mac, BR_MAC, 64, step));
          const m = model.get(mac);
          if (m === undefined) model.set(mac, { port: q.name, updated: sim.now, local: false });
          else if (!m.local) {
            m.port = q.name;
            m.updated = sim.now;
          }
        }
        const probe = rnd(10) === 0 ? ports[rnd(ports.length)]!.mac : macOf(rnd(3000));
        const e = br.lookup(probe);
        expect(e === null ? 'none' : e.port.name).toBe(expected(probe));
        if (e !== null && !e.local) expect(e.updated).toBe(model.get(probe)!.updated);
        if (step % 500 === 0) {
          // The FDB listing holds what the model holds (aged entries stay until looked up), with the same port and time.
          const listed = [...br.fdb.values()].map((x) => `${x.mac} ${x.port.name} ${x.local} ${x.local ? 0 : x.updated}`).sort();
          const want = [...model].map(([mac, m]) => `${mac} ${m.port} ${m.local} ${m.local ? 0 : m.updated}`).sort();
          expect(listed).toEqual(want);
        }
        checked++;
      });
    }
    sim.run();
    expect(checked).toBe(6000);
    expect(br.fdb.size).toBeGreaterThan(100);
  });

  it('the table holds each entry\'s port itself: the host\'s frames and forwarded ones go out of the port the FDB names', () => {
    // The slot's port (not the entry's, which `fdb` readers get) is what a forward sends from: after
    // learning, moves, ageing, a port's removal and return and a device that is not a port, each
    // frame from the host (xmit) and from a station (portReceive) reaches the station behind the
    // port the model names, or every port when the MAC is unknown, aged or local.
    const sim = new Simulator(1);
    const br = new BridgeDevice(sim, 'br0', BR_MAC);
    br.ageingTimeNs = 50e6;
    const st: VethDevice[] = [];
    const ports: VethDevice[] = [];
    for (let i = 0; i < 6; i++) {
      const [s, q] = VethDevice.pair(sim, `st${i}`, 0x020000001000 + i, `p${i}`, 0x020000002000 + i);
      br.addPort(q);
      st.push(s);
      ports.push(q);
    }
    const stranger = VethDevice.pair(sim, 'x0', 0x020000003000, 'x1', 0x020000003001)[1];
    const rx = recordRx(...st);
    const model = new Map<number, { port: string; updated: number }>();
    const macOf = (i: number): number => 0x0a0000000000 + i * 0x10003;
    let x = 11;
    const rnd = (n: number): number => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return Math.floor((x / 2147483648) * n);
    };
    const want = (mac: number, from: string | null): string[] => {
      const m = model.get(mac);
      if (m !== undefined && sim.now - m.updated > br.ageingTimeNs) model.delete(mac);
      const out = model.get(mac)?.port;
      const all = ports.filter((q) => q.name !== from).map((q) => `st${q.name.slice(1)}`);
      if (out === undefined) return all;
      if (out === from || out === 'x1') return []; // (filtered; a stranger gets nothing: it is no port)
      return [`st${out.slice(1)}`];
    };
    let checked = 0;
    for (let step = 0; step < 3000; step++) {
      sim.scheduleAt(step * 1e6, () => {
        const op = rnd(100);
        if (op < 2) {
          const q = ports[rnd(ports.length)]!;
          br.removePort(q);
          for (const [mac, m] of model) if (m.port === q.name) model.delete(mac);
          br.addPort(q);
        } else if (op < 60) {
          const mac = macOf(rnd(200));
          const q = op < 5 ? stranger : ports[rnd(ports.length)]!;
          br.portReceive(q, udpEthFrame(mac, BR_MAC, 64, step));
          model.set(mac, { port: q.name, updated: sim.now });
        }
        const probe = macOf(rnd(200));
        const tag = 10000 + step;
        rx.length = 0;
        if (rnd(2) === 0) {
          const expected = want(probe, null);
          br.xmit(udpEthFrame(BR_MAC, probe, 64, tag));
          expect(rx.filter((r) => r.tag === tag).map((r) => r.dev).sort()).toEqual(expected);
        } else {
          const q = ports[rnd(ports.length)]!;
          const src = 0x0c0000000000 + step; // (a new source each time: learned, never probed)
          const expected = want(probe, q.name);
          br.portReceive(q, udpEthFrame(src, probe, 64, tag));
          model.set(src, { port: q.name, updated: sim.now });
          expect(rx.filter((r) => r.tag === tag).map((r) => r.dev).sort()).toEqual(expected);
        }
        if (step % 100 === 0) expect(br.checkTable()).toBe(true);
        checked++;
      });
    }
    sim.run();
    expect(checked).toBe(3000);
    expect(br.checkTable()).toBe(true);
  });
});
