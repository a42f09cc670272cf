// scenario/workloads — the programs of a scenario: apps declared on pods (annotations), DNS servers
// (CoreDNS in its pods, external hosts' zones); the traffic flows are in scenario/traffic.ts.
// Layer: scenario.
//
// Without annotations a pod serves every containerPort it declares (k8s/container-ports: HTTP for
// http-named ports, Service ports and web-server images, a TCP request/response server otherwise, UDP
// echo); stats.json's counters.no-listener counts SYNs refused because nothing listened.
// Pod annotations (on a Pod or a workload's template) override:
//   podwire.dev/app: http | udp-echo        what the pod runs instead, on its first containerPort
//   podwire.dev/port: "8080"                 overrides the port
//   podwire.dev/service-time: exponential:5ms   per-request service time (http)
//   podwire.dev/workers: "4"                 requests served at once; more wait in FIFO order (http)
//   podwire.dev/response-size: "512"         response body bytes, or a distribution like uniform:100,900
//   podwire.dev/request-size: "64"           bytes of one request (the request/response server)
//   podwire.dev/tls: rsa2048 | p256[:N]      certificate chain (leaf key, N certificates, default 2) of the
//                                            pod's https-named ports; with podwire.dev/app: http the app serves HTTPS
//   podwire.dev/run-time: 5s | uniform:2s,8s  how long a Job pod's container runs (default 1 s; k8s/job-controller)
//   podwire.dev/exit-code: "1"               a Job pod's exit code (default 0)
//   podwire.dev/sigterm: exit | drain | ignore   what the app does on SIGTERM when its pod is deleted (default exit:
//                                            at once; drain: graceful shutdown; ignore: serves until the grace
//                                            period ends; k8s/pod-termination)
// A containerPort named https (or https-*), or one an httpGet probe with scheme HTTPS targets, serves
// HTTPS (TLS 1.3 modelled, app/tls) with that chain, rsa2048 by default; podwire.dev/app: http serves
// HTTPS only with podwire.dev/tls (without it, an HTTPS probe meets plain HTTP and fails). http
// traffic to https://HOST[:PORT]/PATH speaks TLS with SNI = HOST.
// http traffic `from: job/NAME` ends each Job pod's run when its share (count / duration per pod) is
// done: exit 0, or 1 when any request failed; the pods the Job controller creates later send their
// share from when they start (k8s/job-controller.ts). `from: cronjob/NAME` (http only): the same for the
// pods of every Job the CronJob creates (none at the start; each pod sends the flow's count).
import { parseDistribution, type Distribution } from '../core/distributions.js';
import type { Simulator } from '../core/simulator.js';
import { durationOr0 } from '../core/time.js';
import { HttpServer, MAX_RESPONSE_BYTES } from '../app/http-server.js';
import { TlsServerContext } from '../app/tls.js';
import { certificateChain, parseChainSpec, type TlsCertificateChain } from '../app/tls-certs.js';
import { UdpEchoServer } from '../app/udp-probe.js';
import { TcpRrServer } from '../app/tcp-rr.js';
import type { EndpointRecorder } from '../stats/endpoint.js';
import { defaultListeners, httpsProbed } from '../k8s/container-ports.js';
import { SIGTERM_ACTIONS, SIGTERM_ANNOTATION } from '../k8s/pod-termination.js';
import { TcpFlag } from '../wire/types.js';
import type { JobController } from '../k8s/job-controller.js';
import type { ClusterPod, ClusterWorld } from '../k8s/cluster.js';
import type { ContainerProcess, ContainerSpec } from '../k8s/container-runtime.js';
import type { ServiceView } from '../k8s/services.js';
import type { Namespace } from '../net/namespace.js';
import type { Packet } from '../packet/packet.js';
import type { StatsRegistry } from '../stats/report.js';
import { TcpLayer } from '../transport/tcp/index.js';
import { UdpLayer } from '../transport/udp.js';
import { formatIpv4, parseIpv4 } from '../wire/ipv4-addr.js';
import type { Ipv4 } from '../wire/types.js';
import type { ClusterSpecT } from './schema.js';
import { DnsServer, denial, rr, type DnsZone } from '../app/dns-server.js';
import { parseResolvConf, StubResolver } from '../app/dns-resolver.js';
import { CLUSTER_DOMAIN, corednsPodsOf, startClusterDns, type ServiceLister } from '../k8s/coredns.js';
import { podDns, resolvConfText, type HostResolv } from '../k8s/pod-dns.js';
import { DnsRcode, DnsType } from '../wire/dns.js';
import { absoluteName, AuthoritativeZones } from '../app/dns-authoritative.js';
import type { ApiStore } from '../k8s/api/store.js';
import { dnsEndpointRecords } from '../k8s/external-dns.js';
import type { PublicDnsSpecT } from './schema.js';
import { L7Proxy, type L7ProxyCounters } from '../app/l7-proxy.js';
import { INGRESS_NGINX_APP, INGRESS_NGINX_HEALTH_PORT } from '../k8s/ingress/addon.js';
import type { IngressController } from '../k8s/ingress/index.js';
import type { RoutingTableSink } from '../k8s/routing-publisher.js';
import { NGF_APP, NGF_HEALTH_PORT } from '../k8s/gateway/addon.js';
import type { GatewayController } from '../k8s/gateway/index.js';

