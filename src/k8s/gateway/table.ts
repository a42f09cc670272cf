// k8s/gateway/table — one build of NGINX Gateway Fabric's configuration for the L7 proxies: per
// listener port, nginx servers by hostname (exact, longest wildcard, catch-all) holding the attached
// HTTPRoutes' matches in the spec's precedence order (match.ts), each with its filters and weighted
// backends; the upstreams (NAMESPACE_SERVICE_PORT, the EndpointSlice's ready endpoints) and the HTTPS
// listeners' certificates. Implements app/l7-balancer.ts RoutingTable. Layer: k8s (imports core, wire, app).
// NGF's nginx.conf: a request whose host no server names goes to the default server (`return 404`); a
// matched rule with a RequestRedirect filter `return`s the redirect; weighted backendRefs become a
// `split_clients` (the share of an invalid backendRef, and a rule without any valid weight, `return 500`);
// otherwise proxy_pass to the upstream. Not modelled: NGF's `random two least_conn` balancing (the
// upstream is balanced round robin), an upstream without endpoints answering 502 (the proxy's 503).
import { formatIpv4 } from '../../wire/ipv4-addr.js';
import type { HeaderModifier, ProxyRoute, RouteDecision, RouteRequest, RoutingTable, Upstream } from '../../app/l7-balancer.js';
import type { TlsCertificateChain } from '../../app/tls-certs.js';
import type { BackendRefSpec, HttpRouteFilterSpec, ListenerSpec } from './api.js';
import { matches, modifyPath, redirectLocation, type CompiledMatch } from './match.js';

/** One match in a server, with what the rule does. */
export interface GatewayEntry {
  cm: CompiledMatch;
  listener: ListenerSpec;
  /** Weighted backends: an upstream name, or null for a ref that does not resolve (its share gets 500). */
  backends: { upstream: string | null; weight: number; ref: BackendRefSpec }[];
}

/** An nginx server: a hostname on one listener port, its matches in precedence order. */
export interface GatewayServer {
  name: string;
  entries: GatewayEntry[];
}

/** The servers of one listener port. */
export interface PortServers {
  port: number;
  protocol: 'HTTP' | 'HTTPS';
  exact: Map<string, GatewayServer>;
  /** Wildcard servers ("*.example.com"), longest first. */
  wildcards: GatewayServer[];
  catchAll: GatewayServer | null;
}

/** One row of `podwire inspect --gateway`. */
export interface GatewayRow {
  gateway: string;
  listener: string;
  port: number;
  protocol: string;
  hostname: string;
  match: string;
  action: string;
  backends: string;
  endpoints: string[];
  route: string;
}

/** The request-target split in path and query. */
function splitUri(uri: string): { path: string; query: string } {
  const q = uri.indexOf('?');
  return q < 0 ? { path: uri, query: '' } : { path: uri.slice(0, q), query: uri.slice(q + 1) };
}

const filterOf = <T extends HttpRouteFilterSpec['type']>(e: GatewayEntry, type: T): Extract<HttpRouteFilterSpec, { type: T }> | undefined => e.cm.rule.filters.find((f) => f.type === type) as Extract<HttpRouteFilterSpec, { type: T }> | undefined;

/** The match as NGF's location reads: path, then method / headers / query conditions. */
export function describeMatch(cm: CompiledMatch): string {
  const m = cm.match;
  const parts = [`${m.path.type === 'Exact' ? '=' : m.path.type === 'RegularExpression' ? '~' : 'prefix'} ${m.path.value}`];
  if (m.method !== null) parts.push(`method=${m.method}`);
  for (const h of m.headers) parts.push(`header:${h.name}${h.type === 'Exact' ? '=' : '~'}${h.value}`);
  for (const q of m.queryParams) parts.push(`query:${q.name}${q.type === 'Exact' ? '=' : '~'}${q.value}`);
  return parts.join(' ');
}

/** The routing table one controller sync builds. */
export class GatewayRoutingTable implements RoutingTable {
  constructor(
    readonly gateway: string,
    readonly ports: ReadonlyMap<number, PortServers>,
    private readonly upstreams: ReadonlyMap<string, Upstream>,
    private readonly certs: ReadonlyMap<string, TlsCertificateChain>,
    private readonly defaultCert: TlsCertificateChain | null,
  ) {}

  upstream(name: string): Upstream | undefined {
    return this.upstreams.get(name);
  }

  /** An HTTPS listener's certificate: its hostname's, a wildcard listener's, or the one of a listener without hostname. */
  certificate(host: string): TlsCertificateChain | undefined {
    const c = this.certs.get(host);
    if (c !== undefined) return c;
    if (host.startsWith('*.') || !host.includes('.')) return this.defaultCert ?? undefined;
    return undefined;
  }

  /** nginx's server_name choice on the listener port: the exact name, the longest wildcard, the catch-all. */
  server(port: number, host: string): GatewayServer | null {
    const p = this.ports.get(port);
    if (p === undefined) return null;
    const exact = p.exact.get(host);
    if (exact !== undefined) return exact;
    for (const w of p.wildcards) if (host.endsWith(w.name.slice(1)) && host.length > w.name.length - 1) return w;
    return p.catchAll;
  }

