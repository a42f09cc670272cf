// k8s/ingress/controller — an ingress controller modelled on ingress-nginx's (internal/ingress/
// controller: store, controller.go getBackendServers / createUpstreams / createServers, endpointslices.go):
// it watches Ingress, IngressClass, Service and EndpointSlice in the API store, keeps the Ingresses of
// its class, builds nginx's servers and locations (match.ts) and its upstreams (one per Service port:
// the EndpointSlice's ready endpoints, pod IP:targetPort, or the ClusterIP with service-upstream), and
// pushes the result as a RoutingTable (app/l7-balancer.ts) into the proxies of its pods. Layer: k8s
// (imports core, wire, app, k8s).
//
// The interface `IngressController` is what the cluster wiring needs (attach a proxy, read the table
// for `inspect`); a second controller (Envoy / Gateway API) would implement it with its own matching.
// Annotations read (nginx.ingress.kubernetes.io/…): rewrite-target, use-regex (match.ts), canary,
// canary-by-header, canary-by-header-value, canary-by-header-pattern, canary-by-cookie, canary-weight,
// canary-weight-total, affinity (cookie), session-cookie-name, session-cookie-path, load-balance,
// upstream-hash-by, service-upstream, ssl-redirect, force-ssl-redirect. The first Ingress naming an
// upstream (creation order) sets its balancing annotations, as ingress-nginx's backend merge does.
// Ingress status as `--publish-service=ingress-nginx/ingress-nginx-controller` does it: every Ingress
// of its class gets the controller Service's status.loadBalancer.ingress (its external IPs when it has
// none), which external-dns then publishes; written when it changes, not on ingress-nginx's 60 s tick.
// Not modelled: the ConfigMap (its defaults are fixed), the admission webhook, leader election,
// external-auth, rate limits, custom error pages, ExternalName Services as upstreams.
import { formatIpv4 } from '../../wire/ipv4-addr.js';
import type { CanaryRule, ProxyRoute, RouteDecision, RoutingTable, Upstream } from '../../app/l7-balancer.js';
import { parseChainSpec, type TlsCertificateChain } from '../../app/tls-certs.js';
import type { ApiObject, EndpointSlice, Service } from '../api/objects.js';
import type { ApiStore } from '../api/store.js';
import type { IngressBackend, IngressClassSpec, IngressSpec } from './api.js';
import { RoutingTablePublisher, type RoutingTableSink } from '../routing-publisher.js';
import { buildRoutingIndex, matchRequest, selectServer, type Location, type RoutingIndex, type Server } from './match.js';

/** An Ingress as stored (the admitted spec beside the metadata). */
export interface IngressObject extends ApiObject {
  kind: 'Ingress';
  spec: IngressSpec;
}

/** A kubernetes.io/tls Secret as stored: its name and the podwire.dev/tls annotation (key type and chain length; the bytes are not needed). */
export interface TlsSecretObject extends ApiObject {
  kind: 'Secret';
  /** `rsa2048`, `p256`, optionally `:N` certificates (default rsa2048, leaf + intermediate). */
  chain: string;
}

/** The annotation of a TLS Secret that says what its chain is. */
export const TLS_CHAIN_ANNOTATION = 'podwire.dev/tls';

/** An IngressClass as stored. */
export interface IngressClassObject extends ApiObject {
  kind: 'IngressClass';
  spec: IngressClassSpec;
}

export type { RoutingTableSink };

/** One row of `podwire inspect --ingress`. */
export interface RoutingRow {
  host: string;
  path: string;
  pathType: string;
  backend: string;
  endpoints: string[];
  ingress: string;
}

/** What the cluster wiring needs from an ingress controller. */
export interface IngressController {
  /** The IngressClass `spec.controller` this controller serves. */
  readonly controllerName: string;
  /** A proxy in one of its pods starts: it gets the current table and every later one. */
  attach(sink: RoutingTableSink): void;
  detach(sink: RoutingTableSink): void;
  /** The routing table now, one row per location. */
  rows(): RoutingRow[];
  /** The proxies attached (one per running controller pod), in attach order. */
  readonly sinks: readonly RoutingTableSink[];
  /** The table built last (what the proxies get at their next sync), or null before the first. */
  table(): RoutingTable | null;
}

