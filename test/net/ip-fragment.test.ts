// Fragmentation, reassembly and PMTU at the podwire level (the kernel comparison is
// test/fidelity/kernel-fragment.test.ts): fragment geometry, the 30 s reassembly timeout with ICMP
// time exceeded (fragment reassembly), overlap, frag_list reuse, the PMTU exception's lifetime.
//
//   a: eth0 10.0.1.1/24 ══ veth ══ r: eth0 10.0.1.254/24 (ip_forward=1) eth1 10.0.2.254/24 ══ veth ══ b: eth0 10.0.2.1/24
import { describe, expect, it } from 'vitest';
import { ipDefrag, DefragUser, IPFRAG_TIME_NS } from '../../src/net/ip-defrag.js';
import { ipDoFragment } from '../../src/net/ip-fragment.js';
import { formatPmtuCache, IP_RT_MTU_EXPIRES_NS } from '../../src/net/ip-output.js';
import { parseFrame } from '../../src/packet/parse.js';
import { serializeFrame, serializeIp } from '../../src/packet/serialize.js';
import { IcmpType, IP_DF, IP_MF } from '../../src/wire/types.js';
import { ip, Lab, udpDatagram, udpSink } from './harness.js';

function setup() {
  const lab = new Lab();
  const a = lab.host('a');
  const r = lab.host('r', true);
  const b = lab.host('b');
  const [ea] = lab.veth(a, 'eth0', '10.0.1.1/24', r, 'eth0', '10.0.1.254/24');
  const [rb, eb] = lab.veth(r, 'eth1', '10.0.2.254/24', b, 'eth0', '10.0.2.1/24');
  a.addRoute({ dst: 0, prefix: 0, gateway: ip('10.0.1.254'), dev: ea });
  b.addRoute({ dst: 0, prefix: 0, gateway: ip('10.0.2.254'), dev: eb });
  return { lab, sim: lab.sim, a, r, b, ea, rb, eb };
}

describe('ip_do_fragment', () => {
  it('cuts (mtu − 20) & ~7 bytes per fragment, same ID, MF on all but the last; the bytes join back to the datagram', () => {
    const d = udpDatagram('10.0.2.1', 9, { size: 3000, src: '10.0.1.1' });
    d.ip!.id = 0x1234;
    d.payload = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
    const frags = ipDoFragment(d, 1500);
    expect(frags.map((f) => [f.ip!.totalLength, f.ip!.fragOffset, f.ip!.flags & IP_MF, f.ip!.id])).toEqual([
      [1500, 0, 1, 0x1234],
      [1500, 185, 1, 0x1234],
      [68, 370, 0, 0x1234],
    ]);
    const whole = serializeIp(d);
    const joined = new Uint8Array(whole.length);
    joined.set(whole.subarray(0, 20));
    for (const f of frags) {
      const b = serializeIp(f);
      joined.set(b.subarray(20), 20 + f.ip!.fragOffset * 8);
    }
    expect(joined.subarray(20)).toEqual(whole.subarray(20));
  });

  it('a fragment cut again keeps pointing into its datagram (offsets add, MF stays on the last piece)', () => {
    const d = udpDatagram('10.0.2.1', 9, { size: 3000 });
    const [first] = ipDoFragment(d, 1500);
    const again = ipDoFragment(first!, 1400);
    expect(again.map((f) => [f.ip!.totalLength, f.ip!.fragOffset, f.ip!.flags & IP_MF])).toEqual([
      [1396, 0, 1],
      [124, 172, 1],
    ]);
    expect(again[1]!.fragOf).toBe(d);
  });

  it('a first fragment parses as raw payload (its UDP header does not cover the frame)', () => {
    const d = udpDatagram('10.0.2.1', 9, { size: 3000, src: '10.0.1.1' });
    const f = ipDoFragment(d, 1500)[0]!;
    f.eth = { dst: 2, src: 4, etherType: 0x0800 };
    const p = parseFrame(serializeFrame(f));
    expect([p.udp, p.payloadLength, p.ip!.flags & IP_MF]).toEqual([null, 1480, IP_MF]);
  });
});

