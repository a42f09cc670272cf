// app/l7-proxy — an HTTP/1.1 reverse proxy as ingress-nginx runs it in a controller pod: it terminates
// the client's TCP, parses the request (wire/http.ts), asks its routing table (pushed by a controller
// in k8s/, through the RoutingTable interface owned here) for a decision by Host and path, and sends
// the request to one endpoint of the upstream over its own TCP connection — pod IP:port directly, so
// kube-proxy only sees the hop into the controller. Layer: app (imports core, wire, transport).
//
//   client ──TCP──▶ :80 parse ─▶ route(host, uri) ─▶ 404 | 301/308 | 503 | balancer pick ─▶ upstream
//                                                                         ▲ retry on error/timeout
//
// ingress-nginx's defaults (config.go NewDefault, nginx.tmpl, balancer.lua), kept as options:
//   backends synced every 1 s (BACKENDS_SYNC_INTERVAL): a new table takes effect at the next tick
//   proxy_next_upstream error timeout, tries 3; a request already sent is not retried for POST,
//   PATCH, LOCK (non-idempotent); timeout → 504, other errors → 502, no endpoint → 503
//   proxy-connect-timeout 5 s, proxy-read-timeout 60 s; upstream keepalive 320 idle connections,
//   60 s, 10000 requests; client keep-alive 75 s, 1000 requests
//   headers to the pod: Host, X-Request-ID (32 hex), X-Real-IP, X-Forwarded-For (the client address;
//   an incoming X-Forwarded-For moves to X-Original-Forwarded-For, use-forwarded-headers false),
//   X-Forwarded-Host, X-Forwarded-Port, X-Forwarded-Proto, X-Forwarded-Scheme, X-Scheme; the
//   client's Connection, Proxy and X-Forwarded-*/X-Real-IP headers are dropped
//   default server: 404 with nginx's HTML error page; ssl-redirect: 308 with Location https://host/uri
// NGINX Gateway Fabric (flavour nginx-gateway-fabric): its http.conf proxy_set_header list (Host, X-Forwarded-For
// appended to the client's, X-Real-IP, X-Forwarded-Proto/-Host/-Port), no HSTS; weighted backends (split_clients:
// one draw per request from the balancer stream), RequestHeaderModifier and URLRewrite's Host on the request.
// Not modelled: nginx workers (one per controller pod: round-robin state is per pod), request
// buffering limits (proxy-body-size), HTTP/2, WebSocket upgrades, nginx reloads (a new table is
// applied at the next sync tick, routes and endpoints alike), Date headers from a wall clock (the
// simulated clock counts from 1970-01-01).
import type { Rng } from '../core/rng.js';
import type { SimEvent } from '../core/scheduler.js';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { TcpLayer, TcpListener, TcpSocket } from '../transport/tcp/index.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import { buildHttpRequest, buildHttpResponse, httpHeader, HttpParser, type HttpHeader, type HttpRequest, type HttpResponse } from '../wire/http.js';
import { makeBalancer, pickWeighted, routeToCanary, splitTotal, stickyValue, type BalanceRequest, type Balancer, type ProxyRoute, type RouteDecision, type RouteRequest, type RoutingTable, type Upstream, type UpstreamEndpoint } from './l7-balancer.js';
import { applyHeaderModifier, forwardedHeaders } from './l7-headers.js';
import { TlsServer, TlsServerContext, type ByteStream } from './tls.js';
import { FAKE_CERTIFICATE, selectCertificateBySni } from './tls-certs.js';

/** Proxy settings (ingress-nginx's defaults). */
export interface L7ProxyOptions {
  port: number;
  /** The TLS port (443): TLS 1.3 terminated here, the certificate chosen by SNI from the routing table. */
  httpsPort?: number;
  /** The controller pod's name (stream names, logs). */
  identity: string;
  syncIntervalNs?: TimeNs;
  connectTimeoutNs?: TimeNs;
  readTimeoutNs?: TimeNs;
  tries?: number;
  keepaliveConnections?: number;
  keepaliveTimeoutNs?: TimeNs;
  keepaliveRequests?: number;
  clientKeepaliveNs?: TimeNs;
  /** Whose nginx this is: ingress-nginx (default: X-Request-ID, X-Scheme…, HSTS on https) or NGINX Gateway Fabric (its proxy_set_header list, no HSTS). */
  flavour?: 'ingress-nginx' | 'nginx-gateway-fabric';
}

