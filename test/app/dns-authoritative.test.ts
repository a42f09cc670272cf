// Public authoritative DNS (src/app/dns-authoritative.ts served by src/app/dns-server.ts) and the
// stub resolver's host cache (src/app/dns-resolver.ts, `cache: true`), over the fake network:
//
//   user 10.0.0.1 ──(50 µs)── ns1 10.0.0.53 (mydomain.com; DNSEndpoint records from `dynamic`)
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { SEC } from '../../src/core/time.js';
import { absoluteName, AuthoritativeZones, type PublicRecord, type ZoneData } from '../../src/app/dns-authoritative.js';
import { DnsServer } from '../../src/app/dns-server.js';
import { parseResolvConf, StubResolver, type LookupResult } from '../../src/app/dns-resolver.js';
import { UdpLayer } from '../../src/transport/udp.js';
import { DnsClass, DnsFlag, DnsRcode, DnsType, decodeDns, dnsRcode, type DnsMessage, type DnsResourceRecord } from '../../src/wire/dns.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { FakeNet } from '../transport/fake-net.js';

const ZONE: ZoneData = {
  origin: 'mydomain.com',
  ttl: 300,
  negativeTtl: 30,
  records: [
    { name: 'app.mydomain.com', type: 'A', values: ['10.100.11.11', '10.100.11.12', '10.100.11.13'], ttl: 5 },
    { name: 'www.mydomain.com', type: 'CNAME', values: ['app.mydomain.com'], ttl: 60 },
    { name: 'alias.mydomain.com', type: 'CNAME', values: ['www.mydomain.com'], ttl: 120 },
    { name: 'shop.mydomain.com', type: 'CNAME', values: ['abc.elb.us-east-1.amazonaws.com'], ttl: 300 },
    { name: 'dangling.mydomain.com', type: 'CNAME', values: ['gone.mydomain.com'], ttl: 300 },
    { name: 'a.deep.mydomain.com', type: 'A', values: ['10.0.0.9'], ttl: 300 },
  ],
};

const question = (name: string, type: number = DnsType.A) => ({ name, type, class: DnsClass.IN });
const addrs = (rs: DnsResourceRecord[]): string[] => rs.flatMap((r) => (r.data.kind === 'A' ? [formatIpv4(r.data.address)] : []));

