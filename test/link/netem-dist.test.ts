// netem's distribution tables against iproute2's installed ones (tc reads /usr/lib/tc/NAME.dist;
// Debian installs them under /usr/lib/x86_64-linux-gnu/tc), and their moments.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NETEM_DIST_SCALE, netemDistTable, tabledist, type NetemDistName } from '../../src/link/netem-dist.js';

const DIRS = ['/usr/lib/x86_64-linux-gnu/tc', '/usr/lib/tc', '/usr/lib64/tc', '/usr/share/tc'];
const installed = (name: string): number[] | null => {
  for (const d of DIRS) {
    const f = `${d}/${name}.dist`;
    if (existsSync(f)) return readFileSync(f, 'utf8').split('\n').filter((l) => !l.startsWith('#')).join(' ').trim().split(/\s+/).map(Number);
  }
  return null;
};

describe('netem distribution tables', () => {
  for (const name of ['normal', 'pareto', 'paretonormal'] as NetemDistName[]) {
    const ref = installed(name);
    it.skipIf(ref === null)(`${name}: equal to iproute2's ${name}.dist`, () => {
      const t = netemDistTable(name);
      expect(t.length).toBe(4096);
      const diffs = [...t].map((v, i) => v - ref![i]!).filter((d) => d !== 0);
      expect(diffs).toEqual([]);
    });
  }

  it('moments: normal has mean 0 and σ one unit (8192); pareto and paretonormal are centred near 0', () => {
    const m = (t: Int16Array) => {
      const mean = t.reduce((a, b) => a + b, 0) / t.length;
      const sd = Math.sqrt(t.reduce((a, b) => a + (b - mean) ** 2, 0) / t.length);
      return { mean: mean / NETEM_DIST_SCALE, sd: sd / NETEM_DIST_SCALE };
    };
    const n = m(netemDistTable('normal'));
    expect(Math.abs(n.mean)).toBeLessThan(0.001);
    expect(n.sd).toBeGreaterThan(0.99);
    expect(n.sd).toBeLessThan(1.01); // every fourth slot of the quantized inverse CDF: σ ≈ 1.00005
    const p = m(netemDistTable('pareto'));
    expect(Math.abs(p.mean)).toBeLessThan(0.05);
  });

  it('tabledist: σ 0 is the mean; no table is uniform in [μ−σ, μ+σ); a table scales by σ/8192', () => {
    expect(tabledist(1000, 0, 12345, netemDistTable('normal'))).toBe(1000);
    expect(tabledist(1000, 100, 0, null)).toBe(900);
    expect(tabledist(1000, 100, 199, null)).toBe(1099);
    const t = netemDistTable('normal');
    // The median slot is ≈ 0: μ; the last slot is the table's maximum × σ/8192.
    expect(tabledist(5_000_000, 1_000_000, 2048, t)).toBeCloseTo(5_000_000 + (t[2048]! * 1_000_000) / 8192, -1);
    expect(tabledist(5_000_000, 1_000_000, 4095, t)).toBeCloseTo(5_000_000 + (t[4095]! * 1_000_000) / 8192, -1);
  });
});
