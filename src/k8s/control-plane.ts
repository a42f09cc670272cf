// k8s/control-plane — the API objects and the controllers that react to them, started in the order
// a cluster brings them up: the API server's objects (Nodes, Pods, the Services it admits, the user's
// EndpointSlices), the EndpointSlice controller, the MetalLB speaker, kube-proxy and its first sync,
// the node lifecycle controller and the kubelets. Faults (scenario/faults) change objects or
// a node's state through the methods below; controllers do the rest. Layer: k8s (imports core, wire,
// net and transport types for the prober, k8s).
//
//   fault ──▶ kubelet / Node ──▶ Pod status ──(endpointDelay)──▶ EndpointSlice controller
//                                                   ──▶ EndpointSlice ──(proxySyncDelay)──▶ kube-proxy
//   fault ──▶ app / network ──▶ prober's packets fail × failureThreshold ──▶ Pod status ──▶ (as above)
//   Service manifest ──▶ service-registry (ClusterIP, NodePort) ──▶ Service ──▶ EndpointSlice
//   controller, and the informers of kube-proxy, CoreDNS and the MetalLB speaker
import type { Simulator } from '../core/simulator.js';
import { durationOr0, type TimeNs } from '../core/time.js';
import type { UserError } from '../core/user-error.js';
import { formatIpv4, parseIpv4 } from '../wire/ipv4-addr.js';
import { objectMeta, type Node, type Pod, type Service } from './api/objects.js';
import { ApiStore } from './api/store.js';
import type { ClusterNode, ClusterPod, ClusterWorld } from './cluster.js';
import { EndpointSliceController, sliceOf } from './endpointslice-controller.js';
import { renderFlannelRules, watchFlannelNodes } from './flannel.js';
import { renderMssClampRules, type MssClamp } from './mss-clamp.js';
import { portmapPodsOn, renderPortmapRules } from './portmap.js';
import { KubeProxy } from './kube-proxy/proxier.js';
import { liveRulesReplaced, setRulesOverlay, type KubeProxyOptions } from './kube-proxy/index.js';
import { KubeRouterNetpol, storePolicyObjects } from './kube-router-netpol.js';
import { namespaceLabels, networkPolicies, unenforcedWarning } from './network-policy.js';
import { ContainerRuntime } from './container-runtime.js';
import { Kubelet } from './kubelet.js';
import { PodStartup } from './pod-startup.js';
import { startMetalLbSpeaker } from './metallb-speaker.js';
import { CloudLoadBalancers, type LoadBalancerConfig } from './cloud-lb/index.js';
import { poolAddresses } from './cloud-lb/config.js';
import { KubeProxyHealthServers } from './kube-proxy/healthz.js';
import { startPublicDns, type ExternalDns } from './external-dns.js';
import { DEFAULT_NODE_MONITOR_GRACE_NS, NodeHealthMonitor, startNodeLifecycleController } from './node-lifecycle.js';
import { Failures } from './failures.js';
import { ReplicaSetController } from './replica-controller.js';
import { KubeScheduler } from './kube-scheduler.js';
import { DeploymentController } from './deployment-controller.js';
import { StatefulSetController } from './statefulset-controller.js';
import { DaemonSetController } from './daemonset-controller.js';
import { disruptionBudgets, Drainer } from './drain.js';
import { PodGcController } from './pod-gc.js';
import { JobController } from './job-controller.js';
import { CronJobController } from './cronjob-controller.js';
import { DEFAULT_TOLERATION_SECONDS, TaintManager } from './taint-manager.js';
import { hasProbes, Prober, startsNotReady } from './prober.js';
import type { Namespace } from '../net/namespace.js';
import type { TcpLayer } from '../transport/tcp/index.js';
import { ServiceInformer } from './service-informer.js';
import { runsIngressNginx, type IngressControllerConfig } from './ingress/addon.js';
import { startIngress, type IngressController } from './ingress/index.js';
import type { GatewayControllerConfig } from './gateway/addon.js';
import { startGateway, type GatewayController } from './gateway/index.js';
import { admitServices, serviceAllocator } from './service-registry.js';
import { emptyView, parseManualEndpoints, resolveManual, serviceViews, type ManualEndpoints, type ServiceSpec, type ServiceView } from './services.js';

/** One thing that happened in the cluster (`kubectl get events`-like), for the timeline. */
export interface TimelineEntry {
  atNs: TimeNs;
  what: string;
}

