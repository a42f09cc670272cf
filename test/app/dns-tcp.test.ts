// DNS over TCP (RFC 7766): glibc's send_vc after a truncated UDP reply or with `options use-vc`
// (src/app/dns-resolver.ts) and the server's TCP listener as miekg/dns serves it for CoreDNS
// (src/app/dns-server.ts), over the fake network (one 50 µs hop between hosts).
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { SEC } from '../../src/core/time.js';
import { DnsServer, rr, type DnsZone } from '../../src/app/dns-server.js';
import { parseResolvConf, StubResolver, type LookupResult } from '../../src/app/dns-resolver.js';
import { DnsStreamReader, frameDns } from '../../src/app/dns-stream.js';
import { TcpLayer } from '../../src/transport/tcp/index.js';
import { UdpLayer } from '../../src/transport/udp.js';
import { decodeDns, dnsQuery, DnsFlag, DnsType, type DnsMessage } from '../../src/wire/dns.js';
import { FakeNet, ip } from '../transport/fake-net.js';

/** `n` A records for any name (a headless Service of n ready pods). */
const records =
  (n: number): DnsZone =>
  (q) => ({ rcode: 0, authoritative: true, answers: q.type === DnsType.A ? Array.from({ length: n }, (_, i) => rr(q.name, 30, { kind: 'A', address: ip(`10.1.${i >> 8}.${i & 0xff}`) })) : [], authority: [], additional: [], chase: null });

function world() {
  const sim = new Simulator(1);
  const net = new FakeNet(sim, {});
  const client = net.addHost('client', '10.0.0.1');
  const server = net.addHost('coredns', '10.0.0.53');
  const tcp = { client: new TcpLayer(client), server: new TcpLayer(server) };
  const udp = { client: new UdpLayer(client), server: new UdpLayer(server) };
  return { sim, net, tcp, udp };
}

function lookup(r: StubResolver, name: string, sim: Simulator): LookupResult {
  let out: LookupResult | null = null;
  r.lookup(name, (x) => (out = x));
  sim.run();
  return out!;
}

