// app/http-server — an HTTP/1.1 server in a pod: W workers, a FIFO queue when all are busy, a
// service-time distribution, a response size, and an identity (the pod name) in every response.
// Layer: app (imports core, wire, packet, net, transport, and the stats recorder interfaces).
// Mirrors a thread-pool server (e.g. a Go net/http handler behind a semaphore, or gunicorn sync
// workers): a request holds a worker for its service time, then the response is written in one
// send(); keep-alive as RFC 9112 §9.3 (persistent unless "Connection: close").
// Not modelled: request bodies larger than what arrives before service (bodies are read whole by the
// parser first), pipelining (requests on one connection are served one after another), CPU contention
// between pods. With `tls` the server speaks HTTPS through app/tls (TLS 1.3 modelled, ALPN http/1.1).
import type { Rng } from '../core/rng.js';
import { sample as sampleImported, type Distribution } from '../core/distributions.js';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { EndpointRecorder } from '../stats/endpoint.js';
import type { StreamHandler } from '../transport/api.js';
import type { TcpAcceptor, TcpLayer, TcpListener, TcpSocket } from '../transport/tcp/index.js';
import { buildHttpResponse as buildHttpResponseImported, httpHeader as httpHeaderImported, HttpHeadCache, HttpParser, sealHttpBytes as sealHttpBytesImported, type HttpHeader, type HttpRequest } from '../wire/http.js';
import { TlsSocket, type ByteStream, type TlsServerContext } from './tls.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const sample = sampleImported;
const buildHttpResponse = buildHttpResponseImported;
const httpHeader = httpHeaderImported;
const sealHttpBytes = sealHttpBytesImported;

/** How the kubelet's HTTP prober's User-Agent starts (kube-probe/<major>.<minor>): its requests are counted apart. */
export const KUBE_PROBE_AGENT = 'kube-probe/';

/** What an HTTP server pod does. */
/** Largest response body a server sends (a draw from a long-tailed distribution is cut here). */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** The defaults of serviceTime and responseSize (shared: a distribution is only read). */
const NO_SERVICE_TIME: Distribution = Object.freeze({ kind: 'constant', value: 0 });
const DEFAULT_RESPONSE_SIZE: Distribution = Object.freeze({ kind: 'constant', value: 64 });

export interface HttpServerOptions {
  port: number;
  /** Who answers (the pod name): sent as `X-Served-By` and as the first body line. */
  identity: string;
  /** Concurrent requests in service; more wait in FIFO order. Default 1. */
  workers?: number;
  /** Service time per request, ns. Default constant 0. */
  serviceTime?: Distribution;
  /** Response body bytes. Default constant 64. */
  responseSize?: Distribution;
  /** Status code of every response. Default 200. */
  status?: number;
  /** Keep connections open between requests (default true). */
  keepAlive?: boolean;
  /** listen() backlog (default 511, as nginx). */
  backlog?: number;
  /** Serve HTTPS: every accepted connection runs a TLS server session with this context. */
  tls?: TlsServerContext | null;
}

/** A request waiting in the queue (a running one is its event's two arguments: finishJob). */
interface Job {
  conn: ServerConn;
  req: HttpRequest;
}

/** One accepted connection; it is its socket's handler (no closure per callback per connection). */
class ServerConn implements StreamHandler {
  closed = false;
  /** Requests of this connection waiting or in service (served in order). */
  outstanding = 0;
  peerClosed = false;
  /** The server's list of open connections (intrusive: no allocation per connection). */
  prev: ServerConn | null = null;
  next: ServerConn | null = null;
  constructor(
    readonly server: HttpServer,
    readonly sock: ByteStream,
    readonly parser: HttpParser,
  ) {}

  streamConnected(): void {} // (accepted: established already)

  streamData(data: Uint8Array | null): void {
    if (data === null || this.closed) return;
    this.server.received(this, data);
  }

  streamEnd(): void {
    this.peerClosed = true;
    if (this.outstanding === 0) this.server.closeConn(this);
  }

  streamError(): void {
    this.server.connGone(this);
  }

