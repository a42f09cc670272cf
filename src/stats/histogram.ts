// stats/histogram — latency recorder on an HDR histogram. Layer: stats (an observer: imports core,
// wire, packet only; here just hdr-histogram-js). Mirrors HdrHistogram (Gil Tene): values are recorded
// in integer nanoseconds with 3 significant decimal digits, i.e. any reported percentile lies within
// 1/1024 (< 0.1 %) above the exact nearest-rank sample. Mean and max are kept exactly beside it.
import { build, type Histogram } from 'hdr-histogram-js';

/** Percentile summary in microseconds (the stats.json `latencyUs` object), keys in a fixed order. */
export interface LatencySummaryUs {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Relative precision of reported percentiles (3 significant digits → sub-bucket width 2^-10). */
export const PERCENTILE_RELATIVE_PRECISION = 1 / 1024;

/** Values a recorder keeps packed before it moves to a flat histogram. */
const PACKED_MAX = 1024;

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Records latencies (ns) and reports percentiles; the percentile rule is nearest rank, ceil(p·N). */
export class LatencyRecorder {
  /**
   * The first PACKED_MAX values are kept as they come (`pending`: recording one is a store, not a walk
   * of the packed histogram's index tree), then go into a flat histogram (a Uint32Array over every
   * bucket) that takes the later ones. A recorder asked for its histogram before that (percentiles,
   * .hgrm, addAll) gets a packed one (hdr-histogram-js' PackedHistogram: the same buckets, counts stored
   * sparsely) of its values, which then takes the values up to PACKED_MAX, then is moved to a flat one:
   * a flow has seven recorders (latency, connect, five phases), a flat 3-digit histogram of nanoseconds
   * is ~90 KB once it has seen a second-long value, and a thousand flows x seven flat recorders were
   * 600 MB. Percentiles and .hgrm text depend only on the values, not on the storage or the order.
   */
  private hist: Histogram | null = null;
  private packed = true;
  /** Values not in `hist` yet (only while `hist` is null), `pendingCount` of them. */
  private pending: Float64Array | null = null;
  private pendingCount = 0;
  /** The histogram, made (packed, of the pending values) when there is none yet. */
  private get h(): Histogram {
    if (this.hist === null) {
      const h = build({ bitBucketSize: 'packed', numberOfSignificantValueDigits: 3 });
      this.recordPending(h);
      this.hist = h;
    }
    return this.hist;
  }
  /** Records the pending values into `h` and forgets them. */
  private recordPending(h: Histogram): void {
    const p = this.pending;
    for (let i = 0; i < this.pendingCount; i++) h.recordValue(p![i]!);
    this.pending = null;
    this.pendingCount = 0;
  }
  /** Every value so far moved to a flat histogram: the raw pending ones, or the packed histogram's. */
  private toFlat(): void {
    const flat = build({ numberOfSignificantValueDigits: 3 });
    if (this.hist === null) this.recordPending(flat);
    else if (this.hist.totalCount > 0) flat.add(this.hist);
    this.hist = flat;
    this.packed = false;
  }
  private sumNs = 0;
  private maxNs = 0;
  private minNs = Infinity;

  /** Records one latency in ns (rounded to an integer, clamped at 0). */
  record(ns: number): void {
    const v = ns > 0 ? Math.round(ns) : 0;
    this.sumNs += v;
    if (v > this.maxNs) this.maxNs = v;
    if (v < this.minNs) this.minNs = v;
    if (this.hist === null) {
      const n = this.pendingCount;
      if (n < PACKED_MAX) {
        let p = this.pending;
        if (p === null || p.length === n) {
          const grown = new Float64Array(n === 0 ? 16 : n * 2);
          if (p !== null) grown.set(p);
          this.pending = p = grown;
        }
        p[n] = v;
        this.pendingCount = n + 1;
        return;
      }
      this.toFlat(); // the first value past PACKED_MAX: every value goes into a flat histogram
    } else if (this.packed && this.hist.totalCount >= PACKED_MAX) this.toFlat();
    this.hist!.recordValue(v);
  }
  /** Number of recorded values. */
  get count(): number {
    return this.hist === null ? this.pendingCount : this.hist.totalCount;
  }
  /** Exact mean in ns (0 when empty). */
  get meanNs(): number {
    return this.count === 0 ? 0 : this.sumNs / this.count;
  }
  /** Exact maximum in ns (0 when empty). */
  get maxValueNs(): number {
    return this.maxNs;
  }
  /** Exact minimum in ns (0 when empty). */
  get minValueNs(): number {
    return this.count === 0 ? 0 : this.minNs;
  }
  /** Value at percentile p (0–100] in ns, within PERCENTILE_RELATIVE_PRECISION of the exact one. */
  percentileNs(p: number): number {
    if (this.count === 0) return 0;
    // The highest equivalent value of the bucket can exceed the exact maximum; never report above it.
    return Math.min(this.h.getValueAtPercentile(p), this.maxNs);
  }
  /** The stats.json summary in µs, rounded to 1 ns. */
  summaryUs(): LatencySummaryUs {
    return {
      mean: round3(this.meanNs / 1000),
      p50: round3(this.percentileNs(50) / 1000),
      p90: round3(this.percentileNs(90) / 1000),
      p99: round3(this.percentileNs(99) / 1000),
      p999: round3(this.percentileNs(99.9) / 1000),
      max: round3(this.maxNs / 1000),
    };
  }
  /** The HdrHistogram percentile distribution text (.hgrm), values in microseconds. */
  toHgrm(): string {
    return this.h.outputPercentileDistribution(5, 1000);
  }
  /** Adds every value of another recorder (for totals across flows). */
  addAll(other: LatencyRecorder): void {
    if (other.count > 0) {
      const oh = other.h;
      if (this.packed && this.count + oh.totalCount > PACKED_MAX) this.toFlat();
      this.h.add(oh);
    }
    this.sumNs += other.sumNs;
    if (other.maxNs > this.maxNs) this.maxNs = other.maxNs;
    if (other.minNs < this.minNs) this.minNs = other.minNs;
  }
}
