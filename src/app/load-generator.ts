// app/load-generator — HTTP load: open loop (Poisson or constant arrivals, as wrk2 / vegeta) or closed
// loop (N users with think time, as JMeter / locust), stopped by a request count or a duration, with a
// per-request timeout and retries. Layer: app (imports core, transport, stats recorder interface).
// Every arrival and think time is drawn from the stream "<namespace>/load/<name>"; time only from the
// Simulator. A request counts once in `requests` however many attempts it takes; each extra attempt is
// reported with `retried(kind)`, and its latency runs from the first attempt to the final outcome.
import type { Rng } from '../core/rng.js';
import { sample as sampleImported, type Distribution } from '../core/distributions.js';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { FlowRecorder } from '../stats/flow.js';
import type { TcpLayer } from '../transport/tcp/index.js';
import { HttpClient, type HttpResult, type HttpTarget, type Resolver } from './http-client.js';
// Hot imports as module constants (ARCHITECTURE.md, "Per hop": an import is a cell load and check at each use).
const sample = sampleImported;

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

/** Drives an HttpClient according to a load pattern and reports into a FlowRecorder. */
export class HttpLoadGenerator {
  readonly counters: LoadCounters = { issued: 0, succeeded: 0, failed: 0, attempts: 0 };
  readonly client: HttpClient;
  private readonly sim: Simulator;
  private readonly rng: Rng;
  private startAt: TimeNs = 0;
  private stopped = false;
  private finished = false;
  /** Poisson arrivals' gap distribution (kept while the pattern's rate is the same: no object per arrival). */
  private gaps: { kind: 'exponential'; mean: number } | null = null;
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

  /** True once no more requests will be issued and none is outstanding. */
  get done(): boolean {
    return this.stopped && this.counters.succeeded + this.counters.failed === this.counters.issued;
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
    const o = this.opts;
    if ((o.count !== undefined && this.counters.issued >= o.count) || (o.duration !== undefined && this.sim.now - this.startAt >= o.duration)) {
      this.stopped = true;
      this.checkDone();
      return false;
    }
    return true;
  }

  private arrival(): void {
    if (!this.mayIssue()) return;
    this.issue(false);
    const p = this.opts.pattern;
    if (p.kind !== 'open') return;
    const mean = 1e9 / p.rate;
    let gap = mean;
    if (p.arrival === 'poisson') {
      if (this.gaps === null || this.gaps.mean !== mean) this.gaps = { kind: 'exponential', mean };
      gap = sample(this.gaps, this.rng);
    }
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
    this.counters.issued++;
    this.rec.requestStarted();
    attempt(new LoadRequest(this, this.sim.now, user));
  }

  /** @internal (LoadRequest) One attempt of `q`. */
  send(q: LoadRequest): void {
    q.attempt++;
    this.counters.attempts++;
    this.client.request(this.opts.target, this.opts.timeout ?? 5_000_000_000, q);
  }

  /** @internal (LoadRequest) An attempt of `q` is over. */
  attemptDone(q: LoadRequest, r: HttpResult): void {
    const o = this.opts;
    if (r.ok) {
      this.counters.succeeded++;
      this.rec.requestSucceeded(this.sim.now - q.first, r.connect, r.bytes);
      if (r.servedBy !== null) this.rec.servedBy?.(r.servedBy, r.bytes, r.connect !== null);
      if (r.phases !== null) this.rec.requestPhases?.(r.phases);
    } else if (q.attempt <= (o.retries ?? 0)) {
      this.rec.retried(r.error ?? 'protocol');
      this.sim.schedule(o.retryDelay ?? 0, attempt, q);
      return;
    } else {
      this.counters.failed++;
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