/** The control-plane settings of a scenario's cluster section (a subset of scenario/schema ClusterSpec). */
export interface ControlPlaneConfig {
  podCIDR: string;
  serviceCIDR: string;
  loadBalancerPool: string[];
  /** The load-balancer provider (absent: loadBalancerPool, MetalLB L2). */
  loadBalancer?: LoadBalancerConfig | undefined;
  kubeProxy: Omit<KubeProxyOptions, 'clusterCIDR' | 'serviceCIDR'>;
  /** The EndpointSlice controller's watch delay on Pods. */
  endpointDelay: string | number;
  /** kube-proxy's sync delay after a change. */
  proxySyncDelay: string | number;
  /** kube-controller-manager --node-monitor-grace-period (default 40 s). */
  nodeMonitorGracePeriod?: string | number | undefined;
  /** kube-apiserver --default-unreachable-toleration-seconds / --default-not-ready-toleration-seconds (default 300). */
  defaultTolerationSeconds?: number | undefined;
  /** The ingress controller to run (k8s/ingress), if any. */
  ingressController?: IngressControllerConfig | undefined;
  /** The Gateway API controller to run (k8s/gateway: NGINX Gateway Fabric), if any. */
  gatewayController?: GatewayControllerConfig | undefined;
  /** The CNI's TCP MSS clamping rule on every node (k8s/mss-clamp), if any. */
  mssClamp?: MssClamp | undefined;
  /** kube-controller-manager --terminated-pod-gc-threshold (default 12500; 0: terminated pods are never collected). */
  terminatedPodGcThreshold?: number | undefined;
  /** The kubelet's start latency for pods created while the scenario runs (k8s/pod-startup), if any. */
  podStartup?: { sandbox: string | number; imagePull: string | number; images: Record<string, string | number> } | undefined;
  /** The NetworkPolicy enforcer beside the CNI (k8s/kube-router-netpol), if any. */
  networkPolicy?: 'kube-router' | undefined;
}

/** The running control plane. */
export class ControlPlane {
  readonly api: ApiStore;
  /** The pods' apps (scenario/workloads runs them here, so the kubelet can restart them). */
  readonly runtime = new ContainerRuntime();
  readonly kubelet: Kubelet;
  readonly endpointSlices: EndpointSliceController;
  readonly kubeProxy: KubeProxy;
  /** The cloud load balancers (or MetalLB BGP's router), when the scenario names such a provider. */
  cloud: CloudLoadBalancers | null = null;
  /** kube-proxy's health servers (10256, healthCheckNodePorts), once started. */
  proxyHealth: KubeProxyHealthServers | null = null;
  /** external-dns, when spec.dns enables it (external-dns.ts). */
  externalDns: ExternalDns | null = null;
  /** What Kubernetes failures (scenario/faults-k8s) do to the world. */
  readonly failures: Failures;
  private readonly taintManager: TaintManager;
  /** The ingress controller, when the scenario runs one. */
  ingress: IngressController | null = null;
  /** The Gateway API controller, when the scenario runs one. */
  gateway: GatewayController | null = null;
  /** The Job controller (job-controller.ts); the CronJob controller hands it its Jobs. */
  readonly jobs: JobController;
  /** kube-scheduler's loop and queue (kube-scheduler.ts): pods that wait for a node. */
  readonly scheduler: KubeScheduler;
  /** The ReplicaSet controller (replica-controller.ts): replacements, scaling. */
  readonly replicaSets: ReplicaSetController;
  /** The Deployment controller (deployment-controller.ts): rollouts. */
  readonly deployments: DeploymentController;
  /** The StatefulSet controller (statefulset-controller.ts): OrderedReady, scaling, rollouts. */
  readonly statefulSets: StatefulSetController;
  /** The DaemonSet controller (daemonset-controller.ts): a pod per node, rollouts. */
  readonly daemonSets: DaemonSetController;
  /** kubectl cordon / uncordon / drain and the Eviction API's budget check (drain.ts). */
  drainer: Drainer | null = null;
  /** kube-router's network policy controller, when spec.cluster.networkPolicy names it. */
  netpol: KubeRouterNetpol | null = null;

  private readonly record: (what: string) => void;

