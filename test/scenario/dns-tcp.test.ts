// scenarios/dns-tcp.yaml held to its header: the 40-pod headless Service's UDP reply is cut at 512
// octets with TC set, and the client's resolver asks again over TCP (both queries in one segment, the
// client closing first) and gets every record, twice per lookup (getaddrinfo's ERANGE retry); the 10-pod
// one's answer fits and never touches TCP.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { StatsDocument } from '../../src/stats/index.js';
import { DnsStreamReader } from '../../src/app/dns-stream.js';
import { decodeDns, DnsFlag, DnsType } from '../../src/wire/dns.js';
import { runScenarioFrames } from '../integration/run-scenario.js';

describe('scenarios/dns-tcp.yaml', () => {
  const run = runScenarioFrames('dns-tcp');
  afterAll(() => rmSync(run.dir, { recursive: true, force: true }));
  const s = JSON.parse(run.statsJson) as StatsDocument;
  const atClient = run.frames.filter((f) => f.ifName === 'client/eth0');
  const flow = (name: string) => s.flows.find((f) => f.name === name)!;

  it('every lookup of big comes back with all 40 pods after a TCP exchange; small stays on UDP', () => {
    expect(flow('lookup-big').successes).toBe(3);
    expect(flow('lookup-small').successes).toBe(3);
    const udpReplies = atClient.filter((f) => f.pkt.udp?.srcPort === 53).map((f) => decodeDns(f.pkt.payload!, 0).msg);
    const bigA = udpReplies.filter((m) => m.questions[0]!.name.startsWith('big.') && m.questions[0]!.type === DnsType.A);
    expect(bigA.length).toBe(6); // each lookup twice: 40 addresses overflow getaddrinfo's first buffer (ERANGE)
    for (const m of bigA) {
      expect(m.flags & DnsFlag.TC).toBe(DnsFlag.TC);
      expect(m.answers.length).toBeLessThan(40);
    }
    expect(udpReplies.filter((m) => m.questions[0]!.name.startsWith('small.')).every((m) => (m.flags & DnsFlag.TC) === 0)).toBe(true);
    // Over TCP: the replies from port 53, reassembled per connection.
    const byConn = new Map<number, DnsStreamReader>();
    const tcpReplies = [];
    for (const f of atClient.filter((x) => x.pkt.tcp?.srcPort === 53 && x.pkt.payload !== null && x.pkt.payload.length > 0)) {
      const port = f.pkt.tcp!.dstPort;
      const rd = byConn.get(port) ?? new DnsStreamReader();
      byConn.set(port, rd);
      rd.push(f.pkt.payload!);
      for (let b = rd.next(); b !== null; b = rd.next()) tcpReplies.push(decodeDns(b, 0).msg);
    }
    expect(byConn.size).toBe(6); // one connection per round of big, none for small
    const a = tcpReplies.filter((m) => m.questions[0]!.type === DnsType.A);
    expect(a.map((m) => m.answers.length)).toEqual([40, 40, 40, 40, 40, 40]);
    expect(tcpReplies.every((m) => (m.flags & DnsFlag.TC) === 0)).toBe(true);
  });

  it('the TCP fallback (and the second round) costs handshakes and round trips: big takes longer than small', () => {
    expect(flow('lookup-big').latencyUs.min).toBeGreaterThan(2 * flow('lookup-small').latencyUs.max);
  });

  it('the client sends both queries in one segment and closes each connection first', () => {
    const fromClient = atClient.filter((f) => f.pkt.tcp?.dstPort === 53);
    const data = fromClient.filter((f) => f.pkt.payload !== null && f.pkt.payload.length > 0);
    expect(data.length).toBe(6);
    for (const d of data) {
      const rd = new DnsStreamReader();
      rd.push(d.pkt.payload!);
      expect([rd.next(), rd.next()].map((b) => decodeDns(b!, 0).msg.questions[0]!.type)).toEqual([DnsType.A, DnsType.AAAA]);
    }
    const fins = atClient.filter((f) => f.pkt.tcp !== null && (f.pkt.tcp.flags & 0x01) !== 0);
    expect(fins.length).toBe(12);
    for (let i = 0; i < fins.length; i += 2) expect(fins[i]!.pkt.tcp!.dstPort).toBe(53); // the client's FIN, then CoreDNS's
  });
});