  streamClosed(): void {
    this.server.connGone(this);
  }
}

/** Counters of one server. */
export interface HttpServerCounters {
  connections: number;
  requests: number;
  responses: number;
  badRequests: number;
  /** Responses dropped because the client had gone. */
  abandoned: number;
}

/**
 * A Toxiproxy toxic the server applies to its own connections (podwire models toxics as per-connection
 * behaviour in the server, not as a proxy hop): `latency` delays each response, `slicer` writes it in
 * slices with a delay between them, `timeout` swallows requests and closes the connection after
 * `timeoutNs` (0: holds it open), `reset_peer` resets the connection (RST) `timeoutNs` after it was
 * accepted or, for open ones, at its next request.
 */
export interface ServerToxic {
  kind: 'latency' | 'timeout' | 'reset_peer' | 'slicer';
  /** latency: this response's extra delay, ns. */
  latencyNs(): TimeNs;
  timeoutNs: TimeNs;
  sliceBytes: number;
  sliceDelayNs: TimeNs;
}

/** An HTTP/1.1 server listening on one port (its listener's acceptor: accepted). */
export class HttpServer implements TcpAcceptor {
  // Fields in the order a request reads them (accept, received, enqueue, serve, finish), those first: a
  // big world's server is cold by its next request, and the object spans three or four lines; no
  // parameter properties, which would come first.
  /** A toxic in force (k8s/failures sets it through the container runtime); null: none. */
  toxic: ServerToxic | null = null;
  // The counters (HttpServerCounters: `counters` is the server itself), those a request counts here:
  // an object of their own was one more line, cold by the server's next request.
  connections = 0;
  requests = 0;
  responses = 0;
  private readonly tls: TlsServerContext | null;
  /** The request heads this server's connections received lately (their parsers try these first). */
  private readonly heads = new HttpHeadCache();
  private readonly rec: EndpointRecorder | null;
  private qHead = 0;
  private qTail = 0;
  private busy = 0;
  private readonly workers: number;
  /**
   * What serve and finish read of the options, copied: the service time and the response size when
   * their distributions are constants (a request's are then these numbers, no draw; -1: drawn from
   * `opts`), the keep-alive and the status. The options object and two distributions were three or
   * four lines read cold at a big world's server by its next request.
   */
  private readonly serviceNs: number;
  private readonly responseBytes: number;
  private readonly keepAlive: boolean;
  private readonly status: number;
  private readonly sim: Simulator;
  /** The header list asksClose answered last, and its answer. */
  private closeOf: HttpHeader[] | null = null;
  private close = false;
  /** The header list fromProbe answered last, and its answer. */
  private probeOf: HttpHeader[] | null = null;
  private probe = false;
  private lastResponse: { status: number; size: number; close: boolean; bytes: Uint8Array } | null = null;
  badRequests = 0;
  /** Responses dropped because the client had gone. */
  abandoned = 0;
  readonly opts: HttpServerOptions;
  private readonly rng: Rng;
  /**
   * Requests waiting for a worker: a ring of jobs from absolute position qHead to qTail (at position &
   * qMask), grown by doubling and never shrunk — an array that was spliced and grew again made a new
   * backing store every thousand requests, which lived long enough to be copied by the scavenger.
   */
  private queue: (Job | null)[] = [null, null, null, null];
  private qMask = 3;
  private readonly listener: TcpListener;
  /** Open connections, newest first (ServerConn.prev / next). */
  private open: ServerConn | null = null;
  /** While draining (graceful shutdown): what runs once no connection is left. */
  private draining: (() => void) | null = null;
  private readonly identityLine: Uint8Array;
  readonly tcp: TcpLayer;

