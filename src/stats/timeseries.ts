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

interface Second {
  ok: number;
  errors: number;
  buckets: Map<number, number>;
  /** Requests started in this second (stats.json recovery series; not in timeseries.json). */
  started: number;
  /** Errors by kind index (flow.ts ERROR_KINDS order), created with the first error. */
  byKind: number[] | null;
}

/** One second of a flow as the recovery metrics read it (stats/recovery.ts). */
export interface SecondDetail {
  t: number;
  started: number;
  ok: number;
  byKind: readonly number[] | null;
  buckets: ReadonlyMap<number, number>;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Completions, errors and latencies of one flow, bucketed by the second they completed in. */
export class SecondSeries {
  private readonly seconds = new Map<number, Second>();
  /** The second `at` found last and its number (a flow's requests start and end mostly in the same one). */
  private lastT = -1;
  private last: Second | null = null;

  private at(now: TimeNs): Second {
    const t = Math.floor(now / 1e9);
    if (t === this.lastT) return this.last!;
    let s = this.seconds.get(t);
    if (!s) {
      s = { ok: 0, errors: 0, buckets: new Map(), started: 0, byKind: null };
      this.seconds.set(t, s);
    }
    this.lastT = t;
    this.last = s;
    return s;
  }
  /** A success completing at `now` with latency `latencyNs`. */
  success(now: TimeNs, latencyNs: number): void {
    const s = this.at(now);
    s.ok++;
    const b = latencyNs >= 1 ? Math.floor(Math.log(latencyNs) / LOG_GROWTH) : -1;
    s.buckets.set(b, (s.buckets.get(b) ?? 0) + 1);
  }
  /** A failure at `now` (of the kind with index `kind` in flow.ts ERROR_KINDS). */
  error(now: TimeNs, kind = 0): void {
    const s = this.at(now);
    s.errors++;
    const by = (s.byKind ??= []);
    by[kind] = (by[kind] ?? 0) + 1; // (a kind past the array's end counts too: the array was 6 long for 7 kinds)
  }
  /** A request started at `now`. */
  started(now: TimeNs): void {
    this.at(now).started++;
  }
  /** Every second with activity, in time order, with its raw buckets. */
  details(): SecondDetail[] {
    return [...this.seconds.keys()].sort((a, b) => a - b).map((t) => ({ t, ...this.seconds.get(t)! }));
  }
  /** The rows in time order (seconds without any completion are left out). */
  rows(): SecondRow[] {
    return [...this.seconds.keys()].sort((a, b) => a - b).map((t) => {
      const s = this.seconds.get(t)!;
      return { t, ok: s.ok, errors: s.errors, p50Us: percentileUs(s, 0.5), p99Us: percentileUs(s, 0.99) };
    });
  }
}

/** Nearest-rank percentile of a second's buckets, as the bucket's upper edge in µs. */
function percentileUs(s: Pick<Second, 'ok' | 'buckets'>, q: number): number | null {
  if (s.ok === 0) return null;
  const rank = Math.max(1, Math.ceil(q * s.ok));
  let seen = 0;
  for (const b of [...s.buckets.keys()].sort((x, y) => x - y)) {
    seen += s.buckets.get(b)!;
    if (seen >= rank) return b < 0 ? 0 : round3(Math.pow(GROWTH, b + 1) / 1000);
  }
  return null;
}

/** Percentile `q` over merged buckets of `ok` successes (the same 1 % buckets), µs; null when none. */
export function mergedPercentileUs(buckets: ReadonlyMap<number, number>, ok: number, q: number): number | null {
  return percentileUs({ ok, buckets: buckets as Map<number, number> }, q);
}

/** timeseries.json text (2-space indent, trailing newline). */
export function timeseriesJsonText(doc: TimeseriesDocument): string {
  return JSON.stringify(doc, null, 2) + '\n';
}
