// What a request no longer allocates (issue 13, session 47): a shared HTTP parser's push of one message returns
// its head entry's frozen list of one (no list a push), a sealed array's head is taken without reading the
// owner's head cache, a load generator reuses a finished request's callback object and a client its request
// record. Behaviour is what it was: the same messages, in order, the same latencies, phases and retries.
import { describe, expect, it } from 'vitest';
import { HttpClient, type HttpCallback, type HttpResult, type HttpTarget } from '../../src/app/http-client.js';
import { HttpServer } from '../../src/app/http-server.js';
import { HttpLoadGenerator } from '../../src/app/load-generator.js';
import { Simulator } from '../../src/core/simulator.js';
import { MS, SEC, type TimeNs } from '../../src/core/time.js';
import type { FlowRecorder } from '../../src/stats/flow.js';
import { TcpLayer } from '../../src/transport/tcp/index.js';
import { buildHttpRequest, buildHttpResponse, HttpHeadCache, HttpParser, sealHttpBytes, type HttpRequest, type HttpResponse } from '../../src/wire/http.js';
import { FakeNet, ip } from '../transport/fake-net.js';

const dec = new TextDecoder();
const get = (path = '/'): Uint8Array => buildHttpRequest({ method: 'GET', target: path, headers: [['Host', 'web']] });
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
};

describe('HttpParser (shared): a push of one message returns its head\'s frozen list', () => {
  it('bodyless requests: the same frozen list for each push of the same head, a list of its own for two in one push', () => {
    const p = new HttpParser('request', new HttpHeadCache(), true);
    const a = p.push(get());
    const b = p.push(get());
    expect(Object.isFrozen(a)).toBe(true);
    expect(b).toBe(a);
    expect(a.length).toBe(1);
    expect((a[0] as HttpRequest).target).toBe('/');
    const c = p.push(get('/other'));
    expect(c).not.toBe(a);
    expect((c[0] as HttpRequest).target).toBe('/other');
    // Two messages in one push: a new list, in order (the first one's frozen list is not written to).
    const two = p.push(cat(get(), get('/other')));
    expect(Object.isFrozen(two)).toBe(false);
    expect(two.map((m) => (m as HttpRequest).target)).toEqual(['/', '/other']);
    expect(a.length).toBe(1);
    expect(c.length).toBe(1);
    // Three, then one again.
    expect(p.push(cat(get('/1'), get('/2'), get('/3'))).map((m) => (m as HttpRequest).target)).toEqual(['/1', '/2', '/3']);
    expect(p.push(get())).toBe(a);
    // A message completed by a later push (the head split across two chunks) comes in the same list.
    const whole = get();
    expect(p.push(whole.subarray(0, 10)).length).toBe(0);
    expect(p.push(whole.subarray(10))).toBe(a);
  });

  it('a body straight from the pushed array: the same list while the array and offset are the same, else a new one', () => {
    const q = new HttpParser('response', new HttpHeadCache(), true);
    const r1 = sealHttpBytes(buildHttpResponse({ status: 200, body: 'abc' }));
    const r2 = buildHttpResponse({ status: 200, body: 'xyz' });
    const a = q.push(r1);
    expect(Object.isFrozen(a)).toBe(true);
    expect(q.push(r1)).toBe(a);
    const b = q.push(r2);
    expect(b).not.toBe(a);
    expect(dec.decode((b[0] as HttpResponse).body)).toBe('xyz');
    expect(dec.decode((a[0] as HttpResponse).body)).toBe('abc');
    const two = q.push(cat(r1, r2));
    expect(two.map((m) => dec.decode((m as HttpResponse).body))).toEqual(['abc', 'xyz']);
  });

  it('a parser that is not shared returns a list of its own each push', () => {
    const p = new HttpParser('request');
    const a = p.push(get());
    const b = p.push(get());
    expect(b).not.toBe(a);
    expect(Object.isFrozen(a)).toBe(false);
  });

  it('a sealed array met before is parsed without its owner\'s head cache', () => {
    let finds = 0;
    class Counting extends HttpHeadCache {
      override find(...args: Parameters<HttpHeadCache['find']>): ReturnType<HttpHeadCache['find']> {
        finds++;
        return super.find(...args);
      }
    }
    const p = new HttpParser('request', new Counting(), true);
    const bytes = sealHttpBytes(get('/sealed'));
    const first = p.push(bytes);
    expect(finds).toBe(1); // (met for the first time: the cache is asked, the array remembers the head)
    expect(p.push(bytes)).toBe(first);
    expect(finds).toBe(1);
    expect(p.push(get('/sealed'))).toBe(first); // (same bytes, an array not sealed: the cache finds the head)
    expect(finds).toBe(2);
    // A sealed response array does not answer for a request parser.
    const res = sealHttpBytes(buildHttpResponse({ status: 204 }));
    expect(new HttpParser('response', new HttpHeadCache(), true).push(res).length).toBe(1);
    expect(() => p.push(res)).toThrow();
  });
});

