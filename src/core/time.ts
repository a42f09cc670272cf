// core/time — simulated time. Layer: core (imports nothing).
// Time is an integer number of nanoseconds held in a JS number: exact up to 2^53 ns (~104 days).

/** Simulated time in integer nanoseconds. */
export type TimeNs = number;

/**
 * Zero for a field or variable that will hold times. It is -0, which equals 0 in every comparison and
 * sum, but which V8 holds as a double rather than a small integer: a field first given a small
 * integer is compiled as one, and when simulated time passes 2^31 ns (2.1 s) the first larger value
 * changes the field's representation, which throws away the optimized code of every function that
 * touched such an object (measured: ~100 ms of S1's ~500 ms run CPU went to that one re-warm-up).
 */
export const TIME_ZERO: TimeNs = -0;

export const NS = 1;
export const US = 1_000;
export const MS = 1_000_000;
export const SEC = 1_000_000_000;

const UNIT: Record<string, number> = { ns: NS, us: US, µs: US, ms: MS, s: SEC, m: 60 * SEC, min: 60 * SEC, h: 3600 * SEC };

/** Parses "10us", "1.5ms", "2s", "250ns", or a bare number of seconds, into integer ns; null when malformed. */
export function parseDuration(text: string | number): TimeNs | null {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? Math.round(text * SEC) : null;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)\s*(ns|us|µs|ms|s|m|min|h)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = UNIT[(m[2] ?? 's').toLowerCase()];
  if (unit === undefined) return null;
  return Math.round(Number(m[1]) * unit);
}

/** A duration as a scenario or a flag writes it: a decimal number and an optional unit (parseDuration also reads exponents). */
export const DURATION = /^\s*[0-9]+(\.[0-9]+)?\s*(ns|us|µs|ms|s|m|min|h)?\s*$/;
export const DURATION_EXPECTED = 'expected a duration like 10ms, 1.5s, 250us';
/** Longest duration a scenario or a flag may name: the clock counts integer nanoseconds in a double (exact to 2^53 ns ≈ 104 days). */
export const MAX_DURATION_NS = 100 * 86_400 * SEC;

/**
 * Why a duration is refused, or null: the one rule for a scenario's fields (scenario/schema-base) and
 * the CLI's duration flags (--until, --max-sim-time, trace --at), so both say the same thing.
 */
export function durationProblem(v: string | number): string | null {
  if (typeof v === 'number' ? !(v >= 0) : !DURATION.test(v)) return DURATION_EXPECTED;
  const ns = parseDuration(v);
  if (ns === null) return DURATION_EXPECTED;
  if (!(ns <= MAX_DURATION_NS)) return 'at most 100 days (the simulated clock counts integer nanoseconds)';
  if (ns === 0 && /[1-9]/.test(String(v))) return 'below the clock resolution of 1ns';
  return null;
}

/** parseDuration for input the schema has already validated: a malformed or absent value is 0. */
export function durationOr0(text: string | number | undefined): TimeNs {
  return text === undefined ? 0 : (parseDuration(text) ?? 0);
}

/** Parses a data rate such as "1Gbps", "100Mbit", "10kbps" or a bare bits/s number; null when malformed. */
export function parseRate(text: string | number): number | null {
  if (typeof text === 'number') return Number.isFinite(text) && text > 0 ? text : null;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(bps|bit|bit\/s|b\/s)?\s*$/i.exec(text);
  if (!m) return null;
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const v = Number(m[1]) * mult;
  return v > 0 ? v : null;
}

/** Formats ns as a short human string ("1.500ms"). */
export function formatTime(t: TimeNs): string {
  if (t >= SEC) return `${(t / SEC).toFixed(6)}s`;
  if (t >= MS) return `${(t / MS).toFixed(3)}ms`;
  if (t >= US) return `${(t / US).toFixed(3)}us`;
  return `${t}ns`;
}