/** A traffic flow of the world, with counters for the summary. */
export interface WorldFlow {
  name: string;
  type: 'ping' | 'udp' | 'http' | 'dns' | 'tcp';
  from: string;
  to: string;
  counts: { sent: number; received: number; lost: number; errors: number };
}

/** What workload setup needs from the world under construction. */
export interface WorkloadContext {
  sim: Simulator;
  namespaces: Map<string, Namespace>;
  cluster: ClusterWorld | null;
  services: ServiceView[];
  /** Starts an informer over Services and EndpointSlices for CoreDNS's kubernetes plugin. */
  dnsServices(): ServiceLister;
  /** Where CoreDNS's servers are registered (for DNS faults), when there is a control plane. */
  dnsServers?: DnsServer[];
  /** Starts a pod's app through the container runtime (so the kubelet can restart it). */
  runContainer(pod: ClusterPod, spec: ContainerSpec): void;
  /** The Job controller, when there is a control plane: traffic `from: job/NAME` ends its pods' runs. */
  jobs?: Pick<JobController, 'trafficDriven' | 'trafficDone' | 'podCreatedHooks'> | null;
  stats: StatsRegistry;
  /** The cluster section of the scenario, when there is one. */
  clusterSpec: ClusterSpecT | null;
  /** spec.dns: the public authoritative zones, when there are any. */
  publicDns?: PublicDnsSpecT | null;
  /** The API store (DNSEndpoints for the public DNS server), when there is a control plane. */
  api?: ApiStore | null;
  err(path: (string | number)[], message: string): void;
  /** A warning at a field of the Scenario's spec (printed by run and validate; the run goes on). */
  warn?(path: (string | number)[], message: string): void;
  /** An error at a manifest's field. */
  manifestErr(pod: ClusterPod, path: (string | number)[], message: string): void;
  /** A warning at a manifest's field (once per template). */
  manifestWarn?(pod: ClusterPod, path: (string | number)[], message: string): void;
  /** The ingress controller whose pods run the L7 proxy (podwire.dev/app: ingress-nginx), if any. */
  ingress?: IngressController | null;
  /** The Gateway API controller whose pods run the L7 proxy (podwire.dev/app: nginx-gateway), if any. */
  gateway?: GatewayController | null;
}

/**
 * Transports per namespace, created on first use; listed by namespace name (a pod name used again, a
 * StatefulSet's pod created anew, is a new namespace: its layers are listed as `NAME#2`, `NAME#3`, …).
 */
export class Transports {
  readonly udp = new Map<string, UdpLayer>();
  readonly tcp = new Map<string, TcpLayer>();
  /** SYNs answered with a RST because nothing listens, by "IP:port" (stats.json counters.no-listener). */
  readonly noListener = new Map<string, number>();
  private readonly udpByNs = new WeakMap<Namespace, UdpLayer>();
  private readonly tcpByNs = new WeakMap<Namespace, TcpLayer>();
  udpOf(ns: Namespace): UdpLayer {
    let u = this.udpByNs.get(ns);
    if (!u) this.udpByNs.set(ns, (u = listed(this.udp, ns.name, new UdpLayer(ns))));
    return u;
  }
  tcpOf(ns: Namespace): TcpLayer {
    let t = this.tcpByNs.get(ns);
    if (!t) this.tcpByNs.set(ns, (t = listed(this.tcp, ns.name, new WatchedTcpLayer(ns, this.noListener))));
    return t;
  }
}

