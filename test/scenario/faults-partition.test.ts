// scenarios/faults/partition.yaml: what the header predicts from the timers, checked on the run.
//
//   client, web-0 (node1) ══ switch ══ web-1 (node2)      partition node1 ↔ node2, 3 s → 13 s
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { ROOT } from '../integration/run-scenario.js';

const FILE = join(ROOT, 'scenarios/faults/partition.yaml');

describe('scenarios/faults/partition.yaml', () => {
  const w = buildWorld(loadScenarioFile(FILE), 7);
  const f = w.stats.flow('client-to-web');
  const errors: { at: number; kind: string; latency: number }[] = [];
  const ok: { at: number; latency: number }[] = [];
  const fail = f.requestFailed.bind(f);
  f.requestFailed = (kind, latency) => {
    errors.push({ at: w.sim.now, kind, latency });
    fail(kind, latency);
  };
  const succ = f.requestSucceeded.bind(f);
  f.requestSucceeded = (latency, connect, bytes) => {
    ok.push({ at: w.sim.now, latency });
    succ(latency, connect, bytes);
  };
  w.sim.run({ until: 18e9 });

  it('every error is a timeout of a request started in [3 s, 12 s), reported 2 s after its start', () => {
    expect(errors.length).toBeGreaterThan(0);
    expect(new Set(errors.map((e) => e.kind))).toEqual(new Set(['timeout']));
    for (const e of errors) {
      const start = e.at - e.latency;
      expect(e.latency).toBe(2e9);
      expect(start).toBeGreaterThanOrEqual(3e9);
      expect(start).toBeLessThan(12e9);
    }
    expect(Math.min(...errors.map((e) => e.at))).toBeGreaterThanOrEqual(5e9);
    expect(Math.max(...errors.map((e) => e.at))).toBeLessThan(14e9);
  });

  it('about half of the 180 requests started in [3 s, 12 s) fail (binomial 1/2: 90 ± 3σ ≈ 90 ± 20)', () => {
    expect(errors.length).toBeGreaterThan(70);
    expect(errors.length).toBeLessThan(110);
    expect(f.requests).toBe(320);
    expect(f.successes + f.errorCount).toBe(320);
  });

  it('requests started in [12 s, 13 s) to web-1 succeed after ≈ 1 s (the retransmitted SYN); none is slow outside that window', () => {
    const slow = ok.filter((s) => s.latency > 0.5e9);
    expect(slow.length).toBeGreaterThan(0);
    for (const s of slow) {
      const start = s.at - s.latency;
      expect(start).toBeGreaterThanOrEqual(12e9);
      expect(start).toBeLessThan(13e9);
      expect(s.latency).toBeGreaterThan(0.99e9);
      expect(s.latency).toBeLessThan(1.1e9);
    }
  });

  it('the drops are at node1’s eth0 tc filter; the timeline has the partition and its end', () => {
    const eth0 = w.namespaces.get('node1')!.device('eth0')!;
    expect(eth0.dropsByReason['tc-filter-drop']).toBeGreaterThanOrEqual(2 * errors.length); // SYN + one retransmission each
    expect(w.timeline.map((t) => [t.atNs / 1e9, t.what])).toEqual([
      [3, 'partition: node/node1 ↔ node/node2 dropped'],
      [13, 'partition on node/node1 removed'],
    ]);
  });
});
