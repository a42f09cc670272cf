// scenario/traffic — the traffic flows of a scenario: ping, UDP probes, HTTP load (open or closed
// loop, from hosts, pods or workloads, Job and CronJob pods included), DNS lookups and TCP
// request/response. Layer: scenario. The programs pods serve are in scenario/workloads.ts.
import { asciiDomain, idnaProblem } from './schema-base.js';
import { parseDistribution } from '../core/distributions.js';
import { HttpLoadGenerator, type LoadPattern } from '../app/load-generator.js';
import { PingApp } from '../app/ping.js';
import { UdpEchoServer, UdpProbeClient } from '../app/udp-probe.js';
import { TcpRrClient } from '../app/tcp-rr.js';
import { addressOwner, nameOfNamespace } from './endpoint-names.js';
import type { ClusterPod } from '../k8s/cluster.js';
import type { Namespace } from '../net/namespace.js';
import { formatIpv4, parseIpv4 } from '../wire/ipv4-addr.js';
import type { Ipv4 } from '../wire/types.js';
import { MAX_FLOW_NAME, type TrafficSpecT } from './schema.js';
import { fnv32a } from '../k8s/names.js';
import { tcpTargets } from '../k8s/container-ports.js';
import { StubResolver } from '../app/dns-resolver.js';
import { addrOf, dur, noAddressReason, nsOf, resolverFor, type Transports, type WorkloadContext, type WorldFlow } from './workloads.js';

/** A flow's name made from its type, sender and target, cut to MAX_FLOW_NAME with a hash of the whole (NAME.hgrm is one file name). */
function derivedFlowName(full: string): string {
  return full.length <= MAX_FLOW_NAME ? full : `${full.slice(0, MAX_FLOW_NAME - 9)}-${fnv32a(full).toString(16).padStart(8, '0')}`;
}

/** Creates every traffic flow. */
export function startTraffic(ctx: WorkloadContext, tr: Transports, traffic: TrafficSpecT[]): WorldFlow[] {
  const flows: WorldFlow[] = [];
  const echoServers = new Map<string, UdpEchoServer>();
  traffic.forEach((t, ti) => {
    const at = ['traffic', ti];
    const target = t.type === 'dns' ? t.lookup : t.to;
    const name = t.name ?? derivedFlowName(`${t.type}-${t.from.replace('/', '-')}-${target.replace(/[^a-z0-9.]/gi, '-')}`);
    if (flows.some((f) => f.name === name)) return ctx.err([...at, 'name'], `duplicate flow name "${name}"`);
    const rec = ctx.stats.flow(name);
    const flowId = ti + 1;
    if (t.type === 'http') return startHttp(ctx, tr, t, at, name, flowId, flows);
    if (t.type === 'dns') return startDnsLookups(ctx, tr, t, at, name, flows);
    if (t.type === 'tcp') return startTcp(ctx, tr, t, at, name, flowId, flows);
    const ns = nsOf(ctx, t.from);
    if (!ns) return ctx.err([...at, 'from'], `unknown sender "${t.from}" (a host, pod/NAME, node/NAME or host/NAME)`);
    const interval = t.rate !== undefined ? Math.round(1e9 / t.rate) : t.interval !== undefined ? dur(t.interval) : 1e9;
    if (t.type === 'ping') {
      const dst = addrOf(ctx, t.to);
      if (dst === null) return ctx.err([...at, 'to'], `"${t.to}" is neither an IPv4 address nor something with an address`);
      const app = new PingApp(ns, { dst, count: t.count, intervalNs: interval, startNs: dur(t.start), size: t.size, timeoutNs: dur(t.timeout), ttl: t.ttl, tos: t.tos, pmtudisc: t.pmtudisc ?? 'want', flowId, endpointOf: (a) => addressOwner(ctx, a) }, rec, name);
      flows.push({ name, type: 'ping', from: t.from, to: t.to, counts: app.counts });
      return;
    }
    const colon = t.to.lastIndexOf(':');
    const host = t.to.slice(0, colon);
    const port = Number(t.to.slice(colon + 1));
    if (port < 1 || port > 65535) return ctx.err([...at, 'to'], `port ${port} is out of range 1-65535`);
    const dst = addrOf(ctx, host);
    if (dst === null) return ctx.err([...at, 'to'], `"${host}" is neither an IPv4 address nor something with an address`);
    if (t.echo) {
      // The echo server runs where the datagrams end up: the owner of the address, or, for a
      // Service's ClusterIP, every endpoint of the matching UDP port.
      const svcPort = ctx.services.find((sv) => sv.clusterIP === dst)?.ports.find((p) => p.port === port && p.protocol === 'UDP');
      const targets: [Ipv4, number][] = svcPort ? svcPort.endpoints.map((e) => [e.ip, e.port]) : [[dst, port]];
      for (const [ip, p] of targets) {
        const owner = [...ctx.namespaces.values()].find((n) => n.isLocal(ip) && n.addrs.some((a) => a.addr === ip));
        if (!owner) return ctx.err([...at, 'to'], `no host owns ${formatIpv4(ip)}, so no echo server can run there (set echo: false)`);
        const key = `${owner.name}:${p}`;
        if (echoServers.has(key)) continue;
        try {
          echoServers.set(key, new UdpEchoServer(tr.udpOf(owner), p, nameOfNamespace(ctx, owner)));
        } catch (e) {
          // The pod already serves that port (a declared UDP containerPort runs an echo server): it answers.
          if (!(e instanceof Error && e.message.startsWith('EADDRINUSE'))) throw e;
        }
      }
    }
    const app = new UdpProbeClient(tr.udpOf(ns), { dst, port, count: t.count, intervalNs: interval, startNs: dur(t.start), size: t.size, timeoutNs: dur(t.timeout), flowId }, rec);
    flows.push({ name, type: 'udp', from: t.from, to: t.to, counts: app.counts });
  });
  return flows;
}

