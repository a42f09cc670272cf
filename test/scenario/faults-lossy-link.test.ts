// scenarios/faults/lossy-link.yaml: the header's Mathis prediction, checked on the run at the
// scenario's seed, and both fault scenarios clean in tshark per interface.
//
//   client (node1) ◀══ 10 MB ══ bulk (node2)      netem loss 1% on node2/eth0, RTT ≈ 40.3 ms
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasTshark, tsharkCheck } from '../helpers/tshark.js';
import { ROOT, runScenario } from '../integration/run-scenario.js';
import { mathis, runBulk } from '../theory/bulk.js';

describe('scenarios/faults/lossy-link.yaml', () => {
  const r = runBulk(0.01, 'cubic', 1); // the scenario as written: CUBIC (Linux's default), seed 1

  it('throughput within ±30% of Mathis with C = 1.31 (random loss; see the header for the band)', () => {
    const predicted = mathis(0.01, 1.31); // ≈ 3.77 Mbit/s
    expect(r.bps / predicted).toBeGreaterThan(0.7);
    expect(r.bps / predicted).toBeLessThan(1.3);
    expect(r.bps).toBeLessThan(100e6 / 10); // far from the link's rate: loss-bound, not link-bound
  });

  it('retransmissions ≈ the loss rate (1% of segments, Poisson band for ~7000 segments), few timeouts', () => {
    const rate = r.retrans / r.outSegs;
    expect(rate).toBeGreaterThan(0.006);
    expect(rate).toBeLessThan(0.014);
    expect(r.timeouts).toBeLessThan(r.retrans / 5);
  });
});

describe.skipIf(!hasTshark())('fault scenarios in tshark', () => {
  for (const name of ['faults/partition', 'faults/lossy-link']) {
    // Malformed frames and bad checksums are properties of each frame, so one tshark pass over the
    // pcapng (every interface's block) checks every interface; the frames are named by interface.
    it(`${name}: zero malformed frames and zero bad checksums on every interface`, () => {
      const out = runScenario(join(ROOT, 'scenarios', `${name}.yaml`), name.endsWith('partition') ? 7 : 1);
      try {
        const c = tsharkCheck(out.capturePath);
        expect(c.frames).toBeGreaterThan(1000);
        expect(c.malformedFrames, c.errors.join('; ')).toEqual([]);
        expect(c.badChecksumFrames, c.errors.join('; ')).toEqual([]);
        expect(out.captured.length).toBeGreaterThanOrEqual(4);
      } finally {
        rmSync(out.dir, { recursive: true, force: true });
      }
    }, 300_000);
  }
});
