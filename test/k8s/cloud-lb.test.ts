// The cloud load balancers' pure parts (k8s/cloud-lb): the providers' health-check defaults as the
// Kubernetes cloud providers create them (external-flows-facts.md §c), the thresholds, each
// provider's distribution and its rule when no target is healthy, the AWS hostname, the status entry
// and the proxy protocol v1 line.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { awsHostname, defaultHealthCheck, ingressOf, poolAddresses, withOverrides, type LbProvider } from '../../src/k8s/cloud-lb/config.js';
import { proxyProtocolV1 } from '../../src/k8s/cloud-lb/clb-proxy.js';
import { targetTransition } from '../../src/k8s/cloud-lb/health-checker.js';
import { eligibleTargets, flowHash, pickTarget, type LbService, type LbTarget, type TargetState } from '../../src/k8s/cloud-lb/model.js';
import type { ClusterNode } from '../../src/k8s/cluster.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4-addr.js';

const S = 1e9;
const summary = (p: LbProvider, etp: 'Cluster' | 'Local') => {
  const hc = defaultHealthCheck(p, etp, 30080, 31555)!;
  return `${hc.protocol}:${hc.port}${hc.path} ${hc.intervalNs / S}/${hc.timeoutNs / S}/${hc.healthyThreshold}/${hc.unhealthyThreshold}`;
};

describe('health-check defaults (interval/timeout/healthy/unhealthy)', () => {
  it('as cloud-provider-aws, -gcp and -azure create them for ETP Cluster and Local', () => {
    expect(summary('aws-clb', 'Cluster')).toBe('TCP:30080 10/5/2/6');
    expect(summary('aws-clb', 'Local')).toBe('HTTP:31555/healthz 10/5/2/6');
    expect(summary('aws-nlb', 'Cluster')).toBe('TCP:30080 30/10/3/3');
    expect(summary('aws-nlb', 'Local')).toBe('HTTP:31555/healthz 10/10/2/2');
    expect(summary('gcp', 'Cluster')).toBe('HTTP:10256/healthz 8/1/1/3');
    expect(summary('gcp', 'Local')).toBe('HTTP:31555/healthz 8/1/1/3');
    expect(summary('azure', 'Cluster')).toBe('TCP:30080 5/5/1/2');
    expect(summary('azure', 'Local')).toBe('HTTP:31555/healthz 5/5/1/2');
    expect(defaultHealthCheck('metallb-bgp', 'Cluster', 30080, null)).toBeNull();
  });

  it('matchers: AWS takes 200-399, GCP and Azure only 200', () => {
    const aws = defaultHealthCheck('aws-nlb', 'Local', 1, 2)!;
    expect([200, 302, 399, 400, 503].map(aws.okStatus)).toEqual([true, true, true, false, false]);
    const gcp = defaultHealthCheck('gcp', 'Local', 1, 2)!;
    expect([200, 302, 503].map(gcp.okStatus)).toEqual([true, false, false]);
  });

  it('scenario overrides replace single fields; an HTTP override of a TCP check gets /healthz', () => {
    const hc = withOverrides(defaultHealthCheck('aws-clb', 'Cluster', 30080, null)!, { interval: '2s', unhealthyThreshold: 2, protocol: 'HTTP', port: 10256 });
    expect([hc.protocol, hc.port, hc.path, hc.intervalNs, hc.timeoutNs, hc.healthyThreshold, hc.unhealthyThreshold]).toEqual(['HTTP', 10256, '/healthz', 2 * S, 5 * S, 2, 2]);
  });
});

describe('target state (thresholds)', () => {
  const hc = { healthyThreshold: 2, unhealthyThreshold: 3 };
  const run = (start: TargetState, results: boolean[]) => {
    let state = start;
    let last: boolean | null = null;
    let n = 0;
    const out: TargetState[] = [];
    for (const ok of results) {
      n = last === ok ? n + 1 : 1;
      last = ok;
      state = targetTransition(state, ok, n, hc);
      out.push(state);
    }
    return out.map((s) => s[0]).join('');
  };
  it('the first verdict at once, then unhealthy after 3 failures in a row and healthy after 2 successes', () => {
    expect(run('initial', [true, false, false, true, false, false, false, true, true])).toBe('hhhhhhuuh');
    expect(run('initial', [false, true, false, true, true])).toBe('uuuuh');
  });
});

const node = (i: number): ClusterNode => ({ name: `node${i}`, ip: parseIpv4(`10.100.11.${10 + i}`)! }) as ClusterNode;
const target = (i: number, state: TargetState = 'healthy'): LbTarget => ({ node: node(i), state, since: 0, run: 0, lastOk: null, lastResult: '' });
const lb = (provider: LbProvider, states: TargetState[]): LbService => {
  const targets = states.map((s, i) => target(i + 1, s));
  return {
    provider,
    namespace: 'default',
    name: 'web',
    vip: parseIpv4('10.100.11.240')!,
    hostname: null,
    listeners: [{ port: 80, protocol: 'TCP', nodePort: 30080, check: null, targets }],
    targets,
    healthCheck: null,
    etp: 'Cluster',
    idleTimeoutNs: 0,
    proxyProtocol: false,
    rr: 0,
  };
};
const client = parseIpv4('10.100.11.100')!;
const pick = (svc: LbService, sport: number, seq = 0) => pickTarget(svc, flowHash(6, client, sport, svc.vip, 80, seq))?.node.name ?? null;

