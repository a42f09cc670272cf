// The work estimate of each traffic entry (issue 14: "validation estimates the work of each traffic
// entry and warns above a threshold before the run starts"): close enough to what shipped scenarios
// really run to be a useful warning, and printed by `validate` and `run` with the entry's position.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile, loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { estimateWork, workWarnings } from '../../src/scenario/work-estimate.js';
import { CLI, ensureBuilt, ROOT } from './dist.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'podwire-work-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const FLOOD = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: flood }
spec:
  hosts:
    - { name: a, interfaces: [{ name: eth0, address: 10.0.0.1/24 }] }
    - { name: b, interfaces: [{ name: eth0, address: 10.0.0.2/24 }] }
  links: [{ ends: [a/eth0, b/eth0] }]
  traffic:
    - { type: ping, from: a, to: 10.0.0.2, count: 100 }
    - { name: flood, type: udp, from: a, to: "10.0.0.2:9", count: 10000000, rate: 1000000 }
`;

describe('work estimate', () => {
  // Scenarios whose traffic dominates their events (ARP, DNS and control-plane housekeeping are not
  // estimated, so a scenario of a few dozen packets runs more than its estimate).
  it.each(['http-clusterip.yaml', 'nodeport.yaml', 'loadbalancer.yaml', 'faults.yaml', 'guestbook-like.yaml', 'docker0-bridge.yaml', 'http-ipvs.yaml'])('%s: the estimate is within ×2.5 of the events run', (f) => {
    const loaded = loadScenarioFile(join(ROOT, 'scenarios', f));
    const world = buildWorld(loaded, 7);
    const est = estimateWork(loaded.scenario.spec.traffic, world.cluster, world.until).reduce((a, e) => a + e.events, 0);
    const out = join(dir, f);
    runWorld(world, { outDir: out, format: 'pcapng', snaplen: 262144 });
    const events = (JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { events: number }).events;
    expect(events / est).toBeGreaterThan(1 / 2.5);
    expect(events / est).toBeLessThan(2.5);
  });

  it('counts every sender of a workload and open-loop requests over a duration', () => {
    const loaded = loadScenarioFile(join(ROOT, 'scenarios', 'http-clusterip.yaml'));
    const world = buildWorld(loaded, 7);
    const t = loaded.scenario.spec.traffic;
    const one = estimateWork([{ ...t[0]!, type: 'http', from: t[0]!.from, count: undefined, rate: 100, duration: '10s' } as never], world.cluster, null)[0]!;
    expect(one.requests).toBe(one.senders * 1000);
  });

  it('warns for one entry above the limit, and for entries that only pass it together', () => {
    const loaded = loadScenarioText(FLOOD, 'flood.yaml');
    const est = estimateWork(loaded.scenario.spec.traffic, null, null);
    expect(workWarnings(est, 50_000_000).map((w) => w.index)).toEqual([1]);
    expect(workWarnings(est, 1e12)).toEqual([]);
    const half = est[1]!.events * 0.6;
    expect(workWarnings([est[1]!, { ...est[1]!, index: 2 }], half * 2.5)).toEqual([{ index: null, message: expect.stringMatching(/together is about/) }]);
  });

  it('validate prints the warning at the entry, exits 0', () => {
    ensureBuilt();
    const p = join(dir, 'flood.yaml');
    writeFileSync(p, FLOOD);
    const r = spawnSync(process.execPath, [CLI, 'validate', p], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/flood\.yaml:11:7: warning: spec\.traffic\[1\]: about 10,000,000 requests ≈ 80,000,000 events, above --max-events 50,000,000/)]);
  });
});