/** Where an http flow goes: `to` as svc/NAME:PORT, pod/…, node/…, IP:PORT or a URL (null after an error). */
function httpTarget(ctx: WorkloadContext, t: Extract<TrafficSpecT, { type: 'http' }>, at: (string | number)[]): { host: string; port: number; addr: Ipv4 | null; path: string; tls: boolean } | null {
  const url = /^(https?):\/\/([^/:]+)(?::(\d+))?(\/.*)?$/.exec(t.to);
  let target: { host: string; port: number; addr: Ipv4 | null; path: string; tls: boolean };
  if (url) {
    const tls = url[1] === 'https';
    const host = asciiDomain(url[2]!); // curl sends (and resolves) an IDN host as its xn-- form
    if (host === null) return ctx.err([...at, 'to'], idnaProblem(url[2]!)), null;
    target = { tls, host, port: url[3] ? Number(url[3]) : tls ? 443 : 80, path: url[4] ?? t.path, addr: parseIpv4(host) };
  } else {
    const colon = t.to.lastIndexOf(':');
    if (colon < 0) return ctx.err([...at, 'to'], 'expected svc/NAME:PORT, pod/NAME:PORT, node/NAME:PORT, IP:PORT or http(s)://HOST[:PORT]/PATH'), null;
    const ref = t.to.slice(0, colon);
    const addr = addrOf(ctx, ref);
    if (addr === null) return ctx.err([...at, 'to'], noAddressReason(ctx, ref)), null;
    target = { tls: false, host: ref.startsWith('svc/') ? ref.slice(4) : formatIpv4(addr), port: Number(t.to.slice(colon + 1)), path: t.path, addr };
  }
  if (!(target.port >= 1 && target.port <= 65535)) return ctx.err([...at, 'to'], `port ${target.port} is out of range 1-65535`), null;
  return target;
}

/**
 * A warning when the pods a flow reaches answer in another protocol: an http flow at the generic TCP
 * request/response server (non-HTTP answers: protocol errors), a tcp flow at an HTTP server (its opaque
 * request bytes are no HTTP request: no answer, timeouts). Flows to names DNS resolves are checked when
 * the name is a Service's.
 */
