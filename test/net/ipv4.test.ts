// net/namespace IPv4 datapath: forwarding, TTL, ICMP errors and their rate limit, echo replies.
//
//   a: eth0 10.0.1.1/24 ══ veth ══ r: eth0 10.0.1.254/24   r: eth1 10.0.2.254/24 ══ veth ══ b: eth0 10.0.2.1/24
//      default via 10.0.1.254                (ip_forward=1)                            default via 10.0.2.254
import { describe, expect, it } from 'vitest';
import { Packet } from '../../src/packet/packet.js';
import { IcmpType, IP_DF, IpProto } from '../../src/wire/types.js';
import { ip, Lab, udpDatagram, udpSink } from './harness.js';

const SEC = 1e9;

function setup(forwarding = true) {
  const lab = new Lab();
  const a = lab.host('a');
  const r = lab.host('r', forwarding);
  const b = lab.host('b');
  const [ea, ra] = lab.veth(a, 'eth0', '10.0.1.1/24', r, 'eth0', '10.0.1.254/24');
  const [rb, eb] = lab.veth(r, 'eth1', '10.0.2.254/24', b, 'eth0', '10.0.2.1/24');
  a.addRoute({ dst: 0, prefix: 0, gateway: ip('10.0.1.254'), dev: ea });
  b.addRoute({ dst: 0, prefix: 0, gateway: ip('10.0.2.254'), dev: eb });
  lab.capture(ea, eb);
  const atA = udpSink(a);
  const atB = udpSink(b);
  /** IP-level lines (no ARP) seen arriving at a / at b. */
  const inA = () => lab.seen('a/eth0', 'in').filter((l) => !l.startsWith('ARP'));
  const inB = () => lab.seen('b/eth0', 'in').filter((l) => !l.startsWith('ARP'));
  return { lab, sim: lab.sim, a, r, b, ea, ra, rb, eb, atA, atB, inA, inB };
}

/** The ICMP packets that arrived at a/eth0. */
function icmpAt(lab: Lab, dev = 'a/eth0'): Packet[] {
  return lab.log.filter((s) => s.dev === dev && s.dir === 'in' && s.pkt.icmp).map((s) => s.pkt);
}

