// k8s/gateway/controller — NGINX Gateway Fabric 1.x's control plane (internal/mode/static/state/graph:
// gatewayclass.go, gateway.go, gateway_listener.go, httproute.go, backend_refs.go, reference_grant.go;
// status/prepare_requests.go): it watches GatewayClass, Gateway, HTTPRoute, ReferenceGrant, Service and
// EndpointSlice in the API store, builds the graph — the winning Gateway of its class, its listeners,
// the routes attached to them — pushes a GatewayRoutingTable (table.ts) into the nginx of its pods
// (app/l7-proxy.ts, as for ingress-nginx) and writes the status conditions the spec names.
// Layer: k8s (imports core, wire, app, k8s).
//
//   GatewayClass  Accepted True/Accepted for controllerName gateway.nginx.org/nginx-gateway-controller
//   Gateway       NGF 1.x serves one Gateway per class: the oldest (then namespace/name) wins, the others
//                 get Accepted/Programmed False GatewayConflict; Accepted True/Accepted (ListenersNotValid
//                 when some listener is invalid, False when all are), Programmed True/Programmed (False
//                 Invalid); status.addresses from the nginx-gateway Service (its load-balancer IPs or
//                 hostnames, else its ClusterIP)
//   listener      Accepted (False UnsupportedProtocol: NGF 1.x serves HTTP and HTTPS), ResolvedRefs
//                 (False InvalidCertificateRef, RefNotPermitted, InvalidRouteKinds), Conflicted
//                 (ProtocolConflict: one port, two protocols), Programmed (False Invalid), attachedRoutes
//   HTTPRoute     per parentRef of this controller's Gateway: Accepted (False NoMatchingParent,
//                 NotAllowedByListeners, NoMatchingListenerHostname), ResolvedRefs (False InvalidKind,
//                 RefNotPermitted, BackendNotFound)
// A cross-namespace reference (a listener's Secret, a backendRef's Service) needs a ReferenceGrant in the
// target namespace naming the referrer's kind and namespace (and the target's kind, its name if given).
// Not modelled: generation / observedGeneration, lastTransitionTime, NGF's NginxProxy and policies,
// TLS passthrough, the Gateway's spec.addresses.
import { formatIpv4 } from '../../wire/ipv4-addr.js';
import type { Upstream } from '../../app/l7-balancer.js';
import { parseChainSpec, type TlsCertificateChain } from '../../app/tls-certs.js';
import type { ApiObject, EndpointSlice, Service } from '../api/objects.js';
import type { ApiStore } from '../api/store.js';
import { RoutingTablePublisher, type RoutingTableSink } from '../routing-publisher.js';
import { GATEWAY_GROUP, type AdmittedGatewayApi, type GatewayClassSpec, type GatewaySpec, type HttpRouteSpec, type ListenerSpec, type ParentRefSpec, type ReferenceGrantSpec } from './api.js';
import { compileMatch, comparePrecedence, intersectHostnames, wildcardMatches } from './match.js';
import { GatewayRoutingTable, type GatewayEntry, type GatewayRow, type GatewayServer, type PortServers } from './table.js';

export const NGF_CONTROLLER_NAME = 'gateway.nginx.org/nginx-gateway-controller';
/** The Service whose addresses the Gateway reports (the chart's). */
const NGF_SERVICE = { namespace: 'nginx-gateway', name: 'nginx-gateway' };

/** A status condition (metav1.Condition without the timestamps). */
export interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface GatewayClassObject extends ApiObject {
  kind: 'GatewayClass';
  spec: GatewayClassSpec;
  status?: { conditions: Condition[] };
}
export interface ListenerStatus {
  name: string;
  attachedRoutes: number;
  supportedKinds: { group: string; kind: string }[];
  conditions: Condition[];
}
export interface GatewayObject extends ApiObject {
  kind: 'Gateway';
  spec: GatewaySpec;
  status?: { addresses: { type: 'IPAddress' | 'Hostname'; value: string }[]; conditions: Condition[]; listeners: ListenerStatus[] };
}
export interface RouteParentStatus {
  parentRef: ParentRefSpec;
  controllerName: string;
  conditions: Condition[];
}
export interface HttpRouteObject extends ApiObject {
  kind: 'HTTPRoute';
  spec: HttpRouteSpec;
  status?: { parents: RouteParentStatus[] };
}
export interface ReferenceGrantObject extends ApiObject {
  kind: 'ReferenceGrant';
  spec: ReferenceGrantSpec;
}

