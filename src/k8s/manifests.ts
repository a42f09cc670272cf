// k8s/manifests — Kubernetes API objects read from the manifests beside a Scenario: Node, Pod,
// Deployment (→ ReplicaSet → Pods). Layer: k8s. Only the fields that shape the network are used;
// probes are parsed for k8s/prober.ts; other well-known fields (resources, env, ...) are accepted silently, and fields podwire
// does not know at all produce a one-line warning naming file:line:col, never silence.
import { isIP } from 'node:net';
import { z } from 'zod';
import '../core/zod-messages.js';
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
  httpGet: z.looseObject({ path: z.string().default('/'), port: ProbePort, scheme: z.enum(['HTTP', 'HTTPS']).default('HTTP') }).optional(),
  tcpSocket: z.looseObject({ port: ProbePort }).optional(),
  exec: z.looseObject({ command: z.array(z.string()).default([]) }).optional(),
  /** core/v1 GRPCAction (GA in 1.27): port and an optional service name for the Health/Check call. */
  grpc: z.looseObject({ port: z.number().int().min(1).max(65535), service: z.string().optional() }).optional(),
  initialDelaySeconds: z.number().int().min(0).default(0),
  periodSeconds: z.number().int().min(1).default(10),
  timeoutSeconds: z.number().int().min(1).default(1),
  successThreshold: z.number().int().min(1).default(1),
  failureThreshold: z.number().int().min(1).default(3),
}).refine((p) => [p.httpGet, p.tcpSocket, p.exec, p.grpc].filter((h) => h !== undefined).length === 1, 'a probe needs exactly one of httpGet, tcpSocket, exec, grpc');

const Container = z.looseObject({
  name: z.string().regex(DNS_LABEL, 'expected a DNS label'),
  image: z.string().default(''),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
  ports: z.array(ContainerPort).default([]),
  readinessProbe: Probe.optional(),
  livenessProbe: Probe.optional(),
  startupProbe: Probe.optional(),
});

/** core/v1 PodDNSConfig as kube-apiserver validates it (validatePodDNSConfig); k8s/pod-dns.ts applies it. */
const PodDnsConfig = z.looseObject({
  nameservers: z.array(z.string().refine((s) => isIP(s) !== 0, 'must be valid IP address')).max(3, 'must not have more than 3 nameservers').optional(),
  searches: z
    .array(z.string().refine((s) => DNS_SUBDOMAIN.test(s.replace(/\.$/, '')) && s.length <= 253, 'a search path must be a valid DNS subdomain (RFC 1123)'))
    .max(32, 'must not have more than 32 search paths')
    .refine((xs) => xs.join(' ').length <= 2048, 'must not have more than 2048 characters (including spaces) in the search list')
    .optional(),
  options: z.array(z.looseObject({ name: z.string().min(1, 'an option needs a name'), value: z.string().optional() })).optional(),
});

