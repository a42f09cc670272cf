// sweep/stats — statistics across seeds: t-intervals of a mean, paired differences between variants,
// and the balance of a load over endpoints (max/mean, coefficient of variation, Jain's index, χ²
// against uniform). Layer: sweep. Distributions come from jstat (Student's t quantile, χ² CDF); what
// is written here is only arithmetic on them.
import jStat from 'jstat';

/** A mean across seeds with its confidence interval (null bounds with fewer than two values). */
export interface Estimate {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); null when n < 2. */
  sd: number | null;
  lo: number | null;
  hi: number | null;
}

/** Default confidence level of every interval. */
export const CONFIDENCE = 0.95;

/** Rounds to 6 significant digits so documents do not carry float noise. */
export function round6(x: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(6));
}

/** Mean and Student-t confidence interval of `xs` (independent replications: one value per seed). */
export function tInterval(xs: readonly number[], confidence = CONFIDENCE): Estimate | null {
  const n = xs.length;
  if (n === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean: round6(mean), sd: null, lo: null, hi: null };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = jStat.studentt.inv(1 - (1 - confidence) / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean: round6(mean), sd: round6(sd), lo: round6(mean - half), hi: round6(mean + half) };
}

/**
 * The difference b − a between two variants run with the same seeds: a paired t-interval over the
 * per-seed differences (common random numbers: a seed draws the same pod names, arrivals and service
 * times in both variants, so pairing removes that noise). Pairs with a missing value are left out.
 */
export function pairedDifference(a: readonly (number | null)[], b: readonly (number | null)[], confidence = CONFIDENCE): Estimate | null {
  const d: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== null && x !== undefined && y !== null && y !== undefined) d.push(y - x);
  }
  return tInterval(d, confidence);
}

/** Upper-tail probability of a χ² statistic with `df` degrees of freedom. */
export function chiSquarePValue(stat: number, df: number): number {
  if (df <= 0) return 1;
  return Math.min(1, Math.max(0, 1 - jStat.chisquare.cdf(stat, df)));
}

/** How evenly a load (one count per endpoint) is spread. */
export interface Balance {
  /** Number of endpoints. */
  k: number;
  total: number;
  /** count / total, in the order given. */
  shares: number[];
  /** max count / mean count (1 = even; k = all on one). */
  maxOverMean: number;
  /** Coefficient of variation: population standard deviation / mean of the counts. */
  cv: number;
  /** Jain's fairness index (Σx)² / (k Σx²): 1 = even, 1/k = all on one. */
  jain: number;
  /** Pearson's χ² against a uniform split, k − 1 degrees of freedom, and its p-value. */
  chi2: number;
  df: number;
  p: number;
}

/** The balance of `counts`; null with no endpoint or nothing counted. */
export function balance(counts: readonly number[]): Balance | null {
  const k = counts.length;
  const total = counts.reduce((a, b) => a + b, 0);
  if (k === 0 || total === 0) return null;
  const mean = total / k;
  const sumSq = counts.reduce((a, c) => a + c * c, 0);
  const variance = counts.reduce((a, c) => a + (c - mean) ** 2, 0) / k;
  const chi2 = counts.reduce((a, c) => a + (c - mean) ** 2 / mean, 0);
  return {
    k,
    total,
    shares: counts.map((c) => c / total),
    maxOverMean: Math.max(...counts) / mean,
    cv: Math.sqrt(variance) / mean,
    jain: (total * total) / (k * sumSq),
    chi2,
    df: k - 1,
    p: chiSquarePValue(chi2, k - 1),
  };
}

/**
 * One test over all seeds: χ² statistics of independent tests add, and so do their degrees of freedom
 * (each seed is an independent run), giving one test of uniformity for the variant.
 */
export function combinedChiSquare(parts: readonly Pick<Balance, 'chi2' | 'df'>[]): { chi2: number; df: number; p: number } | null {
  if (parts.length === 0) return null;
  const chi2 = parts.reduce((a, b) => a + b.chi2, 0);
  const df = parts.reduce((a, b) => a + b.df, 0);
  return { chi2: round6(chi2), df, p: round6(chiSquarePValue(chi2, df)) };
}