function warnProtocol(ctx: WorkloadContext, to: string, at: (string | number)[], target: { host: string; port: number; addr: Ipv4 | null }, flow: 'http' | 'tcp'): void {
  if (!ctx.cluster || !ctx.warn) return;
  const name = to.startsWith('svc/') || target.addr === null ? target.host.replace(/^svc\//, '') : null;
  const found = tcpTargets(ctx.cluster.pods, ctx.services, ctx.cluster.nodes.map((n) => n.ip), target.addr, target.port, name).filter((f) => (flow === 'http' ? f.app === 'tcp-rr' : f.app === 'http'));
  if (found.length === 0) return;
  const pods = found.slice(0, 3).map((f) => `${f.pod.name}:${f.port}`).join(', ') + (found.length > 3 ? ` and ${found.length - 3} more` : '');
  const why = `${found[0]!.reason}`;
  ctx.warn(
    [...at, 'to'],
    flow === 'http'
      ? `${to} reaches ${pods}, where the pod runs a generic TCP request/response server (${why}), not HTTP: the flow's requests get non-HTTP answers and fail as protocol errors. Name the containerPort http (or web, http-*), set appProtocol: http on the Service port, or annotate the pod podwire.dev/app: http`
      : `${to} reaches ${pods}, where the pod serves HTTP (${why}): a tcp flow's request bytes are no HTTP request, so no answer comes and its requests time out. Send an http flow there, or name the containerPort for its protocol (tcp, redis, grpc, ...)`,
  );
}

function startHttp(ctx: WorkloadContext, tr: Transports, t: Extract<TrafficSpecT, { type: 'http' }>, at: (string | number)[], name: string, flowId: number, flows: WorldFlow[]): void {
  const senders = sendersOf(ctx, t.from, t.type);
  if (typeof senders === 'string') return ctx.err([...at, 'from'], senders);
  const target = httpTarget(ctx, t, at);
  if (target === null) return;
  const { host, port, addr, path, tls } = target;
  warnProtocol(ctx, t.to, at, target, 'http');
  const headers: [string, string][] | undefined = t.headers !== undefined ? Object.entries(t.headers) : undefined;
  let pattern: LoadPattern;
  if (t.users !== undefined) {
    const think = parseDistribution(t.thinkTime);
    if (think === null) return ctx.err([...at, 'thinkTime'], `"${t.thinkTime}" is not a distribution`);
    pattern = { kind: 'closed', users: t.users, thinkTime: think };
  } else pattern = { kind: 'open', arrival: t.arrival, rate: t.rate ?? 10 };
  if (t.count === undefined && t.duration === undefined) return ctx.err([...at], 'an http flow needs count or duration');
  const rec = ctx.stats.flow(name);
  // Per-request phases: asked for, or by default for users on the internet.
  rec.reportPhases = t.phases ?? (senders.length > 0 && senders.every((ns) => ctx.cluster?.outside?.hosts.some((h) => h.ns === ns && h.onInternet) === true));
  const counts = { sent: 0, received: 0, lost: 0, errors: 0 };
  const gens: HttpLoadGenerator[] = [];
  const resolvers = senders.map((ns) => (addr === null ? resolverFor(ctx, tr, workloadPodsOf(ctx, t.from) !== null ? 'pod/' : t.from, ns) : null));
  if (addr === null && resolvers.some((r) => r === null)) return ctx.err([...at, 'to'], `resolving "${host}" needs DNS: enable spec.cluster.dns for pods, or give the sending host a nameserver`);
  const addSender = (ns: Namespace, i: number, start: number, resolver: StubResolver | null): HttpLoadGenerator => {
    const g = new HttpLoadGenerator(
      tr.tcpOf(ns),
      {
        name: senders.length > 1 || i > 0 ? `${name}/${i}` : name,
        pattern,
        target: { addr, port, host, path, ...(tls ? { tls } : {}), ...(headers !== undefined ? { headers } : {}) },
        ...(t.count !== undefined ? { count: t.count } : {}),
        ...(t.duration !== undefined ? { duration: dur(t.duration) } : {}),
        start,
        timeout: dur(t.timeout),
        retries: t.retries,
        connection: t.connection,
        ...(t.maxConnections !== undefined ? { maxConnections: t.maxConnections } : {}),
        flowId,
        resolver,
      },
      rec,
    );
    gens.push(g);
    return g;
  };
  senders.forEach((ns, i) => addSender(ns, i, dur(t.start), resolvers[i] ?? null));
  // A Job's pods run until their share of the traffic is done (k8s/job-controller.ts): exit 1 when
  // any request failed. Pods the Job controller creates later send their share from when they start.
  // cronjob/NAME: the same for the pods of every Job the CronJob creates (none run at the start).
  const jobs = ctx.jobs;
  const jobPods = t.from.startsWith('job/') || t.from.startsWith('cronjob/') ? workloadPodsOf(ctx, t.from) : null;
  if (jobs && jobPods) {
    const drive = (pod: ClusterPod, g: HttpLoadGenerator): void => {
      jobs.trafficDriven.add(pod);
      g.onDone = () => jobs.trafficDone(pod, g.counters.failed > 0);
    };
    jobPods.forEach((pod, i) => drive(pod, gens[i]!));
    jobs.podCreatedHooks.push((pod) => {
      if (!ownedBy(pod, t.from)) return;
      const res = addr === null ? resolverFor(ctx, tr, 'pod/', pod.ns) : null;
      drive(pod, addSender(pod.ns, gens.length, ctx.sim.now, res));
    });
  }
  // Counts are read at report time through getters over the generators.
  Object.defineProperties(counts, {
    sent: { get: () => gens.reduce((a, g) => a + g.counters.issued, 0), enumerable: true },
    received: { get: () => gens.reduce((a, g) => a + g.counters.succeeded, 0), enumerable: true },
    errors: { get: () => gens.reduce((a, g) => a + g.counters.failed, 0), enumerable: true },
    lost: { get: () => rec.errors.timeout, enumerable: true },
  });
  flows.push({ name, type: 'http', from: t.from, to: t.to, counts });
}

/** Traffic `from` kinds that name a workload, and the owner kind of its pods. */
const WORKLOAD_KIND: Record<string, string> = { deployment: 'Deployment', replicaset: 'ReplicaSet', replicationcontroller: 'ReplicaSet', statefulset: 'StatefulSet', daemonset: 'DaemonSet', job: 'Job', cronjob: 'CronJob' };

/** The pods of a `deployment/NAME` (statefulset/, daemonset/, replicaset/, job/, cronjob/) reference; null when `ref` names no workload kind. */
export function workloadPodsOf(ctx: Pick<WorkloadContext, 'cluster'>, ref: string): ClusterPod[] | null {
  const slash = ref.indexOf('/');
  if (slash <= 0 || WORKLOAD_KIND[ref.slice(0, slash)] === undefined) return null;
  return (ctx.cluster?.pods ?? []).filter((p) => ownedBy(p, ref));
}

/** True when `pod` belongs to the workload `ref` names (NAME or NAME.NAMESPACE); cronjob/: a pod of one of its Jobs. */
function ownedBy(pod: ClusterPod, ref: string): boolean {
  const slash = ref.indexOf('/');
  const kind = WORKLOAD_KIND[ref.slice(0, slash)];
  const name = ref.slice(slash + 1);
  const o = pod.owner;
  if (o === null || kind === undefined) return false;
  const owner = kind === 'CronJob' ? (o.kind === 'Job' ? o.cronJob : undefined) : o.kind === kind ? o.name : undefined;
  return owner !== undefined && (owner === name || `${owner}.${pod.namespace}` === name);
}

/** The namespaces a flow sends from: every pod of a workload, or the one host / pod / node named; else why not. */
function sendersOf(ctx: WorkloadContext, from: string, type: TrafficSpecT['type']): Namespace[] | string {
  if (from.startsWith('cronjob/')) {
    // Its Jobs' pods join as the CronJob controller creates them (http traffic only; startHttp's hook).
    const name = from.slice(8);
    if (type !== 'http') return `from: cronjob/ sends http traffic only (its pods start later), not ${type}`;
    if (!ctx.jobs) return `cronjob/${name} needs the control plane (its Jobs are created while the run goes on)`;
    const known = (ctx.cluster?.manifests ?? []).some((m) => {
      const md = m.value['metadata'] as { name?: string; namespace?: string } | undefined;
      return m.kind === 'CronJob' && (md?.name === name || `${md?.name}.${md?.namespace ?? 'default'}` === name);
    });
    return known ? [] : `no CronJob "${name}"`;
  }
  const pods = workloadPodsOf(ctx, from);
  if (pods !== null) return pods.length > 0 ? pods.map((p) => p.ns) : `no pods of ${WORKLOAD_KIND[from.slice(0, from.indexOf('/'))]} "${from.slice(from.indexOf('/') + 1)}"`;
  const ns = nsOf(ctx, from);
  return ns ? [ns] : `unknown sender "${from}"`;
}

function startDnsLookups(ctx: WorkloadContext, tr: Transports, t: Extract<TrafficSpecT, { type: 'dns' }>, at: (string | number)[], name: string, flows: WorldFlow[]): void {
  const senders = sendersOf(ctx, t.from, t.type);
  if (typeof senders === 'string') return ctx.err([...at, 'from'], senders);
  const resolvers = senders.map((ns) => resolverFor(ctx, tr, workloadPodsOf(ctx, t.from) !== null ? 'pod/' : t.from, ns));
  if (resolvers.some((r) => r === null)) return ctx.err([...at, 'from'], `${t.from} has no resolver: enable spec.cluster.dns, or give the host a nameserver`);
  const rec = ctx.stats.flow(name);
  const counts = { sent: 0, received: 0, lost: 0, errors: 0 };
  const sim = ctx.sim;
  for (const res of resolvers as StubResolver[]) {
    let n = 0;
    const once = (): void => {
      const started = sim.now;
      counts.sent++;
      rec.requestStarted();
      res.lookup(t.lookup, (r) => {
        if (r.addresses.length > 0) {
          counts.received++;
          rec.requestSucceeded(sim.now - started, null, 0);
          // The CoreDNS pod (or DNS host) whose reply was used, after retries (no connection; no bytes, as the flow counts none).
          if (r.servedBy !== null) rec.servedBy?.(r.servedBy, 0, false);
        } else {
          counts.errors++;
          rec.requestFailed('dns', sim.now - started);
        }
      });
      if (++n < t.count) sim.schedule(dur(t.interval), once);
    };
    sim.scheduleAt(dur(t.start), once);
  }
  flows.push({ name, type: 'dns', from: t.from, to: t.lookup, counts });
}

/** A TCP request/response flow (app/tcp-rr) from each sender; a target that is not an address is looked up by the sender's DNS. */
function startTcp(ctx: WorkloadContext, tr: Transports, t: Extract<TrafficSpecT, { type: 'tcp' }>, at: (string | number)[], name: string, flowId: number, flows: WorldFlow[]): void {
  const senders = sendersOf(ctx, t.from, t.type);
  if (typeof senders === 'string') return ctx.err([...at, 'from'], senders);
  const colon = t.to.lastIndexOf(':');
  const host = asciiDomain(t.to.slice(0, colon));
  if (host === null) return ctx.err([...at, 'to'], idnaProblem(t.to.slice(0, colon)));
  const port = Number(t.to.slice(colon + 1));
  if (!(port >= 1 && port <= 65535)) return ctx.err([...at, 'to'], `port ${port} is out of range 1-65535`);
  const addr = host.includes('/') || parseIpv4(host) !== null ? addrOf(ctx, host) : null;
  if (addr === null && (host.includes('/') || parseIpv4(host) !== null)) return ctx.err([...at, 'to'], noAddressReason(ctx, host));
  const podSender = workloadPodsOf(ctx, t.from) !== null ? 'pod/' : t.from;
  const resolvers = senders.map((ns) => (addr === null ? resolverFor(ctx, tr, podSender, ns) : null));
  if (addr === null && resolvers.some((r) => r === null)) return ctx.err([...at, 'to'], `resolving "${host}" needs DNS: enable spec.cluster.dns for pods, or give the sending host a nameserver`);
  warnProtocol(ctx, t.to, at, { host, port, addr }, 'tcp');
  const rec = ctx.stats.flow(name);
  const interval = t.rate !== undefined ? Math.round(1e9 / t.rate) : t.interval !== undefined ? dur(t.interval) : 1e9;
  const clients = senders.map((ns, i) => {
    const res = resolvers[i];
    const resolve = res ? (cb: (a: Ipv4 | null) => void) => res.lookup(host, (r) => cb(r.addresses[0] ?? null)) : null;
    return new TcpRrClient(tr.tcpOf(ns), { addr, port, resolve, count: t.count, intervalNs: interval, startNs: dur(t.start), timeoutNs: dur(t.timeout), requestSize: t.size, responseSize: t.responseSize, connection: t.connection, flowId }, rec);
  });
  const counts = { sent: 0, received: 0, lost: 0, errors: 0 };
  for (const k of ['sent', 'received', 'lost', 'errors'] as const) Object.defineProperty(counts, k, { get: () => clients.reduce((a, c) => a + c.counts[k], 0), enumerable: true });
  flows.push({ name, type: 'tcp', from: t.from, to: t.to, counts });
}
