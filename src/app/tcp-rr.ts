// app/tcp-rr — a generic TCP request/response server and its client, for ports that are not HTTP
// (a Redis, a gRPC service, a database): the server accepts every connection and answers each
// `requestSize` bytes it reads with `responseSize` bytes, the way netperf's TCP_RR test does
// (netperf -t TCP_RR -- -r REQ,RESP); the client opens a connection (or keeps one), sends a request,
// waits for the whole response, and records the latency. Layer: app (imports core, stats, transport).
// The bytes carry no protocol: a capture shows TCP payload of the stated sizes.
// Not modelled: the application protocol itself (RESP, HTTP/2 frames, ...), pipelining, TLS.
import { MAX_RESPONSE_BYTES } from './http-server.js';
import { sample, type Distribution } from '../core/distributions.js';
import type { Rng } from '../core/rng.js';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { EndpointRecorder } from '../stats/endpoint.js';
import type { FlowRecorder } from '../stats/flow.js';
import type { TcpLayer, TcpListener, TcpSocket } from '../transport/tcp/index.js';
import type { Ipv4 } from '../wire/types.js';
import { answeredBy, type AnsweredBy } from './answered-by.js';
import { errorKindOf } from './http-client.js';

/** What a request/response server does. */
export interface TcpRrServerOptions {
  port: number;
  /** Bytes that make one request (default 64). */
  requestSize?: number;
  /** Response bytes per request (default constant 64). */
  responseSize?: Distribution;
  /** Service time per request (default 0). */
  serviceTime?: Distribution;
  /** The pod this server runs in: noted per accepted connection (app/answered-by) so clients' flows can name it. */
  identity?: string | null;
}

/** A TCP server answering fixed-size requests. */
export class TcpRrServer {
  readonly counters = { connections: 0, requests: 0 };
  private readonly sim: Simulator;
  private readonly rng: Rng;
  private readonly listener: TcpListener;

  constructor(
    tcp: TcpLayer,
    private readonly opts: TcpRrServerOptions,
    private readonly rec: EndpointRecorder | null = null,
  ) {
    this.sim = tcp.stack.sim;
    this.rng = this.sim.rng.stream(`${tcp.stack.name}/tcp-rr/${opts.port}`);
    this.listener = tcp.listen(opts.port, (s) => this.accepted(s));
  }

  /** Stops accepting connections (open ones finish). */
  stop(): void {
    this.listener.close();
  }

  private accepted(s: TcpSocket): void {
    this.counters.connections++;
    const id = this.opts.identity ?? null;
    if (id !== null) answeredBy(this.sim).noteTcp(s.remoteAddr, s.remotePort, s.irs, id);
    const reqSize = Math.max(1, this.opts.requestSize ?? 64);
    let pending = 0;
    s.onData = (_data, length) => {
      pending += length;
      while (pending >= reqSize) {
        pending -= reqSize;
        this.counters.requests++;
        const size = Math.min(MAX_RESPONSE_BYTES, Math.max(1, Math.round(this.opts.responseSize ? sample(this.opts.responseSize, this.rng) : 64)));
        const delay = this.opts.serviceTime ? Math.max(0, Math.round(sample(this.opts.serviceTime, this.rng))) : 0;
        const answer = (): void => {
          if (s.isClosed() || s.state === 'FIN_WAIT_1' || s.state === 'FIN_WAIT_2' || s.state === 'LAST_ACK') return;
          s.send(size);
          this.rec?.served();
        };
        if (delay > 0) this.sim.schedule(delay, answer);
        else answer();
      }
    };
    s.onEnd = () => {
      if (id !== null) answeredBy(this.sim).forgetTcp(s.remoteAddr, s.remotePort, s.irs, id);
      s.orphan();
    };
  }
}

/** A request/response client: one flow, `count` requests. */
export interface TcpRrClientOptions {
  /** Where to connect; `resolve` first when the target is a name. */
  addr: Ipv4 | null;
  port: number;
  /** Looks the host name up (null addr only). */
  resolve?: ((cb: (addr: Ipv4 | null) => void) => void) | null;
  count: number;
  intervalNs: TimeNs;
  startNs: TimeNs;
  timeoutNs: TimeNs;
  requestSize: number;
  responseSize: number;
  /** new: a connection per request; keep-alive: one connection, requests one after another. */
  connection: 'new' | 'keep-alive';
  flowId: number;
}

