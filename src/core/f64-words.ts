// core/f64-words — a double as its two 32-bit words, for objects that keep a double in two small-integer
// fields. With pointer compression V8 stores a double field as a heap number of its own, which the object
// points to: one more line to read when the object is cold. Its two words stored as small integers sit
// in the object itself (issue 13: a TIME_WAIT record's expiry, an endpoint's integrals, a latency
// recorder's sum and least values, a wire's busy-until time). Exact for every double, Infinity and fractions included. Layer: core.

const F64 = new Float64Array(1);
const WORDS = new Int32Array(F64.buffer);

/** The low 32-bit word of `x`, as a signed small integer. */
export function f64Lo(x: number): number {
  F64[0] = x;
  return WORDS[0]!;
}

/** The high 32-bit word of `x` (sign, exponent, the mantissa's top 20 bits), as a signed small integer. */
export function f64Hi(x: number): number {
  F64[0] = x;
  return WORDS[1]!;
}

/** The double whose words are `lo` and `hi` (as f64Lo and f64Hi gave them). */
export function f64Of(lo: number, hi: number): number {
  WORDS[0] = lo;
  WORDS[1] = hi;
  return F64[0]!;
}