describe('HttpLoadGenerator reuses a finished request\'s callback object', () => {
  function run(o: { retries?: number; serverUp?: boolean; count: number }) {
    const sim = new Simulator(5);
    const net = new FakeNet(sim);
    const tc = new TcpLayer(net.addHost('client', '10.0.0.1'));
    if (o.serverUp !== false) new HttpServer(new TcpLayer(net.addHost('web-0', '10.0.0.2')), { port: 80, identity: 'web-0', serviceTime: { kind: 'constant', value: 30 * MS }, workers: 8 });
    else net.addHost('web-0', '10.0.0.2');
    const cbs: HttpCallback[] = [];
    const request = HttpClient.prototype.request;
    const starts: TimeNs[] = [];
    const done: { latency: TimeNs; ok: boolean }[] = [];
    const retried: string[] = [];
    const rec: FlowRecorder = {
      requestStarted: () => starts.push(sim.now),
      requestSucceeded: (latency) => done.push({ latency, ok: true }),
      requestFailed: (_k, latency) => done.push({ latency, ok: false }),
      retried: (k) => retried.push(k),
    };
    const target: HttpTarget = { addr: ip('10.0.0.2'), port: 80, host: 'web', path: '/' };
    HttpClient.prototype.request = function (t, timeout, cb) {
      cbs.push(cb);
      request.call(this, t, timeout, cb);
    };
    try {
      const gen = new HttpLoadGenerator(tc, { name: 'load', pattern: { kind: 'open', arrival: 'constant', rate: 20 }, target, connection: 'new', count: o.count, timeout: 200 * MS, retries: o.retries ?? 0, retryDelay: 10 * MS }, rec);
      sim.run({ until: 20 * SEC });
      return { gen, cbs, starts, done, retried };
    } finally {
      HttpClient.prototype.request = request;
    }
  }

  it('one request at a time: one object for all of them, each latency its own', () => {
    const { gen, cbs, starts, done } = run({ count: 6 });
    expect(gen.counters).toMatchObject({ issued: 6, succeeded: 6, failed: 0 });
    expect(new Set(cbs).size).toBe(1); // (50 ms apart, each over in ~30 ms: the last one's object again)
    expect(starts).toEqual([0, 50, 100, 150, 200, 250].map((t) => t * MS));
    expect(done.every((d) => d.ok && d.latency >= 30 * MS && d.latency < 50 * MS)).toBe(true);
  });

  it('retries keep their request\'s object and first start; a request over frees it', () => {
    const { gen, cbs, done, retried } = run({ count: 3, retries: 1, serverUp: false });
    expect(gen.counters).toMatchObject({ issued: 3, succeeded: 0, failed: 3, attempts: 6 });
    expect(retried.length).toBe(3);
    // Each request's two attempts share an object; a request issued while another is in flight gets its own.
    expect(cbs.length).toBe(6);
    expect(done.length).toBe(3);
    // The latency runs from the first attempt (200 ms timeout, 10 ms wait, 200 ms again).
    for (const d of done) expect(d.latency).toBeGreaterThanOrEqual(410 * MS);
    const seen = new Map<HttpCallback, number>();
    for (const cb of cbs) seen.set(cb, (seen.get(cb) ?? 0) + 1);
    expect([...seen.values()].every((n) => n % 2 === 0)).toBe(true);
  });
});