/** Adds `layer` to `list` under `name` (or `name#n` when an earlier namespace of that name holds it). */
function listed<T>(list: Map<string, T>, name: string, layer: T): T {
  let key = name;
  for (let n = 2; list.has(key); n++) key = `${name}#${n}`;
  list.set(key, layer);
  return layer;
}

/**
 * The TCP layer Transports makes in a namespace: counts the SYNs it answered with a RST (nothing
 * listening; tcp_v4_send_reset) by "IP:port", seen as the RST counter moving while a SYN is received.
 * The layer itself, registered for IP protocol 6 by its constructor, not an observer object between IP and
 * TCP: that object (first a literal of closures, then a class of its own, session 40: s40-ip) was one more
 * line every segment read, cold on a node of a thousand (its map check, 0.42 LL misses a request in
 * session 45's window); the layer and its counters are read by every segment anyway. A segment whose checksum
 * fails is counted by TcpLayer's own csumError (InErrs, InCsumErrors), as tcp_v4_rcv's csum_error does; the
 * observer before took none (session 46's review).
 */
class WatchedTcpLayer extends TcpLayer {
  constructor(
    ns: Namespace,
    private readonly noListenerCounts: Map<string, number>,
  ) {
    super(ns);
  }

  override receive(pkt: Packet): void {
    const before = this.counters.OutRsts;
    super.receive(pkt);
    const th = pkt.tcp;
    if (this.counters.OutRsts === before || th === null || pkt.ip === null || !(th.flags & TcpFlag.SYN) || th.flags & TcpFlag.ACK) return;
    const key = `${formatIpv4(pkt.ip.dst)}:${th.dstPort}`;
    this.noListenerCounts.set(key, (this.noListenerCounts.get(key) ?? 0) + 1);
  }
}

export const dur = durationOr0;

/** The server options podwire.dev/* annotations give (service time, response size, workers), or an error at the annotation. */
function serverOptions(a: Record<string, string>): { serviceTime: Distribution; responseSize: Distribution; workers: number; tls: TlsCertificateChain | null } | { at: string; message: string } {
  const st = a['podwire.dev/service-time'];
  const serviceTime: Distribution | null = st !== undefined ? parseDistribution(st) : { kind: 'constant', value: 0 };
  if (serviceTime === null) return { at: 'podwire.dev/service-time', message: `"${st}" is not a distribution like exponential:5ms` };
  const rs = a['podwire.dev/response-size'];
  const responseSize: Distribution | null = rs === undefined ? { kind: 'constant', value: 64 } : /^\d+$/.test(rs) ? { kind: 'constant', value: Number(rs) } : parseDistribution(rs, true);
  if (responseSize === null) return { at: 'podwire.dev/response-size', message: `"${rs}" is not a byte count or a distribution like uniform:100,900` };
  const typical = responseSize.kind === 'constant' ? responseSize.value : responseSize.kind === 'uniform' ? responseSize.max : responseSize.kind === 'lognormal' || responseSize.kind === 'pareto' ? 0 : responseSize.mean;
  if (typical > MAX_RESPONSE_BYTES) return { at: 'podwire.dev/response-size', message: `"${rs}" is over the largest response podwire sends (${MAX_RESPONSE_BYTES} bytes, 64 MiB)` };
  const workers = Number(a['podwire.dev/workers'] ?? '1');
  if (!Number.isInteger(workers) || workers < 1) return { at: 'podwire.dev/workers', message: `"${a['podwire.dev/workers']}" is not a positive integer` };
  const sigterm = a[SIGTERM_ANNOTATION];
  if (sigterm !== undefined && !(SIGTERM_ACTIONS as readonly string[]).includes(sigterm)) return { at: SIGTERM_ANNOTATION, message: `"${sigterm}" is not ${SIGTERM_ACTIONS.slice(0, -1).join(', ')} or ${SIGTERM_ACTIONS[SIGTERM_ACTIONS.length - 1]}` };
  const tlsText = a['podwire.dev/tls'];
  const tls = tlsText === undefined ? null : parseChainSpec(tlsText);
  if (tlsText !== undefined && tls === null) return { at: 'podwire.dev/tls', message: `"${tlsText}" is not a certificate chain like rsa2048, p256 or rsa2048:3` };
  return { serviceTime, responseSize, workers, tls };
}