/** One row of the conditions table of `podwire inspect --gateway`. */
export interface ConditionRow {
  object: string;
  scope: string;
  type: string;
  status: string;
  reason: string;
  message: string;
}

const cond = (type: string, ok: boolean, reason: string, message: string): Condition => ({ type, status: ok ? 'True' : 'False', reason, message });

/** A listener's verdict in one build. */
interface ListenerState {
  spec: ListenerSpec;
  /** Served: accepted, refs resolved, no conflict. */
  valid: boolean;
  conditions: Condition[];
  attached: number;
  cert: TlsCertificateChain | null;
}

/** What the scenario wiring needs from the Gateway controller. */
export interface GatewayController {
  readonly controllerName: string;
  attach(sink: RoutingTableSink): void;
  detach(sink: RoutingTableSink): void;
  readonly sinks: readonly RoutingTableSink[];
  table(): GatewayRoutingTable | null;
  rows(): GatewayRow[];
  conditions(): ConditionRow[];
}

/** NGINX Gateway Fabric's controller. */
export class NginxGatewayController extends RoutingTablePublisher<GatewayRoutingTable> implements GatewayController {
  readonly controllerName = NGF_CONTROLLER_NAME;
  private lastSig = '';
  private syncing = false;

  constructor(
    private readonly api: ApiStore,
    private readonly admitted: Pick<AdmittedGatewayApi, 'secrets' | 'namespaceLabels'>,
    private readonly record: (what: string) => void,
  ) {
    super();
  }

  /** Lists, then watches (zero-delay watches; its own status writes do not start another build). */
  start(): void {
    this.sync();
    for (const kind of ['GatewayClass', 'Gateway', 'HTTPRoute', 'ReferenceGrant', 'Service', 'EndpointSlice']) this.api.watch(kind, () => this.sync());
  }

  rows(): GatewayRow[] {
    return this.built?.rows() ?? [];
  }

  private sync(): void {
    if (this.syncing) return;
    this.syncing = true;
    try {
      this.build();
    } finally {
      this.syncing = false;
    }
  }

  private grants(): ReferenceGrantSpec[] {
    return (this.api.list('ReferenceGrant') as ReferenceGrantObject[]).map((g) => g.spec);
  }

