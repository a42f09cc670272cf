// scenario/build — a validated Scenario → a runnable world: namespaces, devices, addresses, routes and
// traffic apps (ns-3's "helpers"). Layer: scenario (imports every layer below; stats as an observer).
// Semantic checks (a route's device exists, a veth end names a declared host, ...) are reported as
// file:line:col errors at the field, like schema errors.
import { interfaceGlob } from '../capture/filter.js';
import { Simulator } from '../core/simulator.js';
import { durationOr0, parseRate, type TimeNs } from '../core/time.js';
import { BridgeDevice } from '../link/bridge.js';
import { Channel } from '../link/channel.js';
import { NicDevice } from '../link/nic.js';
import { netemActive, setNetem } from '../link/netem.js';
import { randomMac, resetIfindex, type NetDevice } from '../link/device.js';
import { VethDevice } from '../link/veth.js';
import { Namespace } from '../net/namespace.js';
import { allowPacketRecycling, resetPacketUids } from '../packet/packet.js';
import { StatsRegistry } from '../stats/report.js';
import type { UdpLayer } from '../transport/udp.js';
import { formatIpv4, parseCidr, parseIpv4 } from '../wire/ipv4-addr.js';
import { parseMac } from '../wire/mac.js';
import type { Mac } from '../wire/types.js';
import { buildCluster, type ClusterPod, type ClusterWorld } from '../k8s/cluster.js';
import { ControlPlane, type TimelineEntry } from '../k8s/control-plane.js';
import type { ServiceView } from '../k8s/services.js';
import type { TcpLayer } from '../transport/tcp/index.js';
import { trackRecovery } from './faults-k8s-run.js';
import { scheduleFaults } from './faults.js';
import { startDns, startPodApp, startPodApps, Transports, type WorkloadContext, type WorldFlow } from './workloads.js';
import { startTraffic } from './traffic.js';
import { formatUserError, ScenarioError, type UserError } from './errors.js';
import type { LoadedScenario } from './load.js';
import type { HostSpecT, ScenarioSpecT } from './schema.js';

/** Everything a run needs. */
export interface World {
  sim: Simulator;
  seed: number;
  name: string;
  namespaces: Map<string, Namespace>;
  udp: Map<string, UdpLayer>;
  tcp: Map<string, TcpLayer>;
  /** Services with their endpoints, as the API store holds them when read. */
  services: ServiceView[];
  /** Faults and control-plane reactions as they happen. */
  timeline: TimelineEntry[];
  /** Every device, in creation order (each namespace's lo first). */
  devices: NetDevice[];
  /** Devices to capture, in the order their interface blocks are written. */
  captured: NetDevice[];
  stats: StatsRegistry;
  flows: WorldFlow[];
  /** Simulated time to stop at, or null to run until no events remain. */
  until: TimeNs | null;
  /** The Kubernetes cluster, when the scenario has one. */
  cluster: ClusterWorld | null;
  /** Its API objects and controllers. */
  controlPlane: ControlPlane | null;
  /** Non-fatal problems (fields podwire ignores), one line each. */
  warnings: UserError[];
}

