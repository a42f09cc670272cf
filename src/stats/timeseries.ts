// stats/timeseries — per-second series of a flow (completions, errors, latency percentiles), written to
// timeseries.json beside stats.json; stats.json itself is unchanged by it. Layer: stats (observer;
// imports core and zod). Each second keeps a sparse log-bucketed latency histogram (buckets 1 % wide),
// so a second's p50/p99 is within 1 % above the exact nearest-rank value and memory grows with the
// number of distinct buckets, not of requests.
import { z } from 'zod';
import type { TimeNs } from '../core/time.js';

/** The schema identifier written into every timeseries.json. */
export const TIMESERIES_SCHEMA_ID = 'podwire-timeseries/1';

/** Relative width of a latency bucket. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);

const SecondRowSchema = z.object({
  t: z.number().int().nonnegative().describe('second of simulated time [t, t+1)'),
  ok: z.number().int().nonnegative().describe('requests that completed successfully in this second'),
  errors: z.number().int().nonnegative().describe('requests that failed for good in this second'),
  p50Us: z.number().nonnegative().nullable().describe('median latency of the successes, µs (null when none)'),
  p99Us: z.number().nonnegative().nullable().describe('p99 latency of the successes, µs (null when none)'),
});

/** timeseries.json: one row per second with activity, per flow. */
export const TimeseriesDocumentSchema = z.object({
  schema: z.literal(TIMESERIES_SCHEMA_ID),
  flows: z.array(z.object({ name: z.string(), seconds: z.array(SecondRowSchema) })),
});
export type SecondRow = z.infer<typeof SecondRowSchema>;
export type TimeseriesDocument = z.infer<typeof TimeseriesDocumentSchema>;

/** One second of a flow as the recovery metrics read it (stats/recovery.ts). */
export interface SecondDetail {
  t: number;
  started: number;
  ok: number;
  /** Errors by kind index (flow.ts ERROR_KINDS order); null when none failed this second. */
  byKind: readonly number[] | null;
  /** The second's latency buckets as sorted pairs: bucket i at 2i, its count at 2i + 1. */
  buckets: readonly number[];
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Grows a typed array to hold index `i` (doubling), keeping what it holds. */
function grown<T extends Uint32Array | Int16Array | Uint8Array>(a: T, need: number, make: (n: number) => T): T {
  if (need <= a.length) return a;
  const b = make(Math.max(64, 2 * a.length, need));
  b.set(a);
  return b;
}

/**
 * Completions, errors and latencies of one flow, bucketed by the second they completed in. Columns of
 * typed arrays indexed by second (from the first one seen; their stores are off the JS heap and grow by
 * doubling): requests started, successes, errors, errors by kind (made with the first error), and each
 * second's latency buckets packed, once the simulated time has left it, as sorted (bucket, count) pairs
 * in two shared pools — a long run costs tens of bytes a second plus six per distinct bucket, where a
 * Map per second (and one of buckets in it) cost ~0.3–4 KB. Only the current second's buckets are a Map,
 * reused; a success that completes in a second already left (not in time order) is kept apart in `late`.
 */
export class SecondSeries {
  private started_ = new Uint32Array(0);
  private ok = new Uint32Array(0);
  private errors = new Uint32Array(0);
  /** Errors by kind: second i's kind k at i × kinds + k (empty until the first error). */
  private byKind = new Uint32Array(0);
  /** Second i's packed buckets: pool positions [at[i], at[i] + len[i]); `packed` says whether it was packed. */
  private at = new Uint32Array(0);
  private len = new Uint32Array(0);
  private packed = new Uint8Array(0);
  private poolBucket = new Int16Array(0);
  private poolCount = new Uint32Array(0);
  private poolUsed = 0;
  /** The first second held (index 0) and how many are held from it; -1: none yet. */
  private base = -1;
  private size = 0;
  /** The second whose buckets `open` holds (-1: none). */
  private openT = -1;
  private readonly open = new Map<number, number>();
  /** Buckets of successes that completed in a second already packed, by second (rare: out of time order). */
  private late: Map<number, Map<number, number>> | null = null;

  /** `kinds`: the number of error kinds (flow.ts ERROR_KINDS). */
  constructor(private readonly kinds = 7) {}

  /** The index of second `t` (room made for it; earlier than the first held: every column shifts). */
  private index(now: TimeNs): number {
    const t = Math.floor(now / 1e9);
    if (this.base < 0) this.base = t;
    if (t < this.base) this.shift(this.base - t);
    const i = t - this.base;
    if (i >= this.started_.length) {
      const n = i + 1;
      this.started_ = grown(this.started_, n, (m) => new Uint32Array(m));
      this.ok = grown(this.ok, n, (m) => new Uint32Array(m));
      this.errors = grown(this.errors, n, (m) => new Uint32Array(m));
      this.at = grown(this.at, n, (m) => new Uint32Array(m));
      this.len = grown(this.len, n, (m) => new Uint32Array(m));
      this.packed = grown(this.packed, n, (m) => new Uint8Array(m));
      if (this.byKind.length > 0) this.byKind = grown(this.byKind, this.started_.length * this.kinds, (m) => new Uint32Array(m));
    }
    if (i >= this.size) this.size = i + 1;
    return i;
  }

