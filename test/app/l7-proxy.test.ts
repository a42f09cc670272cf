// The L7 proxy (ingress-nginx's data path) over the fake network, with a routing table written by hand:
//
//   client 10.0.0.1 ──▶ proxy 10.0.0.10:80 ──▶ web-0 10.0.0.2:8080, web-1 10.0.0.3:8080, web-2 10.0.0.4:8080
//
// Each case names the ingress-nginx behaviour it pins (facts: ../shared/guide/external-flows-facts.md §b).
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { SEC } from '../../src/core/time.js';
import { HttpServer } from '../../src/app/http-server.js';
import { L7Proxy, nginxErrorPage, type AccessLogEntry } from '../../src/app/l7-proxy.js';
import type { CanaryRule, ProxyRoute, RouteDecision, RoutingTable, Upstream } from '../../src/app/l7-balancer.js';
import { TcpLayer } from '../../src/transport/tcp/index.js';
import { buildHttpRequest, httpHeader, HttpParser, parseHttpMessage, type HttpHeader, type HttpResponse } from '../../src/wire/http.js';
import { FakeNet, ip } from '../transport/fake-net.js';
import { HttpClient, type HttpResult } from '../../src/app/http-client.js';
import { certificateChain, FAKE_CERTIFICATE } from '../../src/app/tls-certs.js';
import { concat } from '../transport/tcp-helpers.js';

const PODS = ['10.0.0.2', '10.0.0.3', '10.0.0.4'];

function upstream(name: string, addrs: string[], more: Partial<Upstream> = {}): Upstream {
  return { name, endpoints: addrs.map((a) => ({ addr: ip(a), port: 8080 })), loadBalance: 'round_robin', hashBy: null, affinity: null, serviceUpstream: false, ...more };
}

/** A table: host "web" → upstream "web", "tls" → ssl-redirect, "none" → no endpoints, else 404. */
function table(ups: Upstream[], route: Partial<ProxyRoute> = {}): RoutingTable {
  const m = new Map(ups.map((u) => [u.name, u]));
  return {
    upstream: (n) => m.get(n),
    route(host, uri): RouteDecision {
      const h = host.replace(/:\d+$/, '');
      if (h === 'web') return { kind: 'proxy', route: { upstream: 'web', canary: null, sslRedirect: false, describe: 'web', ...route }, uri };
      if (h === 'tls') return { kind: 'proxy', route: { upstream: 'web', canary: null, sslRedirect: true, describe: 'tls' }, uri };
      if (h === 'none') return { kind: 'proxy', route: { upstream: 'empty', canary: null, sslRedirect: false, describe: 'none' }, uri };
      if (h === 'gone') return { kind: 'proxy', route: { upstream: null, canary: null, sslRedirect: false, describe: 'gone' }, uri };
      return { kind: 'not-found', describe: 'default backend' };
    },
  };
}

function world(opts: { listen?: number[]; seed?: number } = {}) {
  const sim = new Simulator(opts.seed ?? 1);
  const net = new FakeNet(sim);
  const tc = new TcpLayer(net.addHost('client', '10.0.0.1'));
  const proxy = new L7Proxy(new TcpLayer(net.addHost('proxy', '10.0.0.10')), { port: 80, identity: 'ingress-nginx-controller-0' });
  const tcps = PODS.map((a, i) => new TcpLayer(net.addHost(`web-${i}`, a)));
  const servers = tcps.map((t, i) => ((opts.listen ?? [0, 1, 2]).includes(i) ? new HttpServer(t, { port: 8080, identity: `web-${i}` }) : null));
  const log: AccessLogEntry[] = [];
  proxy.onAccessLog = (e) => log.push(e);
  return { sim, net, tc, proxy, tcps, servers, log };
}

/** Sends raw requests one after another on one keep-alive connection; returns the responses. */
function exchange(w: ReturnType<typeof world>, reqs: { host?: string; path?: string; method?: string; headers?: HttpHeader[] }[]): HttpResponse[] {
  const out: HttpResponse[] = [];
  const s = w.tc.connect(ip('10.0.0.10'), 80, undefined, { noDelay: true });
  const p = new HttpParser('response');
  let i = 0;
  const sendNext = (): void => {
    const r = reqs[i++];
    if (!r) return s.close();
    s.send(buildHttpRequest({ method: r.method ?? 'GET', target: r.path ?? '/', headers: [['Host', r.host ?? 'web'], ...(r.headers ?? [])] }));
  };
  s.onConnect = sendNext;
  s.onData = (d) => {
    for (const m of p.push(d!)) {
      out.push(m as HttpResponse);
      sendNext();
    }
  };
  w.sim.run();
  return out;
}