  constructor(tcp: TcpLayer, opts: HttpServerOptions, rec: EndpointRecorder | null = null) {
    this.tcp = tcp;
    this.opts = opts;
    this.rec = rec;
    this.sim = tcp.stack.sim;
    this.workers = Math.max(1, opts.workers ?? 1);
    this.serviceNs = constantDraw(opts.serviceTime ?? NO_SERVICE_TIME, Infinity);
    this.responseBytes = constantDraw(opts.responseSize ?? DEFAULT_RESPONSE_SIZE, MAX_RESPONSE_BYTES);
    this.keepAlive = opts.keepAlive !== false;
    this.status = opts.status ?? 200;
    this.rng = this.sim.rng.stream(`${tcp.stack.name}/http-server/${opts.port}`);
    this.identityLine = new TextEncoder().encode(`served-by ${opts.identity}\n`);
    this.tls = opts.tls ?? null;
    this.listener = tcp.listen(opts.port, this, { backlog: opts.backlog ?? 511, noDelay: true });
  }

  /** Connections, requests, responses, bad requests and abandoned responses so far (a live view: the server's own fields). */
  get counters(): HttpServerCounters {
    return this;
  }

  /** TcpAcceptor: an established connection (wrapped in a TLS session when the server speaks HTTPS). */
  accepted(sock: TcpSocket): void {
    this.accept(this.tls !== null ? TlsSocket.accept(sock, this.tls) : sock);
  }

  /** Stops accepting connections (open ones finish). */
  stop(): void {
    this.listener.close();
  }

  /**
   * Graceful shutdown (Go's Server.Shutdown, nginx's graceful quit): stops accepting, closes the idle
   * connections, answers the requests in flight with `Connection: close` and closes each connection
   * after its last one; `idle` runs once no connection is left.
   */
  drain(idle: () => void): void {
    this.listener.close();
    this.draining = idle;
    for (let c = this.open; c !== null; ) {
      const next = c.next;
      if (c.outstanding === 0) this.closeConn(c);
      c = next;
    }
    if (this.open === null) this.drained();
  }

  /** @internal (ServerConn) The connection is closed (by either side, or reset): it leaves the open list. */
  connGone(conn: ServerConn): void {
    if (conn.closed) return;
    conn.closed = true;
    if (conn.prev !== null) conn.prev.next = conn.next;
    else if (this.open === conn) this.open = conn.next;
    if (conn.next !== null) conn.next.prev = conn.prev;
    conn.prev = conn.next = null;
    if (this.draining !== null && this.open === null) this.drained();
  }