  private constructor(
    private readonly sim: Simulator,
    readonly cluster: ClusterWorld,
    private readonly cfg: ControlPlaneConfig,
    record: (what: string) => void,
  ) {
    this.api = new ApiStore(sim);
    this.kubelet = new Kubelet(sim, this.api, cluster.pods, this.runtime, record);
    const st = cfg.podStartup;
    if (st) this.kubelet.startup = new PodStartup({ sandboxNs: durationOr0(st.sandbox), imagePullNs: durationOr0(st.imagePull), imagesNs: Object.fromEntries(Object.entries(st.images).map(([k, v]) => [k, durationOr0(v)])) }, cluster.pods);
    this.jobs = new JobController(sim, this.api, cluster, this.kubelet, record);
    this.scheduler = new KubeScheduler(sim, this.api, cluster, record);
    this.replicaSets = new ReplicaSetController(sim, this.api, cluster, this.kubelet, this.scheduler, record);
    this.deployments = new DeploymentController(sim, this.api, this.replicaSets, this.kubelet, record);
    this.statefulSets = new StatefulSetController(sim, this.api, cluster, this.kubelet, record);
    this.daemonSets = new DaemonSetController(sim, this.api, cluster, this.kubelet, record);
    this.record = record;
    this.endpointSlices = new EndpointSliceController(sim, this.api, cluster.pods, record);
    const kp: KubeProxyOptions = { ...cfg.kubeProxy, clusterCIDR: cfg.podCIDR, serviceCIDR: cfg.serviceCIDR };
    // The CNI's rules kube-proxy's restore keeps: flanneld's, then portmap's for pods with hostPorts, then MSS clamping.
    const cniRules = (node: ClusterNode): string =>
      renderFlannelRules(cfg.podCIDR, `${formatIpv4(node.podNet)}/${node.podPrefix}`, kp.randomFully) + (renderPortmapRules(portmapPodsOn(node, node.pods)) ?? '') + renderMssClampRules(cfg.mssClamp);
    this.kubeProxy = new KubeProxy(sim, cluster.nodes, kp, cniRules, record);
    const grace = cfg.nodeMonitorGracePeriod === undefined ? DEFAULT_NODE_MONITOR_GRACE_NS : durationOr0(cfg.nodeMonitorGracePeriod);
    this.failures = new Failures(this.api, this.kubelet, this.runtime, this.kubeProxy, new NodeHealthMonitor(sim, this.api, grace, record));
    this.taintManager = new TaintManager(sim, this.api, cluster.pods, cfg.defaultTolerationSeconds ?? DEFAULT_TOLERATION_SECONDS, record);
  }

  /**
   * Brings the cluster's objects up: Nodes and Pods, the Services the API server admits (ClusterIPs,
   * NodePorts, LB IPs) and the user's own EndpointSlices; then the EndpointSlice controller's first
   * sync, the MetalLB speaker, kube-proxy (its first sync when `program`), and the watches of the
   * node lifecycle controller and the kubelets.
   */
  static start(sim: Simulator, cluster: ClusterWorld, cfg: ControlPlaneConfig, errors: UserError[], record: (what: string) => void, program: () => boolean): ControlPlane {
    const manual = parseManualEndpoints(cluster.manifests, cluster.pods, errors);
    const lb = cfg.loadBalancer;
    const alloc = serviceAllocator(cfg.serviceCIDR, (n) => sim.rng.stream(n), lb?.provider === 'metallb-l2' ? poolAddresses(lb.pool) : cfg.loadBalancerPool.map((x) => parseIpv4(x)!));
    alloc.cloudProvider = lb !== undefined && lb.provider !== 'metallb-l2';
    const services = admitServices(cluster.manifests, alloc, errors, cluster.warnings);
    const cp = new ControlPlane(sim, cluster, cfg, record);
    cp.storeObjects(services, manual);
    cp.endpointSlices.start(durationOr0(cfg.endpointDelay));
    if (lb && cluster.lb) (cp.cloud = new CloudLoadBalancers(sim, cp.api, lb, cluster, cluster.lb, record)).start();
    else startMetalLbSpeaker(cp.api, cluster.nodes, record);
    cp.ingress = startIngress(cp.api, cluster.manifests, errors, cluster.warnings, record, cfg.ingressController !== undefined || runsIngressNginx(cluster.manifests));
    cp.gateway = startGateway(cp.api, cluster.manifests, errors, cluster.warnings, record, cfg.gatewayController !== undefined);
    cp.kubeProxy.start(cp.api, durationOr0(cfg.proxySyncDelay));
    if (program()) cp.kubeProxy.syncProxyRules();
    cp.startNetworkPolicy(errors);
    startNodeLifecycleController(cp.api);
    // flanneld on every node: a deleted Node's subnet goes from the others' routes, neighbours and FDB.
    watchFlannelNodes(cp.api, cluster.nodes, cluster.config.cni === 'flannel-vxlan', record);
    cp.taintManager.start();
    const podGc = new PodGcController(sim, cp.api, record, (name) => cp.nodePodsCollected(name));
    if (cfg.terminatedPodGcThreshold !== undefined) podGc.terminatedThreshold = cfg.terminatedPodGcThreshold;
    podGc.start();
    cp.scheduler.start();
    // The pods no node fitted at bring-up wait in the queue like any other (a Job's pods are its controller's to make).
    for (const u of cluster.unscheduled) if (u.def.owner?.kind !== 'Job') cp.scheduler.enqueue(u.def, u.why, (pod) => cp.kubelet.podCreated(pod));
    cp.replicaSets.start();
    cp.statefulSets.start();
    cp.daemonSets.start();
    cp.drainer = new Drainer(sim, cp.api, cluster, cp.replicaSets, cp.kubelet, disruptionBudgets(cluster, errors), record);
    cp.jobs.start(errors);
    new CronJobController(sim, cluster, cp.jobs, record).start(errors);
    // Job pods start their work once the world is built (their apps and traffic run).
    if (cp.jobs.jobs.size > 0) sim.schedule(0, () => cp.jobs.run());
    cp.kubelet.start();
    cp.externalDns = startPublicDns(sim, cp.api, cluster, record);
    return cp;
  }

