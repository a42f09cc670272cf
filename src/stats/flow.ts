// stats/flow — per-flow request counters and latency. Layer: stats (observer; imports core only).
// Applications report into a FlowRecorder; they never read stats back. Kinds follow the errno a
// client sees (ETIMEDOUT, ECONNREFUSED, ECONNRESET, EHOSTUNREACH/ENETUNREACH, EADDRNOTAVAIL, EMSGSIZE) plus DNS failure.
import { f64Hi, f64Lo, f64Of } from '../core/f64-words.js';
import type { TimeNs } from '../core/time.js';
import { LatencyRecorder } from './histogram.js';
import { SecondSeries } from './timeseries.js';

/** Why a request failed, as a client would classify it. */
export type ErrorKind = 'timeout' | 'refused' | 'reset' | 'dns' | 'no-route' | 'protocol' | 'addrnotavail' | 'msgsize';

/** Every error kind in report order. */
export const ERROR_KINDS = ['timeout', 'refused', 'reset', 'dns', 'no-route', 'protocol', 'addrnotavail', 'msgsize'] as const satisfies readonly ErrorKind[];
/** Kinds stats.json lists only when some request failed that way (added after the format was pinned). */
export const OPTIONAL_ERROR_KINDS: ReadonlySet<ErrorKind> = new Set(['addrnotavail', 'msgsize']);

/**
 * One request's phases in ns, as curl's -w timings or the browser's Resource Timing split it: dns (name
 * lookup; 0 for an address or a host-cache hit), connect (TCP handshake, 0 on a
 * reused connection), tls (handshake after connect; 0 without TLS), ttfb (request written → first
 * response byte), total (request start → last byte, one attempt).
 */
export interface RequestPhases {
  dns: TimeNs;
  connect: TimeNs;
  tls: TimeNs;
  ttfb: TimeNs;
  total: TimeNs;
}


/** What an application reports about its requests (the only stats API apps use). */
export interface FlowRecorder {
  /** A request was issued (a retry counts as another attempt, not another request). */
  requestStarted(): void;
  /** A request completed; `latency` from first send to last byte, `connect` the TCP handshake time if one was made. */
  requestSucceeded(latency: TimeNs, connect: TimeNs | null, bytes: number): void;
  /** A request failed for good (after retries). */
  requestFailed(kind: ErrorKind, latency: TimeNs): void;
  /** A retry attempt was made after an error of `kind`. */
  retried(kind: ErrorKind): void;
  /** The phases of a successful request (clients that time them: http); the object is lent for the call (a client rewrites it for its next response). */
  requestPhases?(phases: RequestPhases): void;
  /** Which endpoint answered a successful request (http: X-Served-By), its response bytes, and whether it opened a connection. */
  servedBy?(endpoint: string, bytes: number, newConnection: boolean): void;
}

/** One endpoint's counters within a flow. */
export interface FlowEndpointCounts {
  requests: number;
  connections: number;
  bytes: number;
}

/** NaN's words: `lastEnd` not set yet (a completion time is never NaN). */
const UNSET_LO = f64Lo(NaN);
const UNSET_HI = f64Hi(NaN);

/** Counters of one flow. */
export class FlowStats implements FlowRecorder {
  // Fields in the order a request reads them, those first (a big world's flow is cold by its next
  // request); no parameter properties, which would come first.
  requests = 0;
  successes = 0;
  bytes = 0;
  /** Latency of successful requests. */
  readonly latency = new LatencyRecorder();
  /** Connect (handshake) time of successful requests that opened a connection. */
  readonly connect = new LatencyRecorder();
  /**
   * The last completion's time (`lastEnd`) as its two 32-bit words (NaN's: none yet): a time past 2^31
   * ns in a field is a new heap number at each completion, stored into an old object (a write barrier's
   * slow path).
   */
  private lastEndLo = UNSET_LO;
  private lastEndHi = UNSET_HI;
  /** Completions, errors and latency per second (timeseries.json; stats.json's recovery section when the scenario has faults). */
  readonly perSecond = new SecondSeries(ERROR_KINDS.length);
  /** Report `phasesUs` in stats.json (set by the scenario for flows that ask for it, before the run). */
  reportPhases = false;
  /**
   * The endpoints that answered lately and their counts (entries of byEndpoint), four in fields, not in
   * two arrays (whose objects and stores were four lines read cold at a big world's flow's next request).
   */
  private recent0: string | null = null;
  private recent1: string | null = null;
  private recent2: string | null = null;
  private recent3: string | null = null;
  private counts0: FlowEndpointCounts | null = null;
  private counts1: FlowEndpointCounts | null = null;
  private counts2: FlowEndpointCounts | null = null;
  private counts3: FlowEndpointCounts | null = null;
  private recentNext = 0;
  /** Time of the first request start (for throughput). */
  firstStart: TimeNs | null = null;
  retries = 0;
  readonly errors: Record<ErrorKind, number> = { timeout: 0, refused: 0, reset: 0, dns: 0, 'no-route': 0, protocol: 0, addrnotavail: 0, msgsize: 0 };
  /** Per-phase latency of successful requests (recorded only with reportPhases). */
  readonly phases: Record<keyof RequestPhases, LatencyRecorder> = { dns: new LatencyRecorder(), connect: new LatencyRecorder(), tls: new LatencyRecorder(), ttfb: new LatencyRecorder(), total: new LatencyRecorder() };
  /** When each failed request ended, in order (for the recovery metrics' time to first error). */
  readonly errorTimes: TimeNs[] = [];
  /** The endpoints that answered this flow, by name (stats.json flows[].endpoints). */
  readonly byEndpoint = new Map<string, FlowEndpointCounts>();
  readonly name: string;
  private readonly now: () => TimeNs;