describe('forwarding and TTL', () => {
  it('a router forwards between its subnets and decrements TTL by one', () => {
    const { sim, a, inB, atB } = setup();
    a.ipLocalOut(udpDatagram('10.0.2.1', 9, { ttl: 5 }));
    sim.run();
    expect(inB()).toEqual(['10.0.1.1 > 10.0.2.1 UDP 40000 > 9 ttl 4']);
    expect(atB).toHaveLength(1);
  });

  it('the forwarded frame is re-addressed: source MAC of the router\'s egress port, destination MAC of b', () => {
    const { lab, sim, a, rb, eb } = setup();
    a.ipLocalOut(udpDatagram('10.0.2.1'));
    sim.run();
    const f = lab.log.find((s) => s.dev === 'b/eth0' && s.dir === 'in' && s.pkt.udp)!.pkt;
    expect(f.eth).toMatchObject({ src: rb.mac, dst: eb.mac });
  });

  it('TTL 1 at the router: ICMP time exceeded back from the router (TOS 0xc0, no DF, TTL 64), original not forwarded', () => {
    const { lab, sim, a, r, inA, inB } = setup();
    a.ipLocalOut(udpDatagram('10.0.2.1', 9, { ttl: 1 }));
    sim.run();
    expect(inB()).toEqual([]);
    expect(inA()).toEqual(['10.0.1.254 > 10.0.1.1 ICMP time exceeded [10.0.1.1 > 10.0.2.1 UDP 40000 > 9 ttl 1] ttl 64']);
    const err = icmpAt(lab)[0]!;
    expect(err.ip).toMatchObject({ tos: 0xc0, flags: 0, ttl: 64, protocol: IpProto.ICMP });
    expect(err.icmp).toMatchObject({ type: IcmpType.TIME_EXCEEDED, code: 0, rest: 0 });
    expect(r.drops['ttl-expired']).toBe(1);
  });

  it('TTL 2 crosses one router and arrives with TTL 1 (only TTL <= 1 expires at a router)', () => {
    const { sim, a, inB } = setup();
    a.ipLocalOut(udpDatagram('10.0.2.1', 9, { ttl: 2 }));
    sim.run();
    expect(inB()).toEqual(['10.0.1.1 > 10.0.2.1 UDP 40000 > 9 ttl 1']);
  });

  it('the time-exceeded TOS keeps the original TOS bits under IPTOS_PREC_INTERNETCONTROL (0x10 → 0xd0)', () => {
    const { lab, sim, a } = setup();
    a.ipLocalOut(udpDatagram('10.0.2.1', 9, { ttl: 1, tos: 0x10 }));
    sim.run();
    expect(icmpAt(lab)[0]!.ip!.tos).toBe(0xd0);
  });

  it('TTL 1 delivered locally (to the router itself) is accepted, not expired', () => {
    const { sim, a, r } = setup();
    const atR = udpSink(r);
    a.ipLocalOut(udpDatagram('10.0.1.254', 9, { ttl: 1 }));
    sim.run();
    expect(atR).toHaveLength(1);
    expect(r.drops['ttl-expired']).toBeUndefined();
  });

  it('with ip_forward=0 the router drops transit packets as forwarding-disabled, and sends no ICMP', () => {
    const { sim, a, r, inA, inB } = setup(false);
    a.ipLocalOut(udpDatagram('10.0.2.1'));
    sim.run();
    expect(inB()).toEqual([]);
    expect(inA()).toEqual([]);
    expect(r.drops['forwarding-disabled']).toBe(1);
  });

  it('ip_forward=0 still delivers packets addressed to the router itself', () => {
    const { sim, a, r } = setup(false);
    const atR = udpSink(r);
    a.ipLocalOut(udpDatagram('10.0.2.254'));
    sim.run();
    expect(atR).toHaveLength(1);
  });

  it('no route at the router: ICMP net unreachable (type 3 code 0) back to the sender, counted as no-route', () => {
    const { lab, sim, a, r, inA } = setup();
    a.ipLocalOut(udpDatagram('192.0.2.7'));
    sim.run();
    expect(inA()).toEqual(['10.0.1.254 > 10.0.1.1 ICMP net unreachable [10.0.1.1 > 192.0.2.7 UDP 40000 > 9 ttl 64] ttl 64']);
    expect(icmpAt(lab)[0]!.ip!.tos).toBe(0xc0);
    expect(r.drops['no-route']).toBe(1);
  });

  it('no route at the sender: ipLocalOut returns false and nothing is sent', () => {
    const lab = new Lab();
    const h = lab.host('h');
    const [e] = lab.veth(h, 'eth0', '10.0.0.1/24', lab.host('x'), 'eth0', null);
    lab.capture(e);
    expect(h.ipLocalOut(udpDatagram('192.0.2.7'))).toBe(false);
    lab.sim.run();
    expect(lab.log).toEqual([]);
    expect(h.drops['no-route']).toBe(1);
  });

  it('a UDP datagram to a closed port gets ICMP port unreachable from the destination', () => {
    const { lab, sim, a, b, inA } = setup();
    b.registerProtocol(IpProto.UDP, { receive: (p) => b.icmpSend(p, IcmpType.DEST_UNREACH, 3, 0), error: () => {} });
    a.ipLocalOut(udpDatagram('10.0.2.1', 9999));
    sim.run();
    expect(inA()).toEqual(['10.0.2.1 > 10.0.1.1 ICMP port unreachable [10.0.1.1 > 10.0.2.1 UDP 40000 > 9999 ttl 63] ttl 63']);
    expect(icmpAt(lab)[0]!.ip!.tos, 'errors leave with TOS 0xc0').toBe(0xc0);
  });

  it('a frame for another MAC (PACKET_OTHERHOST) is dropped by IP as otherhost', () => {
    const { sim, r, ra, b } = setup();
    const p = udpDatagram('10.0.1.254');
    p.ip!.src = ip('10.0.1.1');
    p.eth = { dst: 0x02aaaaaaaaaa, src: 0x020000000099, etherType: 0x0800 };
    ra.receive(p, 74);
    sim.run();
    expect(r.drops['otherhost']).toBe(1);
    void b;
  });
});