/** One line of the access log: what a request got and where it went. */
export interface AccessLogEntry {
  at: TimeNs;
  /** When the response was written ($request_time = finishedAt − at). */
  finishedAt: TimeNs;
  requestId: string;
  remoteAddr: string;
  /** The client connection's source port (with remoteAddr: which connection carried the request). */
  remotePort: number;
  method: string;
  host: string;
  uri: string;
  status: number;
  /** The upstream chosen (canary included), or null. */
  upstream: string | null;
  /** Every endpoint tried, "ip:port", in order ($upstream_addr). */
  endpoints: string[];
  /** The matched rule, or why none. */
  route: string;
  /** The request as sent to the last endpoint (path and headers), null when none was sent. */
  sent: { uri: string; headers: HttpHeader[] } | null;
}

/** Counters of one proxy. */
export interface L7ProxyCounters {
  requests: number;
  responses: Record<string, number>;
  retries: number;
  upstreamConnections: number;
  upstreamReused: number;
}

interface ClientConn {
  sock: ByteStream;
  /** The TCP connection under it (the same object for plain HTTP). */
  tcp: TcpSocket;
  scheme: 'http' | 'https';
  parser: HttpParser;
  queue: HttpRequest[];
  busy: boolean;
  closed: boolean;
  peerClosed: boolean;
  served: number;
  idle: SimEvent | null;
}

interface UpConn {
  sock: TcpSocket;
  key: string;
  ep: UpstreamEndpoint;
  parser: HttpParser;
  established: boolean;
  dead: boolean;
  job: Job | null;
  requests: number;
  idle: SimEvent | null;
}

interface Job {
  conn: ClientConn;
  req: HttpRequest;
  view: BalanceRequest;
  log: AccessLogEntry;
  upstream: Upstream;
  balancer: Balancer;
  tried: Set<UpstreamEndpoint>;
  tries: number;
  attemptStart: TimeNs;
  sentBytes: boolean;
  timer: SimEvent | null;
  up: UpConn | null;
  setCookie: string | null;
  done: boolean;
  /** The matched route (its header modifier and host rewrite shape the request to the pod). */
  route: ProxyRoute;
}

