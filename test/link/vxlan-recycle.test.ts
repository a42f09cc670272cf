// Packet recycling (the ownership rule in packet/packet.ts): a decapsulating VXLAN device gives the
// outer packet it received back and the next encapsulation renews it, only for outer packets a
// VxlanDevice built, never cloned, reassembled or hand-made ones, and never once a trace had a
// subscriber; a TCP segment given back where it ended is transport/tcp's next segment. A renewed
// packet equals a new one (Packet.renew). A scenario's capture and stats are the same with and
// without recycling.
//
// The order of the tests matters: the last one subscribes to a trace, which stops recycling for the
// rest of this file's process (traceEverSubscribed).
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { TraceSource } from '../../src/core/trace.js';
import { VxlanDevice } from '../../src/link/vxlan.js';
import { VethDevice } from '../../src/link/veth.js';
import { neighSend } from '../../src/net/arp.js';
import { Packet, packetRecyclingAllowed, releaseSegment, takeEthernet, takeSegment } from '../../src/packet/packet.js';
import { EtherType } from '../../src/wire/types.js';
import { tcpSegment } from '../../src/transport/tcp/output.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { ROOT } from '../integration/run-scenario.js';
import { FakeHost, udpEthFrame } from './frames.js';

const A_MAC = 0x020000000001;
const B_MAC = 0x020000000002;
const A_IP = 0x0a640001;
const B_IP = 0x0a640002;

/** Two VTEPs that know each other, each on a fake host; `got` lists the inner frames B received. */
function pair(recycle: boolean) {
  const sim = new Simulator(1);
  const a = new VxlanDevice(sim, 'a', A_MAC, 1, A_IP, 8472, 11);
  const b = new VxlanDevice(sim, 'b', B_MAC, 1, B_IP, 8472, 22);
  a.fdb.set(B_MAC, B_IP);
  b.fdb.set(A_MAC, A_IP);
  const ha = new FakeHost();
  const hb = new FakeHost();
  a.attach(ha);
  b.attach(hb);
  a.recycle = recycle;
  b.recycle = recycle;
  const got: Packet[] = [];
  b.rxHandler = (_d, p) => got.push(p);
  return { a, b, ha, hb, got };
}

/** A packet's fields but its uid, the records as plain values. */
function fields(p: Packet): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (k !== 'uid') o[k] = v;
  return o;
}

describe('Packet.renew', () => {
  it('leaves every field as new Packet() sets it, with the uid a new packet would take', () => {
    const p = new Packet();
    // Every own field (whatever fields Packet gains later) set to something a new packet never holds.
    for (const k of Object.keys(p)) (p as unknown as Record<string, unknown>)[k] = { stale: k };
    p.renew();
    const fresh = new Packet();
    expect(fields(p)).toEqual(fields(fresh));
    expect(fresh.uid).toBe(p.uid + 1);
  });

  it('renewKeepingRecords does the same but leaves ip, udp and vxlan as they were', () => {
    const p = new Packet();
    for (const k of Object.keys(p)) (p as unknown as Record<string, unknown>)[k] = { stale: k };
    p.renewKeepingRecords();
    const fresh = new Packet();
    const kept = ['ip', 'udp', 'vxlan'];
    for (const k of kept) expect((p as unknown as Record<string, unknown>)[k]).toEqual({ stale: k });
    const rest = (q: Packet) => Object.fromEntries(Object.entries(fields(q)).filter(([k]) => !kept.includes(k)));
    expect(rest(p)).toEqual(rest(fresh));
    expect(fresh.uid).toBe(p.uid + 1);
  });
});