/** The requests a pod received, as bytes on the wire from the proxy. */
function requestsAt(w: ReturnType<typeof world>, pod: string) {
  const bytes = concat(w.net.log.filter((r) => r.from === 'proxy' && r.pkt.ip!.dst === ip(pod) && r.pkt.payload !== null).map((r) => r.pkt.payload!));
  const p = new HttpParser('request');
  return p.push(bytes);
}

const served = (rs: HttpResponse[]) => rs.map((r) => httpHeader(r.headers, 'x-served-by') ?? String(r.status));

describe('L7Proxy: routing and balancing', () => {
  it('balances per request, round robin from a random start, over one client connection (balancer.lua, resty.roundrobin)', () => {
    const w = world();
    w.proxy.setTable(table([upstream('web', PODS)]));
    const rs = exchange(w, Array.from({ length: 9 }, () => ({})));
    const names = served(rs);
    expect(new Set(names.slice(0, 3)).size).toBe(3);
    expect(names.slice(3, 6)).toEqual(names.slice(0, 3));
    expect(names.slice(6, 9)).toEqual(names.slice(0, 3));
    // The start differs with the seed somewhere in 1..20 (it is drawn, not fixed).
    const starts = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const v = world({ seed });
      v.proxy.setTable(table([upstream('web', PODS)]));
      starts.add(served(exchange(v, [{}]))[0]!);
    }
    expect(starts.size).toBeGreaterThan(1);
  });

  it('sends nginx.tmpl\'s headers to the pod; the client\'s X-Forwarded-For moves to X-Original-Forwarded-For (use-forwarded-headers false)', () => {
    const w = world();
    w.proxy.setTable(table([upstream('web', PODS)]));
    exchange(w, [{ host: 'web:30080', path: '/a?b=1', headers: [['X-Forwarded-For', '1.2.3.4'], ['User-Agent', 'curl/8'], ['Connection', 'keep-alive']] }]);
    const got = PODS.flatMap((p) => requestsAt(w, p));
    expect(got).toHaveLength(1);
    const r = got[0]!;
    expect(r.kind === 'request' && r.target).toBe('/a?b=1');
    const h = Object.fromEntries(r.headers);
    expect(h).toMatchObject({ Host: 'web:30080', 'X-Real-IP': '10.0.0.1', 'X-Forwarded-For': '10.0.0.1', 'X-Forwarded-Host': 'web', 'X-Forwarded-Port': '80', 'X-Forwarded-Proto': 'http', 'X-Forwarded-Scheme': 'http', 'X-Scheme': 'http', 'X-Original-Forwarded-For': '1.2.3.4', 'User-Agent': 'curl/8' });
    expect(h['X-Request-ID']).toMatch(/^[0-9a-f]{32}$/);
    expect(h['Connection']).toBeUndefined();
    expect(w.log[0]!.requestId).toBe(h['X-Request-ID']);
  });

  it('keeps the client\'s X-Request-ID', () => {
    const w = world();
    w.proxy.setTable(table([upstream('web', PODS)]));
    exchange(w, [{ headers: [['X-Request-ID', 'abc']] }]);
    expect(w.log[0]!.sent!.headers).toContainEqual(['X-Request-ID', 'abc']);
  });

  it('reuses upstream connections (keepalive pool): 6 requests over 3 pods open 3 connections', () => {
    const w = world();
    w.proxy.setTable(table([upstream('web', PODS)]));
    exchange(w, Array.from({ length: 6 }, () => ({})));
    expect(w.proxy.counters.upstreamConnections).toBe(3);
    expect(w.proxy.counters.upstreamReused).toBe(3);
  });
});

