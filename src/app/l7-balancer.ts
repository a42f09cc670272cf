// app/l7-balancer — how an L7 proxy picks the endpoint of one request, as ingress-nginx's Lua balancer
// does (rootfs/etc/nginx/lua/balancer.lua and balancer/*.lua; lua-resty-balancer v0.05 for
// round robin and chash): the routing table a controller hands the proxy, and the per-upstream
// balancers. Layer: app (imports core, wire).
//
//   round_robin  equal weights cycle in order from a random start node, chosen on every (re)build
//                (resty.roundrobin get_random_node_id); state is per nginx worker — podwire runs one
//                worker per controller pod
//   ewma         power of two choices (PICK_SET_SIZE 2) among endpoints not yet tried by this request;
//                score = EWMA of upstream connect + response time, decayed with DECAY_TIME 10 s
//   chash        consistent hash of the upstream-hash-by value (e.g. $request_uri) on a ring of 160
//                points per endpoint (crc32 here; lua-resty-balancer's ring differs in its hash input)
//   sticky       affinity: cookie → the endpoint whose hash the cookie holds, else the next pick of the
//                upstream's balancer, and a Set-Cookie naming it
//   canary       header → cookie → weight (balancer.lua route_to_alternative_balancer)
import type { Rng } from '../core/rng.js';
import type { TimeNs } from '../core/time.js';
import type { Ipv4 } from '../wire/types.js';
import type { TlsCertificateChain } from './tls-certs.js';

/** One endpoint of an upstream: a pod IP and port (or a ClusterIP with service-upstream). */
export interface UpstreamEndpoint {
  addr: Ipv4;
  port: number;
}

/** An nginx "backend": one Service port with its endpoints and how to balance over them. */
export interface Upstream {
  /** ingress-nginx's upstream name: NAMESPACE-SERVICE-PORT. */
  name: string;
  endpoints: readonly UpstreamEndpoint[];
  loadBalance: 'round_robin' | 'ewma';
  /** upstream-hash-by (an nginx variable expression), or null. */
  hashBy: string | null;
  /** affinity: cookie, with the cookie's name and path. */
  affinity: { cookieName: string; path: string } | null;
  /** service-upstream: the one endpoint is the ClusterIP (no retry to another endpoint). */
  serviceUpstream: boolean;
}

/** A canary Ingress's rule for one location. */
export interface CanaryRule {
  upstream: string;
  header: string | null;
  headerValue: string | null;
  headerPattern: RegExp | null;
  /** The header pattern did not compile: the canary is never chosen by header or cookie. */
  headerPatternInvalid: boolean;
  cookie: string | null;
  weight: number;
  weightTotal: number;
}

/** What the proxy does with a matched location. */
export interface ProxyRoute {
  /** The upstream's name; null when the Service (or its port) does not exist → 503. */
  upstream: string | null;
  canary: CanaryRule | null;
  /** Plain-HTTP requests get a redirect to https (ssl-redirect for a host with TLS, force-ssl-redirect). */
  sslRedirect: boolean;
  /** The Ingress, host, path and type that matched, for traces and inspect. */
  describe: string;
  /** Weighted backends (Gateway API backendRefs, nginx split_clients): one is drawn per request; a null upstream's share gets 500. */
  split?: readonly { upstream: string | null; weight: number }[] | null;
  /** A RequestHeaderModifier filter: the request's headers as the pod gets them. */
  headerModifier?: HeaderModifier | null;
  /** A URLRewrite filter's hostname: the Host header sent to the pod. */
  hostRewrite?: string | null;
}

/** Gateway API HTTPHeaderFilter: set (replace), add (append), remove, by case-insensitive name. */
export interface HeaderModifier {
  set: readonly (readonly [string, string])[];
  add: readonly (readonly [string, string])[];
  remove: readonly string[];
}

/** What a routing table may read of a request beyond Host and target (Gateway API matches; a listener by port). */
export interface RouteRequest {
  method: string;
  scheme: 'http' | 'https';
  /** The port the client connected to (the listener's). */
  port: number;
  header(name: string): string | undefined;
}

/** The proxy's decision for one request. */
export type RouteDecision =
  | { kind: 'proxy'; route: ProxyRoute; uri: string }
  /** `location`: a path on the same scheme and host, or an absolute URL ("https://…"). */
  | { kind: 'redirect'; status: number; location: string; describe: string }
  /** The proxy answers itself: 404, or `status` (Gateway API: 500 for a rule without a valid backend). */
  | { kind: 'not-found'; describe: string; status?: number };

