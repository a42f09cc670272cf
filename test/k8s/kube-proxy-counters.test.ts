// Rule counters across kube-proxy's syncs, as `iptables-restore --noflush --counters` leaves them
// (kube-proxy's RestoreAll(..., NoFlushTables, RestoreCounters)): a chain the restore input declares is
// flushed and refilled, so its rules start at 0; every other chain — the unchanged Services' chains in a
// partial sync, the built-in chains, kubelet's and flanneld's chains — keeps its counters. Checked against
// iptables v1.8.9 (nf_tables and legacy backends) in a network namespace: the netfilter-level case below
// is that experiment (its input, and the counters iptables-save -c printed after it).
import { describe, expect, it } from 'vitest';
import type { EndpointSlice } from '../../src/k8s/api/objects.js';
import { parseIptablesSave, renderIptablesSave, renderRule, restoreInto } from '../../src/netfilter/iptables-save.js';
import type { TableName } from '../../src/netfilter/rules.js';
import type { Namespace } from '../../src/net/namespace.js';
import { buildWorld } from '../../src/scenario/build.js';
import { generateClusterYaml, CLUSTER_GEN_DEFAULTS } from '../../src/scenario/generate.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { FakeHost, icmp } from '../netfilter/helpers.js';

/** Packet counts of `chain`'s rules, and its policy counter's packets (built-in chains). */
function packets(ns: Pick<Namespace, 'nf'>, table: TableName, chain: string): { rules: number[]; policy: number } | null {
  const c = ns.nf!.ruleset().tables.find((t) => t.name === table)?.chains.find((x) => x.name === chain);
  return c === undefined ? null : { rules: c.rules.map((r) => r.counters.packets), policy: c.counters.packets };
}

const sum = (p: { rules: number[] } | null): number => (p === null ? 0 : p.rules.reduce((a, b) => a + b, 0));