describe('L7Proxy: answers of its own', () => {
  it('404 from the default server with nginx\'s error page (nginx.tmpl default_server)', () => {
    const w = world();
    w.proxy.setTable(table([upstream('web', PODS)]));
    const [r] = exchange(w, [{ host: 'unknown.example' }]);
    expect(r!.status).toBe(404);
    expect(new TextDecoder().decode(r!.body)).toBe(nginxErrorPage(404));
    expect(new TextDecoder().decode(r!.body)).toContain('<center>nginx</center>');
  });

  it('503 when the upstream has no endpoints or the Service does not exist (balancer.lua rewrite)', () => {
    const w = world();
    w.proxy.setTable(table([upstream('web', PODS), upstream('empty', [])]));
    expect(exchange(w, [{ host: 'none' }, { host: 'gone' }]).map((r) => r.status)).toEqual([503, 503]);
  });

  it('ssl-redirect: 308 to https://host with the final "/" stripped (lua_ingress.lua redirect_to_https)', () => {
    const w = world();
    w.proxy.setTable(table([upstream('web', PODS)]));
    const rs = exchange(w, [{ host: 'tls:30080', path: '/' }, { host: 'tls', path: '/x/' }]);
    expect(rs.map((r) => [r.status, r.reason, httpHeader(r.headers, 'location')])).toEqual([
      [308, 'Permanent Redirect', 'https://tls'],
      [308, 'Permanent Redirect', 'https://tls/x'],
    ]);
  });
});

describe('L7Proxy: upstream failures (proxy_next_upstream error timeout, tries 3)', () => {
  it('a refused endpoint is retried on the next one; the client sees 200', () => {
    const w = world({ listen: [2] });
    w.proxy.setTable(table([upstream('web', PODS)]));
    const rs = exchange(w, [{}, {}]);
    expect(served(rs)).toEqual(['web-2', 'web-2']);
    expect(w.log.map((l) => l.endpoints.at(-1))).toEqual(['10.0.0.4:8080', '10.0.0.4:8080']);
    expect(w.proxy.counters.retries).toBeGreaterThan(0);
  });

  it('every endpoint refusing: 502 after 3 tries', () => {
    const w = world({ listen: [] });
    w.proxy.setTable(table([upstream('web', PODS)]));
    const [r] = exchange(w, [{}]);
    expect(r!.status).toBe(502);
    expect(w.log[0]!.endpoints).toHaveLength(3);
  });

  it('unreachable endpoints: 504 after three 5 s connect timeouts', () => {
    const w = world({ listen: [] });
    const gone = ['10.0.0.20', '10.0.0.21', '10.0.0.22'];
    for (const p of gone) w.net.blackholes.add(ip(p));
    w.proxy.setTable(table([upstream('web', gone)]));
    const start = w.sim.now;
    const [r] = exchange(w, [{}]);
    expect(r!.status).toBe(504);
    expect(w.log[0]!.endpoints).toHaveLength(3);
    expect(w.log[0]!.at - start).toBeLessThan(1 * SEC);
    expect(w.sim.now).toBeGreaterThanOrEqual(15 * SEC);
  });

  it('a reset after the request was sent: GET is retried, POST is not (non-idempotent)', () => {
    const outcomes = new Map<string, Set<number>>();
    for (let seed = 1; seed <= 12; seed++) {
      for (const method of ['GET', 'POST']) {
        const w = world({ listen: [1], seed });
        // web-0 accepts and resets the connection as soon as the request arrives.
        w.tcps[0]!.listen(8080, (s) => (s.onData = () => s.abort()));
        w.proxy.setTable(table([upstream('web', PODS.slice(0, 2))]));
        const [r] = exchange(w, [{ method }]);
        if (w.log[0]!.endpoints[0] !== '10.0.0.2:8080') continue; // round robin started at web-1
        if (!outcomes.has(method)) outcomes.set(method, new Set());
        outcomes.get(method)!.add(r!.status);
      }
    }
    expect(outcomes.get('GET')).toEqual(new Set([200]));
    expect(outcomes.get('POST')).toEqual(new Set([502]));
  });
});