describe('ip_defrag', () => {
  it('reassembles in any order into the datagram, with its sizes kept for output (frag_list)', () => {
    const { r } = setup();
    const d = udpDatagram('10.0.2.1', 9, { size: 3000, src: '10.0.1.1' });
    d.ip!.id = 7;
    const [f1, f2, f3] = ipDoFragment(d, 1500);
    expect(ipDefrag(r, f3!, DefragUser.LOCAL_DELIVER)).toBe(false);
    expect(ipDefrag(r, f1!, DefragUser.LOCAL_DELIVER)).toBe(false);
    expect(ipDefrag(r, f2!, DefragUser.LOCAL_DELIVER)).toBe(true);
    expect([f2!.ip!.totalLength, f2!.ip!.flags, f2!.udp!.dstPort, f2!.payloadLength, f2!.fragList]).toEqual([3028, 0, 9, 3000, [1480, 1480, 48]]);
    expect(r.ipq.size).toBe(0);
  });

  it('30 s after the first fragment the queue expires: ICMP time exceeded code 1 to the sender, fragments dropped', () => {
    const { sim, a, b } = setup();
    udpSink(b);
    const errors: string[] = [];
    a.registerProtocol(17, { receive: () => {}, error: (e) => errors.push(`${e.icmp!.type}/${e.icmp!.code} @${sim.now / 1e9}s`) });
    // Lose the last fragment on b's link.
    const eb = b.device('eth0')!;
    const rx = eb.receive.bind(eb);
    eb.receive = (p, len) => {
      if (p.ip?.fragOffset !== 370) rx(p, len);
    };
    const t0 = sim.now;
    a.ipLocalOut(udpDatagram('10.0.2.1', 9, { size: 3000 }));
    sim.run();
    expect(errors).toEqual([`${IcmpType.TIME_EXCEEDED}/1 @${(t0 + IPFRAG_TIME_NS) / 1e9}s`]);
    expect(b.drops['frag-timeout']).toBe(2);
  });

  it('an overlapping fragment kills the queue; an exact duplicate is dropped alone', () => {
    const { r } = setup();
    const d = udpDatagram('10.0.2.1', 9, { size: 3000, src: '10.0.1.1' });
    const [f1, f2] = ipDoFragment(d, 1500);
    ipDefrag(r, f1!, DefragUser.LOCAL_DELIVER);
    expect(ipDefrag(r, f1!.clone(), DefragUser.LOCAL_DELIVER)).toBe(false);
    expect(r.drops['frag-overlap']).toBe(1);
    const odd = f2!.clone();
    odd.ip!.fragOffset = 100;
    expect(ipDefrag(r, odd, DefragUser.LOCAL_DELIVER)).toBe(false);
    expect([r.drops['frag-overlap'], r.ipq.size]).toEqual([3, 0]);
  });
});

describe('path MTU', () => {
  it('a DF datagram too big for the next hop: frag-needed; the exception lives 10 min', () => {
    const { sim, a, rb, eb } = setup();
    rb.mtu = eb.mtu = 1400;
    a.registerProtocol(17, { receive: () => {}, error: (e) => a.updatePmtu(e.inner!.ip!.dst, e.icmp!.rest & 0xffff) });
    a.ipLocalOut(udpDatagram('10.0.2.1', 9, { size: 1472, flags: IP_DF }));
    sim.run();
    expect(a.mtuFor(ip('10.0.2.1'))).toBe(1400);
    expect(formatPmtuCache(a, ip('10.0.2.1'))).toMatch(/^cache expires 5\d\dsec mtu 1400$/);
    sim.schedule(IP_RT_MTU_EXPIRES_NS, () => {});
    sim.run();
    expect(a.mtuFor(ip('10.0.2.1'))).toBe(1500);
    expect(formatPmtuCache(a, ip('10.0.2.1'))).toBeNull();
  });

  it('never below min_pmtu 552', () => {
    const { a } = setup();
    a.updatePmtu(ip('10.0.2.1'), 300);
    expect(a.mtuFor(ip('10.0.2.1'))).toBe(552);
  });
});