/** The TLS context of an HTTPS server on `port` (its own rng stream; one certificate per server). */
function tlsContext(ctx: WorkloadContext, tcp: TcpLayer, port: number, chain: TlsCertificateChain): TlsServerContext {
  return new TlsServerContext(ctx.sim.rng.stream(`${tcp.stack.name}/tls-server/${port}`), () => chain);
}

/** True when the pod declares `port` under an https name (https, https-web), or an httpGet probe with scheme HTTPS targets it. */
function httpsPort(pod: ClusterPod, port: number): boolean {
  return pod.spec.containers.some((c) => c.ports.some((p) => p.containerPort === port && p.protocol === 'TCP' && /^https(-|$)/.test(p.name ?? ''))) || httpsProbed(pod, port);
}

/** An endpoint recorder that joins stats.json only once its server does some work. */
function lazyEndpoint(ctx: WorkloadContext, name: string, workers: number): EndpointRecorder {
  let ep: EndpointRecorder | null = null;
  const get = (): EndpointRecorder => (ep ??= ctx.stats.endpoint(name, workers));
  return { served: () => get().served(), probed: () => get().probed(), busyChanged: (b) => get().busyChanged(b), queueChanged: (q) => get().queueChanged(q) };
}

/** Starts the apps pods run: the one their podwire.dev/app annotation names, else a listener on every declared port. */
export function startPodApps(ctx: WorkloadContext, tr: Transports): void {
  const pods = ctx.cluster?.pods ?? [];
  // CoreDNS pods (k8s-app=kube-dns) run the DNS server: startDns's, or one a test starts itself.
  const dnsPods = new Set(corednsPodsOf(pods));
  for (const pod of pods) if (!dnsPods.has(pod) || pod.annotations['podwire.dev/app'] !== undefined) startPodApp(ctx, tr, pod);
  ctx.stats.addCounters('no-listener', () => (tr.noListener.size > 0 ? Object.fromEntries(tr.noListener) : null));
}

/** Starts one pod's app (also for a pod a controller creates while the run goes on). */
export function startPodApp(ctx: WorkloadContext, tr: Transports, pod: ClusterPod): void {
  if (pod.annotations['podwire.dev/app'] !== undefined) startAnnotatedApp(ctx, tr, pod);
  else startDeclaredPorts(ctx, tr, pod);
}

/** Each containerPort answers (k8s/container-ports): HTTP, a request/response server, or a UDP echo. */
function startDeclaredPorts(ctx: WorkloadContext, tr: Transports, pod: ClusterPod): void {
  const where = ['metadata', 'annotations'];
  const listeners = defaultListeners(pod, ctx.services);
  if (listeners.length === 0) return;
  const o = serverOptions(pod.annotations);
  if ('at' in o) return ctx.manifestErr(pod, [...where, o.at], o.message);
  const req = Number(pod.annotations['podwire.dev/request-size'] ?? '64');
  if (!Number.isInteger(req) || req < 1) return ctx.manifestErr(pod, [...where, 'podwire.dev/request-size'], `"${pod.annotations['podwire.dev/request-size']}" is not a positive byte count`);
  for (const l of listeners) if (l.app === 'udp-echo') new UdpEchoServer(tr.udpOf(pod.ns), l.port, pod.name);
  const tcpListeners = listeners.filter((l) => l.app !== 'udp-echo');
  if (tcpListeners.length === 0) return;
  // The container's TCP servers run through the container runtime, so probes can restart them.
  const tcp = tr.tcpOf(pod.ns);
  const ep = lazyEndpoint(ctx, pod.name, o.workers);
  const start = (): ContainerProcess => {
    const servers = tcpListeners.map((l) =>
      l.app === 'http'
        ? new HttpServer(tcp, { port: l.port, identity: pod.name, workers: o.workers, serviceTime: o.serviceTime, responseSize: o.responseSize, tls: httpsPort(pod, l.port) ? tlsContext(ctx, tcp, l.port, o.tls ?? certificateChain('rsa2048')) : null }, ep)
        : new TcpRrServer(tcp, { port: l.port, requestSize: req, responseSize: o.responseSize, serviceTime: o.serviceTime, identity: pod.name }, ep),
    );
    return { stop: () => servers.forEach((x) => x.stop()), setToxic: (t) => servers.forEach((x) => x instanceof HttpServer && x.setToxic(t)), drain: (idle) => drainAll(servers, idle) };
  };
  ctx.runContainer(pod, { tcp, ports: tcpListeners.map((l) => l.port), start });
}

