// app/http-client — an HTTP/1.1 client: one request at a time per connection, a new connection per
// request (as `curl` run in a loop) or a keep-alive pool (as a load tester's connection pool).
// Layer: app (imports core, wire, packet, net, transport, stats types).
// Errors are classified the way a client sees them: ECONNREFUSED → 'refused', ECONNRESET or a close
// before the response → 'reset', ETIMEDOUT or the request timer → 'timeout', EHOSTUNREACH/ENETUNREACH →
// 'no-route', name resolution failure → 'dns', an unparsable response (or one not opening with "HTTP/") → 'protocol'.
// https targets run over app/tls (TLS 1.3: SNI = the host unless it is an address, ALPN http/1.1).
// Not modelled: pipelining, redirects, chunked bodies, HTTP/2, happy eyeballs, Expect: 100-continue.
import type { SimEvent } from '../core/scheduler.js';
import type { Rng } from '../core/rng.js';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { ErrorKind, RequestPhases } from '../stats/flow.js';
import type { SocketErrorKind, StreamHandler } from '../transport/api.js';
import type { TcpLayer, TcpSocket, TcpSocketOptions } from '../transport/tcp/index.js';
import { buildHttpRequest as buildHttpRequestImported, httpHeader as httpHeaderImported, HttpHeadCache, HttpParser, sealHttpBytes as sealHttpBytesImported, type HttpHeader, type HttpResponse } from '../wire/http.js';
import type { Ipv4 } from '../wire/types.js';
import { parseIpv4 as parseIpv4Imported } from '../wire/ipv4-addr.js';
import { TlsSocket, type ByteStream } from './tls.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const buildHttpRequest = buildHttpRequestImported;
const httpHeader = httpHeaderImported;
const sealHttpBytes = sealHttpBytesImported;
const parseIpv4 = parseIpv4Imported;
const errorKindOfHere = errorKindOf;

/** Resolves a host name (the DNS stub resolver implements this); null = resolution failed. */
export interface Resolver {
  resolve(name: string, cb: (addr: Ipv4 | null) => void): void;
}

/** Where a request goes. `addr` null means: resolve `host` first. */
export interface HttpTarget {
  addr: Ipv4 | null;
  port: number;
  /** Host header (and the name to resolve when addr is null). */
  host: string;
  path?: string;
  method?: string;
  body?: Uint8Array | string;
  /** https: speak TLS on the connection (SNI = host unless it is an IPv4 address). */
  tls?: boolean;
  /** More request headers, after Host, User-Agent and Accept (curl -H). */
  headers?: readonly HttpHeader[];
}

/** The outcome of one request attempt. */
export interface HttpResult {
  ok: boolean;
  error: ErrorKind | null;
  status: number;
  /** From the call to request() to the last response byte (or the failure). */
  latency: TimeNs;
  /** Handshake time when this attempt opened a connection, else null. */
  connect: TimeNs | null;
  /** TLS handshake time (TCP established → secure) when this attempt opened an https connection, else null. */
  tls: TimeNs | null;
  /** Response body bytes. */
  bytes: number;
  /** The `X-Served-By` header of the response (which pod answered). */
  servedBy: string | null;
  /** The response, frozen (its head fields and header list are shared by responses with the same head, the whole message by responses with the same head and body bytes). */
  response: HttpResponse | null;
  /** The attempt's phases (successful responses only; else null). */
  phases: RequestPhases | null;
  /** Why the TLS layer gave up (https failures only): its reason and, for a peer not speaking TLS, its first 5 bytes. */
  tlsFailure?: { reason: string; badFirstRecord: string | null };
}

/** Client behaviour. */
export interface HttpClientOptions {
  /** Reuse connections (keep-alive pool) instead of one connection per request. */
  keepAlive: boolean;
  /** Most connections open at once per target; requests beyond wait for a free one. Default unlimited. */
  maxConnections?: number;
  /** Flow id stamped on packets. */
  flowId?: number;
  /** User-Agent header (default "podwire/0.1"). */
  userAgent?: string;
  /** Resolves target hosts given by name. */
  resolver?: Resolver | null;
}