describe('TTL across a bridge', () => {
  //   c1: eth0 10.0.0.1/24 ══ veth ══ p1 ┐
  //                                      ├─ br0 10.0.0.254/24 (host h, ip_forward=1)
  //   c2: eth0 10.0.0.2/24 ══ veth ══ p2 ┘
  it('a bridge forwards without touching TTL (it is not a router)', () => {
    const lab = new Lab();
    const h = lab.host('h', true);
    const c1 = lab.host('c1');
    const c2 = lab.host('c2');
    const [e1, p1] = lab.veth(c1, 'eth0', '10.0.0.1/24', h, 'p1', null);
    const [e2, p2] = lab.veth(c2, 'eth0', '10.0.0.2/24', h, 'p2', null);
    lab.bridge(h, 'br0', '10.0.0.254/24', [p1, p2]);
    lab.capture(e2);
    const got = udpSink(c2);
    c1.ipLocalOut(udpDatagram('10.0.0.2', 9, { ttl: 7 }));
    lab.sim.run();
    expect(lab.seen('c2/eth0', 'in').filter((l) => !l.startsWith('ARP'))).toEqual(['10.0.0.1 > 10.0.0.2 UDP 40000 > 9 ttl 7']);
    expect(got).toHaveLength(1);
    expect(h.drops['ttl-expired']).toBeUndefined();
    void e1;
  });

  it('a TTL 1 packet is bridged, not expired', () => {
    const lab = new Lab();
    const h = lab.host('h', true);
    const c1 = lab.host('c1');
    const c2 = lab.host('c2');
    const [, p1] = lab.veth(c1, 'eth0', '10.0.0.1/24', h, 'p1', null);
    const [, p2] = lab.veth(c2, 'eth0', '10.0.0.2/24', h, 'p2', null);
    lab.bridge(h, 'br0', '10.0.0.254/24', [p1, p2]);
    const got = udpSink(c2);
    c1.ipLocalOut(udpDatagram('10.0.0.2', 9, { ttl: 1 }));
    lab.sim.run();
    expect(got.map((p) => p.ip!.ttl)).toEqual([1]);
  });
});

describe('ICMP error rate limit (icmp_ratelimit 1 s, burst 6, per destination)', () => {
  it('10 expiring packets at once: 6 errors, 4 suppressed and counted as icmp-ratelimit', () => {
    const { lab, sim, a, r } = setup();
    for (let i = 0; i < 10; i++) a.ipLocalOut(udpDatagram('10.0.2.1', 100 + i, { ttl: 1 }));
    sim.run();
    expect(icmpAt(lab).map((p) => p.inner!.udp!.dstPort)).toEqual([100, 101, 102, 103, 104, 105]);
    expect(r.drops['icmp-ratelimit']).toBe(4);
    expect(r.drops['ttl-expired']).toBe(10);
  });

  it('after the burst, one more error per second', () => {
    const { lab, sim, a } = setup();
    const send = (at: number, n: number) => sim.scheduleAt(at, () => { for (let i = 0; i < n; i++) a.ipLocalOut(udpDatagram('10.0.2.1', 9, { ttl: 1 })); });
    send(0, 6); // the burst
    send(0.5 * SEC, 3); // 0.5 s of tokens: nothing
    send(1 * SEC, 3); // 1 s since the burst: one
    send(3 * SEC, 5); // 2 s more: two
    sim.run();
    const perSecond = icmpAt(lab).map((p) => Math.floor(lab.log.find((s) => s.pkt === p)!.t / 1e8) / 10);
    expect(perSecond).toEqual([0, 0, 0, 0, 0, 0, 1, 3, 3]);
  });

  it('keeps one bucket per destination: a second sender gets its own burst', () => {
    const { lab, sim, a, ea } = setup();
    a.addAddress(ea, ip('10.0.1.2'), 24);
    for (let i = 0; i < 8; i++) a.ipLocalOut(udpDatagram('10.0.2.1', 9, { ttl: 1, src: '10.0.1.1' }));
    for (let i = 0; i < 8; i++) a.ipLocalOut(udpDatagram('10.0.2.1', 9, { ttl: 1, src: '10.0.1.2' }));
    sim.run();
    const byDst = icmpAt(lab).reduce<Record<string, number>>((m, p) => {
      const k = p.ip!.dst === ip('10.0.1.1') ? '10.0.1.1' : '10.0.1.2';
      m[k] = (m[k] ?? 0) + 1;
      return m;
    }, {});
    expect(byDst).toEqual({ '10.0.1.1': 6, '10.0.1.2': 6 });
  });

  it('never sends an ICMP error about an ICMP error', () => {
    const { lab, sim, a, r } = setup();
    // An expiring time-exceeded message (as if relayed): the router must not answer it.
    const p = new Packet();
    p.ip = { tos: 0, totalLength: 0, id: 0, flags: 0, fragOffset: 0, ttl: 1, protocol: IpProto.ICMP, checksum: null, src: 0, dst: ip('10.0.2.1'), options: null };
    p.icmp = { type: IcmpType.TIME_EXCEEDED, code: 0, checksum: null, rest: 0 };
    p.inner = udpDatagram('10.9.9.9');
    p.inner.ip!.src = ip('10.0.2.1');
    a.ipLocalOut(p);
    sim.run();
    expect(icmpAt(lab)).toEqual([]);
    expect(r.drops['ttl-expired']).toBe(1);
  });
});