const ANN = 'nginx.ingress.kubernetes.io/';
/** --publish-service: the Service whose addresses the Ingresses report (the chart's default). */
const PUBLISH_SERVICE = { namespace: 'ingress-nginx', name: 'ingress-nginx-controller' };

/** ingress-nginx's upstream name for a Service port: NAMESPACE-NAME-PORT. */
export function upstreamName(namespace: string, b: Extract<IngressBackend, { kind: 'service' }>): string {
  return `${namespace}-${b.name}-${b.port}`;
}

/** The ingress-nginx controller. */
export class NginxIngressController extends RoutingTablePublisher<NginxRoutingTable> implements IngressController {
  readonly controllerName = 'k8s.io/ingress-nginx';
  private lastSig = '';

  constructor(
    private readonly api: ApiStore,
    private readonly record: (what: string) => void,
  ) {
    super();
  }

  /** Lists, then watches the four kinds (zero-delay watches: the informer's latency is not modelled; the proxies apply changes at their 1 s backends sync). */
  start(): void {
    this.sync();
    for (const kind of ['Ingress', 'IngressClass', 'Service', 'EndpointSlice']) this.api.watch(kind, () => this.sync());
  }

  /** The class names this controller owns (IngressClasses naming its controller). */
  classes(): string[] {
    return (this.api.list('IngressClass') as IngressClassObject[]).filter((c) => c.spec.controller === this.controllerName).map((c) => c.spec.name);
  }

  private sync(): void {
    const mine = new Set(this.classes());
    const all = (this.api.list('Ingress') as IngressObject[]).map((o) => o.spec).filter((i) => i.className !== null && mine.has(i.className));
    const secretOf = (ns: string, name: string) => this.api.get('Secret', ns, name) as TlsSecretObject | undefined;
    const t = new NginxRoutingTable(all, (ns, name) => this.api.get('Service', ns, name), (ns, s) => this.api.get('EndpointSlice', ns, s.spec.sliceName), secretOf);
    this.publish(t);
    const sig = t.rows().map((r) => `${r.host} ${r.path} ${r.backend} ${r.endpoints.join(',')}`).join('\n');
    if (sig !== this.lastSig) {
      this.lastSig = sig;
      this.record(`ingress-nginx: configuration built (${t.serverCount} servers, ${t.upstreamCount} upstreams with ${t.endpointCount} endpoints)`);
    }
    this.publishStatus(mine);
  }

  /** status.go syncStatus: the published Service's load-balancer addresses onto every Ingress of the class. */
  private publishStatus(mine: Set<string>): void {
    const svc = this.api.get('Service', PUBLISH_SERVICE.namespace, PUBLISH_SERVICE.name) as (Service & { spec: { externalIPs?: string[] } }) | undefined;
    if (svc === undefined) return;
    const lb = (svc.status?.loadBalancer?.ingress ?? []).map((x) => ({ ...(x.ip !== undefined ? { ip: x.ip } : {}), ...(x.hostname !== undefined ? { hostname: x.hostname } : {}) }));
    const want = lb.length > 0 ? lb : (svc.spec.externalIPs ?? []).map((ip) => ({ ip }));
    const key = JSON.stringify(want);
    type WithStatus = IngressObject & { status?: { loadBalancer?: { ingress?: unknown[] } } };
    for (const listed of this.api.list('Ingress') as WithStatus[]) {
      // Read again: the update below re-enters sync through the zero-delay watch.
      const o = this.api.get('Ingress', listed.metadata.namespace, listed.metadata.name) as WithStatus | undefined;
      if (o === undefined || o.spec.className === null || !mine.has(o.spec.className)) continue;
      if (JSON.stringify(o.status?.loadBalancer?.ingress ?? []) === key) continue;
      this.api.update({ ...o, status: { loadBalancer: { ingress: want } } });
      this.record(`ingress-nginx: status of ingress ${o.metadata.namespace}/${o.metadata.name} → ${want.map((x) => ('ip' in x ? x.ip : x.hostname)).join(', ') || '(none)'}`);
    }
  }

  rows(): RoutingRow[] {
    return this.built?.rows() ?? [];
  }
}