/** Maps a socket error to the request error kind. */
export function errorKindOf(k: SocketErrorKind): ErrorKind {
  switch (k) {
    case 'refused':
      return 'refused';
    case 'reset':
      return 'reset';
    case 'timeout':
      return 'timeout';
    case 'unreachable':
      return 'no-route';
    case 'addrnotavail':
      return 'addrnotavail';
    default: {
      const never: never = k;
      throw new Error(`unknown socket error ${String(never)}`);
    }
  }
}

/**
 * Who hears a request's outcome: a function, or an object whose `requestDone` runs (a caller's own
 * per-request record, so a request needs no closure). An object whose `resultLent` is true reads the
 * result (and its phases) during the call only: a successful one is then the client's own object,
 * rewritten for each such response, not a new one a request (load-generator.ts LoadRequest).
 */
export type HttpCallback = ((r: HttpResult) => void) | { requestDone(r: HttpResult): void; readonly resultLent?: boolean };

interface Pending {
  target: HttpTarget;
  addr: Ipv4;
  started: TimeNs;
  timeout: TimeNs;
  cb: HttpCallback;
  timer: SimEvent | null;
  conn: ClientConn | null;
  done: boolean;
  connect: TimeNs | null;
  // Phase timestamps (absolute sim time; null until reached): name resolved, connection usable, request written,
  // first response byte. `tlsAt`: set by the TLS layer when its handshake completes (tls phase = tlsAt − connectedAt).
  resolvedAt: TimeNs | null;
  connectedAt: TimeNs | null;
  tlsAt: TimeNs | null;
  sentAt: TimeNs | null;
  firstByteAt: TimeNs | null;
  tls: TimeNs | null;
}

/**
 * One target's pool (by its key): the connections open, the idle ones and the requests waiting. The
 * lists are also in the client's maps (their order of first use is the order closeIdle and fail walk);
 * a request and a connection reach their pool without a map lookup.
 */
class Pool {
  open = 0;
  idle: ClientConn[] | null = null;
  waiting: Pending[] | null = null;
  constructor(readonly key: string) {}
}

/** One connection of the pool; it is its socket's handler (no closure per callback per connection). */
class ClientConn implements StreamHandler {
  established = false;
  dead = false;
  req: Pending | null = null;
  constructor(
    readonly client: HttpClient,
    readonly sock: ByteStream,
    readonly tcp: TcpSocket,
    readonly tls: TlsSocket | null,
    readonly pool: Pool,
    readonly parser: HttpParser,
    readonly openedAt: TimeNs,
  ) {}

  /** Connected (TLS: secure): the waiting request is written. */
  streamConnected(): void {
    this.established = true;
    const p = this.req;
    if (p === null) return;
    const tcp = this.tcp;
    p.connect = tcp.establishedAt - this.openedAt;
    p.connectedAt = tcp.establishedAt;
    const tls = this.tls;
    if (tls !== null) {
      p.tls = tls.secureAt - tcp.establishedAt;
      p.tlsAt = tls.secureAt;
    }
    this.client.write(this, p);
  }

  streamData(data: Uint8Array | null): void {
    this.client.received(this, data);
  }

  /** The server closed: a request in flight gets no answer; an idle connection leaves the pool. */
  streamEnd(): void {
    this.client.retire(this);
    if (this.req !== null) this.client.fail(this.req, 'reset');
    this.sock.orphan();
  }

  streamError(k: SocketErrorKind): void {
    this.client.retire(this);
    const tls = this.tls;
    if (this.req !== null) this.client.fail(this.req, errorKindOfHere(k), tls?.failure != null ? { reason: tls.failure, badFirstRecord: tls.badFirstRecord } : undefined);
  }

  /** (A connection the client closed is retired and orphaned already: no word comes when its TIME_WAIT ends.) */
  streamClosed(): void {
    this.client.retire(this);
  }
}

