// k8s/service-registry — kube-apiserver's Service storage (pkg/registry/core/service: defaulting and
// validation on create, the ClusterIP allocator of the service CIDR and the NodePort allocator of
// 30000–32767), plus the load-balancer IP a LoadBalancer Service gets from the provider's pool
// (MetalLB's controller, folded into admission). A Service manifest becomes a stored ServiceSpec
// here; its endpoints are the EndpointSlice controller's business. Layer: k8s (imports core, wire, k8s).
// Not modelled: dual-stack families, ClusterIP ranges after creation (updates), allocator repair
// loops, NodePort static/dynamic bands, loadBalancerClass.
import type { Rng } from '../core/rng.js';
import type { UserError } from '../core/user-error.js';
import { formatIpv4, networkOf, parseCidr, parseIpv4 } from '../wire/ipv4-addr.js';
import type { Ipv4 } from '../wire/types.js';
import type { ManifestInput } from './cluster.js';
import { parseManifest, unknownFieldWarnings } from './manifests.js';
import { DNS1123_SUBDOMAIN, randomSuffix } from './names.js';
import { ServiceSchema, type ServicePortSpec, type ServiceSpec } from './services.js';

/** Allocation state shared by all services of a cluster. */
export interface ServiceAllocator {
  serviceNet: Ipv4;
  servicePrefix: number;
  usedIps: Set<Ipv4>;
  usedNodePorts: Set<number>;
  ipRng: Rng;
  portRng: Rng;
  sliceRng: Rng;
  /** Load-balancer IP pool (MetalLB's, folded into admission); empty → LoadBalancer services stay pending. */
  lbPool: Ipv4[];
  /** A cloud provider's load-balancer controller hands out the addresses instead (k8s/cloud-lb). */
  cloudProvider?: boolean;
}

/** Creates the allocator. The kube-dns address (10th of the range) and the first (kubernetes) are reserved. */
export function serviceAllocator(serviceCIDR: string, rngOf: (name: string) => Rng, lbPool: Ipv4[]): ServiceAllocator {
  const c = parseCidr(serviceCIDR)!;
  const net = networkOf(c.addr, c.prefix);
  return { serviceNet: net, servicePrefix: c.prefix, usedIps: new Set([net, (net + 1) >>> 0]), usedNodePorts: new Set(), ipRng: rngOf('k8s/service-ip'), portRng: rngOf('k8s/node-port'), sliceRng: rngOf('k8s/endpointslice'), lbPool: [...lbPool] };
}

type Spec = ReturnType<typeof ServiceSchema.parse>;
type ErrorAt = (path: (string | number)[], message: string) => void;

/** Admits every Service manifest in order (later duplicates are errors): what `kubectl apply` would create. */
export function admitServices(manifests: ManifestInput[], alloc: ServiceAllocator, errors: UserError[], warnings: UserError[]): ServiceSpec[] {
  const out: ServiceSpec[] = [];
  const admitted = new Set<string>();
  for (const m of manifests) {
    if (m.kind !== 'Service') continue;
    const s = parseManifest(ServiceSchema, m.value, m.error, errors);
    if (!s) continue;
    unknownFieldWarnings('Service', m.value, (p, msg) => warnings.push(m.error(p, msg)));
    const key = `${s.metadata.namespace}/${s.metadata.name}`;
    if (admitted.has(key)) {
      errors.push(m.error(['metadata', 'name'], `duplicate Service ${key}`));
      continue;
    }
    admitted.add(key);
    const v6 = ipv6Request(s.spec);
    if (v6) warnings.push(m.error(v6.path, `${v6.what}: podwire models IPv4 only; the Service runs single-stack IPv4`));
    out.push(admitService(s, alloc, (path, message) => errors.push(m.error(path, message))));
  }
  return out;
}

/** Where a Service asks for IPv6 (an IPv6 family, or dual-stack required), or null. */
function ipv6Request(spec: Spec['spec']): { path: (string | number)[]; what: string } | null {
  const i = spec.ipFamilies?.indexOf('IPv6') ?? -1;
  if (i >= 0) return { path: ['spec', 'ipFamilies', i], what: 'IPv6' };
  if (spec.ipFamilyPolicy === 'RequireDualStack') return { path: ['spec', 'ipFamilyPolicy'], what: 'RequireDualStack' };
  return null;
}

