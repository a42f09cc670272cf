// transport/udp: a namespace that never binds a UDP socket keeps the shared empty port table (which
// refuses writes); its first bind gives it its own, and only it.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { NO_ENTRIES } from '../../src/net/no-entries.js';
import { UdpLayer, type UdpSocket } from '../../src/transport/udp.js';
import { FakeNet, ip } from './fake-net.js';

const portsOf = (u: UdpLayer): Map<number, UdpSocket> => (u as unknown as { ports: Map<number, UdpSocket> }).ports;

describe('UdpLayer port table', () => {
  it('is the shared empty table until the first bind, then the layer’s own', () => {
    const sim = new Simulator(1);
    const net = new FakeNet(sim);
    const ua = new UdpLayer(net.addHost('client', '10.0.0.1'));
    const ub = new UdpLayer(net.addHost('server', '10.0.0.2'));
    const uc = new UdpLayer(net.addHost('idle', '10.0.0.3'));
    expect(portsOf(ua)).toBe(NO_ENTRIES);
    expect(portsOf(ub)).toBe(NO_ENTRIES);
    expect(() => portsOf(uc).set(1, ua.socket())).toThrow(/shared empty table/);

    const got: number[] = [];
    const srv = ub.socket().bind(53);
    srv.onMessage = (_d, len) => got.push(len);
    expect(portsOf(ub)).not.toBe(NO_ENTRIES);
    expect(portsOf(ub).get(53)).toBe(srv);
    expect(portsOf(ua)).toBe(NO_ENTRIES);

    // An unbound sender autobinds on its first send: the same first write.
    const c = ua.socket();
    expect(c.sendTo(ip('10.0.0.2'), 53, 12)).toBe(true);
    expect(portsOf(ua).get(c.localPort)).toBe(c);
    sim.run();
    expect(got).toEqual([12]);
    expect(portsOf(uc)).toBe(NO_ENTRIES);
    expect(NO_ENTRIES.size).toBe(0);

    // A datagram to the idle layer finds no socket there (ICMP port unreachable), and writes nothing.
    c.sendTo(ip('10.0.0.3'), 53, 1);
    sim.run();
    expect(uc.counters.NoPorts).toBe(1);
    expect(portsOf(uc)).toBe(NO_ENTRIES);
  });
});
