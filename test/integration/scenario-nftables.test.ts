// scenarios/nftables.yaml: Services through kube-proxy's nftables mode. New connections to the
// ClusterIP and the NodePort are DNATed by `numgen random mod 3 vmap` to the three web pods; a port the
// ClusterIP does not serve and a Service without endpoints are rejected (ICMP port unreachable from
// node1: refused at once); an unallocated service address is dropped (the client times out).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { listRuleset } from '../../src/netfilter/nft/list.js';
import type { StatsDocument } from '../../src/stats/schema.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { IcmpType, IcmpUnreachCode, TcpFlag } from '../../src/wire/types.js';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { hasTshark, NO_TSHARK, tsharkCheck } from '../helpers/tshark.js';
import { runScenarioFrames, type FramedRun } from './run-scenario.js';

describe('nftables.yaml', () => {
  let r: FramedRun;
  let stats: StatsDocument;
  const flow = (n: string) => stats.flows.find((f) => f.name === n)!;
  beforeAll(() => {
    r = runScenarioFrames('nftables');
    stats = JSON.parse(r.statsJson) as StatsDocument;
  });

  it('ClusterIP and NodePort requests all succeed, spread over the three pods', () => {
    expect([flow('clusterip').successes, flow('nodeport').successes]).toEqual([60, 30]);
    expect(stats.endpoints.map((e) => e.served).reduce((a, b) => a + b, 0)).toBe(90);
    for (const e of stats.endpoints) expect(e.served).toBeGreaterThan(10);
  });

  it('a wrong port and an empty Service are refused; an unallocated address times out', () => {
    expect(flow('wrong-port').errorsByKind.refused).toBe(2);
    expect(flow('no-endpoints').errorsByKind.refused).toBe(2);
    expect(flow('unallocated').errorsByKind.timeout).toBe(2);
    expect(stats.counters['drops/node1']).toEqual({ 'netfilter-drop': 2, 'netfilter-reject': 4 });
  });

  it('node1 answers the rejected SYNs with ICMP port unreachable; nothing answers the dropped ones', () => {
    const unreach = r.frames.filter((f) => f.ifName === 'node1/cni0' && f.pkt.icmp?.type === IcmpType.DEST_UNREACH);
    expect(unreach).toHaveLength(4);
    for (const f of unreach) expect(f.pkt.icmp!.code).toBe(IcmpUnreachCode.PORT);
    const toUnallocated = r.frames.filter((f) => f.ifName === 'node1/cni0' && f.pkt.tcp !== null && f.pkt.ip !== null && formatIpv4(f.pkt.ip.dst) === '10.99.0.200' && f.pkt.tcp.flags === TcpFlag.SYN);
    expect(toUnallocated.length).toBeGreaterThanOrEqual(2);
    expect(r.frames.some((f) => f.pkt.ip !== null && formatIpv4(f.pkt.ip.src) === '10.99.0.200')).toBe(false);
  });

  it('each node holds the ip kube-proxy table: its own node port address, the service chains', () => {
    const node2 = r.world.namespaces.get('node2')!;
    const text = listRuleset(node2.nf!.nft, r.world.sim.now);
    expect(text).toMatch(/set nodeport-ips \{\n\t\ttype ipv4_addr\n\t\tcomment "IPs that accept NodePort traffic"\n\t\telements = \{ 10\.100\.11\.12 \}/);
    expect(text).toContain('numgen random mod 3 vmap');
    expect(text).toMatch(/elements = \{ tcp \. 30080 : goto external-[A-Z2-7]{8}-default\/web\/tcp\/ \}/);
    expect(node2.nf!.save()).not.toContain('KUBE-SVC-'); // no iptables service rules in this mode
  });

  it.skipIf(!hasTshark())(`is clean in tshark on every interface${hasTshark() ? '' : ` (skipped: ${NO_TSHARK})`}`, () => {
    const split = splitPcapngPerInterface(readFileSync(r.capturePath), r.dir);
    expect(split.size).toBeGreaterThan(10);
    for (const [ifName, file] of split) {
      const rep = tsharkCheck(file);
      expect([ifName, rep.malformed, rep.badChecksums]).toEqual([ifName, 0, 0]);
    }
  }, 300_000);
});
