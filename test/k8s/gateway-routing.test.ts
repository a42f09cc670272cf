// HTTPRoute routing as the Gateway API conformance suite checks it (conformance/tests/httproute-*.go),
// against the table NGINX Gateway Fabric's controller builds from the store: matching and its
// precedence, hostnames, filters (redirect, rewrite, header modifier), weighted and invalid backends,
// cross-namespace references. Each case is the request the conformance test sends and where it must go.
import { describe, expect, it } from 'vitest';
import { pickWeighted } from '../../src/app/l7-balancer.js';
import { applyHeaderModifier } from '../../src/app/l7-headers.js';
import { comparePrecedence, compileMatch, intersectHostnames, modifyPath } from '../../src/k8s/gateway/match.js';
import type { HttpRouteSpec } from '../../src/k8s/gateway/api.js';
import { build, conditionsOf, decide, gateway, head, route, where } from './gateway-helpers.js';

describe('httproute-matching, httproute-matching-across-routes: the precedence across all rules', () => {
  const w = build(
    head() +
      gateway() +
      route(
        'matching',
        `  rules:
    - matches: [{ path: { type: PathPrefix, value: / } }]
      backendRefs: [{ name: web, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /v2 } }]
      backendRefs: [{ name: v2, port: 80 }]
    - matches: [{ path: { type: Exact, value: /v2/example } }]
      backendRefs: [{ name: v1, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /v2 }, method: POST }]
      backendRefs: [{ name: api, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /v2 }, headers: [{ name: version, value: two }] }]
      backendRefs: [{ name: v1, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /v2 }, headers: [{ name: version, value: two }], queryParams: [{ name: q, value: x }] }]
      backendRefs: [{ name: api, port: 80 }]
`,
      ),
  );
  it.each([
    ['/', {}, 'default_web_80'],
    ['/example', {}, 'default_web_80'],
    ['/v2', {}, 'default_v2_80'],
    ['/v2/', {}, 'default_v2_80'],
    ['/v2example', {}, 'default_web_80'],
    ['/v2/example', {}, 'default_v1_80'],
    ['/v2/example?x=1', { method: 'POST' }, 'default_v1_80'],
    ['/v2/foo', { method: 'POST' }, 'default_api_80'],
    ['/v2/foo', { headers: { version: 'two' } }, 'default_v1_80'],
    ['/v2/foo?q=x', { headers: { Version: 'two' } }, 'default_api_80'],
    ['/v2/foo?q=y', { headers: { version: 'two' } }, 'default_v1_80'],
    ['/v2/foo', { method: 'POST', headers: { version: 'two' } }, 'default_api_80'],
  ] as const)('%s %j → %s', (uri, o, want) => {
    expect(where(decide(w, 'any.example.com', uri, o))).toBe(want);
  });

  it('across routes: the same match in two routes goes to the older one (creation order), then by namespace/name', () => {
    const w2 = build(head() + gateway() + route('b-new', `  rules: [{ matches: [{ path: { type: PathPrefix, value: /x } }], backendRefs: [{ name: v2, port: 80 }] }]\n`) + route('a-later', `  rules: [{ matches: [{ path: { type: PathPrefix, value: /x } }], backendRefs: [{ name: v1, port: 80 }] }]\n`));
    expect(where(decide(w2, 'h', '/x/1'))).toBe('default_v2_80');
    const a = { namespace: 'default', name: 'a', order: 0, parentRefs: [], hostnames: [], rules: [{ matches: [{ path: { type: 'PathPrefix' as const, value: '/' }, headers: [], queryParams: [], method: null }], filters: [], backendRefs: [] }] } satisfies HttpRouteSpec;
    expect(comparePrecedence(compileMatch({ ...a, name: 'b' }, 0, 0), compileMatch(a, 0, 0))).toBeGreaterThan(0);
  });

  it('RegularExpression: NGF runs it as an nginx regex location, after Exact, before any prefix', () => {
    const w3 = build(head() + gateway() + route('re', `  rules:\n    - { matches: [{ path: { type: RegularExpression, value: "^/img/.*\\\\.png$" } }], backendRefs: [{ name: v1, port: 80 }] }\n    - { matches: [{ path: { type: PathPrefix, value: /img } }], backendRefs: [{ name: v2, port: 80 }] }\n`));
    expect(where(decide(w3, 'h', '/img/a.png'))).toBe('default_v1_80');
    expect(where(decide(w3, 'h', '/img/a.jpg'))).toBe('default_v2_80');
  });
});