describe('AuthoritativeZones (a provider\'s authoritative DNS)', () => {
  it('rotates a multi-address A set by one on every answer (rrset-order cyclic), AA set, TTL from the record', () => {
    const az = new AuthoritativeZones([ZONE], () => [], 'ns1');
    const orders = [0, 1, 2, 3].map(() => az.zone(question('app.mydomain.com'))!);
    expect(orders.map((a) => addrs(a.answers).join(' '))).toEqual([
      '10.100.11.11 10.100.11.12 10.100.11.13',
      '10.100.11.12 10.100.11.13 10.100.11.11',
      '10.100.11.13 10.100.11.11 10.100.11.12',
      '10.100.11.11 10.100.11.12 10.100.11.13',
    ]);
    expect(orders[0]!.authoritative).toBe(true);
    expect(orders[0]!.answers.every((r) => r.ttl === 5)).toBe(true);
  });

  it('follows a CNAME chain inside the zone and returns every record of it', () => {
    const az = new AuthoritativeZones([ZONE], () => [], 'ns1');
    const a = az.zone(question('alias.mydomain.com'))!;
    expect(a.rcode).toBe(DnsRcode.NOERROR);
    expect(a.answers.map((r) => `${r.name} ${r.data.kind} ${r.ttl}`)).toEqual(['alias.mydomain.com CNAME 120', 'www.mydomain.com CNAME 60', 'app.mydomain.com A 5', 'app.mydomain.com A 5', 'app.mydomain.com A 5']);
    expect(a.chase).toBeNull();
  });

  it('NXDOMAIN (also for a dangling in-zone CNAME) and NODATA carry the SOA with TTL min(SOA TTL, minimum)', () => {
    const az = new AuthoritativeZones([ZONE], () => [], 'ns1');
    const nx = az.zone(question('nosuch.mydomain.com'))!;
    expect(nx.rcode).toBe(DnsRcode.NXDOMAIN);
    expect(nx.authority).toHaveLength(1);
    expect(nx.authority[0]!.ttl).toBe(30);
    expect(nx.authority[0]!.data).toMatchObject({ kind: 'SOA', mname: 'ns1.mydomain.com', minimum: 30 });
    const dangling = az.zone(question('dangling.mydomain.com'))!;
    expect([dangling.rcode, dangling.answers.length]).toEqual([DnsRcode.NXDOMAIN, 1]);
    const aaaa = az.zone(question('app.mydomain.com', DnsType.AAAA))!;
    expect([aaaa.rcode, aaaa.answers.length, aaaa.authority[0]!.data.kind]).toEqual([DnsRcode.NOERROR, 0, 'SOA']);
    // An empty non-terminal (only a.deep below it) is NODATA, not NXDOMAIN (RFC 8020).
    expect(az.zone(question('deep.mydomain.com'))!.rcode).toBe(DnsRcode.NOERROR);
    expect(az.zone(question('example.org'))).toBeNull();
  });

  it('serves DNSEndpoint records: inside a zone they replace the static set; outside, from an implicit zone at the parent', () => {
    let dynamic: PublicRecord[] = [];
    const az = new AuthoritativeZones([ZONE], () => dynamic, 'ns1');
    expect(az.zone(question('abc.elb.us-east-1.amazonaws.com'))).toBeNull();
    dynamic = [
      { name: 'app.mydomain.com', type: 'A', values: ['10.100.11.240'], ttl: 30 },
      { name: 'abc.elb.us-east-1.amazonaws.com', type: 'A', values: ['198.51.100.7'], ttl: 60 },
    ];
    expect(addrs(az.zone(question('app.mydomain.com'))!.answers)).toEqual(['10.100.11.240']);
    const shop = az.zone(question('shop.mydomain.com'))!;
    expect(shop.answers.map((r) => r.data.kind)).toEqual(['CNAME']);
    expect(shop.chase).toEqual(question('abc.elb.us-east-1.amazonaws.com'));
    const nx = az.zone(question('zzz.elb.us-east-1.amazonaws.com'))!;
    expect([nx.rcode, (nx.authority[0]!.data as { mname: string }).mname]).toEqual([DnsRcode.NXDOMAIN, 'ns1.elb.us-east-1.amazonaws.com']);
  });

  it('absoluteName: @, relative owners, absolute names, and CNAME targets with a dot', () => {
    expect(absoluteName('@', 'mydomain.com.')).toBe('mydomain.com');
    expect(absoluteName('www', 'mydomain.com')).toBe('www.mydomain.com');
    expect(absoluteName('WWW.mydomain.com', 'mydomain.com')).toBe('www.mydomain.com');
    expect(absoluteName('x.example.net.', 'mydomain.com')).toBe('x.example.net');
    expect(absoluteName('a.b', 'mydomain.com')).toBe('a.b.mydomain.com');
    expect(absoluteName('lb.elb.amazonaws.com', 'mydomain.com', true)).toBe('lb.elb.amazonaws.com');
  });
});

/** A user and ns1 on the fake network; the user's resolver caches (nscd / systemd-resolved). */
function world(dynamic: () => PublicRecord[] = () => []) {
  const sim = new Simulator(1);
  const net = new FakeNet(sim, {});
  const user = new UdpLayer(net.addHost('user', '10.0.0.1'));
  const ns1 = new UdpLayer(net.addHost('ns1', '10.0.0.53'));
  const az = new AuthoritativeZones([ZONE], dynamic, 'ns1');
  const server = new DnsServer(ns1, { zone: az.zone, upstream: [] });
  const resolver = new StubResolver(user, parseResolvConf('nameserver 10.0.0.53\n'), { cache: true });
  const queries = (): DnsMessage[] => net.log.filter((r) => r.from === 'user' && r.pkt.udp?.dstPort === 53 && r.pkt.payload !== null).map((r) => decodeDns(r.pkt.payload!, 0).msg);
  const replies = (): DnsMessage[] => net.log.filter((r) => r.from === 'ns1' && r.pkt.udp?.srcPort === 53 && r.pkt.payload !== null).map((r) => decodeDns(r.pkt.payload!, 0).msg);
  /** Looks `name` up at absolute time `at` (seconds). */
  const lookupAt = (at: number, name: string, out: LookupResult[]): void => {
    sim.scheduleAt(at * SEC, () => resolver.lookup(name, (r) => out.push(r)));
  };
  return { sim, net, resolver, server, queries, replies, lookupAt };
}

