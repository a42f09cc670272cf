// HTTP server, client and load generators over the fake network:
//
//   client 10.0.0.1 ──(50 µs, 1 Gbps)── web-0 10.0.0.2 : 80
//                   └────────────────── web-1 10.0.0.3 : 80   (where a test needs two endpoints)
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { MS, SEC } from '../../src/core/time.js';
import { HttpClient, type HttpResult } from '../../src/app/http-client.js';
import { HttpServer, type HttpServerOptions } from '../../src/app/http-server.js';
import { HttpLoadGenerator, type LoadGeneratorOptions } from '../../src/app/load-generator.js';
import { StatsRegistry } from '../../src/stats/report.js';
import { TcpLayer, TimeWaitSock } from '../../src/transport/tcp/index.js';
import { parseHttpMessage } from '../../src/wire/http.js';
import { TcpFlag } from '../../src/wire/types.js';
import { bernoulliLoss, FakeNet, ip } from '../transport/fake-net.js';
import { concat } from '../transport/tcp-helpers.js';

function world(seed = 1, servers: Partial<HttpServerOptions>[] = [{}]) {
  const sim = new Simulator(seed);
  const net = new FakeNet(sim);
  const stats = new StatsRegistry(() => sim.now);
  const c = net.addHost('client', '10.0.0.1');
  const tc = new TcpLayer(c);
  const srv = servers.map((o, i) => {
    const h = net.addHost(`web-${i}`, `10.0.0.${2 + i}`);
    const t = new TcpLayer(h);
    const opts: HttpServerOptions = { port: 80, identity: `web-${i}`, ...o };
    return new HttpServer(t, opts, stats.endpoint(`web-${i}`, opts.workers ?? 1));
  });
  return { sim, net, stats, tc, srv };
}

const target = { addr: ip('10.0.0.2'), port: 80, host: 'web', path: '/' };

