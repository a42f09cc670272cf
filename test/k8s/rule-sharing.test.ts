// kube-proxy's rules shared across nodes (issue 13): every node's `iptables-save` text is exactly what
// restoring that node's own rendering gives (base, flanneld's rules, kube-proxy's sync for this node),
// nodes share the compiled chains that are the same on both, a Service with a Local traffic policy gets
// per-node chains, and counters stay per node after traffic.
import { describe, expect, it } from 'vitest';
import { renderFlannelRules } from '../../src/k8s/flannel.js';
import { kubeProxyRestoreText } from '../../src/k8s/kube-proxy/index.js';
import { renderKubeProxyBase } from '../../src/k8s/kube-proxy/iptables.js';
import { parseIptablesSave, renderIptablesSave, restoreInto } from '../../src/netfilter/iptables-save.js';
import { buildWorld } from '../../src/scenario/build.js';
import { generateClusterYaml, CLUSTER_GEN_DEFAULTS } from '../../src/scenario/generate.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';

const LOCAL_SVC = `---
apiVersion: v1
kind: Service
metadata: { name: svc-local }
spec: { type: NodePort, externalTrafficPolicy: Local, selector: { app: svc-1 }, ports: [{ port: 80, targetPort: 8080, nodePort: 31000 }] }
`;

function world() {
  const yaml = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 4, services: 3, podsPerService: 2, flows: 1, requests: 5 }) + LOCAL_SVC;
  return buildWorld(loadScenarioText(yaml, 'sharing.yaml'), 1);
}

describe('kube-proxy rules shared across nodes', () => {
  it("prints each node's own rules and shares the chains that are the same", () => {
    const w = world();
    const nodes = w.cluster!.nodes;
    const opts = { mode: 'iptables' as const, scheduler: 'rr' as const, clusterCIDR: '10.244.0.0/16', masqueradeAll: false, randomFully: true };
    for (const n of nodes) {
      // The reference: this node's texts parsed on their own, restored as kube-proxy does, rendered.
      let rs = parseIptablesSave(renderKubeProxyBase(), 'base');
      rs = restoreInto(rs, parseIptablesSave(renderFlannelRules('10.244.0.0/16', `${formatIpv4(n.podNet)}/${n.podPrefix}`, true), 'cni'), true);
      rs = restoreInto(rs, parseIptablesSave(kubeProxyRestoreText(n, w.services, opts), 'sync'), true);
      expect(n.ns.nf!.save()).toBe(renderIptablesSave(rs));
    }
    const nf = nodes.map((n) => n.ns.nf!);
    // svc-0's chains, masquerading: the same on every node. (KUBE-SERVICES and KUBE-NODEPORTS jump to
    // the Local Service's chains, which differ, so they are compiled per variant.)
    const svc0 = /-A KUBE-SERVICES .*svc-0 cluster IP.* -j (KUBE-SVC-\w+)/.exec(nf[0]!.save())![1]!;
    const sep0 = new RegExp(`-A ${svc0} .* -j (KUBE-SEP-\\w+)`).exec(nf[0]!.save())![1]!;
    for (const chain of [svc0, sep0, 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING']) {
      for (const x of nf) expect(x.compiledChain('nat', chain)).toBe(nf[0]!.compiledChain('nat', chain));
    }
    expect(nf[0]!.compiledChain('filter', 'KUBE-FORWARD')).toBe(nf[1]!.compiledChain('filter', 'KUBE-FORWARD'));
    // flanneld's chain names the node's own subnet: one per node.
    expect(new Set(nf.map((x) => x.compiledChain('nat', 'FLANNEL-POSTRTG'))).size).toBe(nodes.length);
    // The Local Service's KUBE-SVL chain lists the node's own endpoints: nodes with different local
    // endpoints have different chains, nodes with the same ones share.
    const svl = nf[0]!.ruleset().tables.find((t) => t.name === 'nat')!.chains.map((c) => c.name).find((c) => c.startsWith('KUBE-EXT-'));
    expect(svl).toBeDefined();
    const texts = nf.map((x) => x.save().split('\n').filter((l) => l.includes('svc-local') && l.includes('KUBE-SVL')).join('\n'));
    const byText = new Map<string, unknown[]>();
    nf.forEach((x, i) => byText.set(texts[i]!, [...(byText.get(texts[i]!) ?? []), x.compiledChain('nat', svl!)]));
    expect(byText.size).toBeGreaterThan(1);
    for (const chains of byText.values()) expect(new Set(chains).size).toBe(1);
  });

  it('keeps counters per node after traffic', () => {
    const w = world();
    w.sim.run();
    expect(w.stats.flow('flow-0').successes).toBe(5);
    const count = (node: number) => {
      const svc = w.cluster!.nodes[node]!.ns.nf!.ruleset().tables.find((t) => t.name === 'nat')!.chains.find((c) => c.name === 'KUBE-SERVICES')!;
      return svc.rules.filter((r) => r.matches.some((m) => m.kind === 'comment' && m.comment === 'default/svc-0 cluster IP')).reduce((a, r) => a + r.counters.packets, 0);
    };
    // The client runs on node-1: its 5 connections to svc-0 meet KUBE-SERVICES there (in PREROUTING,
    // from the pod's veth), nowhere else.
    expect(count(0)).toBe(5);
    for (let i = 1; i < 4; i++) expect(count(i)).toBe(0);
    expect(w.cluster!.nodes[1]!.ns.nf!.compiledChain('nat', 'KUBE-MARK-MASQ')).toBe(w.cluster!.nodes[0]!.ns.nf!.compiledChain('nat', 'KUBE-MARK-MASQ'));
  });
});
