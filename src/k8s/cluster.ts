// k8s/cluster — a cluster brought up the way kubeadm does it, as a short list of calls: the machines
// on their network (underlay.ts), each node joined (kubeadm join: namespace, eth0, the node's pod
// subnet from the node IPAM controller) with flanneld's device (flannel.1) and routes (flannel.ts), the
// external hosts, the add-ons (addons.ts), then every pod scheduled (scheduler.ts) and started by the
// kubelet (kubelet.ts → cni-bridge.ts). Services and the controllers that react to changes are
// started afterwards by control-plane.ts. Layer: k8s (imports core, wire, link, net). No packet is
// touched here: only namespaces, devices, addresses, routes, neighbours and FDB entries, exactly what
// `ip`/`bridge` would show on a real node.
//
//   nodeN: eth0 NODE_IP, cni0 10.244.N.1/24 (bridge; created with the node's first pod),
//          flannel.1 10.244.N.0/32 (VXLAN VNI 1, UDP 8472, MTU 1450) or host-gw routes via node IPs
//   pod:   eth0 10.244.N.x/24 on a veth whose host end vethXXXXXXXX is a port of cni0,
//          default via 10.244.N.1 and the pod network via 10.244.N.1 (flannel's host-local routes)
import type { Simulator } from '../core/simulator.js';
import { durationOr0 } from '../core/time.js';
import type { UserError } from '../core/user-error.js';
import type { BridgeDevice } from '../link/bridge.js';
import type { NicDevice } from '../link/nic.js';
import type { NetDevice } from '../link/device.js';
import type { VethDevice } from '../link/veth.js';
import type { VxlanDevice } from '../link/vxlan.js';
import type { Namespace } from '../net/namespace.js';
import { parseCidr } from '../wire/ipv4-addr.js';
import type { Ipv4 } from '../wire/types.js';
import { checkClusterRanges, checkNodeSubnets } from './address-plan.js';
import { withAddOns } from './addons.js';
import type { CniBridgeConfig } from './cni-bridge.js';
import { nodeDefsOf, podDefsOf, type NodeDef, type PodDef, type PodOwner, type WorkloadTemplate } from './desired-state.js';
import { createFlannelDevice, programFlannelRoutes } from './flannel.js';
import { Inventory } from './inventory.js';
import { runPodSandbox } from './kubelet.js';
import type { PodSpecT } from './manifests.js';
import { schedulePod, type NodeInfo, type Unschedulable } from './scheduler.js';
import { Underlay } from './underlay.js';
import { addLbMachine, type LbMachine } from './cloud-lb/machine.js';
import type { LoadBalancerConfig } from './cloud-lb/config.js';
import { buildOutside, type InternetConfig, type OutsideWorld, type PublicDnsServerConfig } from './internet.js';
import type { GatewayControllerConfig } from './gateway/addon.js';
import type { IngressControllerConfig } from './ingress/addon.js';

/** The cluster section of a Scenario (mirrors scenario/schema ClusterSpec; kept here so k8s does not import scenario). */
export interface ClusterConfig {
  name: string;
  podCIDR: string;
  nodeSubnetPrefix: number;
  serviceCIDR: string;
  cni: 'flannel-vxlan' | 'host-gw';
  vxlanPort: number;
  vni: number;
  vethDelay: string | number;
  network: { cidr: string; rate: string | number; delay: string | number; queue: number; mtu: number; loss: number; netemDelay: string | number; jitter: string | number };
  nodes: { name: string; ip?: string | undefined; podCIDR?: string | undefined; mac?: string | undefined }[];
  externalHosts: { name: string; ip?: string | undefined; mac?: string | undefined }[];
  dns?: { enabled: boolean; replicas: number; upstream: string[] } | undefined;
  loadBalancerPool?: string[];
  /** The load-balancer provider (k8s/cloud-lb). */
  loadBalancer?: LoadBalancerConfig | undefined;
  /** spec.internet: users behind a router (internet.ts). */
  internet?: InternetConfig | undefined;
  /** spec.dns: the public authoritative DNS server's host and external-dns's settings (external-dns.ts). */
  publicDns?: { server: PublicDnsServerConfig; externalDns?: { enabled: boolean; interval: string | number; events: boolean; minEventSyncInterval: string | number } | undefined } | undefined;
  ingressController?: IngressControllerConfig | undefined;
  gatewayController?: GatewayControllerConfig | undefined;
}

/** A manifest handed to the cluster builder, with a way to report at its fields. */
export interface ManifestInput {
  kind: string;
  value: Record<string, unknown>;
  error(path: (string | number)[], message: string): UserError;
}