describe('the public server on the wire and the user\'s cache', () => {
  it('answers with AA, the CNAME chain and the rotated A set; NXDOMAIN with the SOA; names in no zone are REFUSED', () => {
    const w = world();
    const out: LookupResult[] = [];
    w.lookupAt(1, 'www.mydomain.com', out);
    w.lookupAt(2, 'nosuch.mydomain.com', out);
    w.lookupAt(3, 'example.org', out);
    w.sim.run();
    const [a, aaaa] = w.replies();
    expect(a!.flags & DnsFlag.AA).toBeTruthy();
    expect(a!.flags & DnsFlag.RA).toBe(0);
    expect(a!.answers.map((r) => r.data.kind)).toEqual(['CNAME', 'A', 'A', 'A']);
    expect(dnsRcode(aaaa!)).toBe(DnsRcode.NOERROR);
    expect(out[0]!.addresses.map(formatIpv4)).toEqual(['10.100.11.11', '10.100.11.12', '10.100.11.13']);
    expect(out[0]!.canonicalName).toBe('app.mydomain.com');
    expect(out[1]!.error).toBe('nxdomain');
    expect(dnsRcode(w.replies()[2]!)).toBe(DnsRcode.NXDOMAIN);
    expect(out[2]!.addresses).toEqual([]);
    // REFUSED sends glibc to the next server: 2 attempts (res_init default) × A + AAAA.
    expect(w.server.counters.responses.REFUSED).toBe(4);
  });

  it('a cache hit within the TTL sends nothing; after expiry the name is asked again and the rotation moved on', () => {
    const w = world();
    const out: LookupResult[] = [];
    // www → app: the cache keeps the least TTL of the chain, app's 5 s.
    for (const t of [1, 2, 5.9, 7, 8]) w.lookupAt(t, 'www.mydomain.com', out);
    w.sim.run();
    const aQueries = w.queries().filter((m) => m.questions[0]!.type === DnsType.A);
    expect(aQueries).toHaveLength(2); // at 1 s and at 7 s (the answer from ~1 s expired at ~6 s)
    expect(out.map((r) => r.cached)).toEqual([false, true, true, false, true]);
    expect(out.map((r) => r.queries)).toEqual([2, 0, 0, 2, 0]);
    expect(out[1]!.addresses).toEqual(out[0]!.addresses);
    expect(formatIpv4(out[3]!.addresses[0]!)).not.toBe(formatIpv4(out[0]!.addresses[0]!));
    expect(w.resolver.counters.cacheHits).toBe(3);
  });

  it('caches a NXDOMAIN for the SOA minimum (RFC 2308), then asks again', () => {
    const w = world();
    const out: LookupResult[] = [];
    for (const t of [1, 20, 40]) w.lookupAt(t, 'nosuch.mydomain.com', out);
    w.sim.run();
    expect(out.map((r) => [r.error, r.cached])).toEqual([
      ['nxdomain', false],
      ['nxdomain', true],
      ['nxdomain', false],
    ]);
    expect(w.queries().filter((m) => m.questions[0]!.type === DnsType.A)).toHaveLength(2);
  });

  it('without the cache (glibc alone) every lookup goes on the wire', () => {
    const w = world();
    const plain = new StubResolver(w.resolver.udp, parseResolvConf('nameserver 10.0.0.53\n'), { family: 'inet' });
    for (const t of [1, 2]) w.sim.scheduleAt(t * SEC, () => plain.lookup('app.mydomain.com', () => {}));
    w.sim.run();
    expect(w.queries()).toHaveLength(2);
  });
});
