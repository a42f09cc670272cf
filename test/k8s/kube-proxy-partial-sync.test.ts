// kube-proxy's partial syncs (as kube-proxy >= 1.28 does them): after pod kills, an
// endpoint removed and added (scale down / up), a Service deleted and added again, every node's
// `iptables-save` is exactly what restoring that node's full rendering gives (base, flanneld's rules,
// the full sync), and the syncs after the first were partial ones; in iptables and nftables modes, a
// proxier doing partial syncs leaves every node's rules (`iptables-save`, `nft list ruleset`) as one
// that syncs in full does, after each sync.
import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '../../src/k8s/api/objects.js';
import { renderFlannelRules } from '../../src/k8s/flannel.js';
import { kubeProxyRestoreText } from '../../src/k8s/kube-proxy/index.js';
import { FULL_SYNC_PERIOD_NS } from '../../src/k8s/kube-proxy/proxier.js';
import { renderKubeProxyBase } from '../../src/k8s/kube-proxy/iptables.js';
import { listRuleset } from '../../src/netfilter/nft/list.js';
import { parseIptablesSave, renderIptablesSave, restoreInto } from '../../src/netfilter/iptables-save.js';
import { buildWorld } from '../../src/scenario/build.js';
import { generateClusterYaml, CLUSTER_GEN_DEFAULTS } from '../../src/scenario/generate.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';

const EXTRA = `---
apiVersion: v1
kind: Service
metadata: { name: svc-local }
spec: { type: NodePort, externalTrafficPolicy: Local, selector: { app: svc-1 }, ports: [{ port: 80, targetPort: 8080, nodePort: 31000 }] }
`;

function world(mode: 'iptables' | 'nftables' = 'iptables') {
  let yaml = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 4, services: 5, podsPerService: 3, flows: 1, requests: 20, mode });
  // Pod kills of the Deployments' pods, one at a time, picked by the fault stream.
  const faults = [2, 4, 6, 8].map((t) => `    - { at: ${t}s, kind: pod-kill, target: { selector: { labelSelectors: { app: svc-2 } }, mode: one }, gracePeriod: 0s }`).join('\n');
  yaml = yaml.replace(/^spec:\n/m, `spec:\n  faults:\n${faults}\n`) + EXTRA;
  return buildWorld(loadScenarioText(yaml, 'partial.yaml'), 1);
}

/** iptables-save text with every chain's counters [0:0]. */
const zeroed = (text: string): string => text.replace(/ \[\d+:\d+\]$/gm, ' [0:0]');