/** Counters of the client, for the run summary. */
export interface TcpRrCounts {
  sent: number;
  received: number;
  lost: number;
  errors: number;
}

interface Req {
  started: TimeNs;
  sock: TcpSocket | null;
  done: boolean;
  timer: { cancel(): void } | null;
}

/** Sends `count` requests on a schedule and waits for each whole response. */
export class TcpRrClient {
  readonly counts: TcpRrCounts = { sent: 0, received: 0, lost: 0, errors: 0 };
  private readonly sim: Simulator;
  private kept: TcpSocket | null = null;
  private keptQueue: Req[] = [];
  private keptGot = 0;
  private readonly answered: AnsweredBy;

  constructor(
    private readonly tcp: TcpLayer,
    private readonly opts: TcpRrClientOptions,
    private readonly rec: FlowRecorder,
  ) {
    this.sim = tcp.stack.sim;
    this.answered = answeredBy(this.sim);
    for (let i = 0; i < opts.count; i++) this.sim.scheduleAt(opts.startNs + i * opts.intervalNs, () => this.issue());
  }

  private issue(): void {
    const req: Req = { started: this.sim.now, sock: null, done: false, timer: null };
    this.counts.sent++;
    this.rec.requestStarted();
    req.timer = this.sim.schedule(this.opts.timeoutNs, () => this.finish(req, 'timeout', null));
    if (this.opts.addr !== null) return this.send(req, this.opts.addr);
    if (!this.opts.resolve) return this.finish(req, 'dns', null);
    this.opts.resolve((addr) => (addr === null ? this.finish(req, 'dns', null) : this.send(req, addr)));
  }

  private send(req: Req, addr: Ipv4): void {
    if (req.done) return;
    if (this.opts.connection === 'keep-alive' && this.kept !== null && !this.kept.isClosed()) {
      this.keptQueue.push(req);
      this.kept.send(this.opts.requestSize);
      return;
    }
    let got = 0;
    const sock = this.tcp.connect(addr, this.opts.port, (s) => s.send(this.opts.requestSize), { noDelay: true, flowId: this.opts.flowId });
    req.sock = sock;
    if (this.opts.connection === 'keep-alive') {
      this.kept = sock;
      this.keptQueue = [req];
      this.keptGot = 0;
      sock.onData = (_d, n) => this.keptData(n);
      sock.onError = (k) => {
        for (const r of this.keptQueue.splice(0)) this.finish(r, errorKindOf(k), null);
      };
      return;
    }
    sock.onData = (_d, n) => {
      got += n;
      if (got >= this.opts.responseSize) {
        this.finish(req, null, sock.establishedAt >= 0 ? sock.establishedAt - sock.connectStartedAt : null, sock, true);
        sock.orphan(); // the request is done: nothing later on this socket matters
      }
    };
    sock.onError = (k) => this.finish(req, errorKindOf(k), null);
    sock.onEnd = () => {
      if (!req.done) this.finish(req, 'reset', null);
      sock.orphan();
    };
  }

  private keptData(n: number): void {
    this.keptGot += n;
    while (this.keptQueue.length > 0 && this.keptGot >= this.opts.responseSize) {
      this.keptGot -= this.opts.responseSize;
      const r = this.keptQueue.shift()!;
      this.finish(r, null, null, this.kept, r.sock !== null);
    }
  }

  private finish(req: Req, error: Parameters<FlowRecorder['requestFailed']>[0] | null, connectNs: TimeNs | null, sock: TcpSocket | null = null, opened = false): void {
    if (req.done) return;
    req.done = true;
    req.timer?.cancel();
    if (error === 'timeout' && this.opts.connection === 'new' && req.sock && !req.sock.isClosed()) req.sock.abort();
    const latency = this.sim.now - req.started;
    if (error === null) {
      this.counts.received++;
      this.rec.requestSucceeded(latency, connectNs, this.opts.responseSize);
      // The pod that accepted this connection after NAT (noted by its server, not carried on the wire).
      const by = sock !== null ? this.answered.lookupTcp(sock.localAddr, sock.localPort, sock.iss) : null;
      if (by !== null) this.rec.servedBy?.(by, this.opts.responseSize, opened);
      return;
    }
    this.counts.errors++;
    if (error === 'timeout') this.counts.lost++;
    this.rec.requestFailed(error, latency);
  }
}
