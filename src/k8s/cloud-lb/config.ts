// k8s/cloud-lb/config — the load-balancer providers a scenario can name and their defaults as the
// Kubernetes cloud providers create them (../shared/guide/external-flows-facts.md §c): health checks
// per externalTrafficPolicy, idle timeouts, how the node sees the traffic, and the status the service
// controller writes. Layer: k8s (imports core, wire).
//
//   provider     data path at the node                     health check (ETP=Cluster | ETP=Local)                          idle
//   aws-clb      TCP proxy: LB node → node IP:NodePort     TCP:<first NodePort> 10/5/2/6 | HTTP:<HCNP>/healthz 10/5/2/6    60 s
//   aws-nlb      client → node IP:NodePort (src kept)      TCP traffic-port 30/10/3/3 | HTTP <HCNP>/healthz 10/10/2/2      350 s, then RST
//   gcp          unchanged packet (dst LB IP), DSR         HTTP 10256 /healthz 8/1/1/3 | HTTP <HCNP>/healthz 8/1/1/3       600 s
//   azure        unchanged packet (floating IP), DSR       TCP <NodePort> 5/5/1/2 | HTTP <HCNP>/healthz 5/5/1/2            240 s
//                (ETP Cluster: one TCP probe per TCP rule, of that rule's NodePort: service-controller.ts)
//   metallb-l2   one node answers ARP for the LB IP        (memberlist, not modelled)                                       —
//   metallb-bgp  router ECMP over advertising nodes        (BGP session: a node advertises while eligible)                  —
//
// (interval/timeout/healthy/unhealthy thresholds, seconds). Sources: cloud-provider-aws
// aws_loadbalancer.go / aws.go, cloud-provider-gcp gce.go (gceHc*) and gce_healthchecks.go,
// cloud-provider-azure consts.go (HealthProbeDefaultProbeInterval 5, NumOfProbe 2).
import { durationOr0, type TimeNs } from '../../core/time.js';
import { formatIpv4, networkOf, parseCidr, parseIpv4 } from '../../wire/ipv4-addr.js';
import type { Ipv4 } from '../../wire/types.js';

/** The providers. */
export const LB_PROVIDERS = ['aws-nlb', 'aws-clb', 'gcp', 'azure', 'metallb-l2', 'metallb-bgp'] as const;
export type LbProvider = (typeof LB_PROVIDERS)[number];

/** Health-check overrides from the scenario (each unset field keeps the provider's default). */
export interface HealthCheckOverrides {
  protocol?: 'TCP' | 'HTTP' | undefined;
  port?: number | undefined;
  path?: string | undefined;
  interval?: string | number | undefined;
  timeout?: string | number | undefined;
  healthyThreshold?: number | undefined;
  unhealthyThreshold?: number | undefined;
}

/** spec.cluster.loadBalancer (mirrors scenario/schema's LoadBalancerSpec). */
export interface LoadBalancerConfig {
  provider: LbProvider;
  pool: string[] | string;
  address?: string | undefined;
  healthCheck?: HealthCheckOverrides | undefined;
  idleTimeout?: string | number | undefined;
}

/** One health check as the provider runs it against every target. */
export interface HealthCheckParams {
  protocol: 'TCP' | 'HTTP';
  port: number;
  path: string;
  intervalNs: TimeNs;
  timeoutNs: TimeNs;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** The HTTP User-Agent of the provider's checker. */
  userAgent: string;
  /** Status codes that count as healthy (AWS: 200-399; GCP, Azure: 200). */
  okStatus: (status: number) => boolean;
}

const S = 1e9;

/** True for the providers whose load balancer is a machine podwire builds (all but MetalLB L2). */
export function hasLbMachine(p: LbProvider): boolean {
  return p !== 'metallb-l2';
}

/** The machine's name on the cluster network. */
export function lbMachineName(p: LbProvider): string {
  return p === 'metallb-bgp' ? 'bgp-router' : 'lb';
}

/** The provider's idle timeout (0: none). */
export function defaultIdleTimeoutNs(p: LbProvider): TimeNs {
  switch (p) {
    case 'aws-clb':
      return 60 * S;
    case 'aws-nlb':
      return 350 * S;
    case 'gcp':
      return 600 * S;
    case 'azure':
      return 240 * S;
    default:
      return 0;
  }
}