/** One Service: its ClusterIP, NodePorts, slice name and LB IP, allocated in that order. */
function admitService(s: Spec, alloc: ServiceAllocator, err: ErrorAt): ServiceSpec {
  const spec = s.spec;
  const { clusterIP, headless } = allocateClusterIP(s, alloc, err);
  const ports = allocateNodePorts(spec, alloc, err);
  const view: ServiceSpec = {
    namespace: s.metadata.namespace,
    name: s.metadata.name,
    type: spec.type,
    clusterIP,
    headless,
    externalName: spec.externalName ?? null,
    externalIPs: spec.externalIPs.map((x) => parseIpv4(x) ?? 0),
    loadBalancerIPs: [],
    // An empty selector is none (the API server stores `{}` as unset: the EndpointSlice controller leaves the
    // Service to manual Endpoints, kubernetes#2450), not "every pod of the namespace".
    selector: spec.selector !== undefined && Object.keys(spec.selector).length > 0 ? spec.selector : null,
    ports,
    sessionAffinityTimeout: spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800) : null,
    externalTrafficPolicy: spec.externalTrafficPolicy,
    internalTrafficPolicy: spec.internalTrafficPolicy,
    sliceName: `${s.metadata.name}-${randomSuffix(alloc.sliceRng)}`,
    annotations: s.metadata.annotations,
    loadBalancerSourceRanges: spec.type === 'LoadBalancer' ? sourceRanges(spec.loadBalancerSourceRanges, err) : [],
    healthCheckNodePort: allocateHealthCheckNodePort(spec, alloc, err),
  };
  if (spec.type === 'LoadBalancer' && !alloc.cloudProvider) {
    const want = spec.loadBalancerIP ? parseIpv4(spec.loadBalancerIP) : null;
    const i = want !== null ? alloc.lbPool.indexOf(want) : alloc.lbPool.length > 0 ? 0 : -1;
    if (i >= 0) view.loadBalancerIPs.push(alloc.lbPool.splice(i, 1)[0]!);
  }
  return view;
}

/** The ClusterIP allocator: the requested address (in range, free), or a random free one; none for ExternalName and headless. */
function allocateClusterIP(s: Spec, alloc: ServiceAllocator, err: ErrorAt): { clusterIP: Ipv4 | null; headless: boolean } {
  const spec = s.spec;
  const size = 2 ** (32 - alloc.servicePrefix);
  const inRange = (ip: Ipv4): boolean => ip >= alloc.serviceNet && ip < alloc.serviceNet + size;
  const dnsIp = (alloc.serviceNet + 10) >>> 0;
  if (spec.type === 'ExternalName') {
    if (!spec.externalName) err(['spec', 'externalName'], 'an ExternalName Service needs spec.externalName');
    else {
      // The API server's ValidateService: a lower-case RFC 1123 subdomain (a trailing dot allowed), labels of at most 63.
      const n = spec.externalName.replace(/\.$/, '');
      if (n.length > 253 || !DNS1123_SUBDOMAIN.test(n) || n.split('.').some((l) => l.length > 63)) err(['spec', 'externalName'], 'expected a lower-case RFC 1123 subdomain (labels of at most 63 characters, at most 253 in all)');
    }
    return { clusterIP: null, headless: false };
  }
  if (spec.clusterIP === 'None') {
    if (spec.type !== 'ClusterIP') err(['spec', 'clusterIP'], `a headless Service must be of type ClusterIP, not ${spec.type}`);
    return { clusterIP: null, headless: true };
  }
  if (spec.clusterIP !== undefined && spec.clusterIP !== '') {
    const ip = parseIpv4(spec.clusterIP);
    if (ip === null || !inRange(ip)) err(['spec', 'clusterIP'], `"${spec.clusterIP}" is not in the service range`);
    else if (alloc.usedIps.has(ip) && !(ip === dnsIp && s.metadata.name === 'kube-dns')) err(['spec', 'clusterIP'], `${spec.clusterIP} is already allocated`);
    else {
      alloc.usedIps.add(ip);
      return { clusterIP: ip, headless: false };
    }
    return { clusterIP: null, headless: false };
  }
  // The API server picks a random free address (upper band of the range first since v1.27).
  let clusterIP: Ipv4 | null = null;
  for (let tries = 0; tries < 4096 && clusterIP === null; tries++) {
    const ip = (alloc.serviceNet + 2 + alloc.ipRng.int(size - 3)) >>> 0;
    if (!alloc.usedIps.has(ip) && ip !== dnsIp) clusterIP = ip;
  }
  if (clusterIP === null) err(['spec'], 'the service range is full');
  else alloc.usedIps.add(clusterIP);
  return { clusterIP, headless: false };
}