describe('DNS over TCP', () => {
  it('a truncated UDP reply: both queries again over one TCP connection to the same server, every record, the client closes', () => {
    const { sim, net, tcp, udp } = world();
    const srv = new DnsServer(udp.server, { zone: records(40), upstream: [], tcp: tcp.server });
    const r = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.53\n'), { tcp: () => tcp.client });
    const res = lookup(r, 'big.example.', sim);
    expect(res.error).toBe(null);
    expect(res.addresses.length).toBe(40); // the UDP reply held ~29
    expect(srv.counters.truncated).toBeGreaterThanOrEqual(1);
    // A and AAAA written together; 40 addresses overflow getaddrinfo's 1,024-byte buffer (ERANGE), so the
    // whole lookup runs twice: two datagrams and the same two queries over TCP, each time.
    expect(r.counters.erangeRetries).toBe(1);
    expect(r.counters.tcpExchanges).toBe(2);
    expect(srv.counters.tcpConnections).toBe(2);
    expect(srv.counters.tcpQueries).toBe(4);
    expect(res.queries).toBe(8);
    // The client's segments, per connection: SYN, ACK, one segment with both framed queries, ACKs, FIN first.
    const segs = net.log.filter((x) => x.from === 'client' && x.pkt.tcp !== null);
    const data = segs.filter((x) => x.pkt.payload !== null && x.pkt.payload.length > 0);
    expect(data.length).toBe(2);
    const rd = new DnsStreamReader();
    rd.push(data[0]!.pkt.payload!);
    const qs = [rd.next(), rd.next()].map((b) => decodeDns(b!, 0).msg.questions[0]!.type);
    expect(qs).toEqual([DnsType.A, DnsType.AAAA]);
    const firstFin = net.log.find((x) => x.pkt.tcp !== null && (x.pkt.tcp.flags & 0x01) !== 0)!;
    expect(firstFin.from).toBe('client'); // glibc closes its circuit after the replies (__res_iclose)
  });

  it('a reply that fits is not repeated over TCP; without a TCP layer a truncated reply is used as it is', () => {
    const { sim, tcp, udp } = world();
    new DnsServer(udp.server, { zone: records(10), upstream: [], tcp: tcp.server });
    const r = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.53\n'), { tcp: () => tcp.client });
    expect(lookup(r, 'small.example.', sim).addresses.length).toBe(10);
    expect(r.counters.tcpExchanges).toBe(0);
    const w = world();
    new DnsServer(w.udp.server, { zone: records(40), upstream: [], tcp: w.tcp.server });
    const bare = new StubResolver(w.udp.client, parseResolvConf('nameserver 10.0.0.53\n'));
    const res = lookup(bare, 'big.example.', w.sim);
    expect(res.addresses.length).toBeLessThan(40);
    expect(res.addresses.length).toBeGreaterThan(20);
  });

  it("getaddrinfo's buffer: 25 addresses of big.example fit in 1,024 bytes, 26 do not and the lookup runs again (glibc 2.36)", () => {
    for (const [n, rounds] of [
      [25, 1],
      [26, 2],
      [50, 2],
      [51, 3],
    ] as const) {
      const { sim, tcp, udp } = world();
      new DnsServer(udp.server, { zone: records(n), upstream: [], tcp: tcp.server });
      const r = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.53\n'), { tcp: () => tcp.client });
      const res = lookup(r, 'big.example', sim);
      expect(new Set(res.addresses).size).toBe(n);
      expect(r.counters.erangeRetries).toBe(rounds - 1);
      // each round: A + AAAA over UDP, and again over TCP when the reply was cut (more than ~29 records)
      expect(res.queries).toBe(rounds * (n > 29 ? 4 : 2));
    }
    // A longer name takes room too: 24 addresses of big.default.svc.cluster.local fit, 25 do not.
    for (const [n, rounds] of [
      [24, 1],
      [25, 2],
    ] as const) {
      const { sim, tcp, udp } = world();
      new DnsServer(udp.server, { zone: records(n), upstream: [], tcp: tcp.server });
      const r = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.53\n'), { tcp: () => tcp.client });
      lookup(r, 'big.default.svc.cluster.local', sim);
      expect(r.counters.erangeRetries).toBe(rounds - 1);
    }
  });

  it('options edns0: an OPT record advertising 1,200 bytes; CoreDNS fills a reply up to it (no TC, no TCP) and echoes the OPT', () => {
    const { sim, net, tcp, udp } = world();
    const srv = new DnsServer(udp.server, { zone: records(40), upstream: [], tcp: tcp.server });
    const r = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.53\noptions edns0\n'), { tcp: () => tcp.client });
    expect(new Set(lookup(r, 'big.example.', sim).addresses).size).toBe(40);
    expect(r.counters.tcpExchanges).toBe(0);
    expect(srv.counters.truncated).toBe(0);
    const q = decodeDns(net.log.find((x) => x.from === 'client' && x.pkt.udp !== null)!.pkt.payload!, 0).msg;
    expect(q.additional.map((x) => [x.type, x.class, x.ttl])).toEqual([[DnsType.OPT, 1200, 0]]);
    const a = net.log.filter((x) => x.from === 'coredns' && x.pkt.udp !== null).map((x) => decodeDns(x.pkt.payload!, 0).msg);
    expect(a.every((m) => (m.flags & DnsFlag.TC) === 0 && m.additional.some((x) => x.type === DnsType.OPT && x.class === 1200))).toBe(true);
    // 80 records do not fit 1,200 bytes: cut there (OPT kept), TC, then TCP
    const w = world();
    new DnsServer(w.udp.server, { zone: records(80), upstream: [], tcp: w.tcp.server });
    const r2 = new StubResolver(w.udp.client, parseResolvConf('nameserver 10.0.0.53\noptions edns0\n'), { tcp: () => w.tcp.client });
    expect(new Set(lookup(r2, 'big.example.', w.sim).addresses).size).toBe(80);
    const cut = w.net.log.filter((x) => x.from === 'coredns' && x.pkt.udp !== null).map((x) => decodeDns(x.pkt.payload!, 0).msg).find((m) => (m.flags & DnsFlag.TC) !== 0)!;
    expect(cut.answers.length).toBeGreaterThan(60);
    expect(cut.additional.some((x) => x.type === DnsType.OPT)).toBe(true);
    expect(r2.counters.tcpExchanges).toBeGreaterThan(0);
  });

  it('options no-aaaa: the A query alone', () => {
    const { sim, net, tcp, udp } = world();
    new DnsServer(udp.server, { zone: records(2), upstream: [], tcp: tcp.server });
    const r = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.53\noptions no-aaaa\n'), { tcp: () => tcp.client });
    expect(lookup(r, 'x.example.', sim).addresses.length).toBe(2);
    const qs = net.log.filter((x) => x.from === 'client' && x.pkt.udp !== null).map((x) => decodeDns(x.pkt.payload!, 0).msg.questions[0]!.type);
    expect(qs).toEqual([DnsType.A]);
  });

  it('options use-vc: no datagram at all, the lookup over TCP from the start', () => {
    const { sim, net, tcp, udp } = world();
    new DnsServer(udp.server, { zone: records(3), upstream: [], tcp: tcp.server });
    const conf = parseResolvConf('nameserver 10.0.0.53\noptions use-vc\n');
    expect(conf.useVc).toBe(true);
    const r = new StubResolver(udp.client, conf, { tcp: () => tcp.client });
    expect(lookup(r, 'x.example.', sim).addresses.length).toBe(3);
    expect(net.log.some((x) => x.from === 'client' && x.pkt.udp !== null)).toBe(false);
    expect(r.counters.tcpExchanges).toBe(1);
  });

  it('a server that does not listen on TCP: the connection is refused and the lookup fails (ECONNREFUSED), not a truncated answer', () => {
    const { sim, tcp, udp } = world();
    new DnsServer(udp.server, { zone: records(40), upstream: [] }); // UDP only
    const r = new StubResolver(udp.client, parseResolvConf('nameserver 10.0.0.53\n'), { tcp: () => tcp.client });
    const res = lookup(r, 'big.example.', sim);
    expect(res.addresses).toEqual([]);
    expect(res.error).toBe('refused');
    expect(r.counters.tcpExchanges).toBe(1); // one attempt per server over TCP
  });

  it('the server reads queries one at a time, closes a connection with no query after 3 s and an idle one 10 s after its last reply', () => {
    const { sim, tcp, udp } = world();
    const srv = new DnsServer(udp.server, { zone: records(1), upstream: [], tcp: tcp.server });
    // A client that connects and sends nothing.
    let silentClosedAt = -1;
    const silent = tcp.client.connect(ip('10.0.0.53'), 53);
    silent.onEnd = () => (silentClosedAt = sim.now);
    // A client that sends one query at 1 s and keeps the connection open.
    let chattyClosedAt = -1;
    const replies: DnsMessage[] = [];
    const rd = new DnsStreamReader();
    const chatty = tcp.client.connect(ip('10.0.0.53'), 53);
    chatty.onData = (d) => {
      rd.push(d!);
      for (let b = rd.next(); b !== null; b = rd.next()) replies.push(decodeDns(b, 0).msg);
    };
    chatty.onEnd = () => (chattyClosedAt = sim.now);
    sim.schedule(1 * SEC, () => chatty.send(frameDns(dnsQuery(7, 'a.example', DnsType.A), dnsQuery(8, 'b.example', DnsType.A))));
    sim.run({ until: 30 * SEC });
    expect(srv.counters.tcpConnections).toBe(2);
    expect(silentClosedAt).toBeGreaterThanOrEqual(3 * SEC);
    expect(silentClosedAt).toBeLessThan(3.01 * SEC);
    expect(replies.map((m) => m.id)).toEqual([7, 8]);
    expect(replies.every((m) => (m.flags & DnsFlag.QR) !== 0)).toBe(true);
    expect(chattyClosedAt).toBeGreaterThanOrEqual(11 * SEC);
    expect(chattyClosedAt).toBeLessThan(11.01 * SEC);
  });
});
