// k8s/services — Service, Endpoints and EndpointSlice objects (core/v1, discovery/v1): their schemas,
// the stored Service (ServiceSpec, allocated by service-registry.ts), the EndpointSlice controller's
// resolution of which pods back which port, and ServiceView — a Service joined with its EndpointSlice,
// what the informers of kube-proxy, CoreDNS and MetalLB hand them. Layer: k8s (imports core, wire, k8s).
import { z } from 'zod';
import { formatColumns } from '../core/columns.js';
import type { UserError } from '../core/user-error.js';
import { formatIpv4, parseIpv4 } from '../wire/ipv4-addr.js';
import type { Ipv4 } from '../wire/types.js';
import type { EndpointSlice } from './api/objects.js';
import type { ApiStore } from './api/store.js';
import type { ClusterPod, ManifestInput } from './cluster.js';
import { parseManifest } from './manifests.js';

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

const ServicePort = z.looseObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
  port: z.number().int().min(1).max(65535),
  targetPort: z.union([z.number().int().min(1).max(65535), z.string().min(1).max(15)]).optional(),
  nodePort: z.number().int().min(1).max(65535).optional(),
  appProtocol: z.string().optional(),
});

export const ServiceSchema = z.looseObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Service'),
  metadata: z.looseObject({
    name: z.string().regex(DNS_LABEL, 'a Service name is a DNS-1035 label (starts with a letter)').max(63),
    namespace: z.string().default('default'),
    labels: z.record(z.string(), z.string()).default({}),
    annotations: z.record(z.string(), z.string()).default({}),
  }),
  spec: z.looseObject({
    type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).default('ClusterIP'),
    selector: z.record(z.string(), z.string()).optional(),
    ports: z.array(ServicePort).default([]),
    clusterIP: z.string().optional(),
    externalName: z.string().optional(),
    externalIPs: z.array(z.string()).default([]),
    loadBalancerIP: z.string().optional(),
    loadBalancerSourceRanges: z.array(z.string()).default([]),
    healthCheckNodePort: z.number().int().min(1).max(65535).optional(),
    sessionAffinity: z.enum(['None', 'ClientIP']).default('None'),
    sessionAffinityConfig: z.looseObject({ clientIP: z.looseObject({ timeoutSeconds: z.number().int().min(1).max(86400).default(10800) }).optional() }).optional(),
    externalTrafficPolicy: z.enum(['Cluster', 'Local']).default('Cluster'),
    internalTrafficPolicy: z.enum(['Cluster', 'Local']).default('Cluster'),
    publishNotReadyAddresses: z.boolean().default(false),
    ipFamilyPolicy: z.enum(['SingleStack', 'PreferDualStack', 'RequireDualStack']).optional(),
    ipFamilies: z.array(z.enum(['IPv4', 'IPv6'])).max(2).optional(),
  }),
});

