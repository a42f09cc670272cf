// Generated pod names (generateName: `<prefix>-<5 random characters>`): unique at any scale, and the
// same draws as a plain suffix when nothing collides (so existing runs keep their names).
import { describe, expect, it } from 'vitest';
import { RngFactory } from '../../src/core/rng.js';
import { generateNames, randomSuffix } from '../../src/k8s/names.js';

describe('generateNames', () => {
  it('20,000 replicas get 20,000 distinct names (the 5-character space collides from a few thousand)', () => {
    const names = generateNames('web-5d8f7c9b6', 20_000, new RngFactory(1).stream('k8s/replicaset/default/web'));
    expect(names).toHaveLength(20_000);
    expect(new Set(names).size).toBe(20_000);
    for (const n of names) expect(n).toMatch(/^web-5d8f7c9b6-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('draws a suffix again only on a collision: without one, the names are the plain draws in order', () => {
    const a = generateNames('web', 3, new RngFactory(7).stream('s'));
    const r = new RngFactory(7).stream('s');
    expect(a).toEqual([`web-${randomSuffix(r)}`, `web-${randomSuffix(r)}`, `web-${randomSuffix(r)}`]);
  });
});
