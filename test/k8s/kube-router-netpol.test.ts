// Tests for k8s/kube-router-netpol and k8s/network-policy: kube-router's rules for a node, loaded into a
// Netfilter with its ip sets, decide packets as the NetworkPolicy semantics say (podSelector,
// namespaceSelector and both, ipBlock with except, numeric / named / ranged ports and protocols,
// policyTypes and their defaults, policies additive, pods without a policy untouched, replies of an
// allowed connection), and the rules keep kube-router's layout.
//
//   node n1 (192.168.0.1)                                 node n2
//   fe 10.244.1.2 (default, app=fe)                        db 10.244.2.2 (default, app=db)
//   be 10.244.1.3 (default, app=be, port http 8080)
//   free 10.244.1.5 (default, app=free: no policy)
//   client 10.244.1.4 (other, app=fe)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { ROOT } from '../integration/run-scenario.js';
import type { UserError } from '../../src/core/user-error.js';
import { parseIptablesSave } from '../../src/netfilter/iptables-save.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import type { Packet } from '../../src/packet/packet.js';
import { TcpFlag } from '../../src/wire/types.js';
import type { ManifestInput } from '../../src/k8s/cluster.js';
import { policyChain, renderKubeRouterSync, withKubeRouter, type NpcInput, type NpcPod } from '../../src/k8s/kube-router-netpol.js';
import { namespaceLabels, networkPolicies } from '../../src/k8s/network-policy.js';
import { FakeHost, icmp, ip, rules, tcp, udp } from '../netfilter/helpers.js';

const pod = (namespace: string, name: string, ipAddr: string, labels: Record<string, string>, nodeName = 'n1', ports: NpcPod['ports'] = []): NpcPod => ({ namespace, name, labels, ip: ipAddr, nodeName, hostNetwork: false, finished: false, ports });
const PODS: NpcPod[] = [
  pod('default', 'fe', '10.244.1.2', { app: 'fe' }),
  pod('default', 'be', '10.244.1.3', { app: 'be' }, 'n1', [{ name: 'http', protocol: 'TCP', containerPort: 8080 }]),
  pod('other', 'client', '10.244.1.4', { app: 'fe' }),
  pod('default', 'free', '10.244.1.5', { app: 'free' }),
  pod('default', 'db', '10.244.2.2', { app: 'db' }, 'n2'),
];

/** NetworkPolicy manifests (YAML-like objects) as the API server admits them. */
function admit(...specs: Record<string, unknown>[]): { input: NpcInput; errors: UserError[]; warnings: UserError[] } {
  const errors: UserError[] = [];
  const warnings: UserError[] = [];
  const manifests: ManifestInput[] = specs.map((spec, i) => ({
    kind: 'NetworkPolicy',
    value: { metadata: { name: `p${i}`, namespace: 'default' }, spec },
    error: (path, message) => ({ file: 'test.yaml', line: i + 1, col: 1, field: path.join('.'), message }),
  }));
  const nsManifest: ManifestInput = { kind: 'Namespace', value: { metadata: { name: 'other', labels: { team: 'b' } } }, error: () => ({ file: '', line: 0, col: 0, field: '', message: '' }) };
  const { policies } = networkPolicies(manifests, errors, warnings);
  return { input: { policies, pods: PODS, namespaces: namespaceLabels([nsManifest], ['default', 'other']), serviceCIDR: '10.96.0.0/12', nodePortRange: '30000:32767' }, errors, warnings };
}

/** Node n1 with kube-router's rules of `input`: a packet through PREROUTING, FORWARD and POSTROUTING, and its FORWARD verdict. */
function n1(input: NpcInput): (p: Packet) => string {
  const nf = new Netfilter(new FakeHost([ip('192.168.0.1'), ip('10.244.1.1')]));
  const r = renderKubeRouterSync(input, 'n1', '1');
  nf.ipsets.restore(r.ipsets, { exist: true });
  nf.load(withKubeRouter(rules('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -j ACCEPT\nCOMMIT\n'), parseIptablesSave(r.filter, 'kube-router')));
  return (p) => {
    nf.hook(NfHook.PREROUTING, p, 'cni0', null);
    const v = nf.hook(NfHook.FORWARD, p, 'cni0', 'cni0');
    if (v.kind === 'accept') nf.hook(NfHook.POSTROUTING, p, null, 'cni0');
    return v.kind === 'reject' ? `reject ${v.with}` : v.kind;
  };
}
const REJECT = 'reject icmp-port-unreachable';