/** The routing table a controller pushes into its proxies (the interface the controller implements). */
export interface RoutingTable {
  /** The decision for a Host header and request-target (and, for a table that reads them, method, headers, port). */
  route(host: string, uri: string, req?: RouteRequest): RouteDecision;
  upstream(name: string): Upstream | undefined;
  /** The certificate of a TLS host ("foo.com" or "*.foo.com") from the Ingresses' tls sections, if any. */
  certificate?(host: string): TlsCertificateChain | undefined;
}

/** A request's view for the balancers: what nginx variables and cookies read. */
export interface BalanceRequest {
  uri: string;
  host: string;
  remoteAddr: string;
  header(name: string): string | undefined;
  cookie(name: string): string | undefined;
}

/** Picks one endpoint for a request attempt; `tried` are the endpoints this request already failed on. */
export interface Balancer {
  pick(req: BalanceRequest, tried: ReadonlySet<UpstreamEndpoint>): UpstreamEndpoint | null;
  /** The upstream answered after `rttNs` (connect + response): EWMA learns from it. */
  observe(ep: UpstreamEndpoint, rttNs: TimeNs, now: TimeNs): void;
}

/** resty.roundrobin with equal weights: cycle from a random start. */
export class RoundRobin implements Balancer {
  private next: number;
  constructor(
    private readonly endpoints: readonly UpstreamEndpoint[],
    rng: Rng,
  ) {
    this.next = endpoints.length > 0 ? rng.int(endpoints.length) : 0;
  }
  pick(_req: BalanceRequest, tried: ReadonlySet<UpstreamEndpoint>): UpstreamEndpoint | null {
    const n = this.endpoints.length;
    for (let i = 0; i < n; i++) {
      const ep = this.endpoints[this.next]!;
      this.next = (this.next + 1) % n;
      if (!tried.has(ep)) return ep;
    }
    return null;
  }
  observe(): void {}
}

const DECAY_TIME_NS = 10e9;

