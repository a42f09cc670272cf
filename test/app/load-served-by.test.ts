// HttpLoadGenerator.servedBy: the responses counted per endpoint (X-Served-By), in first-seen order,
// however many endpoints take turns (more than the generator's ring of recent ones) and whether equal
// names arrive as one string or as equal copies.
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { SEC } from '../../src/core/time.js';
import { HttpServer } from '../../src/app/http-server.js';
import { HttpLoadGenerator } from '../../src/app/load-generator.js';
import type { HttpResult } from '../../src/app/http-client.js';
import { StatsRegistry } from '../../src/stats/report.js';
import { TcpLayer } from '../../src/transport/tcp/index.js';
import { FakeNet, ip } from '../transport/fake-net.js';

function world() {
  const sim = new Simulator(1);
  const net = new FakeNet(sim);
  const stats = new StatsRegistry(() => sim.now);
  const tc = new TcpLayer(net.addHost('client', '10.0.0.1'));
  new HttpServer(new TcpLayer(net.addHost('web-0', '10.0.0.2')), { port: 80, identity: 'web-0' }, stats.endpoint('web-0', 1));
  return { sim, stats, tc };
}
const target = { addr: ip('10.0.0.2'), port: 80, host: 'web', path: '/' };

describe('HttpLoadGenerator.servedBy', () => {
  it('counts every response of a run by the pod that served it', () => {
    const w = world();
    const gen = new HttpLoadGenerator(w.tc, { name: 'load', pattern: { kind: 'open', arrival: 'constant', rate: 100 }, count: 25, target, connection: 'new' }, w.stats.flow('load'));
    w.sim.run({ until: 60 * SEC });
    expect([...gen.servedBy]).toEqual([['web-0', 25]]);
  });

  it('many endpoints in turn, names as equal copies: counts by name, first seen first', () => {
    const w = world();
    const gen = new HttpLoadGenerator(w.tc, { name: 'load', pattern: { kind: 'open', arrival: 'constant', rate: 1 }, count: 0, target, connection: 'new' }, w.stats.flow('load'));
    const order = [3, 0, 5, 1, 4, 2, 0, 0, 5, 3, 1, 2, 2, 4, 5, 0, 3];
    const q = { attempt: 1, first: 0, user: false } as unknown as Parameters<HttpLoadGenerator['attemptDone']>[0];
    for (const k of order) {
      const r: HttpResult = { ok: true, error: null, status: 200, latency: 1, connect: null, tls: null, bytes: 0, servedBy: ['web', String(k)].join('-'), response: null, phases: null };
      gen.attemptDone(q, r);
    }
    const want = new Map<string, number>();
    for (const k of order) want.set(`web-${k}`, (want.get(`web-${k}`) ?? 0) + 1);
    expect([...gen.servedBy]).toEqual([...want]);
    expect(gen.counters.succeeded).toBe(order.length);
  });
});