describe('kube-router policy controller: NetworkPolicy semantics on the wire', () => {
  it('podSelector with a named port: the selected sources on that port only; the same labels in another namespace do not count', () => {
    const { input } = admit({ podSelector: { matchLabels: { app: 'be' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'fe' } } }], ports: [{ port: 'http' }] }] });
    const fwd = n1(input);
    expect(fwd(tcp('10.244.1.2', 40000, '10.244.1.3', 8080))).toBe('accept');
    expect(fwd(tcp('10.244.1.2', 40001, '10.244.1.3', 9090))).toBe(REJECT);
    expect(fwd(tcp('10.244.1.4', 40002, '10.244.1.3', 8080))).toBe(REJECT);
    expect(fwd(tcp('10.244.1.5', 40003, '10.244.1.3', 8080))).toBe(REJECT);
  });

  it('namespaceSelector alone admits every pod of the matching namespaces; with a podSelector both must match', () => {
    const ns = admit({ podSelector: { matchLabels: { app: 'be' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }] }] });
    expect(n1(ns.input)(tcp('10.244.1.4', 40000, '10.244.1.3', 22))).toBe('accept');
    expect(n1(ns.input)(tcp('10.244.1.2', 40000, '10.244.1.3', 22))).toBe(REJECT);
    const both = admit({ podSelector: { matchLabels: { app: 'be' } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } }, podSelector: { matchLabels: { app: 'x' } } }] }] });
    expect(n1(both.input)(tcp('10.244.1.4', 40000, '10.244.1.3', 22))).toBe(REJECT);
    const exprs = admit({ podSelector: { matchLabels: { app: 'be' } }, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['other'] }] }, podSelector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] } }] }] });
    expect(n1(exprs.input)(tcp('10.244.1.4', 40000, '10.244.1.3', 22))).toBe('accept');
  });

  it('ipBlock with except (hash:net with a nomatch element)', () => {
    const { input } = admit({ podSelector: { matchLabels: { app: 'be' } }, ingress: [{ from: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.5.0/24'] } }] }] });
    const fwd = n1(input);
    expect(fwd(tcp('192.168.1.9', 40000, '10.244.1.3', 80))).toBe('accept');
    expect(fwd(tcp('192.168.5.9', 40000, '10.244.1.3', 80))).toBe(REJECT);
    expect(fwd(tcp('172.16.0.1', 40000, '10.244.1.3', 80))).toBe(REJECT);
    expect(renderKubeRouterSync(input, 'n1', '1').ipsets).toContain(' 192.168.5.0/24 timeout 0 nomatch\n');
  });

  it('ports: endPort ranges and protocols (UDP 53 is not TCP 53)', () => {
    const { input } = admit({ podSelector: { matchLabels: { app: 'be' } }, ingress: [{ ports: [{ port: 8000, endPort: 8100 }, { protocol: 'UDP', port: 53 }] }] });
    const fwd = n1(input);
    expect(fwd(tcp('10.244.1.2', 40000, '10.244.1.3', 8050))).toBe('accept');
    expect(fwd(tcp('10.244.1.2', 40001, '10.244.1.3', 8101))).toBe(REJECT);
    expect(fwd(udp('10.244.1.2', 40002, '10.244.1.3', 53))).toBe('accept');
    expect(fwd(tcp('10.244.1.2', 40003, '10.244.1.3', 53))).toBe(REJECT);
  });

  it('policyTypes: egress rules alone imply Egress (and Ingress); an Egress policy is checked on the source node', () => {
    const { input } = admit({ podSelector: { matchLabels: { app: 'fe' } }, egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 5432 }] }] });
    expect(input.policies[0]!.policyTypes).toEqual({ ingress: true, egress: true });
    const fwd = n1(input);
    expect(fwd(tcp('10.244.1.2', 40000, '10.244.2.2', 5432))).toBe('accept');
    expect(fwd(tcp('10.244.1.2', 40001, '10.244.2.2', 22))).toBe(REJECT);
    // Ingress too (no ingress rules): nothing may reach fe, but the reply of its allowed connection does (ESTABLISHED).
    expect(fwd(tcp('10.244.1.5', 40002, '10.244.1.2', 80))).toBe(REJECT);
    expect(fwd(tcp('10.244.2.2', 5432, '10.244.1.2', 40000, TcpFlag.SYN | TcpFlag.ACK))).toBe('accept');
    expect(fwd(tcp('10.244.2.2', 5432, '10.244.1.2', 40009))).toBe(REJECT);
    const ingressOnly = admit({ podSelector: { matchLabels: { app: 'fe' } } });
    expect(ingressOnly.input.policies[0]!.policyTypes).toEqual({ ingress: true, egress: false });
    expect(n1(ingressOnly.input)(tcp('10.244.1.2', 40000, '10.244.2.2', 22))).toBe('accept');
  });

  it('policies are additive, pods no policy selects are untouched', () => {
    const { input } = admit(
      { podSelector: { matchLabels: { app: 'be' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'fe' } } }], ports: [{ port: 8080 }] }] },
      { podSelector: { matchLabels: { app: 'be' } }, ingress: [{ ports: [{ port: 9090 }] }] },
    );
    const fwd = n1(input);
    expect(fwd(tcp('10.244.1.2', 40000, '10.244.1.3', 8080))).toBe('accept');
    expect(fwd(tcp('10.244.1.5', 40001, '10.244.1.3', 9090))).toBe('accept');
    expect(fwd(tcp('10.244.1.5', 40002, '10.244.1.3', 8080))).toBe(REJECT);
    expect(fwd(tcp('10.244.1.3', 40003, '10.244.1.5', 80))).toBe('accept');
    // ICMP echo requests are accepted for every pod (KUBE-NWPLCY-COMMON), even under a default deny.
    expect(fwd(icmp('10.244.1.5', '10.244.1.3', 8, 0))).toBe('accept');
  });

  it('layout: the jumps first in INPUT / FORWARD / OUTPUT, a pod chain per local pod, a policy chain per policy named after the sync version', () => {
    const { input } = admit({ podSelector: { matchLabels: { app: 'be' } } });
    const r = renderKubeRouterSync(input, 'n1', '1735689600000000000');
    const live = rules('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:FLANNEL-FWD - [0:0]\n-A FORWARD -j FLANNEL-FWD\nCOMMIT\n');
    const merged = withKubeRouter(live, parseIptablesSave(r.filter, 'kr'));
    const fwd = merged.tables[0]!.chains.find((c) => c.name === 'FORWARD')!;
    expect(fwd.policy).toBe('DROP');
    expect(fwd.rules.map((x) => (x.target?.kind === 'jump' ? x.target.chain : ''))).toEqual(['KUBE-ROUTER-FORWARD', 'FLANNEL-FWD']);
    const names = merged.tables[0]!.chains.map((c) => c.name);
    expect(names.filter((n) => n.startsWith('KUBE-POD-FW-'))).toHaveLength(4);
    expect(names).toContain(policyChain('default', 'p0', '1735689600000000000'));
    // A second sync replaces the chains of the first (new version), never duplicating the jumps.
    const again = withKubeRouter(merged, parseIptablesSave(renderKubeRouterSync(input, 'n1', '1735689601000000000').filter, 'kr'));
    expect(again.tables[0]!.chains.filter((c) => c.name.startsWith('KUBE-POD-FW-'))).toHaveLength(4);
    expect(again.tables[0]!.chains.find((c) => c.name === 'FORWARD')!.rules).toHaveLength(2);
  });

  it('an unknown field is a warning with a did-you-mean (the policy runs without it)', () => {
    const { input, warnings } = admit({ podSelector: {}, policyType: ['Egress'], ingress: [{ form: [], ports: [{ prot: 80 }] }] });
    expect(input.policies).toHaveLength(1);
    expect(warnings.map((e) => `${e.field}: ${e.message}`)).toEqual([
      'spec.policyType: unknown field "policyType", ignored: did you mean "policyTypes"?',
      'spec.ingress.0.form: unknown field "form", ignored: did you mean "from"?',
      'spec.ingress.0.ports.0.prot: unknown field "prot", ignored: did you mean "port"?',
    ]);
  });

  it('bad input: an error at the field, the policy left out', () => {
    const { input, errors } = admit({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }, { podSelector: {}, ingress: [{ ports: [{ port: 80, endPort: 70 }] }] });
    expect(input.policies).toHaveLength(0);
    expect(errors.map((e) => `${e.field}: ${e.message}`)).toEqual(['spec.ingress.0.from.0: ipBlock cannot be combined with podSelector or namespaceSelector', 'spec.ingress.0.ports.0: endPort needs a numeric port not above it']);
  });
});

