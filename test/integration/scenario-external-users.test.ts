// scenarios/external-users.yaml: users on an internet behind a router resolve names served by a
// public authoritative zone, cache the answers for their TTL, and connect to the NodePorts the A
// records name.
//
//   user1 203.0.113.10 ─┐                                       ┌─ node1 10.100.11.11:32001
//   user2 203.0.113.11 ─┼─ internet/br0 ─ edge ─ network/br0 ───┤
//   ns1   203.0.113.53 ─┘   (10 ms/link)  eth1|eth0 (no NAT)    └─ node2 10.100.11.12:32001
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeDns, DnsFlag, DnsRcode, DnsType, dnsRcode, type DnsMessage } from '../../src/wire/dns.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { TcpFlag } from '../../src/wire/types.js';
import type { StatsDocument } from '../../src/stats/schema.js';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { hasTshark, NO_TSHARK, tsharkCheck } from '../helpers/tshark.js';
import { runScenarioFrames, type Frame, type FramedRun } from './run-scenario.js';

const SEC = 1e9;
const ip = formatIpv4;

interface DnsFrame {
  t: number;
  src: string;
  m: DnsMessage;
}

describe('external-users.yaml', () => {
  let r: FramedRun;
  let stats: StatsDocument;
  const dnsOn = (ifName: string): DnsFrame[] =>
    r.frames.filter((f) => f.ifName === ifName && f.pkt.udp !== null && (f.pkt.udp.srcPort === 53 || f.pkt.udp.dstPort === 53) && f.pkt.payload !== null).map((f) => ({ t: f.tNs, src: ip(f.pkt.ip!.src), m: decodeDns(f.pkt.payload!, 0).msg }));
  const isQuery = (d: DnsFrame, name: string, type: number): boolean => (d.m.flags & DnsFlag.QR) === 0 && d.m.questions[0]!.name === name && d.m.questions[0]!.type === type;
  const syns = (ifName: string): Frame[] => r.frames.filter((f) => f.ifName === ifName && f.pkt.tcp !== null && (f.pkt.tcp.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN);

  beforeAll(() => {
    r = runScenarioFrames('external-users');
    stats = JSON.parse(r.statsJson) as StatsDocument;
  });

  it('every request succeeds; the NXDOMAIN lookups fail as dns errors', () => {
    const f = (n: string) => stats.flows.find((x) => x.name === n)!;
    expect([f('user1-www').successes, f('user2-app').successes, f('user2-shop').successes]).toEqual([24, 3, 2]);
    expect(f('user2-missing').errorsByKind.dns).toBe(2);
  });

  it('user1 asks for www.mydomain.com only when its cached answer expired: 3 queries for 24 requests, ≥ 5 s (the A TTL) apart', () => {
    const dns = dnsOn('user1/eth0');
    const queries = dns.filter((d) => isQuery(d, 'www.mydomain.com', DnsType.A));
    expect(queries.map((q) => Math.round(q.t / (SEC / 10)) / 10)).toEqual([1, 6.5, 12]);
    expect(syns('user1/eth0')).toHaveLength(24);
    const answer = dns.find((d) => d.m.flags & DnsFlag.QR && d.m.questions[0]!.type === DnsType.A)!.m;
    expect(answer.flags & DnsFlag.AA).toBeTruthy();
    expect(answer.answers.map((a) => `${a.name} ${a.data.kind} ${a.ttl}`)).toEqual(['www.mydomain.com CNAME 60', 'app.mydomain.com A 5', 'app.mydomain.com A 5']);
  });

  it('ns1 rotates the A records on every answer, and each user connects to the first address of the answer it holds', () => {
    const answers = dnsOn('ns1/eth0').filter((d) => d.m.flags & DnsFlag.QR && d.m.answers.some((a) => a.name === 'app.mydomain.com' && a.data.kind === 'A'));
    const firsts = answers.map((d) => ip((d.m.answers.find((a) => a.data.kind === 'A')!.data as { address: number }).address));
    expect(firsts.length).toBe(4); // user1 ×3, user2 ×1
    for (let i = 1; i < firsts.length; i++) expect(firsts[i]).not.toBe(firsts[i - 1]);
    for (const user of ['user1', 'user2']) {
      const replies = dnsOn(`${user}/eth0`).filter((d) => d.m.flags & DnsFlag.QR && d.m.questions[0]!.type === DnsType.A && d.m.questions[0]!.name !== 'shop.mydomain.com');
      for (const s of syns(`${user}/eth0`).filter((f) => f.pkt.tcp!.dstPort === 32001)) {
        const held = replies.filter((d) => d.t < s.tNs).at(-1)!;
        const first = held.m.answers.find((a) => a.data.kind === 'A')!.data as { address: number };
        expect(ip(s.pkt.ip!.dst)).toBe(ip(first.address));
      }
    }
    // So the two users start on different nodes.
    expect(ip(syns('user1/eth0')[0]!.pkt.ip!.dst)).not.toBe(ip(syns('user2/eth0')[0]!.pkt.ip!.dst));
  });

  it('a NXDOMAIN is cached for the SOA minimum: the second lookup a second later sends nothing', () => {
    const dns = dnsOn('user2/eth0');
    expect(dns.filter((d) => isQuery(d, 'nosuch.mydomain.com', DnsType.A))).toHaveLength(1);
    const nx = dns.find((d) => d.m.flags & DnsFlag.QR && d.m.questions[0]!.name === 'nosuch.mydomain.com')!.m;
    expect(dnsRcode(nx)).toBe(DnsRcode.NXDOMAIN);
    expect(nx.authority[0]!.data).toMatchObject({ kind: 'SOA', minimum: 30 });
  });

  it('the router forwards without NAT and decrements the TTL: a SYN leaves edge/eth0 with TTL 63, the node sees the user\'s address', () => {
    const inbound = syns('edge/eth1')[0]!;
    const outbound = syns('edge/eth0').find((f) => f.pkt.tcp!.seq === inbound.pkt.tcp!.seq)!;
    expect([inbound.pkt.ip!.ttl, outbound.pkt.ip!.ttl]).toEqual([64, 63]);
    expect([ip(outbound.pkt.ip!.src), ip(outbound.pkt.ip!.dst)]).toEqual(['203.0.113.10', ip(inbound.pkt.ip!.dst)]);
    const node = outbound.pkt.ip!.dst === 0x0a640b0b ? 'node1' : 'node2';
    expect(syns(`${node}/eth0`).some((f) => f.pkt.tcp!.seq === inbound.pkt.tcp!.seq && ip(f.pkt.ip!.src) === '203.0.113.10')).toBe(true);
  });

  it('external-dns published shop.mydomain.com from the LoadBalancer Service, and user2 reached it by name', () => {
    expect(stats.timeline.map((e) => e.what)).toContain('external-dns: UPSERT A shop.mydomain.com → 10.100.11.240 (ttl 30)');
    expect(syns('user2/eth0').filter((f) => ip(f.pkt.ip!.dst) === '10.100.11.240')).toHaveLength(2);
  });

  it('stats.json: per-request phases for the users\' flows; dns is 0 on cache hits, connect is one internet round trip', () => {
    const f = stats.flows.find((x) => x.name === 'user1-www')!;
    const p = f.phasesUs!;
    expect(p).toBeDefined();
    expect(p.dns.p50).toBe(0);
    expect(p.dns.max).toBeGreaterThan(20_000);
    expect(p.connect.p50).toBeGreaterThan(20_000);
    expect(p.tls.max).toBe(0);
    expect(p.ttfb.p50).toBeGreaterThan(20_000);
    expect(p.total.max).toBeGreaterThanOrEqual(p.dns.max + p.connect.p50);
    expect(stats.flows.find((x) => x.name === 'user2-missing')!.phasesUs).toBeUndefined();
  });

  it.skipIf(!hasTshark())(`is clean in tshark on every interface${hasTshark() ? '' : ` (skipped: ${NO_TSHARK})`}`, () => {
    const split = splitPcapngPerInterface(readFileSync(r.capturePath), r.dir);
    expect(split.size).toBeGreaterThan(20);
    for (const [ifName, file] of split) {
      const rep = tsharkCheck(file);
      expect([ifName, rep.malformed, rep.badChecksums]).toEqual([ifName, 0, 0]);
    }
  }, 300_000);
});
