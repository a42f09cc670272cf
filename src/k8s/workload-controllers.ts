// k8s/workload-controllers — the controllers that turn workload objects into Pods, each naming and
// labelling its pods as the real one does (pkg/controller): the ReplicaSet controller
// (<rs>-<5 chars>; a Deployment's ReplicaSet is <deploy>-<pod-template-hash>), the StatefulSet
// controller (<sts>-<ordinal>, hostname = pod name and subdomain = spec.serviceName, so CoreDNS
// answers <pod>.<service>.<ns>.svc.cluster.local through the headless Service; labels
// statefulset.kubernetes.io/pod-name and apps.kubernetes.io/pod-index), the DaemonSet controller
// (one pod per node the pod fits: nodeSelector, required node affinity, taints against its tolerations
// plus the ones the controller adds; bound to the node as its matchFields affinity does) and the Job
// controller's first pods (min(parallelism, completions), labels job-name / batch.kubernetes.io/job-name,
// Indexed names; job-controller.ts creates the later ones). Layer: k8s (imports core, k8s).
// Scaling and rollouts after start: replica-controller.ts, deployment-controller.ts, statefulset-controller.ts
// (which also creates the ordinals OrderedReady holds back at start), daemonset-controller.ts. Not modelled:
// volumeClaimTemplates.
import { z } from 'zod';
import type { Rng } from '../core/rng.js';
import { PodSpecSchema } from './manifests.js';
import { generateNames, podTemplateHash } from './names.js';
import { matchesNodeSelection, SchedulingSchema, untoleratedTaint, type NodeInfo, type TolerationT } from './scheduler.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const Metadata = z.looseObject({
  name: z.string().regex(DNS_SUBDOMAIN, 'expected a DNS subdomain name (RFC 1123)').max(253),
  namespace: z.string().regex(DNS_LABEL, 'expected a DNS label').default('default'),
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
});
const Selector = z.looseObject({ matchLabels: z.record(z.string(), z.string()).default({}) });
const Template = z.looseObject({
  metadata: z.looseObject({ labels: z.record(z.string(), z.string()).default({}), annotations: z.record(z.string(), z.string()).default({}) }).default({ labels: {}, annotations: {} }),
  spec: PodSpecSchema,
});

export const ReplicaSetSchema = z.looseObject({ apiVersion: z.literal('apps/v1'), kind: z.literal('ReplicaSet'), metadata: Metadata, spec: z.looseObject({ replicas: z.number().int().min(0).default(1), selector: Selector, template: Template }) });
/** spec.updateStrategy of a StatefulSet or DaemonSet: RollingUpdate (default) with its parameters, or OnDelete. */
function updateStrategy<S extends z.core.$ZodLooseShape>(rollingUpdate: S) {
  return z.looseObject({ type: z.enum(['RollingUpdate', 'OnDelete']).default('RollingUpdate'), rollingUpdate: z.looseObject(rollingUpdate).optional() }).default({ type: 'RollingUpdate' });
}
const IntOrPercent = z.union([z.number().int().min(0), z.string().regex(/^\d+%$/, 'expected an integer or a percentage such as "25%"')]);
export const StatefulSetSchema = z.looseObject({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('StatefulSet'),
  metadata: Metadata,
  spec: z.looseObject({
    replicas: z.number().int().min(0).default(1),
    selector: Selector,
    serviceName: z.string().default(''),
    template: Template,
    ordinals: z.looseObject({ start: z.number().int().min(0).default(0) }).optional(),
    podManagementPolicy: z.enum(['OrderedReady', 'Parallel']).default('OrderedReady'),
    minReadySeconds: z.number().int().min(0).default(0),
    updateStrategy: updateStrategy({ partition: z.number().int().min(0).default(0) }),
  }),
});
export type StatefulSetT = z.infer<typeof StatefulSetSchema>;
export const DaemonSetSchema = z.looseObject({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('DaemonSet'),
  metadata: Metadata,
  spec: z.looseObject({
    selector: Selector,
    template: Template,
    minReadySeconds: z.number().int().min(0).default(0),
    updateStrategy: updateStrategy({ maxUnavailable: IntOrPercent.optional(), maxSurge: IntOrPercent.optional() }),
  }),
});
export type DaemonSetT = z.infer<typeof DaemonSetSchema>;
export const JobSchema = z.looseObject({
  apiVersion: z.literal('batch/v1'),
  kind: z.literal('Job'),
  metadata: Metadata,
  spec: z.looseObject({
    parallelism: z.number().int().min(0).default(1),
    completions: z.number().int().min(0).optional(),
    completionMode: z.enum(['NonIndexed', 'Indexed']).default('NonIndexed'),
    backoffLimit: z.number().int().min(0).default(6),
    activeDeadlineSeconds: z.number().int().min(1).optional(),
    ttlSecondsAfterFinished: z.number().int().min(0).optional(),
    suspend: z.boolean().default(false),
    template: Template,
  }),
});
export type JobT = z.infer<typeof JobSchema>;
export const CronJobSchema = z.looseObject({
  apiVersion: z.literal('batch/v1'),
  kind: z.literal('CronJob'),
  metadata: Metadata,
  spec: z.looseObject({
    schedule: z.string(),
    concurrencyPolicy: z.enum(['Allow', 'Forbid', 'Replace']).default('Allow'),
    suspend: z.boolean().default(false),
    startingDeadlineSeconds: z.number().int().min(0).optional(),
    successfulJobsHistoryLimit: z.number().int().min(0).default(3),
    failedJobsHistoryLimit: z.number().int().min(0).default(1),
    jobTemplate: z.looseObject({
      metadata: z.looseObject({ labels: z.record(z.string(), z.string()).default({}), annotations: z.record(z.string(), z.string()).default({}) }).default({ labels: {}, annotations: {} }),
      spec: JobSchema.shape.spec,
    }),
  }),
});
export type CronJobT = z.infer<typeof CronJobSchema>;

