// net/neighbour + namespace ARP: resolution, held packets, failure, and the STALE → DELAY → PROBE cycle.
//
//   a: eth0 10.0.0.1/24 ═══ veth (10 µs each way) ═══ eth0 10.0.0.2/24 :b
import { describe, expect, it } from 'vitest';
import { Packet } from '../../src/packet/packet.js';
import { UdpLayer } from '../../src/transport/udp.js';
import { formatMac } from '../../src/wire/mac.js';
import { ip, Lab, udpDatagram, udpSink } from './harness.js';

const SEC = 1e9;

function setup(delayNs = 10_000) {
  const lab = new Lab();
  const a = lab.host('a');
  const b = lab.host('b');
  const [ea, eb] = lab.veth(a, 'eth0', '10.0.0.1/24', b, 'eth0', '10.0.0.2/24', delayNs);
  lab.capture(ea);
  // UDP receivers on both sides, so a datagram does not provoke an ICMP protocol unreachable (which
  // would be traffic of its own and move the neighbour states under test).
  const gotA = udpSink(a);
  const gotB = udpSink(b);
  return { lab, sim: lab.sim, a, b, ea, eb, gotA, gotB };
}

describe('ARP resolution', () => {
  it('broadcasts one request, learns the reply, then releases the held packets in order', () => {
    const { lab, sim, a, eb, gotB: got } = setup();
    for (const port of [1, 2, 3]) a.ipLocalOut(udpDatagram('10.0.0.2', port));
    sim.run();
    expect(lab.timed('a/eth0', 'out')).toEqual([
      '0us ARP who-has 10.0.0.2 tell 10.0.0.1',
      '20us 10.0.0.1 > 10.0.0.2 UDP 40000 > 1 ttl 64',
      '20us 10.0.0.1 > 10.0.0.2 UDP 40000 > 2 ttl 64',
      '20us 10.0.0.1 > 10.0.0.2 UDP 40000 > 3 ttl 64',
    ]);
    expect(lab.seen('a/eth0', 'in')).toEqual(['ARP 10.0.0.2 is-at ' + formatMac(eb.mac)]);
    expect(got.map((p) => p.udp!.dstPort)).toEqual([1, 2, 3]);
  });

  it('the request is a broadcast from our MAC, target MAC zero; the reply is unicast to us', () => {
    const { lab, sim, a, ea, eb } = setup();
    a.ipLocalOut(udpDatagram('10.0.0.2'));
    sim.run();
    const req = lab.log.find((s) => s.dir === 'out' && s.pkt.arp)!.pkt;
    expect(req.eth).toMatchObject({ dst: 0xffffffffffff, src: ea.mac, etherType: 0x0806 });
    expect(req.arp).toMatchObject({ op: 1, sha: ea.mac, spa: ip('10.0.0.1'), tha: 0, tpa: ip('10.0.0.2') });
    const rep = lab.log.find((s) => s.dir === 'in' && s.pkt.arp)!.pkt;
    expect(rep.eth).toMatchObject({ dst: ea.mac, src: eb.mac });
    expect(rep.arp).toMatchObject({ op: 2, sha: eb.mac, spa: ip('10.0.0.2'), tha: ea.mac, tpa: ip('10.0.0.1') });
  });

  it('leaves the entry REACHABLE with the peer MAC; the responder learns the requester as STALE', () => {
    const { sim, a, b, ea, eb } = setup();
    a.ipLocalOut(udpDatagram('10.0.0.2'));
    sim.run();
    expect(a.neigh.get(ea, ip('10.0.0.2'))).toMatchObject({ state: 'REACHABLE', mac: eb.mac });
    expect(b.neigh.get(eb, ip('10.0.0.1'))).toMatchObject({ state: 'STALE', mac: ea.mac });
  });

  it('a second packet to a REACHABLE neighbour goes straight out, without ARP', () => {
    const { lab, sim, a } = setup();
    a.ipLocalOut(udpDatagram('10.0.0.2', 1));
    sim.run();
    sim.schedule(SEC, () => a.ipLocalOut(udpDatagram('10.0.0.2', 2)));
    sim.run();
    expect(lab.seen('a/eth0', 'out').filter((l) => l.startsWith('ARP who-has'))).toHaveLength(1);
  });

  it('does not answer a request for an address that is not ours', () => {
    const { lab, sim, a } = setup();
    a.ipLocalOut(udpDatagram('10.0.0.77'));
    sim.run({ until: 500e6 });
    expect(lab.seen('a/eth0', 'in')).toEqual([]);
  });

  it('holds at most unresQlen packets, dropping the oldest as neigh-queue-full', () => {
    const { sim, a, gotB: got } = setup();
    a.neigh.params = { ...a.neigh.params, unresQlen: 2 };
    for (const port of [1, 2, 3, 4]) a.ipLocalOut(udpDatagram('10.0.0.2', port));
    sim.run();
    expect(got.map((p) => p.udp!.dstPort)).toEqual([3, 4]);
    expect(a.drops['neigh-queue-full']).toBe(2);
  });
});

