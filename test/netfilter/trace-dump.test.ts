// traceDump against kube-proxy's own packet-flow expectations (pkg/proxy/iptables/proxier_test.go,
// runPacketFlowTests): same dumps, same sources/destinations, same expected outputs. kube-proxy's
// output is "" (no DNAT, not dropped), "ACCEPT"/"DROP"/"REJECT", or the comma-joined set of DNAT
// destinations over all random branches; masq is true when the packet gets masqueraded.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseIptablesSave } from '../../src/netfilter/iptables-save.js';
import { traceDump, type TraceOutcome } from '../../src/netfilter/trace-dump.js';
import { ip } from './helpers.js';

const fixture = (name: string) => parseIptablesSave(readFileSync(fileURLToPath(new URL(`../fixtures/iptables/${name}`, import.meta.url)), 'utf8'), name);

// kube-proxy's test conventions (NewFakeProxier): node IPs, external client addresses.
const testNodeIP = '192.168.0.2';
const testNodeIPAlt = '192.168.1.2';
const testExternalIP = '192.168.99.11';
const testExternalClient = '203.0.113.2';
const testExternalClientBlocked = '203.0.113.130';
const testNodeIPs = [testNodeIP, testNodeIPAlt, testExternalIP].map(ip);

interface PacketFlowTest {
  name: string;
  sourceIP: string;
  protocol?: 'tcp' | 'udp' | 'sctp';
  destIP: string;
  destPort: number;
  output: string;
  masq?: boolean;
}

/** Checks outcomes the way kube-proxy's tracePacket summarises them. */
function check(outcomes: TraceOutcome[], tc: PacketFlowTest): void {
  const total = outcomes.reduce((s, o) => s + o.probability, 0);
  expect(total).toBeCloseTo(1, 9);
  const describe = JSON.stringify(outcomes.map((o) => [o.probability, o.verdict, o.dnat, o.masquerade, o.by]));
  if (tc.output === '') {
    expect(outcomes.every((o) => o.verdict === 'ACCEPT' && o.dnat === null), describe).toBe(true);
  } else if (tc.output === 'ACCEPT' || tc.output === 'DROP' || tc.output === 'REJECT') {
    expect(outcomes.every((o) => o.verdict === tc.output && o.dnat === null), describe).toBe(true);
    if (tc.output !== 'ACCEPT') expect(outcomes.every((o) => o.by !== 'policy'), describe).toBe(true);
  } else {
    const want = tc.output.split(', ').sort();
    expect(outcomes.every((o) => o.verdict === 'ACCEPT'), describe).toBe(true);
    expect([...new Set(outcomes.map((o) => o.dnat))].sort(), describe).toEqual(want);
  }
  expect(outcomes.some((o) => o.masquerade), describe).toBe(tc.masq ?? false);
}

function run(dump: string, cases: PacketFlowTest[]): void {
  const rules = fixture(dump);
  for (const tc of cases) {
    it(`${tc.name}: ${tc.sourceIP} -> ${tc.destIP}:${tc.destPort} gives ${JSON.stringify(tc.output)}${tc.masq ? ' (masq)' : ''}`, () => {
      const r = traceDump(rules, { localIps: testNodeIPs, src: ip(tc.sourceIP), dst: ip(tc.destIP), dport: tc.destPort, proto: tc.protocol ?? 'tcp' });
      check(r.outcomes, tc);
    });
  }
}

// TestTracePacket: the cases kube-proxy uses to check its own tracer.
const traceCases: PacketFlowTest[] = [
  { name: 'no match', sourceIP: '10.0.0.2', destIP: '10.0.0.3', destPort: 80, output: '' },
  { name: 'single endpoint', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 80, output: '10.180.0.1:80' },
  { name: 'multiple endpoints', sourceIP: '10.0.0.2', destIP: '172.30.0.44', destPort: 80, output: '10.180.0.4:80, 10.180.0.5:80' },
  { name: 'LOCAL, KUBE-MARK-MASQ', sourceIP: testNodeIP, destIP: '192.168.99.22', destPort: 80, output: '10.180.0.2:80', masq: true },
  { name: 'DROP', sourceIP: testExternalClient, destIP: '192.168.99.22', destPort: 80, output: 'DROP' },
  { name: 'ACCEPT (NodePortHealthCheck)', sourceIP: testNodeIP, destIP: testNodeIP, destPort: 30000, output: 'ACCEPT' },
  { name: 'REJECT', sourceIP: '10.0.0.2', destIP: '172.30.0.46', destPort: 80, output: 'REJECT' },
];

describe("kube-proxy TestTracePacket cases on its dump (trace-packet.restore)", () => run('trace-packet.restore', traceCases));