  /**
   * NetworkPolicy: the API server admits the objects (errors at their fields); kube-router's policy
   * controller enforces them when the scenario runs it, else one warning says nothing does.
   */
  private startNetworkPolicy(errors: UserError[]): void {
    const { policies, first } = networkPolicies(this.cluster.manifests, errors, this.cluster.warnings);
    if (this.cfg.networkPolicy === undefined) {
      if (first !== null) this.cluster.warnings.push(unenforcedWarning(first, policies.length, this.cluster.config.cni === 'host-gw' ? 'flannel (host-gw)' : 'flannel'));
      return;
    }
    const names = [...this.cluster.pods.map((p) => p.namespace), ...policies.map((p) => p.namespace)];
    storePolicyObjects(this.api, policies, namespaceLabels(this.cluster.manifests, names));
    const np = new KubeRouterNetpol(this.sim, this.api, this.cluster.nodes, this.cluster.pods, this.cfg.serviceCIDR, this.record, liveRulesReplaced);
    for (const n of this.cluster.nodes) setRulesOverlay(n, (rs) => np.overlay(n, rs));
    this.netpol = np;
    np.start();
  }

  /** Every Service joined with its EndpointSlice, as the store holds them now. */
  get services(): ServiceView[] {
    return serviceViews(this.api);
  }

  /** A new informer over Services and EndpointSlices (a client such as CoreDNS). */
  serviceInformer(): ServiceInformer {
    return new ServiceInformer(this.api);
  }

  private storeObjects(services: ServiceSpec[], manual: ManualEndpoints): void {
    for (const n of this.cluster.nodes) this.api.create<Node>({ kind: 'Node', metadata: objectMeta('', n.name), status: { internalIP: n.ip, ready: true, reason: 'KubeletReady' } });
    for (const p of this.cluster.pods) {
      // A readiness (or startup) probe must pass first; without one the pod is Ready once its sandbox is up.
      const ready = !startsNotReady(p);
      this.api.create<Pod>({ kind: 'Pod', metadata: objectMeta(p.namespace, p.name, p.labels), spec: { nodeName: p.node.name, hostNetwork: p.hostNetwork }, status: { podIP: p.ip, ready, reason: ready ? 'PodReady' : 'ContainersNotReady' } });
    }
    for (const s of services) {
      // An address from the MetalLB pool is in the status from the start (its controller assigned it at once).
      const ingress = s.loadBalancerIPs.map((ip) => ({ ip: formatIpv4(ip), ipMode: 'VIP' as const }));
      this.api.create<Service>({ kind: 'Service', metadata: objectMeta(s.namespace, s.name), spec: s, ...(ingress.length > 0 ? { status: { loadBalancer: { ingress } } } : {}) });
      if (s.selector !== null || s.type === 'ExternalName') continue;
      // A Service without a selector: the user's Endpoints / EndpointSlices, as one slice.
      const view = emptyView(s);
      const m = manual.get(`${s.namespace}/${s.name}`);
      resolveManual(view, m?.endpoints ?? [], m?.ports ?? []);
      this.api.create(sliceOf(view));
    }
  }