describe('HttpServer + HttpClient', () => {
  it('exchanges real HTTP/1.1 bytes; the response names the pod that served it', () => {
    const { sim, net, tc } = world(1, [{ responseSize: { kind: 'constant', value: 3000 } }]);
    const client = new HttpClient(tc, { keepAlive: false });
    let res: HttpResult | null = null;
    client.request(target, 1 * SEC, (r) => (res = r));
    sim.run();
    expect(res!.ok).toBe(true);
    expect(res!.status).toBe(200);
    expect(res!.servedBy).toBe('web-0');
    expect(res!.bytes).toBe(3000);
    expect(new TextDecoder().decode(res!.response!.body.subarray(0, 16))).toBe('served-by web-0\n');
    expect(res!.connect).toBeGreaterThan(0);
    const bytes = (from: string) => concat(net.log.filter((r) => r.from === from && r.pkt.payload !== null).map((r) => r.pkt.payload!));
    const req = parseHttpMessage(bytes('client'), 'request');
    expect(req).toMatchObject({ kind: 'request', method: 'GET', target: '/', version: 'HTTP/1.1' });
    expect(req.headers[0]).toEqual(['Host', 'web']);
    const resp = parseHttpMessage(bytes('web-0'), 'response');
    expect(resp).toMatchObject({ kind: 'response', status: 200 });
    // The client closed first (new connection per request): FIN from the client, TIME_WAIT on its side.
    expect(net.log.filter((r) => r.pkt.tcp!.flags & TcpFlag.FIN).map((r) => r.from)).toEqual(['client', 'web-0']);
  });

  it('a callback that borrows results (resultLent) gets the client\'s one object, rewritten; any other its own', () => {
    const { sim, tc } = world(1, [{ responseSize: { kind: 'constant', value: 300 } }]);
    const client = new HttpClient(tc, { keepAlive: false });
    const seen: { r: HttpResult; copy: HttpResult; phases: object; response: boolean }[] = [];
    const lender = {
      resultLent: true,
      requestDone(r: HttpResult): void {
        seen.push({ r, copy: { ...r, phases: { ...r.phases! } }, phases: r.phases!, response: r.response !== null && r.response.body.length === 300 });
      },
    };
    const own: HttpResult[] = [];
    for (let i = 0; i < 3; i++) {
      sim.schedule(i * 10 * MS, () => client.request(target, 1 * SEC, lender));
      sim.schedule(i * 10 * MS + 5 * MS, () => client.request(target, 1 * SEC, (r) => own.push(r)));
    }
    sim.run();
    expect(seen).toHaveLength(3);
    expect(own).toHaveLength(3);
    // One object (and one phases object) lent each time, every field rewritten; the message let go after the call.
    expect(new Set(seen.map((x) => x.r)).size).toBe(1);
    expect(new Set(seen.map((x) => x.phases)).size).toBe(1);
    expect(seen.every((x) => x.response)).toBe(true);
    expect(seen[0]!.r.response).toBeNull();
    // What each lent result said is what a result of its own says for the same exchange (the same timing a request apart).
    for (let i = 0; i < 3; i++) {
      const a = seen[i]!.copy;
      const b = own[i]!;
      expect(b).not.toBe(seen[0]!.r);
      expect([a.ok, a.status, a.bytes, a.servedBy, a.error, a.tls]).toEqual([b.ok, b.status, b.bytes, b.servedBy, b.error, b.tls]);
      expect(a.latency).toBeGreaterThan(0);
      expect(a.connect).toBeGreaterThan(0);
      expect(a.phases!.total).toBe(a.latency);
      expect(a.phases!.connect).toBe(a.connect);
      expect(a.phases!.ttfb).toBeGreaterThan(0);
    }
    expect(new Set(own).size).toBe(3);
  });

  it('responses from backends in rotation, more than the client remembers, each name their own pod', () => {
    const { sim, tc } = world(1, [{}, {}, {}, {}, {}, {}]);
    const client = new HttpClient(tc, { keepAlive: false });
    const got: string[] = [];
    const order = [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0, 2, 2, 0];
    order.forEach((k, i) => sim.schedule(i * 10 * MS, () => client.request({ ...target, addr: ip(`10.0.0.${2 + k}`) }, 1 * SEC, (r) => got.push(`${r.ok} ${r.servedBy}`))));
    sim.run();
    expect(got).toEqual(order.map((k) => `true web-${k}`));
  });

  it('maxConnections: requests beyond the cap wait for a free connection (reused with keep-alive, a new one without); a request timing out while it waits leaves the wait list', () => {
    for (const keepAlive of [true, false]) {
      const { sim, tc } = world(1, [{ workers: 2, serviceTime: { kind: 'constant', value: 20 * MS } }]);
      const client = new HttpClient(tc, { keepAlive, maxConnections: 2 });
      const got: string[] = [];
      for (let i = 0; i < 5; i++) client.request(target, i === 4 ? 30 * MS : 1 * SEC, (r) => got.push(`${i} ${r.ok ? 'ok' : r.error} ${Math.round(r.latency / (10 * MS))}`));
      // Later, with every connection free again (counted back down), one more goes at once.
      sim.schedule(100 * MS, () => client.request(target, 1 * SEC, (r) => got.push(`5 ${r.ok ? 'ok' : r.error} ${Math.round(r.latency / (10 * MS))}`)));
      let most = 0;
      const watch = (): void => {
        most = Math.max(most, tc.sockets().filter((s) => !(s instanceof TimeWaitSock) && s.state === 'ESTABLISHED').length);
        if (sim.now < 200 * MS) sim.schedule(1 * MS, watch);
      };
      watch();
      sim.run();
      // Two at a time, 20 ms each: requests 0 and 1 done at ~20 ms, 2 and 3 at ~40 ms; 4 waited 30 ms and timed out.
      expect(got).toEqual(['0 ok 2', '1 ok 2', '4 timeout 3', '2 ok 4', '3 ok 4', '5 ok 2']);
      expect(most).toBe(2);
      expect(client.connectionsOpened).toBe(keepAlive ? 2 : 5);
    }
  });

  it('a connection per request: the client orphans what it closes, so its TIME_WAIT is a record that owns no socket', () => {
    const { sim, tc } = world(1);
    const client = new HttpClient(tc, { keepAlive: false });
    const ok: boolean[] = [];
    for (let i = 0; i < 3; i++) sim.scheduleAt(i * 10 * MS, () => client.request(target, 1 * SEC, (r) => ok.push(r.ok)));
    sim.run({ until: 1 * SEC });
    expect(ok).toEqual([true, true, true]);
    const table = tc.sockets();
    expect(table.map((s) => s.state)).toEqual(['TIME_WAIT', 'TIME_WAIT', 'TIME_WAIT']);
    expect(table.every((s) => s instanceof TimeWaitSock && s.owner === null)).toBe(true);
    sim.run();
    expect(tc.sockets()).toHaveLength(0);
  });

  it('requests of one target object follow its fields as they change, and responses follow the sampled size', () => {
    const { sim, net, tc } = world(1, [{ responseSize: { kind: 'uniform', min: 10, max: 1000 } }]);
    const client = new HttpClient(tc, { keepAlive: false });
    const t = { ...target };
    const sizes: number[] = [];
    for (const [i, path] of ['/a', '/a', '/b', '/a'].entries()) {
      sim.scheduleAt(i * 100 * MS, () => {
        t.path = path;
        if (i === 3) t.host = 'web.example';
        client.request(t, 1 * SEC, (r) => sizes.push(r.bytes));
      });
    }
    sim.run();
    const reqs: string[] = [];
    for (const r of net.log) {
      if (r.from !== 'client' || r.pkt.payload === null) continue;
      const m = parseHttpMessage(r.pkt.payload, 'request');
      if (m.kind === 'request') reqs.push(`${m.target} ${m.headers[0]![1]}`);
    }
    expect(reqs).toEqual(['/a web', '/a web', '/b web', '/a web.example']);
    // Each response carries the size drawn for it (Content-Length and body agree; draws differ).
    expect(sizes.length).toBe(4);
    expect(new Set(sizes).size).toBeGreaterThan(1);
    for (const r of net.log) {
      if (r.from !== 'web-0' || r.pkt.payload === null) continue;
      const m = parseHttpMessage(r.pkt.payload, 'response');
      expect(m.body.length).toBe(Number(m.headers.find((h) => h[0] === 'Content-Length')![1]));
    }
  });

  it('queues requests FIFO when all workers are busy and accounts busy time and queue length', () => {
    const { sim, stats, tc } = world(1, [{ workers: 1, serviceTime: { kind: 'constant', value: 10 * MS } }]);
    const client = new HttpClient(tc, { keepAlive: false });
    const lat: number[] = [];
    for (let i = 0; i < 5; i++) client.request(target, 5 * SEC, (r) => lat.push(Math.round(r.latency / MS)));
    sim.run();
    expect(lat).toEqual([10, 20, 30, 40, 50]);
    const ep = stats.report({ seed: 1 }).endpoints[0]!;
    expect(ep.served).toBe(5);
    expect(ep.busyUs).toBe(50_000);
    expect(ep.maxQueue).toBe(4);
  });

  it('keeps the queue FIFO across waves that grow its ring while requests wait (served in arrival order, the longest queue counted)', () => {
    // 6 requests at 0 ms, 10 at 25 ms (3 still waiting: the ring grows with its head inside it), 20 at 200 ms (all served by then).
    const { sim, stats, tc } = world(1, [{ workers: 1, serviceTime: { kind: 'constant', value: 10 * MS } }]);
    const client = new HttpClient(tc, { keepAlive: false });
    const order: number[] = [];
    const lat: number[] = [];
    let k = 0;
    for (const [at, n] of [[0, 6], [25, 10], [200, 20]] as const)
      sim.scheduleAt(at * MS, () => {
        for (let i = 0; i < n; i++) {
          const id = k++;
          client.request(target, 5 * SEC, (r) => {
            order.push(id);
            lat.push(Math.round(r.latency / MS));
          });
        }
      });
    sim.run();
    expect(order).toEqual(Array.from({ length: 36 }, (_, i) => i));
    expect(lat.slice(16)).toEqual(Array.from({ length: 20 }, (_, i) => 10 * (i + 1)));
    const ep = stats.report({ seed: 1 }).endpoints[0]!;
    expect(ep.served).toBe(36);
    expect(ep.maxQueue).toBe(19);
  });

  it('two workers serve two requests at once', () => {
    const { sim, tc } = world(1, [{ workers: 2, serviceTime: { kind: 'constant', value: 10 * MS } }]);
    const client = new HttpClient(tc, { keepAlive: false });
    const lat: number[] = [];
    for (let i = 0; i < 4; i++) client.request(target, 5 * SEC, (r) => lat.push(Math.round(r.latency / MS)));
    sim.run();
    expect(lat).toEqual([10, 10, 20, 20]);
  });

  it('fails with refused when nothing listens, and with timeout when the server is too slow', () => {
    const { sim, tc } = world(1, [{ serviceTime: { kind: 'constant', value: 2 * SEC } }]);
    const client = new HttpClient(tc, { keepAlive: false });
    const out: string[] = [];
    client.request({ ...target, port: 81 }, 1 * SEC, (r) => out.push(`81 ${r.error}`));
    client.request(target, 500 * MS, (r) => out.push(`80 ${r.error} ${Math.round(r.latency / MS)}ms`));
    sim.run();
    expect(out).toEqual(['81 refused', '80 timeout 500ms']);
  });

  it('reports dns when a name cannot be resolved', () => {
    const { sim, tc } = world();
    const client = new HttpClient(tc, { keepAlive: false, resolver: { resolve: (_n, cb) => sim.schedule(1 * MS, () => cb(null)) } });
    let err = '';
    client.request({ ...target, addr: null, host: 'nope.default.svc.cluster.local' }, 1 * SEC, (r) => (err = r.error!));
    sim.run();
    expect(err).toBe('dns');
  });
});

