// Every drop of the IP layer is counted and traced (style habit 7), now that the datapath is split
// over net/ip-input, ip-forward, ip-output, arp, icmp, br-netfilter and ipvs-in:
// - by source: only net/drop.ts's dropPacket writes a drop counter or fires `dropped`, and every
//   reason of the closed union is raised somewhere in src/net;
// - by behaviour: each provoked drop shows up as a `dropped` event and a `drop` hop, as many times as
//   `ns.drops` counts it.
//
//   a: eth0 10.0.1.1/24 ══ veth ══ r: eth0 10.0.1.254/24   r: eth1 10.0.2.254/24 ══ veth ══ b: eth0 10.0.2.1/24
//      default via 10.0.1.254                (ip_forward=1)                            default via 10.0.2.254
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NET_DROP_REASONS, type NetDropReason } from '../../src/net/drop.js';
import type { Namespace } from '../../src/net/namespace.js';
import { Packet } from '../../src/packet/packet.js';
import { IcmpType, IP_DF, IpProto } from '../../src/wire/types.js';
import { ip, Lab, udpDatagram, udpSink } from './harness.js';

const NET = resolve(import.meta.dirname, '../../src/net');
const sources = readdirSync(NET)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f, text: readFileSync(join(NET, f), 'utf8') }));

describe('drops by source', () => {
  it('only drop.ts writes a drop counter or fires the dropped trace source', () => {
    const offenders = sources.filter((s) => s.file !== 'drop.ts' && /\.drops\[|\.dropped\.fire\(/.test(s.text)).map((s) => s.file);
    expect(offenders).toEqual([]);
  });

  it('every drop reason is raised somewhere in src/net (no dead reasons)', () => {
    const raised = (r: string) => sources.some((s) => s.file !== 'drop.ts' && s.text.includes(`'${r}'`));
    expect(NET_DROP_REASONS.filter((r) => !raised(r))).toEqual([]);
  });
});

function setup(forwarding = true) {
  const lab = new Lab();
  const a = lab.host('a');
  const r = lab.host('r', forwarding);
  const b = lab.host('b');
  const [ea, ra] = lab.veth(a, 'eth0', '10.0.1.1/24', r, 'eth0', '10.0.1.254/24');
  const [rb, eb] = lab.veth(r, 'eth1', '10.0.2.254/24', b, 'eth0', '10.0.2.1/24');
  a.addRoute({ dst: 0, prefix: 0, gateway: ip('10.0.1.254'), dev: ea });
  b.addRoute({ dst: 0, prefix: 0, gateway: ip('10.0.2.254'), dev: eb });
  return { lab, sim: lab.sim, a, r, b, ea, ra, rb, eb, nss: [a, r, b] };
}

/** Tallies `dropped` events and `drop` hops per namespace; `check` compares them with `ns.drops`. */
function watch(nss: Namespace[]) {
  const events = new Map<string, Partial<Record<NetDropReason, number>>>();
  const hops = new Map<string, Partial<Record<NetDropReason, number>>>();
  const bump = (m: typeof events, ns: Namespace, r: NetDropReason) => {
    const t = m.get(ns.name) ?? {};
    t[r] = (t[r] ?? 0) + 1;
    m.set(ns.name, t);
  };
  for (const ns of nss) {
    ns.dropped.connect((n, _p, reason) => bump(events, n, reason));
    ns.hops.connect((n, _p, ev) => {
      if (ev.kind === 'drop') bump(hops, n, ev.reason);
    });
  }
  return {
    /** Asserts events = hops = counters for every namespace, and that `expected` reasons occurred. */
    check(expected: NetDropReason[]) {
      const counted = Object.fromEntries(nss.map((ns) => [ns.name, { ...ns.drops }]));
      const byEvent = Object.fromEntries(nss.map((ns) => [ns.name, events.get(ns.name) ?? {}]));
      const byHop = Object.fromEntries(nss.map((ns) => [ns.name, hops.get(ns.name) ?? {}]));
      expect(byEvent, 'dropped events vs ns.drops').toEqual(counted);
      expect(byHop, 'drop hops vs ns.drops').toEqual(counted);
      const seen = new Set(nss.flatMap((ns) => Object.keys(ns.drops)));
      expect(expected.filter((r) => !seen.has(r)), 'reasons that did not occur').toEqual([]);
    },
  };
}

describe('drops by behaviour: every counted drop has a trace event', () => {
  it('TTL expiry at a router, with the ICMP errors past the burst suppressed by the rate limit', () => {
    const { sim, a, nss } = setup();
    const w = watch(nss);
    for (let i = 0; i < 10; i++) a.ipLocalOut(udpDatagram('10.0.2.1', 100 + i, { ttl: 1 }));
    sim.run();
    w.check(['ttl-expired', 'icmp-ratelimit']);
  });

  it('no route (sender and router), forwarding disabled, otherhost', () => {
    const { sim, a, ra, nss } = setup();
    const w = watch(nss);
    a.ipLocalOut(udpDatagram('192.0.2.7'));
    const h = setup(false);
    const w2 = watch(h.nss);
    h.a.ipLocalOut(udpDatagram('10.0.2.1'));
    h.sim.run();
    const p = udpDatagram('10.0.1.254');
    p.ip!.src = ip('10.0.1.1');
    p.eth = { dst: 0x02aaaaaaaaaa, src: 0x020000000099, etherType: 0x0800 };
    ra.receive(p, 74);
    sim.run();
    const lone = new Lab().host('lone');
    const w3 = watch([lone]);
    lone.ipLocalOut(udpDatagram('192.0.2.7'));
    w.check(['no-route', 'otherhost']);
    w2.check(['forwarding-disabled']);
    w3.check(['no-route']);
  });

  it('unknown protocol, echo reply without a ping socket, DF packet too big for the next hop', () => {
    const { sim, a, b, rb, nss } = setup();
    udpSink(a);
    const w = watch(nss);
    const proto99 = udpDatagram('10.0.2.1');
    proto99.ip!.protocol = 99;
    proto99.udp = null;
    a.ipLocalOut(proto99);
    const reply = new Packet();
    reply.ip = { tos: 0, totalLength: 0, id: 0, flags: 0, fragOffset: 0, ttl: 64, protocol: IpProto.ICMP, checksum: null, src: 0, dst: ip('10.0.1.1'), options: null };
    reply.icmp = { type: IcmpType.ECHO_REPLY, code: 0, checksum: null, rest: 0x12340001 };
    b.ipLocalOut(reply);
    rb.mtu = 600;
    a.ipLocalOut(udpDatagram('10.0.2.1', 9, { size: 1000, flags: IP_DF }));
    sim.run();
    w.check(['no-protocol', 'no-socket', 'frag-needed']);
  });

  it('a next hop that never answers ARP: held packets fail as neigh-failed', () => {
    const { sim, a, nss } = setup();
    const w = watch(nss);
    a.ipLocalOut(udpDatagram('10.0.1.77'));
    a.ipLocalOut(udpDatagram('10.0.1.77'));
    sim.run();
    w.check(['neigh-failed']);
  });
});