  /**
   * Starts the kubelets' probes (after the pods' apps run): a worker per declared probe, probing from
   * the node's namespace through `tcpOf`. Does nothing when no pod declares a probe.
   */
  startProbes(tcpOf: (ns: Namespace) => TcpLayer, onProbeConnected?: (pod: ClusterPod) => void): void {
    this.startLoadBalancing(tcpOf, onProbeConnected);
    if (!this.cluster.pods.some(hasProbes)) return;
    const prober = new Prober({ sim: this.sim, api: this.api, pods: this.cluster.pods, runtime: this.runtime, tcpOf, record: this.record, onContainerFailed: (pod, c, why) => this.kubelet.containerFailed(pod, c, why), ...(onProbeConnected ? { onProbeConnected } : {}) });
    this.kubelet.prober = prober;
    prober.start();
  }

  /**
   * With a load-balancer provider named: kube-proxy's health servers on every node (10256 and the
   * healthCheckNodePorts), then the load balancer's data path and health checks. (Without one nothing
   * starts, so the earlier scenarios' outputs stay byte-identical.)
   */
  private startLoadBalancing(tcpOf: (ns: Namespace) => TcpLayer, onProbeConnected?: (pod: ClusterPod) => void): void {
    if (!this.cfg.loadBalancer) return;
    this.proxyHealth = new KubeProxyHealthServers(this.sim, this.cluster.nodes, tcpOf);
    this.kubeProxy.health = this.proxyHealth;
    this.proxyHealth.start(this.api, this.kubeProxy.services);
    // A TCP check of a NodePort lands on a pod (kube-proxy's DNAT, as the traffic's): the node's conntrack entry says which.
    const checked = (t: { node: ClusterNode }, port: number, sock: { localAddr: number; localPort: number }): void => {
      const hit = t.node.ns.nf?.conntrack.lookup({ proto: 6, src: sock.localAddr, sport: sock.localPort, dst: t.node.ip, dport: port }, this.sim.now);
      const pod = hit === undefined ? undefined : this.cluster.pods.find((p) => p.ip === hit.ct.reply.src && !p.hostNetwork);
      if (pod) onProbeConnected!(pod);
    };
    this.cloud?.run(tcpOf, onProbeConnected ? checked : null);
  }

  /** The pod's app stops answering (its process stops listening; the container and its network stay). */
  podAppStopped(pod: ClusterPod): void {
    this.runtime.stopApp(pod);
  }

  /** The pod's containers stopped (a crash, an OOM kill): the kubelet notices. */
  podContainersStopped(pod: ClusterPod, reason: string): void {
    this.kubelet.containersStopped(pod, reason);
  }

  /** The pod's containers run again. */
  podContainersStarted(pod: ClusterPod, reason: string): void {
    this.kubelet.containersStarted(pod, reason);
  }

  /** `kubectl delete pod --grace-period`: the API server sets deletionTimestamp; kubelet and controllers react. */
  deletePod(pod: ClusterPod, gracePeriodNs: TimeNs): void {
    const obj = this.api.get('Pod', pod.namespace, pod.name);
    if (!obj) return; // (gone already: kubectl's NotFound)
    this.api.update<Pod>({ ...obj, metadata: { ...obj.metadata, deletionTimestamp: this.sim.now, deletionGracePeriodSeconds: gracePeriodNs / 1e9 } });
  }

  /**
   * The pod GC removed the pods of a deleted Node: its DaemonSet pods went with them (kube-proxy's is
   * not a Pod here), so a still-running kubelet stopped kube-proxy there: its rules stay as last synced.
   */
  private nodePodsCollected(name: string): void {
    const node = this.cluster.nodes.find((n) => n.name === name);
    if (!node || !this.kubelet.isRunning(node)) return;
    this.record(`kube-proxy: stopped on ${name} (its DaemonSet pod was deleted with the others); its rules stay as last synced`);
    this.kubeProxy.setSyncing(node, false);
  }

  /** The node stopped (its kubelet no longer reports): the Node turns NotReady. */
  nodeDown(node: ClusterNode): void {
    const obj = this.api.get('Node', '', node.name)!;
    this.api.update<Node>({ ...obj, status: { ...obj.status, ready: false, reason: 'NodeStatusUnknown' } });
  }
}