/** balancer/ewma.lua: two random candidates, the lower decayed EWMA wins. */
export class Ewma implements Balancer {
  /** Score per endpoint "ip:port", kept across rebuilds as the Lua shared dict keeps it. */
  constructor(
    private readonly endpoints: readonly UpstreamEndpoint[],
    private readonly rng: Rng,
    private readonly stats: Map<string, { ewma: number; at: TimeNs }>,
    private readonly now: () => TimeNs,
  ) {}
  private score(ep: UpstreamEndpoint): number {
    const s = this.stats.get(`${ep.addr}:${ep.port}`);
    if (!s) return 0;
    return s.ewma * Math.exp(-Math.max(0, this.now() - s.at) / DECAY_TIME_NS);
  }
  pick(_req: BalanceRequest, tried: ReadonlySet<UpstreamEndpoint>): UpstreamEndpoint | null {
    const c = this.endpoints.filter((e) => !tried.has(e));
    if (c.length <= 1) return c[0] ?? null;
    const i = this.rng.int(c.length);
    let j = this.rng.int(c.length - 1);
    if (j >= i) j++;
    const a = c[i]!;
    const b = c[j]!;
    return this.score(b) < this.score(a) ? b : a;
  }
  observe(ep: UpstreamEndpoint, rttNs: TimeNs, now: TimeNs): void {
    const key = `${ep.addr}:${ep.port}`;
    const s = this.stats.get(key);
    if (!s) {
      this.stats.set(key, { ewma: rttNs, at: now });
      return;
    }
    const w = Math.exp(-Math.max(0, now - s.at) / DECAY_TIME_NS);
    s.ewma = s.ewma * w + rttNs * (1 - w);
    s.at = now;
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE) of a string's UTF-16 code units taken as bytes (ASCII keys). */
export function crc32(s: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < s.length; i++) c = CRC_TABLE[(c ^ s.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const CONSISTENT_POINTS = 160;

/** Evaluates an nginx variable expression such as "$request_uri" or "$http_x_user$remote_addr". */
export function evalNginxVars(expr: string, req: BalanceRequest): string {
  return expr.replace(/\$([a-z_][a-z0-9_]*)/gi, (_, v: string) => {
    const name = v.toLowerCase();
    if (name === 'request_uri') return req.uri;
    if (name === 'uri') return req.uri.split('?')[0]!;
    if (name === 'args') return req.uri.includes('?') ? req.uri.slice(req.uri.indexOf('?') + 1) : '';
    if (name === 'host') return req.host;
    if (name === 'remote_addr' || name === 'binary_remote_addr') return req.remoteAddr;
    if (name.startsWith('http_')) return req.header(name.slice(5).replace(/_/g, '-')) ?? '';
    if (name.startsWith('cookie_')) return req.cookie(name.slice(7)) ?? '';
    if (name.startsWith('arg_')) return new URLSearchParams(req.uri.split('?')[1] ?? '').get(name.slice(4)) ?? '';
    return '';
  });
}

/** balancer/chash.lua: the endpoint on the ring after the key's hash (the next one on retries). */
export class ConsistentHash implements Balancer {
  private readonly ring: { h: number; ep: UpstreamEndpoint }[] = [];
  constructor(
    endpoints: readonly UpstreamEndpoint[],
    private readonly hashBy: string,
  ) {
    for (const ep of endpoints) for (let i = 0; i < CONSISTENT_POINTS; i++) this.ring.push({ h: crc32(`${ep.addr}:${ep.port} ${i}`), ep });
    this.ring.sort((a, b) => a.h - b.h || a.ep.addr - b.ep.addr || a.ep.port - b.ep.port);
  }
  pick(req: BalanceRequest, tried: ReadonlySet<UpstreamEndpoint>): UpstreamEndpoint | null {
    if (this.ring.length === 0) return null;
    const h = crc32(evalNginxVars(this.hashBy, req));
    let lo = 0;
    let hi = this.ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ring[mid]!.h < h) lo = mid + 1;
      else hi = mid;
    }
    for (let i = 0; i < this.ring.length; i++) {
      const ep = this.ring[(lo + i) % this.ring.length]!.ep;
      if (!tried.has(ep)) return ep;
    }
    return null;
  }
  observe(): void {}
}

/** The sticky cookie's value for an endpoint: a hash of "ip:port" (ingress-nginx hashes the endpoint too). */
export function stickyValue(ep: UpstreamEndpoint): string {
  return (crc32(`${ep.addr}:${ep.port}`).toString(16).padStart(8, '0') + crc32(`${ep.port}/${ep.addr}`).toString(16).padStart(8, '0')).slice(0, 16);
}

/** Whether a request goes to the canary upstream (balancer.lua route_to_alternative_balancer). */
export function routeToCanary(c: CanaryRule, req: BalanceRequest, rng: Rng): boolean {
  if (c.header !== null) {
    const v = req.header(c.header);
    if (v !== undefined) {
      if (c.headerPatternInvalid) return false;
      if (c.headerValue !== null) {
        if (v === c.headerValue) return true;
      } else if (c.headerPattern !== null) {
        if (c.headerPattern.test(v)) return true;
      } else if (v === 'always') return true;
      else if (v === 'never') return false;
    }
  }
  if (c.cookie !== null) {
    const v = req.cookie(c.cookie);
    if (v === 'always') return true;
    if (v === 'never') return false;
  }
  // math.random(total) <= weight, math.random(n) being uniform in 1..n.
  return c.weight > 0 && rng.int(c.weightTotal) + 1 <= c.weight;
}

/** The balancer for an upstream (chash when upstream-hash-by is set, else its load-balance). */
export function makeBalancer(u: Upstream, rng: Rng, ewmaStats: Map<string, { ewma: number; at: TimeNs }>, now: () => TimeNs): Balancer {
  if (u.hashBy !== null) return new ConsistentHash(u.endpoints, u.hashBy);
  if (u.loadBalance === 'ewma') return new Ewma(u.endpoints, rng, ewmaStats, now);
  return new RoundRobin(u.endpoints, rng);
}

/** The sum of a split's weights. */
export function splitTotal(split: readonly { weight: number }[]): number {
  let n = 0;
  for (const b of split) n += b.weight;
  return n;
}

/** The backend whose weight range holds `draw` (0 ≤ draw < total): nginx split_clients over the weights; weight 0 is never chosen. */
export function pickWeighted(split: readonly { upstream: string | null; weight: number }[], draw: number): string | null {
  let acc = 0;
  for (const b of split) {
    acc += b.weight;
    if (draw < acc) return b.upstream;
  }
  return null;
}