/** What a Service's health check looks like as the provider's Kubernetes integration creates it. */
export function defaultHealthCheck(p: LbProvider, etp: 'Cluster' | 'Local', firstNodePort: number, hcnp: number | null, firstTcpNodePort: number | null = firstNodePort): HealthCheckParams | null {
  const local = etp === 'Local' && hcnp !== null;
  const http = (port: number, path: string) => ({ protocol: 'HTTP' as const, port, path });
  const tcp = (port: number) => ({ protocol: 'TCP' as const, port, path: '' });
  const aws = { userAgent: 'ELB-HealthChecker/2.0', okStatus: (s: number) => s >= 200 && s < 400 };
  const only200 = (s: number) => s === 200;
  switch (p) {
    case 'aws-clb':
      return { ...(local ? http(hcnp, '/healthz') : tcp(firstNodePort)), intervalNs: 10 * S, timeoutNs: 5 * S, healthyThreshold: 2, unhealthyThreshold: 6, ...aws };
    case 'aws-nlb':
      return local ? { ...http(hcnp, '/healthz'), intervalNs: 10 * S, timeoutNs: 10 * S, healthyThreshold: 2, unhealthyThreshold: 2, ...aws } : { ...tcp(firstNodePort), intervalNs: 30 * S, timeoutNs: 10 * S, healthyThreshold: 3, unhealthyThreshold: 3, ...aws };
    case 'gcp':
      return { ...http(local ? hcnp : 10256, '/healthz'), intervalNs: 8 * S, timeoutNs: 1 * S, healthyThreshold: 1, unhealthyThreshold: 3, userAgent: 'GoogleHC/1.0', okStatus: only200 };
    case 'azure':
      // cloud-provider-azure makes no probe for a UDP or SCTP port (buildHealthProbeRulesForPort): a Service of those
      // alone has none, its rules send to every node; one with a TCP port is probed there.
      if (!local && firstTcpNodePort === null) return null;
      return { ...(local ? http(hcnp, '/healthz') : tcp(firstTcpNodePort!)), intervalNs: 5 * S, timeoutNs: 5 * S, healthyThreshold: 1, unhealthyThreshold: 2, userAgent: 'Load Balancer Agent', okStatus: only200 };
    default:
      return null;
  }
}

/** The default with the scenario's overrides applied. */
export function withOverrides(hc: HealthCheckParams, o: HealthCheckOverrides | undefined): HealthCheckParams {
  if (!o) return hc;
  return {
    ...hc,
    protocol: o.protocol ?? hc.protocol,
    port: o.port ?? hc.port,
    path: o.path ?? (o.protocol === 'HTTP' && hc.path === '' ? '/healthz' : hc.path),
    intervalNs: o.interval !== undefined ? durationOr0(o.interval) : hc.intervalNs,
    timeoutNs: o.timeout !== undefined ? durationOr0(o.timeout) : hc.timeoutNs,
    healthyThreshold: o.healthyThreshold ?? hc.healthyThreshold,
    unhealthyThreshold: o.unhealthyThreshold ?? hc.unhealthyThreshold,
  };
}

/** The pool's addresses in order: a list as given, or every address of a CIDR (as MetalLB's pools, avoidBuggyIPs off). */
export function poolAddresses(pool: string[] | string): Ipv4[] {
  if (Array.isArray(pool)) return pool.map((x) => parseIpv4(x)).filter((x) => x !== null);
  const c = parseCidr(pool);
  if (!c) return [];
  const base = networkOf(c.addr, c.prefix);
  return Array.from({ length: Math.min(2 ** (32 - c.prefix), 4096) }, (_, i) => (base + i) >>> 0);
}

/**
 * The AWS load balancer's DNS name: `a` + 32 hex of the Service's identity, `-` + a number, then the
 * region's ELB domain (as `a<uid>-<n>.elb.us-east-1.amazonaws.com`). Derived from a hash, not a draw, so
 * no RNG stream moves.
 */
export function awsHostname(namespace: string, name: string, hash: (s: string) => string): string {
  const h = hash(`${namespace}/${name}`);
  const n = parseInt(h.slice(32, 40), 16) % 1e10;
  return `a${h.slice(0, 32)}-${n}.elb.us-east-1.amazonaws.com`;
}

/** The status.loadBalancer.ingress entry the provider's controller writes. */
export function ingressOf(p: LbProvider, vip: Ipv4, hostname: string | null): { ip?: string; hostname?: string; ipMode: 'VIP' | 'Proxy' } {
  if (hostname !== null) return { hostname, ipMode: p === 'aws-clb' ? 'Proxy' : 'VIP' };
  return { ip: formatIpv4(vip), ipMode: 'VIP' };
}