describe('L7Proxy: annotations', () => {
  const canary = (c: Partial<CanaryRule>): CanaryRule => ({ upstream: 'canary', header: null, headerValue: null, headerPattern: null, headerPatternInvalid: false, cookie: null, weight: 0, weightTotal: 100, ...c });
  const ups = () => [upstream('web', [PODS[0]!]), upstream('canary', [PODS[2]!])];

  it('canary by header: "always" → canary, "never" → main, absent → weight (balancer.lua route_to_alternative_balancer)', () => {
    const w = world();
    w.proxy.setTable(table(ups(), { canary: canary({ header: 'X-Canary' }) }));
    const rs = exchange(w, [{ headers: [['X-Canary', 'always']] }, { headers: [['X-Canary', 'never']] }, {}]);
    expect(served(rs)).toEqual(['web-2', 'web-0', 'web-0']);
  });

  it('canary by header value, cookie, and weight 100 / 0', () => {
    const w = world();
    w.proxy.setTable(table(ups(), { canary: canary({ header: 'X-Canary', headerValue: 'beta', cookie: 'c' }) }));
    expect(served(exchange(w, [{ headers: [['X-Canary', 'beta']] }, { headers: [['X-Canary', 'always']] }, { headers: [['Cookie', 'a=1; c=always']] }]))).toEqual(['web-2', 'web-0', 'web-2']);
    const w2 = world();
    w2.proxy.setTable(table(ups(), { canary: canary({ weight: 100 }) }));
    expect(served(exchange(w2, [{}, {}]))).toEqual(['web-2', 'web-2']);
  });

  it('canary weight 30 of 100 sends about 30% of 400 requests to the canary', () => {
    const w = world();
    w.proxy.setTable(table(ups(), { canary: canary({ weight: 30 }) }));
    const n = served(exchange(w, Array.from({ length: 400 }, () => ({})))).filter((s) => s === 'web-2').length;
    expect(n).toBeGreaterThan(90);
    expect(n).toBeLessThan(150);
  });

  it('affinity cookie: the first response sets INGRESSCOOKIE, requests carrying it stay on that pod', () => {
    const w = world();
    w.proxy.setTable(table([upstream('web', PODS, { affinity: { cookieName: 'INGRESSCOOKIE', path: '/' } })]));
    const [first] = exchange(w, [{}]);
    const cookie = httpHeader(first!.headers, 'set-cookie')!;
    expect(cookie).toMatch(/^INGRESSCOOKIE=[0-9a-f]{16}; Path=\/; HttpOnly$/);
    const v = cookie.split(';')[0]!;
    const rs = exchange(w, Array.from({ length: 6 }, () => ({ headers: [['Cookie', v]] as HttpHeader[] })));
    expect(new Set(served(rs))).toEqual(new Set([httpHeader(first!.headers, 'x-served-by')]));
  });

  it('upstream-hash-by $request_uri: one URI → one pod; 30 URIs use every pod (e2e upstreamhashby.go)', () => {
    const w = world();
    w.proxy.setTable(table([upstream('web', PODS, { hashBy: '$request_uri' })]));
    expect(new Set(served(exchange(w, Array.from({ length: 10 }, () => ({ path: '/same' }))))).size).toBe(1);
    expect(new Set(served(exchange(w, Array.from({ length: 30 }, (_, i) => ({ path: `/u${i}` }))))).size).toBe(3);
  });

  it('ewma: a slow pod gets fewer requests than the fast ones', () => {
    const w = world({ listen: [0, 1] });
    new HttpServer(w.tcps[2]!, { port: 8080, identity: 'web-2', serviceTime: { kind: 'constant', value: 50e6 } });
    w.proxy.setTable(table([upstream('web', PODS, { loadBalance: 'ewma' })]));
    const names = served(exchange(w, Array.from({ length: 60 }, () => ({}))));
    const slow = names.filter((n) => n === 'web-2').length;
    expect(slow).toBeLessThan(10);
    expect(names.length).toBe(60);
  });
});

describe('L7Proxy: backends sync (BACKENDS_SYNC_INTERVAL 1 s)', () => {
  it('a new table takes effect at the next sync tick, not at once', () => {
    const w = world();
    w.proxy.setTable(table([upstream('web', [PODS[0]!])]));
    w.sim.run({ until: 1.5 * SEC });
    w.proxy.setTable(table([upstream('web', [PODS[1]!])]));
    expect(served(exchange(w, [{}]))[0]).toBe('web-0');
    w.sim.run({ until: 2.1 * SEC });
    expect(served(exchange(w, [{}]))[0]).toBe('web-1');
  });
});