/**
 * healthCheckNodePort (pkg/registry/core/service/storage: allocHealthCheckNodePort): a LoadBalancer
 * Service with externalTrafficPolicy Local gets one from the NodePort allocator, after its ports,
 * unless the manifest names one; other Services may not set it.
 */
function allocateHealthCheckNodePort(spec: Spec['spec'], alloc: ServiceAllocator, err: ErrorAt): number | null {
  const needs = spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
  const want = spec.healthCheckNodePort;
  if (!needs) {
    if (want !== undefined) err(['spec', 'healthCheckNodePort'], 'healthCheckNodePort needs type LoadBalancer with externalTrafficPolicy Local');
    return null;
  }
  if (want !== undefined) {
    if (want < 30000 || want > 32767) err(['spec', 'healthCheckNodePort'], `${want} is outside the node port range 30000-32767`);
    else if (alloc.usedNodePorts.has(want)) err(['spec', 'healthCheckNodePort'], `node port ${want} is already allocated`);
    else {
      alloc.usedNodePorts.add(want);
      return want;
    }
    return null;
  }
  for (let tries = 0; tries < 4096; tries++) {
    const cand = 30000 + alloc.portRng.int(2768);
    if (alloc.usedNodePorts.has(cand)) continue;
    alloc.usedNodePorts.add(cand);
    return cand;
  }
  err(['spec'], 'the node port range is full');
  return null;
}

/** spec.loadBalancerSourceRanges: CIDRs (a bare address means /32, as the API server's validation accepts). */
function sourceRanges(ranges: string[], err: ErrorAt): string[] {
  return ranges.flatMap((r, i) => {
    const c = parseCidr(r.includes('/') ? r : `${r}/32`);
    if (!c) {
      err(['spec', 'loadBalancerSourceRanges', i], `"${r}" is not a CIDR`);
      return [];
    }
    return [`${formatIpv4(networkOf(c.addr, c.prefix))}/${c.prefix}`];
  });
}

/** The NodePort allocator: each port's requested node port (in range, free) or a random free one, for NodePort and LoadBalancer Services. */
function allocateNodePorts(spec: Spec['spec'], alloc: ServiceAllocator, err: ErrorAt): ServicePortSpec[] {
  const needsNodePort = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  return spec.ports.map((p, i) => {
    if (spec.ports.length > 1 && !p.name) err(['spec', 'ports', i, 'name'], 'every port of a multi-port Service needs a name');
    let nodePort: number | null = null;
    if (p.nodePort !== undefined) {
      if (!needsNodePort) err(['spec', 'ports', i, 'nodePort'], `nodePort needs type NodePort or LoadBalancer, not ${spec.type}`);
      else if (p.nodePort < 30000 || p.nodePort > 32767) err(['spec', 'ports', i, 'nodePort'], `${p.nodePort} is outside the node port range 30000-32767`);
      else if (alloc.usedNodePorts.has(p.nodePort)) err(['spec', 'ports', i, 'nodePort'], `node port ${p.nodePort} is already allocated`);
      else nodePort = p.nodePort;
    } else if (needsNodePort) {
      for (let tries = 0; tries < 4096 && nodePort === null; tries++) {
        const cand = 30000 + alloc.portRng.int(2768);
        if (!alloc.usedNodePorts.has(cand)) nodePort = cand;
      }
    }
    if (nodePort !== null) alloc.usedNodePorts.add(nodePort);
    const out: ServicePortSpec = { name: p.name ?? '', protocol: p.protocol, port: p.port, nodePort, targetPort: p.targetPort ?? p.port };
    if (p.appProtocol !== undefined) out.appProtocol = p.appProtocol;
    return out;
  });
}
