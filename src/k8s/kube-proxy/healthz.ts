// k8s/kube-proxy/healthz — kube-proxy's two health servers (pkg/proxy/healthcheck): the proxy's own
// `/healthz` and `/livez` on --healthz-bind-address (0.0.0.0:10256), and for every LoadBalancer Service
// with externalTrafficPolicy Local a server on its healthCheckNodePort that says whether this node has
// a local ready endpoint. Cloud load balancers probe them (k8s/cloud-lb/health-checker.ts). Layer: k8s
// (imports core, wire, transport, k8s).
//
//   /healthz  200 while no queued update is older than healthTimeout (2 × syncPeriod = 60 s) and the
//             node is eligible (not deleted, no ToBeDeletedByClusterAutoscaler taint); else 503
//   /livez    the same without the node's eligibility
//   HCNP      200 iff local endpoints > 0 and the proxy is healthy; X-Load-Balancing-Endpoint-Weight
//
// The logic (ProxyHealth, the response builders) is pure so kube-proxy's own unit cases run against it
// (test/k8s/kube-proxy-healthz.test.ts); the servers answer real HTTP/1.1 over the node's TCP layer.
// Not modelled: per-IP-family status (one family here), the `/healthz` body's newer fields, the
// metrics endpoint on 10249.
import type { TimeNs } from '../../core/time.js';
import type { TcpLayer, TcpListener, TcpSocket } from '../../transport/tcp/index.js';
import { buildHttpResponse, httpHeader, HttpParser, type HttpHeader, type HttpRequest } from '../../wire/http.js';
import type { Simulator } from '../../core/simulator.js';
import type { Namespace } from '../../net/namespace.js';
import type { Node } from '../api/objects.js';
import type { ApiStore } from '../api/store.js';
import type { ClusterNode } from '../cluster.js';
import type { ServiceView } from '../services.js';

/** kube-proxy's --healthz-bind-address port. */
export const PROXY_HEALTHZ_PORT = 10256;
/** The taint the cluster autoscaler puts on a node it is about to delete. */
export const TO_BE_DELETED_TAINT = 'ToBeDeletedByClusterAutoscaler';
/** kube-proxy's default --iptables-sync-period; the health timeout is twice it. */
export const DEFAULT_SYNC_PERIOD_NS = 30e9;

/** An HTTP answer of a health server. */
export interface HealthResponse {
  status: number;
  headers: HttpHeader[];
  body: string;
}

/** proxy_health.go ProxyHealthServer's state: when rules were last written, the oldest update waiting, the node's eligibility. */
export class ProxyHealth {
  lastUpdated: TimeNs | null = null;
  oldestPendingQueued: TimeNs | null = null;
  /** Eligible while starting up, until a Node event says otherwise. */
  nodeEligible = true;

  constructor(readonly healthTimeoutNs: TimeNs = 2 * DEFAULT_SYNC_PERIOD_NS) {}

  /** The proxier got a change it has not written yet (only the oldest counts). */
  queuedUpdate(now: TimeNs): void {
    if (this.oldestPendingQueued === null) this.oldestPendingQueued = now;
  }

  /** The proxier wrote its rules. */
  updated(now: TimeNs): void {
    this.oldestPendingQueued = null;
    this.lastUpdated = now;
  }

  /** SyncNode: not eligible when deleted or tainted ToBeDeletedByClusterAutoscaler (other taints do not matter). */
  syncNode(node: Pick<Node, 'metadata' | 'spec'>): void {
    this.nodeEligible = node.metadata.deletionTimestamp === null && !(node.spec?.taints ?? []).some((t) => t.key === TO_BE_DELETED_TAINT);
  }

  /** isHealthy: healthy before the first update, and while no queued update is older than the timeout. */
  isHealthy(now: TimeNs): boolean {
    if (this.lastUpdated === null || this.oldestPendingQueued === null) return true;
    return now - this.oldestPendingQueued < this.healthTimeoutNs;
  }
}

const JSON_HEADERS: HttpHeader[] = [
  ['Content-Type', 'application/json'],
  ['X-Content-Type-Options', 'nosniff'],
];

/** Go's time.Time String() of a simulated instant (the run starts at the Unix epoch); null is Go's zero time. */
export function goTime(ns: TimeNs | null): string {
  if (ns === null) return '0001-01-01 00:00:00 +0000 UTC';
  const d = new Date(Math.floor(ns / 1e6));
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const frac = Math.round(ns % 1e9);
  const f = frac === 0 ? '' : `.${String(frac).padStart(9, '0').replace(/0+$/, '')}`;
  return `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}${f} +0000 UTC`;
}

/** healthzHandler / livezHandler: 200 or 503 with the JSON body kube-proxy prints. */
export function proxyHealthResponse(h: ProxyHealth, path: '/healthz' | '/livez', now: TimeNs): HealthResponse {
  let healthy = h.isHealthy(now);
  if (path === '/healthz') healthy = healthy && h.nodeEligible;
  // A healthy answer reports lastUpdated = now (kube-proxy keeps the old semantics of "recent").
  const last = goTime(healthy ? now : h.lastUpdated);
  const body = path === '/healthz' ? `{"lastUpdated": "${last}","currentTime": "${goTime(now)}", "nodeEligible": ${h.nodeEligible}}` : `{"lastUpdated": "${last}","currentTime": "${goTime(now)}"}`;
  return { status: healthy ? 200 : 503, headers: JSON_HEADERS, body };
}

