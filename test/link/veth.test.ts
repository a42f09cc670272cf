// link/veth: what one end sends the other receives (same instant, or after delayNs); frames longer
// than the peer can take are dropped (is_skb_forwardable).
//
//   a (02:..:0a) ════ b (02:..:0b)
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { VethDevice } from '../../src/link/veth.js';
import { recordDrops, recordRx, udpEthFrame } from './frames.js';

const A = 0x02000000000a;
const B = 0x02000000000b;

function setup(mtu = 1500) {
  const sim = new Simulator(1);
  const [a, b] = VethDevice.pair(sim, 'a', A, 'b', B, mtu);
  const rx = recordRx(a, b);
  const drops = recordDrops(a, b);
  return { sim, a, b, rx, drops };
}

describe('VethDevice', () => {
  it('delivers to the peer in the same instant, with no event scheduled', () => {
    const { sim, a, rx } = setup();
    a.xmit(udpEthFrame(A, B));
    expect(rx.map((r) => r.dev)).toEqual(['b']);
    expect(sim.pending).toBe(0);
  });

  it('works in both directions', () => {
    const { a, b, rx } = setup();
    a.xmit(udpEthFrame(A, B, 10, 1));
    b.xmit(udpEthFrame(B, A, 10, 2));
    expect(rx.map((r) => `${r.dev}:${r.tag}`)).toEqual(['b:1', 'a:2']);
  });

  it('with delayNs, the peer receives exactly that much later', () => {
    const { sim, a, b } = setup();
    a.delayNs = 10_000;
    const at: number[] = [];
    b.rxHandler = () => at.push(sim.now);
    sim.schedule(5, () => a.xmit(udpEthFrame(A, B)));
    sim.run();
    expect(at).toEqual([10_005]);
  });

  it('counts tx on the sender and rx on the receiver with the frame length', () => {
    const { a, b } = setup();
    a.xmit(udpEthFrame(A, B, 64)); // 14 + 20 + 8 + 64
    expect(a.stats).toMatchObject({ txPackets: 1, txBytes: 106 });
    expect(b.stats).toMatchObject({ rxPackets: 1, rxBytes: 106 });
  });

  it('taps fire "out" on the sender and "in" on the receiver', () => {
    const { a, b } = setup();
    const t: string[] = [];
    a.tap.connect((d, _p, dir) => t.push(`${d.name} ${dir}`));
    b.tap.connect((d, _p, dir) => t.push(`${d.name} ${dir}`));
    a.xmit(udpEthFrame(A, B));
    expect(t).toEqual(['a out', 'b in']);
  });

  it('delivers a frame of exactly MTU + 14 bytes (a full 1500-byte IP packet)', () => {
    const { a, rx, drops } = setup(1500);
    a.xmit(udpEthFrame(A, B, 1500 - 28));
    expect(rx).toHaveLength(1);
    expect(rx[0]!.len).toBe(1514);
    expect(drops).toEqual([]);
  });

  it('drops a frame longer than the peer MTU allows with reason mtu-exceeded, counted on the peer', () => {
    const { a, b, rx, drops } = setup(1500);
    a.mtu = 9000; // sender allows it, receiver does not
    a.xmit(udpEthFrame(A, B, 2000));
    expect(rx).toEqual([]);
    expect(drops).toEqual(['b: mtu-exceeded']);
    expect(b.stats.drops).toBe(1);
  });

  // Linux is_skb_forwardable() (net/core/dev.c) allows dev->mtu + hard_header_len + VLAN_HLEN, i.e.
  // 1500 + 14 + 4 = 1518 bytes, so an untagged frame of 1515..1518 bytes still crosses a veth.
  it('delivers an untagged frame of MTU + 18 bytes, as is_skb_forwardable allows (VLAN_HLEN slack)', () => {
    const { a, rx, drops } = setup(1500);
    a.mtu = 9000;
    a.xmit(udpEthFrame(A, B, 1500 - 28 + 4)); // 1518-byte frame
    expect(drops).toEqual([]);
    expect(rx.map((r) => r.len)).toEqual([1518]);
  });

  it('drops a frame of MTU + 19 bytes as mtu-exceeded', () => {
    const { a, rx, drops } = setup(1500);
    a.mtu = 9000;
    a.xmit(udpEthFrame(A, B, 1500 - 28 + 5)); // 1519-byte frame
    expect(rx).toEqual([]);
    expect(drops).toEqual(['b: mtu-exceeded']);
  });

  it("follows the peer's MTU set after pairing, on each end", () => {
    const { a, b, rx, drops } = setup(1500);
    a.mtu = 9000;
    b.mtu = 600;
    a.xmit(udpEthFrame(A, B, 600 - 28 + 4, 1)); // 618 bytes: delivered
    a.xmit(udpEthFrame(A, B, 600 - 28 + 5, 2)); // 619: over
    b.xmit(udpEthFrame(B, A, 2000, 3)); // within a's 9000
    b.mtu = 9000;
    a.xmit(udpEthFrame(A, B, 2000, 4));
    expect(rx.map((r) => `${r.dev}:${r.tag}`)).toEqual(['b:1', 'a:3', 'b:4']);
    expect(drops).toEqual(['b: mtu-exceeded']);
  });

  it('up and carrier are independent (one field): each drop names the one that fails, link-down first', () => {
    const { a, b, rx, drops } = setup();
    a.carrier = false;
    expect([a.up, a.carrier]).toEqual([true, false]);
    a.xmit(udpEthFrame(A, B)); // no-carrier
    a.up = false;
    a.xmit(udpEthFrame(A, B)); // link-down (both fail)
    a.carrier = true;
    expect([a.up, a.carrier]).toEqual([false, true]);
    a.receive(udpEthFrame(B, A), 60); // down, carrier back: link-down at the receiver
    a.up = true;
    b.carrier = false;
    b.receive(udpEthFrame(A, B), 60); // no-carrier at the receiver
    expect([a.up, a.carrier, b.up, b.carrier]).toEqual([true, true, true, false]);
    a.xmit(udpEthFrame(A, B, 10, 5)); // a sends; b, without carrier, drops it at receive
    b.carrier = true;
    a.xmit(udpEthFrame(A, B, 10, 6));
    expect(rx.map((r) => `${r.dev}:${r.tag}`)).toEqual(['b:6']);
    expect(drops).toEqual(['a: no-carrier', 'a: link-down', 'a: link-down', 'b: no-carrier', 'b: no-carrier']);
  });

  it('a down sender drops with link-down; a down peer makes the sender drop with no-carrier', () => {
    const { a, b, rx, drops } = setup();
    a.up = false;
    a.xmit(udpEthFrame(A, B));
    a.up = true;
    b.up = false;
    a.xmit(udpEthFrame(A, B));
    expect(rx).toEqual([]);
    expect(drops).toEqual(['a: link-down', 'a: no-carrier']);
  });

  it('a peer that goes down while a delayed frame is in flight drops it', () => {
    const { sim, a, b, rx, drops } = setup();
    a.delayNs = 100;
    a.xmit(udpEthFrame(A, B));
    sim.schedule(50, () => (b.up = false));
    sim.run();
    expect(rx).toEqual([]);
    expect(drops).toEqual(['b: no-carrier']);
  });
});