describe('ICMP echo', () => {
  it('the kernel answers an echo request: same id/seq/data, TOS copied, no DF, TTL 64, source = the address pinged', () => {
    const { lab, sim, a, inA } = setup();
    const replies: Packet[] = [];
    a.openPing(0x1234, { reply: (p) => replies.push(p), error: () => {} });
    const req = new Packet();
    req.ip = { tos: 0x28, totalLength: 0, id: 77, flags: IP_DF, fragOffset: 0, ttl: 64, protocol: IpProto.ICMP, checksum: null, src: 0, dst: ip('10.0.2.1'), options: null };
    req.icmp = { type: IcmpType.ECHO_REQUEST, code: 0, checksum: null, rest: (0x1234 << 16) | 5 };
    req.payloadLength = 56;
    a.ipLocalOut(req);
    sim.run();
    expect(inA()).toEqual(['10.0.2.1 > 10.0.1.1 ICMP echo reply ttl 63']);
    expect(replies).toHaveLength(1);
    const rep = replies[0]!;
    expect(rep.ip).toMatchObject({ tos: 0x28, flags: 0, src: ip('10.0.2.1'), dst: ip('10.0.1.1') });
    expect(rep.icmp).toMatchObject({ type: IcmpType.ECHO_REPLY, code: 0, rest: (0x1234 << 16) | 5 });
    expect(rep.payloadLength).toBe(56);
    expect(rep.ip!.totalLength).toBe(84);
    void lab;
  });

  it('an echo reply with no ping socket for its identifier is dropped as no-socket', () => {
    const { sim, a } = setup();
    const req = new Packet();
    req.ip = { tos: 0, totalLength: 0, id: 1, flags: 0, fragOffset: 0, ttl: 64, protocol: IpProto.ICMP, checksum: null, src: 0, dst: ip('10.0.2.1'), options: null };
    req.icmp = { type: IcmpType.ECHO_REQUEST, code: 0, checksum: null, rest: (0x4444 << 16) | 1 };
    a.ipLocalOut(req);
    sim.run();
    expect(a.drops['no-socket']).toBe(1);
  });
});

describe('special route types at a router (ip-route(8): blackhole, unreachable, prohibit)', () => {
  // ip-route(8): "blackhole — these destinations are unreachable. Packets are discarded silently.
  // unreachable — … the ICMP message host unreachable is generated. prohibit — … the ICMP message
  // communication administratively prohibited is generated." Linux ip_error() maps the route's
  // error: RTN_BLACKHOLE -EINVAL (no ICMP), RTN_UNREACHABLE -EHOSTUNREACH (ICMP_HOST_UNREACH),
  // RTN_PROHIBIT -EACCES (ICMP_PKT_FILTERED, code 13).
  function withRoute(type: 'blackhole' | 'unreachable' | 'prohibit') {
    const s = setup();
    s.r.addRoute({ dst: ip('192.0.2.0'), prefix: 24, dev: s.rb, type });
    s.a.ipLocalOut(udpDatagram('192.0.2.7'));
    s.sim.run();
    return s;
  }

  it('a route of type unicast for the same prefix forwards (control)', () => {
    const s = setup();
    s.r.addRoute({ dst: ip('192.0.2.0'), prefix: 24, dev: s.rb, gateway: ip('10.0.2.1') });
    s.a.ipLocalOut(udpDatagram('192.0.2.7'));
    s.sim.run();
    expect(s.inB()).toEqual(['10.0.1.1 > 192.0.2.7 UDP 40000 > 9 ttl 63']);
  });

  it('blackhole: the packet is discarded silently (no ICMP)', () => {
    const { inA, inB, r } = withRoute('blackhole');
    expect(inB()).toEqual([]);
    expect(inA()).toEqual([]);
    expect(Object.values(r.drops).reduce((x, y) => x + (y ?? 0), 0)).toBe(1);
  });

  it('unreachable: ICMP host unreachable (type 3 code 1)', () => {
    const { inA } = withRoute('unreachable');
    expect(inA()).toEqual(['10.0.1.254 > 10.0.1.1 ICMP host unreachable [10.0.1.1 > 192.0.2.7 UDP 40000 > 9 ttl 64] ttl 64']);
  });

  it('prohibit: ICMP communication administratively prohibited (type 3 code 13)', () => {
    const { lab, inA } = withRoute('prohibit');
    expect(inA()).toHaveLength(1);
    expect(icmpAt(lab)[0]!.icmp).toMatchObject({ type: 3, code: 13 });
  });
});