/** A node of the cluster. */
export interface ClusterNode {
  name: string;
  ns: Namespace;
  ip: Ipv4;
  eth0: NicDevice;
  podNet: Ipv4;
  podPrefix: number;
  /** Created with the first pod. */
  cni0: BridgeDevice | null;
  flannel: VxlanDevice | null;
  /** host-local IPAM: next address to try (offset in the subnet). */
  nextPod: number;
  pods: ClusterPod[];
}

/** A pod and where it runs. */
export interface ClusterPod {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  node: ClusterNode;
  /** The pod's network namespace (the node's own for hostNetwork pods). */
  ns: Namespace;
  ip: Ipv4;
  hostNetwork: boolean;
  hostVeth: VethDevice | null;
  spec: PodSpecT;
  /** Owner Deployment name, if any. */
  deployment: string | null;
  /** The workload that owns the pod (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job), if any. */
  owner: PodOwner | null;
}

/** An external host on the cluster's network. */
export interface ExternalHost {
  name: string;
  ns: Namespace;
  ip: Ipv4;
}

/** What buildCluster made. */
export interface ClusterWorld {
  config: ClusterConfig;
  nodes: ClusterNode[];
  pods: ClusterPod[];
  hosts: ExternalHost[];
  /** The switch of the external network. */
  network: Namespace;
  /** Every namespace created, in creation order. */
  namespaces: Namespace[];
  /** Every device created, in creation order. */
  devices: NetDevice[];
  warnings: UserError[];
  /** The manifests the cluster runs: the add-ons' (CoreDNS) first, then the user's. */
  manifests: ManifestInput[];
  /** The cloud load balancer's (or BGP router's) machine on the cluster network, when the provider has one. */
  lb?: LbMachine | null;
  /** The internet, its router and hosts, the public DNS server's host (internet.ts), or null. */
  outside: OutsideWorld | null;
  /** Starts pods after bring-up (a controller's replacement pods). */
  spawner: PodSpawner;
  /** The pod templates of Deployments, ReplicaSets and StatefulSets (scaling and rollouts stamp pods from them). */
  workloads: WorkloadTemplate[];
  /** The pods no node fitted at bring-up, with why: they wait in the scheduler's queue (kube-scheduler.ts). */
  unscheduled: { def: PodDef; why: Unschedulable }[];
}

/** The scheduler and kubelet for pods created while the simulation runs. */
export interface PodSpawner {
  /** The desired-state definition a running pod was stamped from. */
  defOf(pod: ClusterPod): PodDef | undefined;
  /** The scheduler's view of a node: its labels, its taints (with `taintsOf`'s, the API's), maxPods. */
  nodeInfo(node: ClusterNode, taintsOf: (node: ClusterNode) => NodeDef['taints']): NodeInfo;
  /** Schedules `def` onto one of `nodes` (with their current taints) and runs its sandbox; the pod joins the cluster's lists. Returns why it stays Pending otherwise. */
  spawn(def: PodDef, nodes: ClusterNode[], taintsOf: (node: ClusterNode) => NodeDef['taints']): ClusterPod | Unschedulable;
}

type At = (path: (string | number)[], message: string) => UserError;