  private drained(): void {
    const idle = this.draining!;
    this.draining = null;
    // After the socket callback that closed the last connection has returned.
    this.sim.schedule(0, idle);
  }

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.qTail - this.qHead;
  }

  /** ContainerProcess.setToxic: the toxic applies from now on. */
  setToxic(t: ServerToxic | null): void {
    this.toxic = t;
  }

  private accept(sock: ByteStream): void {
    this.connections++;
    const conn = new ServerConn(this, sock, new HttpParser('request', this.heads, true));
    conn.next = this.open;
    if (this.open !== null) this.open.prev = conn;
    this.open = conn;
    if (this.toxic !== null && (this.toxic.kind === 'reset_peer' || (this.toxic.kind === 'timeout' && this.toxic.timeoutNs > 0))) this.toxicTimer(conn, this.toxic);
    sock.handler = conn;
  }

  /** @internal (ServerConn) Request bytes on an open connection. */
  received(conn: ServerConn, data: Uint8Array): void {
    if (this.toxic !== null && (this.toxic.kind === 'timeout' || this.toxic.kind === 'reset_peer')) {
      if (this.toxic.kind === 'reset_peer' && this.toxic.timeoutNs === 0) this.resetConn(conn);
      return; // timeout: the data goes nowhere
    }
    let msgs;
    try {
      if (conn.parser.pending === 0 && notAMethod(data)) throw new Error('invalid method');
      msgs = conn.parser.push(data);
    } catch {
      this.badRequests++;
      this.respondError(conn, 400);
      return;
    }
    for (const m of msgs) if (m.kind === 'request') this.enqueue(conn, m);
  }

  private enqueue(conn: ServerConn, req: HttpRequest): void {
    this.requests++;
    conn.outstanding++;
    if (this.qTail === this.qHead && this.busy < this.workers) {
      // What queueing it and dispatch() do when the queue is empty and a worker free (the queue is never
      // left non-empty with a worker free), the same recorder calls in the same order, without the job
      // object, its store into the ring (a young object into an old array: a write barrier's slow path)
      // and the ring's lines.
      this.rec?.queueChanged(1);
      this.rec?.queueChanged(0);
      this.serve(conn, req);
      return;
    }
    if (this.qTail - this.qHead > this.qMask) this.growQueue();
    this.queue[this.qTail++ & this.qMask] = { conn, req };
    this.rec?.queueChanged(this.queued);
    this.dispatch();
  }

  private dispatch(): void {
    while (this.busy < this.workers && this.qHead < this.qTail) {
      const i = this.qHead++ & this.qMask;
      const job = this.queue[i]!;
      this.queue[i] = null;
      this.rec?.queueChanged(this.queued);
      this.serve(job.conn, job.req);
    }
  }

  /** A worker takes the request: its service time drawn, finishJob posted at its end. */
  private serve(conn: ServerConn, req: HttpRequest): void {
    this.busy++;
    this.rec?.busyChanged(this.busy);
    const c = this.serviceNs;
    const service = c >= 0 ? c : Math.max(0, Math.round(sample(this.opts.serviceTime ?? NO_SERVICE_TIME, this.rng)));
    this.sim.post(service, finishJob, conn, req); // (never cancelled: a pooled event; the server is conn.server)
  }

  /** Doubles the queue's ring (each waiting job moves to its place under the new mask). */
  private growQueue(): void {
    const n = 2 * (this.qMask + 1);
    const q: (Job | null)[] = [];
    for (let i = 0; i < n; i++) q.push(null);
    for (let p = this.qHead; p < this.qTail; p++) q[p & (n - 1)] = this.queue[p & this.qMask]!;
    this.queue = q;
    this.qMask = n - 1;
  }

  /** A worker finished `req` of `conn`: write the response, free the worker, take the next job. */
  finish(conn: ServerConn, req: HttpRequest): void {
    this.busy--;
    this.rec?.busyChanged(this.busy);
    conn.outstanding--;
    if (conn.closed || conn.sock.isClosed()) {
      this.abandoned++;
    } else {
      const c = this.responseBytes;
      const size = c >= 0 ? c : Math.min(MAX_RESPONSE_BYTES, Math.max(0, Math.round(sample(this.opts.responseSize ?? DEFAULT_RESPONSE_SIZE, this.rng))));
      const close = !this.keepAlive || this.draining !== null || this.asksClose(req.headers) || req.version === 'HTTP/1.0';
      const bytes = this.response(this.status, size, close);
      const thenClose = close || (conn.peerClosed && conn.outstanding === 0);
      this.responses++;
      if (this.rec !== null) {
        if (this.fromProbe(req.headers)) this.rec.probed();
        else this.rec.served();
      }
      if (this.toxic !== null && (this.toxic.kind === 'latency' || this.toxic.kind === 'slicer')) this.sendToxic(conn, bytes, thenClose, this.toxic);
      else {
        conn.sock.send(bytes);
        if (thenClose) this.closeConn(conn);
      }
    }
    this.dispatch();
  }

  /**
   * Whether a request's Connection header asks to close. Requests come from this server's parsers
   * (`shared`: a head's header list is frozen and the same object for every request with that head), so
   * the answer for the last list is kept.
   */
  private asksClose(headers: HttpHeader[]): boolean {
    if (headers !== this.closeOf) {
      this.closeOf = headers;
      this.close = /close/i.test(httpHeader(headers, 'connection') ?? '');
    }
    return this.close;
  }

  /** Whether a request is the kubelet's probe (User-Agent kube-probe/…); the answer for the last header list is kept, as asksClose's. */
  private fromProbe(headers: HttpHeader[]): boolean {
    if (headers !== this.probeOf) {
      this.probeOf = headers;
      this.probe = httpHeader(headers, 'user-agent')?.startsWith(KUBE_PROBE_AGENT) ?? false;
    }
    return this.probe;
  }

  /** latency: the whole response later; slicer: sliceBytes at a time, sliceDelayNs apart. */
  private sendToxic(conn: ServerConn, bytes: Uint8Array, thenClose: boolean, t: ServerToxic): void {
    const write = (from: number): void => {
      if (conn.closed || conn.sock.isClosed()) return;
      const to = t.kind === 'slicer' ? Math.min(bytes.length, from + t.sliceBytes) : bytes.length;
      conn.sock.send(bytes.subarray(from, to));
      if (to < bytes.length) this.sim.schedule(t.sliceDelayNs, () => write(to));
      else if (thenClose) this.closeConn(conn);
    };
    this.sim.schedule(t.kind === 'latency' ? t.latencyNs() : 0, () => write(0));
  }

  /** reset_peer: RST after timeoutNs; timeout: FIN after timeoutNs (only while the toxic lasts). */
  private toxicTimer(conn: ServerConn, t: ServerToxic): void {
    this.sim.schedule(t.timeoutNs, () => {
      if (conn.closed || this.toxic !== t) return;
      if (t.kind === 'reset_peer') this.resetConn(conn);
      else this.closeConn(conn);
    });
  }

  private resetConn(conn: ServerConn): void {
    this.connGone(conn);
    conn.sock.abort();
  }

  /**
   * The response's bytes. The last ones are kept and handed out again when status, size and Connection
   * are the same (a constant response size makes every response identical): sent bytes are never written to.
   */
  private response(status: number, size: number, close: boolean): Uint8Array {
    const last = this.lastResponse;
    if (last !== null && last.status === status && last.size === size && last.close === close) return last.bytes;
    const headers: [string, string][] = [
      ['Content-Type', 'text/plain'],
      ['Content-Length', String(size)],
      ['X-Served-By', this.opts.identity],
    ];
    if (close) headers.push(['Connection', 'close']);
    const bytes = sealHttpBytes(buildHttpResponse({ status, headers, body: this.body(size) })); // (never written: sent over and over)
    this.lastResponse = { status, size, close, bytes };
    return bytes;
  }

  private body(size: number): Uint8Array {
    const b = new Uint8Array(size).fill(0x2e); // '.'
    b.set(this.identityLine.subarray(0, Math.min(size, this.identityLine.length)));
    return b;
  }

  private respondError(conn: ServerConn, status: number): void {
    if (conn.closed) return;
    conn.sock.send(buildHttpResponse({ status, headers: [['Connection', 'close']], body: '' }));
    this.closeConn(conn);
  }

  /** @internal (ServerConn) Closes a connection for good: `closed` makes every later callback a no-op, so the socket is orphaned. */
  closeConn(conn: ServerConn): void {
    if (conn.closed) return;
    this.connGone(conn);
    conn.sock.orphan();
  }
}

