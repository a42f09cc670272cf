// core/distributions: seeded sample means within tolerance of the analytic mean, draws only from the
// Rng handed in (so a seeded run is reproducible), and non-negative values.
import { describe, expect, it } from 'vitest';
import { mean, sample, type Distribution } from '../../src/core/distributions.js';
import { RngFactory } from '../../src/core/rng.js';

const N = 100_000;

function sampleMean(d: Distribution, seed = 7): { mean: number; min: number } {
  const rng = new RngFactory(seed).stream(`dist/${d.kind}`);
  let s = 0;
  let min = Infinity;
  for (let i = 0; i < N; i++) {
    const x = sample(d, rng);
    s += x;
    if (x < min) min = x;
  }
  return { mean: s / N, min };
}

// Relative tolerances: a few standard errors of the mean for N = 100k (pareto's variance is large).
const cases: [Distribution, number][] = [
  [{ kind: 'constant', value: 42 }, 0],
  [{ kind: 'uniform', min: 10, max: 30 }, 0.01],
  [{ kind: 'exponential', mean: 1000 }, 0.02],
  [{ kind: 'normal', mean: 100, stddev: 10 }, 0.01],
  [{ kind: 'lognormal', mu: 1, sigma: 0.5 }, 0.02],
  [{ kind: 'pareto', scale: 1, shape: 3 }, 0.03],
];

describe('sample', () => {
  it.each(cases)('%j: seeded sample mean of 100k draws within %d of the analytic mean', (d, tol) => {
    const m = mean(d);
    const got = sampleMean(d).mean;
    expect(Math.abs(got - m) / m, `sample mean ${got}, analytic ${m}`).toBeLessThanOrEqual(tol);
  });

  it.each(cases)('%j: never negative', (d) => {
    expect(sampleMean(d).min).toBeGreaterThanOrEqual(0);
  });

  it('is reproducible: the same seed gives the same draws', () => {
    const d: Distribution = { kind: 'exponential', mean: 5 };
    const a = new RngFactory(9).stream('s');
    const b = new RngFactory(9).stream('s');
    for (let i = 0; i < 100; i++) expect(sample(d, a)).toBe(sample(d, b));
  });

  it('uniform stays within [min, max)', () => {
    const rng = new RngFactory(1).stream('u');
    for (let i = 0; i < 10_000; i++) {
      const x = sample({ kind: 'uniform', min: 3, max: 4 }, rng);
      expect(x >= 3 && x < 4).toBe(true);
    }
  });

  it('pareto never goes below its scale', () => {
    const rng = new RngFactory(1).stream('p');
    for (let i = 0; i < 10_000; i++) expect(sample({ kind: 'pareto', scale: 2, shape: 1.5 }, rng)).toBeGreaterThanOrEqual(2);
  });

  it('normal is clamped at 0 when the mean is close to 0', () => {
    const rng = new RngFactory(1).stream('n');
    for (let i = 0; i < 10_000; i++) expect(sample({ kind: 'normal', mean: 1, stddev: 5 }, rng)).toBeGreaterThanOrEqual(0);
  });
});

describe('mean', () => {
  it('pareto with shape <= 1 has an infinite mean', () => {
    expect(mean({ kind: 'pareto', scale: 1, shape: 1 })).toBe(Infinity);
  });
  it('lognormal mean is exp(mu + sigma^2/2)', () => {
    expect(mean({ kind: 'lognormal', mu: 0, sigma: 1 })).toBeCloseTo(Math.exp(0.5), 12);
  });
});
