// app/load-generator — HTTP load: open loop (Poisson or constant arrivals, as wrk2 / vegeta) or closed
// loop (N users with think time, as JMeter / locust), stopped by a request count or a duration, with a
// per-request timeout and retries. Layer: app (imports core, transport, stats recorder interface).
// Every arrival and think time is drawn from the stream "<namespace>/load/<name>"; time only from the
// Simulator. A request counts once in `requests` however many attempts it takes; each extra attempt is
// reported with `retried(kind)`, and its latency runs from the first attempt to the final outcome.
import { f64Hi, f64Lo, f64Of as f64OfImported } from '../core/f64-words.js';
import type { Rng } from '../core/rng.js';
import { exponential as exponentialImported, sample as sampleImported, type Distribution } from '../core/distributions.js';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { FlowRecorder } from '../stats/flow.js';
import type { TcpLayer } from '../transport/tcp/index.js';
import { HttpClient, type HttpResult, type HttpTarget, type Resolver } from './http-client.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const sample = sampleImported;
const exponential = exponentialImported;
const f64Of = f64OfImported;

/** Closed-loop users started by one event; the rest follow in later events at the same instant. */
const USER_BATCH = 256;

/** How requests are generated. Rates in requests per second; think time in ns. */
export type LoadPattern =
  | { kind: 'open'; arrival: 'poisson' | 'constant'; rate: number }
  | { kind: 'closed'; users: number; thinkTime: Distribution };

/** One load generator (one flow in the statistics). */
export interface LoadGeneratorOptions {
  /** Flow name (stats and rng stream). */
  name: string;
  pattern: LoadPattern;
  target: HttpTarget;
  /** Stop after this many requests (total). */
  count?: number;
  /** Stop issuing new requests this long after start. */
  duration?: TimeNs;
  /** Start time (absolute, default now). */
  start?: TimeNs;
  /** Per-attempt timeout. Default 5 s. */
  timeout?: TimeNs;
  /** Extra attempts after a failure. Default 0. */
  retries?: number;
  /** Wait before a retry. Default 0. */
  retryDelay?: TimeNs;
  /** New connection per request, or a keep-alive pool. */
  connection: 'new' | 'keep-alive';
  /** Pool size cap (keep-alive) or concurrent-connection cap (new). Default unlimited. */
  maxConnections?: number;
  flowId?: number;
  resolver?: Resolver | null;
}

/** Counts of one generator. */
export interface LoadCounters {
  issued: number;
  succeeded: number;
  failed: number;
  attempts: number;
}

/** One request of a generator, across its attempts: the client's callback object (no closure per request). */
class LoadRequest {
  attempt = 0;
  constructor(
    readonly gen: HttpLoadGenerator,
    /** When the first attempt started. */
    readonly first: TimeNs,
    /** A closed-loop user's request (the user thinks after it). */
    readonly user: boolean,
  ) {}
  requestDone(r: HttpResult): void {
    this.gen.attemptDone(this, r);
  }
  /** attemptDone reads the result during the call only (HttpCallback): the client lends its own. */
  get resultLent(): boolean {
    return true;
  }
}

/** An attempt of `q` (the event callback of a retry: a module function, no closure). */
function attempt(q: LoadRequest): void {
  q.gen.send(q);
}

/**
 * Drives an HttpClient according to a load pattern and reports into a FlowRecorder. Its counters are
 * its own fields (`counters` is the generator itself): a generator is cold by its flow's next request
 * in a big world, and a counters object of its own was one more line read at each request.
 */
export class HttpLoadGenerator implements LoadCounters {
  issued = 0;
  succeeded = 0;
  failed = 0;
  attempts = 0;
  private stopped = false;
  private finished = false;
  // What a request reads of the options, copied (the options object and its pattern were two more
  // lines read cold at each request): the count limit (when `counted`), whether a duration limits it,
  // an open pattern's rate and arrivals, the target, and the timeout as its two 32-bit words (a double
  // field is a box of its own, another line; the default 5 s is not a small integer).
  private readonly counted: boolean;
  private readonly limit: number;
  private readonly timed: boolean;
  private readonly open: boolean;
  private readonly poisson: boolean;
  private readonly rate: number;
  private readonly target: HttpTarget;
  private readonly timeoutLo: number;
  private readonly timeoutHi: number;
  readonly client: HttpClient;
  private readonly sim: Simulator;
  private readonly rng: Rng;
  private startAt: TimeNs = 0;
  /** Closed-loop users not started yet. */
  private unstarted = 0;
  /** Called once when every issued request has finished and no more will be issued. */
  onDone: (() => void) | null = null;
  /** The event callbacks of the next arrival and a user's next request (one function each, no closure per event). */
  private static readonly ARRIVAL = (g: HttpLoadGenerator): void => g.arrival();
  private static readonly USER_NEXT = (g: HttpLoadGenerator): void => g.userNext();

