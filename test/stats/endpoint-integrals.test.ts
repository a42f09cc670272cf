// stats/endpoint's integrals (busy worker-time, the queue length's area) kept as 32-bit words and brought up to
// date through the module's own word views (session 47: no getter returning a double on a request's path): the
// same doubles as plain arithmetic, at times past 2^31 and 2^32 ns.
import { describe, expect, it } from 'vitest';
import { EndpointStats } from '../../src/stats/endpoint.js';

describe('EndpointStats integrals', () => {
  it('busyNs and meanQueue equal a plain double computation over random changes', () => {
    let now = 5_000_000_000; // (past 2^32 ns from the start)
    const e = new EndpointStats('web-0', () => now, 4);
    const start = now;
    let seed = 12345;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let last = now;
    let busy = 0;
    let queue = 0;
    let busyNs = 0;
    let area = 0;
    for (let i = 0; i < 2000; i++) {
      now += Math.floor(rnd() * 3e9) + (i % 7 === 0 ? 0.5 : 0);
      const dt = now - last;
      busyNs = busyNs + dt * busy;
      area = area + dt * queue;
      last = now;
      if (rnd() < 0.5) {
        busy = Math.floor(rnd() * 5);
        e.busyChanged(busy);
      } else {
        queue = Math.floor(rnd() * 30);
        e.queueChanged(queue);
      }
    }
    expect(e.busyNs).toBe(busyNs);
    expect(e.busyNs).toBeGreaterThan(2 ** 32);
    now += 1e9;
    area = area + 1e9 * queue;
    busyNs = busyNs + 1e9 * busy;
    e.flush();
    expect(e.busyNs).toBe(busyNs);
    expect(e.meanQueue).toBe(area / (now - start));
    expect(e.maxQueue).toBeGreaterThan(0);
  });
});