/** Graceful shutdown of a container's servers: HTTP servers drain, others stop at once; `idle` once all are done. */
function drainAll(servers: readonly (HttpServer | TcpRrServer)[], idle: () => void): void {
  let left = servers.length;
  const one = (): void => {
    if (--left === 0) idle();
  };
  for (const x of servers) {
    if (x instanceof HttpServer) x.drain(one);
    else {
      x.stop();
      one();
    }
  }
}

/** The app a podwire.dev/app annotation names, on the first fitting containerPort or podwire.dev/port. */
function startAnnotatedApp(ctx: WorkloadContext, tr: Transports, pod: ClusterPod): void {
  const a = pod.annotations;
  const app = a['podwire.dev/app']!;
  const where = ['metadata', 'annotations'];
  const ports = pod.spec.containers.flatMap((c) => c.ports);
  const portText = a['podwire.dev/port'];
  const port = portText !== undefined ? Number(portText) : (ports.find((p) => p.protocol === (app === 'udp-echo' ? 'UDP' : 'TCP')) ?? ports[0])?.containerPort;
  if (port === undefined || !(port >= 1 && port <= 65535)) return ctx.manifestErr(pod, where, `pod ${pod.name}: podwire.dev/app needs a containerPort or podwire.dev/port`);
  if (app === 'udp-echo') {
    new UdpEchoServer(tr.udpOf(pod.ns), port, pod.name);
    return;
  }
  if (app === INGRESS_NGINX_APP && ctx.ingress) return startProxyPod(ctx, tr, pod, ctx.ingress, INGRESS_PROXY);
  if (app === NGF_APP && ctx.gateway) return startProxyPod(ctx, tr, pod, ctx.gateway, NGF_PROXY);
  if (app !== 'http') return ctx.manifestErr(pod, [...where, 'podwire.dev/app'], `unknown app "${app}" (http, udp-echo)`);
  const o = serverOptions(a);
  if ('at' in o) return ctx.manifestErr(pod, [...where, o.at], o.message);
  const ep = ctx.stats.endpoint(pod.name, o.workers);
  const tcp = tr.tcpOf(pod.ns);
  ctx.runContainer(pod, { tcp, ports: [port], start: () => new HttpServer(tcp, { port, identity: pod.name, workers: o.workers, serviceTime: o.serviceTime, responseSize: o.responseSize, tls: o.tls !== null ? tlsContext(ctx, tcp, port, o.tls) : null }, ep) });
}

/** What differs between the controllers whose pods run nginx: the counters' name, the status port, whose proxy headers. */
interface ProxyPodKind {
  counters: string;
  healthPort: number;
  flavour: 'ingress-nginx' | 'nginx-gateway-fabric';
}
const INGRESS_PROXY: ProxyPodKind = { counters: 'ingress-nginx', healthPort: INGRESS_NGINX_HEALTH_PORT, flavour: 'ingress-nginx' };
const NGF_PROXY: ProxyPodKind = { counters: 'nginx-gateway', healthPort: NGF_HEALTH_PORT, flavour: 'nginx-gateway-fabric' };

/** Proxies of a controller's pods, by counters name and pod name (stats.json counters.ingress-nginx, counters.nginx-gateway). */
const proxyCounters = new WeakMap<WorkloadContext, Map<string, Map<string, L7ProxyCounters>>>();

