// k8s/services — Service, Endpoints and EndpointSlice objects: the API server's allocations
// (ClusterIP from the service CIDR, NodePort from 30000–32767) and the EndpointSlice controller's
// view of which pods back which port. Layer: k8s. kube-proxy and CoreDNS consume ServiceView.
import { z } from 'zod';
import type { Rng } from '../core/rng.js';
import type { UserError } from '../core/user-error.js';
import { formatIpv4, networkOf, parseCidr, parseIpv4 } from '../wire/ipv4-addr.js';
import type { Ipv4 } from '../wire/types.js';
import type { ClusterPod, ManifestInput } from './cluster.js';
import { parseManifest, unknownFieldWarnings } from './manifests.js';
import { randomSuffix } from './names.js';

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

const ServicePort = z.looseObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
  port: z.number().int().min(1).max(65535),
  targetPort: z.union([z.number().int().min(1).max(65535), z.string().min(1).max(15)]).optional(),
  nodePort: z.number().int().min(1).max(65535).optional(),
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
    sessionAffinity: z.enum(['None', 'ClientIP']).default('None'),
    sessionAffinityConfig: z.looseObject({ clientIP: z.looseObject({ timeoutSeconds: z.number().int().min(1).max(86400).default(10800) }).optional() }).optional(),
    externalTrafficPolicy: z.enum(['Cluster', 'Local']).default('Cluster'),
    internalTrafficPolicy: z.enum(['Cluster', 'Local']).default('Cluster'),
    publishNotReadyAddresses: z.boolean().default(false),
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

/** One port of a service with its endpoints: what kube-proxy programs. */
export interface ServicePortView {
  name: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  nodePort: number | null;
  targetPort: number | string;
  endpoints: EndpointView[];
}

/** A Service after the API server's defaulting and allocation. */
export interface ServiceView {
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
  ports: ServicePortView[];
  sessionAffinityTimeout: number | null;
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  /** EndpointSlice name (`<service>-<5 chars>`), for display. */
  sliceName: string;
}

/** Allocation state shared by all services of a cluster. */
export interface ServiceAllocator {
  serviceNet: Ipv4;
  servicePrefix: number;
  usedIps: Set<Ipv4>;
  usedNodePorts: Set<number>;
  ipRng: Rng;
  portRng: Rng;
  sliceRng: Rng;
  /** Load-balancer IP pool (a cloud provider's); empty → LoadBalancer services stay pending. */
  lbPool: Ipv4[];
}

/** Creates the allocator. The kube-dns address (10th of the range) and the first (kubernetes) are reserved. */
export function serviceAllocator(serviceCIDR: string, rngOf: (name: string) => Rng, lbPool: Ipv4[]): ServiceAllocator {
  const c = parseCidr(serviceCIDR)!;
  const net = networkOf(c.addr, c.prefix);
  return { serviceNet: net, servicePrefix: c.prefix, usedIps: new Set([net, (net + 1) >>> 0]), usedNodePorts: new Set(), ipRng: rngOf('k8s/service-ip'), portRng: rngOf('k8s/node-port'), sliceRng: rngOf('k8s/endpointslice'), lbPool: [...lbPool] };
}

