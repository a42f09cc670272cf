// stats/endpoint — per-endpoint (pod) counters: requests served, busy time, queue length. Layer: stats
// (observer; imports core only). A server reports through EndpointRecorder; the time-weighted queue
// length is integrated at each change, as ns-3's queue statistics do.
import { f64Hi, f64Lo, f64Of } from '../core/f64-words.js';
import { TIME_ZERO, type TimeNs } from '../core/time.js';

/** What a server reports about its work. */
export interface EndpointRecorder {
  /** A request was completed and answered. */
  served(): void;
  /** A kubelet probe's request (User-Agent kube-probe/…) was completed and answered: load apart from the traffic's. */
  probed(): void;
  /** The number of busy workers changed to `busy` (0..workers). */
  busyChanged(busy: number): void;
  /** The number of requests waiting for a worker changed to `queued`. */
  queueChanged(queued: number): void;
}


/** What an endpoint's per-second counts start as (it allocates on its first request). */
const NO_COUNTS = new Float64Array(0);

/** Counters of one endpoint. */
export class EndpointStats implements EndpointRecorder {
  // Fields in the order a request's four changes and its served() use them (a big world's endpoint is
  // cold by its next request: as few of its lines as the object allows); no parameter properties, which
  // would come first.
  private busy = 0;
  private queue = 0;
  maxQueue = 0;
  // The integrals' three doubles, each as its two 32-bit words (small integers in the object: a double
  // field is a box of its own, a heap number the object points to, three more lines read cold at each
  // request of a big world's endpoint). lastChange: when the integrals were last brought up to date;
  // busyNs: worker-time spent serving (sum over workers), ns; queueArea: the queue length's integral.
  private lastLo = 0;
  private lastHi = 0;
  private busyLo = 0;
  private busyHi = 0;
  private areaLo = 0;
  private areaHi = 0;
  servedCount = 0;
  /** The second of the last request served (−1: none yet) and its count so far: no map update per request. */
  private curT = -1;
  private curN = 0;
  /**
   * Requests served per second of simulated time, but for the current second's (`curT`, `curN`): second
   * `base + i` at i (0: none), for i < `stored`. A typed array grown by doubling: its store is off the
   * JS heap, so the scavenger copies none of it (a Map per endpoint grew by a table copy every few
   * hundred seconds, and each table outlived scavenges).
   */
  private counts = NO_COUNTS;
  private base = 0;
  private stored = 0;
  private readonly start: TimeNs = TIME_ZERO;
  readonly name: string;
  private readonly now: () => TimeNs;
  /** Number of workers, for utilisation. */
  readonly workers: number;
  /** Kubelet probe requests answered (not in servedCount, nor in the per-second series). */
  probeCount = 0;

  constructor(name: string, now: () => TimeNs, workers = 1) {
    this.name = name;
    this.now = now;
    this.workers = workers;
    this.start = now();
    this.lastChange = this.start;
  }
  private advance(): void {
    const t = this.now();
    const dt = t - this.lastChange;
    const busyNs = this.busyNs + dt * this.busy;
    const area = this.queueArea + dt * this.queue;
    this.lastChange = t;
    this.busyLo = f64Lo(busyNs);
    this.busyHi = f64Hi(busyNs);
    this.areaLo = f64Lo(area);
    this.areaHi = f64Hi(area);
  }
  /** When the integrals were last brought up to date. */
  private get lastChange(): TimeNs {
    return f64Of(this.lastLo, this.lastHi);
  }
  private set lastChange(t: TimeNs) {
    this.lastLo = f64Lo(t);
    this.lastHi = f64Hi(t);
  }
  /** Worker-time spent serving (sum over workers), ns. */
  get busyNs(): number {
    return f64Of(this.busyLo, this.busyHi);
  }
  private get queueArea(): number {
    return f64Of(this.areaLo, this.areaHi);
  }
  served(): void {
    this.servedCount++;
    const t = Math.floor(this.now() / 1e9);
    if (t !== this.curT) {
      this.storeSecond();
      this.curT = t;
      const i = t - this.base;
      this.curN = this.stored > 0 && i >= 0 && i < this.stored ? this.counts[i]! : 0;
    }
    this.curN++;
  }
  /** The current second's count into the map (a second gets its key when it is first stored, in time order). */
  private storeSecond(): void {
    if (this.curT < 0) return;
    if (this.stored === 0) this.base = this.curT;
    const i = this.curT - this.base;
    if (i >= this.counts.length) {
      const grown = new Float64Array(Math.max(64, 2 * this.counts.length, i + 1));
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[i] = this.curN;
    if (i >= this.stored) this.stored = i + 1;
  }
  /** Requests served per second of simulated time, the seconds with any in time order (the recovery section's endpoint shares). */
  get servedPerSecond(): ReadonlyMap<number, number> {
    this.storeSecond();
    const m = new Map<number, number>();
    for (let i = 0; i < this.stored; i++) if (this.counts[i]! > 0) m.set(this.base + i, this.counts[i]!);
    return m;
  }
  probed(): void {
    this.probeCount++;
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
