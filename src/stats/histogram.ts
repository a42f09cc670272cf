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
   * Made on the first value, packed (hdr-histogram-js' PackedHistogram: the same buckets, counts stored
   * sparsely) for the first PACKED_MAX values, then flat (a Uint32Array over every bucket, ~5x faster
   * to record into): a flow has seven recorders (latency, connect, five phases), a flat 3-digit
   * histogram of nanoseconds is ~90 KB once it has seen a second-long value, and a thousand flows x
   * seven flat recorders were 600 MB. Percentiles and .hgrm text do not depend on the storage.
   */
  private hist: Histogram | null = null;
  private packed = true;
  private get h(): Histogram {
    return (this.hist ??= build({ bitBucketSize: 'packed', numberOfSignificantValueDigits: 3 }));
  }
  /** The packed histogram's values moved to a flat one. */
  private unpack(): void {
    const flat = build({ numberOfSignificantValueDigits: 3 });
    if (this.hist !== null) flat.add(this.hist);
    this.hist = flat;
    this.packed = false;
  }
  private sumNs = 0;
  private maxNs = 0;
  private minNs = Infinity;

  /** Records one latency in ns (rounded to an integer, clamped at 0). */
  record(ns: number): void {
    const v = ns > 0 ? Math.round(ns) : 0;
    if (this.packed && this.count >= PACKED_MAX) this.unpack();
    this.h.recordValue(v);
    this.sumNs += v;
    if (v > this.maxNs) this.maxNs = v;
    if (v < this.minNs) this.minNs = v;
  }
  /** Number of recorded values. */
  get count(): number {
    return this.hist === null ? 0 : this.hist.totalCount;
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
    if (other.hist !== null) {
      if (this.packed && this.count + other.hist.totalCount > PACKED_MAX) this.unpack();
      this.h.add(other.hist);
    }
    this.sumNs += other.sumNs;
    if (other.maxNs > this.maxNs) this.maxNs = other.maxNs;
    if (other.minNs < this.minNs) this.minNs = other.minNs;
  }
}