describe('distribution and the no-healthy-target rule', () => {
  it('unhealthy targets take no new connections; none healthy: NLB fails open, GCP spreads over all, Azure/CLB/BGP have none', () => {
    expect(eligibleTargets(lb('aws-nlb', ['healthy', 'unhealthy', 'initial'])).map((t) => t.node.name)).toEqual(['node1', 'node3']);
    expect(eligibleTargets(lb('aws-nlb', ['unhealthy', 'unhealthy'])).length).toBe(2);
    expect(eligibleTargets(lb('gcp', ['unhealthy', 'unhealthy'])).length).toBe(2);
    for (const p of ['azure', 'aws-clb', 'metallb-bgp'] as const) expect(pick(lb(p, ['unhealthy', 'unhealthy']), 40000)).toBeNull();
  });

  it('CLB: round robin over the healthy instances', () => {
    const svc = lb('aws-clb', ['healthy', 'unhealthy', 'healthy']);
    expect([1, 2, 3, 4].map(() => pickTarget(svc, 0)!.node.name)).toEqual(['node1', 'node3', 'node1', 'node3']);
  });

  it('NLB: the TCP sequence number is in the flow hash (the same 4-tuple may land elsewhere), every target gets flows', () => {
    const svc = lb('aws-nlb', ['healthy', 'healthy', 'healthy']);
    const bySeq = new Set(Array.from({ length: 40 }, (_, i) => pick(svc, 40000, i * 7919)));
    expect(bySeq.size).toBe(3);
    const counts = new Map<string, number>();
    for (let p = 0; p < 3000; p++) counts.set(pick(svc, 32768 + p, p)!, (counts.get(pick(svc, 32768 + p, p)!) ?? 0) + 1);
    for (const n of counts.values()) expect(n).toBeGreaterThan(800);
  });

  it('GCP: a consistent hash — removing a target moves only the flows that were on it', () => {
    const all = lb('gcp', ['healthy', 'healthy', 'healthy', 'healthy']);
    const less = lb('gcp', ['healthy', 'healthy', 'unhealthy', 'healthy']);
    let moved = 0;
    for (let p = 0; p < 2000; p++) {
      const a = pick(all, 32768 + p)!;
      const b = pick(less, 32768 + p)!;
      if (a !== 'node3') expect(b).toBe(a);
      else moved++;
    }
    expect(moved).toBeGreaterThan(300);
  });

  it('BGP ECMP: hash-threshold over the next hops (RFC 2992); a change of the set can move flows whose hop stayed', () => {
    const three = lb('metallb-bgp', ['healthy', 'healthy', 'healthy']);
    const noFirst = lb('metallb-bgp', ['unhealthy', 'healthy', 'healthy']);
    const noMiddle = lb('metallb-bgp', ['healthy', 'unhealthy', 'healthy']);
    let movedByFirst = 0;
    let movedByMiddle = 0;
    for (let p = 0; p < 3000; p++) {
      const a = pick(three, 32768 + p);
      if (a !== 'node1' && pick(noFirst, 32768 + p) !== a) movedByFirst++;
      if (a !== 'node2' && pick(noMiddle, 32768 + p) !== a) movedByMiddle++;
    }
    // Losing node1 shifts every region's bounds: part of node2's flows go to node3.
    expect(movedByFirst).toBeGreaterThan(200);
    // Losing the middle hop only splits its region between its neighbours.
    expect(movedByMiddle).toBe(0);
  });
});

describe('status and names', () => {
  it('AWS: hostname a<32 hex>-<n>.elb.us-east-1.amazonaws.com, the same for the same Service', () => {
    const h = (s: string) => createHash('sha256').update(s).digest('hex');
    const name = awsHostname('default', 'web', h);
    expect(name).toMatch(/^a[0-9a-f]{32}-\d{1,10}\.elb\.us-east-1\.amazonaws\.com$/);
    expect(awsHostname('default', 'web', h)).toBe(name);
    expect(awsHostname('default', 'web2', h)).not.toBe(name);
  });

  it('ingress: AWS hostname (CLB ipMode Proxy, NLB VIP), the others ip with ipMode VIP', () => {
    const vip = parseIpv4('10.100.11.240')!;
    expect(ingressOf('aws-clb', vip, 'a.elb')).toEqual({ hostname: 'a.elb', ipMode: 'Proxy' });
    expect(ingressOf('aws-nlb', vip, 'a.elb')).toEqual({ hostname: 'a.elb', ipMode: 'VIP' });
    expect(ingressOf('gcp', vip, null)).toEqual({ ip: '10.100.11.240', ipMode: 'VIP' });
  });

  it('pools: a list as given, a CIDR as every address in it', () => {
    expect(poolAddresses(['10.0.0.5', '10.0.0.9']).map(formatIpv4)).toEqual(['10.0.0.5', '10.0.0.9']);
    expect(poolAddresses('10.100.11.240/30').map(formatIpv4)).toEqual(['10.100.11.240', '10.100.11.241', '10.100.11.242', '10.100.11.243']);
  });

  it('proxy protocol v1: the text line of the ELB guide', () => {
    expect(proxyProtocolV1(parseIpv4('198.51.100.22')!, 35646, parseIpv4('203.0.113.7')!, 80)).toBe('PROXY TCP4 198.51.100.22 203.0.113.7 35646 80\r\n');
  });
});