const dur = durationOr0;
const WORKLOAD_KINDS = ['Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'Node'];

/** The world under construction, with the error sink every step reports to. */
interface Builder {
  loaded: LoadedScenario;
  spec: ScenarioSpecT;
  sim: Simulator;
  namespaces: Map<string, Namespace>;
  hostSpecs: Map<string, HostSpecT>;
  devices: NetDevice[];
  errors: UserError[];
  err(path: (string | number)[], message: string): void;
  /** Which plain host holds each address, and where the scenario gave it. */
  addressOwners: Map<number, { host: string; path: (string | number)[] }>;
}

/**
 * Builds the world of a loaded scenario with the given seed, in the order a lab comes up: the cluster's
 * machines, the plain hosts and their links, the control plane, the workloads, then the timeline.
 * Throws ScenarioError on semantic errors.
 */
/** Options of a build. */
export interface BuildOptions {
  /**
   * Called every few hundred pods created (and once after each later phase) with the pods created so far
   * and their total: the CLI's memory guard and build progress. It may throw to stop the build.
   */
  check?: (podsDone: number, podsTotal: number) => void;
}

export function buildWorld(loaded: LoadedScenario, seed: number, opts: BuildOptions = {}): World {
  resetIfindex();
  resetPacketUids();
  const errors: UserError[] = [];
  const b: Builder = { loaded, spec: loaded.scenario.spec, sim: new Simulator(seed), namespaces: new Map(), hostSpecs: new Map(), devices: [], errors, err: (path, message) => errors.push(loaded.error(['spec', ...path], message)), addressOwners: new Map() };
  const { spec, sim } = b;
  const cluster = buildClusterOf(b, opts.check);
  const check = (): void => opts.check?.(cluster?.pods.length ?? 0, cluster?.pods.length ?? 0);
  check();
  buildHosts(b);
  const stats = new StatsRegistry(() => sim.now);
  const timeline: TimelineEntry[] = [];
  const record = (what: string): void => {
    timeline.push({ atNs: sim.now, what });
  };
  const controlPlane = cluster && spec.cluster ? ControlPlane.start(sim, cluster, spec.cluster, errors, record, () => errors.length === 0) : null;
  check();
  const servicesNow = (): ServiceView[] => controlPlane?.services ?? [];
  const costModel = spec.cluster?.kubeProxy.costModel; // netfilter/cost-model.ts
  if (cluster && costModel) {
    for (const n of cluster.nodes) {
      const nf = n.ns.enableNetfilter();
      nf.perRuleNs = dur(costModel.perRule);
      nf.conntrack.holdConfirm = nf.perRuleNs !== 0; // the walk lies between conntrack in and confirm
    }
  } else allowPacketRecycling(sim); // (packet/packet.ts: the cost model remembers packets by identity)
  const tr = new Transports();
  const trafficWarnings: UserError[] = [];
  const flows = startWorkloads(b, tr, cluster, controlPlane, stats, trafficWarnings);
  check();
  scheduleFaults({ sim, namespaces: b.namespaces, cluster, controlPlane, record, err: b.err }, spec);
  trackRecovery(sim, stats, tr.tcp, spec);
  const captured = capturedDevices(b);
  // The loader's warnings (kinds nothing models, once each; removed API versions), then the cluster's.
  const warnings = [...loaded.warnings, ...(cluster?.warnings ?? []), ...trafficWarnings];
  // One line per problem: a template's error is found once per replica, at the same place.
  if (errors.length > 0) throw new ScenarioError([...new Map(errors.map((e) => [formatUserError(e), e])).values()]);
  return {
    sim,
    seed,
    name: loaded.scenario.metadata.name,
    namespaces: b.namespaces,
    udp: tr.udp,
    tcp: tr.tcp,
    devices: b.devices,
    captured,
    stats,
    flows,
    until: spec.duration !== undefined ? dur(spec.duration) : null,
    cluster,
    controlPlane,
    get services() {
      return servicesNow();
    },
    timeline,
    warnings,
  };
}

/** The cluster's machines (kubeadm order), or errors for cluster manifests without spec.cluster. */
function buildClusterOf(b: Builder, check?: (done: number, total: number) => void): ClusterWorld | null {
  const { loaded, spec } = b;
  if (!spec.cluster) {
    if (spec.internet) b.errors.push(loaded.error(['spec', 'internet'], 'the internet is routed to a cluster network: it needs spec.cluster'));
    if (spec.dns) b.errors.push(loaded.error(['spec', 'dns'], 'public DNS runs on a host beside a cluster: it needs spec.cluster'));
    for (const m of loaded.manifests) {
      if (WORKLOAD_KINDS.includes(m.kind)) b.errors.push(loaded.error(['kind'], `a ${m.kind} needs spec.cluster in the Scenario document`, m.docIndex));
    }
    return null;
  }
  const inputs = loaded.manifests.map((m) => ({ kind: m.kind, value: m.value, error: (path: (string | number)[], message: string) => loaded.error(path, message, m.docIndex) }));
  const cfg = spec.internet || spec.dns ? { ...spec.cluster, internet: spec.internet, publicDns: spec.dns } : spec.cluster;
  const cluster = buildCluster(b.sim, cfg, inputs, b.errors, (path, message) => loaded.error(path, message), check);
  for (const ns of cluster.namespaces) b.namespaces.set(ns.name, ns);
  for (const d of cluster.devices) b.devices.push(d); // not push(...): 100k devices exceed the call stack
  return cluster;
}

/** spec.hosts: namespaces, veths, links, bridges, addresses, then routes (after every address). */
function buildHosts(b: Builder): void {
  b.spec.hosts.forEach((h, i) => {
    if (b.namespaces.has(h.name)) return b.err(['hosts', i, 'name'], `duplicate host "${h.name}"`);
    const ns = new Namespace(b.sim, h.name);
    ns.ipForwardEnabled = h.forwarding;
    b.namespaces.set(h.name, ns);
    b.hostSpecs.set(h.name, h);
    b.devices.push(ns.lo);
  });
  buildVeths(b);
  buildLinks(b);
  b.spec.hosts.forEach((h, hi) => {
    const ns = b.namespaces.get(h.name);
    if (!ns) return;
    h.bridges.forEach((br, bi) => buildBridge(b, ns, h, hi, br, bi));
    h.interfaces.forEach((s, ii) => {
      const dev = ns.device(s.name);
      if (!dev) return b.err(['hosts', hi, 'interfaces', ii, 'name'], `no device "${s.name}" on host ${h.name}: create it as an end of a veth or link`);
      for (const [ai, a] of addrList(s.address).entries()) addAddr(b, ns, dev, a, ['hosts', hi, 'interfaces', ii, 'address', ai]);
    });
  });
  // Routes after every address, so gateways resolve through connected routes (`ip route add ... via`).
  b.spec.hosts.forEach((h, hi) => {
    const ns = b.namespaces.get(h.name);
    if (ns) h.routes.forEach((r, ri) => addRoute(b, ns, h, r, ['hosts', hi, 'routes', ri]));
  });
}

/** Interface settings declared on hosts, by host/ifname. */
function ifaceSpec(b: Builder, host: string, ifname: string) {
  return b.hostSpecs.get(host)?.interfaces.find((x) => x.name === ifname);
}

function macFor(b: Builder, host: string, ifname: string): Mac {
  const m = ifaceSpec(b, host, ifname)?.mac;
  return m ? parseMac(m)! : randomMac(b.sim, host, ifname);
}

/** The namespace and new interface name of a `host/ifname` end, or null (with an error). */
function endNs(b: Builder, end: string, path: (string | number)[]): [Namespace, string] | null {
  const [host, ifname] = end.split('/') as [string, string];
  const ns = b.namespaces.get(host);
  if (!ns) {
    b.err(path, `unknown host "${host}" (declare it under spec.hosts)`);
    return null;
  }
  if (ns.device(ifname)) {
    b.err(path, `${end} already exists`);
    return null;
  }
  return [ns, ifname];
}

function place(b: Builder, ns: Namespace, dev: NetDevice): void {
  const s = ifaceSpec(b, ns.name, dev.name);
  if (s?.mtu) dev.mtu = s.mtu;
  if (s) dev.up = s.up;
  ns.addDevice(dev);
  b.devices.push(dev);
}

function buildVeths(b: Builder): void {
  b.spec.veths.forEach((v, i) => {
    if (v.ends[0] === v.ends[1]) return b.err(['veths', i, 'ends', 1], `a veth pair needs two interfaces; both ends are ${v.ends[0]}`);
    const x = endNs(b, v.ends[0], ['veths', i, 'ends', 0]);
    const y = endNs(b, v.ends[1], ['veths', i, 'ends', 1]);
    if (!x || !y) return;
    const [da, db] = VethDevice.pair(b.sim, x[1], macFor(b, x[0].name, x[1]), y[1], macFor(b, y[0].name, y[1]), v.mtu);
    da.delayNs = db.delayNs = dur(v.delay);
    place(b, x[0], da);
    place(b, y[0], db);
  });
}

function buildLinks(b: Builder): void {
  b.spec.links.forEach((l, i) => {
    const x = endNs(b, l.ends[0], ['links', i, 'ends', 0]);
    const y = endNs(b, l.ends[1], ['links', i, 'ends', 1]);
    if (!x || !y) return;
    const na = new NicDevice(b.sim, x[1], macFor(b, x[0].name, x[1]), l.mtu);
    const nb = new NicDevice(b.sim, y[1], macFor(b, y[0].name, y[1]), l.mtu);
    place(b, x[0], na);
    place(b, y[0], nb);
    const ch = new Channel(b.sim, na, nb, { rateBps: parseRate(l.rate)!, delayNs: dur(l.delay), queueLimit: l.queue });
    const netem = { loss: l.loss, delayNs: dur(l.netemDelay), jitterNs: dur(l.jitter) };
    if (netemActive(netem)) setNetem(ch, netem, b.sim);
  });
}

type BridgeSpecT = HostSpecT['bridges'][number];
type RouteSpecT = HostSpecT['routes'][number];

function buildBridge(b: Builder, ns: Namespace, h: HostSpecT, hi: number, s: BridgeSpecT, bi: number): void {
  const at = ['hosts', hi, 'bridges', bi];
  if (ns.device(s.name)) return b.err([...at, 'name'], `${h.name}/${s.name} already exists`);
  // A new bridge takes a random MAC until its first port joins (then the lowest port MAC in
  // older kernels); set `mac` to pin it.
  const br = new BridgeDevice(b.sim, s.name, s.mac ? parseMac(s.mac)! : randomMac(b.sim, h.name, s.name), s.mtu ?? 1500);
  br.ageingTimeNs = dur(s.ageingTime);
  if (s.nfCallIptables) {
    ns.enableNetfilter();
    ns.attachBrNetfilter(br);
  }
  ns.addDevice(br);
  b.devices.push(br);
  s.ports.forEach((p, pi) => {
    const dev = ns.device(p);
    if (!dev) return b.err([...at, 'ports', pi], `no interface "${p}" on host ${h.name}`);
    if (dev === br || dev.master) return b.err([...at, 'ports', pi], `"${p}" cannot be enslaved here`);
    br.addPort(dev);
  });
  for (const [ai, a] of addrList(s.address).entries()) addAddr(b, ns, br, a, [...at, 'address', ai]);
}

function addrList(a: string | string[] | undefined): string[] {
  return a === undefined ? [] : Array.isArray(a) ? a : [a];
}

function addAddr(b: Builder, ns: Namespace, dev: NetDevice, text: string, path: (string | number)[]): void {
  const c = parseCidr(text)!;
  if (ns.addrs.some((x) => x.addr === c.addr)) return b.err(path, `address ${text} is already on ${ns.name}`);
  // Two hosts answering ARP for one address: refused, naming where the address was given first.
  const first = b.addressOwners.get(c.addr);
  if (first !== undefined && first.host !== ns.name) {
    const at = b.loaded.locate(first.path);
    return b.err(path, `address ${formatIpv4(c.addr)} is already host ${first.host}'s (${b.loaded.file}:${at.line}:${at.col})`);
  }
  b.addressOwners.set(c.addr, { host: ns.name, path: ['spec', ...path] });
  ns.addAddress(dev, c.addr, c.prefix);
}

/** `ip route add`: the gateway must be on a connected subnet unless onlink. */
function addRoute(b: Builder, ns: Namespace, h: HostSpecT, r: RouteSpecT, at: (string | number)[]): void {
  let dst = 0;
  let prefix = 0;
  if (r.to !== 'default') {
    const c = r.to.includes('/') ? parseCidr(r.to)! : { addr: parseIpv4(r.to)!, prefix: 32 };
    dst = c.addr;
    prefix = c.prefix;
  }
  const via = r.via ? parseIpv4(r.via)! : 0;
  let dev: NetDevice | undefined;
  if (r.dev) {
    dev = ns.device(r.dev);
    if (!dev) return b.err([...at, 'dev'], `no device "${r.dev}" on host ${h.name}`);
  }
  if (via !== 0 && !r.onlink) {
    const gw = ns.mainTable.lookup(via);
    if (gw === null || gw.gateway !== 0 || (dev && gw.dev !== dev)) return b.err([...at, 'via'], `gateway ${r.via} is not on a connected subnet${dev ? ` of ${r.dev}` : ''} (Linux: "Nexthop has invalid gateway"; add onlink: true to force)`);
    dev = dev ?? gw.dev!;
  }
  if (!dev) return b.err(at, 'a route needs `via` or `dev`');
  ns.addRoute({ dst, prefix, gateway: via, dev, prefsrc: r.src ? parseIpv4(r.src)! : 0, onlink: r.onlink, metric: r.metric, type: r.type });
}

/** The pods' apps, CoreDNS, the kubelets' probes, and the scenario's traffic (apps and probes only when everything so far is valid). */
function startWorkloads(b: Builder, tr: Transports, cluster: ClusterWorld | null, controlPlane: ControlPlane | null, stats: StatsRegistry, warnings: UserError[]): WorldFlow[] {
  const { loaded, errors } = b;
  for (const ns of b.namespaces.values()) tr.udpOf(ns);
  /** A problem at a pod's manifest field: its Pod, or its Deployment's template. */
  const atManifest = (pod: ClusterPod, path: (string | number)[], message: string) => {
    const m = loaded.manifests.find((x) => {
      const md = x.value['metadata'] as { name?: string } | undefined;
      return (x.kind === 'Pod' && md?.name === pod.name) || (x.kind === 'Deployment' && md?.name === pod.deployment);
    });
    const base = m?.kind === 'Deployment' ? ['spec', 'template', ...path] : path;
    return m ? loaded.error(base, message, m.docIndex) : loaded.error(['spec'], message);
  };
  /** A warning said once, however many replicas of one template hit it. */
  const warnedOnce = new Set<string>();
  const ctx: WorkloadContext = {
    sim: b.sim,
    namespaces: b.namespaces,
    cluster,
    services: controlPlane?.services ?? [],
    dnsServices: () => {
      const informer = controlPlane?.serviceInformer();
      return informer ? () => informer.list() : [];
    },
    runContainer: (pod, c) => (controlPlane ? controlPlane.runtime.run(pod, c) : void c.start()),
    ...(controlPlane ? { dnsServers: controlPlane.failures.dnsServers } : {}),
    jobs: controlPlane?.jobs ?? null,
    stats,
    clusterSpec: b.spec.cluster ?? null,
    publicDns: b.spec.dns ?? null,
    api: controlPlane?.api ?? null,
    ingress: controlPlane?.ingress ?? null,
    err: b.err,
    warn: (path, message) => warnings.push(loaded.error(['spec', ...path], message)),
    manifestErr: (pod, path, message) => errors.push(atManifest(pod, path, message)),
    manifestWarn: (pod, path, message) => {
      const w = atManifest(pod, path, message);
      const key = formatUserError(w);
      if (!warnedOnce.has(key)) (warnedOnce.add(key), warnings.push(w));
    },
  };
  if (errors.length === 0) {
    startPodApps(ctx, tr);
    startDns(ctx, tr);
    controlPlane?.startProbes((ns) => tr.tcpOf(ns), (pod) => ctx.stats.probeConnected(pod.name));
    if (controlPlane)
      controlPlane.kubelet.podStarter = (pod) => {
        tr.udpOf(pod.ns);
        startPodApp(ctx, tr, pod);
      };
  }
  return startTraffic(ctx, tr, b.spec.traffic);
}

/** spec.capture.interfaces: 'all' means every interface but the loopbacks (list HOST/lo explicitly to capture one); globs (capture/filter interfaceGlob) match qualified names. */
function capturedDevices(b: Builder): NetDevice[] {
  const cap = b.spec.capture.interfaces;
  if (cap === 'all') return b.devices.filter((d) => d.kind !== 'loopback');
  const captured: NetDevice[] = [];
  if (cap === 'none') return captured;
  cap.forEach((end, i) => {
    if (/[*?]/.test(end)) {
      // A glob: every matching interface (loopbacks only when the pattern names lo), in build order.
      const match = interfaceGlob(end);
      const before = captured.length;
      const have = new Set(captured);
      for (const d of b.devices) if (match(d.qualifiedName) && !have.has(d) && (d.kind !== 'loopback' || end.endsWith('/lo'))) captured.push(d);
      if (captured.length === before) b.err(['capture', 'interfaces', i], `no interface matches ${end}`);
      return;
    }
    const [host, ifname] = end.split('/') as [string, string];
    const dev = b.namespaces.get(host)?.device(ifname);
    if (!dev) return b.err(['capture', 'interfaces', i], `no interface ${end}`);
    captured.push(dev);
  });
  return captured;
}

