// The recovery section's per-second errors by kind: every kind a flow records is counted in its
// second. The per-second arrays had six slots for seven kinds, so an 'addrnotavail' failure made the
// second's `errors` NaN (null in stats.json) and was missing from errorsByKind; kinds added after
// the section was pinned (addrnotavail, msgsize) are listed only when non-zero, as in the flows.
import { describe, expect, it } from 'vitest';
import { FlowStats } from '../../src/stats/flow.js';
import { recoveryReport, TcpSecondSampler } from '../../src/stats/recovery.js';

describe('recovery seconds count every error kind', () => {
  it('addrnotavail and msgsize failures are counted in errors and listed by kind; zero ones are left out', () => {
    let now = 0;
    const f = new FlowStats('f', () => now);
    now = 1.2e9;
    for (const kind of ['timeout', 'addrnotavail', 'msgsize', 'msgsize'] as const) {
      f.requestStarted();
      f.requestFailed(kind, 1000);
    }
    now = 2.5e9;
    f.requestStarted();
    f.requestFailed('refused', 1000);
    const r = recoveryReport({ flows: [f], endpoints: [], tcp: new TcpSecondSampler(), faults: [{ kind: 'x', target: 'y', atNs: 1e9 }], timeline: [], errorThreshold: 0.01, windowNs: 5e9, endNs: 3e9 });
    const s1 = r.seconds.find((s) => s.t === 1)!;
    expect(s1.errors).toBe(4);
    expect(s1.errorsByKind).toEqual({ timeout: 1, refused: 0, reset: 0, dns: 0, 'no-route': 0, protocol: 0, addrnotavail: 1, msgsize: 2 });
    expect(r.seconds.find((s) => s.t === 2)!.errorsByKind).toEqual({ timeout: 0, refused: 1, reset: 0, dns: 0, 'no-route': 0, protocol: 0 });
  });
});
