// DNS server (src/app/dns-server.ts) and glibc-style stub resolver (src/app/dns-resolver.ts) over the
// fake network, one 50 µs hop between any two hosts:
//
//   client 10.0.0.1 ──┐
//   coredns 10.0.0.53 ─┼── (50 µs) ── upstream 10.0.0.99 (recursive: example.com, RA set)
//   dead 10.0.0.66 (blackhole: packets vanish)     noone 10.0.0.77 (host without a DNS server)
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { MS, SEC } from '../../src/core/time.js';
import { denial, DnsServer, rr, type DnsZone, type ZoneAnswer } from '../../src/app/dns-server.js';
import { parseResolvConf, searchCandidates, StubResolver, type LookupResult } from '../../src/app/dns-resolver.js';
import { UdpLayer } from '../../src/transport/udp.js';
import { decodeDns, DnsFlag, dnsRcode, DnsRcode, DnsType, type DnsMessage } from '../../src/wire/dns.js';
import type { Packet } from '../../src/packet/packet.js';
import { FakeNet, ip } from '../transport/fake-net.js';

const RESOLV = 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.0.0.53\noptions ndots:5\n';

/** A tiny cluster zone: web.default.svc.cluster.local only. */
const clusterZone: DnsZone = (q) => {
  const n = q.name.toLowerCase();
  if (n !== 'cluster.local' && !n.endsWith('.cluster.local')) return null;
  const soa = rr('cluster.local', 30, { kind: 'SOA', mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 30 });
  if (n !== 'web.default.svc.cluster.local') return denial(DnsRcode.NXDOMAIN, soa);
  if (q.type !== DnsType.A) return denial(DnsRcode.NOERROR, soa);
  return { rcode: 0, authoritative: true, answers: [rr(q.name, 30, { kind: 'A', address: ip('10.96.0.50') })], authority: [], additional: [], chase: null };
};

/** A recursive resolver's view of the internet: example.com and www.example.com; everything else NXDOMAIN. */
const internet: DnsZone = (q): ZoneAnswer => {
  const n = q.name.toLowerCase();
  const soa = rr('', 86400, { kind: 'SOA', mname: 'a.root-servers.net', rname: 'nstld.verisign-grs.com', serial: 2024010100, refresh: 1800, retry: 900, expire: 604800, minimum: 86400 });
  if (n !== 'example.com' && n !== 'www.example.com') return { ...denial(DnsRcode.NXDOMAIN, soa), authoritative: false };
  if (q.type !== DnsType.A) return { ...denial(DnsRcode.NOERROR, rr('example.com', 3600, { kind: 'SOA', mname: 'ns.icann.org', rname: 'noc.dns.icann.org', serial: 1, refresh: 7200, retry: 3600, expire: 1209600, minimum: 3600 })), authoritative: false };
  return { rcode: 0, authoritative: false, answers: [rr(q.name, 300, { kind: 'A', address: ip('93.184.215.14') })], authority: [], additional: [], chase: null };
};

function world(loss?: (pkt: Packet, hop: number) => boolean) {
  const sim = new Simulator(1);
  const net = new FakeNet(sim, loss ? { loss } : {});
  const hosts = {
    client: net.addHost('client', '10.0.0.1'),
    coredns: net.addHost('coredns', '10.0.0.53'),
    upstream: net.addHost('upstream', '10.0.0.99'),
    noone: net.addHost('noone', '10.0.0.77'),
  };
  net.blackholes.add(ip('10.0.0.66'));
  const udp = Object.fromEntries(Object.entries(hosts).map(([k, h]) => [k, new UdpLayer(h)])) as Record<keyof typeof hosts, UdpLayer>;
  return { sim, net, udp };
}

/** DNS messages sent by `from`, decoded from the payload bytes. */
function sent(net: FakeNet, from: string): { t: number; sport: number; dport: number; m: DnsMessage }[] {
  return net.log
    .filter((r) => r.from === from && r.pkt.udp !== null && r.pkt.payload !== null && (r.pkt.udp.dstPort === 53 || r.pkt.udp.srcPort === 53))
    .map((r) => ({ t: r.t, sport: r.pkt.udp!.srcPort, dport: r.pkt.udp!.dstPort, m: decodeDns(r.pkt.payload!, 0).msg }));
}
const q = (x: { m: DnsMessage }): string => `${x.m.questions[0]!.name} ${x.m.questions[0]!.type === DnsType.A ? 'A' : x.m.questions[0]!.type === DnsType.AAAA ? 'AAAA' : x.m.questions[0]!.type}`;

function lookup(r: StubResolver, name: string, sim: Simulator): { res: LookupResult | null; at: number } {
  const out: { res: LookupResult | null; at: number } = { res: null, at: -1 };
  r.lookup(name, (x) => {
    out.res = x;
    out.at = sim.now;
  });
  sim.run();
  return out;
}

