// kube-proxy iptables rendering against kube-proxy's own expectation: the services of
// TestOverallIPTablesRules (pkg/proxy/iptables/proxier_test.go, v1.32) must give the rules that test
// expects (test/fixtures/iptables/kube-proxy-overall.restore), byte for byte.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chainHash, endpointChain, probability, renderKubeProxyBase, renderKubeProxyRules, serviceChains, type KpEndpoint, type KpServicePort } from '../../src/k8s/kube-proxy/iptables.js';
import { parseIptablesSave, renderIptablesSave } from '../../src/netfilter/iptables-save.js';

const ep = (ip: string, isLocal = false): KpEndpoint => ({ ip, port: 80, ready: true, serving: true, terminating: false, isLocal });
const svc = (n: number, over: Partial<KpServicePort>): KpServicePort => ({
  namespace: `ns${n}`,
  name: `svc${n}`,
  portName: 'p80',
  protocol: 'TCP',
  clusterIP: `172.30.0.${40 + n}`,
  port: 80,
  nodePort: 0,
  externalIPs: [],
  loadBalancerIPs: [],
  loadBalancerSourceRanges: [],
  sessionAffinitySeconds: null,
  externalTrafficPolicy: 'Cluster',
  internalTrafficPolicy: 'Cluster',
  healthCheckNodePort: 0,
  endpoints: [],
  ...over,
});

/** The six services of TestOverallIPTablesRules. */
const overall: KpServicePort[] = [
  svc(1, { endpoints: [ep('10.180.0.1')] }),
  svc(2, { nodePort: 3001, externalIPs: ['192.168.99.22'], loadBalancerIPs: ['1.2.3.4'], externalTrafficPolicy: 'Local', healthCheckNodePort: 30000, endpoints: [ep('10.180.0.2')] }),
  svc(3, { nodePort: 3003, endpoints: [ep('10.180.0.3', true)] }),
  svc(4, { externalIPs: ['192.168.99.33'], endpoints: [ep('10.180.0.4'), ep('10.180.0.5')] }),
  svc(5, { nodePort: 3002, loadBalancerIPs: ['5.6.7.8'], loadBalancerSourceRanges: ['203.0.113.0/25'], sessionAffinitySeconds: 10800, endpoints: [ep('10.180.0.3', true)] }),
  svc(6, {}),
];

describe('kube-proxy iptables rules', () => {
  it('names chains with kube-proxy hash (base32 of sha256, 16 characters)', () => {
    expect(serviceChains(overall[0]!).svc).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(endpointChain(overall[0]!, ep('10.180.0.1'))).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
    expect(chainHash('ns2/svc2:p80tcp')).toBe('GNZBNJ2PO5MGZ6GT');
  });

  it('formats probabilities as %0.10f', () => {
    expect(probability(2)).toBe('0.5000000000');
    expect(probability(3)).toBe('0.3333333333');
  });

  it('renders what TestOverallIPTablesRules expects, byte for byte', () => {
    const want = readFileSync('test/fixtures/iptables/kube-proxy-overall.restore', 'utf8');
    const got = renderKubeProxyRules(overall, { clusterCIDR: '10.0.0.0/8', masqueradeAll: false, randomFully: false, localhostNodePorts: true, nodeIP: '192.168.0.2' });
    expect(got).toBe(want);
  });

  it('ensures the base chains and jumps kube-proxy and kubelet create', () => {
    expect(renderKubeProxyBase()).toBe(readFileSync('test/fixtures/iptables/kube-proxy-base.restore', 'utf8'));
  });

  it('spreads n endpoints with probabilities 1/n, 1/(n-1), ... and a final unconditional jump', () => {
    const eps = ['10.244.0.2', '10.244.0.3', '10.244.1.2'].map((ip) => ep(ip));
    const text = renderKubeProxyRules([svc(1, { endpoints: eps })], { clusterCIDR: '10.244.0.0/16', masqueradeAll: false, randomFully: true, localhostNodePorts: true, nodeIP: '10.100.11.11' });
    const svcRules = text.split('\n').filter((l) => l.startsWith('-A KUBE-SVC-') && l.includes('->'));
    expect(svcRules.map((l) => /--probability (\S+)/.exec(l)?.[1] ?? 'last')).toEqual(['0.3333333333', '0.5000000000', 'last']);
    expect(text).toContain('-j MASQUERADE --random-fully');
  });

  it('loads into the netfilter model and renders back as iptables-save prints it', () => {
    const text = renderKubeProxyRules(overall, { clusterCIDR: '10.0.0.0/8', masqueradeAll: false, randomFully: false, localhostNodePorts: true, nodeIP: '192.168.0.2' });
    const rs = parseIptablesSave(text, 'kube-proxy');
    const saved = renderIptablesSave(rs);
    expect(saved).toContain('-A KUBE-SERVICES -d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(renderIptablesSave(parseIptablesSave(saved, 'round-trip'))).toBe(saved);
  });
});