/** An HTTP client with a per-target connection pool. */
export class HttpClient {
  private readonly sim: Simulator;
  private readonly pools = new Map<string, Pool>();
  private readonly idle = new Map<string, ClientConn[]>();
  private readonly waiting = new Map<string, Pending[]>();
  /** Connections opened so far. */
  connectionsOpened = 0;
  /**
   * The response heads this client's connections received lately (their parsers try these first). Its
   * parsers are `shared`: a response's head fields and header list are frozen (HttpResult.response).
   */
  private readonly heads = new HttpHeadCache();
  /**
   * readHeaders: the heads read lately (a ring of 4: a Service's backends answer with different heads)
   * and what each said, as triples (key, closing, servedBy) in one array, the key a parser's head entry
   * or a header list: a client is cold by its next response in a big world (one a flow), and three
   * arrays were three lines to read.
   * `closing` and `servedBy` are the last one's answers.
   */
  private readonly readRing: (object | boolean | string | null)[] = [null, false, null, null, false, null, null, false, null, null, false, null];
  private readNext = 0;
  private closing = false;
  private servedBy: string | null = null;
  private tlsRng: Rng | null = null;
  /** The options of every connection this client opens (read by the socket's constructor only). */
  private connOpts: TcpSocketOptions | null = null;
  // poolOf's last target, its fields and pool, and what dispatch reads of the options, in the client's
  // own fields: objects of their own were lines read cold at a big world's client by its next request.
  private keyTarget: HttpTarget | null = null;
  private keyAddr = 0;
  private keyPort = 0;
  private keyTls: boolean | undefined = undefined;
  private keyHost = '';
  private keyPool: Pool | null = null;
  private readonly keepAlive: boolean;
  private readonly maxConns: number | undefined;
  private lastRequest: { target: HttpTarget; host: string; port: number; tls: boolean | undefined; method: string | undefined; path: string | undefined; body: Uint8Array | string | undefined; headers: readonly HttpHeader[] | undefined; bytes: Uint8Array } | null = null;
  /** The result and phases lent to a `resultLent` callback (completeWith), made on the first one. */
  private lent: HttpResult | null = null;
  private lentPhases: RequestPhases | null = null;

  constructor(
    readonly tcp: TcpLayer,
    readonly opts: HttpClientOptions,
  ) {
    this.sim = tcp.stack.sim;
    this.keepAlive = opts.keepAlive;
    this.maxConns = opts.maxConnections ?? undefined;
  }

  /** Sends one request (one attempt); `cb` runs exactly once with the outcome. */
  request(target: HttpTarget, timeout: TimeNs, cb: HttpCallback): void {
    const p: Pending = { target, addr: 0, started: this.sim.now, timeout, cb, timer: null, conn: null, done: false, connect: null, tls: null, resolvedAt: null, connectedAt: null, tlsAt: null, sentAt: null, firstByteAt: null };
    p.timer = this.sim.schedule(timeout, requestTimeout, this, p);
    if (target.addr !== null) {
      p.addr = target.addr;
      this.dispatch(p);
      return;
    }
    const r = this.opts.resolver;
    if (!r) {
      this.sim.schedule(0, () => this.fail(p, 'dns'));
      return;
    }
    r.resolve(target.host, (addr) => {
      if (p.done) return;
      if (addr === null) this.fail(p, 'dns');
      else {
        p.addr = addr;
        p.resolvedAt = this.sim.now;
        this.dispatch(p);
      }
    });
  }

  private dispatch(p: Pending): void {
    const pool = this.poolOf(p.target, p.addr);
    if (this.keepAlive) {
      const list = pool.idle;
      while (list && list.length > 0) {
        const c = list.pop()!;
        if (!c.dead && c.sock.state === 'ESTABLISHED') {
          this.assign(c, p);
          return;
        }
      }
    }
    if (this.maxConns !== undefined && pool.open >= this.maxConns) {
      let w = pool.waiting;
      if (w === null) this.waiting.set(pool.key, (w = pool.waiting = []));
      w.push(p);
      return;
    }
    this.openConn(pool, p);
  }

  /**
   * The pool of a target at an address (by its key); the last one is kept (a load generator sends to
   * one target), so a request costs no map lookup.
   */
  private poolOf(t: HttpTarget, addr: Ipv4): Pool {
    if (this.keyTarget === t && this.keyAddr === addr && this.keyPort === t.port && this.keyTls === t.tls && this.keyHost === t.host) return this.keyPool!;
    const key = t.tls ? `${addr}:${t.port}/tls/${t.host}` : `${addr}:${t.port}`;
    let pool = this.pools.get(key);
    if (pool === undefined) this.pools.set(key, (pool = new Pool(key)));
    this.keyTarget = t;
    this.keyAddr = addr;
    this.keyPort = t.port;
    this.keyTls = t.tls;
    this.keyHost = t.host;
    this.keyPool = pool;
    return pool;
  }