/** The template a controller stamps pods from, and the pods' identity. */
export interface StampedPod {
  name: string;
  labels: Record<string, string>;
  /** Fields the controller sets on the pod spec (hostname, subdomain, nodeName). */
  specOverrides: Record<string, unknown>;
}

/** Pods a ReplicaSet creates: generateName `<prefix>-` + 5 random safe characters each. */
export function replicaSetPods(prefix: string, replicas: number, labels: Record<string, string>, rng: Rng): StampedPod[] {
  return generateNames(prefix, replicas, rng).map((name) => ({ name, labels: { ...labels }, specOverrides: {} }));
}

/** controller-revision-hash of a template: `<name>-<hash>` as the StatefulSet and DaemonSet controllers label pods. */
export function revisionHash(name: string, template: unknown): string {
  return `${name}-${podTemplateHash(template)}`;
}

/** StatefulSet pods: `<sts>-<ordinal>` with a stable hostname under the governing Service. */
export function statefulSetPods(name: string, replicas: number, start: number, serviceName: string, labels: Record<string, string>, revision: string): StampedPod[] {
  return Array.from({ length: replicas }, (_, i) => statefulSetPod(name, start + i, serviceName, labels, revision));
}

/** The StatefulSet's pod of one ordinal (newStatefulSetPod): name, identity labels, hostname and subdomain. */
export function statefulSetPod(name: string, ordinal: number, serviceName: string, labels: Record<string, string>, revision: string): StampedPod {
  const pod = `${name}-${ordinal}`;
  return {
    name: pod,
    labels: { ...labels, 'apps.kubernetes.io/pod-index': String(ordinal), 'controller-revision-hash': revision, 'statefulset.kubernetes.io/pod-name': pod },
    specOverrides: { hostname: pod, ...(serviceName !== '' ? { subdomain: serviceName } : {}) },
  };
}

/**
 * How many ordinals a StatefulSet runs when the cluster comes up: all of them, except under
 * podManagementPolicy OrderedReady (the default) when a pod is not Running and Ready at once (a
 * readiness or startup probe must pass first) or not available at once (minReadySeconds): then only
 * ordinal 0, and the StatefulSet controller creates each next one once its predecessor is
 * (statefulset-controller.ts).
 */
