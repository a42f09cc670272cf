// What a request reads of a load generator, an HTTP server and a flow's stats sits in their own fields
// (issue 13: each object of their own was one more line read cold at a big world's request): the
// generator's and the server's counters are the objects themselves, the generator's options and the
// server's constant distributions are copied at construction, a flow's last completion time is kept as
// two words. Behaviour is what it was: the same draws, the same sizes and times, live counters.
import { describe, expect, it } from 'vitest';
import { HttpClient, type HttpResult } from '../../src/app/http-client.js';
import { HttpServer, type HttpServerOptions } from '../../src/app/http-server.js';
import { HttpLoadGenerator, type LoadGeneratorOptions } from '../../src/app/load-generator.js';
import { sample, type Distribution } from '../../src/core/distributions.js';
import { Simulator } from '../../src/core/simulator.js';
import { MS, SEC } from '../../src/core/time.js';
import { FlowStats, type FlowRecorder } from '../../src/stats/flow.js';
import { StatsRegistry } from '../../src/stats/report.js';
import { TcpLayer } from '../../src/transport/tcp/index.js';
import { FakeNet, ip } from '../transport/fake-net.js';

const target = { addr: ip('10.0.0.2'), port: 80, host: 'web', path: '/' };

function world(seed: number, server: Partial<HttpServerOptions>) {
  const sim = new Simulator(seed);
  const net = new FakeNet(sim);
  const stats = new StatsRegistry(() => sim.now);
  const tc = new TcpLayer(net.addHost('client', '10.0.0.1'));
  const srv = new HttpServer(new TcpLayer(net.addHost('web-0', '10.0.0.2')), { port: 80, identity: 'web-0', ...server }, stats.endpoint('web-0'));
  return { sim, stats, tc, srv };
}

/** A FlowStats that also notes when each request started and each response's size. */
function recorder(sim: Simulator, inner: FlowStats) {
  const starts: number[] = [];
  const sizes: number[] = [];
  const rec: FlowRecorder = {
    requestStarted: () => {
      starts.push(sim.now);
      inner.requestStarted();
    },
    requestSucceeded: (latency, connect, bytes) => {
      sizes.push(bytes);
      inner.requestSucceeded(latency, connect, bytes);
    },
    requestFailed: (kind, latency) => inner.requestFailed(kind, latency),
    retried: (kind) => inner.retried(kind),
  };
  return { rec, starts, sizes };
}

function generator(seed: number, o: Partial<LoadGeneratorOptions>, server: Partial<HttpServerOptions> = {}) {
  const w = world(seed, server);
  const r = recorder(w.sim, w.stats.flow('load'));
  const gen = new HttpLoadGenerator(w.tc, { name: 'load', pattern: { kind: 'open', arrival: 'poisson', rate: 50 }, target, connection: 'new', ...o }, r.rec);
  return { ...w, ...r, gen };
}

/** `n` draws of `d` from the stream `name` of a simulator seeded `seed` (the stream the app draws from). */
function draws(seed: number, name: string, d: Distribution, n: number): number[] {
  const rng = new Simulator(seed).rng.stream(name);
  return Array.from({ length: n }, () => sample(d, rng));
}

describe('HttpLoadGenerator: options copied, counters its own fields', () => {
  it('Poisson arrivals are the exponential draws of its stream, rounded, one after another', () => {
    const { sim, gen, starts } = generator(7, { count: 40 });
    sim.run({ until: 60 * SEC });
    expect(starts.length).toBe(40);
    const gaps = draws(7, 'client/load/load', { kind: 'exponential', mean: 1e9 / 50 }, 39);
    let t = 0;
    const expected = [0, ...gaps.map((g) => (t += Math.round(g)))];
    expect(starts).toEqual(expected);
    expect(gen.counters).toMatchObject({ issued: 40, succeeded: 40, failed: 0, attempts: 40 });
  });

  it('constant arrivals, a duration limit and a timeout past 2^31 ns as given', () => {
    const { sim, gen, starts } = generator(3, { pattern: { kind: 'open', arrival: 'constant', rate: 40 }, duration: 1 * SEC, timeout: 7 * SEC }, { serviceTime: { kind: 'constant', value: 6 * SEC }, workers: 64 });
    sim.run({ until: 6 * SEC });
    expect(starts.length).toBe(40);
    expect(starts.every((s, i) => s === i * 25 * MS)).toBe(true);
    expect(gen.counters.succeeded + gen.counters.failed).toBe(0); // (6 s of service, 7 s of patience)
    sim.run({ until: 20 * SEC });
    expect(gen.counters).toMatchObject({ issued: 40, succeeded: 40, failed: 0 });
  });

  it('counters: a live view, the generator itself', () => {
    const { sim, gen } = generator(5, { count: 3 });
    const c = gen.counters;
    expect(c).toBe(gen);
    sim.run({ until: 60 * SEC });
    expect(c).toMatchObject({ issued: 3, succeeded: 3, failed: 0, attempts: 3 });
    expect(gen.done).toBe(true);
  });
});