  private openConn(pool: Pool, p: Pending): void {
    pool.open++;
    this.connectionsOpened++;
    const tcp = this.tcp.connect(p.addr, p.target.port, undefined, (this.connOpts ??= { noDelay: true, flowId: this.opts.flowId ?? 0 }));
    if (tcp.state === 'CLOSED') {
      // connect() failed at once (EADDRNOTAVAIL, no route): its error event comes next. A closed-loop user beyond
      // the ephemeral ports meets this on every request: no parser, connection record or closures, only the error handler.
      tcp.onError = (k) => {
        // As retire() then fail() do for a connection record: the slot is freed (a waiting request
        // takes it), then the request fails.
        pool.open--;
        const w = pool.waiting;
        if (w !== null && w.length > 0) this.openConn(pool, w.shift()!);
        this.fail(p, errorKindOfHere(k));
      };
      return;
    }
    const tls = p.target.tls ? TlsSocket.connect(tcp, { rng: (this.tlsRng ??= this.sim.rng.stream(`${this.tcp.stack.name}/tls-client`)), serverName: parseIpv4(p.target.host) === null ? p.target.host : null }) : null;
    const sock: ByteStream = tls ?? tcp;
    const c = new ClientConn(this, sock, tcp, tls, pool, new HttpParser('response', this.heads, true), this.sim.now);
    sock.handler = c;
    c.req = p;
    p.conn = c;
  }

  private assign(c: ClientConn, p: Pending): void {
    c.req = p;
    p.conn = c;
    this.write(c, p);
  }

  /** @internal (ClientConn) */
  write(c: ClientConn, p: Pending): void {
    const t = p.target;
    p.sentAt = this.sim.now;
    c.sock.send(this.requestBytes(t));
  }

  /**
   * The request's bytes; the last target's are kept and handed out again while its fields are the same
   * (a load generator sends one target's request over and over): sent bytes are never written to.
   */
  private requestBytes(t: HttpTarget): Uint8Array {
    const last = this.lastRequest;
    if (last !== null && last.target === t && last.host === t.host && last.port === t.port && last.tls === t.tls && last.method === t.method && last.path === t.path && last.body === t.body && last.headers === t.headers) return last.bytes;
    const headers: HttpHeader[] = [['Host', t.port === (t.tls ? 443 : 80) ? t.host : `${t.host}:${t.port}`], ['User-Agent', this.opts.userAgent ?? 'podwire/0.1'], ['Accept', '*/*'], ...(t.headers ?? [])];
    // (sealed: this client never writes them, and its requests are sent over and over)
    const bytes = sealHttpBytes(buildHttpRequest({ method: t.method ?? 'GET', target: t.path ?? '/', headers, ...(t.body !== undefined ? { body: t.body } : {}) }));
    // A Uint8Array body belongs to the caller, who may refill it between requests: not kept.
    if (typeof t.body !== 'object') this.lastRequest = { target: t, host: t.host, port: t.port, tls: t.tls, method: t.method, path: t.path, body: t.body, headers: t.headers, bytes };
    return bytes;
  }