describe('L7Proxy wire bytes', () => {
  it('the response to the client is HTTP/1.1 with Date, Content-Length and Connection: keep-alive, and the pod\'s X-Served-By', () => {
    const w = world();
    w.proxy.setTable(table([upstream('web', PODS)]));
    exchange(w, [{}]);
    const bytes = concat(w.net.log.filter((r) => r.from === 'proxy' && r.pkt.ip!.dst === ip('10.0.0.1') && r.pkt.payload !== null).map((r) => r.pkt.payload!));
    const m = parseHttpMessage(bytes, 'response') as HttpResponse;
    expect(m.headers.map((h) => h[0])).toEqual(['Date', 'Content-Type', 'Content-Length', 'Connection', 'X-Served-By']);
    // The simulated clock counts from 1970-01-01 (no wall clock): the request ran at about 0 s.
    expect(httpHeader(m.headers, 'date')).toMatch(/^Thu, 01 Jan 1970 00:00:0\d GMT$/);
    expect(httpHeader(m.headers, 'connection')).toBe('keep-alive');
  });
});

describe('L7Proxy: TLS termination on 443 (app/tls; certificate.lua SNI selection)', () => {
  function tlsWorld() {
    const w = world();
    const proxy = new L7Proxy(new TcpLayer(w.net.addHost('proxy-tls', '10.0.0.11')), { port: 80, httpsPort: 443, identity: 'ingress-nginx-controller-1' });
    const log: AccessLogEntry[] = [];
    proxy.onAccessLog = (e) => log.push(e);
    const chain = certificateChain('rsa2048', 2);
    const wild = certificateChain('p256', 2);
    proxy.setTable({ ...table([upstream('web', PODS)]), certificate: (h) => (h === 'web' ? chain : h === '*.example.com' ? wild : undefined) });
    return { w, proxy, log, chain, wild };
  }
  const get = (w: ReturnType<typeof world>, host: string, cb: (r: HttpResult) => void) =>
    new HttpClient(w.tc, { keepAlive: false }).request({ addr: ip('10.0.0.11'), port: 443, host, path: '/', tls: true }, 5 * SEC, cb);

  it('terminates TLS: the SNI picks the host\'s chain, the pod gets plain HTTP with X-Forwarded-Proto https and port 443, the client HSTS', () => {
    const { w, log, chain } = tlsWorld();
    let res: HttpResult | null = null;
    get(w, 'web', (r) => (res = r));
    w.sim.run();
    expect(res!.status).toBe(200);
    expect(res!.tls).toBeGreaterThan(0);
    expect(httpHeader(res!.response!.headers, 'strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    expect(log[0]!.sent!.headers).toEqual(expect.arrayContaining([['X-Forwarded-Proto', 'https'], ['X-Forwarded-Port', '443'], ['X-Scheme', 'https']]));
    // The Certificate message on the wire has the chain's size: the server's flight carries a record of
    // 1 + 3 + Σ(3 + DER + 2) + 4 (handshake header) + 17 (inner type + tag) bytes.
    const certRecord = 4 + 1 + 3 + chain.derSizes.reduce((a, d) => a + 3 + d + 2, 0) + 17;
    const fromProxy = concat(w.net.log.filter((r) => r.from === 'proxy-tls' && r.pkt.ip!.dst === ip('10.0.0.1') && r.pkt.payload !== null).map((r) => r.pkt.payload!));
    expect(recordLengths(fromProxy)).toContain(certRecord);
  });

  it('a one-label wildcard TLS host covers a.example.com, not a.b.example.com; an unknown SNI gets the fake certificate', () => {
    const sizes: Record<string, number[]> = {};
    for (const host of ['a.example.com', 'a.b.example.com', 'unknown']) {
      const { w } = tlsWorld();
      get(w, host, () => {});
      w.sim.run();
      sizes[host] = recordLengths(concat(w.net.log.filter((r) => r.from === 'proxy-tls' && r.pkt.ip!.dst === ip('10.0.0.1') && r.pkt.payload !== null).map((r) => r.pkt.payload!)));
    }
    const cert = (c: { derSizes: readonly number[] }) => 4 + 1 + 3 + c.derSizes.reduce((a, d) => a + 3 + d + 2, 0) + 17;
    expect(sizes['a.example.com']).toContain(cert(certificateChain('p256', 2)));
    expect(sizes['a.b.example.com']).toContain(cert(FAKE_CERTIFICATE));
    expect(sizes['unknown']).toContain(cert(FAKE_CERTIFICATE));
  });
});

/** TLS record lengths in a byte stream (5-byte headers: type, version, length). */
function recordLengths(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let o = 0; o + 5 <= b.length; ) {
    const len = (b[o + 3]! << 8) | b[o + 4]!;
    out.push(len);
    o += 5 + len;
  }
  return out;
}