/** Parses Services (and manual Endpoints / EndpointSlices) and resolves their endpoints against pods. */
export function buildServices(manifests: ManifestInput[], pods: ClusterPod[], alloc: ServiceAllocator, errors: UserError[], warnings: UserError[]): ServiceView[] {
  const size = 2 ** (32 - alloc.servicePrefix);
  const inRange = (ip: Ipv4): boolean => ip >= alloc.serviceNet && ip < alloc.serviceNet + size;
  const out: ServiceView[] = [];
  const manual = new Map<string, EndpointView[][]>(); // ns/name → per-port-name endpoints
  const manualPorts = new Map<string, { name: string; port: number; protocol: string }[]>();
  for (const m of manifests) {
    if (m.kind === 'Endpoints') {
      const e = parseManifest(EndpointsSchema, m.value, m.error, errors);
      if (!e) continue;
      const key = `${e.metadata.namespace}/${e.metadata.name}`;
      const eps: EndpointView[] = [];
      const ports: { name: string; port: number; protocol: string }[] = [];
      for (const s of e.subsets) {
        for (const a of s.addresses) eps.push(manualEndpoint(a.ip, true, a.nodeName ?? null));
        for (const a of s.notReadyAddresses) eps.push(manualEndpoint(a.ip, false, null));
        for (const p of s.ports) ports.push({ name: p.name ?? '', port: p.port, protocol: p.protocol });
      }
      manual.set(key, [eps]);
      manualPorts.set(key, ports);
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
      manual.set(key, [...(manual.get(key) ?? []), eps]);
      manualPorts.set(key, [...(manualPorts.get(key) ?? []), ...e.ports]);
    }
  }
  function manualEndpoint(ipText: string, ready: boolean, nodeName: string | null): EndpointView {
    const ip = parseIpv4(ipText) ?? 0;
    const pod = pods.find((p) => p.ip === ip && !p.hostNetwork) ?? null;
    return { ip, port: 0, ready, serving: ready, terminating: false, nodeName: nodeName ?? pod?.node.name ?? null, pod };
  }

  for (const m of manifests) {
    if (m.kind !== 'Service') continue;
    const s = parseManifest(ServiceSchema, m.value, m.error, errors);
    if (!s) continue;
    unknownFieldWarnings('Service', m.value, (p, msg) => warnings.push(m.error(p, msg)));
    const spec = s.spec;
    const key = `${s.metadata.namespace}/${s.metadata.name}`;
    if (out.some((o) => `${o.namespace}/${o.name}` === key)) {
      errors.push(m.error(['metadata', 'name'], `duplicate Service ${key}`));
      continue;
    }
    let clusterIP: Ipv4 | null = null;
    let headless = false;
    if (spec.type === 'ExternalName') {
      if (!spec.externalName) errors.push(m.error(['spec', 'externalName'], 'an ExternalName Service needs spec.externalName'));
    } else if (spec.clusterIP === 'None') {
      headless = true;
      if (spec.type !== 'ClusterIP') errors.push(m.error(['spec', 'clusterIP'], `a headless Service must be of type ClusterIP, not ${spec.type}`));
    } else if (spec.clusterIP !== undefined && spec.clusterIP !== '') {
      const ip = parseIpv4(spec.clusterIP);
      if (ip === null || !inRange(ip)) errors.push(m.error(['spec', 'clusterIP'], `"${spec.clusterIP}" is not in the service range`));
      else if (alloc.usedIps.has(ip) && !(ip === ((alloc.serviceNet + 10) >>> 0) && s.metadata.name === 'kube-dns')) errors.push(m.error(['spec', 'clusterIP'], `${spec.clusterIP} is already allocated`));
      else {
        clusterIP = ip;
        alloc.usedIps.add(ip);
      }
    } else {
      // The API server picks a random free address (upper band of the range first since v1.27).
      for (let tries = 0; tries < 4096 && clusterIP === null; tries++) {
        const off = 2 + alloc.ipRng.int(size - 3);
        const ip = (alloc.serviceNet + off) >>> 0;
        if (!alloc.usedIps.has(ip) && ip !== ((alloc.serviceNet + 10) >>> 0)) clusterIP = ip;
      }
      if (clusterIP === null) errors.push(m.error(['spec'], 'the service range is full'));
      else alloc.usedIps.add(clusterIP);
    }
    const needsNodePort = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    const ports: ServicePortView[] = [];
    spec.ports.forEach((p, i) => {
      if (spec.ports.length > 1 && !p.name) errors.push(m.error(['spec', 'ports', i, 'name'], 'every port of a multi-port Service needs a name'));
      let nodePort: number | null = null;
      if (p.nodePort !== undefined) {
        if (!needsNodePort) errors.push(m.error(['spec', 'ports', i, 'nodePort'], `nodePort needs type NodePort or LoadBalancer, not ${spec.type}`));
        else if (p.nodePort < 30000 || p.nodePort > 32767) errors.push(m.error(['spec', 'ports', i, 'nodePort'], `${p.nodePort} is outside the node port range 30000-32767`));
        else if (alloc.usedNodePorts.has(p.nodePort)) errors.push(m.error(['spec', 'ports', i, 'nodePort'], `node port ${p.nodePort} is already allocated`));
        else nodePort = p.nodePort;
      } else if (needsNodePort) {
        for (let tries = 0; tries < 4096 && nodePort === null; tries++) {
          const cand = 30000 + alloc.portRng.int(2768);
          if (!alloc.usedNodePorts.has(cand)) nodePort = cand;
        }
      }
      if (nodePort !== null) alloc.usedNodePorts.add(nodePort);
      ports.push({ name: p.name ?? '', protocol: p.protocol, port: p.port, nodePort, targetPort: p.targetPort ?? p.port, endpoints: [] });
    });
    const view: ServiceView = {
      namespace: s.metadata.namespace,
      name: s.metadata.name,
      type: spec.type,
      clusterIP,
      headless,
      externalName: spec.externalName ?? null,
      externalIPs: spec.externalIPs.map((x) => parseIpv4(x) ?? 0),
      loadBalancerIPs: [],
      selector: spec.selector ?? null,
      ports,
      sessionAffinityTimeout: spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) : null,
      externalTrafficPolicy: spec.externalTrafficPolicy,
      internalTrafficPolicy: spec.internalTrafficPolicy,
      sliceName: `${s.metadata.name}-${randomSuffix(alloc.sliceRng)}`,
    };
    if (spec.type === 'LoadBalancer') {
      const want = spec.loadBalancerIP ? parseIpv4(spec.loadBalancerIP) : null;
      const i = want !== null ? alloc.lbPool.indexOf(want) : alloc.lbPool.length > 0 ? 0 : -1;
      if (i >= 0) view.loadBalancerIPs.push(alloc.lbPool.splice(i, 1)[0]!);
    }
    if (spec.type !== 'ExternalName') {
      if (view.selector !== null) resolveSelected(view, pods, ALL_READY);
      else resolveManual(view, manual.get(key)?.flat() ?? [], manualPorts.get(key) ?? []);
    }
    out.push(view);
  }
  return out;
}