  /** reference_grant.go: a grant in `to.namespace` lets `from` refer to the object. */
  private permitted(from: { group: string; kind: string; namespace: string }, to: { group: string; kind: string; namespace: string; name: string }): boolean {
    if (from.namespace === to.namespace) return true;
    return this.grants().some((g) => g.namespace === to.namespace && g.from.some((f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace) && g.to.some((t) => t.group === to.group && t.kind === to.kind && (t.name === null || t.name === to.name)));
  }

  private build(): void {
    const classes = (this.api.list('GatewayClass') as GatewayClassObject[]).filter((c) => c.spec.controllerName === this.controllerName);
    for (const c of classes) this.writeStatus(c, { conditions: [cond('Accepted', true, 'Accepted', 'GatewayClass is accepted')] });
    const mine = new Set(classes.map((c) => c.spec.name));
    const gateways = (this.api.list('Gateway') as GatewayObject[]).filter((g) => mine.has(g.spec.className)).sort((a, b) => a.spec.order - b.spec.order || `${a.spec.namespace}/${a.spec.name}`.localeCompare(`${b.spec.namespace}/${b.spec.name}`));
    const winner = gateways[0] ?? null;
    for (const g of gateways.slice(1)) {
      const msg = 'The resource is ignored due to a conflicting Gateway resource';
      this.writeStatus(g, { addresses: [], conditions: [cond('Accepted', false, 'GatewayConflict', msg), cond('Programmed', false, 'GatewayConflict', msg)], listeners: [] });
    }
    const listeners = winner ? this.listenerStates(winner.spec) : [];
    const routes = (this.api.list('HTTPRoute') as HttpRouteObject[]).map((r) => r.spec).sort((a, b) => a.order - b.order);
    const upstreams = new Map<string, Upstream>();
    const ports = new Map<number, PortServers>();
    for (const route of routes) this.attachRoute(route, winner?.spec ?? null, listeners, ports, upstreams);
    for (const p of ports.values()) for (const s of [...p.exact.values(), ...p.wildcards, ...(p.catchAll ? [p.catchAll] : [])]) s.entries.sort((a, b) => comparePrecedence(a.cm, b.cm));
    if (winner) this.writeGatewayStatus(winner, listeners);
    const certs = new Map<string, TlsCertificateChain>();
    let defaultCert: TlsCertificateChain | null = null;
    for (const l of listeners) {
      if (!l.valid || l.cert === null) continue;
      if (l.spec.hostname === null) defaultCert ??= l.cert;
      else if (!certs.has(l.spec.hostname)) certs.set(l.spec.hostname, l.cert);
    }
    const t = new GatewayRoutingTable(winner ? `${winner.spec.namespace}/${winner.spec.name}` : '-', ports, upstreams, certs, defaultCert);
    this.publish(t);
    const sig = t.rows().map((r) => `${r.port} ${r.hostname} ${r.match} ${r.backends} ${r.endpoints.join(',')}`).join('\n');
    if (sig !== this.lastSig) {
      this.lastSig = sig;
      this.record(`nginx-gateway: configuration built (${t.serverCount} servers, ${t.upstreamCount} upstreams with ${t.endpointCount} endpoints)`);
    }
  }

  /** gateway_listener.go: each listener's validity and conditions. */
  private listenerStates(gw: GatewaySpec): ListenerState[] {
    const protocolsByPort = new Map<number, Set<string>>();
    for (const l of gw.listeners) {
      if (!protocolsByPort.has(l.port)) protocolsByPort.set(l.port, new Set());
      protocolsByPort.get(l.port)!.add(l.protocol);
    }
    return gw.listeners.map((l): ListenerState => {
      const conditions: Condition[] = [];
      let cert: TlsCertificateChain | null = null;
      const supported = l.protocol === 'HTTP' || l.protocol === 'HTTPS';
      let refs: Condition = cond('ResolvedRefs', true, 'ResolvedRefs', 'All references are resolved');
      const badKind = l.allowedRoutes.kinds?.find((k) => !(k.group === GATEWAY_GROUP && k.kind === 'HTTPRoute'));
      if (badKind) refs = cond('ResolvedRefs', false, 'InvalidRouteKinds', `Route kind ${badKind.group}/${badKind.kind} is not supported`);
      if (l.protocol === 'HTTPS') {
        const ref = l.certificateRefs[0]!;
        const secret = this.admitted.secrets.get(`${ref.namespace}/${ref.name}`);
        if (ref.group !== '' || ref.kind !== 'Secret') refs = cond('ResolvedRefs', false, 'InvalidCertificateRef', `${ref.kind} is not a supported certificate reference (Secret)`);
        else if (!this.permitted({ group: GATEWAY_GROUP, kind: 'Gateway', namespace: gw.namespace }, { group: '', kind: 'Secret', namespace: ref.namespace, name: ref.name })) refs = cond('ResolvedRefs', false, 'RefNotPermitted', `Certificate ref to secret ${ref.namespace}/${ref.name} not permitted by any ReferenceGrant`);
        else if (secret === undefined) refs = cond('ResolvedRefs', false, 'InvalidCertificateRef', `Secret ${ref.namespace}/${ref.name} does not exist`);
        else if (secret.type !== 'kubernetes.io/tls') refs = cond('ResolvedRefs', false, 'InvalidCertificateRef', `Secret ${ref.namespace}/${ref.name} is of type ${secret.type}, not kubernetes.io/tls`);
        else cert = parseChainSpec(secret.chain ?? 'rsa2048');
        if (refs.status === 'True' && cert === null) refs = cond('ResolvedRefs', false, 'InvalidCertificateRef', `Secret ${ref.namespace}/${ref.name}: podwire.dev/tls "${secret?.chain}" is not a chain`);
      }
      const conflict = (protocolsByPort.get(l.port)?.size ?? 0) > 1;
      conditions.push(supported ? cond('Accepted', true, 'Accepted', 'Listener is accepted') : cond('Accepted', false, 'UnsupportedProtocol', `Protocol ${l.protocol} is not supported, use HTTP or HTTPS`));
      conditions.push(refs);
      conditions.push(conflict ? cond('Conflicted', true, 'ProtocolConflict', `Multiple listeners for the same port ${l.port} specify incompatible protocols`) : cond('Conflicted', false, 'NoConflicts', 'No conflicts'));
      const valid = supported && refs.status === 'True' && !conflict;
      conditions.push(valid ? cond('Programmed', true, 'Programmed', 'Listener is programmed') : cond('Programmed', false, 'Invalid', 'Listener is invalid'));
      return { spec: l, valid, conditions, attached: 0, cert };
    });
  }

  /** Whether a listener's allowedRoutes admit a route from `ns` (Same, All, Selector on the namespace's labels). */
  private allows(gw: GatewaySpec, l: ListenerSpec, ns: string): boolean {
    const a = l.allowedRoutes;
    if (a.kinds !== null && !a.kinds.some((k) => k.group === GATEWAY_GROUP && k.kind === 'HTTPRoute')) return false;
    if (a.from === 'All') return true;
    if (a.from === 'Same') return ns === gw.namespace;
    const labels = this.admitted.namespaceLabels(ns);
    return Object.entries(a.matchLabels).every(([k, v]) => labels[k] === v);
  }

  /** httproute.go bindRouteToListeners + backend_refs.go: the route's parent statuses, its matches in the servers. */
  private attachRoute(route: HttpRouteSpec, gw: GatewaySpec | null, listeners: ListenerState[], ports: Map<number, PortServers>, upstreams: Map<string, Upstream>): void {
    const parents: RouteParentStatus[] = [];
    const resolved = this.resolveBackends(route, upstreams);
    for (const ref of route.parentRefs) {
      if (gw === null || ref.group !== GATEWAY_GROUP || ref.kind !== 'Gateway' || ref.namespace !== gw.namespace || ref.name !== gw.name) continue;
      const named = listeners.filter((l) => (ref.sectionName === null || l.spec.name === ref.sectionName) && (ref.port === null || l.spec.port === ref.port));
      const conds: Condition[] = [];
      const usable = named.filter((l) => l.valid);
      const allowed = usable.filter((l) => this.allows(gw, l.spec, route.namespace));
      const hosts = allowed.map((l) => ({ l, names: intersectHostnames(l.spec.hostname, route.hostnames) })).filter((x) => x.names.length > 0);
      if (named.length === 0 || usable.length === 0) conds.push(cond('Accepted', false, 'NoMatchingParent', named.length === 0 ? `No listener matches sectionName ${ref.sectionName ?? '-'} port ${ref.port ?? '-'}` : 'The matching listeners are invalid'));
      else if (allowed.length === 0) conds.push(cond('Accepted', false, 'NotAllowedByListeners', `Route is not allowed by the listeners' allowedRoutes (namespace ${route.namespace})`));
      else if (hosts.length === 0) conds.push(cond('Accepted', false, 'NoMatchingListenerHostname', 'Listener hostname does not match the HTTPRoute hostnames'));
      else conds.push(cond('Accepted', true, 'Accepted', 'The route is accepted'));
      conds.push(resolved.condition);
      parents.push({ parentRef: ref, controllerName: this.controllerName, conditions: conds });
      for (const { l, names } of hosts) {
        l.attached++;
        const p = portServers(ports, l.spec);
        for (const name of names) {
          const server = serverFor(p, name);
          route.rules.forEach((rule, ri) => rule.matches.forEach((_, mi) => server.entries.push({ cm: compileMatch(route, ri, mi), listener: l.spec, backends: resolved.perRule[ri]! })));
        }
      }
    }
    const obj = this.api.get('HTTPRoute', route.namespace, route.name) as HttpRouteObject | undefined;
    if (obj && parents.length > 0) this.writeStatus(obj, { parents });
  }

  /** Each rule's backendRefs as upstreams (null when unresolved) and the route's ResolvedRefs condition (the first failure). */
  private resolveBackends(route: HttpRouteSpec, upstreams: Map<string, Upstream>): { perRule: GatewayEntry['backends'][]; condition: Condition } {
    let condition = cond('ResolvedRefs', true, 'ResolvedRefs', 'All references are resolved');
    const fail = (reason: string, message: string) => {
      if (condition.status === 'True') condition = cond('ResolvedRefs', false, reason, message);
    };
    const perRule = route.rules.map((rule) =>
      rule.backendRefs.map((ref) => {
        let upstream: string | null = null;
        if (ref.group !== '' || ref.kind !== 'Service') fail('InvalidKind', `Backend ref kind ${ref.kind} is not supported (Service)`);
        else if (!this.permitted({ group: GATEWAY_GROUP, kind: 'HTTPRoute', namespace: route.namespace }, { group: '', kind: 'Service', namespace: ref.namespace, name: ref.name })) fail('RefNotPermitted', `Backend ref to Service ${ref.namespace}/${ref.name} not permitted by any ReferenceGrant`);
        else {
          const svc = this.api.get('Service', ref.namespace, ref.name) as Service | undefined;
          const port = svc?.spec.ports.find((p) => p.port === ref.port);
          if (svc === undefined) fail('BackendNotFound', `Service ${ref.namespace}/${ref.name} not found`);
          else if (port === undefined) fail('BackendNotFound', `Service ${ref.namespace}/${ref.name} has no port ${ref.port}`);
          else {
            upstream = `${ref.namespace}_${ref.name}_${ref.port}`;
            if (!upstreams.has(upstream)) {
              const slice = this.api.get('EndpointSlice', ref.namespace, svc.spec.sliceName) as EndpointSlice | undefined;
              const i = svc.spec.ports.indexOf(port);
              const endpoints = (slice?.ports[i]?.endpoints ?? []).filter((e) => e.ready).map((e) => ({ addr: e.ip, port: e.port }));
              upstreams.set(upstream, { name: upstream, endpoints, loadBalance: 'round_robin', hashBy: null, affinity: null, serviceUpstream: false });
            }
          }
        }
        return { upstream, weight: ref.weight, ref };
      }),
    );
    return { perRule, condition };
  }

  private writeGatewayStatus(gw: GatewayObject, listeners: ListenerState[]): void {
    const svc = this.api.get('Service', NGF_SERVICE.namespace, NGF_SERVICE.name) as Service | undefined;
    const lb = svc?.status?.loadBalancer?.ingress ?? [];
    const addresses = lb.length > 0 ? lb.map((x) => (x.ip !== undefined ? { type: 'IPAddress' as const, value: x.ip } : { type: 'Hostname' as const, value: x.hostname ?? '' })) : svc?.spec.clusterIP != null ? [{ type: 'IPAddress' as const, value: formatIpv4(svc.spec.clusterIP) }] : [];
    const valid = listeners.filter((l) => l.valid).length;
    const accepted = valid === listeners.length ? cond('Accepted', true, 'Accepted', 'Gateway is accepted') : valid > 0 ? cond('Accepted', true, 'ListenersNotValid', 'Gateway has at least one valid listener') : cond('Accepted', false, 'ListenersNotValid', 'Gateway has no valid listeners');
    const programmed = valid > 0 ? cond('Programmed', true, 'Programmed', 'Gateway is programmed') : cond('Programmed', false, 'Invalid', 'Gateway is invalid');
    const ls: ListenerStatus[] = listeners.map((l) => ({ name: l.spec.name, attachedRoutes: l.attached, supportedKinds: [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }], conditions: l.conditions }));
    const before = JSON.stringify(gw.status?.addresses ?? []);
    this.writeStatus(gw, { addresses, conditions: [accepted, programmed], listeners: ls });
    if (JSON.stringify(addresses) !== before && addresses.length > 0) this.record(`nginx-gateway: status of gateway ${gw.spec.namespace}/${gw.spec.name} → ${addresses.map((a) => a.value).join(', ')}`);
  }

