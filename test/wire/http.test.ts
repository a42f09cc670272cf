import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/wire/error.js';
import {
  buildHttpRequest, buildHttpResponse, encodeHttpMessage, hashBytes, httpHeader, HttpHeadCache, HttpParser, parseHttpMessage, sealHttpBytes, type HttpRequest, type HttpResponse,
} from '../../src/wire/http.js';

const dec = new TextDecoder();
const enc = new TextEncoder();

describe('http', () => {
  const reqBytes = buildHttpRequest({ method: 'GET', target: '/healthz', headers: [['Host', 'web.default.svc'], ['User-Agent', 'curl/8.5.0'], ['Accept', '*/*']] });
  const resBytes = buildHttpResponse({ status: 200, headers: [['Content-Type', 'text/plain']], body: 'ok\n' });

  it('encode: builders produce the bytes curl and a server send', () => {
    expect(dec.decode(reqBytes)).toBe('GET /healthz HTTP/1.1\r\nHost: web.default.svc\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n');
    expect(dec.decode(resBytes)).toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n');
    expect(dec.decode(buildHttpRequest({ method: 'POST', target: '/', headers: [['Host', 'x']] }))).toContain('Content-Length: 0\r\n');
    expect(dec.decode(buildHttpResponse({ status: 204 }))).toBe('HTTP/1.1 204 No Content\r\n\r\n');
    expect(dec.decode(buildHttpResponse({ status: 503, body: 'x', headers: [['Content-Length', '1']] }))).toBe('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 1\r\n\r\nx');
  });
  it('decode: request and response', () => {
    const req = parseHttpMessage(reqBytes, 'request') as HttpRequest;
    expect(req).toMatchObject({ kind: 'request', method: 'GET', target: '/healthz', version: 'HTTP/1.1' });
    expect(httpHeader(req.headers, 'user-agent')).toBe('curl/8.5.0');
    expect(req.body.length).toBe(0);
    const res = parseHttpMessage(resBytes, 'response');
    expect(res).toMatchObject({ kind: 'response', status: 200, reason: 'OK' });
    expect(dec.decode(res.body)).toBe('ok\n');
  });
  it('round trip', () => {
    for (const [b, k] of [[reqBytes, 'request'], [resBytes, 'response']] as const) {
      expect(dec.decode(encodeHttpMessage(parseHttpMessage(b, k)))).toBe(dec.decode(b));
    }
  });
  it('incremental: finds message boundaries by Content-Length, byte by byte and pipelined', () => {
    const two = new Uint8Array([...resBytes, ...buildHttpResponse({ status: 404, body: 'not found' })]);
    const p = new HttpParser('response');
    const got: string[] = [];
    for (let i = 0; i < two.length; i++) for (const m of p.push(two.subarray(i, i + 1))) got.push(`${m.kind === 'response' ? m.status : ''}:${dec.decode(m.body)}`);
    expect(got).toEqual(['200:ok\n', '404:not found']);
    expect(p.pending).toBe(0);
    expect(p.bytesConsumed).toBe(two.length);
    const q = new HttpParser('response');
    expect(q.push(two).length).toBe(2);
    // A body split across pushes, and a partial next head left pending.
    const r = new HttpParser('request');
    const post = buildHttpRequest({ method: 'POST', target: '/api', headers: [['Host', 'a']], body: 'x'.repeat(5000) });
    expect(r.push(post.subarray(0, 100))).toEqual([]);
    expect(r.push(new Uint8Array([...post.subarray(100), ...reqBytes.subarray(0, 10)])).length).toBe(1);
    expect(r.pending).toBe(10);
    expect(r.push(reqBytes.subarray(10)).map((m) => (m as HttpRequest).target)).toEqual(['/healthz']);
  });
  it('incremental: every two-piece split of a pipelined stream gives the messages of the whole, and bodies do not alias the pushed bytes', () => {
    const third = buildHttpResponse({ status: 500, headers: [['X-Served-By', 'web-1']], body: 'boom' });
    const stream = new Uint8Array([...resBytes, ...buildHttpResponse({ status: 404, body: 'not found' }), ...third]);
    const show = (ms: ReturnType<HttpParser['push']>): string[] => ms.map((m) => `${m.kind === 'response' ? m.status : ''}:${httpHeader(m.headers, 'x-served-by') ?? ''}:${dec.decode(m.body)}`);
    const want = ['200::ok\n', '404::not found', '500:web-1:boom'];
    for (let cut = 0; cut <= stream.length; cut++) {
      const p = new HttpParser('response');
      const a = stream.slice(0, cut);
      const b = stream.slice(cut);
      const first = p.push(a);
      a.fill(0); // the caller may reuse its buffer: parsed bodies and buffered bytes must be copies
      const got = [...show(first), ...show(p.push(b))];
      expect(got, `cut at ${cut}`).toEqual(want);
      expect(p.pending).toBe(0);
      expect(p.bytesConsumed).toBe(stream.length);
    }
  });
  it('HEAD responses and 304 have no body', () => {
    const p = new HttpParser('response');
    p.expectHeadResponse();
    const head = enc.encode('HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n');
    const next = buildHttpResponse({ status: 304 });
    const msgs = p.push(new Uint8Array([...head, ...next, ...resBytes]));
    expect(msgs.map((m) => (m.kind === 'response' ? m.status : 0))).toEqual([200, 304, 200]);
    expect(dec.decode(msgs[2]!.body)).toBe('ok\n');
  });
  it('rejects truncated input', () => {
    expect(() => parseHttpMessage(resBytes.subarray(0, resBytes.length - 1), 'response')).toThrow(WireError);
    expect(() => parseHttpMessage(reqBytes.subarray(0, 10), 'request')).toThrow(/expected one complete/);
    const bad = (s: string, k: 'request' | 'response') => () => new HttpParser(k).push(enc.encode(s));
    expect(bad('GET /\r\n\r\n', 'request')).toThrow(/request line/);
    expect(bad('HTTP/1.1 200 OK\r\n\r\n', 'response')).toThrow(/Content-Length/);
    expect(bad('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'response')).toThrow(/not modelled/);
    expect(bad('POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 'request')).toThrow(/conflicting/);
    expect(bad('GET / HTTP/1.1\r\nbad header\r\n\r\n', 'request')).toThrow(/header line/);
  });

  it('a head seen before parses to the same message as a fresh parse, as its own objects; heads one byte apart and more heads than the memo holds stay distinct', () => {
    const heads = ['/a', '/b', '/c', '/d', '/e', '/a', '/e', '/b'].map((t) => buildHttpRequest({ method: 'GET', target: t, headers: [['Host', 'h'], ['X-N', t]] }));
    const first = new Map<string, { snap: HttpRequest; obj: HttpRequest }>();
    for (const h of heads) {
      const m = parseHttpMessage(h, 'request') as HttpRequest;
      expect(m.target).toBe(httpHeader(m.headers, 'x-n'));
      const before = first.get(m.target);
      if (before !== undefined) {
        expect(m).toEqual(before.snap);
        expect(m).not.toBe(before.obj);
        expect(m.headers).not.toBe(before.obj.headers);
        expect(m.headers[1]).not.toBe(before.obj.headers[1]);
      } else first.set(m.target, { snap: structuredClone(m), obj: m });
      // A caller's change to a returned message does not reach the next parse of the same bytes.
      m.headers[0]![1] = 'changed';
      m.headers.push(['Extra', '1']);
    }
    const again = parseHttpMessage(heads[0]!, 'request') as HttpRequest;
    expect(again.headers).toEqual([['Host', 'h'], ['X-N', '/a']]);
    // Same length, one byte apart (status 200 vs 201, and Content-Length 3 vs 4 with the body).
    const r200 = parseHttpMessage(buildHttpResponse({ status: 200, reason: 'OK', body: 'abc' }), 'response');
    const r201 = parseHttpMessage(buildHttpResponse({ status: 201, reason: 'OK', body: 'abc' }), 'response');
    const r200b = parseHttpMessage(buildHttpResponse({ status: 200, reason: 'OK', body: 'abc' }), 'response');
    expect(r200.kind === 'response' && r200.status).toBe(200);
    expect(r201.kind === 'response' && r201.status).toBe(201);
    expect(r200b).toEqual(r200);
    const p = new HttpParser('response');
    const two = p.push(enc.encode('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd'));
    expect(two.map((m) => dec.decode(m.body))).toEqual(['abc', 'abcd']);
    const again2 = p.push(enc.encode('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz'));
    expect(again2.map((m) => dec.decode(m.body))).toEqual(['xyz']);
  });

  it('heads of hundreds of flows and pods, heads sharing a memo hash, and more heads than the memo holds each parse to their own message', () => {
    const req = (svc: number): Uint8Array => buildHttpRequest({ method: 'GET', target: '/', headers: [['Host', `svc-${svc}`], ['User-Agent', 'podwire']] });
    const res = (pod: number, body: string): Uint8Array =>
      buildHttpResponse({ status: 200, headers: [['X-Served-By', `svc-${pod % 100}-${pod}`]], body });
    // 300 responses and 100 requests, round after round, as one client's flows and their pods send them.
    for (let round = 0; round < 3; round++) {
      for (let pod = 0; pod < 300; pod++) {
        const m = parseHttpMessage(res(pod, `b${pod}`), 'response');
        expect(m.kind === 'response' && httpHeader(m.headers, 'x-served-by')).toBe(`svc-${pod % 100}-${pod}`);
        expect(dec.decode(m.body)).toBe(`b${pod}`);
        if (pod < 100) expect(httpHeader(parseHttpMessage(req(pod), 'request').headers, 'host')).toBe(`svc-${pod}`);
      }
    }
    // Two heads with the same hash (found by search: FNV-1a in 30 bits collides within ~2^15 heads).
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null && i < 1 << 20; i++) {
      const head = `GET /p${i} HTTP/1.1\r\nHost: h\r\n\r\n`;
      const b = enc.encode(head);
      const h = hashBytes(b, 0, b.length);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, head];
      else seen.set(h, head);
    }
    expect(pair).not.toBeNull();
    const [a, b] = pair!.map((x) => enc.encode(x)) as [Uint8Array, Uint8Array];
    expect(hashBytes(a, 0, a.length)).toBe(hashBytes(b, 0, b.length));
    for (let k = 0; k < 4; k++) {
      expect((parseHttpMessage(a, 'request') as HttpRequest).target).toBe(pair![0].split(' ')[1]);
      expect((parseHttpMessage(b, 'request') as HttpRequest).target).toBe(pair![1].split(' ')[1]);
    }
    // Past the memo's size (it starts again): every head still its own.
    for (let i = 0; i < 5000; i++) expect((parseHttpMessage(buildHttpRequest({ method: 'GET', target: `/q${i}` }), 'request') as HttpRequest).target).toBe(`/q${i}`);
    expect((parseHttpMessage(a, 'request') as HttpRequest).target).toBe(pair![0].split(' ')[1]);
  });

  it('finds the end of each head wherever the chunks split, with CR and LF runs in the bodies around it', () => {
    const bodies = ['\r\n\r', '\n\r\n\r\r', 'x\r\r\n\n', '\r\n\r\n'];
    const wire = bodies.map((b) => `HTTP/1.1 200 OK\r\nA: \tv\r\nContent-Length: ${b.length}\r\n\r\n${b}`).join('');
    const bytes = enc.encode(wire);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const p = new HttpParser('response');
      const got = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))];
      expect(got.map((m) => dec.decode(m.body))).toEqual(bodies);
      expect(p.pending).toBe(0);
    }
    // Byte by byte.
    const p = new HttpParser('response');
    const got: string[] = [];
    for (let i = 0; i < bytes.length; i++) for (const m of p.push(bytes.subarray(i, i + 1))) got.push(dec.decode(m.body));
    expect(got).toEqual(bodies);
  });
  it('the head parsed last is recognised at a message start only: a body holding it, heads alternating and a head one byte longer parse as themselves', () => {
    const get = buildHttpRequest({ method: 'GET', target: '/a', headers: [['Host', 'h']] });
    const getLonger = buildHttpRequest({ method: 'GET', target: '/ab', headers: [['Host', 'h']] });
    const post = buildHttpRequest({ method: 'POST', target: '/b', headers: [['Host', 'h']], body: get });
    const stream = new Uint8Array([...get, ...post, ...get, ...getLonger, ...get, ...post]);
    const want = ['GET /a 0', 'POST /b ' + get.length, 'GET /a 0', 'GET /ab 0', 'GET /a 0', 'POST /b ' + get.length];
    for (let cut = 0; cut <= stream.length; cut += 7) {
      const p = new HttpParser('request');
      const got = [...p.push(stream.subarray(0, cut)), ...p.push(stream.subarray(cut))].map((m) => {
        const r = m as HttpRequest;
        return `${r.method} ${r.target} ${r.body.length}`;
      });
      expect(got, `cut at ${cut}`).toEqual(want);
      expect(p.pending).toBe(0);
    }
    const p = new HttpParser('request');
    const [a, b] = p.push(new Uint8Array([...get, ...get]));
    expect(a).not.toBe(b);
    expect(a!.headers).not.toBe(b!.headers);
    expect(dec.decode((p.push(post)[0] as HttpRequest).body)).toBe(dec.decode(get));
  });
  it('an owner\'s head cache: more heads than it keeps, in rotation, and one cache for both kinds, each parse as themselves', () => {
    const cache = new HttpHeadCache();
    const res = (n: number): Uint8Array => buildHttpResponse({ status: 200, headers: [['X-Served-By', `pod-${n}`]], body: `b${n}` });
    const req = buildHttpRequest({ method: 'GET', target: '/', headers: [['Host', 'h']] });
    const got: string[] = [];
    const want: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (let n = 0; n < 6; n++) {
        const r = new HttpParser('response', cache).push(res(n))[0] as HttpResponse;
        got.push(`${httpHeader(r.headers, 'x-served-by')}:${dec.decode(r.body)}`);
        want.push(`pod-${n}:b${n}`);
        // A request parser on the same cache never takes a response head for a request.
        const q = new HttpParser('request', cache).push(req)[0] as HttpRequest;
        got.push(`${q.kind} ${q.method} ${q.target}`);
        want.push('request GET /');
      }
    }
    expect(got).toEqual(want);
    // A response head is refused as a request even when its bytes are in the cache.
    expect(() => new HttpParser('request', cache).push(res(5))).toThrow(WireError);
  });
  it('a shared parser hands out the parsed head itself (frozen) without a body, a new message over the same frozen headers with one', () => {
    const get = buildHttpRequest({ method: 'GET', target: '/s', headers: [['Host', 'shared-test'], ['Connection', 'close']] });
    const p = new HttpParser('request', new HttpHeadCache(), true);
    const [a, b] = p.push(new Uint8Array([...get, ...get])) as HttpRequest[];
    expect(a).toBe(b); // no body: the one parsed head
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a!.headers)).toBe(true);
    expect(Object.isFrozen(a!.headers[0])).toBe(true);
    expect(() => a!.headers.push(['X', 'y'])).toThrow(TypeError);
    expect(a!.target).toBe('/s');
    expect(httpHeader(a!.headers, 'connection')).toBe('close');
    // Another shared parser (another connection) sees the same head object.
    expect(new HttpParser('request', undefined, true).push(get)[0]).toBe(a);
    const res = buildHttpResponse({ status: 200, headers: [['X-Served-By', 'pod-s']], body: 'abc' });
    const q = new HttpParser('response', new HttpHeadCache(), true);
    const [r1, r2] = q.push(new Uint8Array([...res, ...res])) as HttpResponse[];
    expect(r1).not.toBe(r2); // each has its own body
    expect(r1!.headers).toBe(r2!.headers);
    expect(Object.isFrozen(r1!.headers)).toBe(true);
    expect(dec.decode(r1!.body)).toBe('abc');
    expect(dec.decode(r2!.body)).toBe('abc');
    expect(r1!.body).not.toBe(r2!.body);
    // Straight from the pushed chunk: views of it; from the parser's own buffer (a message in pieces): a copy.
    expect(r1!.body.buffer).toBe(r2!.body.buffer);
    expect(q.push(res)[0]!.body.buffer).toBe(res.buffer);
    const q2 = new HttpParser('response', new HttpHeadCache(), true);
    expect(q2.push(res.subarray(0, 10))).toHaveLength(0);
    const pieced = q2.push(res.subarray(10))[0]!;
    expect(dec.decode(pieced.body)).toBe('abc');
    expect(pieced.body.buffer).not.toBe(res.buffer);
    // A parser that is not shared still copies (the caller may change its messages), even after a shared one parsed the head.
    const own = new HttpParser('response').push(res)[0] as HttpResponse;
    expect(own.headers).not.toBe(r1!.headers);
    own.headers.push(['X-Added', '1']);
    expect(httpHeader(r1!.headers, 'x-added')).toBeUndefined();
  });
  it('lastHead, lastStatus and lastBodyLength describe the last message completed: one head entry per head bytes, in pieces or whole, after a HEAD request, across pushes', () => {
    const res = (status: number, by: string, body: string) => buildHttpResponse({ status, headers: [['X-Served-By', by]], body });
    const check = (q: HttpParser, m: HttpResponse) => {
      expect(q.lastStatus).toBe(m.status);
      expect(q.lastBodyLength).toBe(m.body.length);
    };
    const cache = new HttpHeadCache();
    const q = new HttpParser('response', cache, true);
    expect(q.lastHead).toBeNull();
    const a = q.push(res(200, 'pod-a', 'abc'))[0] as HttpResponse;
    check(q, a);
    const headA = q.lastHead;
    expect(headA).not.toBeNull();
    const b = q.push(res(404, 'pod-b', 'hello!'))[0] as HttpResponse;
    check(q, b);
    expect(q.lastStatus).toBe(404);
    expect(q.lastHead).not.toBe(headA);
    // The same head bytes again (another array, in two pieces, another parser of the same owner): the same entry.
    const q2 = new HttpParser('response', cache, true);
    const again = res(200, 'pod-a', 'abc');
    expect(q2.push(again.subarray(0, 7))).toHaveLength(0);
    expect(q2.lastHead).toBeNull();
    const a2 = q2.push(again.subarray(7))[0] as HttpResponse;
    check(q2, a2);
    expect(q2.lastHead).toBe(headA);
    expect(a2.headers).toBe(a.headers);
    // Two in one push: the last one's.
    const two = q.push(new Uint8Array([...res(200, 'pod-a', 'abc'), ...res(500, 'pod-c', 'x')]));
    expect(two).toHaveLength(2);
    check(q, two[1] as HttpResponse);
    expect(q.lastStatus).toBe(500);
    // A HEAD request's response: no body, whatever Content-Length says.
    q.expectHeadResponse();
    const h = q.push(res(200, 'pod-a', 'abc').subarray(0, res(200, 'pod-a', 'abc').length - 3))[0] as HttpResponse;
    expect(h.body.length).toBe(0);
    check(q, h);
    expect(q.lastHead).toBe(headA);
  });
  it('a shared parser: a sealed array met again at the same place is its head without a compare; an unsealed one is compared; a body over the same bytes is the same frozen message, per head', () => {
    const head = (by: string) => buildHttpResponse({ status: 200, headers: [['X-Served-By', by]], body: 'xyz' });
    const cache = new HttpHeadCache();
    const parse = (b: Uint8Array) => new HttpParser('response', cache, true).push(b)[0] as HttpResponse;
    // Sealed: the second push (another connection) finds the head by identity. Writing a sealed array
    // breaks its contract, and shows the bytes are not compared again.
    const sealedBytes = sealHttpBytes(head('pod-a'));
    const a1 = parse(sealedBytes);
    const a2 = parse(sealedBytes);
    expect(httpHeader(a1.headers, 'x-served-by')).toBe('pod-a');
    expect(a2).toBe(a1); // same head over the same bytes: the one frozen message
    expect(Object.isFrozen(a1)).toBe(true);
    const at = dec.decode(sealedBytes).indexOf('pod-a') + 4;
    sealedBytes[at] = 'z'.charCodeAt(0);
    expect(httpHeader(parse(sealedBytes).headers, 'x-served-by')).toBe('pod-a');
    // Two senders' sealed arrays with the same head, alternating (clients at one server): each array remembers its head.
    const s1 = sealHttpBytes(head('pod-e'));
    const s2 = sealHttpBytes(head('pod-e'));
    for (const b of [s1, s2, s1, s2]) expect(httpHeader(parse(b).headers, 'x-served-by')).toBe('pod-e');
    for (const b of [s1, s2]) b[dec.decode(b).indexOf('pod-e') + 4] = 'z'.charCodeAt(0);
    for (const b of [s2, s1]) expect(httpHeader(parse(b).headers, 'x-served-by')).toBe('pod-e');
    // Met once, with a head never seen before (parsed, not found): remembered as well.
    const s0 = sealHttpBytes(head('pod-g'));
    expect(httpHeader(parse(s0).headers, 'x-served-by')).toBe('pod-g');
    s0[dec.decode(s0).indexOf('pod-g') + 4] = 'z'.charCodeAt(0);
    expect(httpHeader(parse(s0).headers, 'x-served-by')).toBe('pod-g');
    // A sealed array first met after its head was parsed from another array (the ring's hit) remembers it too.
    parse(head('pod-f'));
    const s3 = sealHttpBytes(head('pod-f'));
    parse(s3);
    s3[dec.decode(s3).indexOf('pod-f') + 4] = 'z'.charCodeAt(0);
    expect(httpHeader(parse(s3).headers, 'x-served-by')).toBe('pod-f');
    // Unsealed: the same edit is seen (the head is compared), and so is an edited body.
    const plain = head('pod-b');
    const b1 = parse(plain);
    expect(httpHeader(b1.headers, 'x-served-by')).toBe('pod-b');
    plain[dec.decode(plain).indexOf('pod-b') + 4] = 'z'.charCodeAt(0);
    const b2 = parse(plain);
    expect(httpHeader(b2.headers, 'x-served-by')).toBe('pod-z');
    plain[plain.length - 1] = 'Q'.charCodeAt(0);
    expect(dec.decode(parse(plain).body)).toBe('xyQ');
    // Heads alternating (a Service's backends): each keeps its message; another array or offset makes a new one.
    const c = head('pod-c');
    const d = head('pod-d');
    const c1 = parse(c);
    const d1 = parse(d);
    expect(parse(c)).toBe(c1);
    expect(parse(d)).toBe(d1);
    expect(c1).not.toBe(d1);
    const c2 = parse(new Uint8Array(c));
    expect(c2).not.toBe(c1);
    expect(c2.headers).toBe(c1.headers);
    const twice = new Uint8Array([...c, ...c]);
    const [x, y] = new HttpParser('response', cache, true).push(twice) as HttpResponse[];
    expect(x).not.toBe(y);
    expect(dec.decode(y!.body)).toBe('xyz');
    // The head keeps its last bodied message (not the cache): another owner's shared parser gets it too;
    // the same array at another offset makes a new one, which the head keeps from then on.
    const e = sealHttpBytes(head('pod-h'));
    const e1 = parse(e);
    expect(new HttpParser('response', new HttpHeadCache(), true).push(e)[0]).toBe(e1);
    const ee = new Uint8Array([...e, ...e]);
    const [, e2] = new HttpParser('response', cache, true).push(ee) as HttpResponse[];
    expect(e2).not.toBe(e1);
    expect(new HttpParser('response', cache, true).push(ee.subarray(0))[1]).not.toBe(e2); // another array (a view)
    expect(parse(e)).not.toBe(e1);
    expect(dec.decode(parse(e).body)).toBe('xyz');
    expect(parse(e)).toBe(parse(e));
  });

  it('tries the owner’s recent heads once a message, not again at the end of a chunk that ended with one; a message in pieces still completes', () => {
    const res = buildHttpResponse({ status: 200, headers: [['X-Served-By', 'pod-end']], body: 'abc' });
    const cache = new HttpHeadCache();
    let tries = 0;
    const find = cache.find.bind(cache);
    cache.find = (...a: Parameters<HttpHeadCache['find']>) => (tries++, find(...a));
    const p = new HttpParser('response', cache, true);
    expect(p.push(res)).toHaveLength(1);
    expect(tries).toBe(1);
    expect(p.push(new Uint8Array([...res, ...res]))).toHaveLength(2);
    expect(tries).toBe(3);
    expect(p.push(new Uint8Array(0))).toHaveLength(0);
    expect(tries).toBe(3);
    // Split inside the head, then inside the body: tried at each push with bytes, done at the last.
    expect(p.push(res.subarray(0, 5))).toHaveLength(0);
    expect(p.push(res.subarray(5, res.length - 1))).toHaveLength(0);
    const [m] = p.push(res.subarray(res.length - 1)) as HttpResponse[];
    expect(dec.decode(m!.body)).toBe('abc');
    expect(p.pending).toBe(0);
    expect(p.push(res)).toHaveLength(1);
  });

  it('httpHeader matches names case-insensitively as toLowerCase does, beyond ASCII too', () => {
    const hs: [string, string][] = [['X-SERVED-by', 'a'], ['CONNECTION', 'close'], ['\u00c0-Name', 'latin1'], ['X-Servedby', 'no']];
    expect(httpHeader(hs, 'x-served-by')).toBe('a');
    expect(httpHeader(hs, 'X-Served-By')).toBe('a');
    expect(httpHeader(hs, 'connection')).toBe('close');
    expect(httpHeader(hs, '\u00e0-name')).toBe('latin1');
    expect(httpHeader(hs, 'x-served-bz')).toBeUndefined();
    expect(httpHeader(hs, 'connectio')).toBeUndefined();
  });
});
