// `podwire generate cluster`: the generated scenario builds into the cluster it says (nodes, Services,
// pods spread over the nodes, every 10th Service a NodePort), its flows complete, node subnets widen
// when the pods per node need it, and bad flags are one-line usage errors.
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { CLUSTER_GEN_DEFAULTS, clusterGenProblem, generateClusterYaml } from '../../src/scenario/generate.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { CLI, ensureBuilt, ROOT } from './dist.js';

beforeAll(() => ensureBuilt());

describe('podwire generate cluster', () => {
  it('builds the cluster it describes and runs its flows', () => {
    const yaml = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 3, services: 11, podsPerService: 2, flows: 2, requests: 4 });
    const w = buildWorld(loadScenarioText(yaml, 'gen.yaml'), 1);
    expect(w.warnings).toEqual([]);
    expect(w.cluster!.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
    const svcs = w.services.filter((s) => s.name.startsWith('svc-'));
    expect(svcs).toHaveLength(11);
    expect(svcs.filter((s) => s.ports[0]!.nodePort !== null).map((s) => `${s.name}:${s.ports[0]!.nodePort}`).sort()).toEqual(['svc-0:30000', 'svc-10:30001']);
    for (const s of svcs) expect(s.ports[0]!.endpoints).toHaveLength(2);
    // 22 web pods and the client, spread over the three nodes.
    const perNode = w.cluster!.nodes.map((n) => w.cluster!.pods.filter((p) => p.node === n).length);
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(23);
    expect(Math.max(...perNode) - Math.min(...perNode)).toBeLessThanOrEqual(2);
    w.sim.run();
    expect([w.stats.flow('flow-0').successes, w.stats.flow('flow-1').successes]).toEqual([4, 4]);
  });

  it('widens the node subnets when the pods per node need it, and rejects what cannot fit', () => {
    expect(generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 2, services: 40 })).not.toContain('nodeSubnetPrefix');
    const wide = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 2, services: 200, podsPerService: 3 });
    expect(wide).toContain('podCIDR: 10.128.0.0/9');
    expect(wide).toContain('nodeSubnetPrefix: 22');
    expect(clusterGenProblem({ ...CLUSTER_GEN_DEFAULTS, flows: 11 })).toBe('--flows: expected an integer 0..10 (one Service per flow), got 11');
    expect(clusterGenProblem({ ...CLUSTER_GEN_DEFAULTS, nodes: 0 })).toMatch(/^--nodes: expected an integer/);
    // A node's subnet is at most a /16 (the schema's nodeSubnetPrefix ≥ 16): refused here, not by the loader.
    expect(clusterGenProblem({ ...CLUSTER_GEN_DEFAULTS, nodes: 1, services: 1000, podsPerService: 101 })).toMatch(/^--pods-per-service: 101000 pods on 1 node\(s\) need more than a \/16/);
    const most = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 1, services: 32763, podsPerService: 1, flows: 0 });
    expect(most).toContain('nodeSubnetPrefix: 16');
    expect(() => loadScenarioText(most, 'most.yaml')).not.toThrow();
  });

  it('raises the kubelet maxPods when the pods per node exceed the default 110, so none stays Pending', () => {
    expect(generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 2, services: 72, podsPerService: 3 })).not.toContain('maxPods');
    const dense = generateClusterYaml({ ...CLUSTER_GEN_DEFAULTS, nodes: 2, services: 100, podsPerService: 3, flows: 1, requests: 2 });
    expect(dense).toContain('- { name: node-1, maxPods: 151 }');
    const w = buildWorld(loadScenarioText(dense, 'dense.yaml'), 1);
    expect(w.cluster!.pods.filter((p) => p.node === null || p.node === undefined)).toEqual([]);
    expect(w.cluster!.pods).toHaveLength(301);
    for (const s of w.services.filter((x) => x.name.startsWith('svc-'))) expect(s.ports[0]!.endpoints).toHaveLength(3);
  });

  it('prints the YAML, and a one-line usage error for a bad flag', () => {
    const ok = spawnSync(process.execPath, [CLI, 'generate', 'cluster', '--nodes', '2', '--services', '3'], { cwd: ROOT, encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(loadScenarioText(ok.stdout, 'out.yaml').manifests).toHaveLength(7);
    const bad = spawnSync(process.execPath, [CLI, 'generate', 'cluster', '--nodes', '0'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual(['podwire: --nodes: expected an integer 1..30000, got 0']);
  });
});
