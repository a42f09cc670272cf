// scenarios/statefulset-ops.yaml held to its header: OrderedReady's start (web-1 at 2 s, web-2 at 4 s),
// `kubectl scale statefulset` up one ordinal at a time and down from the highest, each waiting for the
// one before to be gone; `kubectl rollout restart statefulset` from the highest ordinal down, each pod
// created again under its name once the old one is gone; the client's errors come from CoreDNS's cache,
// not from the pods; the DaemonSet's restart node by node.
//
//   client (node3) --DNS--> CoreDNS --> web-0.web / web-2.web (headless: pod IPs)
//   client --HTTP--> web-0 :8080, web-2 :8080
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StatsDocument } from '../../src/stats/index.js';
import { ROOT, runScenario } from '../integration/run-scenario.js';

const out = runScenario(join(ROOT, 'scenarios', 'statefulset-ops.yaml'), 7);
rmSync(out.dir, { recursive: true, force: true });
const s = JSON.parse(out.stats.toString('utf8')) as StatsDocument;

/** The whole seconds at which timeline lines matching `re` happen. */
const at = (re: RegExp): number[] => s.timeline.filter((e) => re.test(e.what)).map((e) => Math.floor(e.atUs / 1e6));
const flow = (name: string) => s.flows.find((f) => f.name === name)!;

describe('scenarios/statefulset-ops.yaml', () => {
  it('OrderedReady: web-1 and web-2 are created as their predecessors turn Ready; scale up one at a time', () => {
    expect(at(/^statefulset web: create Pod web-1 /)).toEqual([2, 43]);
    expect(at(/^statefulset web: create Pod web-2 /)).toEqual([4, 38]);
    expect(at(/^statefulset web: create Pod web-3 /)).toEqual([15]);
    expect(at(/^statefulset web: create Pod web-4 /)).toEqual([17]);
  });

  it('scale down: web-4 first, web-3 only once web-4 is gone (its 3 s preStop sleep)', () => {
    expect(s.timeline.filter((e) => /scale down to 3/.test(e.what)).map((e) => [Math.floor(e.atUs / 1e6), /delete Pod (\S+)/.exec(e.what)![1]])).toEqual([
      [25, 'web-4'],
      [28, 'web-3'],
    ]);
    expect(at(/^pod web-4 stopped/)).toEqual([28]);
  });

  it('rollout restart: web-2, web-1, web-0 in turn, each created again under its name after the old one is gone', () => {
    const deletes = s.timeline.filter((e) => /^statefulset web: delete Pod .* \(update to revision/.test(e.what));
    expect(deletes.map((e) => [Math.floor(e.atUs / 1e6), /delete Pod (\S+)/.exec(e.what)![1]])).toEqual([
      [35, 'web-2'],
      [40, 'web-1'],
      [45, 'web-0'],
    ]);
    for (const pod of ['web-2', 'web-1', 'web-0']) {
      const gone = s.timeline.findIndex((e) => e.what.startsWith(`pod ${pod} stopped`) && e.atUs >= 35e6);
      const again = s.timeline.findIndex((e) => e.what.startsWith(`statefulset web: create Pod ${pod} `) && e.atUs >= 35e6);
      expect(gone).toBeGreaterThan(-1);
      expect(again).toBeGreaterThan(gone);
    }
    expect(at(/^statefulset web: partitioned roll out complete: 3 new pods have been updated\.\.\.$/)).toEqual([50]);
  });

  it('the scale changes cost nothing; the rollout costs ~30 s per flow through CoreDNS\'s cache: NXDOMAIN for web-2, the old address for web-0', () => {
    const f = s.recovery!.faults;
    expect(f.map((x) => [x.kind, x.target])).toEqual([
      ['scale', 'statefulset/web'],
      ['scale', 'statefulset/web'],
      ['rollout-restart', 'statefulset/web'],
      ['rollout-restart', 'daemonset/node-agent'],
    ]);
    expect(f[0]!.requestsLost + f[1]!.requestsLost).toBe(0);
    const web2 = flow('to-web-2');
    const web0 = flow('to-web-0');
    // web-2: the lookups from 38 s to 68 s fail (a cached NXDOMAIN), a request or so times out at the turn.
    expect(web2.errorsByKind.dns).toBeGreaterThanOrEqual(290);
    expect(web2.errors - web2.errorsByKind.dns).toBeLessThanOrEqual(2);
    // web-0: its old address, cached at 38 s, answers nothing from 48 s to 68 s.
    expect(web0.errors).toBe(web0.errorsByKind.timeout);
    expect(web0.errors).toBeGreaterThan(190);
    expect(web0.errors).toBeLessThan(215);
    const errSecs = s.recovery!.seconds.filter((x) => x.errors > 0).map((x) => x.t);
    expect(Math.min(...errSecs)).toBe(38);
    expect(Math.max(...errSecs)).toBeLessThanOrEqual(69);
  });

  it('DaemonSet restart: node by node (maxUnavailable 1), each new pod once the old object is gone', () => {
    expect(s.timeline.filter((e) => /^daemonset node-agent: Deleted pod/.test(e.what)).map((e) => [Math.floor(e.atUs / 1e6), / on (node\d)/.exec(e.what)![1]])).toEqual([
      [60, 'node1'],
      [62, 'node2'],
      [64, 'node3'],
    ]);
    expect(at(/^daemonset node-agent: Created pod: /)).toEqual([60, 62, 64]);
    expect(at(/^daemonset node-agent: daemon set "node-agent" successfully rolled out$/)).toEqual([66]);
  });
});