  constructor(
    tcp: TcpLayer,
    readonly opts: LoadGeneratorOptions,
    private readonly rec: FlowRecorder,
  ) {
    this.counted = opts.count !== undefined;
    this.limit = opts.count ?? 0;
    this.timed = opts.duration !== undefined;
    const p = opts.pattern;
    this.open = p.kind === 'open';
    this.poisson = p.kind === 'open' && p.arrival === 'poisson';
    this.rate = p.kind === 'open' ? p.rate : 0;
    this.target = opts.target;
    const timeout = opts.timeout ?? 5_000_000_000;
    this.timeoutLo = f64Lo(timeout);
    this.timeoutHi = f64Hi(timeout);
    this.sim = tcp.stack.sim;
    this.rng = this.sim.rng.stream(`${tcp.stack.name}/load/${opts.name}`);
    this.client = new HttpClient(tcp, {
      keepAlive: opts.connection === 'keep-alive',
      ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
      flowId: opts.flowId ?? 0,
      resolver: opts.resolver ?? null,
    });
    this.sim.scheduleAt(Math.max(opts.start ?? this.sim.now, this.sim.now), (g: HttpLoadGenerator) => g.begin(), this);
  }

  /** Requests issued, succeeded, failed and attempts made so far (a live view: the generator's own fields). */
  get counters(): LoadCounters {
    return this;
  }

  /** True once no more requests will be issued and none is outstanding. */
  get done(): boolean {
    return this.stopped && this.succeeded + this.failed === this.issued;
  }

  private begin(): void {
    this.startAt = this.sim.now;
    const p = this.opts.pattern;
    switch (p.kind) {
      case 'open':
        this.arrival();
        return;
      case 'closed':
        this.unstarted = p.users;
        this.startUsers();
        return;
      default: {
        const never: never = p;
        throw new Error(`unknown load pattern ${(never as { kind: string }).kind}`);
      }
    }
  }

  /** May another request start now? Marks the generator stopped when not. */
  private mayIssue(): boolean {
    if (this.stopped) return false;
    if ((this.counted && this.issued >= this.limit) || (this.timed && this.sim.now - this.startAt >= this.opts.duration!)) {
      this.stopped = true;
      this.checkDone();
      return false;
    }
    return true;
  }

  private arrival(): void {
    if (!this.mayIssue()) return;
    this.issue(false);
    if (!this.open) return;
    const mean = 1e9 / this.rate;
    // (Poisson: sample()'s exponential draw of that mean: no distribution object to read)
    const gap = this.poisson ? exponential(mean, this.rng) : mean;
    this.sim.post(Math.round(gap), HttpLoadGenerator.ARRIVAL, this); // (never cancelled: a pooled event)
  }

  /**
   * Starts the next USER_BATCH closed-loop users, then schedules itself (same instant) for the rest. A
   * user not started yet is a count, not an object: a million users cost nothing until they act, and
   * no single event allocates for all of them (so the run's memory guard sees the growth between
   * steps). Order as before: user k starts before user k+1, all at the start time.
   */
  private startUsers(): void {
    const n = Math.min(this.unstarted, USER_BATCH);
    this.unstarted -= n;
    for (let u = 0; u < n && !this.stopped; u++) this.userNext();
    if (this.unstarted > 0 && !this.stopped) this.sim.schedule(0, (g: HttpLoadGenerator) => g.startUsers(), this);
  }

  private userNext(): void {
    if (!this.mayIssue()) return;
    this.issue(true);
  }

  /** A closed-loop user's request is over: it thinks, then sends the next. */
  private userThink(): void {
    const p = this.opts.pattern;
    if (p.kind !== 'closed') return;
    const think = Math.max(0, Math.round(sample(p.thinkTime, this.rng)));
    this.sim.post(think, HttpLoadGenerator.USER_NEXT, this);
  }

  /** Starts one request (with its retries); a closed-loop user's (`user`) thinks when it is finally over. */
  private issue(user: boolean): void {
    this.issued++;
    this.rec.requestStarted();
    attempt(new LoadRequest(this, this.sim.now, user));
  }

  /** @internal (LoadRequest) One attempt of `q`. */
  send(q: LoadRequest): void {
    q.attempt++;
    this.attempts++;
    this.client.request(this.target, f64Of(this.timeoutLo, this.timeoutHi), q);
  }

  /** @internal (LoadRequest) An attempt of `q` is over. */
  attemptDone(q: LoadRequest, r: HttpResult): void {
    const o = this.opts;
    if (r.ok) {
      this.succeeded++;
      this.rec.requestSucceeded(this.sim.now - q.first, r.connect, r.bytes);
      if (r.servedBy !== null) this.rec.servedBy?.(r.servedBy, r.bytes, r.connect !== null);
      if (r.phases !== null) this.rec.requestPhases?.(r.phases);
    } else if (q.attempt <= (o.retries ?? 0)) {
      this.rec.retried(r.error ?? 'protocol');
      this.sim.schedule(o.retryDelay ?? 0, attempt, q);
      return;
    } else {
      this.failed++;
      this.rec.requestFailed(r.error ?? 'protocol', this.sim.now - q.first);
    }
    if (q.user) this.userThink();
    this.checkDone();
  }

  private checkDone(): void {
    if (this.finished || !this.done) return;
    this.finished = true;
    this.client.closeIdle();
    this.onDone?.();
  }
}
