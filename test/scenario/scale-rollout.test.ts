// scenarios/scale.yaml and rollout.yaml held to their headers: the Deployment whose pods exit on SIGTERM
// loses requests only while kube-proxy still sends connections to a deleted pod (the 2 s of endpointDelay
// + proxySyncDelay after each delete, plus the client's 1 s timeout); the one with a 5 s preStop sleep
// loses none; new pods serve only after the endpoints and rules include them.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatsDocument } from '../../src/stats/index.js';
import { ROOT, runScenario } from '../integration/run-scenario.js';

function run(name: string): StatsDocument {
  const out = runScenario(join(ROOT, 'scenarios', `${name}.yaml`), 7);
  rmSync(out.dir, { recursive: true, force: true });
  return JSON.parse(out.stats.toString('utf8')) as StatsDocument;
}

const flow = (s: StatsDocument, name: string) => s.flows.find((f) => f.name === name)!;
const errorSeconds = (s: StatsDocument) => s.recovery!.seconds.filter((x) => x.errors > 0).map((x) => x.t);

describe('scenarios/scale.yaml', () => {
  const s = run('scale');
  it('scale-down of pods that exit on SIGTERM: timeouts for 2 s after the delete; with a preStop sleep none', () => {
    expect(flow(s, 'to-web-prestop').errors).toBe(0);
    const web = flow(s, 'to-web');
    expect(web.errors).toBeGreaterThan(0);
    expect(web.errors).toBe(web.errorsByKind.timeout);
    // Requests sent 25–27 s drew a deleted pod 4 times in 6; they time out 1 s later.
    expect(errorSeconds(s).every((t) => t >= 26 && t <= 28)).toBe(true);
    expect(web.errors).toBeLessThan(2 * 20);
    const f = s.recovery!.faults;
    expect(f.map((x) => [x.kind, x.target, x.requestsLost])).toEqual([
      ['scale', 'deployment/web', 0],
      ['scale', 'deployment/web-prestop', 0],
      ['scale', 'deployment/web', web.errors],
      ['scale', 'deployment/web-prestop', 0],
    ]);
  });

  it('the new pods serve only once the rules have them (12 s, 17 s)', () => {
    const created = s.timeline.filter((e) => /^replicaset .* created pod/.test(e.what)).map((e) => [e.atUs / 1e6, /created pod (\S+)/.exec(e.what)![1]!] as const);
    expect(created.map(([t]) => t)).toEqual([10, 10, 10, 15, 15, 15]);
    for (const [t, pod] of created) {
      const serving = s.recovery!.seconds.filter((x) => (x.endpointShares[pod] ?? 0) > 0).map((x) => x.t);
      expect(serving.length).toBeGreaterThan(0);
      expect(Math.min(...serving)).toBe(t + 2);
    }
  });
});

describe('scenarios/rollout.yaml', () => {
  const s = run('rollout');
  it('RollingUpdate: web loses requests between its first old pod deleted (12 s) and the last one dropped from the rules; web-prestop none', () => {
    expect(flow(s, 'to-web-prestop').errors).toBe(0);
    const web = flow(s, 'to-web');
    expect(web.errors).toBe(web.errorsByKind.timeout);
    const secs = errorSeconds(s);
    expect(Math.min(...secs)).toBe(13);
    expect(Math.max(...secs)).toBeLessThanOrEqual(19);
    expect(s.timeline.filter((e) => /rollout complete/.test(e.what)).map((e) => Math.round(e.atUs / 1e6))).toEqual([16, 36]);
    // Every old pod deleted, each new one created: three each per Deployment.
    expect(s.timeline.filter((e) => /^replicaset .* deleted pod/.test(e.what))).toHaveLength(6);
    expect(s.timeline.filter((e) => /^replicaset .* created pod/.test(e.what))).toHaveLength(6);
  });
});

describe('scenarios/drain.yaml', () => {
  const s = run('drain');
  it('api (no budget, no preStop) loses requests for 2 s after the drain; web (budget, preStop) none, its second eviction at 15 s', () => {
    expect(flow(s, 'to-web').errors).toBe(0);
    const api = flow(s, 'to-api');
    expect(api.errors).toBe(api.errorsByKind.timeout);
    // Two of six api pods gone from 10 s to 12 s: about a third of those 40 requests.
    expect(api.errors).toBeGreaterThan(6);
    expect(api.errors).toBeLessThan(20);
    expect(errorSeconds(s).every((t) => t >= 11 && t <= 13)).toBe(true);
    const at = (re: RegExp) => s.timeline.filter((e) => re.test(e.what)).map((e) => e.atUs / 1e6);
    expect(at(/^drain node\/node2: evicting pod web-/)).toEqual([10, 15]);
    expect(at(/^drain node\/node2: cannot evict pod web-.*\(5 healthy, 5 needed\)/)).toEqual([10]);
    expect(at(/^node\/node2 drained/)).toEqual([20]);
  });
});