export function orderedReadyStart(spec: StatefulSetT['spec']): number {
  if (spec.podManagementPolicy === 'Parallel') return spec.replicas;
  const waits = spec.minReadySeconds > 0 || spec.template.spec.containers.some((c) => c.readinessProbe !== undefined || c.startupProbe !== undefined);
  return waits ? Math.min(1, spec.replicas) : spec.replicas;
}

/** Tolerations the DaemonSet controller adds to every pod (pkg/controller/daemon/util AddOrUpdateDaemonPodTolerations). */
export function daemonTolerations(hostNetwork: boolean): TolerationT[] {
  const t: TolerationT[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) t.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

/** DaemonSet pods: one per node the pod template fits, bound to it. */
export function daemonSetPods(name: string, podSpec: unknown, nodes: readonly NodeInfo[], labels: Record<string, string>, revision: string, rng: Rng): StampedPod[] {
  const fits = daemonNodes(podSpec, nodes);
  const names = generateNames(name, fits.length, rng);
  return fits.map((n, i) => daemonSetPod(names[i]!, podSpec, n.name, labels, revision, 1));
}

/** The nodes a DaemonSet's pod template should run on (NodeShouldRunDaemonPod): its node selection, and every taint tolerated. */
export function daemonNodes<N extends NodeInfo>(podSpec: unknown, nodes: readonly N[]): N[] {
  const s = SchedulingSchema.safeParse(podSpec);
  if (!s.success) return [];
  const tolerations = [...s.data.tolerations, ...daemonTolerations(s.data.hostNetwork)];
  return nodes.filter((n) => matchesNodeSelection(n, s.data) && untoleratedTaint(n, tolerations) === null);
}

/** One DaemonSet pod bound to `node` (CreatePodTemplate: the revision's hash and template generation as labels, the daemon tolerations). */
export function daemonSetPod(name: string, podSpec: unknown, node: string, labels: Record<string, string>, revision: string, generation: number): StampedPod {
  const s = SchedulingSchema.parse(podSpec);
  const tolerations = [...s.tolerations, ...daemonTolerations(s.hostNetwork)];
  return { name, labels: { ...labels, 'controller-revision-hash': revision, 'pod-template-generation': String(generation) }, specOverrides: { nodeName: node, tolerations } };
}

/** The labels the Job controller puts on its pods. */
export function jobLabels(name: string, uid: string, labels: Record<string, string>): Record<string, string> {
  return { ...labels, 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name };
}

/**
 * One pod of a Job: `<job>-<5 chars>`, or for completionMode Indexed `<job>-<index>-<5 chars>` with the
 * index as label, hostname `<job>-<index>` and JOB_COMPLETION_INDEX in every container's env.
 */
export function jobPod(name: string, index: number | null, labels: Record<string, string>, containers: readonly Record<string, unknown>[], rng: Rng, taken: (pod: string) => boolean): StampedPod {
  const prefix = index === null ? name : `${name}-${index}`;
  let pod = generateNames(prefix, 1, rng)[0]!;
  while (taken(pod)) pod = generateNames(prefix, 1, rng)[0]!;
  if (index === null) return { name: pod, labels: { ...labels }, specOverrides: {} };
  const env = { name: 'JOB_COMPLETION_INDEX', value: String(index) };
  return {
    name: pod,
    labels: { ...labels, 'batch.kubernetes.io/job-completion-index': String(index) },
    specOverrides: { hostname: `${name}-${index}`, containers: containers.map((c) => ({ ...c, env: [...(Array.isArray(c['env']) ? (c['env'] as unknown[]) : []), env] })) },
  };
}

/** A Job's first pods: min(parallelism, completions) at once (indexes 0, 1, … when Indexed). */
export function jobPods(job: JobT, uid: string, rng: Rng): StampedPod[] {
  const { parallelism, completions, completionMode, suspend } = job.spec;
  const n = suspend ? 0 : Math.min(parallelism, completions ?? parallelism);
  const labels = jobLabels(job.metadata.name, uid, job.spec.template.metadata.labels);
  const names = new Set<string>();
  return Array.from({ length: n }, (_, i) => {
    const p = jobPod(job.metadata.name, completionMode === 'Indexed' ? i : null, labels, job.spec.template.spec.containers, rng, (x) => names.has(x));
    names.add(p.name);
    return p;
  });
}