const EndpointsSchema = z.looseObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('Endpoints'),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().default('default') }),
  subsets: z
    .array(
      z.looseObject({
        addresses: z.array(z.looseObject({ ip: z.string(), nodeName: z.string().optional() })).default([]),
        notReadyAddresses: z.array(z.looseObject({ ip: z.string() })).default([]),
        ports: z.array(z.looseObject({ name: z.string().optional(), port: z.number().int(), protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP') })).default([]),
      }),
    )
    .default([]),
});

const EndpointSliceSchema = z.looseObject({
  apiVersion: z.literal('discovery.k8s.io/v1'),
  kind: z.literal('EndpointSlice'),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().default('default'), labels: z.record(z.string(), z.string()).default({}) }),
  addressType: z.literal('IPv4'),
  endpoints: z
    .array(
      z.looseObject({
        addresses: z.array(z.string()).min(1),
        conditions: z.looseObject({ ready: z.boolean().default(true), serving: z.boolean().optional(), terminating: z.boolean().default(false) }).default({ ready: true, terminating: false }),
        nodeName: z.string().optional(),
      }),
    )
    .default([]),
  ports: z.array(z.looseObject({ name: z.string().default(''), port: z.number().int(), protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP') })).default([]),
});

/** One backend of a service port, as an EndpointSlice endpoint. */
export interface EndpointView {
  ip: Ipv4;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName: string | null;
  /** The pod, when the endpoint is one. */
  pod: ClusterPod | null;
}

/** One port of a Service as the API server stores it. */
export interface ServicePortSpec {
  name: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  nodePort: number | null;
  targetPort: number | string;
  /** spec.ports[].appProtocol, when set (k8s/container-ports reads it: http → the pods serve HTTP there). */
  appProtocol?: string;
}

/** One port of a service with its endpoints: what kube-proxy programs. */
export interface ServicePortView extends ServicePortSpec {
  endpoints: EndpointView[];
}

/** A Service after the API server's defaulting and allocation (the stored object's spec and status). */
export interface ServiceSpec {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** null for headless (clusterIP: None) and ExternalName services. */
  clusterIP: Ipv4 | null;
  headless: boolean;
  externalName: string | null;
  externalIPs: Ipv4[];
  /** status.loadBalancer.ingress IPs (empty while pending). */
  loadBalancerIPs: Ipv4[];
  selector: Record<string, string> | null;
  ports: ServicePortSpec[];
  sessionAffinityTimeout: number | null;
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  /** EndpointSlice name (`<service>-<5 chars>`, generateName's suffix, drawn at admission in Service order). */
  sliceName: string;
  /** metadata.annotations (the cloud provider reads its own, e.g. proxy protocol). */
  annotations?: Record<string, string>;
  /** spec.loadBalancerSourceRanges (CIDRs; kube-proxy's KUBE-FW chains). */
  loadBalancerSourceRanges?: string[];
  /** spec.healthCheckNodePort: allocated for ETP=Local LoadBalancer Services; null when none. */
  healthCheckNodePort?: number | null;
}

/** A Service joined with its EndpointSlice: what kube-proxy, CoreDNS and MetalLB read from their informers. */
export interface ServiceView extends Omit<ServiceSpec, 'ports'> {
  ports: ServicePortView[];
}

/** The user's Endpoints / EndpointSlices for Services without a selector, by `namespace/service`. */
export type ManualEndpoints = Map<string, { endpoints: EndpointView[]; ports: { name: string; port: number; protocol: string }[] }>;

/** Parses the manual Endpoints and EndpointSlice manifests (several slices of one Service are merged). */
export function parseManualEndpoints(manifests: ManifestInput[], pods: ClusterPod[], errors: UserError[]): ManualEndpoints {
  const manual: ManualEndpoints = new Map();
  const manualEndpoint = (ipText: string, ready: boolean, nodeName: string | null): EndpointView => {
    const ip = parseIpv4(ipText) ?? 0;
    const pod = pods.find((p) => p.ip === ip && !p.hostNetwork) ?? null;
    return { ip, port: 0, ready, serving: ready, terminating: false, nodeName: nodeName ?? pod?.node.name ?? null, pod };
  };
  for (const m of manifests) {
    if (m.kind === 'Endpoints') {
      const e = parseManifest(EndpointsSchema, m.value, m.error, errors);
      if (!e) continue;
      const eps: EndpointView[] = [];
      const ports: { name: string; port: number; protocol: string }[] = [];
      for (const s of e.subsets) {
        for (const a of s.addresses) eps.push(manualEndpoint(a.ip, true, a.nodeName ?? null));
        for (const a of s.notReadyAddresses) eps.push(manualEndpoint(a.ip, false, null));
        for (const p of s.ports) ports.push({ name: p.name ?? '', port: p.port, protocol: p.protocol });
      }
      manual.set(`${e.metadata.namespace}/${e.metadata.name}`, { endpoints: eps, ports });
    } else if (m.kind === 'EndpointSlice') {
      const e = parseManifest(EndpointSliceSchema, m.value, m.error, errors);
      if (!e) continue;
      const svc = e.metadata.labels['kubernetes.io/service-name'];
      if (!svc) {
        errors.push(m.error(['metadata', 'labels'], 'an EndpointSlice needs the label kubernetes.io/service-name'));
        continue;
      }
      const key = `${e.metadata.namespace}/${svc}`;
      const eps: EndpointView[] = [];
      for (const ep of e.endpoints) {
        for (const a of ep.addresses) {
          const v = manualEndpoint(a, ep.conditions.ready, ep.nodeName ?? null);
          v.serving = ep.conditions.serving ?? ep.conditions.ready;
          v.terminating = ep.conditions.terminating;
          eps.push(v);
        }
      }
      const had = manual.get(key);
      manual.set(key, { endpoints: [...(had?.endpoints ?? []), ...eps], ports: [...(had?.ports ?? []), ...e.ports] });
    }
  }
  return manual;
}

/** A ServiceView with no endpoints yet. */
export function emptyView(spec: ServiceSpec): ServiceView {
  return { ...spec, ports: spec.ports.map((p) => ({ ...p, endpoints: [] })) };
}

/** The Service joined with its EndpointSlice's endpoints (port by port, in the Service's order). */
export function joinService(spec: ServiceSpec, slice: EndpointSlice | undefined): ServiceView {
  return { ...spec, ports: spec.ports.map((p, i) => ({ ...p, endpoints: [...(slice?.ports[i]?.endpoints ?? [])] })) };
}

/** Every Service in the store joined with its EndpointSlice, in creation order. */
export function serviceViews(api: ApiStore): ServiceView[] {
  return api.list('Service').map((s) => joinService(s.spec, api.get('EndpointSlice', s.metadata.namespace, s.spec.sliceName)));
}

/** A pod's conditions as the EndpointSlice controller's informer last saw them. */
export interface PodConditions {
  ready: boolean;
  /** deletionTimestamp set: terminating. */
  terminating: boolean;
  /** Phase Succeeded or Failed (or the Pod is gone): not an endpoint at all. */
  terminal?: boolean;
}

/** Every pod Running and Ready, as podwire starts them. */
export const ALL_READY = (): PodConditions => ({ ready: true, terminating: false });

/** Pods by `namespace, label=value`, in pod order, per pods array (which only grows: new pods are indexed on the next call). */
const labelIndexes = new WeakMap<ClusterPod[], { indexed: number; byLabel: Map<string, ClusterPod[]> }>();
const NO_PODS: ClusterPod[] = [];

function labelIndex(pods: ClusterPod[], namespace: string, key: string, value: string): ClusterPod[] {
  let ix = labelIndexes.get(pods);
  if (ix === undefined) labelIndexes.set(pods, (ix = { indexed: 0, byLabel: new Map() }));
  for (; ix.indexed < pods.length; ix.indexed++) {
    const p = pods[ix.indexed]!;
    for (const [k, v] of Object.entries(p.labels)) {
      const id = `${p.namespace}\0${k}\0${v}`;
      const list = ix.byLabel.get(id);
      if (list === undefined) ix.byLabel.set(id, [p]);
      else list.push(p);
    }
  }
  return ix.byLabel.get(`${namespace}\0${key}\0${value}`) ?? NO_PODS;
}

/** True when `labels` hold every pair of an equality selector (an empty selector holds for every pod: callers to whom an empty one selects nothing say so). */
export function selectorMatches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

/** The EndpointSlice controller for a selector Service: matching pods, target ports resolved by name. */
export function resolveSelected(view: ServiceView, pods: ClusterPod[], conditionsOf: (pod: ClusterPod) => PodConditions): void {
  const sel = view.selector!;
  const keys = Object.keys(sel);
  const matches = (p: ClusterPod): boolean => p.namespace === view.namespace && selectorMatches(sel, p.labels);
  // The pods carrying the selector's first label (in pod order), not every pod: Services × pods scans
  // dominate a big cluster's build otherwise.
  const chosen = keys.length === 0 ? pods.filter(matches) : labelIndex(pods, view.namespace, keys[0]!, sel[keys[0]!]!).filter(matches);
  for (const sp of view.ports) {
    sp.endpoints = [];
    for (const pod of chosen) {
      let port: number | null = null;
      if (typeof sp.targetPort === 'number') port = sp.targetPort;
      else {
        for (const c of pod.spec.containers) {
          const cp = c.ports.find((x) => x.name === sp.targetPort && x.protocol === sp.protocol);
          if (cp) {
            port = cp.containerPort;
            break;
          }
        }
      }
      if (port === null) continue; // a pod without the named port is not an endpoint of this port
      // EndpointSlice conditions: a terminating pod is not ready but still serving until it stops.
      const c = conditionsOf(pod);
      if (c.terminal === true) continue;
      sp.endpoints.push({ ip: pod.ip, port, ready: c.ready && !c.terminating, serving: c.ready, terminating: c.terminating, nodeName: pod.node.name, pod });
    }
  }
}

/** A Service without a selector: the user's endpoints, their port matched by name and protocol (or the only one). */
export function resolveManual(view: ServiceView, eps: EndpointView[], ports: { name: string; port: number; protocol: string }[]): void {
  for (const sp of view.ports) {
    const p = ports.find((x) => x.name === sp.name && x.protocol === sp.protocol) ?? (ports.length === 1 ? ports[0] : undefined);
    sp.endpoints = p ? eps.map((e) => ({ ...e, port: p.port })) : [];
  }
}

/** `kubectl get svc -o wide`-like text: columns padded to their widest cell, three spaces apart as kubectl prints them. */
export function formatServices(svcs: ServiceView[]): string {
  const rows = [['NAMESPACE', 'NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'ENDPOINTS']];
  for (const s of svcs) {
    const ports = s.ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}`).join(',');
    // Ready endpoints only, as `kubectl get endpoints` lists them (not-ready ones are its notReadyAddresses).
    const eps = [...new Set(s.ports.flatMap((p) => p.endpoints.filter((e) => e.ready).map((e) => `${formatIpv4(e.ip)}:${e.port}`)))].join(',');
    const ext = s.type === 'ExternalName' ? s.externalName : s.loadBalancerIPs.length ? s.loadBalancerIPs.map(formatIpv4).join(',') : s.type === 'LoadBalancer' ? '<pending>' : '<none>';
    rows.push([s.namespace, s.name, s.type, s.headless ? 'None' : s.clusterIP !== null ? formatIpv4(s.clusterIP) : '<none>', ext ?? '<none>', ports, eps || '<none>']);
  }
  return formatColumns(rows).join('\n') + '\n';
}