  route(hostHeader: string, uri: string, req?: RouteRequest): RouteDecision {
    const port = req?.port ?? 80;
    const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
    const server = this.server(port, host);
    if (server === null) return { kind: 'not-found', describe: `${this.gateway}:${port} default server` };
    const { path, query } = splitUri(uri);
    const mreq = { method: req?.method ?? 'GET', path, query, header: (n: string) => req?.header(n) };
    const e = server.entries.find((x) => matches(x.cm, mreq));
    if (e === undefined) return { kind: 'not-found', describe: `${this.gateway}:${port} ${server.name}: no match` };
    const describe = `${e.cm.route.namespace}/${e.cm.route.name} rule ${e.cm.ruleIndex} ${server.name} ${describeMatch(e.cm)}`;
    const redirect = filterOf(e, 'RequestRedirect');
    if (redirect !== undefined) return { kind: 'redirect', status: redirect.statusCode, location: redirectLocation(redirect, { scheme: req?.scheme ?? 'http', host, listenerPort: port, path, query }, e.cm.prefix), describe };
    const valid = e.backends.filter((b) => b.weight > 0);
    if (valid.length === 0) return { kind: 'not-found', status: 500, describe: `${describe} (no backend)` };
    const rewrite = filterOf(e, 'URLRewrite');
    const headers = filterOf(e, 'RequestHeaderModifier');
    const mod: HeaderModifier | null = headers !== undefined ? { set: headers.set, add: headers.add, remove: headers.remove } : null;
    const route: ProxyRoute = {
      upstream: valid.length === 1 ? valid[0]!.upstream : null,
      canary: null,
      sslRedirect: false,
      describe,
      split: valid.length > 1 ? valid.map((b) => ({ upstream: b.upstream, weight: b.weight })) : null,
      headerModifier: mod,
      hostRewrite: rewrite?.hostname ?? null,
    };
    if (route.split === null && route.upstream === null) return { kind: 'not-found', status: 500, describe: `${describe} (backend not resolved)` };
    const newPath = rewrite?.path != null ? modifyPath(rewrite.path, path, e.cm.prefix) : path;
    return { kind: 'proxy', route, uri: newPath === path ? uri : `${newPath}${query !== '' ? `?${query}` : ''}` };
  }

  /** One row per match, servers in nginx's order per port. */
  rows(): GatewayRow[] {
    const rows: GatewayRow[] = [];
    for (const p of this.ports.values()) {
      const servers = [...p.exact.values(), ...p.wildcards, ...(p.catchAll ? [p.catchAll] : [])];
      for (const s of servers) {
        for (const e of s.entries) {
          const redirect = filterOf(e, 'RequestRedirect');
          const rewrite = filterOf(e, 'URLRewrite');
          const hdr = filterOf(e, 'RequestHeaderModifier');
          const actions: string[] = [];
          if (redirect) actions.push(`redirect ${redirect.statusCode}${redirect.scheme ? ` ${redirect.scheme}` : ''}${redirect.hostname ? ` ${redirect.hostname}` : ''}${redirect.port ? ` :${redirect.port}` : ''}${redirect.path ? ` ${redirect.path.value}` : ''}`);
          if (rewrite) actions.push(`rewrite${rewrite.hostname ? ` host ${rewrite.hostname}` : ''}${rewrite.path ? ` path ${rewrite.path.value}` : ''}`);
          if (hdr) actions.push(`headers ${[...hdr.set.map(([k]) => `set ${k}`), ...hdr.add.map(([k]) => `add ${k}`), ...hdr.remove.map((k) => `remove ${k}`)].join(',')}`);
          const total = e.backends.reduce((n, b) => n + b.weight, 0);
          const backends = redirect ? '-' : e.backends.length === 0 ? '(none: 500)' : e.backends.map((b) => `${b.ref.namespace === e.cm.route.namespace ? '' : `${b.ref.namespace}/`}${b.ref.name}:${b.ref.port ?? '-'}${e.backends.length > 1 ? ` ${total > 0 ? Math.round((b.weight / total) * 1000) / 10 : 0}%` : ''}${b.upstream === null ? ' (unresolved: 500)' : ''}`).join(',');
          const endpoints = e.backends.flatMap((b) => (b.upstream === null ? [] : (this.upstreams.get(b.upstream)?.endpoints ?? []).map((x) => `${formatIpv4(x.addr)}:${x.port}`)));
          rows.push({ gateway: this.gateway, listener: e.listener.name, port: p.port, protocol: p.protocol, hostname: s.name, match: describeMatch(e.cm), action: actions.join('; ') || 'proxy', backends, endpoints, route: `${e.cm.route.namespace}/${e.cm.route.name}#${e.cm.ruleIndex}` });
        }
      }
    }
    return rows;
  }

  get endpointCount(): number {
    let n = 0;
    for (const u of this.upstreams.values()) n += u.endpoints.length;
    return n;
  }
  get upstreamCount(): number {
    return this.upstreams.size;
  }
  get serverCount(): number {
    let n = 0;
    for (const p of this.ports.values()) n += p.exact.size + p.wildcards.length + (p.catchAll ? 1 : 0);
    return n;
  }
}
