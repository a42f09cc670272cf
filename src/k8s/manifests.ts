// k8s/manifests — Kubernetes API objects read from the manifests beside a Scenario: Node, Pod,
// Deployment (→ ReplicaSet → Pods). Layer: k8s. Only the fields that shape the network are used;
// probes are parsed for k8s/prober.ts; other well-known fields (resources, env, ...) are accepted silently, and fields podwire
// does not know at all produce a one-line warning naming file:line:col, never silence.
import { z } from 'zod';
import type { UserError } from '../core/user-error.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

const Metadata = z.looseObject({
  name: z.string().regex(DNS_SUBDOMAIN, 'expected a DNS subdomain name (RFC 1123)').max(253),
  namespace: z.string().regex(DNS_LABEL, 'expected a DNS label').default('default'),
  labels: z.record(z.string(), z.string()).default({}),
  annotations: z.record(z.string(), z.string()).default({}),
});

const ContainerPort = z.looseObject({
  containerPort: z.number().int().min(1).max(65535),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
  name: z.string().max(15).optional(),
  hostPort: z.number().int().min(1).max(65535).optional(),
});

const ProbePort = z.union([z.number().int().min(1).max(65535), z.string().min(1).max(15)]);

/** core/v1 Probe with the API server's defaults (k8s/prober.ts runs it). */
const Probe = z.looseObject({
  httpGet: z.looseObject({ path: z.string().default('/'), port: ProbePort, scheme: z.literal('HTTP').default('HTTP') }).optional(),
  tcpSocket: z.looseObject({ port: ProbePort }).optional(),
  exec: z.looseObject({ command: z.array(z.string()).default([]) }).optional(),
  initialDelaySeconds: z.number().int().min(0).default(0),
  periodSeconds: z.number().int().min(1).default(10),
  timeoutSeconds: z.number().int().min(1).default(1),
  successThreshold: z.number().int().min(1).default(1),
  failureThreshold: z.number().int().min(1).default(3),
}).refine((p) => [p.httpGet, p.tcpSocket, p.exec].filter((h) => h !== undefined).length === 1, 'a probe needs exactly one of httpGet, tcpSocket, exec');

const Container = z.looseObject({
  name: z.string().regex(DNS_LABEL, 'expected a DNS label'),
  image: z.string().default(''),
  ports: z.array(ContainerPort).default([]),
  readinessProbe: Probe.optional(),
  livenessProbe: Probe.optional(),
  startupProbe: Probe.optional(),
});

export const PodSpecSchema = z.looseObject({
  nodeName: z.string().optional(),
  hostNetwork: z.boolean().default(false),
  containers: z.array(Container).min(1, 'a pod needs at least one container'),
  initContainers: z.array(Container).default([]),
});

export const PodSchema = z.looseObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Pod'),
  metadata: Metadata,
  spec: PodSpecSchema,
});

const LabelSelector = z.looseObject({
  matchLabels: z.record(z.string(), z.string()).default({}),
});

export const DeploymentSchema = z.looseObject({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('Deployment'),
  metadata: Metadata,
  spec: z.looseObject({
    replicas: z.number().int().min(0).default(1),
    selector: LabelSelector,
    template: z.looseObject({
      metadata: z.looseObject({ labels: z.record(z.string(), z.string()).default({}), annotations: z.record(z.string(), z.string()).default({}) }).default({ labels: {}, annotations: {} }),
      spec: PodSpecSchema,
    }),
  }),
});

export const NodeSchema = z.looseObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Node'),
  metadata: z.looseObject({ name: z.string().regex(DNS_SUBDOMAIN), labels: z.record(z.string(), z.string()).default({}) }),
  spec: z.looseObject({ podCIDR: z.string().optional() }).default({}),
  status: z
    .looseObject({ addresses: z.array(z.looseObject({ type: z.string(), address: z.string() })).default([]) })
    .default({ addresses: [] }),
});

export type PodT = z.infer<typeof PodSchema>;
export type DeploymentT = z.infer<typeof DeploymentSchema>;
export type NodeT = z.infer<typeof NodeSchema>;
export type PodSpecT = z.infer<typeof PodSpecSchema>;
export type ProbeT = z.infer<typeof Probe>;
export type ContainerT = z.infer<typeof Container>;

/** Fields podwire knows (used or deliberately ignored) per object part; others get a warning. */
const KNOWN: Record<string, readonly string[]> = {
  root: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  metadata: ['name', 'namespace', 'labels', 'annotations', 'uid', 'generateName', 'ownerReferences', 'creationTimestamp', 'resourceVersion', 'finalizers'],
  podSpec: ['nodeName', 'hostNetwork', 'containers', 'initContainers', 'restartPolicy', 'terminationGracePeriodSeconds', 'serviceAccountName', 'volumes', 'nodeSelector', 'tolerations', 'affinity', 'dnsPolicy', 'securityContext', 'imagePullSecrets', 'priorityClassName', 'schedulerName', 'hostname', 'subdomain', 'dnsConfig'],
  container: ['name', 'image', 'ports', 'command', 'args', 'env', 'envFrom', 'resources', 'imagePullPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'volumeMounts', 'securityContext', 'workingDir', 'lifecycle'],
  deploymentSpec: ['replicas', 'selector', 'template', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'paused'],
};

/** Reports fields podwire does not know as warnings (path relative to the document). */
export function unknownFieldWarnings(kind: string, value: Record<string, unknown>, warn: (path: (string | number)[], message: string) => void): void {
  const check = (obj: unknown, known: readonly string[], path: (string | number)[]): void => {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return;
    for (const k of Object.keys(obj)) if (!known.includes(k)) warn([...path, k], `field "${k}" is not modelled by podwire and is ignored`);
  };
  const podSpec = (spec: unknown, path: (string | number)[]): void => {
    check(spec, KNOWN['podSpec']!, path);
    const s = spec as { containers?: unknown[]; initContainers?: unknown[] } | undefined;
    s?.containers?.forEach((c, i) => check(c, KNOWN['container']!, [...path, 'containers', i]));
  };
  check(value, KNOWN['root']!, []);
  check(value['metadata'], KNOWN['metadata']!, ['metadata']);
  if (kind === 'Pod') podSpec(value['spec'], ['spec']);
  if (kind === 'Deployment') {
    const spec = value['spec'] as Record<string, unknown> | undefined;
    check(spec, KNOWN['deploymentSpec']!, ['spec']);
    podSpec((spec?.['template'] as Record<string, unknown> | undefined)?.['spec'], ['spec', 'template', 'spec']);
  }
}

/** Parses one manifest of a kind this module models; pushes schema errors with their paths. */
export function parseManifest<T>(schema: z.ZodType<T>, value: unknown, errorAt: (path: (string | number)[], message: string) => UserError, errors: UserError[]): T | null {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  for (const issue of r.error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    errors.push(errorAt(path, issue.message));
  }
  return null;
}
