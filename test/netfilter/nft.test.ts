// The nftables model and kube-proxy's nftables mode: an `nft -f` transaction applied to a namespace's
// state and listed back as `nft list ruleset`; kube-proxy's sync for the services of its own unit test
// (TestOverallNFTablesRules) reaching the state its expected transaction describes; and packets through
// that state ending where kube-proxy's packet-flow tests say (TestClusterIPGeneral, TestLoadBalancer,
// TestNoEndpointsReject).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderNftablesSync, type NftConfig } from '../../src/k8s/kube-proxy/nftables.js';
import type { KpEndpoint, KpServicePort } from '../../src/k8s/kube-proxy/iptables.js';
import { listRuleset } from '../../src/netfilter/nft/list.js';
import { NftRuleset } from '../../src/netfilter/nft/ruleset.js';
import { NftSyntaxError } from '../../src/netfilter/nft/stmt.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { Packet } from '../../src/packet/packet.js';
import { ipv4Header } from '../../src/wire/ipv4.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4-addr.js';
import { IpProto, TcpFlag } from '../../src/wire/types.js';
import { RngFactory } from '../../src/core/rng.js';

const FIX = join(import.meta.dirname, '../fixtures/nft');
const NODE_IP = '192.168.0.2';
const CFG: NftConfig = { clusterCIDR: '10.0.0.0/8', serviceCIDR: '172.30.0.0/16', masqueradeAll: false, randomFully: true, localhostNodePorts: false, nodeIP: NODE_IP };

