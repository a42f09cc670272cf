// scenario/build — a validated Scenario → a runnable world: namespaces, devices, addresses, routes and
// traffic apps (ns-3's "helpers"). Layer: scenario (imports every layer below; stats as an observer).
// Semantic checks (a route's device exists, a veth end names a declared host, ...) are reported as
// file:line:col errors at the field, like schema errors.
import { Simulator } from '../core/simulator.js';
import { durationOr0, parseRate, type TimeNs } from '../core/time.js';
import { BridgeDevice } from '../link/bridge.js';
import { Channel } from '../link/channel.js';
import { NicDevice } from '../link/nic.js';
import { netemActive, setNetem } from '../link/netem.js';
import { randomMac, resetIfindex, type NetDevice } from '../link/device.js';
import { VethDevice } from '../link/veth.js';
import { Namespace } from '../net/namespace.js';
import { resetPacketUids } from '../packet/packet.js';
import { StatsRegistry } from '../stats/report.js';
import type { UdpLayer } from '../transport/udp.js';
import { parseCidr, parseIpv4 } from '../wire/ipv4-addr.js';
import { parseMac } from '../wire/mac.js';
import type { Mac } from '../wire/types.js';
import { buildCluster, type ClusterWorld } from '../k8s/cluster.js';
import { ControlPlane, type TimelineEntry } from '../k8s/control-plane.js';
import type { ServiceView } from '../k8s/services.js';
import type { TcpLayer } from '../transport/tcp/index.js';
import { scheduleFaults } from './faults.js';
import { startDns, startPodApps, startTraffic, Transports, type WorkloadContext, type WorldFlow } from './workloads.js';
import { ScenarioError, type UserError } from './errors.js';
import type { LoadedScenario } from './load.js';
import type { HostSpecT } from './schema.js';

