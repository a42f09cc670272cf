// core/distributions — random variates for service times, think times, inter-arrival times.
// Layer: core. Each draws from an Rng handed in, never Math.random().
import type { Rng } from './rng.js';
import { parseDuration } from './time.js';

/** A distribution of non-negative values (units are the caller's: ns, bytes, ...). */
export type Distribution =
  | { kind: 'constant'; value: number }
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'exponential'; mean: number }
  | { kind: 'normal'; mean: number; stddev: number }
  | { kind: 'lognormal'; mu: number; sigma: number }
  | { kind: 'pareto'; scale: number; shape: number };

/** Standard normal by Box–Muller (two uniforms per draw, no cached spare: keeps streams simple). */
function stdNormal(rng: Rng): number {
  let u = rng.next();
  while (u <= 0) u = rng.next();
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A draw of an exponential distribution of mean `mean` (sample's, for callers that keep no distribution object). */
export function exponential(mean: number, rng: Rng): number {
  let u = rng.next();
  while (u <= 0) u = rng.next();
  return -mean * Math.log(u);
}

/** Draws one value. Normal draws are clamped at 0 (times and sizes cannot be negative). */
export function sample(d: Distribution, rng: Rng): number {
  switch (d.kind) {
    case 'constant':
      return d.value;
    case 'uniform':
      return d.min + (d.max - d.min) * rng.next();
    case 'exponential':
      return exponential(d.mean, rng);
    case 'normal':
      return Math.max(0, d.mean + d.stddev * stdNormal(rng));
    case 'lognormal':
      return Math.exp(d.mu + d.sigma * stdNormal(rng));
    case 'pareto': {
      let u = rng.next();
      while (u <= 0) u = rng.next();
      return d.scale / Math.pow(u, 1 / d.shape);
    }
    default: {
      const never: never = d;
      throw new Error(`unknown distribution ${(never as { kind: string }).kind}`);
    }
  }
}

/** The mean of a distribution (for documentation and tests). */
export function mean(d: Distribution): number {
  switch (d.kind) {
    case 'constant':
      return d.value;
    case 'uniform':
      return (d.min + d.max) / 2;
    case 'exponential':
      return d.mean;
    case 'normal':
      return d.mean;
    case 'lognormal':
      return Math.exp(d.mu + (d.sigma * d.sigma) / 2);
    case 'pareto':
      return d.shape > 1 ? (d.shape * d.scale) / (d.shape - 1) : Infinity;
    default: {
      const never: never = d;
      throw new Error(`unknown distribution ${(never as { kind: string }).kind}`);
    }
  }
}

/**
 * Parses `KIND:ARGS` into a distribution of nanoseconds (durations) or plain numbers:
 * `constant:5ms`, `exponential:5ms` (mean), `uniform:1ms,9ms`, `normal:5ms,1ms`,
 * `lognormal:5ms,0.5` (median and sigma of the log), `pareto:1ms,2.5` (scale and shape).
 * Arguments that are durations become ns; bare numbers stay as given (e.g. bytes). Null when malformed.
 */
export function parseDistribution(text: string, unitless = false): Distribution | null {
  const m = /^(constant|exponential|uniform|normal|lognormal|pareto):([^,\s]+)(?:,([^,\s]+))?$/.exec(text.trim());
  if (!m) return null;
  const val = (s: string | undefined): number | null => {
    if (s === undefined) return null;
    if (unitless) return Number.isFinite(Number(s)) ? Number(s) : null;
    return parseDuration(/^[0-9.]+$/.test(s) ? `${s}s` : s);
  };
  const num = (s: string | undefined): number | null => (s !== undefined && Number.isFinite(Number(s)) ? Number(s) : null);
  const a = val(m[2]);
  switch (m[1]) {
    case 'constant':
      return a === null ? null : { kind: 'constant', value: a };
    case 'exponential':
      return a === null ? null : { kind: 'exponential', mean: a };
    case 'uniform': {
      const b = val(m[3]);
      return a === null || b === null || b < a ? null : { kind: 'uniform', min: a, max: b };
    }
    case 'normal': {
      const b = val(m[3]);
      return a === null || b === null ? null : { kind: 'normal', mean: a, stddev: b };
    }
    case 'lognormal': {
      const sigma = num(m[3]);
      return a === null || a <= 0 || sigma === null ? null : { kind: 'lognormal', mu: Math.log(a), sigma };
    }
    case 'pareto': {
      const shape = num(m[3]);
      return a === null || shape === null || shape <= 0 ? null : { kind: 'pareto', scale: a, shape };
    }
    default:
      return null;
  }
}