const ep = (ip: string, isLocal = false): KpEndpoint => ({ ip, port: 80, ready: true, serving: true, terminating: false, isLocal });
function svc(ns: string, name: string, clusterIP: string, o: Partial<KpServicePort> = {}): KpServicePort {
  return { namespace: ns, name, portName: 'p80', protocol: 'TCP', clusterIP, port: 80, nodePort: 0, externalIPs: [], loadBalancerIPs: [], loadBalancerSourceRanges: [], sessionAffinitySeconds: null, externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', healthCheckNodePort: 0, endpoints: [], ...o };
}

/** The services of TestOverallNFTablesRules. */
const SERVICES: KpServicePort[] = [
  svc('ns1', 'svc1', '172.30.0.41', { endpoints: [ep('10.180.0.1')] }),
  svc('ns2', 'svc2', '172.30.0.42', { nodePort: 3001, loadBalancerIPs: ['1.2.3.4'], externalIPs: ['192.168.99.22'], externalTrafficPolicy: 'Local', healthCheckNodePort: 30000, endpoints: [ep('10.180.0.2')] }),
  svc('ns3', 'svc3', '172.30.0.43', { nodePort: 3003, endpoints: [ep('10.180.0.3')] }),
  svc('ns4', 'svc4', '172.30.0.44', { externalIPs: ['192.168.99.33'], endpoints: [ep('10.180.0.4'), ep('10.180.0.5', true)] }),
  svc('ns5', 'svc5', '172.30.0.45', { nodePort: 3002, loadBalancerIPs: ['5.6.7.8'], loadBalancerSourceRanges: [' 203.0.113.0/25'], sessionAffinitySeconds: 10800, healthCheckNodePort: 30000, endpoints: [ep('10.180.0.3')] }),
  svc('ns6', 'svc6', '172.30.0.46'),
];

/** A listing as a sorted list of its blocks (creation order differs between two ways of writing one state). */
function blocks(listing: string): string[] {
  return listing
    .replace(/^table ip kube-proxy \{\n\tcomment "rules for kube-proxy"\n/, '')
    .replace(/\n\}\n$/, '')
    .split('\n\n')
    .sort();
}

describe('nft model', () => {
  it('kube-proxy\'s sync for its test services reaches the state its expected transaction describes', () => {
    const expected = new NftRuleset();
    expected.apply(readFileSync(join(FIX, 'kube-proxy-base.nft'), 'utf8') + readFileSync(join(FIX, 'kube-proxy-services.nft'), 'utf8'), 'expected');
    const ours = new NftRuleset();
    ours.apply(renderNftablesSync(SERVICES, CFG, null, new Map(), 0), 'ours');
    expect(blocks(listRuleset(ours))).toEqual(blocks(listRuleset(expected)));
  });

  it('a second sync after an endpoint left flushes its chain, and deletes it a second later', () => {
    const rs = new NftRuleset();
    const stale = new Map<string, number>();
    const sync = (ports: KpServicePort[], now: number): void => {
      const t = rs.table('kube-proxy');
      rs.apply(renderNftablesSync(ports, CFG, t ? { chains: [...t.chains.keys()], sets: [...t.sets.keys()] } : null, stale, now), 'sync', now);
    };
    sync(SERVICES, 0);
    const gone = 'endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80';
    expect(rs.table('kube-proxy')!.chains.get(gone)!.rules).toHaveLength(2);
    const fewer = SERVICES.map((s) => (s.name === 'svc4' ? { ...s, endpoints: [ep('10.180.0.5', true)] } : s));
    sync(fewer, 0.5e9);
    expect(rs.table('kube-proxy')!.chains.get(gone)!.rules).toHaveLength(0);
    expect(listRuleset(rs)).toContain('numgen random mod 1 vmap { 0 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }');
    sync(fewer, 2e9);
    expect(rs.table('kube-proxy')!.chains.has(gone)).toBe(false);
  });

  it('refuses a script as nft does, leaving the state unchanged', () => {
    const rs = new NftRuleset();
    rs.apply('add table ip t\nadd chain ip t a\n');
    expect(() => rs.apply('add rule ip t a jump nowhere\n', 'bad.nft')).toThrow(NftSyntaxError);
    expect(() => rs.apply('add rule ip t a ip daddr 10.0.0.300 drop\n', 'bad.nft')).toThrow(/bad.nft:1: "10.0.0.300" is not an address/);
    expect(() => rs.apply('delete chain ip t missing\n', 'bad.nft')).toThrow(/does not exist/);
    expect(rs.table('t')!.chains.get('a')!.rules).toEqual([]);
  });
});

/** A node namespace stand-in: kube-proxy's state loaded, packets pushed through the hooks as the kernel would. */
function node() {
  const rng = new RngFactory(7);
  const local = new Set([NODE_IP, '192.168.1.2', '192.168.99.11', '127.0.0.1'].map((s) => parseIpv4(s)!));
  const nf = new Netfilter({ now: () => 0, isLocalAddress: (ip) => local.has(ip), masqueradeAddress: () => parseIpv4(NODE_IP), rng: (n) => rng.stream(n) });
  nf.nft.apply(renderNftablesSync(SERVICES, CFG, null, new Map(), 0), 'kube-proxy');
  return nf;
}

let sport = 40000;
function syn(src: string, dst: string, dport: number): Packet {
  const p = new Packet();
  p.ip = ipv4Header(IpProto.TCP, parseIpv4(src)!, parseIpv4(dst)!);
  p.tcp = { srcPort: sport++, dstPort: dport, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 64240, checksum: null, urgent: 0, options: [] };
  return p;
}

/** Where a new connection from `src` to dst:port goes through the node: "ip:port" after DNAT (masq?), DROP or REJECT. */
function flow(nf: Netfilter, src: string, dst: string, dport: number): string {
  const p = syn(src, dst, dport);
  const fromPod = src.startsWith('10.');
  const v1 = nf.hook(NfHook.PREROUTING, p, fromPod ? 'cni0' : 'eth0', null);
  if (v1.kind !== 'accept') return v1.kind.toUpperCase();
  const toLocal = [NODE_IP].includes(formatIpv4(p.ip!.dst));
  const v2 = toLocal ? nf.hook(NfHook.INPUT, p, 'eth0', null) : nf.hook(NfHook.FORWARD, p, 'eth0', 'eth1');
  if (v2.kind !== 'accept') return v2.kind.toUpperCase();
  if (toLocal) return 'LOCAL';
  const v3 = nf.hook(NfHook.POSTROUTING, p, null, 'eth1');
  if (v3.kind !== 'accept') return v3.kind.toUpperCase();
  const masq = formatIpv4(p.ip!.src) !== src;
  return `${formatIpv4(p.ip!.dst)}:${p.tcp!.dstPort}${masq ? ' masq' : ''}`;
}

describe('packets through kube-proxy\'s nftables state (kube-proxy\'s packet-flow cases)', () => {
  it.each([
    ['pod to cluster IP', '10.0.0.2', '172.30.0.41', 80, '10.180.0.1:80'],
    ['hairpin to cluster IP (masqueraded)', '10.180.0.1', '172.30.0.41', 80, '10.180.0.1:80 masq'],
    ['external to cluster IP (masqueraded: not from the cluster CIDR)', '203.0.113.2', '172.30.0.41', 80, '10.180.0.1:80 masq'],
    ['undefined port of a cluster IP', '10.0.0.2', '172.30.0.41', 443, 'REJECT'],
    ['unallocated cluster IP', '10.0.0.2', '172.30.0.50', 80, 'DROP'],
    ['no endpoints', '10.0.0.2', '172.30.0.46', 80, 'REJECT'],
    ['external to node port', '203.0.113.2', NODE_IP, 3003, '10.180.0.3:80 masq'],
    ['node port bypasses source ranges', '203.0.113.130', NODE_IP, 3002, '10.180.0.3:80 masq'],
    ['allowed external to LB IP', '203.0.113.2', '5.6.7.8', 80, '10.180.0.3:80 masq'],
    ['blocked external to LB IP', '203.0.113.130', '5.6.7.8', 80, 'DROP'],
    ['external to ETP Local LB without local endpoints', '203.0.113.2', '1.2.3.4', 80, 'DROP'],
    ['pod to ETP Local LB short-circuits to the cluster chain', '10.0.0.2', '1.2.3.4', 80, '10.180.0.2:80'],
    ['external to ETP Local node port without local endpoints', '203.0.113.2', NODE_IP, 3001, 'DROP'],
  ])('%s', (_name, src, dst, port, want) => {
    expect(flow(node(), src, dst, port)).toBe(want);
  });

  it('numgen spreads new connections over both endpoints, and a connection keeps its endpoint', () => {
    const nf = node();
    const seen = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const to = flow(nf, '10.0.0.2', '172.30.0.44', 80);
      seen.set(to, (seen.get(to) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(['10.180.0.4:80', '10.180.0.5:80']);
    for (const n of seen.values()) expect(n).toBeGreaterThan(150);
  });

  it('ClientIP affinity: the first choice is remembered in the affinity set', () => {
    const nf = node();
    flow(nf, '10.0.0.9', '172.30.0.45', 80);
    expect(listRuleset(nf.nft)).toMatch(/set affinity-GTK6MW7G-ns5\/svc5\/tcp\/p80__10\.180\.0\.3\/80 \{[^}]*elements = \{ 10\.0\.0\.9 timeout 3h expires 3h/);
  });
});