/** Builds nodes, the external network, external hosts and pods. Pushes user errors into `errors`. */
/** `check(done, total)`: called every BUILD_CHECK_PODS pods started (the CLI's memory guard and progress; it may throw). */
export function buildCluster(sim: Simulator, cfg: ClusterConfig, manifestsIn: ManifestInput[], errors: UserError[], at: At, check?: (done: number, total: number) => void): ClusterWorld {
  const inv = new Inventory(sim);
  const warnings: UserError[] = [];
  const nodeDefs = nodeDefsOf(cfg, manifestsIn, errors, warnings);
  const podNet = parseCidr(cfg.podCIDR)!;
  if (cfg.nodeSubnetPrefix < podNet.prefix) errors.push(at(['spec', 'cluster', 'nodeSubnetPrefix'], `must be at least the pod CIDR's prefix /${podNet.prefix}`));
  checkClusterRanges(cfg, nodeDefs.length, errors, at, warnings);
  const overlay = cfg.cni === 'flannel-vxlan';
  const podMtu = overlay ? cfg.network.mtu - 50 : cfg.network.mtu;
  const underlay = new Underlay(inv, cfg, errors, at);
  const nodes: ClusterNode[] = [];
  nodeDefs.forEach((d, i) => {
    if (nodes.some((n) => n.name === d.name)) {
      errors.push(at([...d.path, 'name'], `duplicate node "${d.name}"`));
      return;
    }
    const node = kubeadmJoin(underlay, cfg, d, i, errors, at);
    if (overlay) createFlannelDevice(inv, cfg, node, podMtu);
    nodes.push(node);
  });
  const defOf = new Map(nodeDefs.map((d) => [d.name, d] as const).reverse());
  const declaredAt = (d: NodeDef | undefined) => (d?.podCIDR && d.path[0] === 'spec' ? d.path : null);
  checkNodeSubnets(cfg.podCIDR, nodes.map((n) => ({ name: n.name, net: n.podNet, prefix: n.podPrefix, declaredAt: declaredAt(defOf.get(n.name)) })), errors, at);
  programFlannelRoutes(nodes, overlay);
  const hosts = underlay.addExternalHosts((name) => nodes.some((n) => n.name === name));
  const lb = addLbMachine(underlay, cfg, (name) => nodes.some((n) => n.name === name) || hosts.some((h) => h.name === name), errors, at);
  const outside = buildOutside(inv, underlay, cfg, nodes, hosts, errors, at);
  if (outside) hosts.push(...(outside.router ? [outside.router] : []), ...outside.hosts.filter((h) => !hosts.includes(h)));
  // The load balancer reaches the internet's users through the router, as the nodes do.
  if (lb && outside?.router) lb.ns.addRoute({ dst: 0, prefix: 0, gateway: outside.router.clusterIp, dev: lb.eth0 });
  if (!outside?.router) defaultViaGateway(underlay, [...nodes.map((n) => n.ns), ...hosts.map((h) => h.ns), ...(lb ? [lb.ns] : [])]);
  const manifests = withAddOns(cfg, manifestsIn, at);
  const cni: CniBridgeConfig = { mtu: podMtu, vethDelayNs: durationOr0(cfg.vethDelay), podNet };
  const workloads: WorkloadTemplate[] = [];
  const defs = podDefsOf(sim, manifests, nodeDefs, errors, warnings, workloads);
  const unscheduled: ClusterWorld['unscheduled'] = [];
  const pods = startPods(inv, cni, nodes, nodeDefs, defs, errors, warnings, unscheduled, check);
  const spawner = podSpawner(inv, cni, nodeDefs, defs, pods);
  return { config: cfg, nodes, pods, hosts, network: underlay.ns, namespaces: inv.namespaces, devices: inv.devices, warnings, manifests, lb, outside, spawner, workloads, unscheduled };
}

function podSpawner(inv: Inventory, cni: CniBridgeConfig, nodeDefs: NodeDef[], defs: PodDef[], pods: ClusterPod[]): PodSpawner {
  const byKey = new Map(defs.map((d) => [`${d.namespace}/${d.name}`, d]));
  return {
    defOf: (pod) => byKey.get(`${pod.namespace}/${pod.name}`),
    nodeInfo(n, taintsOf) {
      const d = nodeDefs.find((x) => x.name === n.name);
      return { name: n.name, labels: d?.labels ?? {}, taints: [...(d?.taints ?? []), ...taintsOf(n)], ...(d?.maxPods !== undefined ? { maxPods: d.maxPods } : {}) };
    },
    spawn(def, nodes, taintsOf) {
      const infos = new Map<string, NodeInfo>();
      for (const n of nodes) infos.set(n.name, this.nodeInfo(n, taintsOf));
      const hostPortsOf = (n: ClusterNode) => n.pods.flatMap((p) => byKey.get(`${p.namespace}/${p.name}`)?.scheduling.hostPorts ?? []);
      const node = nodes.length === 0 ? { pending: 'no nodes available to schedule pods', plugins: [] } : schedulePod(nodes, infos, def.scheduling, hostPortsOf);
      if ('pending' in node) return node;
      if ('error' in node) return { pending: node.error, plugins: [] };
      const pod = runPodSandbox(inv, cni, node, def, def.namespace === 'default' ? def.name : `${def.name}.${def.namespace}`);
      if (typeof pod === 'string') return { pending: pod, plugins: [] };
      byKey.set(`${def.namespace}/${def.name}`, def);
      node.pods.push(pod);
      pods.push(pod);
      return pod;
    },
  };
}

