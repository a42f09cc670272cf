// k8s/desired-state — the objects a scenario asks for, before anything runs: the Nodes (the scenario's
// list, completed by Node manifests) and the Pods (Pod manifests, and each Deployment's replicas named
// as the Deployment and ReplicaSet controllers name them: <deployment>-<pod-template-hash>-<5 chars>).
// Layer: k8s (imports core, k8s).
// Not modelled: rollouts (one ReplicaSet per Deployment), scaling after start.
import type { Simulator } from '../core/simulator.js';
import type { UserError } from '../core/user-error.js';
import type { ClusterConfig, ManifestInput } from './cluster.js';
import { DeploymentSchema, NodeSchema, parseManifest, PodSchema, unknownFieldWarnings, type PodSpecT } from './manifests.js';
import { podTemplateHash, randomSuffix } from './names.js';

/** A node to join, and where it was declared. */
export interface NodeDef {
  name: string;
  ip: string | undefined;
  podCIDR: string | undefined;
  mac: string | undefined;
  path: (string | number)[];
}

/** A pod to run, and the manifest it comes from. */
export interface PodDef {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: PodSpecT;
  deployment: string | null;
  m: ManifestInput;
  specPath: (string | number)[];
}

/** The scenario's nodes, then Node manifests not in it (a manifest fills in a listed node's ip / podCIDR). */
export function nodeDefsOf(cfg: ClusterConfig, manifests: ManifestInput[], errors: UserError[], warnings: UserError[]): NodeDef[] {
  const defs: NodeDef[] = cfg.nodes.map((n, i) => ({ name: n.name, ip: n.ip, podCIDR: n.podCIDR, mac: n.mac, path: ['spec', 'cluster', 'nodes', i] }));
  for (const m of manifests) {
    if (m.kind !== 'Node') continue;
    const node = parseManifest(NodeSchema, m.value, m.error, errors);
    if (!node) continue;
    unknownFieldWarnings('Node', m.value, (p, msg) => warnings.push(m.error(p, msg)));
    const ip = node.status.addresses.find((a) => a.type === 'InternalIP')?.address;
    const existing = defs.find((d) => d.name === node.metadata.name);
    if (existing) {
      if (ip && !existing.ip) existing.ip = ip;
      if (node.spec.podCIDR && !existing.podCIDR) existing.podCIDR = node.spec.podCIDR;
    } else defs.push({ name: node.metadata.name, ip, podCIDR: node.spec.podCIDR, mac: undefined, path: ['metadata', 'name'] });
  }
  return defs;
}

/** Pod manifests and Deployments' replicas, in file order. */
export function podDefsOf(sim: Simulator, manifests: ManifestInput[], errors: UserError[], warnings: UserError[]): PodDef[] {
  const defs: PodDef[] = [];
  for (const m of manifests) {
    if (m.kind === 'Pod') {
      const pod = parseManifest(PodSchema, m.value, m.error, errors);
      if (!pod) continue;
      unknownFieldWarnings('Pod', m.value, (p, msg) => warnings.push(m.error(p, msg)));
      defs.push({ name: pod.metadata.name, namespace: pod.metadata.namespace, labels: pod.metadata.labels, annotations: pod.metadata.annotations, spec: pod.spec, deployment: null, m, specPath: ['spec'] });
    } else if (m.kind === 'Deployment') {
      const d = parseManifest(DeploymentSchema, m.value, m.error, errors);
      if (!d) continue;
      unknownFieldWarnings('Deployment', m.value, (p, msg) => warnings.push(m.error(p, msg)));
      const tmplLabels = d.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) {
        if (tmplLabels[k] !== v) errors.push(m.error(['spec', 'selector', 'matchLabels', k], `selector does not match template labels (Kubernetes rejects this Deployment)`));
      }
      const hash = podTemplateHash((m.value['spec'] as Record<string, unknown>)['template']);
      const rng = sim.rng.stream(`k8s/replicaset/${d.metadata.namespace}/${d.metadata.name}`);
      for (let r = 0; r < d.spec.replicas; r++) {
        const name = `${d.metadata.name}-${hash}-${randomSuffix(rng)}`;
        defs.push({ name, namespace: d.metadata.namespace, labels: { ...tmplLabels, 'pod-template-hash': hash }, annotations: d.spec.template.metadata.annotations, spec: d.spec.template.spec, deployment: d.metadata.name, m, specPath: ['spec', 'template', 'spec'] });
      }
    }
  }
  return defs;
}