describe('spare Ethernet records', () => {
  it('the record of a packet given back is the next frame neighbour output sends, rewritten whole', () => {
    while (takeEthernet() !== null); // (whatever earlier tests gave back)
    const { a, ha, hb } = pair(true);
    a.xmit(udpEthFrame(A_MAC, B_MAC, 64, 7));
    const outer = ha.sent[0]!;
    const eth = { dst: B_MAC, src: A_MAC, etherType: EtherType.IPv4 };
    outer.eth = eth; // (as the host's neighbour output would have set it)
    hb.rx!(outer);
    expect(outer.eth).toBeNull();
    const sim = new Simulator(1);
    const [d, peer] = VethDevice.pair(sim, 'x0', 0x0200000000c1, 'x1', 0x0200000000c2);
    const sent: Packet[] = [];
    peer.rxHandler = (_d, p) => sent.push(p);
    const pkt = tcpSegment(A_IP, B_IP, 0, 1, 1000, 80, 1, 0, 0x02, 65535, [], 0, null, 0);
    neighSend(d, 0x0200000000c2, pkt);
    expect(sent).toEqual([pkt]);
    expect(pkt.eth).toBe(eth);
    expect(pkt.eth).toEqual({ dst: 0x0200000000c2, src: 0x0200000000c1, etherType: EtherType.IPv4 });
    // Nothing spare: a record of its own.
    const next = tcpSegment(A_IP, B_IP, 0, 1, 1000, 80, 1, 0, 0x02, 65535, [], 0, null, 0);
    neighSend(d, 0x0200000000c2, next);
    expect(next.eth).not.toBe(eth);
    expect(next.eth).toEqual(pkt.eth);
  });

  it('a TCP segment given back gives its record too; a hand-made packet never does', () => {
    while (takeEthernet() !== null);
    const seg = tcpSegment(A_IP, B_IP, 0, 1, 1000, 80, 1, 0, 0x02, 65535, [], 0, null, 0);
    const eth = { dst: B_MAC, src: A_MAC, etherType: EtherType.IPv4 };
    seg.eth = eth;
    releaseSegment(seg);
    expect(seg.eth).toBeNull();
    expect(takeEthernet()).toBe(eth);
    expect(takeSegment()).toBe(seg); // (the spare list is empty again for the tests below)
    const hand = new Packet();
    hand.eth = { dst: B_MAC, src: A_MAC, etherType: EtherType.IPv4 };
    releaseSegment(hand);
    expect(hand.eth).not.toBeNull();
    expect(takeEthernet()).toBeNull();
  });
});