/**
 * Without a router (spec.internet), every machine on the cluster network still has a default route, as
 * on any real network (the kubelet even picks the node's address from it): `default via` the network's
 * gateway (Underlay.gatewayAddress), a router outside the model that never answers ARP. Traffic to an
 * address nobody serves fails as Linux fails it then: the neighbour entry fails after its probes and
 * the sender gets host unreachable; ClusterIPs from a node's own processes route (the OUTPUT DNAT
 * reroutes them), and a Service without endpoints is REJECTed by kube-proxy's filter rules.
 */
function defaultViaGateway(underlay: Underlay, machines: Namespace[]): void {
  const gw = underlay.gatewayAddress();
  if (gw === null) return;
  for (const ns of machines) {
    const eth0 = ns.device('eth0');
    if (eth0) ns.addRoute({ dst: 0, prefix: 0, gateway: gw, dev: eth0 });
  }
}

/** `kubeadm join`: the node's machine on the network, IP forwarding on, its pod subnet (node IPAM: the i-th /nodeSubnetPrefix, or spec.podCIDR). */
function kubeadmJoin(underlay: Underlay, cfg: ClusterConfig, d: NodeDef, i: number, errors: UserError[], at: At): ClusterNode {
  const ip = underlay.takeIp(d.ip, (underlay.netBase + 11 + i) >>> 0, [...d.path, 'ip']);
  const { ns, eth0 } = underlay.addMachine(d.name, ip, d.mac);
  ns.ipForwardEnabled = true;
  const podNet = parseCidr(cfg.podCIDR)!;
  let pn = (podNet.addr + i * 2 ** (32 - cfg.nodeSubnetPrefix)) >>> 0;
  let pp = cfg.nodeSubnetPrefix;
  if (d.podCIDR) {
    const c = parseCidr(d.podCIDR);
    if (!c) errors.push(at([...d.path, 'podCIDR'], `"${d.podCIDR}" is not a CIDR`));
    else [pn, pp] = [c.addr, c.prefix];
  }
  return { name: d.name, ns, ip, eth0, podNet: pn, podPrefix: pp, cni0: null, flannel: null, nextPod: 2, pods: [] };
}

/** Binds every pod (scheduler.ts) and runs its sandbox on the node (kubelet.ts). */
/** Pods started between two calls of a build's check hook. */
const BUILD_CHECK_PODS = 256;

function startPods(inv: Inventory, cni: CniBridgeConfig, nodes: ClusterNode[], nodeDefs: NodeDef[], defs: PodDef[], errors: UserError[], warnings: UserError[], unscheduled: ClusterWorld['unscheduled'], check?: (done: number, total: number) => void): ClusterPod[] {
  const pods: ClusterPod[] = [];
  const infos = new Map(nodeDefs.map((d) => [d.name, d]));
  const defByKey = new Map<string, PodDef>();
  for (const d of defs) if (!defByKey.has(`${d.namespace}/${d.name}`)) defByKey.set(`${d.namespace}/${d.name}`, d);
  const hostPortsOf = (n: ClusterNode) => n.pods.flatMap((p) => defByKey.get(`${p.namespace}/${p.name}`)?.scheduling.hostPorts ?? []);
  const nsNames = new Set(inv.namespaces.map((n) => n.name));
  const started = new Set<string>();
  for (const [i, p] of defs.entries()) {
    if (check !== undefined && i % BUILD_CHECK_PODS === 0) check(i, defs.length);
    if (nodes.length === 0) {
      errors.push(p.m.error(['kind'], 'pods need a cluster with at least one node (spec.cluster.nodes)'));
      break;
    }
    const node = schedulePod(nodes, infos, p.scheduling, hostPortsOf);
    if ('error' in node) {
      errors.push(p.m.error([...p.specPath, 'nodeName'], node.error));
      continue;
    }
    if ('pending' in node) {
      warnings.push(p.m.error(p.specPath, `pod ${p.name} stays Pending: ${node.pending}`));
      unscheduled.push({ def: p, why: node });
      continue;
    }
    const nsName = p.namespace === 'default' ? p.name : `${p.name}.${p.namespace}`;
    if (started.has(`${p.namespace}/${p.name}`) || (!p.spec.hostNetwork && nsNames.has(nsName))) {
      errors.push(p.m.error(['metadata', 'name'], `duplicate name "${nsName}"`));
      continue;
    }
    const pod = runPodSandbox(inv, cni, node, p, nsName);
    if (typeof pod === 'string') {
      errors.push(p.m.error(['metadata', 'name'], pod));
      continue;
    }
    if (!pod.hostNetwork) nsNames.add(nsName);
    started.add(`${p.namespace}/${p.name}`);
    node.pods.push(pod);
    pods.push(pod);
  }
  return pods;
}
