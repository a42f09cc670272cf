// k8s/cloud-lb/service-controller — the cloud controller manager's service controller
// (k8s.io/cloud-provider controllers/service: EnsureLoadBalancer, then the Service's status): every
// LoadBalancer Service gets a load balancer with an address from the provider's pool, listeners for
// its ports (→ NodePorts), every node as a target and the health check the provider's Kubernetes
// integration creates (config.ts); then `status.loadBalancer.ingress` is written — AWS: `hostname`
// (and a DNSEndpoint object so the name resolves through external-dns), the others: `ip` — with
// `ipMode` VIP, or Proxy for the Classic ELB (kube-proxy then leaves the address alone). Layer: k8s
// (imports core, wire, k8s).
// Not modelled: the minutes a real load balancer takes to be provisioned (it exists from the start),
// spec.loadBalancerIP / loadBalancerClass, node exclusion labels, updates and deletion of Services.
import { createHash } from 'node:crypto';
import { formatIpv4 } from '../../wire/ipv4-addr.js';
import type { Ipv4 } from '../../wire/types.js';
import { objectMeta, type Service } from '../api/objects.js';
import type { DnsEndpoint } from '../external-dns.js';
import type { ApiStore } from '../api/store.js';
import type { ClusterNode } from '../cluster.js';
import type { ServiceSpec } from '../services.js';
import { AWS_PROXY_PROTOCOL_ANNOTATION } from './clb-proxy.js';
import { awsHostname, defaultHealthCheck, defaultIdleTimeoutNs, ingressOf, withOverrides, type LoadBalancerConfig } from './config.js';
import type { LbService } from './model.js';
import { durationOr0 } from '../../core/time.js';

const sha256hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The load balancer the provider creates for one Service (no status written). */
export function ensureLoadBalancer(cfg: LoadBalancerConfig, spec: ServiceSpec, vip: Ipv4, nodes: readonly ClusterNode[]): LbService {
  const ports = spec.ports.filter((p) => p.nodePort !== null);
  const aws = cfg.provider === 'aws-nlb' || cfg.provider === 'aws-clb';
  const hcnp = spec.healthCheckNodePort ?? null;
  const probe = (firstNodePort: number, firstTcp: number | null) => {
    const hc = defaultHealthCheck(cfg.provider, spec.externalTrafficPolicy, firstNodePort, hcnp, firstTcp);
    return hc === null ? null : withOverrides(hc, cfg.healthCheck);
  };
  const newTargets = () => nodes.map((node) => ({ node, state: 'initial' as const, since: 0, run: 0, lastOk: null, lastResult: '' }));
  const healthCheck = probe(ports[0]?.nodePort ?? 0, ports.find((p) => p.protocol === 'TCP')?.nodePort ?? null);
  const targets = newTargets();
  // cloud-provider-azure (getExpectedLBRules): a rule per port; for ETP Local every rule uses the one HTTP probe of
  // the healthCheckNodePort, otherwise each TCP rule gets its own TCP probe of its NodePort and a UDP or SCTP rule
  // none (buildHealthProbeRulesForPort). Elsewhere one check serves the whole load balancer.
  const perRule = cfg.provider === 'azure' && !(spec.externalTrafficPolicy === 'Local' && hcnp !== null);
  const firstTcp = ports.find((p) => p.protocol === 'TCP');
  const listeners = ports.map((p) => {
    const own = perRule && p !== firstTcp;
    const check = !perRule ? healthCheck : p === firstTcp ? healthCheck : p.protocol === 'TCP' ? probe(p.nodePort!, p.nodePort!) : null;
    return { port: p.port, protocol: p.protocol, nodePort: p.nodePort!, check, targets: own && (check !== null || healthCheck !== null) ? newTargets() : targets };
  });
  return {
    provider: cfg.provider,
    namespace: spec.namespace,
    name: spec.name,
    vip,
    hostname: aws ? awsHostname(spec.namespace, spec.name, sha256hex) : null,
    listeners,
    targets,
    healthCheck,
    etp: spec.externalTrafficPolicy,
    idleTimeoutNs: cfg.idleTimeout !== undefined ? durationOr0(cfg.idleTimeout) : defaultIdleTimeoutNs(cfg.provider),
    proxyProtocol: cfg.provider === 'aws-clb' && spec.annotations?.[AWS_PROXY_PROTOCOL_ANNOTATION] === '*',
    rr: 0,
  };
}

/** The service controller of one provider. */
export class ServiceController {
  readonly services: LbService[] = [];
  private readonly pool: Ipv4[];

  constructor(
    private readonly api: ApiStore,
    private readonly cfg: LoadBalancerConfig,
    private readonly nodes: readonly ClusterNode[],
    pool: Ipv4[],
    private readonly record: (what: string) => void,
    /** A new load balancer (the data path and health checks take it from here). */
    private readonly onCreated: (svc: LbService) => void,
  ) {
    this.pool = [...pool];
  }

  /** Syncs every LoadBalancer Service in the store, then every new one. */
  start(): void {
    for (const s of this.api.list('Service')) this.sync(s);
    this.api.watch('Service', (events) => {
      for (const e of events) if (e.type === 'ADDED') this.sync(e.object);
    });
  }

  private sync(obj: Service): void {
    const spec = obj.spec;
    if (spec.type !== 'LoadBalancer' || this.services.some((s) => s.namespace === spec.namespace && s.name === spec.name)) return;
    const vip = this.pool.shift();
    if (vip === undefined) {
      this.record(`service-controller: ${spec.namespace}/${spec.name} stays pending (the ${this.cfg.provider} pool is empty)`);
      return;
    }
    const lb = ensureLoadBalancer(this.cfg, spec, vip, this.nodes);
    this.services.push(lb);
    const ingress = ingressOf(this.cfg.provider, vip, lb.hostname);
    // kube-proxy programs only `ip` entries whose ipMode is VIP.
    const vipIps = ingress.ip !== undefined && ingress.ipMode === 'VIP' ? [vip] : [];
    this.api.update<Service>({ ...obj, spec: { ...spec, loadBalancerIPs: vipIps }, status: { loadBalancer: { ingress: [ingress] } } });
    if (lb.hostname !== null) {
      const dns: DnsEndpoint = { kind: 'DNSEndpoint', metadata: objectMeta(spec.namespace, spec.name), spec: { endpoints: [{ dnsName: lb.hostname, recordType: 'A', targets: [formatIpv4(vip)], recordTTL: 60 }] } };
      this.api.create(dns);
    }
    this.onCreated(lb);
  }
}