describe('HttpServer: constant distributions copied, counters its own fields', () => {
  it('a constant service time and response size answer as the distributions would', () => {
    const { sim, srv, starts, sizes, stats } = generator(2, { count: 5 }, { serviceTime: { kind: 'constant', value: 3.4 * MS }, responseSize: { kind: 'constant', value: 777.4 } });
    sim.run({ until: 60 * SEC });
    expect(starts.length).toBe(5);
    expect(sizes).toEqual([777, 777, 777, 777, 777]);
    expect(stats.flow('load').latency.meanNs).toBeGreaterThanOrEqual(3.4 * MS);
    expect(srv.counters).toBe(srv);
    expect(srv.counters).toMatchObject({ connections: 5, requests: 5, responses: 5, badRequests: 0, abandoned: 0 });
  });

  it('a drawn response size follows the server\'s stream, as before', () => {
    const d: Distribution = { kind: 'uniform', min: 100, max: 900 };
    const { sim, sizes } = generator(4, { pattern: { kind: 'closed', users: 1, thinkTime: { kind: 'constant', value: 0 } }, count: 6 }, { responseSize: d });
    sim.run({ until: 60 * SEC });
    expect(sizes).toEqual(draws(4, 'web-0/http-server/80', d, 6).map((x) => Math.round(x)));
  });
});

describe('HttpClient: the last pool and the options in its own fields', () => {
  it('two targets in turn each keep their keep-alive connection; a target whose address changes gets its own pool', () => {
    const sim = new Simulator(1);
    const net = new FakeNet(sim);
    const tc = new TcpLayer(net.addHost('client', '10.0.0.1'));
    for (const i of [0, 1]) new HttpServer(new TcpLayer(net.addHost(`web-${i}`, `10.0.0.${2 + i}`)), { port: 80, identity: `web-${i}` });
    const client = new HttpClient(tc, { keepAlive: true, maxConnections: 1 });
    const a = { addr: ip('10.0.0.2'), port: 80, host: 'web', path: '/' };
    const b = { addr: ip('10.0.0.3'), port: 80, host: 'web', path: '/' };
    const served: (string | null)[] = [];
    const send = (t: typeof a, k: number): void => {
      if (k === 0) return;
      client.request(t, 1 * SEC, (r: HttpResult) => {
        served.push(r.servedBy);
        send(t === a ? b : a, k - 1);
      });
    };
    send(a, 6);
    sim.run({ until: 10 * SEC });
    expect(served).toEqual(['web-0', 'web-1', 'web-0', 'web-1', 'web-0', 'web-1']);
    expect(client.connectionsOpened).toBe(2);
    a.addr = ip('10.0.0.3'); // (the same object, another address: web-1's pool)
    client.request(a, 1 * SEC, (r) => served.push(r.servedBy));
    sim.run({ until: 20 * SEC });
    expect(served[6]).toBe('web-1');
    expect(client.connectionsOpened).toBe(2);
  });
});

describe('FlowStats.lastEnd', () => {
  it('null before the first completion, then the exact time of the last one (success or failure)', () => {
    let now = 0;
    const f = new FlowStats('f', () => now);
    expect(f.lastEnd).toBe(null);
    f.requestStarted();
    now = 2 ** 40 + 0.25;
    f.requestSucceeded(5, null, 10);
    expect(f.lastEnd).toBe(2 ** 40 + 0.25);
    now = 123.5;
    f.requestFailed('timeout', 1);
    expect(f.lastEnd).toBe(123.5);
    expect(f.errorTimes).toEqual([123.5]);
  });
});