const NON_IDEMPOTENT = new Set(['POST', 'PATCH', 'LOCK']);
const DROP_FROM_CLIENT = new Set(['host', 'connection', 'proxy', 'keep-alive', 'x-real-ip', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-forwarded-scheme', 'x-scheme', 'x-request-id', 'x-original-forwarded-for', 'content-length']);
const HOP_FROM_UPSTREAM = new Set(['connection', 'keep-alive', 'date', 'server', 'content-length', 'content-type', 'transfer-encoding']);
const REASON: Record<number, string> = { 301: 'Moved Permanently', 302: 'Moved Temporarily', 303: 'See Other', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 404: 'Not Found', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Temporarily Unavailable', 504: 'Gateway Time-out' };

/** nginx's built-in error page for a status (ngx_http_special_response.c). */
export function nginxErrorPage(status: number): string {
  const t = `${status} ${REASON[status] ?? ''}`;
  return `<html>\r\n<head><title>${t}</title></head>\r\n<body>\r\n<center><h1>${t}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

/** The sticky cookie and other cookies of a request. */
function cookieOf(req: HttpRequest, name: string): string | undefined {
  const c = httpHeader(req.headers, 'cookie');
  if (c === undefined) return undefined;
  for (const part of c.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** An ingress-nginx controller's data path in one pod. */
export class L7Proxy {
  readonly counters: L7ProxyCounters = { requests: 0, responses: {}, retries: 0, upstreamConnections: 0, upstreamReused: 0 };
  /** Called once per finished request (nginx's access log). */
  onAccessLog: ((e: AccessLogEntry) => void) | null = null;
  private readonly sim: Simulator;
  private readonly rng: Rng;
  private readonly idRng: Rng;
  private readonly listener: TcpListener;
  private table: RoutingTable | null = null;
  private staged: RoutingTable | null = null;
  private readonly balancers = new Map<string, { sig: string; b: Balancer }>();
  private readonly ewma = new Map<string, { ewma: number; at: TimeNs }>();
  private readonly pool = new Map<string, UpConn[]>();
  private idleCount = 0;
  private readonly o: Required<Omit<L7ProxyOptions, 'httpsPort'>>;
  private readonly tlsListener: TlsServer | null = null;
  private stopped = false;

  constructor(
    readonly tcp: TcpLayer,
    opts: L7ProxyOptions,
  ) {
    this.sim = tcp.stack.sim;
    this.o = { syncIntervalNs: 1e9, connectTimeoutNs: 5e9, readTimeoutNs: 60e9, tries: 3, keepaliveConnections: 320, keepaliveTimeoutNs: 60e9, keepaliveRequests: 10000, clientKeepaliveNs: 75e9, flavour: 'ingress-nginx', ...opts };
    this.rng = this.sim.rng.stream(`${tcp.stack.name}/l7-proxy/${opts.port}/balancer`);
    this.idRng = this.sim.rng.stream(`${tcp.stack.name}/l7-proxy/${opts.port}/request-id`);
    this.listener = tcp.listen(opts.port, (s) => this.accept(s, s, 'http'), { backlog: 511, noDelay: true });
    if (opts.httpsPort !== undefined) {
      // ssl_certificate_by_lua (certificate.lua): the SNI picks the certificate from the table in effect.
      const ctx = new TlsServerContext(this.sim.rng.stream(`${tcp.stack.name}/l7-proxy/${opts.httpsPort}/tls`), (sni) => selectCertificateBySni(sni, (h) => this.table?.certificate?.(h), FAKE_CERTIFICATE));
      this.tlsListener = new TlsServer(tcp, opts.httpsPort, ctx, (s) => this.accept(s, s.tcp, 'https'), { backlog: 511, noDelay: true });
    }
    this.sim.scheduleBackground(this.o.syncIntervalNs, syncTick, this);
  }

  /** A new routing table: the first applies at once, later ones at the next backends sync (every 1 s). */
  setTable(t: RoutingTable): void {
    if (this.table === null) this.apply(t);
    else this.staged = t;
  }

  /** The table in effect. */
  get current(): RoutingTable | null {
    return this.table;
  }

  /** Stops listening (open connections finish). */
  stop(): void {
    this.stopped = true;
    this.listener.close();
    this.tlsListener?.close();
  }

  /** The periodic backends sync: applies a staged table. */
  sync(): void {
    if (this.stopped) return;
    if (this.staged !== null) {
      this.apply(this.staged);
      this.staged = null;
    }
    this.sim.scheduleBackground(this.o.syncIntervalNs, syncTick, this);
  }

  private apply(t: RoutingTable): void {
    this.table = t;
    // A balancer is rebuilt (new random start) only when its upstream's endpoints or algorithm change.
    for (const [name, entry] of this.balancers) {
      const u = t.upstream(name);
      if (!u || signature(u) !== entry.sig) this.balancers.delete(name);
    }
  }

  private balancerOf(u: Upstream): Balancer {
    let e = this.balancers.get(u.name);
    if (!e) this.balancers.set(u.name, (e = { sig: signature(u), b: makeBalancer(u, this.rng, this.ewma, () => this.sim.now) }));
    return e.b;
  }

  private accept(sock: ByteStream, tcp: TcpSocket, scheme: 'http' | 'https'): void {
    const conn: ClientConn = { sock, tcp, scheme, parser: new HttpParser('request'), queue: [], busy: false, closed: false, peerClosed: false, served: 0, idle: null };
    sock.onData = (data) => {
      if (conn.closed) return;
      let msgs;
      try {
        msgs = data === null ? [] : conn.parser.push(data);
      } catch {
        this.respond(conn, null, 400, [], nginxErrorPage(400), true);
        return;
      }
      for (const m of msgs) if (m.kind === 'request') conn.queue.push(m);
      this.next(conn);
    };
    sock.onEnd = () => {
      conn.peerClosed = true;
      if (!conn.busy) this.closeClient(conn);
    };
    sock.onError = () => (conn.closed = true);
    sock.onClose = () => (conn.closed = true);
  }

  private next(conn: ClientConn): void {
    if (conn.busy || conn.closed) return;
    const req = conn.queue.shift();
    if (!req) {
      if (conn.peerClosed) this.closeClient(conn);
      else conn.idle = this.sim.scheduleBackground(this.o.clientKeepaliveNs, clientIdle, this, conn);
      return;
    }
    conn.idle?.cancel();
    conn.idle = null;
    conn.busy = true;
    this.handle(conn, req);
  }

  private handle(conn: ClientConn, req: HttpRequest): void {
    this.counters.requests++;
    const host = httpHeader(req.headers, 'host') ?? '';
    const hostOnly = host.replace(/:\d+$/, '').toLowerCase();
    const requestId = httpHeader(req.headers, 'x-request-id') ?? this.newRequestId();
    const log: AccessLogEntry = { at: this.sim.now, finishedAt: 0, requestId, remoteAddr: formatIpv4(conn.tcp.remoteAddr), remotePort: conn.tcp.remotePort, method: req.method, host, uri: req.target, status: 0, upstream: null, endpoints: [], route: '', sent: null };
    const view: BalanceRequest & RouteRequest = { uri: req.target, host: hostOnly, remoteAddr: log.remoteAddr, header: (n) => httpHeader(req.headers, n), cookie: (n) => cookieOf(req, n), method: req.method, scheme: conn.scheme, port: conn.tcp.localPort };
    const d: RouteDecision = this.table === null ? { kind: 'not-found', describe: 'no configuration yet' } : this.table.route(host, req.target, view);
    if (d.kind === 'not-found') return this.finish(conn, req, log, d.describe, d.status ?? 404, [['Content-Type', 'text/html']], nginxErrorPage(d.status ?? 404));
    if (d.kind === 'redirect') {
      const location = d.location.includes('://') ? d.location : `${conn.scheme}://${hostOnly}${d.location}`;
      return this.finish(conn, req, log, d.describe, d.status, [['Content-Type', 'text/html'], ['Location', location]], nginxErrorPage(d.status));
    }
    const route = d.route;
    if (route.sslRedirect && conn.scheme === 'http') {
      // lua_ingress.lua redirect_to_https: no port, the final "/" stripped (so "/" → https://host).
      const uri = req.target.endsWith('/') ? req.target.slice(0, -1) : req.target;
      return this.finish(conn, req, log, route.describe, 308, [['Content-Type', 'text/html'], ['Location', `https://${hostOnly}${uri}`]], nginxErrorPage(308));
    }
    let name = route.upstream;
    if (route.split != null) {
      // split_clients: one draw over the weights; an unresolved backend's share is answered 500.
      name = pickWeighted(route.split, this.rng.int(splitTotal(route.split)));
      if (name === null) return this.finish(conn, req, log, `${route.describe} (backend not resolved)`, 500, [['Content-Type', 'text/html']], nginxErrorPage(500));
    }
    let u = name !== null ? this.table!.upstream(name) : undefined;
    if (u && route.canary !== null) {
      const cu = this.table!.upstream(route.canary.upstream);
      if (cu && cu.endpoints.length > 0 && routeToCanary(route.canary, view, this.rng)) u = cu;
    }
    log.upstream = u?.name ?? name;
    if (!u || u.endpoints.length === 0) return this.finish(conn, req, log, route.describe, 503, [['Content-Type', 'text/html']], nginxErrorPage(503));
    log.route = route.describe;
    const job: Job = { conn, req: { ...req, target: d.uri }, view, log, upstream: u, balancer: this.balancerOf(u), tried: new Set(), tries: 0, attemptStart: 0, sentBytes: false, timer: null, up: null, setCookie: null, done: false, route };
    this.attempt(job);
  }

  private newRequestId(): string {
    let s = '';
    for (let i = 0; i < 4; i++) s += this.idRng.uint32().toString(16).padStart(8, '0');
    return s;
  }

  /** One try: pick an endpoint (sticky cookie first), take a pooled connection or open one, send. */
  private attempt(job: Job): void {
    const u = job.upstream;
    let ep: UpstreamEndpoint | null = null;
    if (u.affinity) {
      const v = job.view.cookie(u.affinity.cookieName);
      ep = v !== undefined ? (u.endpoints.find((e) => !job.tried.has(e) && stickyValue(e) === v) ?? null) : null;
      if (ep === null) {
        ep = job.balancer.pick(job.view, job.tried);
        if (ep) job.setCookie = `${u.affinity.cookieName}=${stickyValue(ep)}; Path=${u.affinity.path}; HttpOnly`;
      }
    } else ep = job.balancer.pick(job.view, job.tried);
    if (ep === null) return this.fail(job, job.tries === 0 ? 503 : 502);
    job.tried.add(ep);
    job.tries++;
    job.sentBytes = false;
    job.attemptStart = this.sim.now;
    job.log.endpoints.push(`${formatIpv4(ep.addr)}:${ep.port}`);
    const key = `${ep.addr}:${ep.port}`;
    const idle = this.pool.get(key);
    let up: UpConn | undefined;
    while (idle && idle.length > 0 && !up) {
      const c = idle.pop()!;
      this.idleCount--;
      c.idle?.cancel();
      c.idle = null;
      if (!c.dead && c.sock.state === 'ESTABLISHED') up = c;
    }
    if (up) {
      this.counters.upstreamReused++;
      up.job = job;
      job.up = up;
      this.send(up, job);
    } else {
      up = this.connect(ep, key, job);
      job.timer = this.sim.schedule(this.o.connectTimeoutNs, connectTimeout, this, job);
    }
  }

  private connect(ep: UpstreamEndpoint, key: string, job: Job): UpConn {
    this.counters.upstreamConnections++;
    const sock = this.tcp.connect(ep.addr, ep.port, undefined, { noDelay: true });
    const up: UpConn = { sock, key, ep, parser: new HttpParser('response'), established: false, dead: false, job, requests: 0, idle: null };
    job.up = up;
    sock.onConnect = () => {
      up.established = true;
      if (up.job !== null) {
        up.job.timer?.cancel();
        this.send(up, up.job);
      }
    };
    sock.onData = (data) => this.upstreamData(up, data);
    sock.onEnd = () => {
      const j = up.job;
      this.retireUp(up);
      up.sock.orphan();
      if (j !== null) this.upstreamFailed(j, 'error');
    };
    sock.onError = (k) => {
      const j = up.job;
      this.retireUp(up);
      if (j !== null) this.upstreamFailed(j, k === 'timeout' ? 'timeout' : 'error');
    };
    sock.onClose = () => this.retireUp(up);
    return up;
  }

  /** The request as the pod gets it (nginx.tmpl proxy_set_header list, then the client's own headers). */
  private upstreamRequest(job: Job): Uint8Array {
    const req = job.req;
    const c = job.conn.tcp;
    const host = job.route.hostRewrite ?? httpHeader(req.headers, 'host') ?? '';
    const remote = job.log.remoteAddr;
    const scheme = job.conn.scheme;
    const xff = httpHeader(req.headers, 'x-forwarded-for');
    const headers = forwardedHeaders(this.o.flavour, { host, remote, scheme, port: c.localPort, requestId: job.log.requestId, xff });
    let own: HttpHeader[] = [];
    for (const h of req.headers) if (!DROP_FROM_CLIENT.has(h[0].toLowerCase())) own.push(h);
    if (job.route.headerModifier != null) own = applyHeaderModifier(own, job.route.headerModifier);
    for (const h of own) headers.push(h);
    if (req.body.length > 0 || NON_IDEMPOTENT.has(req.method) || req.method === 'PUT') headers.push(['Content-Length', String(req.body.length)]);
    job.log.sent = { uri: req.target, headers };
    return buildHttpRequest({ method: req.method, target: req.target, headers, body: req.body });
  }

  private send(up: UpConn, job: Job): void {
    up.requests++;
    job.sentBytes = true;
    up.sock.send(this.upstreamRequest(job));
    job.timer?.cancel();
    job.timer = this.sim.schedule(this.o.readTimeoutNs, readTimeout, this, job);
  }

  private upstreamData(up: UpConn, data: Uint8Array | null): void {
    if (up.dead) return;
    let msgs: ReturnType<HttpParser['push']>;
    try {
      // null: opaque bytes, a generic request/response server's (app/tcp-rr): nginx's "upstream sent no valid HTTP/1.0 header"
      if (data === null) throw new Error('not HTTP');
      msgs = up.parser.push(data);
    } catch {
      const j = up.job;
      this.killUp(up);
      if (j !== null) this.upstreamFailed(j, 'invalid');
      return;
    }
    for (const m of msgs) {
      const job = up.job;
      if (m.kind !== 'response' || job === null) continue;
      up.job = null;
      job.up = null;
      job.timer?.cancel();
      job.timer = null;
      job.balancer.observe([...job.tried].pop()!, this.sim.now - job.attemptStart, this.sim.now);
      const closing = /close/i.test(httpHeader(m.headers, 'connection') ?? '') || up.requests >= this.o.keepaliveRequests;
      if (closing) this.killUp(up);
      else this.release(up);
      this.forward(job, m);
    }
  }

  /** Passes the pod's response on (nginx replaces Date, Server and the connection headers). */
  private forward(job: Job, m: HttpResponse): void {
    const extra: HttpHeader[] = [];
    const type = httpHeader(m.headers, 'content-type');
    if (type !== undefined) extra.push(['Content-Type', type]);
    for (const h of m.headers) if (!HOP_FROM_UPSTREAM.has(h[0].toLowerCase())) extra.push(h);
    if (job.setCookie !== null) extra.push(['Set-Cookie', job.setCookie]);
    this.complete(job, m.status, extra, m.body, m.reason);
  }

  private upstreamFailed(job: Job, why: 'error' | 'timeout' | 'invalid'): void {
    if (job.done) return;
    job.timer?.cancel();
    job.timer = null;
    job.up = null;
    const retryable = why !== 'invalid' && (!job.sentBytes || !NON_IDEMPOTENT.has(job.req.method)) && !job.upstream.serviceUpstream;
    if (retryable && job.tries < this.o.tries && job.tried.size < job.upstream.endpoints.length) {
      this.counters.retries++;
      this.attempt(job);
      return;
    }
    this.fail(job, why === 'timeout' ? 504 : 502);
  }

  /** A connect or read timer fired: the attempt fails with a timeout (the socket is dropped). */
  timedOut(job: Job): void {
    job.timer = null;
    const up = job.up;
    if (up !== null) {
      up.job = null;
      this.killUp(up, true);
    }
    this.upstreamFailed(job, 'timeout');
  }

  private fail(job: Job, status: number): void {
    this.complete(job, status, [['Content-Type', 'text/html']], nginxErrorPage(status));
  }

  private complete(job: Job, status: number, headers: HttpHeader[], body: Uint8Array | string, reason?: string): void {
    if (job.done) return;
    job.done = true;
    this.finish(job.conn, job.req, job.log, job.log.route, status, headers, body, reason);
  }

  private finish(conn: ClientConn, req: HttpRequest, log: AccessLogEntry, route: string, status: number, headers: HttpHeader[], body: Uint8Array | string, reason?: string): void {
    log.status = status;
    log.route = route;
    log.finishedAt = this.sim.now;
    this.counters.responses[String(status)] = (this.counters.responses[String(status)] ?? 0) + 1;
    conn.served++;
    const close = /close/i.test(httpHeader(req.headers, 'connection') ?? '') || req.version === 'HTTP/1.0' || conn.served >= 1000;
    this.respond(conn, req, status, headers, body, close, reason);
    this.onAccessLog?.(log);
  }

  private respond(conn: ClientConn, _req: HttpRequest | null, status: number, headers: HttpHeader[], body: Uint8Array | string, close: boolean, reason?: string): void {
    if (conn.closed || conn.sock.isClosed()) return;
    const date = new Date(Math.floor(this.sim.now / 1e6)).toUTCString();
    const head: HttpHeader[] = [['Date', date], ...headers.filter((h) => h[0] === 'Content-Type')];
    const rest = headers.filter((h) => h[0] !== 'Content-Type');
    const hsts: HttpHeader[] = conn.scheme === 'https' && this.o.flavour === 'ingress-nginx' ? [['Strict-Transport-Security', 'max-age=31536000; includeSubDomains']] : [];
    const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    const all: HttpHeader[] = [...head, ['Content-Length', String(len)], ['Connection', close ? 'close' : 'keep-alive'], ...rest, ...hsts];
    conn.sock.send(buildHttpResponse({ status, reason: reason ?? REASON[status], headers: all, body }));
    conn.busy = false;
    if (close) this.closeClient(conn);
    else this.next(conn);
  }

  /** Closes a client connection for good (`closed` makes its callbacks no-ops): the socket is orphaned. */
  private closeClient(conn: ClientConn): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.idle?.cancel();
    conn.sock.orphan();
  }

  /** Back to the keepalive pool (320 idle connections at most: the oldest idle one is closed). */
  private release(up: UpConn): void {
    let list = this.pool.get(up.key);
    if (!list) this.pool.set(up.key, (list = []));
    list.push(up);
    this.idleCount++;
    up.idle = this.sim.scheduleBackground(this.o.keepaliveTimeoutNs, upIdle, this, up);
    if (this.idleCount > this.o.keepaliveConnections) {
      let oldest: UpConn | null = null;
      for (const l of this.pool.values()) if (l.length > 0 && (oldest === null || (l[0]!.idle?.time ?? 0) < (oldest.idle?.time ?? 0))) oldest = l[0]!;
      if (oldest) this.killUp(oldest);
    }
  }

  private retireUp(up: UpConn): void {
    if (up.dead) return;
    up.dead = true;
    up.idle?.cancel();
    const list = this.pool.get(up.key);
    const i = list ? list.indexOf(up) : -1;
    if (i >= 0) {
      list!.splice(i, 1);
      this.idleCount--;
    }
  }

  /** Closes an upstream connection (FIN, or abort for a timed-out attempt); retired, its socket is orphaned. */
  killUp(up: UpConn, abort = false): void {
    if (up.dead) return;
    this.retireUp(up);
    if (abort) up.sock.abort();
    else {
      up.sock.orphan();
    }
  }

  /** The client's keep-alive timer expired. */
  clientIdle(conn: ClientConn): void {
    conn.idle = null;
    if (!conn.busy) this.closeClient(conn);
  }
}

function signature(u: Upstream): string {
  return `${u.loadBalance}|${u.hashBy ?? ''}|${u.endpoints.map((e) => `${e.addr}:${e.port}`).join(',')}`;
}

function syncTick(p: L7Proxy): void {
  p.sync();
}
function connectTimeout(p: L7Proxy, job: Job): void {
  p.timedOut(job);
}
function readTimeout(p: L7Proxy, job: Job): void {
  p.timedOut(job);
}
function upIdle(p: L7Proxy, up: UpConn): void {
  up.idle = null;
  p.killUp(up);
}
function clientIdle(p: L7Proxy, conn: ClientConn): void {
  p.clientIdle(conn);
}