describe('ARP failure', () => {
  it('sends 3 broadcast requests 1 s apart, then fails: ICMP host unreachable to the sender and neigh-failed per held packet', () => {
    const { lab, sim, a, ea } = setup();
    const udp = new UdpLayer(a);
    const sock = udp.socket().connect(ip('10.0.0.99'), 7);
    const errors: string[] = [];
    sock.onError = (k) => errors.push(`${sim.now / SEC}s ${k}`);
    sock.send(10);
    sock.send(10);
    sim.run();
    expect(lab.timed('a/eth0', 'out')).toEqual([
      '0us ARP who-has 10.0.0.99 tell 10.0.0.1',
      '1000000us ARP who-has 10.0.0.99 tell 10.0.0.1',
      '2000000us ARP who-has 10.0.0.99 tell 10.0.0.1',
    ]);
    expect(a.neigh.get(ea, ip('10.0.0.99'))!.state).toBe('FAILED');
    expect(a.drops['neigh-failed']).toBe(2);
    // The host unreachable errors go to the local sender over lo, and reach the connected socket.
    expect(errors).toEqual(['3s unreachable', '3s unreachable']);
  });

  it('the error is ICMP type 3 code 1 from our own address, quoting the held datagram', () => {
    const { sim, a } = setup();
    const errs: { type: number; code: number; src: number; dst: number; quoted: number }[] = [];
    a.registerProtocol(17, {
      receive: () => {},
      error: (p) => errs.push({ type: p.icmp!.type, code: p.icmp!.code, src: p.ip!.src, dst: p.ip!.dst, quoted: p.inner!.udp!.dstPort }),
    });
    a.ipLocalOut(udpDatagram('10.0.0.99', 4242));
    sim.run();
    expect(errs).toEqual([{ type: 3, code: 1, src: ip('10.0.0.1'), dst: ip('10.0.0.1'), quoted: 4242 }]);
  });

  it('a packet sent after the failure starts a new resolution (FAILED → INCOMPLETE)', () => {
    const { lab, sim, a } = setup();
    a.ipLocalOut(udpDatagram('10.0.0.99'));
    sim.run();
    sim.schedule(SEC, () => a.ipLocalOut(udpDatagram('10.0.0.99')));
    sim.run({ until: sim.now + SEC + 1 });
    expect(lab.seen('a/eth0', 'out')).toHaveLength(4);
  });
});

