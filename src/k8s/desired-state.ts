// k8s/desired-state — the objects a scenario asks for, before anything runs: the Nodes (the scenario's
// list, completed by Node manifests, with their labels and taints) and the Pods (Pod manifests, and
// the pods of each workload as its controller names them: Deployment → ReplicaSet
// <deployment>-<pod-template-hash>-<5 chars>, ReplicaSet, StatefulSet, DaemonSet, Job — see
// workload-controllers.ts). Layer: k8s (imports core, k8s).
// What a controller needs to create pods later (scaling, a rollout: replica-controller.ts,
// deployment-controller.ts, statefulset-controller.ts, daemonset-controller.ts) is kept per Deployment,
// ReplicaSet, StatefulSet and DaemonSet as a WorkloadTemplate.
import type { Simulator } from '../core/simulator.js';
import type { UserError } from '../core/user-error.js';
import type { ClusterConfig, ManifestInput } from './cluster.js';
import { DeploymentSchema, NodeSchema, parseManifest, PodSchema, unknownFieldWarnings, type PodSpecT } from './manifests.js';
import { fnv32a, podTemplateHash, safeEncode } from './names.js';
import { SchedulingSchema, TaintsSchema, type NodeInfo, type PodScheduling, type Taint } from './scheduler.js';
import { daemonSetPods, DaemonSetSchema, jobPods, JobSchema, type JobT, orderedReadyStart, replicaSetPods, ReplicaSetSchema, revisionHash, statefulSetPods, StatefulSetSchema, type StatefulSetT, type StampedPod } from './workload-controllers.js';

/** A node to join, and where it was declared. */
export interface NodeDef extends NodeInfo {
  ip: string | undefined;
  podCIDR: string | undefined;
  mac: string | undefined;
  path: (string | number)[];
}

/** The workload that owns a pod (its controller's object), as `kind/name` in traffic references. */
export interface PodOwner {
  kind: 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job';
  name: string;
  /** A Job's pods: the CronJob that created the Job (its ownerReference), if any. */
  cronJob?: string;
}

/**
 * A Deployment's, ReplicaSet's, StatefulSet's or DaemonSet's pod template as its controller stamps pods from it after
 * start (`kubectl scale`, `kubectl rollout restart`): `def` is a pod of it with the name left to the controller.
 */
export interface WorkloadTemplate {
  owner: PodOwner;
  namespace: string;
  /** spec.replicas as written (a DaemonSet: none). */
  replicas: number;
  /** The pods' name prefix: a Deployment's ReplicaSet `<deploy>-<pod-template-hash>`, a ReplicaSet's, StatefulSet's or DaemonSet's name. */
  prefix: string;
  /** A pod of the template (name: the prefix). */
  def: PodDef;
  /** The pod template as written (a rollout hashes it with its restartedAt annotation). */
  rawTemplate: unknown;
  /** The workload's spec as written (strategy, minReadySeconds, serviceName, ordinals). */
  rawSpec: Record<string, unknown>;
}

/** A pod to run, and the manifest it comes from. */
export interface PodDef {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: PodSpecT;
  /** Owner Deployment name, if any. */
  deployment: string | null;
  owner: PodOwner | null;
  scheduling: PodScheduling;
  m: ManifestInput;
  specPath: (string | number)[];
}

/** The labels every kubelet registers its Node with (kubelet's initialNode: hostname, os and arch, and still the
 *  deprecated beta.kubernetes.io/os and /arch, which older manifests select on); a control-plane node's role label and taint (kubeadm). */
export function nodeIdentity(name: string, role: string | undefined): { labels: Record<string, string>; taints: Taint[] } {
  const labels: Record<string, string> = { 'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' };
  if (role !== 'control-plane') return { labels, taints: [] };
  return { labels: { ...labels, 'node-role.kubernetes.io/control-plane': '' }, taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] };
}

type ScenarioNode = ClusterConfig['nodes'][number] & { labels?: Record<string, string>; taints?: Taint[]; role?: string; maxPods?: number };