/** A controller pod's nginx: an L7 proxy on :80 and :443 fed by the controller's routing table, restartable by the kubelet. */
function startProxyPod(ctx: WorkloadContext, tr: Transports, pod: ClusterPod, controller: { attach(s: RoutingTableSink): void; detach(s: RoutingTableSink): void }, kind: ProxyPodKind): void {
  const tcp = tr.tcpOf(pod.ns);
  let byKind = proxyCounters.get(ctx);
  if (!byKind) proxyCounters.set(ctx, (byKind = new Map()));
  let counters = byKind.get(kind.counters);
  if (!counters) {
    byKind.set(kind.counters, (counters = new Map()));
    const all = counters;
    ctx.stats.addCounters(kind.counters, () => {
      const out: Record<string, number> = {};
      for (const [name, c] of all) {
        out[`${name}/requests`] = c.requests;
        out[`${name}/retries`] = c.retries;
        out[`${name}/upstream-connections`] = c.upstreamConnections;
        for (const [status, n] of Object.entries(c.responses)) out[`${name}/status-${status}`] = n;
      }
      return out;
    });
  }
  const start = (): ContainerProcess => {
    const proxy = new L7Proxy(tcp, { port: 80, httpsPort: 443, identity: pod.name, flavour: kind.flavour });
    // The controller's own status port (/healthz, /readyz, /metrics), which its probes ask.
    const health = new HttpServer(tcp, { port: kind.healthPort, identity: pod.name });
    counters.set(pod.name, proxy.counters);
    controller.attach(proxy);
    return {
      stop: () => {
        proxy.stop();
        health.stop();
        controller.detach(proxy);
      },
    };
  };
  ctx.runContainer(pod, { tcp, ports: [80, 443, kind.healthPort], start });
}

/** A static authoritative zone (name → A), with NXDOMAIN for other names, as a provider's DNS answers. */
function staticZone(records: Record<string, string>): DnsZone {
  const table = new Map<string, Ipv4>();
  for (const [name, ip] of Object.entries(records)) table.set(name.toLowerCase().replace(/\.$/, ''), parseIpv4(ip)!);
  const soa = rr('.', 60, { kind: 'SOA', mname: 'ns.example.', rname: 'hostmaster.example.', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 60 });
  return (q) => {
    const name = q.name.toLowerCase().replace(/\.$/, '');
    const a = table.get(name);
    if (a === undefined) return denial(DnsRcode.NXDOMAIN, soa);
    if (q.type !== DnsType.A) return denial(DnsRcode.NOERROR, soa);
    return { rcode: DnsRcode.NOERROR, authoritative: true, answers: [rr(q.name, 300, { kind: 'A', address: a })], authority: [], additional: [], chase: null };
  };
}

/** Starts CoreDNS in its pods and the DNS servers of external hosts that have records. */
export function startDns(ctx: WorkloadContext, tr: Transports): void {
  const c = ctx.cluster;
  const spec = ctx.clusterSpec;
  if (c === null || spec === null) return;
  for (const h of spec.externalHosts) {
    if (h.dnsRecords === undefined) continue;
    const host = c.hosts.find((x) => x.name === h.name);
    if (host) new DnsServer(tr.udpOf(host.ns), { zone: staticZone(h.dnsRecords), upstream: [], recursionAvailable: true, identity: host.name, tcp: tr.tcpOf(host.ns) });
  }
  const publicServer = startPublicDnsServer(ctx, tr);
  // CoreDNS runs when the scenario asks for cluster DNS (spec.cluster.dns); pods merely labelled
  // k8s-app=kube-dns without it are left alone (a test or a user may start their own server there).
  const coredns = spec.dns?.enabled ? corednsPodsOf(c.pods) : [];
  if (coredns.length > 0) {
    // Without upstreams of its own, CoreDNS forwards to the public DNS server when there is one.
    const upstream = (spec.dns?.upstream ?? []).map((x) => parseIpv4(x)!);
    if (upstream.length === 0 && publicServer !== null) upstream.push(publicServer);
    const dns = startClusterDns({ pods: c.pods, services: ctx.dnsServices(), corednsPods: coredns, udpOf: (ns) => tr.udpOf(ns), tcpOf: (ns) => tr.tcpOf(ns), upstream });
    ctx.dnsServers?.push(...dns.servers);
  }
}