describe('resolv.conf and the search list (glibc res_init / res_nsearch)', () => {
  it('parses nameserver, search, options with glibc defaults and limits', () => {
    const c = parseResolvConf('nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4\nsearch a.example b.example.\noptions ndots:5 timeout:2 attempts:9 rotate\n# comment\n');
    expect(c).toEqual({ nameservers: [ip('10.0.0.1'), ip('10.0.0.2'), ip('10.0.0.3')], search: ['a.example', 'b.example'], ndots: 5, timeout: 2, attempts: 5, rotate: true, singleRequest: false, singleRequestReopen: false });
    expect(parseResolvConf('nameserver 1.1.1.1\n')).toMatchObject({ ndots: 1, timeout: 5, attempts: 2 });
  });

  it('tries search domains first below ndots, the name as is first at or above it, only the name with a trailing dot', () => {
    const c = parseResolvConf(RESOLV);
    expect(searchCandidates('web', c)).toEqual(['web.default.svc.cluster.local', 'web.svc.cluster.local', 'web.cluster.local', 'web']);
    expect(searchCandidates('example.com', c)).toEqual(['example.com.default.svc.cluster.local', 'example.com.svc.cluster.local', 'example.com.cluster.local', 'example.com']);
    expect(searchCandidates('a.b.c.d.example.com', c)).toEqual(['a.b.c.d.example.com', 'a.b.c.d.example.com.default.svc.cluster.local', 'a.b.c.d.example.com.svc.cluster.local', 'a.b.c.d.example.com.cluster.local']);
    expect(searchCandidates('example.com.', c)).toEqual(['example.com']);
  });
});