/** The scenario's nodes, then Node manifests not in it (a manifest fills in a listed node's ip / podCIDR, adds labels and taints). */
export function nodeDefsOf(cfg: ClusterConfig, manifests: ManifestInput[], errors: UserError[], warnings: UserError[]): NodeDef[] {
  const defs: NodeDef[] = (cfg.nodes as ScenarioNode[]).map((n, i) => {
    const id = nodeIdentity(n.name, n.role);
    return { name: n.name, ip: n.ip, podCIDR: n.podCIDR, mac: n.mac, path: ['spec', 'cluster', 'nodes', i], labels: { ...id.labels, ...n.labels }, taints: [...id.taints, ...(n.taints ?? [])], ...(n.maxPods !== undefined ? { maxPods: n.maxPods } : {}) };
  });
  for (const m of manifests) {
    if (m.kind !== 'Node') continue;
    const node = parseManifest(NodeSchema, m.value, m.error, errors);
    if (!node) continue;
    unknownFieldWarnings('Node', m.value, (p, msg) => warnings.push(m.error(p, msg)));
    const taints = parseManifest(TaintsSchema, (m.value['spec'] as Record<string, unknown> | undefined)?.['taints'], (p, msg) => m.error(['spec', 'taints', ...p], msg), errors) ?? [];
    const ip = node.status.addresses.find((a) => a.type === 'InternalIP')?.address;
    const existing = defs.find((d) => d.name === node.metadata.name);
    if (existing) {
      if (ip && !existing.ip) existing.ip = ip;
      if (node.spec.podCIDR && !existing.podCIDR) existing.podCIDR = node.spec.podCIDR;
      Object.assign(existing.labels, node.metadata.labels);
      existing.taints.push(...taints);
    } else {
      const id = nodeIdentity(node.metadata.name, undefined);
      defs.push({ name: node.metadata.name, ip, podCIDR: node.spec.podCIDR, mac: undefined, path: ['metadata', 'name'], labels: { ...id.labels, ...node.metadata.labels }, taints });
    }
  }
  return defs;
}

/** The uid podwire gives a Job (its pods' controller-uid label): stable per namespace/name. */
export function jobUid(namespace: string, name: string): string {
  return safeEncode(String(fnv32a(`${namespace}/${name}`)));
}

/** The scheduling view of a pod spec: its scheduling fields and host ports (a hostNetwork pod claims its containerPorts). */
export function schedulingOf(spec: PodSpecT): PodScheduling {
  const s = SchedulingSchema.parse(spec);
  const hostPorts = spec.containers.flatMap((c) => c.ports.flatMap((p) => (p.hostPort !== undefined ? [{ port: p.hostPort, protocol: p.protocol }] : s.hostNetwork ? [{ port: p.containerPort, protocol: p.protocol }] : [])));
  return { spec: s, hostPorts };
}

const WORKLOADS = { Deployment: DeploymentSchema, ReplicaSet: ReplicaSetSchema, StatefulSet: StatefulSetSchema, DaemonSet: DaemonSetSchema, Job: JobSchema } as const;

/** Pod manifests and every workload's pods, in file order. */
export function podDefsOf(sim: Simulator, manifests: ManifestInput[], nodes: readonly NodeInfo[], errors: UserError[], warnings: UserError[], templates: WorkloadTemplate[] = []): PodDef[] {
  const defs: PodDef[] = [];
  for (const m of manifests) {
    if (m.kind === 'Pod') {
      const pod = parseManifest(PodSchema, m.value, m.error, errors);
      if (!pod) continue;
      unknownFieldWarnings('Pod', m.value, (p, msg) => warnings.push(m.error(p, msg)));
      const sched = SchedulingSchema.safeParse(pod.spec);
      if (!sched.success) {
        for (const i of sched.error.issues) errors.push(m.error(['spec', ...i.path.filter((p): p is string | number => typeof p !== 'symbol')], i.message));
        continue;
      }
      defs.push({ name: pod.metadata.name, namespace: pod.metadata.namespace, labels: pod.metadata.labels, annotations: pod.metadata.annotations, spec: pod.spec, deployment: null, owner: null, scheduling: schedulingOf(pod.spec), m, specPath: ['spec'] });
    } else if (m.kind in WORKLOADS) {
      // A loop, not push(...): a spread of 100k pods exceeds the call stack.
      for (const d of workloadPods(sim, m, m.kind as keyof typeof WORKLOADS, nodes, errors, warnings, templates)) defs.push(d);
    }
  }
  return defs;
}