/** spec.dns: the authoritative server on its host, serving the zones and every DNSEndpoint in the store. Returns its address. */
function startPublicDnsServer(ctx: WorkloadContext, tr: Transports): Ipv4 | null {
  const host = ctx.cluster?.outside?.dnsServer;
  const d = ctx.publicDns;
  if (!host || !d) return null;
  if (ctx.clusterSpec?.externalHosts.some((h) => h.name === host.name && h.dnsRecords !== undefined)) {
    ctx.err(['dns', 'server', 'name'], `host ${host.name} already serves its dnsRecords on port 53`);
    return null;
  }
  const zones = d.zones.map((z) => ({
    origin: z.origin.toLowerCase().replace(/\.$/, ''),
    ttl: z.ttl,
    negativeTtl: z.negativeTtl,
    records: z.records.map((r) => {
      const values = r.values ?? (r.value !== undefined ? [r.value] : []);
      return { name: absoluteName(r.name, z.origin), type: r.type, values: r.type === 'CNAME' ? values.map((v) => absoluteName(v, z.origin, true)) : values, ttl: r.ttl ?? z.ttl };
    }),
  }));
  checkZones(ctx, d);
  const api = ctx.api ?? null;
  const az = new AuthoritativeZones(zones, api ? () => dnsEndpointRecords(api) : () => [], host.name);
  new DnsServer(tr.udpOf(host.ns), { zone: az.zone, upstream: [], identity: host.name, tcp: tr.tcpOf(host.ns) });
  return host.ip;
}

/** spec.dns.zones: one origin once, values that fit the type, no CNAME beside other data at a name (RFC 1034 §3.6.2). */
function checkZones(ctx: WorkloadContext, d: PublicDnsSpecT): void {
  const origins = new Set<string>();
  d.zones.forEach((z, zi) => {
    const origin = z.origin.toLowerCase().replace(/\.$/, '');
    if (origins.has(origin)) ctx.err(['dns', 'zones', zi, 'origin'], `zone ${origin} is declared twice`);
    origins.add(origin);
    const seen = new Map<string, string>();
    z.records.forEach((r, ri) => {
      const at = ['dns', 'zones', zi, 'records', ri];
      const vals = r.values ?? (r.value !== undefined ? [r.value] : []);
      const name = absoluteName(r.name, z.origin);
      const other = seen.get(name);
      if (other !== undefined && (other === 'CNAME' || r.type === 'CNAME')) ctx.err([...at, 'name'], `${name} already has a ${other} record: a CNAME cannot share its name`);
      seen.set(name, r.type);
      if (r.values !== undefined && r.value !== undefined) ctx.err([...at, 'value'], 'give value or values, not both');
      else if (vals.length === 0) ctx.err(at, 'a record needs value or values');
      else if (r.type === 'A') vals.forEach((v, vi) => parseIpv4(v) === null && ctx.err([...at, r.values ? 'values' : 'value', ...(r.values ? [vi] : [])], `"${v}" is not an IPv4 address`));
      else if (vals.length > 1) ctx.err([...at, 'values'], 'a CNAME has exactly one target');
    });
  });
}

/** The stub resolver a sender uses: a pod's ClusterFirst resolv.conf, or a host's nameserver; null when none. */
export function resolverFor(ctx: WorkloadContext, tr: Transports, ref: string, ns: Namespace): StubResolver | null {
  const c = ctx.cluster;
  const pod = ref.startsWith('pod/') || !ref.includes('/') ? c?.pods.find((p) => p.ns === ns && !p.hostNetwork) : undefined;
  if (pod) {
    // The resolv.conf kubelet writes for it: dnsPolicy, dnsConfig, the cluster DNS, the node's resolv.conf.
    const dns = ctx.services.find((s) => s.name === 'kube-dns' && s.namespace === 'kube-system')?.clusterIP;
    const d = podDns({ namespace: pod.namespace, hostNetwork: pod.hostNetwork, dnsPolicy: pod.spec.dnsPolicy, dnsConfig: pod.spec.dnsConfig }, dns != null ? [dns] : [], CLUSTER_DOMAIN, nodeResolv(ctx));
    for (const e of d.events) ctx.manifestWarn?.(pod, ['spec', 'dnsPolicy' in pod.spec ? 'dnsPolicy' : 'dnsConfig'], `pod ${pod.name}: ${e}`);
    const conf = parseResolvConf(resolvConfText(d));
    if (conf.nameservers.length === 0) return null;
    return new StubResolver(tr.udpOf(ns), conf, { tcp: () => tr.tcpOf(ns) });
  }
  // Hosts outside the cluster: their nameserver (the public DNS server by default), behind a host cache.
  const outside = c?.outside?.hosts.find((x) => x.ns === ns);
  const h = ctx.clusterSpec?.externalHosts.find((x) => x.name === ns.name);
  const publicServer = c?.outside?.dnsServer?.ip;
  const nameserver = outside ? outside.nameserver : h?.nameserver !== undefined ? parseIpv4(h.nameserver) : h && publicServer !== undefined ? publicServer : null;
  if (nameserver != null) return new StubResolver(tr.udpOf(ns), parseResolvConf(`nameserver ${formatIpv4(nameserver)}\n`), { cache: true, tcp: () => tr.tcpOf(ns) });
  return null;
}

