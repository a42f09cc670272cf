// stats/histogram — latency recorder on an HDR histogram. Layer: stats (an observer: imports core,
// wire, packet only; here just hdr-histogram-js). Mirrors HdrHistogram (Gil Tene): values are recorded
// in integer nanoseconds with 3 significant decimal digits, i.e. any reported percentile lies within
// 1/1024 (< 0.1 %) above the exact nearest-rank sample. Mean and max are kept exactly beside it.
import { build, type Histogram } from 'hdr-histogram-js';
import { f64Hi, f64Lo, f64Of } from '../core/f64-words.js';

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

/** Sub-buckets in half a bucket (3 significant digits: 2^10 ≥ 2 x 10^3 / 2), and its log2. */
const BUCKET_HALF_MAGNITUDE = 10;
const BUCKET_HALF = 1 << BUCKET_HALF_MAGNITUDE;

/**
 * The index of an integer value ≥ 0 in a 3-digit histogram's counts (unit 1 ns), as hdr-histogram-js
 * computes it: bucket b = max(0, floor(log2 v) − 10), sub-bucket floor(v / 2^b) (in [1024, 2048) when
 * b > 0), index b·1024 + sub-bucket. Below 2^32 floor(log2 v) is 31 − clz32(v); above, the library's
 * own float formula (a value just under a power of two that log2 rounds up lands at the top of the
 * bucket below, the same index).
 */
function bucketIndex(v: number): number {
  if (v < 0x100000000) {
    const b = 21 - Math.clz32(v); // floor(log2 v) - 10 (negative below 2048, and for 0)
    return b <= 0 ? v : (b << BUCKET_HALF_MAGNITUDE) + (v >>> b);
  }
  const b = Math.floor(Math.log2(v)) - BUCKET_HALF_MAGNITUDE;
  return b * BUCKET_HALF + Math.floor(v / Math.pow(2, b));
}