type ServiceOf = (ns: string, name: string) => Service | undefined;
type SliceOf = (ns: string, svc: Service) => EndpointSlice | undefined;
type SecretOf = (ns: string, name: string) => TlsSecretObject | undefined;

/** The canary rule an Ingress's annotations give (ingress-nginx annotations/canary). */
function canaryRule(ing: IngressSpec, upstream: string): CanaryRule {
  const a = ing.annotations;
  const pattern = a[`${ANN}canary-by-header-pattern`];
  let re: RegExp | null = null;
  let invalid = false;
  if (pattern !== undefined && a[`${ANN}canary-by-header-value`] === undefined) {
    try {
      re = new RegExp(pattern);
    } catch {
      invalid = true;
    }
  }
  return {
    upstream,
    header: a[`${ANN}canary-by-header`] ?? null,
    headerValue: a[`${ANN}canary-by-header-value`] ?? null,
    headerPattern: re,
    headerPatternInvalid: invalid,
    cookie: a[`${ANN}canary-by-cookie`] ?? null,
    weight: Number(a[`${ANN}canary-weight`] ?? '0') || 0,
    weightTotal: Number(a[`${ANN}canary-weight-total`] ?? '100') || 100,
  };
}

const isCanary = (i: IngressSpec): boolean => i.annotations[`${ANN}canary`] === 'true';

/** One build of the controller's configuration: servers, locations, upstreams. */
export class NginxRoutingTable implements RoutingTable {
  readonly index: RoutingIndex;
  private readonly upstreams = new Map<string, Upstream>();
  private readonly canaries = new Map<Location, CanaryRule>();
  /** TLS hosts with the chain of their Secret (the first Ingress naming a host wins); a missing Secret leaves the host on the fake certificate. */
  private readonly tlsHosts = new Map<string, TlsCertificateChain>();

  constructor(
    ingresses: readonly IngressSpec[],
    private readonly serviceOf: ServiceOf,
    private readonly sliceOf: SliceOf,
    secretOf: SecretOf = () => undefined,
  ) {
    const sorted = [...ingresses].sort((a, b) => a.order - b.order);
    this.index = buildRoutingIndex(sorted.filter((i) => !isCanary(i)));
    for (const ing of sorted) {
      for (const t of ing.tls) {
        const secret = t.secretName !== null ? secretOf(ing.namespace, t.secretName) : undefined;
        const chain = secret ? parseChainSpec(secret.chain) : null;
        if (!chain) continue;
        // A tls entry without hosts covers the Ingress's rule hosts.
        const hosts = t.hosts.length > 0 ? t.hosts : ing.rules.flatMap((r) => (r.host !== null ? [r.host] : []));
        for (const h of hosts) if (!this.tlsHosts.has(h.toLowerCase())) this.tlsHosts.set(h.toLowerCase(), chain);
      }
      for (const b of [ing.defaultBackend, ...ing.rules.flatMap((r) => r.paths.map((p) => p.backend))]) if (b?.kind === 'service') this.addUpstream(ing, b);
    }
    for (const ing of sorted.filter(isCanary)) this.mergeCanary(ing);
  }

  private addUpstream(ing: IngressSpec, b: Extract<IngressBackend, { kind: 'service' }>): void {
    const name = upstreamName(ing.namespace, b);
    if (this.upstreams.has(name)) return;
    const svc = this.serviceOf(ing.namespace, b.name);
    if (!svc) return;
    const port = svc.spec.ports.find((p) => (typeof b.port === 'number' ? p.port === b.port : p.name === b.port));
    if (!port) return;
    const a = ing.annotations;
    const serviceUpstream = a[`${ANN}service-upstream`] === 'true';
    let endpoints: { addr: number; port: number }[];
    if (serviceUpstream && svc.spec.clusterIP !== null) endpoints = [{ addr: svc.spec.clusterIP, port: port.port }];
    else {
      const slice = this.sliceOf(ing.namespace, svc);
      const i = svc.spec.ports.indexOf(port);
      // endpointslices.go: endpoints whose condition is not ready are skipped.
      endpoints = (slice?.ports[i]?.endpoints ?? []).filter((e) => e.ready).map((e) => ({ addr: e.ip, port: e.port }));
    }
    const lb = a[`${ANN}load-balance`] === 'ewma' ? 'ewma' : 'round_robin';
    const affinity = a[`${ANN}affinity`] === 'cookie' ? { cookieName: a[`${ANN}session-cookie-name`] ?? 'INGRESSCOOKIE', path: a[`${ANN}session-cookie-path`] ?? '/' } : null;
    this.upstreams.set(name, { name, endpoints, loadBalance: lb, hashBy: a[`${ANN}upstream-hash-by`] ?? null, affinity, serviceUpstream });
  }

