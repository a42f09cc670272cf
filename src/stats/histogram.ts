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

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Records latencies (ns) and reports percentiles; the percentile rule is nearest rank, ceil(p·N). */
export class LatencyRecorder {
  private readonly h: Histogram = build({ numberOfSignificantValueDigits: 3 });
  private sumNs = 0;
  private maxNs = 0;
  private minNs = Infinity;

  /** Records one latency in ns (rounded to an integer, clamped at 0). */
  record(ns: number): void {
    const v = ns > 0 ? Math.round(ns) : 0;
    this.h.recordValue(v);
    this.sumNs += v;
    if (v > this.maxNs) this.maxNs = v;
    if (v < this.minNs) this.minNs = v;
  }
  /** Number of recorded values. */
  get count(): number {
    return this.h.totalCount;
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
    this.h.add(other.h);
    this.sumNs += other.sumNs;
    if (other.maxNs > this.maxNs) this.maxNs = other.maxNs;
    if (other.minNs < this.minNs) this.minNs = other.minNs;
  }
}
