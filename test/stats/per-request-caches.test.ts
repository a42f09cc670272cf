// The per-request counters keep the last second / the last few endpoints beside their maps (no map
// update per request): what they report must be what a plain map count of the same calls gives.
import { describe, expect, it } from 'vitest';
import { EndpointStats } from '../../src/stats/endpoint.js';
import { FlowStats } from '../../src/stats/flow.js';
import { SecondSeries } from '../../src/stats/timeseries.js';

describe('EndpointStats.servedPerSecond', () => {
  it('counts per second, read in the middle of a second and after, with seconds in time order', () => {
    let now = 0;
    const e = new EndpointStats('ep', () => now);
    const model = new Map<number, number>();
    const times = [0.1, 0.2, 0.9, 2.5, 2.6, 2.6, 7.0, 7.1, 7.99, 8.0, 12.3];
    for (let i = 0; i < times.length; i++) {
      now = times[i]! * 1e9;
      e.served();
      const t = Math.floor(times[i]!);
      model.set(t, (model.get(t) ?? 0) + 1);
      if (i === 4 || i === 7) expect([...e.servedPerSecond]).toEqual([...model]); // read mid-second, then go on
    }
    expect([...e.servedPerSecond]).toEqual([...model]);
    expect(e.servedCount).toBe(times.length);
  });
});

describe('EndpointStats.servedPerSecond, a long run starting late', () => {
  it('keeps every second from the first one served on (gaps, growth past its first size), as a map count does', () => {
    let now = 0;
    const e = new EndpointStats('ep', () => now);
    const model = new Map<number, number>();
    // From second 1,000 on, 300 seconds with requests in two of every three (the counts grow past 64 and 128 seconds).
    for (let k = 0; k < 300; k++) {
      if (k % 3 === 1) continue;
      for (let j = 0; j <= k % 4; j++) {
        now = (1000 + k + j / 10) * 1e9;
        e.served();
        model.set(1000 + k, (model.get(1000 + k) ?? 0) + 1);
      }
      if (k === 100) expect([...e.servedPerSecond]).toEqual([...model]);
    }
    expect([...e.servedPerSecond]).toEqual([...model]);
    expect([...e.servedPerSecond.keys()][0]).toBe(1000);
  });
});

describe('EndpointStats busy time and mean queue (doubles kept as their words)', () => {
  it('integrate exactly as plain doubles do, with fractional, large and repeated times, starting late', () => {
    let now = 123_456.789;
    const e = new EndpointStats('ep', () => now, 2);
    const start = now;
    let last = now;
    let busyNs = 0;
    let area = 0;
    let busy = 0;
    let queue = 0;
    const step = (t: number): void => {
      now = t;
      const dt = now - last;
      busyNs += dt * busy;
      area += dt * queue;
      last = now;
    };
    for (let i = 0; i < 500; i++) {
      const t = now + (i % 7 === 0 ? 0 : (i * 7919) % 1000003) + (i % 3) * 0.37 + (i === 250 ? 2 ** 40 : 0);
      if (i % 2 === 0) {
        step(t);
        busy = i % 3;
        e.busyChanged(busy);
      } else {
        step(t);
        queue = i % 5;
        e.queueChanged(queue);
      }
      expect(e.busyNs).toBe(busyNs);
    }
    step(now + 0.5);
    e.flush();
    expect(e.busyNs).toBe(busyNs);
    expect(e.meanQueue).toBe(area / (last - start));
    expect(e.maxQueue).toBe(4);
  });
});

describe('FlowStats.servedBy', () => {
  it('counts requests, connections and bytes per endpoint with more endpoints than it keeps at hand', () => {
    const f = new FlowStats('f', () => 0);
    const model = new Map<string, { requests: number; connections: number; bytes: number }>();
    const names = ['web-a', 'web-b', 'web-c', 'web-d', 'web-e', 'web-f', 'web-g']; // (longer than one character: V8 keeps one string per single character)
    for (let i = 0; i < 200; i++) {
      // (a new string each time for some: the same name need not be the same string object)
      const name = i % 3 === 0 ? names[(i * 5) % 7]!.split('').join('') : names[(i * i) % 7]!;
      const bytes = 100 + (i % 13);
      const conn = i % 4 === 0;
      f.servedBy(name, bytes, conn);
      const m = model.get(name) ?? { requests: 0, connections: 0, bytes: 0 };
      model.set(name, m);
      m.requests++;
      if (conn) m.connections++;
      m.bytes += bytes;
    }
    expect([...f.byEndpoint].sort()).toEqual([...model].sort());
  });
});

describe('SecondSeries', () => {
  it('rows per second as completions, errors and starts arrive, going back to an earlier second too', () => {
    const s = new SecondSeries();
    s.started(0.5e9);
    s.success(0.7e9, 1000);
    s.success(1.2e9, 2000);
    s.error(1.3e9);
    s.success(0.9e9, 3000); // (not in time order: a second already left)
    s.started(1.4e9);
    expect(s.details().map((d) => [d.t, d.started, d.ok])).toEqual([
      [0, 1, 2],
      [1, 1, 1],
    ]);
    expect(s.rows().map((r) => [r.t, r.ok, r.errors])).toEqual([
      [0, 2, 0],
      [1, 1, 1],
    ]);
  });
});