  /** @internal (ClientConn) Response bytes on `c`. */
  received(c: ClientConn, data: Uint8Array | null): void {
    if (c.dead) return;
    const first = c.req !== null && c.req.firstByteAt === null;
    if (first) c.req!.firstByteAt = this.sim.now;
    let msgs;
    try {
      // A response opens with "HTTP/": other bytes (a Redis's "-ERR", app/tcp-rr's length-only ones) fail at once (curl: "Received HTTP/0.9 when not allowed").
      if (data === null || (first && data[0] !== 0x48)) throw new Error('not HTTP');
      msgs = c.parser.push(data);
    } catch {
      const p = c.req;
      this.kill(c);
      if (p !== null) this.fail(p, 'protocol');
      return;
    }
    if (msgs.length === 1) {
      // One response (nearly every push): head entry, status and body length from the parser, not the message
      // (its line and body view are cold by a big world's next response; it is handed on unread).
      const p = c.req;
      if (p === null) return;
      c.req = null;
      const parser = c.parser;
      this.readHeaders(parser.lastHead!, msgs[0] as HttpResponse);
      const closing = this.closing;
      this.completeWith(p, msgs[0] as HttpResponse, parser.lastStatus, parser.lastBodyLength);
      if (!this.keepAlive || closing) this.kill(c);
      else this.release(c);
      return;
    }
    for (const m of msgs) {
      const p = c.req;
      if (m.kind !== 'response' || p === null) continue;
      c.req = null;
      this.readHeaders(m.headers, m);
      const closing = this.closing;
      this.complete(p, m);
      if (!this.keepAlive || closing) this.kill(c);
      else this.release(c);
    }
  }

  /**
   * The two fields read from a response's headers (Connection: close, X-Served-By), for `closing` and
   * `servedBy`, remembered by `key`: the response's head entry (HttpParser.lastHead) for a push that
   * completed one response, else its header list. Responses come from this client's parsers (`shared`:
   * one head's responses have one frozen header list, never written), so a key met lately is answered
   * without reading the message or its list; only a frozen list's answers are kept (any other could
   * change under the same identity).
   */
  private readHeaders(key: object, m: HttpResponse): void {
    const ring = this.readRing;
    for (let k = 0; k < 12; k += 3) {
      if (ring[k] !== key) continue;
      this.closing = ring[k + 1] as boolean;
      this.servedBy = ring[k + 2] as string | null;
      return;
    }
    const headers = m.headers;
    this.closing = /close/i.test(httpHeader(headers, 'connection') ?? '');
    this.servedBy = httpHeader(headers, 'x-served-by') ?? null;
    if (!Object.isFrozen(headers)) return;
    const i = 3 * this.readNext;
    ring[i] = key;
    ring[i + 1] = this.closing;
    ring[i + 2] = this.servedBy;
    this.readNext = (this.readNext + 1) & 3;
  }

  /** complete() of a response whose headers readHeaders read last. */
  private complete(p: Pending, m: HttpResponse): void {
    this.completeWith(p, m, m.status, m.body.length);
  }

  /** complete() with the response's status and body length given (HttpParser's last ones: see received). */
  private completeWith(p: Pending, m: HttpResponse, status: number, bytes: number): void {
    if (p.done) return;
    p.done = true;
    stopTimer(p);
    p.conn = null;
    const ok = status >= 200 && status < 400;
    const cb = takeCallback(p);
    if (typeof cb !== 'function' && cb.resultLent === true) {
      this.lendResult(cb, p, m, status, bytes, ok);
      return;
    }
    done(cb, {
      ok,
      error: ok ? null : 'protocol',
      status,
      latency: this.sim.now - p.started,
      connect: p.connect,
      tls: p.tls,
      bytes,
      servedBy: this.servedBy,
      response: m,
      phases: phasesOf(p, this.sim.now),
    });
  }

  /** completeWith's result for a callback that borrows it: the client's own objects, every field rewritten. */
  private lendResult(cb: { requestDone(r: HttpResult): void }, p: Pending, m: HttpResponse, status: number, bytes: number, ok: boolean): void {
    const now = this.sim.now;
    const ph = (this.lentPhases ??= { dns: 0, connect: 0, tls: 0, ttfb: 0, total: 0 });
    writePhases(ph, p, now);
    const r = (this.lent ??= { ok: false, error: null, status: 0, latency: 0, connect: null, tls: null, bytes: 0, servedBy: null, response: null, phases: null });
    r.ok = ok;
    r.error = ok ? null : 'protocol';
    r.status = status;
    r.latency = now - p.started;
    r.connect = p.connect;
    r.tls = p.tls;
    r.bytes = bytes;
    r.servedBy = this.servedBy;
    r.response = m;
    r.phases = ph;
    cb.requestDone(r);
    r.response = null; // (the message is not kept alive until the next response)
  }