describe('httproute-header-matching, httproute-query-param-matching, httproute-method-matching', () => {
  const w = build(
    head() +
      gateway() +
      route(
        'm',
        `  rules:
    - matches: [{ headers: [{ name: version, value: one }] }]
      backendRefs: [{ name: v1, port: 80 }]
    - matches: [{ headers: [{ type: RegularExpression, name: color, value: "^(red|blue)$" }] }]
      backendRefs: [{ name: v2, port: 80 }]
    - matches: [{ queryParams: [{ name: animal, value: whale }] }]
      backendRefs: [{ name: api, port: 80 }]
    - matches: [{ method: DELETE }]
      backendRefs: [{ name: web, port: 80 }]
`,
      ),
  );
  it.each([
    ['/', { headers: { Version: 'one' } }, 'default_v1_80'],
    ['/', { headers: { version: 'One' } }, '404'],
    ['/', { headers: { color: 'blue' } }, 'default_v2_80'],
    ['/', { headers: { color: 'green' } }, '404'],
    ['/?animal=whale', {}, 'default_api_80'],
    ['/?animal=dolphin', {}, '404'],
    ['/?ANIMAL=whale', {}, '404'],
    ['/', { method: 'DELETE' }, 'default_web_80'],
    ['/', { method: 'GET' }, '404'],
  ] as const)('%s %j → %s', (uri, o, want) => {
    expect(where(decide(w, 'h', uri, o))).toBe(want);
  });
});

describe('hostnames: httproute-hostname-intersection, httproute-listener-hostname-matching', () => {
  it('intersection of a listener hostname with the route hostnames: the more specific of each pair', () => {
    expect(intersectHostnames(null, [])).toEqual(['*']);
    expect(intersectHostnames('*.example.com', [])).toEqual(['*.example.com']);
    expect(intersectHostnames('*.example.com', ['foo.example.com', 'bar.other.org', '*.sub.example.com'])).toEqual(['foo.example.com', '*.sub.example.com']);
    expect(intersectHostnames('foo.example.com', ['*.example.com'])).toEqual(['foo.example.com']);
    expect(intersectHostnames('foo.example.com', ['*.other.com', 'example.com'])).toEqual([]);
  });
  it('a route whose hostnames miss the listener is not accepted (NoMatchingListenerHostname) and gets no traffic; an exact host wins over the wildcard server', () => {
    const w = build(head() + gateway('*.example.com') + route('miss', '  hostnames: [foo.other.org]\n  rules: [{ backendRefs: [{ name: v1, port: 80 }] }]\n') + route('wild', '  rules: [{ backendRefs: [{ name: v2, port: 80 }] }]\n') + route('exact', '  hostnames: [a.example.com]\n  rules: [{ matches: [{ path: { type: Exact, value: /only } }], backendRefs: [{ name: web, port: 80 }] }]\n'));
    expect(conditionsOf(w, 'HTTPRoute/default/miss')).toEqual(['Accepted False NoMatchingListenerHostname', 'ResolvedRefs True ResolvedRefs']);
    expect(where(decide(w, 'foo.other.org', '/'))).toBe('404');
    expect(where(decide(w, 'b.c.example.com', '/'))).toBe('default_v2_80');
    expect(where(decide(w, 'a.example.com:80', '/only'))).toBe('default_web_80');
    expect(where(decide(w, 'A.example.com', '/other'))).toBe('404');
    expect(where(decide(w, 'example.com', '/'))).toBe('404');
  });
});

describe('filters', () => {
  const w = build(
    head() +
      gateway(undefined, '    - { name: alt, port: 8080, protocol: HTTP }\n') +
      route(
        'f',
        `  rules:
    - matches: [{ path: { value: /scheme } }]
      filters: [{ type: RequestRedirect, requestRedirect: { scheme: https } }]
    - matches: [{ path: { value: /host } }]
      filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org, statusCode: 301 } }]
    - matches: [{ path: { value: /port } }]
      filters: [{ type: RequestRedirect, requestRedirect: { port: 8083 } }]
    - matches: [{ path: { value: /prefix } }]
      filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /new } } }]
    - matches: [{ path: { value: /full } }]
      filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplaceFullPath, replaceFullPath: /one } } }]
    - matches: [{ path: { value: /rewrite } }]
      filters: [{ type: URLRewrite, urlRewrite: { hostname: internal.example, path: { type: ReplacePrefixMatch, replacePrefixMatch: / } } }]
      backendRefs: [{ name: v1, port: 80 }]
    - matches: [{ path: { value: /hdr } }]
      filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: X-Set, value: s }], add: [{ name: X-Add, value: a }], remove: [X-Gone] } }]
      backendRefs: [{ name: v2, port: 80 }]
`,
      ),
  );
  it.each([
    // httproute-request-redirect / httproute-redirect-scheme / -host-and-status / -port / -path
    ['/scheme/x?a=1', 80, '302 https://h.example/scheme/x?a=1'],
    ['/host', 80, '301 http://example.org/host'],
    ['/host', 8080, '301 http://example.org:8080/host'],
    ['/port', 80, '302 http://h.example:8083/port'],
    ['/prefix/a/b', 80, '302 http://h.example/new/a/b'],
    ['/prefix', 80, '302 http://h.example/new'],
    ['/full/x', 80, '302 http://h.example/one'],
  ] as const)('redirect %s on :%d → %s', (uri, port, want) => {
    expect(where(decide(w, 'h.example', uri, { port }))).toBe(want);
  });
  it('URLRewrite: the path after the prefix, and the Host header sent to the pod (httproute-rewrite-path, -host)', () => {
    const d = decide(w, 'h.example', '/rewrite/x/y?q=1');
    expect(d.kind === 'proxy' && [d.uri, d.route.hostRewrite]).toEqual(['/x/y?q=1', 'internal.example']);
    const root = decide(w, 'h.example', '/rewrite');
    expect(root.kind === 'proxy' && root.uri).toBe('/');
    expect(modifyPath({ type: 'ReplacePrefixMatch', value: '/one' }, '/prefix/one/two', '/prefix')).toBe('/one/one/two');
    expect(modifyPath({ type: 'ReplacePrefixMatch', value: '/one/' }, '/prefix/', '/prefix')).toBe('/one/');
  });
  it('RequestHeaderModifier: set replaces, add appends (comma-joined), remove drops, names case-insensitive (httproute-request-header-modifier)', () => {
    const d = decide(w, 'h.example', '/hdr');
    expect(d.kind).toBe('proxy');
    const mod = d.kind === 'proxy' ? d.route.headerModifier! : null;
    expect(applyHeaderModifier([['x-set', 'old'], ['X-ADD', 'first'], ['x-gone', '1'], ['Keep', 'k']], mod!)).toEqual([['X-ADD', 'first,a'], ['Keep', 'k'], ['X-Set', 's']]);
    expect(applyHeaderModifier([], mod!)).toEqual([['X-Set', 's'], ['X-Add', 'a']]);
  });
});

