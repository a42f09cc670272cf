// stats/flow — per-flow request counters and latency. Layer: stats (observer; imports core only).
// Applications report into a FlowRecorder; they never read stats back. Kinds follow the errno a
// client sees (ETIMEDOUT, ECONNREFUSED, ECONNRESET, EHOSTUNREACH/ENETUNREACH) plus DNS failure.
import type { TimeNs } from '../core/time.js';
import { LatencyRecorder } from './histogram.js';
import { SecondSeries } from './timeseries.js';

/** Why a request failed, as a client would classify it. */
export type ErrorKind = 'timeout' | 'refused' | 'reset' | 'dns' | 'no-route' | 'protocol' | 'addrnotavail';

/** Every error kind in report order. */
export const ERROR_KINDS = ['timeout', 'refused', 'reset', 'dns', 'no-route', 'protocol', 'addrnotavail'] as const satisfies readonly ErrorKind[];
/** Kinds stats.json lists only when some request failed that way (added after the format was pinned). */
export const OPTIONAL_ERROR_KINDS: ReadonlySet<ErrorKind> = new Set(['addrnotavail']);

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

/** Endpoints FlowStats.servedBy finds without a map lookup (a power of two). */
const RECENT_ENDPOINTS = 4;

/** Counters of one flow. */
export class FlowStats implements FlowRecorder {
  requests = 0;
  successes = 0;
  retries = 0;
  bytes = 0;
  readonly errors: Record<ErrorKind, number> = { timeout: 0, refused: 0, reset: 0, dns: 0, 'no-route': 0, protocol: 0, addrnotavail: 0 };
  /** Latency of successful requests. */
  readonly latency = new LatencyRecorder();
  /** Connect (handshake) time of successful requests that opened a connection. */
  readonly connect = new LatencyRecorder();
  /** Time of the first request start and the last completion (for throughput). */
  firstStart: TimeNs | null = null;
  lastEnd: TimeNs | null = null;
  /** Completions, errors and latency per second (timeseries.json; stats.json's recovery section when the scenario has faults). */
  readonly perSecond = new SecondSeries();
  /** Report `phasesUs` in stats.json (set by the scenario for flows that ask for it, before the run). */
  reportPhases = false;
  /** Per-phase latency of successful requests (recorded only with reportPhases). */
  readonly phases: Record<keyof RequestPhases, LatencyRecorder> = { dns: new LatencyRecorder(), connect: new LatencyRecorder(), tls: new LatencyRecorder(), ttfb: new LatencyRecorder(), total: new LatencyRecorder() };
  /** When each failed request ended, in order (for the recovery metrics' time to first error). */
  readonly errorTimes: TimeNs[] = [];
  /** The endpoints that answered this flow, by name (stats.json flows[].endpoints). */
  readonly byEndpoint = new Map<string, FlowEndpointCounts>();
  /** A ring of the endpoints that answered lately and their counts (entries of byEndpoint). */
  private readonly recentEndpoints: (string | null)[] = [null, null, null, null];
  private readonly recentCounts: (FlowEndpointCounts | null)[] = [null, null, null, null];
  private recentNext = 0;

  constructor(
    readonly name: string,
    private readonly now: () => TimeNs,
  ) {}

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
    this.lastEnd = this.now();
    this.perSecond.success(this.lastEnd, latency);
  }
  requestFailed(kind: ErrorKind, _latency: TimeNs): void {
    this.errors[kind]++;
    this.lastEnd = this.now();
    this.perSecond.error(this.lastEnd, ERROR_KINDS.indexOf(kind));
    this.errorTimes.push(this.lastEnd);
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
    const recent = this.recentEndpoints;
    let e: FlowEndpointCounts | undefined;
    for (let k = 0; k < recent.length; k++) {
      if (recent[k] === endpoint) {
        e = this.recentCounts[k]!;
        break;
      }
    }
    if (e === undefined) e = this.endpointCounts(endpoint);
    e.requests++;
    if (newConnection) e.connections++;
    e.bytes += bytes;
  }
  /** `endpoint`'s counts (made on its first response), remembered among the recent ones. */
  private endpointCounts(endpoint: string): FlowEndpointCounts {
    let e = this.byEndpoint.get(endpoint);
    if (e === undefined) this.byEndpoint.set(endpoint, (e = { requests: 0, connections: 0, bytes: 0 }));
    const i = this.recentNext;
    this.recentEndpoints[i] = endpoint;
    this.recentCounts[i] = e;
    this.recentNext = (i + 1) & (RECENT_ENDPOINTS - 1);
    return e;
  }
  /** Total failed requests. */
  get errorCount(): number {
    let n = 0;
    for (const k of ERROR_KINDS) n += this.errors[k];
    return n;
  }
}