describe('HttpClient reuses a finished request\'s record', () => {
  it('requests issued from the last one\'s callback: records taken back after the callback, results as a fresh record\'s', () => {
    const sim = new Simulator(9);
    const net = new FakeNet(sim);
    const client = new HttpClient(new TcpLayer(net.addHost('client', '10.0.0.1')), { keepAlive: false });
    new HttpServer(new TcpLayer(net.addHost('web-0', '10.0.0.2')), { port: 80, identity: 'web-0', serviceTime: { kind: 'constant', value: 20 * MS } });
    const target: HttpTarget = { addr: ip('10.0.0.2'), port: 80, host: 'web', path: '/' };
    // The request records, as the timeout events' second argument (requestTimeout(client, record)).
    const records: unknown[] = [];
    const schedule = Simulator.prototype.schedule;
    Simulator.prototype.schedule = function (delay, fn, a, b) {
      if (fn.name === 'requestTimeout') records.push(b);
      return schedule.call(this, delay, fn, a, b);
    };
    const results: HttpResult[] = [];
    let left = 6;
    const next = (r: HttpResult): void => {
      results.push(r);
      if (--left > 0) client.request(target, 1 * SEC, next);
    };
    try {
      client.request(target, 1 * SEC, next);
      sim.run({ until: 10 * SEC });
    } finally {
      Simulator.prototype.schedule = schedule;
    }
    expect(results.length).toBe(6);
    // Request 2 starts inside request 1's callback (1's record not yet back): a new record; from then on each
    // takes the one before last's.
    expect(records.length).toBe(6);
    expect(records[1]).not.toBe(records[0]);
    expect(records[2]).toBe(records[0]);
    expect(records[3]).toBe(records[1]);
    expect(records[5]).toBe(records[1]);
    // Every result as the first's (a fresh record): the same handshake, phases and latency on this fixed path.
    for (const r of results) {
      expect(r.ok).toBe(true);
      expect(r.connect).toBe(results[0]!.connect);
      expect(r.connect).toBeGreaterThan(0);
      expect(r.latency).toBe(results[0]!.latency);
      expect(r.phases).toEqual(results[0]!.phases);
      expect(r.phases!.ttfb).toBeGreaterThanOrEqual(20 * MS);
      expect(r.phases!.dns).toBe(0);
    }
  });

  it('a record a resolver\'s callback took is not reused', () => {
    const sim = new Simulator(9);
    const net = new FakeNet(sim);
    const resolver = { resolve: (_name: string, cb: (addr: number | null) => void) => sim.schedule(5 * MS, () => cb(ip('10.0.0.2'))) };
    const client = new HttpClient(new TcpLayer(net.addHost('client', '10.0.0.1')), { keepAlive: false, resolver });
    new HttpServer(new TcpLayer(net.addHost('web-0', '10.0.0.2')), { port: 80, identity: 'web-0' });
    const records: unknown[] = [];
    const schedule = Simulator.prototype.schedule;
    Simulator.prototype.schedule = function (delay, fn, a, b) {
      if (fn.name === 'requestTimeout') records.push(b);
      return schedule.call(this, delay, fn, a, b);
    };
    const results: HttpResult[] = [];
    try {
      const byName: HttpTarget = { addr: null, port: 80, host: 'web', path: '/' };
      const byAddr: HttpTarget = { addr: ip('10.0.0.2'), port: 80, host: 'web', path: '/' };
      client.request(byName, 1 * SEC, (r) => results.push(r));
      sim.schedule(1 * SEC, () => client.request(byAddr, 1 * SEC, (r) => results.push(r)));
      sim.schedule(2 * SEC, () => client.request(byAddr, 1 * SEC, (r) => results.push(r)));
      sim.run({ until: 5 * SEC });
    } finally {
      Simulator.prototype.schedule = schedule;
    }
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(results[0]!.phases!.dns).toBe(5 * MS);
    expect(results[1]!.phases!.dns).toBe(0);
    expect(records[1]).not.toBe(records[0]);
    expect(records[2]).toBe(records[1]);
  });
});