  constructor(name: string, now: () => TimeNs) {
    this.name = name;
    this.now = now;
  }

  /** Time of the last completion (for throughput), null before the first. */
  get lastEnd(): TimeNs | null {
    const t = f64Of(this.lastEndLo, this.lastEndHi);
    return t === t ? t : null;
  }
  private setLastEnd(t: TimeNs): void {
    this.lastEndLo = f64Lo(t);
    this.lastEndHi = f64Hi(t);
  }

  requestStarted(): void {
    this.requests++;
    const now = this.now();
    if (this.firstStart === null) this.firstStart = now;
    this.perSecond.started(now);
  }
  requestSucceeded(latency: TimeNs, connect: TimeNs | null, bytes: number): void {
    this.successes++;
    this.bytes += bytes;
    this.latency.record(latency);
    if (connect !== null) this.connect.record(connect);
    const now = this.now();
    this.setLastEnd(now);
    this.perSecond.success(now, latency);
  }
  requestFailed(kind: ErrorKind, _latency: TimeNs): void {
    this.errors[kind]++;
    const now = this.now();
    this.setLastEnd(now);
    this.perSecond.error(now, ERROR_KINDS.indexOf(kind));
    this.errorTimes.push(now);
  }
  retried(_kind: ErrorKind): void {
    this.retries++;
  }
  requestPhases(p: RequestPhases): void {
    if (!this.reportPhases) return; // nothing reads them (report.ts lists them only when asked)
    const h = this.phases;
    h.dns.record(p.dns);
    h.connect.record(p.connect);
    h.tls.record(p.tls);
    h.ttfb.record(p.ttfb);
    h.total.record(p.total);
  }
  servedBy(endpoint: string, bytes: number, newConnection: boolean): void {
    // The last few endpoints first (a flow's Service has a few; its responses carry the same strings):
    // a pointer compare when it is the same string object (a shared response head's), no Map lookup per request.
    const e =
      this.recent0 === endpoint ? this.counts0! : this.recent1 === endpoint ? this.counts1! : this.recent2 === endpoint ? this.counts2! : this.recent3 === endpoint ? this.counts3! : this.endpointCounts(endpoint);
    e.requests++;
    if (newConnection) e.connections++;
    e.bytes += bytes;
  }
  /** `endpoint`'s counts (made on its first response), remembered among the recent ones. */
  private endpointCounts(endpoint: string): FlowEndpointCounts {
    let e = this.byEndpoint.get(endpoint);
    if (e === undefined) this.byEndpoint.set(endpoint, (e = { requests: 0, connections: 0, bytes: 0 }));
    // (a ring of four: the oldest one gives way)
    switch (this.recentNext) {
      case 0:
        this.recent0 = endpoint;
        this.counts0 = e;
        break;
      case 1:
        this.recent1 = endpoint;
        this.counts1 = e;
        break;
      case 2:
        this.recent2 = endpoint;
        this.counts2 = e;
        break;
      default:
        this.recent3 = endpoint;
        this.counts3 = e;
    }
    this.recentNext = (this.recentNext + 1) & 3;
    return e;
  }
  /** Total failed requests. */
  get errorCount(): number {
    let n = 0;
    for (const k of ERROR_KINDS) n += this.errors[k];
    return n;
  }
}
