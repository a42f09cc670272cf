// k8s/cluster — a cluster's data plane built the way kubelet, the node IPAM controller, flannel and
// the CNI bridge plugin build it. Layer: k8s (imports core, wire, packet, link, net). No packet is
// touched here: this code only creates namespaces, devices, addresses, routes, neighbours and FDB
// entries, exactly what `ip`/`bridge` would show on a real node.
//
//   host/client ──┐            external network (the seeds' "VLAN"): one switch, per-port links
//   node1/eth0 ───┼── network/br0 (swp1..N)
//   node2/eth0 ───┘
//   nodeN: eth0 NODE_IP, cni0 10.244.N.1/24 (bridge; created with the node's first pod),
//          flannel.1 10.244.N.0/32 (VXLAN VNI 1, UDP 8472, MTU 1450) or host-gw routes via node IPs
//   pod:   eth0 10.244.N.x/24 on a veth whose host end vethXXXXXXXX is a port of cni0,
//          default via 10.244.N.1 and the pod network via 10.244.N.1 (flannel's host-local routes)
import type { Simulator } from '../core/simulator.js';
import { durationOr0, parseRate } from '../core/time.js';
import type { UserError } from '../core/user-error.js';
import { BridgeDevice } from '../link/bridge.js';
import { Channel } from '../link/channel.js';
import { NicDevice } from '../link/nic.js';
import { netemActive, setNetem } from '../link/netem.js';
import { randomMac, type NetDevice } from '../link/device.js';
import { VethDevice } from '../link/veth.js';
import { VxlanDevice } from '../link/vxlan.js';
import { Namespace } from '../net/namespace.js';
import { formatIpv4, networkOf, parseCidr, parseIpv4 } from '../wire/ipv4-addr.js';
import { parseMac } from '../wire/mac.js';
import type { Ipv4, Mac } from '../wire/types.js';
import { DeploymentSchema, NodeSchema, parseManifest, PodSchema, unknownFieldWarnings, type PodSpecT } from './manifests.js';
import { podTemplateHash, randomSuffix, randomVethName } from './names.js';

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
  /** Ready condition (readiness probe passing); false after a pod-down fault. */
  ready: boolean;
  /** Being deleted (graceful termination): its endpoints are terminating, still serving. */
  terminating: boolean;
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
}