describe('stub resolver ↔ DNS server', () => {
  it('resolves web with one A+AAAA pair from one socket, different IDs; AAAA is NODATA with the SOA', () => {
    const { sim, net, udp } = world();
    const srv = new DnsServer(udp.coredns, { zone: clusterZone, upstream: [] });
    const r = new StubResolver(udp.client, parseResolvConf(RESOLV));
    const { res } = lookup(r, 'web', sim);
    expect(res!.addresses).toEqual([ip('10.96.0.50')]);
    const qs = sent(net, 'client');
    expect(qs.map(q)).toEqual(['web.default.svc.cluster.local A', 'web.default.svc.cluster.local AAAA']);
    expect(qs[0]!.sport).toBe(qs[1]!.sport);
    expect(qs[0]!.m.id).not.toBe(qs[1]!.m.id);
    expect(qs[0]!.m.flags).toBe(DnsFlag.RD);
    const replies = sent(net, 'coredns');
    expect(replies.map((x) => x.m.flags & ~0xf)).toEqual([DnsFlag.QR | DnsFlag.AA | DnsFlag.RD, DnsFlag.QR | DnsFlag.AA | DnsFlag.RD]); // no RA, as CoreDNS
    expect(replies[1]!.m.answers).toEqual([]);
    expect(replies[1]!.m.authority[0]!.data.kind).toBe('SOA');
    expect(srv.counters).toMatchObject({ queries: 2, responses: { NOERROR: 2 } });
  });

  it('example.com: three NXDOMAIN search candidates, then the name as is, forwarded upstream and relayed', () => {
    const { sim, net, udp } = world();
    const srv = new DnsServer(udp.coredns, { zone: clusterZone, upstream: [ip('10.0.0.99')] });
    const up = new DnsServer(udp.upstream, { zone: internet, upstream: [], recursionAvailable: true });
    const r = new StubResolver(udp.client, parseResolvConf(RESOLV));
    const { res } = lookup(r, 'example.com', sim);
    expect(res!.addresses).toEqual([ip('93.184.215.14')]);
    const qs = sent(net, 'client');
    expect(qs.map(q)).toEqual([
      'example.com.default.svc.cluster.local A', 'example.com.default.svc.cluster.local AAAA',
      'example.com.svc.cluster.local A', 'example.com.svc.cluster.local AAAA',
      'example.com.cluster.local A', 'example.com.cluster.local AAAA',
      'example.com A', 'example.com AAAA',
    ]);
    // a new socket (ephemeral port) per candidate: res_send closes its sockets (no RES_STAYOPEN)
    expect(new Set(qs.map((x) => x.sport)).size).toBe(4);
    expect(srv.counters.responses.NXDOMAIN).toBe(6);
    expect(srv.counters.forwarded).toBe(2);
    expect(up.counters.queries).toBe(2);
    // forward uses a fresh ID toward the upstream and restores the client's
    const fwd = sent(net, 'coredns').filter((x) => x.dport === 53);
    expect(fwd.map(q)).toEqual(['example.com A', 'example.com AAAA']);
    const relayed = sent(net, 'coredns').filter((x) => x.sport === 53 && x.m.questions[0]!.name === 'example.com');
    expect(relayed.map((x) => x.m.id).sort()).toEqual(qs.slice(6).map((x) => x.m.id).sort());
    expect(fwd.map((x) => x.m.id)).not.toEqual(qs.slice(6).map((x) => x.m.id));
    const a = relayed.find((x) => x.m.questions[0]!.type === DnsType.A)!;
    expect(a.m.flags & DnsFlag.RA).toBe(DnsFlag.RA); // the upstream's flags are relayed
    expect(a.m.flags & DnsFlag.AA).toBe(0);
  });

  it('cache 30: the second lookup is answered from the cache with AA set and the TTL counting down', () => {
    const { sim, udp, net } = world();
    const srv = new DnsServer(udp.coredns, { zone: null, upstream: [ip('10.0.0.99')], cacheMaxTtl: 30 });
    new DnsServer(udp.upstream, { zone: internet, upstream: [], recursionAvailable: true });
    const r = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.53\n'), { family: 'inet' });
    lookup(r, 'www.example.com', sim);
    sim.scheduleAt(sim.now + 7 * SEC, () => r.lookup('www.example.com', () => {}));
    sim.run();
    expect(srv.counters.forwarded).toBe(1);
    expect(srv.counters.cacheHits).toBe(1);
    const replies = sent(net, 'coredns').filter((x) => x.sport === 53);
    expect(replies.map((x) => x.m.answers[0]!.ttl)).toEqual([30, 23]); // min(300, 30), then 30 − 7
    expect(replies.map((x) => (x.m.flags & DnsFlag.AA) !== 0)).toEqual([false, true]);
  });

  it('forward: an unreachable upstream gets attempts at 0, 2 s and 4 s, then SERVFAIL; glibc moves to the next search domain on SERVFAIL', () => {
    const { sim, udp, net } = world();
    const srv = new DnsServer(udp.coredns, { zone: null, upstream: [ip('10.0.0.66')] });
    const r = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.53\nsearch a.example\n'), { family: 'inet' });
    const { res, at } = lookup(r, 'x', sim);
    expect(res!.addresses).toEqual([]);
    const fwdTimes = sent(net, 'coredns').filter((x) => x.dport === 53).map((x) => x.t);
    // x.a.example: glibc times out at 5 s (retry), forward answers SERVFAIL at 6 s ...
    expect(fwdTimes.slice(0, 3).map((t) => Math.round(t / MS))).toEqual([0, 2000, 4000]);
    expect(srv.counters.forwardTimeouts).toBeGreaterThanOrEqual(3);
    expect(srv.counters.responses.SERVFAIL).toBeGreaterThan(0);
    const names = [...new Set(sent(net, 'client').map((x) => x.m.questions[0]!.name))];
    expect(names).toEqual(['x.a.example', 'x']);
    expect(at).toBeGreaterThan(10 * SEC);
  });

  it('an unreachable nameserver: 5 s timeout, one retry from the same port with the same IDs, then the search stops; the as-is query still runs', () => {
    const { sim, udp, net } = world();
    const r = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.66\nsearch default.svc.cluster.local\noptions ndots:5\n'));
    const { res, at } = lookup(r, 'web', sim);
    expect(res!.error).toBe('timeout');
    const qs = sent(net, 'client');
    expect(qs.map((x) => [Math.round(x.t / SEC), q(x)])).toEqual([
      [0, 'web.default.svc.cluster.local A'], [0, 'web.default.svc.cluster.local AAAA'],
      [5, 'web.default.svc.cluster.local A'], [5, 'web.default.svc.cluster.local AAAA'],
      [10, 'web A'], [10, 'web AAAA'],
      [15, 'web A'], [15, 'web AAAA'],
    ]);
    expect(qs[2]!.sport).toBe(qs[0]!.sport);
    expect(qs[2]!.m.id).toBe(qs[0]!.m.id);
    expect(at).toBe(20 * SEC);
    expect(r.counters.timeouts).toBe(4);
  });

  it('two nameservers: 5 s on the first, (5 << 1) / 2 = 5 s on the second, both rounds', () => {
    const { sim, udp, net } = world();
    const r = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.66\nnameserver 10.0.0.53\n'), { family: 'inet' });
    new DnsServer(udp.coredns, { zone: clusterZone, upstream: [] });
    const { res, at } = lookup(r, 'web.default.svc.cluster.local', sim);
    expect(res!.addresses).toEqual([ip('10.96.0.50')]);
    expect(sent(net, 'client').map((x) => [Math.round(x.t / SEC), x.m.questions[0]!.name])).toEqual([
      [0, 'web.default.svc.cluster.local'],
      [5, 'web.default.svc.cluster.local'],
    ]);
    expect(at).toBeGreaterThan(5 * SEC);
    expect(at).toBeLessThan(5 * SEC + MS);
  });

  it('ICMP port unreachable (nothing on port 53): ECONNREFUSED, every round fails at once, lookup ends without waiting', () => {
    const { sim, udp, net } = world();
    const r = new StubResolver(udp.client, parseResolvConf(`${RESOLV.replace('10.0.0.53', '10.0.0.77')}`));
    const { res, at } = lookup(r, 'web', sim);
    expect(res!.error).toBe('refused');
    expect(at).toBeLessThan(MS);
    expect(sent(net, 'client').map((x) => x.m.questions[0]!.name)).toEqual(Array(4).fill('web.default.svc.cluster.local'));
  });

  it('a lost AAAA reply: timeout with one answer → single-request mode, A then AAAA in turn; the mode sticks', () => {
    let dropped = false;
    const loss = (pkt: Packet): boolean => {
      if (dropped || pkt.udp?.srcPort !== 53 || pkt.payload === null) return false;
      const m = decodeDns(pkt.payload, 0).msg;
      if (m.questions[0]!.type !== DnsType.AAAA) return false;
      dropped = true;
      return true;
    };
    const { sim, udp, net } = world(loss);
    new DnsServer(udp.coredns, { zone: clusterZone, upstream: [] });
    const r = new StubResolver(udp.client, parseResolvConf(RESOLV));
    const { res, at } = lookup(r, 'web', sim);
    expect(res!.addresses).toEqual([ip('10.96.0.50')]);
    expect(at).toBeGreaterThan(5 * SEC); // the famous 5 s DNS delay
    expect(r.single).toBe(true);
    const qs = sent(net, 'client');
    expect(qs.map((x) => [Math.round(x.t / SEC), q(x)])).toEqual([
      [0, 'web.default.svc.cluster.local A'], [0, 'web.default.svc.cluster.local AAAA'],
      [5, 'web.default.svc.cluster.local A'], [5, 'web.default.svc.cluster.local AAAA'],
    ]);
    expect(qs[3]!.t - qs[2]!.t).toBeGreaterThan(100_000); // AAAA only after the A reply (one round trip)
  });

  it('processing delay, truncation to 512 octets with TC, loadbalance shuffling', () => {
    const { sim, udp, net } = world();
    const many: DnsZone = (qq) => ({ rcode: 0, authoritative: true, answers: Array.from({ length: 40 }, (_, i) => rr(qq.name, 30, { kind: 'A', address: ip(`10.1.0.${i + 1}`) })), authority: [], additional: [], chase: null });
    const srv = new DnsServer(udp.coredns, { zone: many, upstream: [], processingDelay: { kind: 'constant', value: 3 * MS }, loadbalance: true });
    const r = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.53\n'), { family: 'inet' });
    const { res, at } = lookup(r, 'big.example', sim);
    expect(at).toBeGreaterThan(3 * MS);
    const reply = sent(net, 'coredns')[0]!;
    expect(reply.m.flags & DnsFlag.TC).toBe(DnsFlag.TC);
    expect(reply.m.answers.length).toBe(res!.addresses.length);
    expect(reply.m.answers.length).toBeLessThan(40);
    expect(srv.counters.truncated).toBe(1);
    const order = res!.addresses.map((a) => a & 0xff);
    expect(order).not.toEqual([...order].sort((x, y) => x - y));
  });

  it('the server counts rcodes and drops what does not decode', () => {
    const { sim, udp } = world();
    const srv = new DnsServer(udp.coredns, { zone: clusterZone, upstream: [] });
    const s = udp.client.socket();
    s.sendTo(ip('10.0.0.53'), 53, new Uint8Array([1, 2, 3]));
    sim.run();
    expect(srv.counters.malformed).toBe(1);
    const r = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.53\n'));
    lookup(r, 'nope.cluster.local', sim);
    expect(srv.counters.responses.NXDOMAIN).toBe(2);
    // REFUSED without zone and upstream
    const bare = new DnsServer(udp.upstream, { zone: null, upstream: [] });
    const r2 = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.99\n'), { family: 'inet' });
    const { res } = lookup(r2, 'x.', sim);
    expect(res!.error).toBe('timeout'); // REFUSED → next server; all rounds spent → ETIMEDOUT → TRY_AGAIN
    expect(bare.counters.responses.REFUSED).toBe(2); // one per round (attempts 2)
    expect(dnsRcode({ id: 0, flags: DnsRcode.REFUSED, questions: [], answers: [], authority: [], additional: [] })).toBe(5);
  });
});
