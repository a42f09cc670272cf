// stats/endpoint — per-endpoint (pod) counters: requests served, busy time, queue length. Layer: stats
// (observer; imports core only). A server reports through EndpointRecorder; the time-weighted queue
// length is integrated at each change, as ns-3's queue statistics do.
import type { TimeNs } from '../core/time.js';

/** What a server reports about its work. */
export interface EndpointRecorder {
  /** A request was completed and answered. */
  served(): void;
  /** The number of busy workers changed to `busy` (0..workers). */
  busyChanged(busy: number): void;
  /** The number of requests waiting for a worker changed to `queued`. */
  queueChanged(queued: number): void;
}

/** Counters of one endpoint. */
export class EndpointStats implements EndpointRecorder {
  servedCount = 0;
  /** Worker-time spent serving (sum over workers), ns. */
  busyNs = 0;
  maxQueue = 0;
  /** Requests served per second of simulated time, but for the current second's (`curT`, `curN`). */
  private readonly perSecond = new Map<number, number>();
  /** The second of the last request served (−1: none yet) and its count so far: no map update per request. */
  private curT = -1;
  private curN = 0;
  private queueArea = 0;
  private queue = 0;
  private busy = 0;
  private lastChange: TimeNs;
  private readonly start: TimeNs;

  constructor(
    readonly name: string,
    private readonly now: () => TimeNs,
    /** Number of workers, for utilisation. */
    readonly workers = 1,
  ) {
    this.start = now();
    this.lastChange = this.start;
  }
  private advance(): void {
    const t = this.now();
    const dt = t - this.lastChange;
    this.busyNs += dt * this.busy;
    this.queueArea += dt * this.queue;
    this.lastChange = t;
  }
  served(): void {
    this.servedCount++;
    const t = Math.floor(this.now() / 1e9);
    if (t !== this.curT) {
      this.storeSecond();
      this.curT = t;
      this.curN = this.perSecond.get(t) ?? 0;
    }
    this.curN++;
  }
  /** The current second's count into the map (a second gets its key when it is first stored, in time order). */
  private storeSecond(): void {
    if (this.curT >= 0) this.perSecond.set(this.curT, this.curN);
  }
  /** Requests served per second of simulated time (the recovery section's endpoint shares). */
  get servedPerSecond(): ReadonlyMap<number, number> {
    this.storeSecond();
    return this.perSecond;
  }
  busyChanged(busy: number): void {
    this.advance();
    this.busy = busy;
  }
  queueChanged(queued: number): void {
    this.advance();
    this.queue = queued;
    if (queued > this.maxQueue) this.maxQueue = queued;
  }
  /** Brings the integrals up to now (call before reporting). */
  flush(): void {
    this.advance();
  }
  /** Time-averaged queue length since creation. */
  get meanQueue(): number {
    const span = this.lastChange - this.start;
    return span > 0 ? this.queueArea / span : 0;
  }
}