/** hcHandler: 200 iff the node has local endpoints and kube-proxy is healthy; the body as service_health.go prints it. */
export function serviceHealthResponse(namespace: string, name: string, localEndpoints: number, proxyHealthy: boolean): HealthResponse {
  const body = `{\n\t"service": {\n\t\t"namespace": "${namespace}",\n\t\t"name": "${name}"\n\t},\n\t"localEndpoints": ${localEndpoints},\n\t"serviceProxyHealthy": ${proxyHealthy}\n}`;
  return { status: localEndpoints !== 0 && proxyHealthy ? 200 : 503, headers: [...JSON_HEADERS, ['X-Load-Balancing-Endpoint-Weight', String(localEndpoints)]], body };
}

/**
 * A minimal HTTP/1.1 server (Go's net/http as the health servers use it): every request is answered by
 * `handler`; the connection closes after the answer when the client asked (`Connection: close`).
 */
export function serveHttp(tcp: TcpLayer, port: number, handler: (req: HttpRequest) => HealthResponse): TcpListener {
  return tcp.listen(port, (sock) => {
    const parser = new HttpParser('request');
    sock.onData = (data) => {
      if (data === null) return;
      let reqs: HttpRequest[];
      try {
        reqs = parser.push(data) as HttpRequest[];
      } catch {
        answer(sock, { status: 400, headers: [], body: '' }, true);
        return;
      }
      for (const req of reqs) answer(sock, handler(req), httpHeader(req.headers, 'connection')?.toLowerCase() === 'close');
    };
    sock.onEnd = () => sock.close();
  });
}

function answer(sock: TcpSocket, r: HealthResponse, close: boolean): void {
  const headers: HttpHeader[] = [...r.headers];
  if (close) headers.push(['Connection', 'close']);
  sock.send(buildHttpResponse({ status: r.status, headers, body: r.body }));
  if (close) sock.close();
}

/** The ready endpoints of `svc` on `node` (what the proxier hands the service health server at each sync). */
export function localReadyEndpoints(svc: ServiceView, node: string): number {
  const ips = new Set<number>();
  for (const p of svc.ports) for (const e of p.endpoints) if (e.ready && e.nodeName === node) ips.add(e.ip);
  return ips.size;
}

/** kube-proxy's health servers on every node: 10256 at start, a healthCheckNodePort server per ETP=Local LoadBalancer Service from the sync that first sees it. */
export class KubeProxyHealthServers {
  /** Per node: its kube-proxy's health state. */
  readonly health = new Map<string, ProxyHealth>();
  /** Per `namespace/name`: its health-check node port and, per node, its local ready endpoints at the last sync. */
  readonly services = new Map<string, { port: number; local: Map<string, number>; listeners: TcpListener[] }>();

  constructor(
    private readonly sim: Simulator,
    private readonly nodes: ClusterNode[],
    private readonly tcpOf: (ns: Namespace) => TcpLayer,
  ) {}

  /** Listens on every node's 10256 and follows the Nodes' eligibility; `services` is the proxier's current view. */
  start(api: ApiStore, services: readonly ServiceView[]): void {
    for (const n of this.nodes) {
      const h = new ProxyHealth();
      h.updated(this.sim.now); // the first sync ran before the servers start
      this.health.set(n.name, h);
      serveHttp(this.tcpOf(n.ns), PROXY_HEALTHZ_PORT, (req) => {
        const path = req.target.split('?')[0];
        if (path === '/healthz' || path === '/livez') return proxyHealthResponse(h, path, this.sim.now);
        return { status: 404, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: '404 page not found\n' };
      });
      const obj = api.get('Node', '', n.name);
      if (obj) h.syncNode(obj);
    }
    api.watch('Node', (events) => {
      for (const e of events) this.health.get(e.object.metadata.name)?.syncNode(e.object);
    });
    this.synced(services);
  }

  /** A change reached the proxier (QueuedUpdate). */
  queued(): void {
    for (const h of this.health.values()) h.queuedUpdate(this.sim.now);
  }

  /** The proxier wrote its rules from `services` (Updated, SyncServices, SyncEndpoints). */
  synced(services: readonly ServiceView[]): void {
    for (const h of this.health.values()) h.updated(this.sim.now);
    for (const s of services) {
      if (s.type !== 'LoadBalancer' || s.externalTrafficPolicy !== 'Local' || !s.healthCheckNodePort) continue;
      const key = `${s.namespace}/${s.name}`;
      let hc = this.services.get(key);
      if (!hc) {
        const entry = { port: s.healthCheckNodePort, local: new Map<string, number>(), listeners: [] as TcpListener[] };
        this.services.set(key, (hc = entry));
        for (const n of this.nodes) {
          const h = this.health.get(n.name)!;
          entry.listeners.push(serveHttp(this.tcpOf(n.ns), entry.port, () => serviceHealthResponse(s.namespace, s.name, entry.local.get(n.name) ?? 0, h.isHealthy(this.sim.now))));
        }
      }
      for (const n of this.nodes) hc.local.set(n.name, localReadyEndpoints(s, n.name));
    }
  }
}