/** Everything a run needs. */
export interface World {
  sim: Simulator;
  seed: number;
  name: string;
  namespaces: Map<string, Namespace>;
  udp: Map<string, UdpLayer>;
  tcp: Map<string, TcpLayer>;
  /** Services after allocation, with their endpoints. */
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

/** Builds the world of a loaded scenario with the given seed. Throws ScenarioError on semantic errors. */
export function buildWorld(loaded: LoadedScenario, seed: number): World {
  const spec = loaded.scenario.spec;
  const errors: UserError[] = [];
  const err = (path: (string | number)[], message: string): void => {
    errors.push(loaded.error(['spec', ...path], message));
  };
  resetIfindex();
  resetPacketUids();
  const sim = new Simulator(seed);
  const namespaces = new Map<string, Namespace>();
  const hostSpecs = new Map<string, HostSpecT>();
  const devices: NetDevice[] = [];

  let cluster: ClusterWorld | null = null;
  if (spec.cluster) {
    const inputs = loaded.manifests.map((m) => ({ kind: m.kind, value: m.value, error: (path: (string | number)[], message: string) => loaded.error(path, message, m.docIndex) }));
    cluster = buildCluster(sim, spec.cluster, inputs, errors, (path, message) => loaded.error(path, message));
    for (const ns of cluster.namespaces) namespaces.set(ns.name, ns);
    devices.push(...cluster.devices);
  } else {
    for (const m of loaded.manifests) {
      if (WORKLOAD_KINDS.includes(m.kind)) errors.push(loaded.error(['kind'], `a ${m.kind} needs spec.cluster in the Scenario document`, m.docIndex));
    }
  }

  spec.hosts.forEach((h, i) => {
    if (namespaces.has(h.name)) return err(['hosts', i, 'name'], `duplicate host "${h.name}"`);
    const ns = new Namespace(sim, h.name);
    ns.ipForwardEnabled = h.forwarding;
    namespaces.set(h.name, ns);
    hostSpecs.set(h.name, h);
    devices.push(ns.lo);
  });

  // Interface settings declared on hosts, by host/ifname.
  const ifaceSpec = (host: string, ifname: string) => hostSpecs.get(host)?.interfaces.find((x) => x.name === ifname);
  const macFor = (host: string, ifname: string): Mac => {
    const m = ifaceSpec(host, ifname)?.mac;
    return m ? parseMac(m)! : randomMac(sim, host, ifname);
  };
  const endNs = (end: string, path: (string | number)[]): [Namespace, string] | null => {
    const [host, ifname] = end.split('/') as [string, string];
    const ns = namespaces.get(host);
    if (!ns) {
      err(path, `unknown host "${host}" (declare it under spec.hosts)`);
      return null;
    }
    if (ns.device(ifname)) {
      err(path, `${end} already exists`);
      return null;
    }
    return [ns, ifname];
  };
  const place = (ns: Namespace, dev: NetDevice): void => {
    const s = ifaceSpec(ns.name, dev.name);
    if (s?.mtu) dev.mtu = s.mtu;
    if (s) dev.up = s.up;
    ns.addDevice(dev);
    devices.push(dev);
  };

  spec.veths.forEach((v, i) => {
    const a = endNs(v.ends[0], ['veths', i, 'ends', 0]);
    const b = endNs(v.ends[1], ['veths', i, 'ends', 1]);
    if (!a || !b) return;
    const [da, db] = VethDevice.pair(sim, a[1], macFor(a[0].name, a[1]), b[1], macFor(b[0].name, b[1]), v.mtu);
    da.delayNs = db.delayNs = dur(v.delay);
    place(a[0], da);
    place(b[0], db);
  });

  spec.links.forEach((l, i) => {
    const a = endNs(l.ends[0], ['links', i, 'ends', 0]);
    const b = endNs(l.ends[1], ['links', i, 'ends', 1]);
    if (!a || !b) return;
    const na = new NicDevice(sim, a[1], macFor(a[0].name, a[1]), l.mtu);
    const nb = new NicDevice(sim, b[1], macFor(b[0].name, b[1]), l.mtu);
    place(a[0], na);
    place(b[0], nb);
    const ch = new Channel(sim, na, nb, { rateBps: parseRate(l.rate)!, delayNs: dur(l.delay), queueLimit: l.queue });
    const netem = { loss: l.loss, delayNs: dur(l.netemDelay), jitterNs: dur(l.jitter) };
    if (netemActive(netem)) setNetem(ch, netem, sim);
  });

  spec.hosts.forEach((h, hi) => {
    const ns = namespaces.get(h.name);
    if (!ns) return;
    h.bridges.forEach((b, bi) => {
      if (ns.device(b.name)) return err(['hosts', hi, 'bridges', bi, 'name'], `${h.name}/${b.name} already exists`);
      // A new bridge takes a random MAC until its first port joins (then the lowest port MAC in
      // older kernels); set `mac` to pin it.
      const br = new BridgeDevice(sim, b.name, b.mac ? parseMac(b.mac)! : randomMac(sim, h.name, b.name), b.mtu ?? 1500);
      br.ageingTimeNs = dur(b.ageingTime);
      if (b.nfCallIptables) {
        ns.enableNetfilter();
        br.netfilter = ns.brNetfilter;
      }
      ns.addDevice(br);
      devices.push(br);
      b.ports.forEach((p, pi) => {
        const dev = ns.device(p);
        if (!dev) return err(['hosts', hi, 'bridges', bi, 'ports', pi], `no interface "${p}" on host ${h.name}`);
        if (dev === br || dev.master) return err(['hosts', hi, 'bridges', bi, 'ports', pi], `"${p}" cannot be enslaved here`);
        br.addPort(dev);
      });
      for (const [ai, a] of addrList(b.address).entries()) addAddr(ns, br, a, ['hosts', hi, 'bridges', bi, 'address', ai]);
    });
    h.interfaces.forEach((s, ii) => {
      const dev = ns.device(s.name);
      if (!dev) return err(['hosts', hi, 'interfaces', ii, 'name'], `no device "${s.name}" on host ${h.name}: create it as an end of a veth or link`);
      for (const [ai, a] of addrList(s.address).entries()) addAddr(ns, dev, a, ['hosts', hi, 'interfaces', ii, 'address', ai]);
    });
  });

  function addrList(a: string | string[] | undefined): string[] {
    return a === undefined ? [] : Array.isArray(a) ? a : [a];
  }
  function addAddr(ns: Namespace, dev: NetDevice, text: string, path: (string | number)[]): void {
    const c = parseCidr(text)!;
    if (ns.addrs.some((x) => x.addr === c.addr)) return err(path, `address ${text} is already on ${ns.name}`);
    ns.addAddress(dev, c.addr, c.prefix);
  }

  // Routes after every address, so gateways resolve through connected routes (`ip route add ... via`).
  spec.hosts.forEach((h, hi) => {
    const ns = namespaces.get(h.name);
    if (!ns) return;
    h.routes.forEach((r, ri) => {
      const at = ['hosts', hi, 'routes', ri];
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
        if (!dev) return err([...at, 'dev'], `no device "${r.dev}" on host ${h.name}`);
      }
      if (via !== 0 && !r.onlink) {
        const gw = ns.mainTable.lookup(via);
        if (gw === null || gw.gateway !== 0 || (dev && gw.dev !== dev)) return err([...at, 'via'], `gateway ${r.via} is not on a connected subnet${dev ? ` of ${r.dev}` : ''} (Linux: "Nexthop has invalid gateway"; add onlink: true to force)`);
        dev = dev ?? gw.dev!;
      }
      if (!dev) return err(at, 'a route needs `via` or `dev`');
      ns.addRoute({ dst, prefix, gateway: via, dev, prefsrc: r.src ? parseIpv4(r.src)! : 0, onlink: r.onlink, metric: r.metric, type: r.type });
    });
  });

