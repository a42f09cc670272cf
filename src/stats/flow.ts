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
}

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
  /** Completions, errors and latency per second (timeseries.json; not part of stats.json). */
  readonly perSecond = new SecondSeries();

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
  /** Total failed requests. */
  get errorCount(): number {
    let n = 0;
    for (const k of ERROR_KINDS) n += this.errors[k];
    return n;
  }
}