/** A pod's conditions as the EndpointSlice controller's informer last saw them. */
export interface PodConditions {
  ready: boolean;
  /** deletionTimestamp set: terminating. */
  terminating: boolean;
}

/** Every pod Running and Ready, as podwire starts them. */
export const ALL_READY = (): PodConditions => ({ ready: true, terminating: false });

/** The EndpointSlice controller for a selector Service: matching pods, target ports resolved by name. */
export function resolveSelected(view: ServiceView, pods: ClusterPod[], conditionsOf: (pod: ClusterPod) => PodConditions): void {
  const sel = view.selector!;
  const keys = Object.keys(sel);
  const chosen = pods.filter((p) => p.namespace === view.namespace && keys.every((k) => p.labels[k] === sel[k]));
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
      sp.endpoints.push({ ip: pod.ip, port, ready: c.ready && !c.terminating, serving: c.ready, terminating: c.terminating, nodeName: pod.node.name, pod });
    }
  }
}

function resolveManual(view: ServiceView, eps: EndpointView[], ports: { name: string; port: number; protocol: string }[]): void {
  for (const sp of view.ports) {
    const p = ports.find((x) => x.name === sp.name && x.protocol === sp.protocol) ?? (ports.length === 1 ? ports[0] : undefined);
    sp.endpoints = p ? eps.map((e) => ({ ...e, port: p.port })) : [];
  }
}

/** `kubectl get svc -o wide`-like text. */
export function formatServices(svcs: ServiceView[]): string {
  const rows = ['NAMESPACE  NAME  TYPE  CLUSTER-IP  EXTERNAL-IP  PORT(S)  ENDPOINTS'];
  for (const s of svcs) {
    const ports = s.ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}`).join(',');
    const eps = [...new Set(s.ports.flatMap((p) => p.endpoints.map((e) => `${formatIpv4(e.ip)}:${e.port}`)))].join(',');
    const ext = s.type === 'ExternalName' ? s.externalName : s.loadBalancerIPs.length ? s.loadBalancerIPs.map(formatIpv4).join(',') : s.type === 'LoadBalancer' ? '<pending>' : '<none>';
    rows.push(`${s.namespace}  ${s.name}  ${s.type}  ${s.headless ? 'None' : s.clusterIP !== null ? formatIpv4(s.clusterIP) : '<none>'}  ${ext}  ${ports}  ${eps || '<none>'}`);
  }
  return rows.join('\n') + '\n';
}