describe('VxlanDevice.recycle', () => {
  it('a received outer packet is renewed for the next encapsulation, equal to a new one', () => {
    const { a, b, ha, hb, got } = pair(true);
    a.xmit(udpEthFrame(A_MAC, B_MAC, 64, 7));
    const outer = ha.sent[0]!;
    const inner = outer.inner;
    hb.rx!(outer);
    expect(got).toEqual([inner]);
    expect(outer.inner).toBeNull(); // (the spare packet does not keep the frame alive)
    b.xmit(udpEthFrame(B_MAC, A_MAC, 100, 9));
    expect(hb.sent[0]).toBe(outer);
    // What a device that does not recycle sends for the same frame, but the uid.
    const ref = pair(false);
    ref.b.xmit(udpEthFrame(B_MAC, A_MAC, 100, 9));
    const want = ref.hb.sent[0]!;
    expect({ ...fields(outer), inner: null }).toEqual({ ...fields(want), inner: null });
    expect(outer.inner!.udp!.srcPort).toBe(9);
  });

  it('is off unless set, and never takes clones, reassembled or hand-made outer packets', () => {
    const off = pair(false);
    off.a.xmit(udpEthFrame(A_MAC, B_MAC));
    off.hb.rx!(off.ha.sent[0]!);
    off.b.xmit(udpEthFrame(B_MAC, A_MAC));
    expect(off.hb.sent[0]).not.toBe(off.ha.sent[0]);

    const on = pair(true);
    on.a.xmit(udpEthFrame(A_MAC, B_MAC));
    const outer = on.ha.sent[0]!;
    const clone = outer.clone(); // a bridge flood's or netem's copy: a plain VXLAN record
    const reassembled = outer.clone();
    reassembled.vxlan = outer.vxlan;
    reassembled.fragList = [1000, 500];
    const handMade = new Packet();
    handMade.ip = outer.ip;
    handMade.udp = outer.udp;
    handMade.vxlan = { flags: 8, reserved1: 0, vni: 1, reserved2: 0 };
    handMade.inner = udpEthFrame(A_MAC, B_MAC);
    for (const p of [clone, reassembled, handMade]) on.hb.rx!(p);
    expect(on.got).toHaveLength(3);
    for (let i = 0; i < 3; i++) on.b.xmit(udpEthFrame(B_MAC, A_MAC));
    for (const p of on.hb.sent) expect([clone, reassembled, handMade, outer]).not.toContain(p);
  });

  it('a scenario writes the same capture and stats with and without recycling', () => {
    const run = (recycle: boolean) => {
      const loaded = loadScenarioFile(join(ROOT, 'scenarios', 'http-clusterip.yaml'));
      const world = buildWorld(loaded, 3);
      const vx = world.devices.filter((d): d is VxlanDevice => d instanceof VxlanDevice);
      expect(vx.length).toBeGreaterThan(0);
      expect(packetRecyclingAllowed(world.sim)).toBe(true); // (buildWorld allows it: no cost model here)
      // Off: the VXLAN devices and every namespace (TCP segments) told not to, before they would ask.
      if (!recycle) {
        for (const d of vx) d.recycle = false;
        for (const ns of world.namespaces.values()) ns.recycle = false;
      }
      const renew = vi.spyOn(Packet.prototype, 'renew');
      const renewTcp = vi.spyOn(Packet.prototype, 'renewKeepingIpTcp'); // (transport/tcp's segments)
      const dir = mkdtempSync(join(tmpdir(), 'podwire-vxlan-recycle-'));
      const res = runWorld(world, { outDir: dir, format: 'pcapng', snaplen: loaded.scenario.spec.capture.snaplen });
      const renewed = renew.mock.calls.length + renewTcp.mock.calls.length;
      renew.mockRestore();
      renewTcp.mockRestore();
      return { capture: readFileSync(res.files.capture), stats: readFileSync(res.files.stats), renewed };
    };
    const off = run(false); // (first: the spare lists are empty still)
    const on = run(true);
    expect(on.renewed).toBeGreaterThan(1000);
    expect(off.renewed).toBe(0);
    expect(on.capture.equals(off.capture)).toBe(true);
    expect(on.stats.equals(off.stats)).toBe(true);
  });

  it('a TCP segment given back is the next segment, equal to a new one (transport/tcp tcpSegment)', () => {
    const opts = [{ kind: 'nop' as const }];
    const args = (seq: number) => [0x0a000001, 0x0a000002, 0, 7, 40000, 80, seq, 5, 0x10, 502, opts, 10, null, 3] as const;
    const first = tcpSegment(...args(100));
    first.ip!.ttl = 61; // (as forwarding and NAT leave it)
    first.ip!.dst = 0x0a000009;
    first.eth = { dst: 1, src: 2, etherType: 0x800 };
    releaseSegment(first);
    const again = tcpSegment(...args(200));
    expect(again).toBe(first);
    const fresh = tcpSegment(...args(200));
    expect(fresh).not.toBe(first);
    expect(fields(again)).toEqual(fields(fresh));
    // Fragments and reassembled datagrams are never taken.
    const frag = tcpSegment(...args(300));
    frag.fragList = [100, 100];
    releaseSegment(frag);
    expect(tcpSegment(...args(300))).not.toBe(frag);
  });

  // Last: a subscription stops recycling for the rest of the process.
  it('stops once any trace had a subscriber (a subscriber may keep the packets it is handed)', () => {
    new TraceSource<[number]>().connect(() => {});
    const { a, b, ha, hb } = pair(true);
    a.xmit(udpEthFrame(A_MAC, B_MAC));
    hb.rx!(ha.sent[0]!);
    b.xmit(udpEthFrame(B_MAC, A_MAC));
    expect(hb.sent[0]).not.toBe(ha.sent[0]);
  });
});