export const PodSpecSchema = z
  .looseObject({
    nodeName: z.string().optional(),
    hostNetwork: z.boolean().default(false),
    containers: z.array(Container).min(1, 'a pod needs at least one container'),
    initContainers: z.array(Container).default([]),
    dnsPolicy: z.enum(['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'], { error: 'expected one of ClusterFirstWithHostNet, ClusterFirst, Default, None' }).optional(),
    dnsConfig: PodDnsConfig.optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.dnsPolicy !== 'None') return;
    if (spec.dnsConfig === undefined) ctx.addIssue({ code: 'custom', path: ['dnsPolicy'], message: 'must provide `dnsConfig` when `dnsPolicy` is None' });
    else if ((spec.dnsConfig.nameservers ?? []).length === 0) ctx.addIssue({ code: 'custom', path: ['dnsConfig', 'nameservers'], message: 'must provide at least one DNS nameserver when `dnsPolicy` is None' });
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

export type PodSpecT = z.infer<typeof PodSpecSchema>;
export type ProbeT = z.infer<typeof Probe>;
export type ContainerT = z.infer<typeof Container>;

/** Fields podwire knows (used or deliberately ignored) per object part; others get a warning. */
const KNOWN: Record<string, readonly string[]> = {
  root: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  // With the fields the API server writes (kubectl get -o yaml output applies as it is).
  metadata: ['name', 'namespace', 'labels', 'annotations', 'uid', 'generateName', 'ownerReferences', 'creationTimestamp', 'resourceVersion', 'finalizers', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'],
  podSpec: ['nodeName', 'hostNetwork', 'containers', 'initContainers', 'restartPolicy', 'terminationGracePeriodSeconds', 'serviceAccountName', 'volumes', 'nodeSelector', 'tolerations', 'affinity', 'dnsPolicy', 'securityContext', 'imagePullSecrets', 'priorityClassName', 'schedulerName', 'hostname', 'subdomain', 'dnsConfig'],
  container: ['name', 'image', 'ports', 'command', 'args', 'env', 'envFrom', 'resources', 'imagePullPolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'volumeMounts', 'securityContext', 'workingDir', 'lifecycle'],
  deploymentSpec: ['replicas', 'selector', 'template', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds', 'paused'],
  // Fields of core/v1, apps/v1 and batch/v1 that shape nothing podwire models, accepted silently.
  podSpecMore: ['automountServiceAccountToken', 'serviceAccount', 'enableServiceLinks', 'shareProcessNamespace', 'hostPID', 'hostIPC', 'hostUsers', 'runtimeClassName', 'priority', 'preemptionPolicy', 'overhead', 'setHostnameAsFQDN', 'os', 'activeDeadlineSeconds', 'ephemeralContainers', 'schedulingGates', 'resourceClaims', 'topologySpreadConstraints', 'readinessGates', 'hostAliases'],
  containerMore: ['terminationMessagePath', 'terminationMessagePolicy', 'restartPolicy', 'resizePolicy', 'volumeDevices'],
  containerPort: ['containerPort', 'protocol', 'name', 'hostPort', 'hostIP'],
  template: ['metadata', 'spec'],
  templateMetadata: ['labels', 'annotations', 'name', 'namespace', 'creationTimestamp'],
  replicaSetSpec: ['replicas', 'selector', 'template', 'minReadySeconds'],
  statefulSetSpec: ['replicas', 'selector', 'template', 'serviceName', 'podManagementPolicy', 'updateStrategy', 'volumeClaimTemplates', 'revisionHistoryLimit', 'minReadySeconds', 'persistentVolumeClaimRetentionPolicy', 'ordinals'],
  daemonSetSpec: ['selector', 'template', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit'],
  jobSpec: ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'template', 'ttlSecondsAfterFinished', 'completionMode', 'suspend', 'selector', 'manualSelector', 'podFailurePolicy', 'backoffLimitPerIndex', 'maxFailedIndexes', 'podReplacementPolicy', 'successPolicy', 'managedBy'],
  cronJobSpec: ['schedule', 'timeZone', 'startingDeadlineSeconds', 'concurrencyPolicy', 'suspend', 'jobTemplate', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit'],
  jobTemplate: ['metadata', 'spec'],
  serviceSpec: ['type', 'selector', 'ports', 'clusterIP', 'clusterIPs', 'externalName', 'externalIPs', 'loadBalancerIP', 'loadBalancerSourceRanges', 'loadBalancerClass', 'sessionAffinity', 'sessionAffinityConfig', 'externalTrafficPolicy', 'internalTrafficPolicy', 'publishNotReadyAddresses', 'ipFamilies', 'ipFamilyPolicy', 'healthCheckNodePort', 'allocateLoadBalancerNodePorts', 'trafficDistribution'],
  servicePort: ['name', 'protocol', 'port', 'targetPort', 'nodePort', 'appProtocol'],
  nodeSpec: ['podCIDR', 'podCIDRs', 'taints', 'unschedulable', 'providerID', 'configSource', 'externalID'],
  networkPolicySpec: ['podSelector', 'policyTypes', 'ingress', 'egress'],
  networkPolicyIngress: ['from', 'ports'],
  networkPolicyEgress: ['to', 'ports'],
  networkPolicyPeer: ['podSelector', 'namespaceSelector', 'ipBlock'],
  networkPolicyPort: ['protocol', 'port', 'endPort'],
};

/** The spec part of each workload kind. */
const WORKLOAD_SPEC: Record<string, string> = { Deployment: 'deploymentSpec', ReplicaSet: 'replicaSetSpec', StatefulSet: 'statefulSetSpec', DaemonSet: 'daemonSetSpec', Job: 'jobSpec' };

/** Edit distance (Levenshtein) between two short strings. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known field closest to `k` (a likely typo: at most 2 edits, or the same letters in another case), or null. */
export function suggestField(k: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = 3;
  for (const f of known) {
    const d = f.toLowerCase() === k.toLowerCase() ? 0 : editDistance(k, f);
    if (d < bestD) [best, bestD] = [f, d];
  }
  return best;
}

/** resolv.conf options app/dns-resolver.ts acts on as glibc does. */
const MODELLED_RESOLV_OPTIONS = new Set(['ndots', 'timeout', 'attempts', 'rotate', 'single-request', 'single-request-reopen', 'use-vc', 'edns0', 'no-aaaa', 'no-tld-query']);

/** Pod spec fields podwire accepts but does not act on, warned about (they change what a pod sees). */
function podSpecBehaviourWarnings(spec: Record<string, unknown>, path: (string | number)[], warn: (path: (string | number)[], message: string) => void): void {
  const dnsConfig = spec['dnsConfig'] as { nameservers?: unknown; options?: unknown } | undefined;
  if (dnsConfig && typeof dnsConfig === 'object') {
    if (Array.isArray(dnsConfig.nameservers)) {
      dnsConfig.nameservers.forEach((n, i) => {
        if (typeof n === 'string' && isIP(n) === 6) warn([...path, 'dnsConfig', 'nameservers', i], `IPv6 nameserver ${n} is not modelled by podwire (IPv4 only): the resolver skips it`);
      });
    }
    if (Array.isArray(dnsConfig.options)) {
      dnsConfig.options.forEach((o: unknown, i) => {
        const name = o && typeof o === 'object' ? (o as { name?: unknown }).name : undefined;
        if (typeof name === 'string' && name !== '' && !MODELLED_RESOLV_OPTIONS.has(name)) warn([...path, 'dnsConfig', 'options', i, 'name'], `resolv.conf option ${name} is not modelled by podwire: the resolver ignores it (modelled: ${[...MODELLED_RESOLV_OPTIONS].join(', ')})`);
      });
    }
  }
  for (const f of ['topologySpreadConstraints', 'hostAliases'] as const) if (spec[f] !== undefined) warn([...path, f], `${f} is not modelled by podwire and is ignored`);
  const affinity = spec['affinity'] as Record<string, unknown> | undefined;
  if (affinity && typeof affinity === 'object') {
    for (const k of Object.keys(affinity)) if (k !== 'nodeAffinity') warn([...path, 'affinity', k], `${k} is not modelled by podwire and is ignored (only required node affinity is)`);
    const na = affinity['nodeAffinity'] as Record<string, unknown> | undefined;
    if (na && typeof na === 'object' && na['preferredDuringSchedulingIgnoredDuringExecution'] !== undefined) {
      warn([...path, 'affinity', 'nodeAffinity', 'preferredDuringSchedulingIgnoredDuringExecution'], 'preferred node affinity is not modelled by podwire and is ignored (required affinity is)');
    }
  }
}

/** Reports fields podwire does not know as warnings (path relative to the document), with a likely correction. */
export function unknownFieldWarnings(kind: string, value: Record<string, unknown>, warn: (path: (string | number)[], message: string) => void): void {
  const check = (obj: unknown, known: readonly string[], path: (string | number)[]): void => {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return;
    for (const k of Object.keys(obj)) {
      if (known.includes(k)) continue;
      const hint = suggestField(k, known);
      warn([...path, k], hint ? `unknown field "${k}", ignored: did you mean "${hint}"?` : `field "${k}" is not modelled by podwire and is ignored`);
    }
  };
  const each = (list: unknown, known: readonly string[], path: (string | number)[]): void => {
    if (Array.isArray(list)) list.forEach((x, i) => check(x, known, [...path, i]));
  };
  const podSpec = (spec: unknown, path: (string | number)[]): void => {
    check(spec, [...KNOWN['podSpec']!, ...KNOWN['podSpecMore']!], path);
    if (spec === null || typeof spec !== 'object') return;
    podSpecBehaviourWarnings(spec as Record<string, unknown>, path, warn);
    for (const part of ['containers', 'initContainers'] as const) {
      const list = (spec as Record<string, unknown>)[part];
      if (!Array.isArray(list)) continue;
      list.forEach((c, i) => {
        check(c, [...KNOWN['container']!, ...KNOWN['containerMore']!], [...path, part, i]);
        each((c as Record<string, unknown> | null)?.['ports'], KNOWN['containerPort']!, [...path, part, i, 'ports']);
      });
    }
  };
  check(value, KNOWN['root']!, []);
  check(value['metadata'], KNOWN['metadata']!, ['metadata']);
  const spec = value['spec'] as Record<string, unknown> | undefined;
  if (kind === 'Pod') podSpec(spec, ['spec']);
  if (kind === 'Service') {
    check(spec, KNOWN['serviceSpec']!, ['spec']);
    each(spec?.['ports'], KNOWN['servicePort']!, ['spec', 'ports']);
  }
  if (kind === 'Node') check(spec, KNOWN['nodeSpec']!, ['spec']);
  if (kind === 'NetworkPolicy') {
    check(spec, KNOWN['networkPolicySpec']!, ['spec']);
    for (const [dir, peers] of [['ingress', 'from'], ['egress', 'to']] as const) {
      const rules = spec?.[dir];
      each(rules, KNOWN[dir === 'ingress' ? 'networkPolicyIngress' : 'networkPolicyEgress']!, ['spec', dir]);
      if (!Array.isArray(rules)) continue;
      rules.forEach((r: Record<string, unknown> | null, i) => {
        each(r?.[peers], KNOWN['networkPolicyPeer']!, ['spec', dir, i, peers]);
        each(r?.['ports'], KNOWN['networkPolicyPort']!, ['spec', dir, i, 'ports']);
      });
    }
  }
  const workload = (wspec: Record<string, unknown> | undefined, part: string, at: (string | number)[]): void => {
    check(wspec, KNOWN[part]!, at);
    const tmpl = wspec?.['template'] as Record<string, unknown> | undefined;
    check(tmpl, KNOWN['template']!, [...at, 'template']);
    check(tmpl?.['metadata'], KNOWN['templateMetadata']!, [...at, 'template', 'metadata']);
    podSpec(tmpl?.['spec'], [...at, 'template', 'spec']);
  };
  const specPart = WORKLOAD_SPEC[kind];
  if (specPart) workload(spec, specPart, ['spec']);
  if (kind === 'CronJob') {
    check(spec, KNOWN['cronJobSpec']!, ['spec']);
    const jt = spec?.['jobTemplate'] as Record<string, unknown> | undefined;
    check(jt, KNOWN['jobTemplate']!, ['spec', 'jobTemplate']);
    check(jt?.['metadata'], KNOWN['templateMetadata']!, ['spec', 'jobTemplate', 'metadata']);
    workload(jt?.['spec'] as Record<string, unknown> | undefined, 'jobSpec', ['spec', 'jobTemplate', 'spec']);
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
