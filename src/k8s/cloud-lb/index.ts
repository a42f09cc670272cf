// k8s/cloud-lb — the load balancer of `type: LoadBalancer` Services for the provider the scenario
// names (spec.cluster.loadBalancer): the service controller (service-controller.ts) creates one load
// balancer per Service on the load-balancer machine (machine.ts) and writes the Service's status; the
// data path is the provider's (dataplane.ts for NLB/GCP/Azure/BGP, clb-proxy.ts for the Classic ELB);
// the health checker (health-checker.ts) probes every node from the machine; MetalLB BGP's speakers
// (bgp-speaker.ts) steer the router instead. MetalLB L2 is the node-side speaker
// (../metallb-speaker.ts) and has no machine. Layer: k8s (imports core, wire, link, net, transport,
// app, k8s).
//
//   ControlPlane.start ─▶ CloudLoadBalancers.start: service controller (status, DNSEndpoint), speakers
//   ControlPlane.startProbes ─▶ CloudLoadBalancers.run(tcpOf): data path, health checks (background)
import type { Simulator } from '../../core/simulator.js';
import type { Namespace } from '../../net/namespace.js';
import type { TcpLayer } from '../../transport/tcp/index.js';
import { formatIpv4 } from '../../wire/ipv4-addr.js';
import type { ApiStore } from '../api/store.js';
import type { ClusterWorld } from '../cluster.js';
import { startBgpSpeakers } from './bgp-speaker.js';
import { ClbProxy } from './clb-proxy.js';
import { poolAddresses, type LoadBalancerConfig } from './config.js';
import { LbDataplane, type DataplaneMode } from './dataplane.js';
import { HealthChecker } from './health-checker.js';
import type { LbMachine } from './machine.js';
import { formatTargets, type LbService } from './model.js';
import { ServiceController } from './service-controller.js';

export type { LoadBalancerConfig } from './config.js';

/** The cloud load balancers of a cluster. */
export class CloudLoadBalancers {
  readonly controller: ServiceController;
  dataplane: LbDataplane | null = null;
  proxy: ClbProxy | null = null;
  checker: HealthChecker | null = null;

  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    readonly cfg: LoadBalancerConfig,
    private readonly cluster: ClusterWorld,
    readonly machine: LbMachine,
    private readonly record: (what: string) => void,
  ) {
    this.controller = new ServiceController(api, cfg, cluster.nodes, poolAddresses(cfg.pool), record, (svc) => this.created(svc));
  }

  /** The load balancers, one per LoadBalancer Service with an address. */
  get services(): readonly LbService[] {
    return this.controller.services;
  }

  /** The service controller's first pass (before kube-proxy's first sync reads the statuses), then the BGP speakers. */
  start(): void {
    this.controller.start();
    if (this.cfg.provider === 'metallb-bgp') startBgpSpeakers(this.api, this.cluster.nodes, this.controller.services, () => this.sim.now, this.record);
  }

  /** Starts the data path on the machine and the health checks (`tcpOf`: the machine's TCP layer). */
  run(tcpOf: (ns: Namespace) => TcpLayer, onCheckConnected: ConstructorParameters<typeof HealthChecker>[3] = null): void {
    const { ns, eth0, ip } = this.machine;
    const p = this.cfg.provider;
    ns.ipForwardEnabled = true;
    if (p === 'aws-clb') this.proxy = new ClbProxy(this.sim, tcpOf(ns));
    else this.dataplane = new LbDataplane(ns, eth0, modeOf(p));
    if (p === 'aws-nlb') {
      // Client addresses are kept, so the nodes must send their replies back through the load
      // balancer: it is their route for the clients (the external hosts), as the VPC's flow tracking makes it.
      for (const n of this.cluster.nodes) for (const h of this.cluster.hosts) n.ns.addRoute({ dst: h.ip, prefix: 32, gateway: ip, dev: n.eth0 });
    }
    if (p !== 'metallb-bgp') this.checker = new HealthChecker(this.sim, tcpOf(ns), this.record, onCheckConnected);
    for (const svc of this.controller.services) this.serve(svc);
  }

  private created(svc: LbService): void {
    if (this.checker !== null || this.proxy !== null || this.dataplane !== null) this.serve(svc);
  }

  private serve(svc: LbService): void {
    if (this.proxy !== null) {
      // The Classic ELB terminates TCP: the address is the machine's own.
      this.machine.ns.addAddress(this.machine.eth0, svc.vip, 32);
      this.proxy.add(svc);
    }
    this.dataplane?.add(svc);
    this.checker?.start(svc);
  }

  /** `inspect --lb`: every load balancer's targets and their health, and the data path's counters. */
  describe(): string {
    const head = `${this.cfg.provider} on ${this.machine.name} ${formatIpv4(this.machine.ip)}\n`;
    const d = this.dataplane?.counters;
    const c = this.proxy?.counters;
    const counters = d ? `flows ${this.dataplane!.flowCount} new ${d.newFlows} forwarded ${d.forwarded} replies ${d.replies} resets ${d.resets} dropped ${d.dropped}\n` : c ? `accepted ${c.accepted} backend connects ${c.backendConnects} refused ${c.refused} idle-closed ${c.idleClosed}\n` : '';
    return head + formatTargets(this.controller.services, formatIpv4) + counters;
  }
}

function modeOf(p: LoadBalancerConfig['provider']): DataplaneMode {
  if (p === 'aws-nlb') return 'nat';
  if (p === 'metallb-bgp') return 'ecmp';
  return 'dsr';
}
