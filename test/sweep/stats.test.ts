// sweep/stats against textbook values computed here independently: Student-t intervals from the
// printed t table, χ² p-values from the closed forms of the χ² survival function for even degrees of
// freedom (df 2: e^(−x/2); df 4: e^(−x/2)(1 + x/2)), Jain's index and CV by hand.
import { describe, expect, it } from 'vitest';
import { balance, chiSquarePValue, combinedChiSquare, pairedDifference, tInterval } from '../../src/sweep/stats.js';

describe('tInterval', () => {
  it('matches the textbook 95 % interval of 1, 2, 3, 4, 5 (t(0.975, 4) = 2.776 from the table)', () => {
    const e = tInterval([1, 2, 3, 4, 5])!;
    const half = 2.776 * (Math.sqrt(2.5) / Math.sqrt(5));
    expect(e.n).toBe(5);
    expect(e.mean).toBe(3);
    expect(e.sd).toBeCloseTo(1.58114, 4);
    expect(e.lo).toBeCloseTo(3 - half, 2);
    expect(e.hi).toBeCloseTo(3 + half, 2);
  });
  it('t(0.975, 9) = 2.262: ten values with sd 2 give ±1.431', () => {
    const xs = [8, 12, 8, 12, 8, 12, 8, 12, 8, 12]; // mean 10, sample sd √(40/9)
    const e = tInterval(xs)!;
    expect(e.hi! - 10).toBeCloseTo((2.262 * Math.sqrt(40 / 9)) / Math.sqrt(10), 2);
  });
  it('one value: a mean without an interval; none: null; equal values: a zero-width interval', () => {
    expect(tInterval([4])).toEqual({ n: 1, mean: 4, sd: null, lo: null, hi: null });
    expect(tInterval([])).toBeNull();
    expect(tInterval([2, 2, 2])).toMatchObject({ lo: 2, hi: 2, sd: 0 });
  });
  it('a 99 % interval is wider (t(0.995, 4) = 4.604)', () => {
    const e = tInterval([1, 2, 3, 4, 5], 0.99)!;
    expect(e.hi! - 3).toBeCloseTo(4.604 * Math.sqrt(0.5), 2);
  });
});

describe('pairedDifference', () => {
  it('is the t-interval of b − a per seed (d = 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.303)', () => {
    const e = pairedDifference([1, 2, 3], [2, 4, 6])!;
    expect(e.mean).toBe(2);
    expect(e.hi! - 2).toBeCloseTo(4.303 / Math.sqrt(3), 2);
  });
  it('leaves out pairs with a missing value', () => {
    expect(pairedDifference([1, null, 3], [2, 5, 5])!.n).toBe(2);
  });
});

describe('chi-square', () => {
  it('p-values match the closed forms and the table', () => {
    expect(chiSquarePValue(10, 2)).toBeCloseTo(Math.exp(-5), 8);
    expect(chiSquarePValue(6, 4)).toBeCloseTo(Math.exp(-3) * 4, 8);
    expect(chiSquarePValue(3.841, 1)).toBeCloseTo(0.05, 3); // the 5 % critical value of χ²(1)
    expect(chiSquarePValue(0, 3)).toBe(1);
  });
  it('combining seeds adds statistics and degrees of freedom', () => {
    expect(combinedChiSquare([{ chi2: 2, df: 2 }, { chi2: 4, df: 2 }])).toEqual({ chi2: 6, df: 4, p: Number((Math.exp(-3) * 4).toPrecision(6)) });
  });
});

describe('balance', () => {
  it('10/20/30: shares, max/mean 1.5, CV √(200/3)/20, Jain 3600/(3·1400), χ² 10 on 2 df', () => {
    const b = balance([10, 20, 30])!;
    expect(b.shares).toEqual([10 / 60, 20 / 60, 30 / 60]);
    expect(b.maxOverMean).toBe(1.5);
    expect(b.cv).toBeCloseTo(Math.sqrt(200 / 3) / 20, 10);
    expect(b.jain).toBeCloseTo(3600 / 4200, 10);
    expect(b.chi2).toBe(10);
    expect(b.df).toBe(2);
    expect(b.p).toBeCloseTo(Math.exp(-5), 8);
  });
  it('even is 1 / 0 / 1 / p = 1; all on one endpoint is Jain 1/k; nothing counted is null', () => {
    expect(balance([5, 5, 5, 5])).toMatchObject({ maxOverMean: 1, cv: 0, jain: 1, chi2: 0, p: 1 });
    expect(balance([8, 0, 0, 0])!.jain).toBe(0.25);
    expect(balance([0, 0])).toBeNull();
    expect(balance([])).toBeNull();
  });
});