/** Builds nodes, the external network, external hosts and pods. Pushes user errors into `errors`. */
export function buildCluster(sim: Simulator, cfg: ClusterConfig, manifestsIn: ManifestInput[], errors: UserError[], at: (path: (string | number)[], message: string) => UserError): ClusterWorld {
  let manifests = manifestsIn;
  const namespaces: Namespace[] = [];
  const devices: NetDevice[] = [];
  const warnings: UserError[] = [];
  const macOf = (owner: string, ifname: string, fixed?: string): Mac => {
    if (fixed) return parseMac(fixed)!;
    return randomMac(sim, owner, ifname);
  };
  const newNs = (name: string): Namespace => {
    const ns = new Namespace(sim, name);
    namespaces.push(ns);
    devices.push(ns.lo);
    return ns;
  };
  const add = (ns: Namespace, dev: NetDevice): void => {
    ns.addDevice(dev);
    devices.push(dev);
  };

  // --- nodes: the scenario's list, then Node manifests not in it
  const nodeDefs = cfg.nodes.map((n, i) => ({ ...n, path: ['spec', 'cluster', 'nodes', i] as (string | number)[] }));
  for (const m of manifests) {
    if (m.kind !== 'Node') continue;
    const node = parseManifest(NodeSchema, m.value, m.error, errors);
    if (!node) continue;
    unknownFieldWarnings('Node', m.value, (p, msg) => warnings.push(m.error(p, msg)));
    const ip = node.status.addresses.find((a) => a.type === 'InternalIP')?.address;
    const existing = nodeDefs.find((d) => d.name === node.metadata.name);
    if (existing) {
      if (ip && !existing.ip) existing.ip = ip;
      if (node.spec.podCIDR && !existing.podCIDR) existing.podCIDR = node.spec.podCIDR;
    } else nodeDefs.push({ name: node.metadata.name, ip, podCIDR: node.spec.podCIDR, mac: undefined, path: ['metadata', 'name'] });
  }
  const net = parseCidr(cfg.network.cidr)!;
  const netBase = networkOf(net.addr, net.prefix);
  const podNet = parseCidr(cfg.podCIDR)!;
  const subnetSize = 2 ** (32 - cfg.nodeSubnetPrefix);
  if (cfg.nodeSubnetPrefix < podNet.prefix) errors.push(at(['spec', 'cluster', 'nodeSubnetPrefix'], `must be at least the pod CIDR's prefix /${podNet.prefix}`));
  const overlay = cfg.cni === 'flannel-vxlan';
  const podMtu = overlay ? cfg.network.mtu - 50 : cfg.network.mtu;
  const vethDelay = durationOr0(cfg.vethDelay);

  const network = newNs('network');
  const sw = new BridgeDevice(sim, 'br0', macOf('network', 'br0'), cfg.network.mtu);
  add(network, sw);
  let swPort = 0;
  const linkToSwitch = (nic: NicDevice): void => {
    const port = new NicDevice(sim, `swp${++swPort}`, macOf('network', `swp${swPort}`), cfg.network.mtu);
    add(network, port);
    sw.addPort(port);
    const ch = new Channel(sim, nic, port, { rateBps: parseRate(cfg.network.rate)!, delayNs: durationOr0(cfg.network.delay), queueLimit: cfg.network.queue });
    const netem = { loss: cfg.network.loss, delayNs: durationOr0(cfg.network.netemDelay), jitterNs: durationOr0(cfg.network.jitter) };
    if (netemActive(netem)) setNetem(ch, netem, sim);
  };
  const usedIps = new Set<number>();
  const takeIp = (text: string | undefined, fallback: number, path: (string | number)[]): Ipv4 => {
    let ip = text ? parseIpv4(text) : fallback;
    if (ip === null) {
      errors.push(at(path, `"${text}" is not an IPv4 address`));
      ip = fallback;
    } else if (networkOf(ip, net.prefix) !== netBase) errors.push(at(path, `${formatIpv4(ip)} is outside the cluster network ${cfg.network.cidr}`));
    if (usedIps.has(ip)) errors.push(at(path, `address ${formatIpv4(ip)} is used twice`));
    usedIps.add(ip);
    return ip;
  };

  const nodes: ClusterNode[] = [];
  nodeDefs.forEach((d, i) => {
    if (nodes.some((n) => n.name === d.name)) {
      errors.push(at([...d.path, 'name'], `duplicate node "${d.name}"`));
      return;
    }
    const ns = newNs(d.name);
    ns.ipForwardEnabled = true;
    const ip = takeIp(d.ip, (netBase + 11 + i) >>> 0, [...d.path, 'ip']);
    const eth0 = new NicDevice(sim, 'eth0', macOf(d.name, 'eth0', d.mac), cfg.network.mtu);
    add(ns, eth0);
    ns.addAddress(eth0, ip, net.prefix);
    linkToSwitch(eth0);
    let pn = (podNet.addr + i * subnetSize) >>> 0;
    let pp = cfg.nodeSubnetPrefix;
    if (d.podCIDR) {
      const c = parseCidr(d.podCIDR);
      if (!c) errors.push(at([...d.path, 'podCIDR'], `"${d.podCIDR}" is not a CIDR`));
      else [pn, pp] = [c.addr, c.prefix];
    }
    const node: ClusterNode = { name: d.name, ns, ip, eth0, podNet: pn, podPrefix: pp, cni0: null, flannel: null, nextPod: 2, pods: [] };
    if (overlay) {
      // flannel: `ip link add flannel.1 type vxlan id 1 local NODE_IP dev eth0 dstport 8472 nolearning`,
      // address 10.244.N.0/32, MTU = eth0 MTU − 50.
      const hashSeed = sim.rng.stream(`${d.name}/hashrnd`).uint32();
      const vx = new VxlanDevice(sim, 'flannel.1', macOf(d.name, 'flannel.1'), cfg.vni, ip, cfg.vxlanPort, hashSeed, podMtu);
      add(ns, vx);
      vx.attach(ns);
      ns.addAddress(vx, pn, 32);
      node.flannel = vx;
    }
    nodes.push(node);
  });

  // Routes to the other nodes' pod subnets, as flanneld programs them.
  for (const n of nodes) {
    for (const m of nodes) {
      if (m === n) continue;
      if (overlay) {
        n.ns.addRoute({ dst: m.podNet, prefix: m.podPrefix, gateway: m.podNet, dev: n.flannel!, onlink: true });
        n.ns.neigh.addPermanent(n.flannel!, m.podNet, m.flannel!.mac);
        n.flannel!.fdb.set(m.flannel!.mac, m.ip);
      } else {
        n.ns.addRoute({ dst: m.podNet, prefix: m.podPrefix, gateway: m.ip, dev: n.eth0 });
      }
    }
  }

  const hosts: ExternalHost[] = [];
  cfg.externalHosts.forEach((h, i) => {
    const path = ['spec', 'cluster', 'externalHosts', i];
    if (nodes.some((n) => n.name === h.name) || hosts.some((x) => x.name === h.name)) {
      errors.push(at([...path, 'name'], `duplicate name "${h.name}"`));
      return;
    }
    const ns = newNs(h.name);
    const ip = takeIp(h.ip, (netBase + 100 + i) >>> 0, [...path, 'ip']);
    const eth0 = new NicDevice(sim, 'eth0', macOf(h.name, 'eth0', h.mac), cfg.network.mtu);
    add(ns, eth0);
    ns.addAddress(eth0, ip, net.prefix);
    linkToSwitch(eth0);
    hosts.push({ name: h.name, ns, ip });
  });

  // --- cluster DNS add-on (as kubeadm installs it): a coredns Deployment in kube-system and the
  // kube-dns Service on the 10th address of the service range. Its pods start first, so they take
  // the first pod addresses, as on a real cluster.
  if (cfg.dns?.enabled) {
    const svcNet = parseCidr(cfg.serviceCIDR)!;
    const dnsIp = formatIpv4((svcNet.addr + 10) >>> 0);
    const dnsErr = (path: (string | number)[], message: string): UserError => at(['spec', 'cluster', 'dns', ...path], message);
    const addOn: ManifestInput[] = [
      {
        kind: 'Deployment',
        value: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
          spec: {
            replicas: cfg.dns.replicas,
            selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            template: {
              metadata: { labels: { 'k8s-app': 'kube-dns' } },
              spec: { containers: [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.11.3', ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }, { name: 'metrics', containerPort: 9153, protocol: 'TCP' }] }] },
            },
          },
        },
        error: dnsErr,
      },
      {
        kind: 'Service',
        value: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
          spec: { clusterIP: dnsIp, selector: { 'k8s-app': 'kube-dns' }, ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }, { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 }] },
        },
        error: dnsErr,
      },
    ];
    manifests = [...addOn, ...manifests];
  }

  // --- pods: Pod manifests and Deployments' replicas, in file order
  const podDefs: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string>; spec: PodSpecT; deployment: string | null; m: ManifestInput; specPath: (string | number)[] }[] = [];
  for (const m of manifests) {
    if (m.kind === 'Pod') {
      const pod = parseManifest(PodSchema, m.value, m.error, errors);
      if (!pod) continue;
      unknownFieldWarnings('Pod', m.value, (p, msg) => warnings.push(m.error(p, msg)));
      podDefs.push({ name: pod.metadata.name, namespace: pod.metadata.namespace, labels: pod.metadata.labels, annotations: pod.metadata.annotations, spec: pod.spec, deployment: null, m, specPath: ['spec'] });
    } else if (m.kind === 'Deployment') {
      const d = parseManifest(DeploymentSchema, m.value, m.error, errors);
      if (!d) continue;
      unknownFieldWarnings('Deployment', m.value, (p, msg) => warnings.push(m.error(p, msg)));
      const tmplLabels = d.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) {
        if (tmplLabels[k] !== v) errors.push(m.error(['spec', 'selector', 'matchLabels', k], `selector does not match template labels (Kubernetes rejects this Deployment)`));
      }
      // ReplicaSet <deployment>-<pod-template-hash>; pods <replicaset>-<5 random characters>.
      const hash = podTemplateHash((m.value['spec'] as Record<string, unknown>)['template']);
      const rng = sim.rng.stream(`k8s/replicaset/${d.metadata.namespace}/${d.metadata.name}`);
      for (let r = 0; r < d.spec.replicas; r++) {
        const name = `${d.metadata.name}-${hash}-${randomSuffix(rng)}`;
        podDefs.push({ name, namespace: d.metadata.namespace, labels: { ...tmplLabels, 'pod-template-hash': hash }, annotations: d.spec.template.metadata.annotations, spec: d.spec.template.spec, deployment: d.metadata.name, m, specPath: ['spec', 'template', 'spec'] });
      }
    }
  }
  const pods: ClusterPod[] = [];
  const nsNames = new Set(namespaces.map((n) => n.name));
  for (const p of podDefs) {
    if (nodes.length === 0) {
      errors.push(p.m.error(['kind'], 'pods need a cluster with at least one node (spec.cluster.nodes)'));
      break;
    }
    let node: ClusterNode | undefined;
    if (p.spec.nodeName !== undefined) {
      node = nodes.find((n) => n.name === p.spec.nodeName);
      if (!node) {
        errors.push(p.m.error([...p.specPath, 'nodeName'], `no node "${p.spec.nodeName}" (nodes: ${nodes.map((n) => n.name).join(', ')})`));
        continue;
      }
    } else {
      // A deterministic scheduler: fewest pods first, then node order (spreads like the default scorer).
      node = nodes.reduce((best, n) => (n.pods.length < best.pods.length ? n : best), nodes[0]!);
    }
    const nsName = p.namespace === 'default' ? p.name : `${p.name}.${p.namespace}`;
    if (pods.some((x) => x.name === p.name && x.namespace === p.namespace) || (!p.spec.hostNetwork && nsNames.has(nsName))) {
      errors.push(p.m.error(['metadata', 'name'], `duplicate name "${nsName}"`));
      continue;
    }
    if (p.spec.hostNetwork) {
      const pod: ClusterPod = { name: p.name, namespace: p.namespace, labels: p.labels, annotations: p.annotations, node, ns: node.ns, ip: node.ip, hostNetwork: true, hostVeth: null, spec: p.spec, deployment: p.deployment, ready: true, terminating: false };
      node.pods.push(pod);
      pods.push(pod);
      continue;
    }
    const cni0 = node.cni0 ?? createCni0(node);
    // host-local IPAM: the next free address after the last one handed out (.1 is the gateway).
    const size = 2 ** (32 - node.podPrefix);
    if (node.nextPod >= size - 1) {
      errors.push(p.m.error(['metadata', 'name'], `node ${node.name}'s pod subnet is full`));
      continue;
    }
    const ip = (node.podNet + node.nextPod++) >>> 0;
    const ns = newNs(nsName);
    nsNames.add(nsName);
    const vrng = sim.rng.stream(`cni/${node.name}/${nsName}`);
    const [podEnd, hostEnd] = VethDevice.pair(sim, 'eth0', macOf(nsName, 'eth0'), randomVethName(vrng), macOf(node.name, `veth/${nsName}`), podMtu);
    podEnd.delayNs = hostEnd.delayNs = vethDelay;
    add(ns, podEnd);
    add(node.ns, hostEnd);
    cni0.addPort(hostEnd);
    ns.addAddress(podEnd, ip, node.podPrefix);
    const gw = (node.podNet + 1) >>> 0;
    ns.addRoute({ dst: 0, prefix: 0, gateway: gw, dev: podEnd });
    ns.addRoute({ dst: podNet.addr, prefix: podNet.prefix, gateway: gw, dev: podEnd });
    const pod: ClusterPod = { name: p.name, namespace: p.namespace, labels: p.labels, annotations: p.annotations, node, ns, ip, hostNetwork: false, hostVeth: hostEnd, spec: p.spec, deployment: p.deployment, ready: true, terminating: false };
    node.pods.push(pod);
    pods.push(pod);
  }

  function createCni0(node: ClusterNode): BridgeDevice {
    // The bridge plugin creates cni0 with the first pod and gives it the subnet's first address.
    const br = new BridgeDevice(sim, 'cni0', macOf(node.name, 'cni0'), podMtu);
    add(node.ns, br);
    // Kubernetes nodes load br_netfilter with bridge-nf-call-iptables=1 (it acts once the node has rules).
    br.netfilter = node.ns.brNetfilter;
    node.ns.addAddress(br, (node.podNet + 1) >>> 0, node.podPrefix);
    node.cni0 = br;
    return br;
  }

  return { config: cfg, nodes, pods, hosts, network, namespaces, devices, warnings, manifests };
}