  /** A canary Ingress adds an alternative upstream to the main locations with the same host and path. */
  private mergeCanary(ing: IngressSpec): void {
    for (const rule of ing.rules) {
      const server = rule.host === null ? this.index.catchAll : (this.index.exact.get(rule.host) ?? this.index.wildcard.find((w) => w.name === rule.host));
      if (!server) continue;
      for (const p of rule.paths) {
        if (p.backend.kind !== 'service') continue;
        const rule2 = canaryRule(ing, upstreamName(ing.namespace, p.backend));
        for (const l of server.locations) if (l.target.path === p.path && l.target.backend !== null) this.canaries.set(l, rule2);
      }
    }
  }

  upstream(name: string): Upstream | undefined {
    return this.upstreams.get(name);
  }

  certificate(host: string): TlsCertificateChain | undefined {
    return this.tlsHosts.get(host);
  }

  route(host: string, uri: string): RouteDecision {
    const r = matchRequest(this.index, host, uri);
    if (r.kind === 'redirect') return { kind: 'redirect', status: 301, location: r.path, describe: `${selectServer(this.index, host).name} auto_redirect to ${r.path}` };
    const t = r.location.target;
    const describe = `${t.ingress.namespace}/${t.ingress.name} ${r.server.name} ${t.path} ${t.pathType}`;
    if (t.backend === null) return { kind: 'not-found', describe: `${r.server.name}: default backend` };
    if (t.backend.kind === 'resource') return { kind: 'not-found', describe: `${describe} (resource backend)` };
    const a = t.ingress.annotations;
    const hasTls = this.tlsHosts.has(r.server.name);
    const sslRedirect = a[`${ANN}force-ssl-redirect`] === 'true' || (hasTls && a[`${ANN}ssl-redirect`] !== 'false');
    const name = upstreamName(t.ingress.namespace, t.backend);
    const route: ProxyRoute = { upstream: this.upstreams.has(name) ? name : null, canary: this.canaries.get(r.location) ?? null, sslRedirect, describe };
    return { kind: 'proxy', route, uri: r.uri };
  }

  get serverCount(): number {
    return this.index.exact.size + this.index.wildcard.length + 1;
  }
  get upstreamCount(): number {
    return this.upstreams.size;
  }
  get endpointCount(): number {
    let n = 0;
    for (const u of this.upstreams.values()) n += u.endpoints.length;
    return n;
  }

  /** One row per location: host, nginx location, path type, backend, endpoints. */
  rows(): RoutingRow[] {
    const servers: Server[] = [...this.index.exact.values(), ...this.index.wildcard, this.index.catchAll];
    const rows: RoutingRow[] = [];
    for (const s of servers) {
      for (const l of s.locations) {
        const t = l.target;
        const loc = l.kind === 'exact' ? `= ${l.path}` : l.kind === 'regex' ? `~* ^${l.path}` : l.path;
        let backend = '(default backend: 404)';
        let endpoints: string[] = [];
        if (t.backend?.kind === 'resource') backend = `resource ${t.backend.resourceKind}/${t.backend.name}`;
        else if (t.backend?.kind === 'service') {
          const u = this.upstreams.get(upstreamName(t.ingress.namespace, t.backend));
          backend = `${t.backend.name}:${t.backend.port}${u ? '' : ' (no such Service port: 503)'}`;
          endpoints = u ? u.endpoints.map((e) => `${formatIpv4(e.addr)}:${e.port}`) : [];
          const c = this.canaries.get(l);
          if (c) backend += ` (canary ${c.upstream})`;
        }
        rows.push({ host: s.name, path: loc, pathType: t.pathType, backend, endpoints, ingress: t.ingress.order < 0 ? '-' : `${t.ingress.namespace}/${t.ingress.name}` });
      }
    }
    return rows;
  }
}
