// UDP sockets over the fake two-host network:
//   client 10.0.0.1 ──(50 µs, 1 Gbps)── server 10.0.0.2
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { EPHEMERAL_HIGH, EPHEMERAL_LOW } from '../../src/transport/api.js';
import { UdpLayer } from '../../src/transport/udp.js';
import { IcmpType, IcmpUnreachCode, IP_DF, IpProto } from '../../src/wire/types.js';
import { FakeNet, ip } from './fake-net.js';

function setup(seed = 1) {
  const sim = new Simulator(seed);
  const net = new FakeNet(sim);
  const a = net.addHost('client', '10.0.0.1');
  const b = net.addHost('server', '10.0.0.2');
  const ua = new UdpLayer(a);
  const ub = new UdpLayer(b);
  return { sim, net, a, b, ua, ub };
}

describe('UdpLayer', () => {
  it('delivers a datagram with Linux header fields and an ephemeral source port', () => {
    const { sim, net, ua, ub } = setup();
    const got: { data: Uint8Array | null; len: number; src: number; sport: number }[] = [];
    const srv = ub.socket().bind(7);
    srv.onMessage = (data, len, src, sport) => got.push({ data, len, src, sport });
    const c = ua.socket();
    expect(c.sendTo(ip('10.0.0.2'), 7, new Uint8Array([1, 2, 3]))).toBe(true);
    sim.run();
    expect(got).toHaveLength(1);
    expect(got[0]!.len).toBe(3);
    expect([...got[0]!.data!]).toEqual([1, 2, 3]);
    expect(got[0]!.src).toBe(ip('10.0.0.1'));
    expect(got[0]!.sport).toBe(c.localPort);
    expect(c.localPort).toBeGreaterThanOrEqual(EPHEMERAL_LOW);
    expect(c.localPort).toBeLessThanOrEqual(EPHEMERAL_HIGH);
    const p = net.log[0]!.pkt;
    expect(p.ip).toMatchObject({ ttl: 64, tos: 0, protocol: IpProto.UDP, flags: IP_DF, totalLength: 31 });
    expect(p.udp).toEqual({ srcPort: c.localPort, dstPort: 7, length: 11, checksum: null });
    expect(p.payloadLength).toBe(3);
  });

  it('clears DF on a datagram larger than the route MTU (it must be fragmented)', () => {
    const { net, ua } = setup();
    ua.socket().sendTo(ip('10.0.0.2'), 9, 1472);
    ua.socket().sendTo(ip('10.0.0.2'), 9, 1473);
    expect(net.log[0]!.pkt.ip!.flags).toBe(IP_DF);
    expect(net.log[1]!.pkt.ip!.flags).toBe(0);
    expect(net.log[0]!.pkt.payload).toBeNull();
  });

  it('draws ephemeral ports from the seeded stream: same seed, same ports; different seed, different ports', () => {
    const ports = (seed: number) => {
      const { ua } = setup(seed);
      return [0, 1, 2].map(() => ua.socket().bind().localPort);
    };
    expect(ports(5)).toEqual(ports(5));
    expect(ports(5)).not.toEqual(ports(6));
    expect(new Set(ports(5)).size).toBe(3);
  });

  it('refuses a second bind to the same port', () => {
    const { ub } = setup();
    ub.socket().bind(53);
    expect(() => ub.socket().bind(53)).toThrow(/EADDRINUSE/);
  });

  it('answers an unbound port with ICMP port unreachable, surfaced as refused on a connected socket', () => {
    const { sim, net, ua, ub } = setup();
    const c = ua.socket().connect(ip('10.0.0.2'), 9999);
    const errors: string[] = [];
    c.onError = (k) => errors.push(k);
    c.send(10);
    sim.run();
    expect(ub.counters.NoPorts).toBe(1);
    expect(net.icmpSent).toBe(1);
    const icmp = net.log.find((r) => r.pkt.icmp)!.pkt;
    expect(icmp.icmp).toMatchObject({ type: IcmpType.DEST_UNREACH, code: IcmpUnreachCode.PORT });
    expect(errors).toEqual(['refused']);
  });

  it('does not report ICMP errors to an unconnected socket (no IP_RECVERR)', () => {
    const { sim, net, ua } = setup();
    const c = ua.socket();
    const errors: string[] = [];
    c.onError = (k) => errors.push(k);
    c.sendTo(ip('10.0.0.2'), 9999, 10);
    sim.run();
    expect(net.icmpSent).toBe(1);
    expect(errors).toEqual([]);
  });

  it('a connected socket only accepts datagrams from its peer', () => {
    const { sim, net, ua, ub } = setup();
    const third = net.addHost('third', '10.0.0.3');
    const u3 = new UdpLayer(third);
    const srv = ub.socket().bind(5000).connect(ip('10.0.0.1'), 6000);
    const from: number[] = [];
    srv.onMessage = (_d, _l, src) => from.push(src);
    ua.socket().bind(6000).sendTo(ip('10.0.0.2'), 5000, 1);
    u3.socket().bind(6000).sendTo(ip('10.0.0.2'), 5000, 1);
    sim.run();
    expect(from).toEqual([ip('10.0.0.1')]);
    expect(ub.counters.NoPorts).toBe(1);
  });

  it('returns false and counts when there is no route', () => {
    const { ua } = setup();
    const s = ua.socket();
    expect(s.sendTo(ip('192.168.9.9'), 53, 10)).toBe(false);
    expect(ua.counters.OutNoRoutes).toBe(1);
  });

  it('releases the port on close', () => {
    const { ub } = setup();
    const s = ub.socket().bind(53);
    s.close();
    expect(() => ub.socket().bind(53)).not.toThrow();
  });
});