describe('HttpLoadGenerator', () => {
  const run = (seed: number, o: Partial<LoadGeneratorOptions>, servers: Partial<HttpServerOptions>[] = [{ serviceTime: { kind: 'exponential', mean: 1 * MS } }]) => {
    const w = world(seed, servers);
    const gen = new HttpLoadGenerator(
      w.tc,
      { name: 'load', pattern: { kind: 'closed', users: 3, thinkTime: { kind: 'constant', value: 0 } }, target, connection: 'keep-alive', ...o },
      w.stats.flow('load'),
    );
    w.sim.run({ until: 3600 * SEC });
    return { ...w, gen };
  };

  it('closed loop, keep-alive: N users reuse N connections; by count', () => {
    const { gen, stats } = run(1, { count: 30 });
    expect(gen.counters).toMatchObject({ issued: 30, succeeded: 30, failed: 0 });
    expect(gen.client.connectionsOpened).toBe(3);
    const f = stats.report({ seed: 1 }).flows[0]!;
    expect(f.requests).toBe(30);
    expect(f.errors).toBe(0);
    expect(f.latencyUs.p50).toBeGreaterThan(0);
    expect(stats.flow('load').connect.count).toBe(3);
  });

  it('open loop Poisson, new connection per request; by duration', () => {
    const { gen, stats } = run(2, { pattern: { kind: 'open', arrival: 'poisson', rate: 200 }, duration: 1 * SEC, connection: 'new' });
    expect(gen.counters.issued).toBeGreaterThan(150);
    expect(gen.counters.issued).toBeLessThan(250);
    expect(gen.counters.succeeded).toBe(gen.counters.issued);
    expect(gen.client.connectionsOpened).toBe(gen.counters.issued);
    expect(stats.flow('load').connect.count).toBe(gen.counters.issued);
  });

  it('open loop constant rate issues exactly rate × duration requests', () => {
    const { gen } = run(3, { pattern: { kind: 'open', arrival: 'constant', rate: 100 }, duration: 1 * SEC });
    expect(gen.counters.issued).toBe(100);
  });

  it('retries failed attempts and reports the final error by kind', () => {
    const { gen, stats } = run(4, { count: 3, timeout: 100 * MS, retries: 2, pattern: { kind: 'closed', users: 1, thinkTime: { kind: 'constant', value: 0 } } }, [
      { serviceTime: { kind: 'constant', value: 1 * SEC } },
    ]);
    expect(gen.counters).toMatchObject({ issued: 3, failed: 3, attempts: 9 });
    const f = stats.report({ seed: 1 }).flows[0]!;
    expect(f.errorsByKind.timeout).toBe(3);
    expect(f.retries).toBe(6);
  });

  it('under 1 % loss every request completes or fails by kind, with retransmissions, and nothing hangs', () => {
    const w = world(9, [{ serviceTime: { kind: 'exponential', mean: 2 * MS }, responseSize: { kind: 'constant', value: 20_000 } }]);
    w.net.loss = bernoulliLoss(w.sim.rng.stream('test/loss'), 0.01);
    const gen = new HttpLoadGenerator(
      w.tc,
      { name: 'lossy', pattern: { kind: 'open', arrival: 'poisson', rate: 100 }, count: 300, target, connection: 'new', timeout: 2 * SEC },
      w.stats.flow('lossy'),
    );
    let doneAt = -1;
    gen.onDone = () => (doneAt = w.sim.now);
    expect(w.sim.run({ until: 3600 * SEC })).toBe('idle');
    expect(doneAt).toBeGreaterThan(0);
    const f = w.stats.report({ seed: 9 }).flows[0]!;
    expect(f.successes + f.errors).toBe(300);
    expect(w.net.dropped).toBeGreaterThan(0);
    expect(w.tc.counters.RetransSegs + w.srv[0]!.tcp.counters.RetransSegs).toBeGreaterThan(0);
  });

  it('endpoint shares add up to 1 and to the requests served; same seed → same stats.json', () => {
    const once = () => {
      const w = world(5, [{ serviceTime: { kind: 'exponential', mean: 1 * MS } }, { serviceTime: { kind: 'exponential', mean: 1 * MS } }]);
      const a = new HttpLoadGenerator(w.tc, { name: 'to-web-0', pattern: { kind: 'open', arrival: 'poisson', rate: 300 }, count: 60, target, connection: 'keep-alive' }, w.stats.flow('to-web-0'));
      const b = new HttpLoadGenerator(w.tc, { name: 'to-web-1', pattern: { kind: 'open', arrival: 'poisson', rate: 300 }, count: 40, target: { ...target, addr: ip('10.0.0.3') }, connection: 'new' }, w.stats.flow('to-web-1'));
      w.sim.run();
      expect(a.done && b.done).toBe(true);
      return w.stats;
    };
    const s = once();
    const r = s.report({ seed: 5 });
    expect(r.endpoints.map((e) => e.served)).toEqual([60, 40]);
    expect(r.endpoints.reduce((x, e) => x + e.share, 0)).toBeCloseTo(1, 12);
    expect(r.endpoints[0]!.share).toBeCloseTo(0.6, 12);
    expect(s.toJson({ seed: 5 })).toBe(once().toJson({ seed: 5 }));
  });
});