/**
 * What a request's draw of `d`, rounded and clamped to [0, max] as serve and finish do, always is when
 * `d` is a constant (sample() draws nothing for one), when that is a small integer; else -1 (drawn).
 */
function constantDraw(d: Distribution, max: number): number {
  if (d.kind !== 'constant') return -1;
  const v = Math.min(max, Math.max(0, Math.round(d.value)));
  return v <= 0x3fffffff ? v : -1;
}

function finishJob(conn: ServerConn, req: HttpRequest): void {
  conn.server.finish(conn, req);
}

/**
 * True when a message's first bytes cannot start a request line as nginx parses it
 * (ngx_http_parse_request_line, sw_start/sw_method): leading CR/LF skipped, then A-Z, '_' or '-' up to
 * the space. A TLS ClientHello (0x16 0x03 ...) sent to a plain HTTP port fails at its first byte, and
 * nginx answers 400 Bad Request and closes at once instead of waiting for a CRLF that never comes.
 */
function notAMethod(data: Uint8Array): boolean {
  let i = 0;
  while (i < data.length && (data[i] === 13 || data[i] === 10)) i++;
  for (; i < data.length; i++) {
    const c = data[i]!;
    if (c === 32) return false;
    if (!((c >= 65 && c <= 90) || c === 95 || c === 45)) return true;
  }
  return false;
}