  /** Writes an object's status when it changed (read again: a write re-enters no build, `syncing` guards it). */
  private writeStatus<T extends ApiObject & { status?: unknown }>(o: T, status: NonNullable<T['status']>): void {
    const now = this.api.get(o.kind, o.metadata.namespace, o.metadata.name) as T | undefined;
    if (now === undefined || JSON.stringify(now.status ?? null) === JSON.stringify(status)) return;
    this.api.update({ ...now, status });
  }

  /** The status conditions, for `podwire inspect --gateway`. */
  conditions(): ConditionRow[] {
    const rows: ConditionRow[] = [];
    const push = (object: string, scope: string, cs: readonly Condition[]) => {
      for (const c of cs) rows.push({ object, scope, type: c.type, status: c.status, reason: c.reason, message: c.message });
    };
    for (const c of this.api.list('GatewayClass') as GatewayClassObject[]) if (c.status) push(`GatewayClass/${c.metadata.name}`, '-', c.status.conditions);
    for (const g of this.api.list('Gateway') as GatewayObject[]) {
      if (!g.status) continue;
      const name = `Gateway/${g.metadata.namespace}/${g.metadata.name}`;
      push(name, g.status.addresses.length > 0 ? `addresses ${g.status.addresses.map((a) => a.value).join(',')}` : '-', g.status.conditions);
      for (const l of g.status.listeners) push(name, `listener ${l.name} (${l.attachedRoutes} routes)`, l.conditions);
    }
    for (const r of this.api.list('HTTPRoute') as HttpRouteObject[]) {
      for (const p of r.status?.parents ?? []) push(`HTTPRoute/${r.metadata.namespace}/${r.metadata.name}`, `parent ${p.parentRef.namespace}/${p.parentRef.name}${p.parentRef.sectionName !== null ? `/${p.parentRef.sectionName}` : ''}${p.parentRef.port !== null ? `:${p.parentRef.port}` : ''}`, p.conditions);
    }
    return rows;
  }
}

function portServers(ports: Map<number, PortServers>, l: ListenerSpec): PortServers {
  let p = ports.get(l.port);
  if (!p) ports.set(l.port, (p = { port: l.port, protocol: l.protocol === 'HTTPS' ? 'HTTPS' : 'HTTP', exact: new Map(), wildcards: [], catchAll: null }));
  return p;
}

/** The nginx server for a hostname ("*" the catch-all), created on first use; wildcards kept longest first. */
function serverFor(p: PortServers, name: string): GatewayServer {
  if (name === '*') return (p.catchAll ??= { name: '*', entries: [] });
  if (!name.startsWith('*.')) {
    let s = p.exact.get(name);
    if (!s) p.exact.set(name, (s = { name, entries: [] }));
    return s;
  }
  let s = p.wildcards.find((w) => w.name === name);
  if (!s) {
    p.wildcards.push((s = { name, entries: [] }));
    p.wildcards.sort((a, b) => b.name.length - a.name.length || (wildcardMatches(a.name, b.name) ? 1 : 0));
  }
  return s;
}
