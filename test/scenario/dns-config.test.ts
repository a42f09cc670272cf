// scenarios/dns-config.yaml held to its header: the queries each client sends follow the resolv.conf the
// kubelet wrote from its dnsPolicy and dnsConfig.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { StatsDocument } from '../../src/stats/index.js';
import { decodeDns, DnsFlag, DnsType } from '../../src/wire/dns.js';
import { runScenarioFrames } from '../integration/run-scenario.js';

describe('scenarios/dns-config.yaml', () => {
  const run = runScenarioFrames('dns-config');
  afterAll(() => rmSync(run.dir, { recursive: true, force: true }));
  const s = JSON.parse(run.statsJson) as StatsDocument;
  const flow = (name: string) => s.flows.find((f) => f.name === name)!;
  /** The DNS queries a pod sent over UDP (name and type), in order. */
  const queries = (pod: string) =>
    run.frames
      .filter((f) => f.ifName === `${pod}/eth0` && f.pkt.udp?.dstPort === 53)
      .map((f) => decodeDns(f.pkt.payload!, 0).msg)
      .map((m) => `${m.questions[0]!.name} ${m.questions[0]!.type === DnsType.A ? 'A' : 'AAAA'}`);
  const nameservers = (pod: string) => [...new Set(run.frames.filter((f) => f.ifName === `${pod}/eth0` && f.pkt.udp?.dstPort === 53).map((f) => f.pkt.ip!.dst))];

  it('ClusterFirst (ndots:5): example.com walks the three search domains first — 8 queries a lookup', () => {
    const q = queries('client').filter((x) => x.startsWith('example.com'));
    expect(q.slice(0, 8)).toEqual(['example.com.default.svc.cluster.local A', 'example.com.default.svc.cluster.local AAAA', 'example.com.svc.cluster.local A', 'example.com.svc.cluster.local AAAA', 'example.com.cluster.local A', 'example.com.cluster.local AAAA', 'example.com A', 'example.com AAAA']);
    expect(q.length).toBe(16);
  });

  it('dnsConfig ndots:1: the name as it is first, one round trip; faster than ndots:5 when both are cached', () => {
    expect(queries('client-ndots1')).toEqual(['example.org A', 'example.org AAAA', 'example.org A', 'example.org AAAA']);
    expect(flow('example-ndots1').latencyUs.min).toBeLessThan(flow('example-ndots5').latencyUs.min / 2);
  });

  it('dnsPolicy None: the nameserver and search of dnsConfig only — the cluster name fails', () => {
    expect(nameservers('client-none')).toEqual([(10 << 24) | (100 << 16) | (11 << 8) | 53].map((x) => x >>> 0));
    expect(queries('client-none')).toContain('web.corp.example A');
    expect(flow('example-none').successes).toBe(2);
    expect(flow('lookup-web-none').errorsByKind.dns).toBe(1);
  });

  it('dnsPolicy Default: the node\'s resolv.conf (the upstream resolver)', () => {
    expect(nameservers('client-default')).toEqual([((10 << 24) | (100 << 16) | (11 << 8) | 53) >>> 0]);
    expect(flow('example-default').successes).toBe(2);
  });

  it('edns0: the 30-pod answer fits in UDP (no TC, no TCP); without it cut at 512 and repeated over TCP', () => {
    const replies = (pod: string) => run.frames.filter((f) => f.ifName === `${pod}/eth0` && f.pkt.udp?.srcPort === 53).map((f) => decodeDns(f.pkt.payload!, 0).msg).filter((m) => m.questions[0]!.name.startsWith('big.') && m.questions[0]!.type === DnsType.A);
    const tcpSyns = (pod: string) => run.frames.filter((f) => f.ifName === `${pod}/eth0` && f.pkt.tcp?.dstPort === 53 && (f.pkt.tcp.flags & 0x02) !== 0).length;
    expect(replies('client-edns').every((m) => (m.flags & DnsFlag.TC) === 0 && m.answers.length === 30)).toBe(true);
    expect(tcpSyns('client-edns')).toBe(0);
    expect(replies('client').every((m) => (m.flags & DnsFlag.TC) !== 0)).toBe(true);
    expect(tcpSyns('client')).toBe(2); // two rounds: 30 addresses overflow getaddrinfo's first 1 KiB
    expect(flow('big-edns0').latencyUs.max).toBeLessThan(flow('big-udp512').latencyUs.min);
  });
});
