// One conformance suite for every EndpointSelector: each IPVS scheduler and the iptables
// statistic-random chain kube-proxy renders. (hono's runTest({ newRouter }) habit.)
import { describe, expect, it } from 'vitest';
import { RngFactory } from '../../src/core/rng.js';
import { iptablesRandomSelector, ipvsScheduler, IPVS_SCHEDULERS, type Endpoint, type SelectorFactory } from '../../src/netfilter/ipvs.js';

const eps = (...weights: number[]): Endpoint[] => weights.map((w, i) => ({ ip: (10 << 24) | (244 << 16) | (1 << 8) | (i + 2), port: 8080, weight: w }));
/** Distinct clients, as a stream of new connections from many pods. */
const client = (i: number) => ({ src: ((10 << 24) | (i * 7919)) >>> 0, sport: 30000 + (i % 30000) });

function runSelectorConformance(name: string, factory: SelectorFactory): void {
  describe(`EndpointSelector conformance: ${name}`, () => {
    const rng = (seed = 1) => new RngFactory(seed).stream('selector');

    it('distributes new connections over all endpoints', () => {
      const e = eps(1, 1, 1);
      const s = factory(e, rng());
      const counts = new Map<Endpoint, number>();
      for (let i = 0; i < 3000; i++) {
        const ep = s.pick(client(i))!;
        counts.set(ep, (counts.get(ep) ?? 0) + 1);
        if (i % 2) s.release(ep);
      }
      for (const ep of e) expect(counts.get(ep) ?? 0, `endpoint ${ep.ip & 255}`).toBeGreaterThan(600);
    });

    it('is deterministic for a seed', () => {
      const run = (seed: number) => {
        const e = eps(1, 2, 1, 3);
        const s = factory(e, rng(seed));
        return Array.from({ length: 200 }, (_, i) => e.indexOf(s.pick(client(i))!));
      };
      expect(run(5)).toEqual(run(5));
    });

    it('never picks a weight-0 endpoint', () => {
      const e = eps(1, 0, 1, 0);
      const s = factory(e, rng());
      for (let i = 0; i < 500; i++) expect(s.pick(client(i))!.weight).toBe(1);
    });

    it('returns null when no endpoint can take connections', () => {
      expect(factory([], rng()).pick(client(1))).toBeNull();
      expect(factory(eps(0, 0), rng()).pick(client(1))).toBeNull();
    });

    it('a single endpoint gets everything', () => {
      const e = eps(1);
      const s = factory(e, rng());
      for (let i = 0; i < 50; i++) expect(s.pick(client(i))).toBe(e[0]);
    });
  });
}

for (const sched of IPVS_SCHEDULERS) runSelectorConformance(`ipvs ${sched}`, (e) => ipvsScheduler(sched, e, { mhTableSize: sched === 'mh' ? 4093 : undefined }));
runSelectorConformance('iptables statistic random', iptablesRandomSelector);