describe('kube-proxy partial syncs', () => {
  it('leave every node with the rules a full sync writes', () => {
    const w = world();
    const cp = w.controlPlane!;
    const kp = cp.kubeProxy;
    const nodes = w.cluster!.nodes;
    const opts = { mode: 'iptables' as const, scheduler: 'rr' as const, clusterCIDR: '10.244.0.0/16', masqueradeAll: false, randomFully: true };
    const check = (): void => {
      for (const n of nodes) {
        let rs = parseIptablesSave(renderKubeProxyBase(), 'base');
        rs = restoreInto(rs, parseIptablesSave(renderFlannelRules('10.244.0.0/16', `${formatIpv4(n.podNet)}/${n.podPrefix}`, true), 'cni'), true);
        rs = restoreInto(rs, parseIptablesSave(kubeProxyRestoreText(n, [...kp.services], opts), 'sync'), true);
        // The rules (the chains' counters are the traffic's: they survive the syncs, tested below).
        expect(zeroed(n.ns.nf!.save())).toBe(renderIptablesSave(rs));
      }
    };
    check();
    expect(kp.syncCounts).toEqual({ full: 1, partial: 0 });
    // Every sync the run schedules is checked right after it (the informer may be ahead of the rules in between).
    let checked = 0;
    const sync = kp.syncProxyRules.bind(kp);
    kp.syncProxyRules = () => {
      sync();
      check();
      checked++;
    };
    const sepsBefore = (nodes[0]!.ns.nf!.save().match(/^:KUBE-SEP-/gm) ?? []).length;
    // The pod kills: each replaces a pod of svc-2 (a new endpoint, the old one gone).
    w.sim.run({ until: 10e9 });
    expect(kp.syncCounts.partial).toBeGreaterThanOrEqual(4);
    expect(checked).toBe(kp.syncCounts.partial);
    expect((nodes[0]!.ns.nf!.save().match(/^:KUBE-SEP-/gm) ?? []).length).toBe(sepsBefore);
    // Scale down and up: one endpoint of svc-0's slice removed, then put back.
    const slice = cp.api.list('EndpointSlice').find((e) => (e as EndpointSlice).serviceName === 'svc-0') as EndpointSlice;
    const one = { ...slice, ports: slice.ports.map((p) => ({ ...p, endpoints: p.endpoints.slice(1) })) };
    cp.api.update(one);
    kp.syncProxyRules();
    check();
    expect((nodes[0]!.ns.nf!.save().match(/^:KUBE-SEP-/gm) ?? []).length).toBe(sepsBefore - 1);
    cp.api.update({ ...slice });
    kp.syncProxyRules();
    check();
    // A Service deleted (its chains flushed and deleted), then created again.
    const svc = cp.api.list('Service').find((s) => s.metadata.name === 'svc-3') as Service;
    const sliceOf3 = cp.api.list('EndpointSlice').find((e) => (e as EndpointSlice).serviceName === 'svc-3') as EndpointSlice;
    cp.api.delete('Service', svc.metadata.namespace, svc.metadata.name);
    // (the garbage collector deletes the Service's slice; the controller writes a new one for the new Service)
    cp.api.delete('EndpointSlice', sliceOf3.metadata.namespace, sliceOf3.metadata.name);
    kp.syncProxyRules();
    check();
    expect(nodes[0]!.ns.nf!.save()).not.toContain('default/svc-3');
    cp.api.create({ ...svc });
    kp.syncProxyRules();
    check();
    expect(nodes[0]!.ns.nf!.save()).toContain('default/svc-3');
    expect(kp.syncCounts.full).toBe(1);
    // The rest of the run (its syncs partial too) still ends with every node's rules as a full sync's.
    w.sim.run();
    check();
    // An hour after the last full sync, the next sync is a full one (proxyutil.FullSyncPeriod); then partial again.
    const { full, partial } = kp.syncCounts;
    w.sim.schedule(FULL_SYNC_PERIOD_NS - 1, () => kp.syncProxyRules());
    w.sim.schedule(FULL_SYNC_PERIOD_NS + 1e9, () => kp.syncProxyRules());
    w.sim.schedule(FULL_SYNC_PERIOD_NS + 2e9, () => kp.syncProxyRules());
    w.sim.run();
    expect(kp.syncCounts).toEqual({ full: full + 1, partial: partial + 2 });
  });

  for (const mode of ['iptables', 'nftables'] as const) {
    it(`${mode} mode: every node's rules after each sync are those of a proxier that syncs in full`, () => {
      const a = world(mode);
      const b = world(mode);
      b.controlPlane!.kubeProxy.partialSyncs = false;
      const dump = (w: typeof a): string[] => w.cluster!.nodes.map((n) => (mode === 'iptables' ? n.ns.nf!.save() : listRuleset(n.ns.nf!.nft, w.sim.now)));
      let compared = 0;
      const step = (change?: (w: typeof a) => void): void => {
        for (const w of [a, b]) {
          change?.(w);
          w.controlPlane!.kubeProxy.syncProxyRules();
        }
        expect(dump(a)).toEqual(dump(b));
        compared++;
      };
      // The pod kills of the run, compared after each second.
      for (let t = 1; t <= 10; t++) {
        a.sim.run({ until: t * 1e9 });
        b.sim.run({ until: t * 1e9 });
        expect(dump(a)).toEqual(dump(b));
      }
      const sliceOf = (w: typeof a, svc: string) => w.controlPlane!.api.list('EndpointSlice').find((e) => (e as EndpointSlice).serviceName === svc) as EndpointSlice;
      const saved = sliceOf(a, 'svc-0');
      step((w) => w.controlPlane!.api.update({ ...saved, ports: saved.ports.map((p) => ({ ...p, endpoints: p.endpoints.slice(1) })) }));
      step((w) => w.controlPlane!.api.update({ ...sliceOf(w, 'svc-0'), ports: saved.ports }));
      const svc = a.controlPlane!.api.list('Service').find((s) => s.metadata.name === 'svc-3') as Service;
      step((w) => {
        const sl = sliceOf(w, 'svc-3');
        w.controlPlane!.api.delete('Service', svc.metadata.namespace, svc.metadata.name);
        w.controlPlane!.api.delete('EndpointSlice', sl.metadata.namespace, sl.metadata.name);
      });
      // nftables deletes a stale chain a second after flushing it: a sync more than a second later.
      a.sim.run({ until: 12e9 });
      b.sim.run({ until: 12e9 });
      step();
      step((w) => w.controlPlane!.api.create({ ...svc }));
      a.sim.run();
      b.sim.run();
      expect(dump(a)).toEqual(dump(b));
      expect(compared).toBe(5);
      expect(a.controlPlane!.kubeProxy.syncCounts.full).toBe(1);
      expect(a.controlPlane!.kubeProxy.syncCounts.partial).toBeGreaterThanOrEqual(9);
      expect(b.controlPlane!.kubeProxy.syncCounts.partial).toBe(0);
    });
  }
});
