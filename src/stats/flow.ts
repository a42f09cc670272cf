// stats/flow — per-flow request counters and latency. Layer: stats (observer; imports core only).
// Applications report into a FlowRecorder; they never read stats back. Kinds follow the errno a
// client sees (ETIMEDOUT, ECONNREFUSED, ECONNRESET, EHOSTUNREACH/ENETUNREACH) plus DNS failure.
import type { TimeNs } from '../core/time.js';
import { LatencyRecorder } from './histogram.js';
import { SecondSeries } from './timeseries.js';

/** Why a request failed, as a client would classify it. */
export type ErrorKind = 'timeout' | 'refused' | 'reset' | 'dns' | 'no-route' | 'protocol';

/** Every error kind in report order. */
export const ERROR_KINDS = ['timeout', 'refused', 'reset', 'dns', 'no-route', 'protocol'] as const satisfies readonly ErrorKind[];

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

/** Phase names in report order. */
export const PHASES = ['dns', 'connect', 'tls', 'ttfb', 'total'] as const satisfies readonly (keyof RequestPhases)[];

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
  /** The phases of a successful request (clients that time them: http). */
  requestPhases?(phases: RequestPhases): void;
}

/** Counters of one flow. */
export class FlowStats implements FlowRecorder {
  requests = 0;
  successes = 0;
  retries = 0;
  bytes = 0;
  readonly errors: Record<ErrorKind, number> = { timeout: 0, refused: 0, reset: 0, dns: 0, 'no-route': 0, protocol: 0 };
  /** Latency of successful requests. */
  readonly latency = new LatencyRecorder();
  /** Connect (handshake) time of successful requests that opened a connection. */
  readonly connect = new LatencyRecorder();
  /** Time of the first request start and the last completion (for throughput). */
  firstStart: TimeNs | null = null;
  lastEnd: TimeNs | null = null;
  /** Completions, errors and latency per second (timeseries.json; not part of stats.json). */
  readonly perSecond = new SecondSeries();
  /** Report `phasesUs` in stats.json (set by the scenario for flows that ask for it). */
  reportPhases = false;
  /** Per-phase latency of successful requests. */
  readonly phases: Record<keyof RequestPhases, LatencyRecorder> = { dns: new LatencyRecorder(), connect: new LatencyRecorder(), tls: new LatencyRecorder(), ttfb: new LatencyRecorder(), total: new LatencyRecorder() };

  constructor(
    readonly name: string,
    private readonly now: () => TimeNs,
  ) {}

  requestStarted(): void {
    this.requests++;
    if (this.firstStart === null) this.firstStart = this.now();
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
    this.perSecond.error(this.lastEnd);
  }
  retried(_kind: ErrorKind): void {
    this.retries++;
  }
  requestPhases(p: RequestPhases): void {
    for (const k of PHASES) this.phases[k].record(p[k]);
  }
  /** Total failed requests. */
  get errorCount(): number {
    let n = 0;
    for (const k of ERROR_KINDS) n += this.errors[k];
    return n;
  }
}