describe('backends: httproute-weight, httproute-invalid-backendref-*, httproute-invalid-cross-namespace-backend-ref, httproute-reference-grant', () => {
  const grant = `---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: allow, namespace: other }
spec:
  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default }]
  to: [{ group: "", kind: Service, name: remote }]
`;
  const body = `  rules:
    - matches: [{ path: { value: /split } }]
      backendRefs: [{ name: v1, port: 80, weight: 70 }, { name: v2, port: 80, weight: 30 }, { name: api, port: 80, weight: 0 }]
    - matches: [{ path: { value: /zero } }]
      backendRefs: [{ name: v1, port: 80, weight: 0 }]
    - matches: [{ path: { value: /none } }]
    - matches: [{ path: { value: /missing } }]
      backendRefs: [{ name: nosuch, port: 80 }]
    - matches: [{ path: { value: /half } }]
      backendRefs: [{ name: nosuch, port: 80 }, { name: v1, port: 80 }]
    - matches: [{ path: { value: /badport } }]
      backendRefs: [{ name: v1, port: 81 }]
    - matches: [{ path: { value: /remote } }]
      backendRefs: [{ name: remote, namespace: other, port: 80 }]
`;
  it('weights: one draw per request over the non-zero weights; weight 0 is never chosen', () => {
    const w = build(head() + gateway() + route('b', body));
    expect(where(decide(w, 'h', '/split'))).toBe('split default_v1_80:70,default_v2_80:30');
    const split = [{ upstream: 'a', weight: 70 }, { upstream: 'b', weight: 0 }, { upstream: 'c', weight: 30 }];
    const n = new Map<string | null, number>();
    for (let draw = 0; draw < 100; draw++) n.set(pickWeighted(split, draw), (n.get(pickWeighted(split, draw)) ?? 0) + 1);
    expect([...n]).toEqual([['a', 70], ['c', 30]]);
  });
  it('no valid backend: 500 (all weights 0, no backendRefs, a missing Service, a port the Service lacks); an invalid ref keeps its share (500 for it)', () => {
    const w = build(head() + gateway() + route('b', body));
    for (const p of ['/zero', '/none', '/missing', '/badport', '/remote']) expect(where(decide(w, 'h', p)), p).toBe('500');
    expect(where(decide(w, 'h', '/half'))).toBe('split null:1,default_v1_80:1');
    expect(conditionsOf(w, 'HTTPRoute/default/b')).toEqual(['Accepted True Accepted', 'ResolvedRefs False BackendNotFound']);
  });
  it('a cross-namespace backendRef needs a ReferenceGrant in the Service\'s namespace (RefNotPermitted without it)', () => {
    const remote = '  rules: [{ backendRefs: [{ name: remote, namespace: other, port: 80 }] }]\n';
    const without = build(head() + gateway() + route('x', remote));
    expect(conditionsOf(without, 'HTTPRoute/default/x')).toEqual(['Accepted True Accepted', 'ResolvedRefs False RefNotPermitted']);
    expect(where(decide(without, 'h', '/'))).toBe('500');
    const granted = build(head() + gateway() + route('x', remote) + grant);
    expect(conditionsOf(granted, 'HTTPRoute/default/x')).toEqual(['Accepted True Accepted', 'ResolvedRefs True ResolvedRefs']);
    expect(where(decide(granted, 'h', '/'))).toBe('other_remote_80');
  });
});