describe('neighbour reconfirmation (STALE → DELAY → PROBE)', () => {
  it('sending to a STALE neighbour uses its MAC at once, enters DELAY, and sends a unicast probe 5 s later', () => {
    const { lab, sim, a, b, ea, eb } = setup();
    lab.capture(eb);
    a.ipLocalOut(udpDatagram('10.0.0.2', 1)); // b learns a as STALE from the request
    sim.run();
    const t0 = sim.now;
    sim.schedule(SEC, () => b.ipLocalOut(udpDatagram('10.0.0.1', 2)));
    sim.run({ until: t0 + SEC });
    expect(b.neigh.get(eb, ip('10.0.0.1'))!.state).toBe('DELAY');
    sim.run();
    const out = lab.log.filter((s) => s.dev === 'b/eth0' && s.dir === 'out');
    const lines = out.map((s) => `${Math.round((s.t - t0) / 1e6)}ms ${s.line}`);
    expect(lines).toEqual([
      '0ms ARP 10.0.0.2 is-at ' + formatMac(eb.mac),
      '1000ms 10.0.0.2 > 10.0.0.1 UDP 40000 > 2 ttl 64',
      '6000ms ARP who-has 10.0.0.1 tell 10.0.0.2',
    ]);
    const probe = out[2]!.pkt;
    expect(probe.eth!.dst, 'the probe is unicast to the known MAC').toBe(ea.mac);
    expect(b.neigh.get(eb, ip('10.0.0.1'))!.state, 'the reply to the probe confirms the entry').toBe('REACHABLE');
  });

  it('a REACHABLE entry becomes STALE after its reachable time (15–45 s) and is re-probed on use', () => {
    const { lab, sim, a, ea } = setup();
    a.ipLocalOut(udpDatagram('10.0.0.2', 1));
    sim.run();
    const e = a.neigh.get(ea, ip('10.0.0.2'))!;
    expect(e.reachableNs).toBeGreaterThanOrEqual(15 * SEC);
    expect(e.reachableNs).toBeLessThan(45 * SEC);
    const sendAt = sim.now + 46 * SEC;
    sim.scheduleAt(sendAt, () => a.ipLocalOut(udpDatagram('10.0.0.2', 2)));
    sim.run();
    const arps = lab.log.filter((s) => s.dev === 'a/eth0' && s.dir === 'out' && s.pkt.arp?.op === 1);
    expect(arps.map((s) => s.line)).toHaveLength(2);
    expect(arps[1]!.t - sendAt, 'probe delay_first_probe_time after the first use of the stale entry').toBe(5 * SEC);
    expect(arps[1]!.pkt.eth!.dst, 'unicast probe').not.toBe(0xffffffffffff);
  });

  it('an unanswered probe sequence (3 unicast probes) ends FAILED', () => {
    const { lab, sim, a, b, ea, eb } = setup();
    a.ipLocalOut(udpDatagram('10.0.0.2', 1));
    sim.run();
    eb.up = false; // b goes away
    const t0 = sim.now;
    sim.schedule(46 * SEC, () => a.ipLocalOut(udpDatagram('10.0.0.2', 2)));
    sim.run();
    const arps = lab.log.filter((s) => s.dev === 'a/eth0' && s.dir === 'out' && s.pkt.arp && s.t > t0);
    expect(arps.map((s) => (s.t - t0) / SEC)).toEqual([51, 52, 53]);
    expect(arps.every((s) => s.pkt.eth!.dst === eb.mac)).toBe(true);
    expect(a.neigh.get(ea, ip('10.0.0.2'))!.state).toBe('FAILED');
    void b;
  });
});

describe('ARP frames for another host (PACKET_OTHERHOST), as a bridge floods them', () => {
  // Linux arp_rcv() (net/ipv4/arp.c): `if (skb->pkt_type == PACKET_OTHERHOST || skb->pkt_type ==
  // PACKET_LOOPBACK) goto consumeskb;` — a unicast ARP frame whose destination MAC is not ours is
  // never processed. A bridge floods unicast frames to unknown MACs, so every host on it sees them.
  const OTHER_MAC = 0x02aaaaaaaaaa;

  function arpFrame(op: 1 | 2, src: number, dst: number, spa: string, tpa: string) {
    const p = new Packet();
    p.eth = { dst, src, etherType: 0x0806 };
    p.arp = { htype: 1, ptype: 0x0800, hlen: 6, plen: 4, op, sha: src, spa: ip(spa), tha: op === 2 ? dst : 0, tpa: ip(tpa) };
    return p;
  }

  it('does not answer an ARP request for its address sent unicast to another MAC', () => {
    const { lab, b, eb } = setup(0);
    lab.capture(eb);
    eb.receive(arpFrame(1, 0x02bbbbbbbbbb, OTHER_MAC, '10.0.0.9', '10.0.0.2'), 42);
    expect(lab.seen('b/eth0', 'out')).toEqual([]);
    expect(b.neigh.get(eb, ip('10.0.0.9'))).toBeUndefined();
  });

  it('does not complete a pending resolution from an ARP reply addressed to another MAC', () => {
    const { lab, sim, b, eb } = setup(0);
    lab.capture(eb);
    b.ipLocalOut(udpDatagram('10.0.0.7')); // b is resolving 10.0.0.7 (INCOMPLETE, one packet held)
    eb.receive(arpFrame(2, 0x02cccccccccc, OTHER_MAC, '10.0.0.7', '10.0.0.5'), 42); // someone else's reply
    expect(b.neigh.get(eb, ip('10.0.0.7'))!.state).toBe('INCOMPLETE');
    expect(lab.seen('b/eth0', 'out').filter((l) => !l.startsWith('ARP'))).toEqual([]);
    sim.run({ until: 1 });
  });
});