  /** Ends a request with an error (idempotent). */
  fail(p: Pending, kind: ErrorKind, tlsFailure?: HttpResult['tlsFailure']): void {
    if (p.done) return;
    p.done = true;
    stopTimer(p);
    const c = p.conn;
    p.conn = null;
    if (c !== null && c.req === p) {
      c.req = null;
      if (kind === 'timeout') this.kill(c);
    } else if (c === null) {
      // Still waiting for a pooled connection: drop it from the wait list.
      for (const w of this.waiting.values()) {
        const i = w.indexOf(p);
        if (i >= 0) w.splice(i, 1);
      }
    }
    done(takeCallback(p), { ok: false, error: kind, status: 0, latency: this.sim.now - p.started, connect: p.connect, tls: p.tls, bytes: 0, servedBy: null, response: null, phases: null, ...(tlsFailure ? { tlsFailure } : {}) });
  }

  private release(c: ClientConn): void {
    const pool = c.pool;
    const w = pool.waiting;
    if (w !== null && w.length > 0) {
      this.assign(c, w.shift()!);
      return;
    }
    let list = pool.idle;
    if (list === null) this.idle.set(pool.key, (list = pool.idle = []));
    list.push(c);
  }

  /**
   * Closes a connection (FIN) and forgets it: retired, then orphaned (its callbacks have nothing left to
   * do), so its TIME_WAIT keeps neither the socket nor this record alive.
   */
  private kill(c: ClientConn): void {
    if (c.dead) return;
    this.retire(c);
    c.sock.orphan();
  }

  /** @internal (ClientConn) */
  retire(c: ClientConn): void {
    if (c.dead) return;
    c.dead = true;
    const pool = c.pool;
    pool.open--;
    const list = pool.idle;
    if (list !== null) {
      const i = list.indexOf(c);
      if (i >= 0) list.splice(i, 1);
    }
    // A slot freed: start a waiting request on a new connection.
    const w = pool.waiting;
    if (w !== null && w.length > 0) this.openConn(pool, w.shift()!);
  }

  /** Closes every idle pooled connection. */
  closeIdle(): void {
    for (const list of this.idle.values()) for (const c of [...list]) this.kill(c);
  }
}

/** The phases of a completed request: each from its timestamps (dns and connect 0 when skipped). */
function phasesOf(p: Pending, now: TimeNs): RequestPhases {
  const dns = p.resolvedAt !== null ? p.resolvedAt - p.started : 0;
  const connect = p.connect ?? 0;
  const tls = p.tlsAt !== null && p.connectedAt !== null ? p.tlsAt - p.connectedAt : 0;
  const ttfb = p.firstByteAt !== null && p.sentAt !== null ? p.firstByteAt - p.sentAt : 0;
  return { dns, connect, tls, ttfb, total: now - p.started };
}

/** phasesOf written into `ph` (a lent result's: HttpClient.lendResult). */
function writePhases(ph: RequestPhases, p: Pending, now: TimeNs): void {
  ph.dns = p.resolvedAt !== null ? p.resolvedAt - p.started : 0;
  ph.connect = p.connect ?? 0;
  ph.tls = p.tlsAt !== null && p.connectedAt !== null ? p.tlsAt - p.connectedAt : 0;
  ph.ttfb = p.firstByteAt !== null && p.sentAt !== null ? p.firstByteAt - p.sentAt : 0;
  ph.total = now - p.started;
}

const DONE = (): void => {};

/**
 * The request's callback, once: the Pending lets go of it (a resolver or connection callback still in
 * flight keeps the Pending; the caller's closures need not live that long).
 */
function takeCallback(p: Pending): HttpCallback {
  const cb = p.cb;
  p.cb = DONE;
  return cb;
}

function done(cb: HttpCallback, r: HttpResult): void {
  if (typeof cb === 'function') cb(r);
  else cb.requestDone(r);
}

/**
 * Cancels the request's timer and lets go of it (SimEvent.drop: nothing else holds it, and a later event
 * takes its object once the queue gives it up, not a new one a request).
 */
function stopTimer(p: Pending): void {
  p.timer?.drop();
  p.timer = null;
}

function requestTimeout(client: HttpClient, p: Pending): void {
  p.timer = null;
  client.fail(p, 'timeout');
}