describe("kube-router's event handlers: a Namespace's labels and a NetworkPolicy changing in the API", () => {
  it('each change is in the rules one sync (200 ms) later, not before', () => {
    const w = buildWorld(loadScenarioFile(join(ROOT, 'scenarios/network-policy.yaml')), 7);
    const api = w.controlPlane!.api;
    const node2 = (): string => w.cluster!.nodes.find((n) => n.name === 'node2')!.ns.nf!.save();
    w.sim.run({ until: 0.5e9 });
    expect(node2()).toContain('"default/allow-backend-to-redis ingress pods"');
    // The namespace loses team=shop: allow-backend-to-redis's namespaceSelector selects no pod any more.
    const ns = api.get('Namespace', '', 'default')!;
    api.update({ ...ns, metadata: { ...ns.metadata, labels: { 'kubernetes.io/metadata.name': 'default' } } });
    w.sim.run({ until: 0.6e9 });
    expect(node2()).toContain('"default/allow-backend-to-redis ingress pods"');
    w.sim.run({ until: 0.75e9 });
    expect(node2()).not.toContain('"default/allow-backend-to-redis ingress pods"');
    // default-deny-ingress deleted: its policy chain and the pods' jumps to it go.
    expect(node2()).toContain('"default/default-deny-ingress policy"');
    api.delete('NetworkPolicy', 'default', 'default-deny-ingress');
    w.sim.run({ until: 1.0e9 });
    expect(node2()).not.toContain('"default/default-deny-ingress policy"');
  });
});

describe("kube-router's restore of the filter table", () => {
  it('zeroes every filter counter (kube-proxy\'s too) and leaves the nat counters', () => {
    const w = buildWorld(loadScenarioFile(join(ROOT, 'scenarios/network-policy.yaml')), 7);
    const nf = w.cluster!.nodes.find((n) => n.name === 'node1')!.ns.nf!;
    const counts = (table: string): number => nf.ruleset().tables.find((t) => t.name === table)!.chains.reduce((a, c) => a + c.counters.packets + c.rules.reduce((b, r) => b + r.counters.packets, 0), 0);
    // Traffic counted by kube-proxy's and flanneld's filter rules, then the scale fault's pod event: kube-router's sync at 3.2 s.
    const dir = mkdtempSync(join(tmpdir(), 'podwire-krz-'));
    try {
      runWorld(w, { outDir: dir, format: 'pcapng', snaplen: 262144, untilNs: 3.19e9 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const [filter, nat] = [counts('filter'), counts('nat')];
    expect(filter).toBeGreaterThan(0);
    w.sim.run({ until: 3.2e9 + 1 });
    expect(counts('filter')).toBe(0);
    expect(counts('nat')).toBeGreaterThanOrEqual(nat);
  });
});