/** The pods of one workload object, as its controller creates them. */
function workloadPods(sim: Simulator, m: ManifestInput, kind: keyof typeof WORKLOADS, nodes: readonly NodeInfo[], errors: UserError[], warnings: UserError[], templates: WorkloadTemplate[]): PodDef[] {
  const w = parseManifest(WORKLOADS[kind] as typeof DeploymentSchema, m.value, m.error, errors);
  if (!w) return [];
  unknownFieldWarnings(kind, m.value, (p, msg) => warnings.push(m.error(p, msg)));
  const md = w.metadata;
  const tmpl = w.spec.template;
  const sched = SchedulingSchema.safeParse(tmpl.spec);
  if (!sched.success) {
    for (const i of sched.error.issues) errors.push(m.error(['spec', 'template', 'spec', ...i.path.filter((p): p is string | number => typeof p !== 'symbol')], i.message));
    return [];
  }
  const tmplLabels = tmpl.metadata.labels;
  const selector = (w.spec as { selector?: { matchLabels: Record<string, string> } }).selector;
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) {
    if (tmplLabels[k] !== v) errors.push(m.error(['spec', 'selector', 'matchLabels', k], `selector does not match template labels (Kubernetes rejects this ${kind})`));
  }
  const rawTemplate = (m.value['spec'] as Record<string, unknown>)['template'];
  const rng = sim.rng.stream(`k8s/${kind === 'Deployment' ? 'replicaset' : kind.toLowerCase()}/${md.namespace}/${md.name}`);
  const spec = w.spec as Record<string, unknown>;
  let stamped: StampedPod[];
  if (kind === 'Deployment') {
    const hash = podTemplateHash(rawTemplate);
    stamped = replicaSetPods(`${md.name}-${hash}`, spec['replicas'] as number, { ...tmplLabels, 'pod-template-hash': hash }, rng);
  } else if (kind === 'ReplicaSet') stamped = replicaSetPods(md.name, spec['replicas'] as number, tmplLabels, rng);
  else if (kind === 'StatefulSet') {
    const start = (spec['ordinals'] as { start: number } | undefined)?.start ?? 0;
    if (spec['serviceName'] === '') warnings.push(m.error(['spec'], 'a StatefulSet without spec.serviceName gets no per-pod DNS names (name its headless Service there)'));
    // OrderedReady: the ordinals after the first that is not Ready at once wait for the controller.
    stamped = statefulSetPods(md.name, orderedReadyStart(w.spec as unknown as StatefulSetT['spec']), start, spec['serviceName'] as string, tmplLabels, revisionHash(md.name, rawTemplate));
  } else if (kind === 'DaemonSet') stamped = daemonSetPods(md.name, tmpl.spec, nodes, tmplLabels, revisionHash(md.name, rawTemplate), rng);
  else {
    const job = w as unknown as JobT;
    if (job.spec.completionMode === 'Indexed' && job.spec.completions === undefined) errors.push(m.error(['spec', 'completions'], 'completionMode Indexed needs spec.completions (Kubernetes rejects this Job)'));
    stamped = jobPods(job, jobUid(md.namespace, md.name), rng);
  }
  const owner: PodOwner = { kind, name: md.name };
  const defOf = (p: StampedPod): PodDef => {
    const podSpec = { ...tmpl.spec, ...p.specOverrides } as PodSpecT;
    return { name: p.name, namespace: md.namespace, labels: p.labels, annotations: tmpl.metadata.annotations, spec: podSpec, deployment: kind === 'Deployment' ? md.name : null, owner, scheduling: schedulingOf(podSpec), m, specPath: ['spec', 'template', 'spec'] };
  };
  if (kind !== 'Job') {
    const hash = kind === 'Deployment' ? (stamped[0]?.labels['pod-template-hash'] ?? podTemplateHash(rawTemplate)) : '';
    const prefix = kind === 'Deployment' ? `${md.name}-${hash}` : md.name;
    const labels = kind === 'Deployment' ? { ...tmplLabels, 'pod-template-hash': hash } : tmplLabels;
    templates.push({ owner, namespace: md.namespace, replicas: (spec['replicas'] as number | undefined) ?? 0, prefix, def: defOf({ name: prefix, labels, specOverrides: {} }), rawTemplate, rawSpec: spec });
  }
  return stamped.map(defOf);
}