describe('kube-proxy sync: rule counters', () => {
  it('a partial sync zeroes only the rewritten chains; a full sync zeroes every kube-proxy chain, never the others', () => {
    const yaml = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 3, services: 3, podsPerService: 2, flows: 2, requests: 20, mode: 'iptables' });
    const w = buildWorld(loadScenarioText(yaml, 'counters.yaml'), 1);
    const kp = w.controlPlane!.kubeProxy;
    w.sim.run();
    const node = w.cluster!.nodes[0]!.ns;
    // The Service chains of svc-0 and svc-1 (the flows' targets), from KUBE-SERVICES' cluster IP rules.
    const nat = node.nf!.ruleset().tables.find((t) => t.name === 'nat')!;
    const svcChain = (svc: string): string => {
      const r = nat.chains.find((c) => c.name === 'KUBE-SERVICES')!.rules.map((x) => renderRule('KUBE-SERVICES', x)).find((t) => t.includes(`default/${svc} cluster IP`) && t.includes('-j KUBE-SVC-'))!;
      return /-j (KUBE-SVC-\S+)/.exec(r)![1]!;
    };
    const sepsOf = (chain: string): string[] => [...new Set(nat.chains.find((c) => c.name === chain)!.rules.map((x) => /-j (KUBE-SEP-\S+)/.exec(renderRule(chain, x))?.[1]).filter((x): x is string => x !== undefined))];
    const svc0 = svcChain('svc-0');
    const svc1 = svcChain('svc-1');
    const others = [['nat', 'PREROUTING'], ['nat', 'OUTPUT'], ['nat', 'POSTROUTING'], ['nat', 'FLANNEL-POSTRTG'], ['filter', 'FORWARD'], ['filter', 'INPUT'], ['filter', 'FLANNEL-FWD']] as const;
    const before = {
      svc0: packets(node, 'nat', svc0),
      seps0: sepsOf(svc0).map((s) => packets(node, 'nat', s)),
      svc1: packets(node, 'nat', svc1),
      services: packets(node, 'nat', 'KUBE-SERVICES'),
      others: others.map(([t, c]) => packets(node, t, c)),
    };
    expect(sum(before.svc0)).toBeGreaterThan(0);
    expect(sum(before.svc1)).toBeGreaterThan(0);
    expect(sum(before.services)).toBeGreaterThan(0);
    expect(before.others.every((p) => p !== null)).toBe(true);
    expect(before.others.reduce((a, p) => a + sum(p) + p!.policy, 0)).toBeGreaterThan(0);

    // svc-1 loses an endpoint: a partial sync rewrites svc-1's chains and the dispatch chains only.
    const api = w.controlPlane!.api;
    const slice = api.list('EndpointSlice').find((e) => (e as EndpointSlice).serviceName === 'svc-1') as EndpointSlice;
    api.update({ ...slice, ports: slice.ports.map((p) => ({ ...p, endpoints: p.endpoints.slice(1) })) });
    const { partial, full } = kp.syncCounts;
    kp.syncProxyRules();
    expect(kp.syncCounts).toEqual({ full, partial: partial + 1 });
    expect(packets(node, 'nat', svc0)).toEqual(before.svc0);
    expect(sepsOf(svc0).map((s) => packets(node, 'nat', s))).toEqual(before.seps0);
    expect(sum(packets(node, 'nat', svc1))).toBe(0);
    expect(sum(packets(node, 'nat', 'KUBE-SERVICES'))).toBe(0);
    expect(others.map(([t, c]) => packets(node, t, c))).toEqual(before.others);

    // A full sync (as after proxyutil.FullSyncPeriod): every kube-proxy chain rewritten, the others kept.
    kp.partialSyncs = false;
    kp.syncProxyRules();
    expect(kp.syncCounts.full).toBe(full + 1);
    expect(sum(packets(node, 'nat', svc0))).toBe(0);
    expect(sepsOf(svc0).every((s) => sum(packets(node, 'nat', s)) === 0)).toBe(true);
    expect(others.map(([t, c]) => packets(node, t, c))).toEqual(before.others);
  });

  it('loadNoflush: the counters iptables-restore --noflush --counters leaves (iptables 1.8.9, nf_tables and legacy)', () => {
    // iptables-save -c after the rules were restored and three pings sent.
    const base = `*filter
:INPUT ACCEPT [6:504]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [6:504]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-A - [0:0]
:KUBE-SVC-B - [0:0]
:OTHER - [0:0]
[6:504] -A OUTPUT -j KUBE-SERVICES
[6:504] -A OUTPUT -j OTHER
[6:504] -A KUBE-SERVICES -d 127.0.0.1/32 -p icmp -j KUBE-SVC-A
[6:504] -A KUBE-SERVICES -d 127.0.0.1/32 -p icmp -j KUBE-SVC-B
[6:504] -A KUBE-SVC-A -j RETURN
[6:504] -A KUBE-SVC-B -j RETURN
[6:504] -A OTHER -j RETURN
COMMIT
`;
    const nf = new Netfilter(new FakeHost([]));
    nf.load(parseIptablesSave(base.replace(/\[6:504\]/g, '[0:0]'), 'live'));
    // Three pings to 127.0.0.1: six 84-byte packets out (OUTPUT) and in (INPUT).
    for (let i = 0; i < 6; i++) {
      const p = icmp('127.0.0.1', '127.0.0.1', i % 2 === 0 ? 8 : 0, 0);
      p.ip!.totalLength = 84;
      nf.hook(NfHook.OUTPUT, p, null, 'lo');
      nf.hook(NfHook.INPUT, p, 'lo', null);
    }
    expect(nf.save()).toBe(renderIptablesSave(parseIptablesSave(base, 'counted')));
    const input = parseIptablesSave(
      `*filter
:KUBE-SERVICES - [0:0]
:KUBE-SVC-A - [0:0]
-A KUBE-SERVICES -d 127.0.0.1/32 -p icmp -j KUBE-SVC-A
-A KUBE-SERVICES -d 127.0.0.1/32 -p icmp -j KUBE-SVC-B
-A KUBE-SVC-A -j RETURN
COMMIT
`,
      'input',
      (_t, c) => c === 'KUBE-SVC-B',
    );
    nf.loadNoflush(restoreInto(nf.ruleset(), input, true), input);
    expect(nf.save()).toBe(`*filter
:INPUT ACCEPT [6:504]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [6:504]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-A - [0:0]
:KUBE-SVC-B - [0:0]
:OTHER - [0:0]
[6:504] -A OUTPUT -j KUBE-SERVICES
[6:504] -A OUTPUT -j OTHER
[0:0] -A KUBE-SERVICES -d 127.0.0.1/32 -p icmp -j KUBE-SVC-A
[0:0] -A KUBE-SERVICES -d 127.0.0.1/32 -p icmp -j KUBE-SVC-B
[0:0] -A KUBE-SVC-A -j RETURN
[6:504] -A KUBE-SVC-B -j RETURN
[6:504] -A OTHER -j RETURN
COMMIT
`);
    // A reload no restore input names (null): a chain whose rules changed (another program rewrote it) starts
    // again at 0; a chain that went away takes its counters with it; the unchanged ones keep theirs.
    nf.loadNoflush(
      parseIptablesSave(
        `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-B - [0:0]
:OTHER - [0:0]
[0:0] -A OUTPUT -j KUBE-SERVICES
[0:0] -A OUTPUT -j OTHER
[0:0] -A KUBE-SERVICES -d 127.0.0.1/32 -p icmp -j KUBE-SVC-B
[0:0] -A KUBE-SVC-B -j RETURN
[0:0] -A OTHER -j ACCEPT
COMMIT
`,
        'changed',
      ),
      null,
    );
    const after = nf.save();
    expect(after).toContain('[0:0] -A OTHER -j ACCEPT');
    expect(after).toContain('[6:504] -A KUBE-SVC-B -j RETURN');
    expect(after).toContain('[6:504] -A OUTPUT -j OTHER');
    expect(after).toContain(':OUTPUT ACCEPT [6:504]');
    expect(after).not.toContain('KUBE-SVC-A');
    // KUBE-SERVICES lost a rule (changed): 0.
    expect(after).toContain('[0:0] -A KUBE-SERVICES -d 127.0.0.1/32 -p icmp -j KUBE-SVC-B');
  });
});