  const stats = new StatsRegistry(() => sim.now);
  const timeline: TimelineEntry[] = [];
  const record = (what: string): void => {
    timeline.push({ atNs: sim.now, what });
  };
  let controlPlane: ControlPlane | null = null;
  if (cluster && spec.cluster) controlPlane = ControlPlane.start(sim, cluster, spec.cluster, errors, record, () => errors.length === 0);
  const services: ServiceView[] = controlPlane?.services ?? [];
  const tr = new Transports();
  for (const ns of namespaces.values()) tr.udpOf(ns);
  const ctx: WorkloadContext = {
    sim,
    namespaces,
    cluster,
    services,
    stats,
    clusterSpec: spec.cluster ?? null,
    err,
    manifestErr: (pod, path, message) => {
      const m = loaded.manifests.find((x) => {
        const md = x.value['metadata'] as { name?: string } | undefined;
        return (x.kind === 'Pod' && md?.name === pod.name) || (x.kind === 'Deployment' && md?.name === pod.deployment);
      });
      const base = m?.kind === 'Deployment' ? ['spec', 'template', ...path] : path;
      errors.push(m ? loaded.error(base, message, m.docIndex) : loaded.error(['spec'], message));
    },
  };
  if (errors.length === 0) {
    startPodApps(ctx, tr);
    startDns(ctx, tr);
  }
  const flows = startTraffic(ctx, tr, spec.traffic);
  scheduleFaults({ sim, namespaces, cluster, controlPlane, record, err }, spec);

  let captured: NetDevice[] = [];
  const cap = spec.capture.interfaces;
  // 'all' means every interface but the loopbacks (list HOST/lo explicitly to capture one).
  if (cap === 'all') captured = devices.filter((d) => d.kind !== 'loopback');
  else if (cap !== 'none') {
    cap.forEach((end, i) => {
      const [host, ifname] = end.split('/') as [string, string];
      const dev = namespaces.get(host)?.device(ifname);
      if (!dev) return err(['capture', 'interfaces', i], `no interface ${end}`);
      captured.push(dev);
    });
  }

  // The loader's warnings (kinds nothing models, once each; removed API versions), then the cluster's.
  const warnings = [...loaded.warnings, ...(cluster?.warnings ?? [])];
  if (errors.length > 0) throw new ScenarioError(errors);
  return {
    sim,
    seed,
    name: loaded.scenario.metadata.name,
    namespaces,
    udp: tr.udp,
    tcp: tr.tcp,
    devices,
    captured,
    stats,
    flows,
    until: spec.duration !== undefined ? dur(spec.duration) : null,
    cluster,
    controlPlane,
    services,
    timeline,
    warnings,
  };
}