  /** Moves every column `by` seconds later (a second before the first held arrived). */
  private shift(by: number): void {
    const move = <T extends Uint32Array | Uint8Array>(a: T, per: number, make: (n: number) => T): T => {
      const b = make((this.size + by) * per + 64 * per);
      b.set(a.subarray(0, this.size * per), by * per);
      return b;
    };
    this.started_ = move(this.started_, 1, (m) => new Uint32Array(m));
    this.ok = move(this.ok, 1, (m) => new Uint32Array(m));
    this.errors = move(this.errors, 1, (m) => new Uint32Array(m));
    this.at = move(this.at, 1, (m) => new Uint32Array(m));
    this.len = move(this.len, 1, (m) => new Uint32Array(m));
    this.packed = move(this.packed, 1, (m) => new Uint8Array(m));
    if (this.byKind.length > 0) this.byKind = move(this.byKind, this.kinds, (m) => new Uint32Array(m));
    this.base -= by;
    this.size += by;
  }

  /** Packs the open second's buckets into the pools (its time is over). */
  private pack(): void {
    const t = this.openT;
    if (t < 0) return;
    this.openT = -1;
    const i = t - this.base;
    const keys = [...this.open.keys()].sort((x, y) => x - y);
    const need = this.poolUsed + keys.length;
    this.poolBucket = grown(this.poolBucket, need, (m) => new Int16Array(m));
    this.poolCount = grown(this.poolCount, need, (m) => new Uint32Array(m));
    this.at[i] = this.poolUsed;
    this.len[i] = keys.length;
    this.packed[i] = 1;
    for (const b of keys) {
      this.poolBucket[this.poolUsed] = b;
      this.poolCount[this.poolUsed++] = this.open.get(b)!;
    }
    this.open.clear();
  }

  /** A success completing at `now` with latency `latencyNs`. */
  success(now: TimeNs, latencyNs: number): void {
    const i = this.index(now);
    this.ok[i]!++;
    const b = latencyNs >= 1 ? Math.floor(Math.log(latencyNs) / LOG_GROWTH) : -1;
    const t = this.base + i;
    if (t !== this.openT) {
      if (this.packed[i] === 1) {
        const m = (this.late ??= new Map()).get(t) ?? new Map<number, number>();
        this.late.set(t, m.set(b, (m.get(b) ?? 0) + 1));
        return;
      }
      this.pack();
      this.openT = t;
    }
    this.open.set(b, (this.open.get(b) ?? 0) + 1);
  }
  /** A failure at `now` (of the kind with index `kind` in flow.ts ERROR_KINDS). */
  error(now: TimeNs, kind = 0): void {
    const i = this.index(now);
    this.errors[i]!++;
    if (this.byKind.length === 0) this.byKind = new Uint32Array(this.started_.length * this.kinds);
    this.byKind[i * this.kinds + kind]!++;
  }
  /** A request started at `now`. */
  started(now: TimeNs): void {
    const i = this.index(now); // (first: it may replace the column)
    this.started_[i]!++;
  }

  /** Second i's buckets as sorted pairs (bucket, count), its packed ones and any late or open ones merged. */
  private bucketsOf(i: number): number[] {
    const t = this.base + i;
    const extra = t === this.openT ? this.open : this.late?.get(t);
    const m = new Map<number, number>();
    if (this.packed[i] === 1) for (let k = this.at[i]!, end = k + this.len[i]!; k < end; k++) m.set(this.poolBucket[k]!, this.poolCount[k]!);
    if (extra) for (const [b, c] of extra) m.set(b, (m.get(b) ?? 0) + c);
    const out: number[] = [];
    for (const b of [...m.keys()].sort((x, y) => x - y)) out.push(b, m.get(b)!);
    return out;
  }

  /** The seconds with activity (a request started, succeeded or failed), in time order. */
  private *active(): Generator<number> {
    for (let i = 0; i < this.size; i++) if (this.started_[i]! + this.ok[i]! + this.errors[i]! > 0) yield i;
  }

  /** Every second with activity, in time order, with its buckets. */
  details(): SecondDetail[] {
    const out: SecondDetail[] = [];
    for (const i of this.active()) {
      const byKind = this.errors[i]! > 0 ? [...this.byKind.subarray(i * this.kinds, (i + 1) * this.kinds)] : null;
      out.push({ t: this.base + i, started: this.started_[i]!, ok: this.ok[i]!, byKind, buckets: this.bucketsOf(i) });
    }
    return out;
  }
  /** The rows in time order: every second with activity. */
  rows(): SecondRow[] {
    const out: SecondRow[] = [];
    for (const i of this.active()) {
      const ok = this.ok[i]!;
      const pairs = ok > 0 ? this.bucketsOf(i) : [];
      out.push({ t: this.base + i, ok, errors: this.errors[i]!, p50Us: percentileUs(pairs, ok, 0.5), p99Us: percentileUs(pairs, ok, 0.99) });
    }
    return out;
  }
}

/** Nearest-rank percentile `q` of `ok` successes in sorted (bucket, count) pairs, as the bucket's upper edge in µs; null when none. */
function percentileUs(pairs: readonly number[], ok: number, q: number): number | null {
  if (ok === 0) return null;
  const rank = Math.max(1, Math.ceil(q * ok));
  let seen = 0;
  for (let k = 0; k < pairs.length; k += 2) {
    seen += pairs[k + 1]!;
    if (seen >= rank) return pairs[k]! < 0 ? 0 : round3(Math.pow(GROWTH, pairs[k]! + 1) / 1000);
  }
  return null;
}

/** Percentile `q` over merged buckets of `ok` successes (the same 1 % buckets), µs; null when none. */
export function mergedPercentileUs(buckets: ReadonlyMap<number, number>, ok: number, q: number): number | null {
  const pairs: number[] = [];
  for (const b of [...buckets.keys()].sort((x, y) => x - y)) pairs.push(b, buckets.get(b)!);
  return percentileUs(pairs, ok, q);
}

/** timeseries.json text (2-space indent, trailing newline). */
export function timeseriesJsonText(doc: TimeseriesDocument): string {
  return JSON.stringify(doc, null, 2) + '\n';
}
