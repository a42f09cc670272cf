// The nftables model and kube-proxy's nftables mode: an `nft -f` transaction applied to a namespace's
// state and listed back as `nft list ruleset`; kube-proxy's sync for the services of its own unit test
// (TestOverallNFTablesRules) reaching the state its expected transaction describes; and packets through
// that state ending where kube-proxy's packet-flow tests say (TestClusterIPGeneral, TestLoadBalancer,
// TestNoEndpointsReject).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderNftablesSync } from '../../src/k8s/kube-proxy/nftables.js';
import type { KpServicePort } from '../../src/k8s/kube-proxy/iptables.js';
import { CFG, ep, flow, node, NODE_IP, SERVICES } from './nft-services.js';
import { listRuleset } from '../../src/netfilter/nft/list.js';
import { NftRuleset } from '../../src/netfilter/nft/ruleset.js';
import { NftSyntaxError } from '../../src/netfilter/nft/stmt.js';

const FIX = join(import.meta.dirname, '../fixtures/nft');
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
    // kube-proxy's fake dumps objects grouped, not in a loadable order: tables, sets and maps, chains, then rules and elements.
    const rank = (l: string): number => ['add table', 'add set', 'add map', 'add chain', 'add rule', 'add element'].findIndex((p) => l.startsWith(p));
    const lines = (readFileSync(join(FIX, 'kube-proxy-base.nft'), 'utf8') + readFileSync(join(FIX, 'kube-proxy-services.nft'), 'utf8')).split('\n').filter((l) => l.startsWith('add '));
    expected.apply(lines.map((l, i) => [rank(l) === 2 ? 1 : rank(l), i, l] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]).join('\n'), 'expected');
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