/** The least value of index `i`'s bucket (the inverse of bucketIndex). */
function valueOfBucket(i: number): number {
  if (i < 2 * BUCKET_HALF) return i;
  const b = Math.floor(i / BUCKET_HALF) - 1;
  return (i - b * BUCKET_HALF) * Math.pow(2, b);
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Infinity's two 32-bit words (LatencyRecorder keeps its doubles as words). */
const INF_LO = f64Lo(Infinity);
const INF_HI = f64Hi(Infinity);

/** Records latencies (ns) and reports percentiles; the percentile rule is nearest rank, ceil(p·N). */
export class LatencyRecorder {
  /**
   * The first PACKED_MAX values are kept as they come (`pending`: recording one is a store, not a walk
   * of the packed histogram's index tree), then go into `counts`, this recorder's own flat array of the
   * 3-digit histogram's buckets (see bucketIndex), which takes the later ones: hdr-histogram-js finds a
   * value's bucket with Math.log2 and two Math.pow calls (~600 instructions a value, two values a
   * request); here it is a clz32 and a shift. Whoever asks for the histogram (percentiles, .hgrm,
   * addAll) gets an hdr-histogram-js one: made packed (PackedHistogram: the same buckets, counts stored
   * sparsely) of the pending values, which then takes the values up to PACKED_MAX and is moved to a
   * flat one; or made flat of `counts` (materialize), which then takes every later value. A flow has
   * seven recorders (latency, connect, five phases), a flat 3-digit histogram of nanoseconds is ~90 KB
   * once it has seen a second-long value, and a thousand flows x seven flat recorders were 600 MB.
   * Percentiles and .hgrm text depend only on the values, not on the storage or the order.
   */
  private hist: Histogram | null = null;
  private packed = true;
  /** Values not in a histogram yet (only while `hist` and `counts` are null), `pendingCount` of them. */
  private pending: Float64Array | null = null;
  private pendingCount = 0;
  /** Counts by bucket index (only while `hist` is null), `countsTotal` values in all. */
  private counts: Uint32Array | null = null;
  private countsTotal = 0;
  // The doubles a value updates (sum, least, least above 0) as their 32-bit words: a double field is a
  // box of its own (a heap number the recorder points to), a line read cold at each request of one of
  // a hundred flows' recorders; these are in the object. (maxNs stays a field: below 2^31 ns, a small integer.)
  private sumLo = 0;
  private sumHi = 0;
  private minLo = INF_LO;
  private minHi = INF_HI;
  private mnzLo = INF_LO;
  private mnzHi = INF_HI;
  /** The histogram, made (packed of the pending values, or flat of `counts`) when there is none yet. */
  private get h(): Histogram {
    if (this.hist === null) {
      if (this.counts !== null) this.materialize();
      else {
        const h = build({ bitBucketSize: 'packed', numberOfSignificantValueDigits: 3 });
        this.recordPending(h);
        this.hist = h;
      }
    }
    return this.hist!;
  }
  /** Records the pending values into `h` and forgets them. */
  private recordPending(h: Histogram): void {
    const p = this.pending;
    for (let i = 0; i < this.pendingCount; i++) h.recordValue(p![i]!);
    this.pending = null;
    this.pendingCount = 0;
  }
  /** The pending values or the packed histogram's moved to a flat one (addAll; a packed one past PACKED_MAX). */
  private toFlat(): void {
    const flat = build({ numberOfSignificantValueDigits: 3 });
    if (this.hist === null) this.recordPending(flat);
    else if (this.hist.totalCount > 0) flat.add(this.hist);
    this.hist = flat;
    this.packed = false;
  }
  /** The pending values moved to `counts`. */
  private pendingToCounts(): void {
    const p = this.pending!;
    const n = this.pendingCount;
    this.counts = new Uint32Array(BUCKET_HALF * 2);
    this.packed = false;
    for (let i = 0; i < n; i++) this.countValue(p[i]!);
    this.pending = null;
    this.pendingCount = 0;
  }
  /** One more value in `counts`. */
  private countValue(v: number): void {
    const i = bucketIndex(v);
    let c = this.counts!;
    if (i >= c.length) {
      const grown = new Uint32Array(((i >>> BUCKET_HALF_MAGNITUDE) + 1) * BUCKET_HALF);
      grown.set(c);
      this.counts = c = grown;
    }
    c[i] = c[i]! + 1;
    this.countsTotal++;
  }
  /**
   * `counts` moved to a flat hdr-histogram-js histogram in the state recording the values one by one
   * leaves it in: the same count at every index, total and (exact) maximum and least non-zero value
   * (recorded as such in their buckets), and the same array length (it follows the maximum alone).
   */
  private materialize(): void {
    const c = this.counts!;
    const flat = build({ numberOfSignificantValueDigits: 3 });
    const maxAt = bucketIndex(this.maxNs);
    const minAt = this.minNonZeroNs === Infinity ? -1 : bucketIndex(this.minNonZeroNs);
    for (let i = 0; i < c.length; i++) {
      let n = c[i]!;
      if (n === 0) continue;
      if (i === minAt) {
        const rest = i === maxAt && this.maxNs !== this.minNonZeroNs ? n - 1 : n;
        flat.recordValueWithCount(this.minNonZeroNs, rest);
        n -= rest;
        if (n === 0) continue;
      }
      flat.recordValueWithCount(i === maxAt ? this.maxNs : valueOfBucket(i), n);
    }
    this.hist = flat;
    this.counts = null;
    this.countsTotal = 0;
  }
  private maxNs = 0;
  private get sumNs(): number {
    return f64Of(this.sumLo, this.sumHi);
  }
  private set sumNs(x: number) {
    this.sumLo = f64Lo(x);
    this.sumHi = f64Hi(x);
  }
  /** The least value recorded (Infinity when none). */
  private get minNs(): number {
    return f64Of(this.minLo, this.minHi);
  }
  private set minNs(x: number) {
    this.minLo = f64Lo(x);
    this.minHi = f64Hi(x);
  }
  /** The least value above 0 recorded (Infinity when none): the histogram keeps it exactly. */
  private get minNonZeroNs(): number {
    return f64Of(this.mnzLo, this.mnzHi);
  }
  private set minNonZeroNs(x: number) {
    this.mnzLo = f64Lo(x);
    this.mnzHi = f64Hi(x);
  }

  /** Records one latency in ns (rounded to an integer, clamped at 0). */
  record(ns: number): void {
    const v = ns > 0 ? Math.round(ns) : 0;
    this.sumNs += v;
    if (v > this.maxNs) this.maxNs = v;
    if (v < this.minNs) this.minNs = v;
    if (v < this.minNonZeroNs && v > 0) this.minNonZeroNs = v;
    if (this.counts !== null) return this.countValue(v);
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
      this.pendingToCounts(); // the first value past PACKED_MAX: every value goes into `counts`
      return this.countValue(v);
    } else if (this.packed && this.hist.totalCount >= PACKED_MAX) this.toFlat();
    this.hist!.recordValue(v);
  }
  /** Number of recorded values. */
  get count(): number {
    return this.hist !== null ? this.hist.totalCount : this.counts !== null ? this.countsTotal : this.pendingCount;
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
    if (other.minNonZeroNs < this.minNonZeroNs) this.minNonZeroNs = other.minNonZeroNs;
  }
}
