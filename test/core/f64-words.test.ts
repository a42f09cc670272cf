import { describe, expect, it } from 'vitest';
import { f64Hi, f64Lo, f64Of } from '../../src/core/f64-words.js';

describe('core/f64-words', () => {
  it('gives back every double from its two words, bit for bit', () => {
    const xs = [0, -0, 1, -1, 0.5, 1e-300, 5e-324, 2 ** 31, 2 ** 53 - 1, 123456789.123456, 1.5e15 + 0.25, Infinity, -Infinity, Number.MAX_VALUE];
    for (const x of xs) {
      const y = f64Of(f64Lo(x), f64Hi(x));
      expect(Object.is(y, x), String(x)).toBe(true);
    }
  });
  it('keeps the words as small integers (signed 32-bit)', () => {
    for (const x of [-1, Infinity, 2 ** 40 + 0.75, -0]) {
      for (const w of [f64Lo(x), f64Hi(x)]) {
        expect(Number.isInteger(w)).toBe(true);
        expect(w).toBe(w | 0);
      }
    }
    expect(f64Hi(-0)).toBe(-2147483648);
    expect(f64Lo(1)).toBe(0);
    expect(f64Hi(1)).toBe(0x3ff00000);
  });
});