describe('the same cases, and load-balancer / NodePort cases, on the full node dump kube-proxy renders (kube-proxy-node.save)', () =>
  run('kube-proxy-node.save', [
    ...traceCases,
    // TestLoadBalancer-style expectations on svc5 (LoadBalancer 5.6.7.8, source range 203.0.113.0/25, Cluster policy, affinity).
    { name: 'accepted external to LB', sourceIP: testExternalClient, destIP: '5.6.7.8', destPort: 80, output: '10.180.0.3:80', masq: true },
    { name: 'blocked external to LB', sourceIP: testExternalClientBlocked, destIP: '5.6.7.8', destPort: 80, output: 'DROP' },
    { name: 'pod to LB (blocked by LoadBalancerSourceRanges)', sourceIP: '10.0.0.2', destIP: '5.6.7.8', destPort: 80, output: 'DROP' },
    { name: 'pod to cluster IP', sourceIP: '10.0.0.2', destIP: '172.30.0.45', destPort: 80, output: '10.180.0.3:80' },
    { name: 'hairpin to cluster IP', sourceIP: '10.180.0.1', destIP: '172.30.0.41', destPort: 80, output: '10.180.0.1:80', masq: true },
    { name: 'external to cluster IP gets masqueraded', sourceIP: testExternalClient, destIP: '172.30.0.41', destPort: 80, output: '10.180.0.1:80', masq: true },
    // TestNodePorts-style expectations (svc3 NodePort 3003, Cluster policy).
    { name: 'external to nodePort', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 3003, output: '10.180.0.3:80', masq: true },
    { name: 'node to nodePort', sourceIP: testNodeIP, destIP: testNodeIP, destPort: 3003, output: '10.180.0.3:80', masq: true },
    { name: 'external to nodePort on secondary IP', sourceIP: testExternalClient, destIP: testNodeIPAlt, destPort: 3003, output: '10.180.0.3:80', masq: true },
    { name: 'localhost to nodePort gets masqueraded', sourceIP: '127.0.0.1', destIP: '127.0.0.1', destPort: 3003, output: '10.180.0.3:80', masq: true },
    // svc2: LoadBalancer with Local policy and no local endpoints.
    { name: 'external to Local-policy nodePort without local endpoints is dropped', sourceIP: testExternalClient, destIP: testNodeIP, destPort: 3001, output: 'DROP' },
    { name: 'pod to Local-policy external IP reaches the cluster-wide endpoints', sourceIP: '10.0.0.2', destIP: '192.168.99.22', destPort: 80, output: '10.180.0.2:80' },
    { name: 'UDP to a TCP-only service does not match', sourceIP: '10.0.0.2', protocol: 'udp', destIP: '172.30.0.41', destPort: 80, output: '' },
    { name: 'svc1 does not accept other ports', sourceIP: '10.0.0.2', destIP: '172.30.0.41', destPort: 443, output: '' },
  ]));

describe('traceDump details', () => {
  it('follows both statistic branches with the probabilities the kernel uses, and reports the path', () => {
    const r = traceDump(fixture('kube-proxy-node.save'), { localIps: testNodeIPs, src: ip('10.0.0.2'), dst: ip('172.30.0.44'), dport: 80, proto: 'tcp' });
    expect(r.outcomes.map((o) => [o.probability, o.dnat, o.verdict, o.masquerade])).toEqual([
      [0.5, '10.180.0.4:80', 'ACCEPT', false],
      [0.5, '10.180.0.5:80', 'ACCEPT', false],
    ]);
    expect(r.outcomes[0]!.path.map((p) => `${p.table} ${p.rule}`)).toEqual([
      'nat -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'nat -A KUBE-SERVICES -d 172.30.0.44/32 -p tcp -m comment --comment "ns4/svc4:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-4SW47YFZTEDKD3PK',
      'nat -A KUBE-SVC-4SW47YFZTEDKD3PK -m comment --comment "ns4/svc4:p80 -> 10.180.0.4:80" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-UKSFD7AGPMPPLUHC',
      'nat -A KUBE-SEP-UKSFD7AGPMPPLUHC -p tcp -m comment --comment "ns4/svc4:p80" -m tcp -j DNAT --to-destination 10.180.0.4:80',
      'filter -A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
      'filter -A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
      'filter -A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'filter -A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
      'nat -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
      'nat -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    ]);
    expect(r.outcomes[0]!.by).toBe('policy');
  });

  it('a three-way split gives kube-proxy probabilities 1/3, 1/2 of the rest, and the rest', () => {
    const text = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -m statistic --mode random --probability 0.33333333349 -j DNAT --to-destination 10.0.0.1:80
-A PREROUTING -m statistic --mode random --probability 0.50000000000 -j DNAT --to-destination 10.0.0.2:80
-A PREROUTING -j DNAT --to-destination 10.0.0.3:80
COMMIT
`;
    const r = traceDump(parseIptablesSave(text), { localIps: [ip('192.168.0.2')], src: ip('1.1.1.1'), dst: ip('9.9.9.9'), dport: 80, proto: 'tcp' });
    const p = r.outcomes.map((o) => o.probability);
    expect(r.outcomes.map((o) => o.dnat)).toEqual(['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
    expect(p[0]).toBeCloseTo(1 / 3, 9);
    expect(p[1]).toBeCloseTo(1 / 3, 9);
    expect(p[2]).toBeCloseTo(1 / 3, 9);
  });

  it('REJECT and DROP name the rule that decided', () => {
    const r = traceDump(fixture('kube-proxy-node.save'), { localIps: testNodeIPs, src: ip('10.0.0.2'), dst: ip('172.30.0.46'), dport: 80, proto: 'tcp' });
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0]!.by).toBe('-A KUBE-SERVICES -d 172.30.0.46/32 -p tcp -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable');
  });
});