/** A node's /etc/resolv.conf (kubelet --resolv-conf): the upstream servers CoreDNS forwards to (spec.cluster.dns.upstream, else the public DNS server). */
function nodeResolv(ctx: WorkloadContext): HostResolv {
  const upstream = ctx.clusterSpec?.dns?.upstream ?? [];
  const pub = ctx.cluster?.outside?.dnsServer?.ip;
  return { nameservers: upstream.length > 0 ? [...upstream] : pub !== undefined ? [formatIpv4(pub)] : [], searches: [], options: [] };
}

/** Resolves `NAME`, `pod/NAME`, `node/NAME`, `host/NAME` to a namespace. */
export function nsOf(ctx: Pick<WorkloadContext, 'namespaces' | 'cluster'>, ref: string): Namespace | null {
  const slash = ref.indexOf('/');
  if (slash < 0) return ctx.namespaces.get(ref) ?? null;
  const kind = ref.slice(0, slash);
  const name = ref.slice(slash + 1);
  const c = ctx.cluster;
  if (kind === 'pod') return c?.pods.find((p) => p.name === name || `${p.name}.${p.namespace}` === name)?.ns ?? null;
  if (kind === 'node') return c?.nodes.find((n) => n.name === name)?.ns ?? null;
  if (kind === 'host') return ctx.namespaces.get(name) ?? null;
  return null;
}

/** The address a reference names: a host's first address, a pod's IP, a node's IP, a service's ClusterIP. */
export function addrOf(ctx: WorkloadContext, ref: string): Ipv4 | null {
  const ip = parseIpv4(ref);
  if (ip !== null) return ip;
  const c = ctx.cluster;
  if (ref.startsWith('pod/')) return c?.pods.find((p) => p.name === ref.slice(4) || `${p.name}.${p.namespace}` === ref.slice(4))?.ip ?? null;
  if (ref.startsWith('node/')) return c?.nodes.find((n) => n.name === ref.slice(5))?.ip ?? null;
  if (ref.startsWith('svc/')) {
    const [name, ns = 'default'] = ref.slice(4).split('.') as [string, string?];
    return ctx.services.find((s) => s.name === name && s.namespace === ns)?.clusterIP ?? null;
  }
  const ns = nsOf(ctx, ref);
  const a = ns?.addrs.find((x) => x.dev !== ns.lo && x.prefix < 32);
  return a ? a.addr : null;
}

/** Why `ref` has no address (addrOf gave null), as one phrase: what is missing, or what exists instead. */
export function noAddressReason(ctx: WorkloadContext, ref: string): string {
  if (ref.startsWith('svc/')) {
    const [name, ns = 'default'] = ref.slice(4).split('.') as [string, string?];
    const svc = ctx.services.find((s) => s.name === name && s.namespace === ns);
    if (svc) return `Service ${ns}/${name} has no cluster IP (headless): address its pods`;
    const elsewhere = ctx.services.filter((s) => s.name === name).map((s) => `svc/${s.name}.${s.namespace}`);
    return `no Service ${name} in namespace ${ns}${elsewhere.length > 0 ? ` (did you mean ${elsewhere.slice(0, 3).join(', ')}?)` : ''}`;
  }
  if (ref.startsWith('pod/')) return `no pod ${ref.slice(4)}`;
  if (ref.startsWith('node/')) return `no node ${ref.slice(5)}`;
  return `"${ref}" has no address`;
}
