// scenarios/job.yaml: a Job whose pods call a Service (`from: job/loadtest`, completions 4, parallelism
// 2), a Job that fails past its backoffLimit, and a CronJob; each pod's traffic ends its run, the
// capture is clean in tshark per interface.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { hasTshark, NO_TSHARK, TSHARK, TSHARK_ARGS, tsharkCheck } from '../helpers/tshark.js';
import { runScenarioFrames, type FramedRun } from '../integration/run-scenario.js';

const HAS_TSHARK = hasTshark();
const inTshark = HAS_TSHARK ? 'in tshark' : `in tshark — skipped: ${NO_TSHARK}`;

describe('job.yaml', () => {
  let r: FramedRun;
  beforeAll(() => {
    r = runScenarioFrames('job');
  });
  afterAll(() => rmSync(r.dir, { recursive: true, force: true }));
  const lines = (re: RegExp) => r.world.timeline.filter((t) => re.test(t.what)).map((t) => t.what);

  it('loadtest: 4 pods, 2 at a time, each sends its 10 requests and exits 0; the Job completes and is deleted 20 s later', () => {
    const stats = JSON.parse(r.statsJson) as { flows: { name: string; requests?: { sent?: number } }[] };
    expect(lines(/^job loadtest: created pod/)).toHaveLength(2);
    expect(lines(/^kubelet: loadtest-\w+\/hey terminated \(exit code 0, reason Completed\)$/)).toHaveLength(4);
    expect(lines(/^job loadtest: Complete; 4 succeeded, 0 failed$/)).toHaveLength(1);
    expect(lines(/^job loadtest: deleted with its 4 pods \(ttlSecondsAfterFinished 20\)$/)).toHaveLength(1);
    const flow = r.world.flows.find((f) => f.name === 'loadtest-to-web')!;
    expect(flow.counts).toMatchObject({ sent: 40, received: 40, errors: 0 });
    expect(stats.flows.some((f) => f.name === 'loadtest-to-web')).toBe(true);
  });

  it('flaky: 3 pods fail, the Job fails with BackoffLimitExceeded; the CronJob ran at 60 s and 120 s', () => {
    expect(lines(/^job flaky: Failed \(BackoffLimitExceeded/)).toHaveLength(1);
    expect(lines(/^cronjob tick: created job/)).toEqual(['cronjob tick: created job tick-28928161 (scheduled 2025-01-01 00:01 UTC)', 'cronjob tick: created job tick-28928162 (scheduled 2025-01-01 00:02 UTC)']);
    expect(lines(/^job tick-28928161: deleted/)).toHaveLength(1);
  });

  it('no Service selects the Jobs\' pods: their changes write no EndpointSlice, so no timeline line and no kube-proxy sync', () => {
    expect(lines(/^endpointslice: /)).toEqual([]);
    // kube-proxy syncs only after a slice changes: web's pods never change here
    expect(lines(/^kube-proxy: /)).toEqual([]);
  });

  it('no frame is dropped for want of a route: a pod\'s sandbox goes only after its connections closed', () => {
    const drops = r.world.cluster!.pods.filter((p) => p.owner?.kind === 'Job').map((p) => p.ns.drops['no-route'] ?? 0);
    expect(drops.every((n) => n === 0)).toBe(true);
  });

  it.skipIf(!HAS_TSHARK)(`zero malformed frames, zero bad checksums, and no tcp.analysis flags on any interface alone (${inTshark})`, () => {
    const c = tsharkCheck(r.capturePath);
    expect(c.malformedFrames, c.errors.join('\n')).toEqual([]);
    expect(c.badChecksumFrames, c.errors.join('\n')).toEqual([]);
    const flagged: string[] = [];
    for (const [name, file] of splitPcapngPerInterface(readFileSync(r.capturePath), r.dir)) {
      const out = execFileSync(TSHARK, ['-r', file, ...TSHARK_ARGS, '-Y', 'tcp.analysis.flags', '-T', 'fields', '-e', 'frame.number', '-e', '_ws.expert.message'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      if (out.trim() !== '') flagged.push(`${name}: ${out.trim().split('\n')[0]}`);
    }
    expect(flagged).toEqual([]);
  });
});
