// A UDP datagram is routed once (ip_route_output's rtable is what ip_make_skb sizes by and
// ip_local_out sends along): UdpLayer.output's mtuFor leaves the FIB route in a RouteHint that
// ipLocalOut uses instead of a second lookup, with the same answers as two lookups would give.
//
//   a: eth0 10.0.0.1/24 ═══ veth ═══ eth0 10.0.0.2/24 :b
import { describe, expect, it } from 'vitest';
import type { RouteHint } from '../../src/net/api.js';
import { Namespace } from '../../src/net/namespace.js';
import { UdpLayer } from '../../src/transport/udp.js';
import { IP_DF } from '../../src/wire/types.js';
import { ip, Lab, udpSink } from './harness.js';

function setup() {
  const lab = new Lab();
  const a = lab.host('a');
  const b = lab.host('b');
  const [ea] = lab.veth(a, 'eth0', '10.0.0.1/24', b, 'eth0', '10.0.0.2/24', 0);
  lab.capture(ea);
  const got = udpSink(b);
  return { lab, sim: lab.sim, a, b, ea, got };
}

/** Counts a's FIB lookups while `fn` runs. */
function lookups(ns: Namespace, fn: () => void): number {
  const orig = ns.fibLookup;
  let n = 0;
  ns.fibLookup = (dst) => {
    n++;
    return orig.call(ns, dst);
  };
  try {
    fn();
  } finally {
    ns.fibLookup = orig;
  }
  return n;
}

describe('UDP output routes once', () => {
  it('mtuFor with a hint leaves the route fibLookup gives; without one it only answers the MTU', () => {
    const { a, ea } = setup();
    const hint: RouteHint = { route: null };
    expect(a.mtuFor(ip('10.0.0.2'), hint)).toBe(1500);
    expect(hint.route).toBe(a.fibLookup(ip('10.0.0.2')));
    expect(hint.route!.dev).toBe(ea);
    hint.route = null;
    expect(a.mtuFor(ip('192.168.9.9'), hint)).toBeNull();
    expect(hint.route).toBeNull();
  });

  it('a datagram to a resolved neighbour costs one FIB lookup and leaves as before (DF, on eth0)', () => {
    const { lab, sim, a, got } = setup();
    const sock = new UdpLayer(a).socket().bind(5000);
    sock.sendTo(ip('10.0.0.2'), 9, 10); // resolves the neighbour
    sim.run();
    expect(lookups(a, () => sock.sendTo(ip('10.0.0.2'), 9, 100))).toBe(1);
    sim.run();
    expect(got.length).toBe(2);
    expect(got[1]!.ip!.flags & IP_DF).toBe(IP_DF);
    expect(got[1]!.ip!.totalLength).toBe(128);
    expect(lab.seen('a/eth0', 'out').filter((s) => s.includes('UDP')).length).toBe(2);
  });

  it("a datagram to an own address goes over lo, sized by lo's MTU as mtuFor answers (DF: it fits)", () => {
    const { a } = setup();
    const sock = new UdpLayer(a).socket().bind(5000);
    const got = udpSink(a); // (after the layer: the sink takes a's UDP receive over)
    // 1,600 bytes: above eth0's MTU (the address's device), below lo's, which the route to it uses: DF, not fragmented.
    expect(sock.sendTo(ip('10.0.0.1'), 9, 1600 - 28)).toBe(true);
    a.sim.run();
    expect(got.length).toBe(1);
    expect(got[0]!.ip!.flags & IP_DF).toBe(IP_DF);
    expect(got[0]!.ip!.fragOffset).toBe(0);
    expect(got[0]!.ip!.totalLength).toBe(1600);
  });

  it('no route: not sent, counted in OutNoRoutes, and the next send goes out', () => {
    const { sim, a, got } = setup();
    const udp = new UdpLayer(a);
    const sock = udp.socket().bind(5000);
    expect(sock.sendTo(ip('192.168.9.9'), 9, 10)).toBe(false);
    expect(udp.counters.OutNoRoutes).toBe(1);
    expect(sock.sendTo(ip('10.0.0.2'), 9, 10)).toBe(true);
    sim.run();
    expect(got.length).toBe(1);
  });
});
