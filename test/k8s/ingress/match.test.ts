// Ingress matching as the public suites pin it, each case citing its source:
//   ICC  = kubernetes-sigs/ingress-controller-conformance @f91a799 features/*.feature
//   DOCS = kubernetes/website content/en/docs/concepts/services-networking/ingress.md ("Examples" table
//          under "Path types", the "Hostname wildcards" table, "Name based virtual hosting")
//   NGX  = kubernetes/ingress-nginx test/e2e (file named per case) and docs/user-guide/ingress-path-matching.md
// A case is (Ingresses, Host, path) → the Service that serves it, or 404. ICC's client follows
// redirects (test/http/http.go isRedirect), so a 301 from nginx's auto_redirect counts as the
// location it points to — the one place ingress-nginx differs on the wire from the API's wording.
import { describe, expect, it } from 'vitest';
import { admitIngress, type IngressSpec } from '../../../src/k8s/ingress/api.js';
import { buildRoutingIndex, matchRequest, prefixMatches, wildcardCovers } from '../../../src/k8s/ingress/match.js';
import type { UserError } from '../../../src/core/user-error.js';

let order = 0;
/** An Ingress from a compact v1 spec; `ann` are its annotations. */
function ing(name: string, spec: Record<string, unknown>, ann: Record<string, string> = {}): IngressSpec {
  const errors: UserError[] = [];
  const at = (path: (string | number)[], message: string): UserError => ({ file: 't', line: 1, col: 1, field: path.join('.'), message });
  const r = admitIngress({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, annotations: ann }, spec }, order++, at, errors);
  if (!r) throw new Error(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  return r;
}
const svc = (name: string) => ({ service: { name, port: { number: 8080 } } });
const rule = (host: string | undefined, paths: [string, string, string][]) => ({ ...(host ? { host } : {}), http: { paths: paths.map(([path, pathType, s]) => ({ path, pathType, backend: svc(s) })) } });

/** Which Service serves host+path: its name, or 404; a 301 is followed once, as ICC's client does. */
function serve(ingresses: IngressSpec[], host: string, path: string): string {
  const index = buildRoutingIndex(ingresses);
  let r = matchRequest(index, host, path);
  if (r.kind === 'redirect') r = matchRequest(index, host, r.path);
  if (r.kind === 'redirect') return 'redirect loop';
  const b = r.location.target.backend;
  return b === null ? '404' : b.kind === 'service' ? b.name : `resource ${b.name}`;
}

describe('ICC features/path_rules.feature', () => {
  const pathRules = ing('path-rules', {
    rules: [
      rule('exact-path-rules', [['/foo', 'Exact', 'foo-exact']]),
      rule('prefix-path-rules', [['/foo', 'Prefix', 'foo-prefix'], ['/aaa/bbb', 'Prefix', 'aaa-slash-bbb-prefix'], ['/aaa', 'Prefix', 'aaa-prefix']]),
      rule('mixed-path-rules', [['/foo', 'Prefix', 'foo-prefix'], ['/foo', 'Exact', 'foo-exact']]),
      rule('trailing-slash-path-rules', [['/aaa/bbb/', 'Prefix', 'aaa-slash-bbb-slash-prefix'], ['/foo/', 'Exact', 'foo-slash-exact']]),
    ],
  });
  it.each([
    ['exact /foo matches request /foo', 'exact-path-rules', '/foo', 'foo-exact'],
    ['exact /foo does not match request /foo/', 'exact-path-rules', '/foo/', '404'],
    ['exact /foo does not match request /FOO', 'exact-path-rules', '/FOO', '404'],
    ['exact /foo does not match request /bar', 'exact-path-rules', '/bar', '404'],
    ['prefix /foo matches request /foo', 'prefix-path-rules', '/foo', 'foo-prefix'],
    ['prefix /foo matches request /foo/', 'prefix-path-rules', '/foo/', 'foo-prefix'],
    ['prefix /foo does not match request /FOO', 'prefix-path-rules', '/FOO', '404'],
    ['prefix /aaa/bbb matches request /aaa/bbb', 'prefix-path-rules', '/aaa/bbb', 'aaa-slash-bbb-prefix'],
    ['prefix /aaa/bbb matches request /aaa/bbb/ccc', 'prefix-path-rules', '/aaa/bbb/ccc', 'aaa-slash-bbb-prefix'],
    ['prefix /aaa matches request /aaa/ccc', 'prefix-path-rules', '/aaa/ccc', 'aaa-prefix'],
    ['prefix /aaa does not match request /aaaccc', 'prefix-path-rules', '/aaaccc', '404'],
    ['exact /foo matches request /foo (mixed: Exact preferred)', 'mixed-path-rules', '/foo', 'foo-exact'],
    ['prefix /aaa/bbb/ matches request /aaa/bbb (nginx: 301 to /aaa/bbb/, followed)', 'trailing-slash-path-rules', '/aaa/bbb', 'aaa-slash-bbb-slash-prefix'],
    ['prefix /aaa/bbb/ matches request /aaa/bbb/', 'trailing-slash-path-rules', '/aaa/bbb/', 'aaa-slash-bbb-slash-prefix'],
    ['exact /foo/ does not match request /foo', 'trailing-slash-path-rules', '/foo', '404'],
  ])('%s', (_, host, path, want) => {
    expect(serve([pathRules], host, path)).toBe(want);
  });
  it('the one wire difference: nginx answers /aaa/bbb for Prefix /aaa/bbb/ with a 301 to the slash form', () => {
    expect(matchRequest(buildRoutingIndex([pathRules]), 'trailing-slash-path-rules', '/aaa/bbb')).toEqual({ kind: 'redirect', status: 301, path: '/aaa/bbb/' });
  });
});

describe('ICC features/host_rules.feature', () => {
  const hostRules = ing('host-rules', {
    tls: [{ hosts: ['foo.bar.com'], secretName: 'conformance-tls' }],
    rules: [rule('*.foo.com', [['/', 'Prefix', 'wildcard-foo-com']]), { host: 'foo.bar.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'foo-bar-com', port: { name: 'http' } } } }] } }],
  });
  it.each([
    ['host foo.bar.com matches request foo.bar.com', 'foo.bar.com', 'foo-bar-com'],
    ['host foo.bar.com does not match request subdomain.bar.com', 'subdomain.bar.com', '404'],
    ['wildcard *.foo.com matches bar.foo.com (shared suffix)', 'bar.foo.com', 'wildcard-foo-com'],
    ['wildcard *.foo.com does not match baz.bar.foo.com (one label only)', 'baz.bar.foo.com', '404'],
    ['wildcard *.foo.com does not match foo.com (no label)', 'foo.com', '404'],
  ])('%s', (_, host, want) => {
    expect(serve([hostRules], host, '/')).toBe(want);
  });
  it('the Host header port and case do not matter (nginx server_name lookup)', () => {
    expect(serve([hostRules], 'FOO.bar.com:30080', '/')).toBe('foo-bar-com');
  });
});

describe('ICC features/default_backend.feature', () => {
  const db = ing('default-backend', { defaultBackend: svc('echo-service') });
  it.each([
    ['my-host', '/'],
    ['my-host', '/sub-path'],
    ['some-host', '/'],
    ['', '/resource'],
    ['some-host', '/resource'],
  ])('an Ingress with no rules sends %s%s to the default backend', (host, path) => {
    const index = buildRoutingIndex([db]);
    const r = matchRequest(index, host, path);
    expect(r.kind === 'location' && r.location.target.backend).toEqual({ kind: 'service', name: 'echo-service', port: 8080 });
    // "the request path must be" the path sent: no rewrite.
    expect(r.kind === 'location' && r.uri).toBe(path);
  });
});

describe('DOCS ingress.md: Path types, Examples table', () => {
  // | Kind | Path(s) | Request path(s) | Matches? |
  const cases: [string, [string, string][], string, string | null][] = [
    ['Prefix', [['/', 'Prefix']], '/anything', '/'],
    ['Exact', [['/foo', 'Exact']], '/foo', '/foo'],
    ['Exact', [['/foo', 'Exact']], '/bar', null],
    ['Exact', [['/foo', 'Exact']], '/foo/', null],
    ['Exact', [['/foo/', 'Exact']], '/foo', null],
    ['Prefix', [['/foo', 'Prefix']], '/foo', '/foo'],
    ['Prefix', [['/foo', 'Prefix']], '/foo/', '/foo'],
    ['Prefix', [['/foo/', 'Prefix']], '/foo', '/foo/'],
    ['Prefix', [['/foo/', 'Prefix']], '/foo/', '/foo/'],
    ['Prefix', [['/aaa/bb', 'Prefix']], '/aaa/bbb', null],
    ['Prefix', [['/aaa/bbb', 'Prefix']], '/aaa/bbb', '/aaa/bbb'],
    ['Prefix', [['/aaa/bbb/', 'Prefix']], '/aaa/bbb', '/aaa/bbb/'],
    ['Prefix', [['/aaa/bbb', 'Prefix']], '/aaa/bbb/', '/aaa/bbb'],
    ['Prefix', [['/aaa/bbb', 'Prefix']], '/aaa/bbb/ccc', '/aaa/bbb'],
    ['Prefix', [['/aaa/bbb', 'Prefix']], '/aaa/bbbxyz', null],
    ['Prefix', [['/', 'Prefix'], ['/aaa', 'Prefix']], '/aaa/ccc', '/aaa'],
    ['Prefix', [['/', 'Prefix'], ['/aaa', 'Prefix'], ['/aaa/bbb', 'Prefix']], '/aaa/bbb', '/aaa/bbb'],
    ['Prefix', [['/', 'Prefix'], ['/aaa', 'Prefix'], ['/aaa/bbb', 'Prefix']], '/ccc', '/'],
    ['Prefix', [['/aaa', 'Prefix']], '/ccc', null],
    ['Mixed', [['/foo', 'Prefix'], ['/foo', 'Exact']], '/foo', '/foo Exact'],
  ];
  it.each(cases)('%s %j, request %s → %s', (_, paths, request, want) => {
    // Each path's Service is named after it, so the answer says which path won.
    const i = ing('docs', { rules: [{ host: 'docs', http: { paths: paths.map(([p, t]) => ({ path: p, pathType: t, backend: svc(t === 'Exact' && paths.length > 1 ? `${p} Exact` : p) })) } }] });
    const got = serve([i], 'docs', request);
    expect(got).toBe(want ?? '404');
  });
  it('the element-wise rule itself (prefixMatches), as the table words it', () => {
    expect(prefixMatches('/aaa/bbb', '/aaa/bbbxyz')).toBe(false);
    expect(prefixMatches('/aaa/bbb/', '/aaa/bbb')).toBe(true);
    expect(prefixMatches('/', '/x')).toBe(true);
  });
});

describe('DOCS ingress.md: Hostname wildcards and name based virtual hosting', () => {
  it.each([
    ['*.foo.com', 'bar.foo.com', true],
    ['*.foo.com', 'baz.bar.foo.com', false],
    ['*.foo.com', 'foo.com', false],
  ])('%s vs Host %s → %s', (pattern, host, want) => {
    expect(wildcardCovers(pattern, host)).toBe(want);
  });
  it('first.bar.com → service1, second.foo.com → service2, no Host / another Host → service3 (the host-less rule)', () => {
    const i = ing('name-virtual-host-ingress', { rules: [rule('first.bar.com', [['/', 'Prefix', 'service1']]), rule('second.foo.com', [['/', 'Prefix', 'service2']]), rule(undefined, [['/', 'Prefix', 'service3']])] });
    expect(serve([i], 'first.bar.com', '/')).toBe('service1');
    expect(serve([i], 'second.foo.com', '/')).toBe('service2');
    expect(serve([i], '10.100.11.11', '/')).toBe('service3');
    expect(serve([i], '', '/')).toBe('service3');
  });
  it('simple fanout: foo.bar.com /foo → service1, /bar → service2', () => {
    const i = ing('simple-fanout-example', { rules: [rule('foo.bar.com', [['/foo', 'Prefix', 'service1'], ['/bar', 'Prefix', 'service2']])] });
    expect(serve([i], 'foo.bar.com', '/foo/x')).toBe('service1');
    expect(serve([i], 'foo.bar.com', '/bar')).toBe('service2');
    expect(serve([i], 'foo.bar.com', '/baz')).toBe('404');
  });
});

describe('ingress-nginx specifics', () => {
  it('NGX pathtype_exact.go / pathtype_mixed.go: a later Ingress repeating host + path does not take it over', () => {
    const first = ing('exact', { rules: [rule('exact.path', [['/exact', 'Exact', 'first']])] });
    const second = ing('exact-dup', { rules: [rule('exact.path', [['/exact', 'Exact', 'second']])] });
    expect(serve([second, first], 'exact.path', '/exact')).toBe('first');
  });
  it('NGX pathtype_prefix.go: Prefix /prefixed matches /prefixed/ and /prefixed/x, not /prefixedx', () => {
    const i = ing('prefix', { rules: [rule('prefix.path', [['/prefixed', 'Prefix', 'echo']])] });
    expect(serve([i], 'prefix.path', '/prefixed/')).toBe('echo');
    expect(serve([i], 'prefix.path', '/prefixed/x')).toBe('echo');
    expect(serve([i], 'prefix.path', '/prefixedx')).toBe('404');
  });
  it('NGX location.go: ImplementationSpecific is an nginx string prefix (/foo matches /foobar)', () => {
    const i = ing('impl', { rules: [rule('impl', [['/foo', 'ImplementationSpecific', 'foo']])] });
    expect(serve([i], 'impl', '/foobar')).toBe('foo');
    expect(serve([i], 'impl', '/fo')).toBe('404');
  });
  it('NGX ingress-path-matching.md: use-regex makes every path of the host a case-insensitive regex, longest first', () => {
    const a = ing('regex-a', { rules: [rule('test.com', [['/foo/bar/bar', 'ImplementationSpecific', 'long']])] });
    const b = ing('regex-b', { rules: [rule('test.com', [['/foo/bar/[A-Z0-9]{3}', 'ImplementationSpecific', 'regex']])] }, { 'nginx.ingress.kubernetes.io/use-regex': 'true' });
    // Both are ~* "^…": /foo/bar/bar (12 chars) sorts before /foo/bar/[A-Z0-9]{3} (20)? No: longest first — the regex.
    expect(serve([a, b], 'test.com', '/foo/bar/bar')).toBe('regex');
    expect(serve([a, b], 'test.com', '/FOO/BAR/BAR')).toBe('regex');
  });
  it('NGX ingress-path-matching.md: with regex on, Exact loses its exactness (~* "^/foo")', () => {
    const i = ing('r', { rules: [rule('r', [['/foo', 'Exact', 'foo'], ['/x', 'ImplementationSpecific', 'x']])] }, { 'nginx.ingress.kubernetes.io/use-regex': 'true' });
    expect(serve([i], 'r', '/foobar')).toBe('foo');
  });
  it('NGX annotations/rewrite.go: /foo/bar/(.+) with rewrite-target /new/backend/$1 sends /foo/bar/bar as /new/backend/bar', () => {
    const i = ing('rw', { rules: [rule('rewrite.bar.com', [['/foo/bar/(.+)', 'ImplementationSpecific', 'echo']])] }, { 'nginx.ingress.kubernetes.io/rewrite-target': '/new/backend/$1' });
    const r = matchRequest(buildRoutingIndex([i]), 'rewrite.bar.com', '/foo/bar/bar?x=1');
    expect(r.kind === 'location' && r.uri).toBe('/new/backend/bar?x=1');
  });
  it('NGX defaultbackend/without_host.go, issue #8823: an Ingress defaultBackend with rules serves only its hosts', () => {
    const i = ing('my-ingress', { defaultBackend: svc('other'), rules: [rule('foo.mydomain.com', [['/', 'ImplementationSpecific', 'foo']]), rule('mydomain.com', [['/bar', 'Prefix', 'bar']])] });
    expect(serve([i], 'mydomain.com', '/baz')).toBe('other');
    expect(serve([i], 'mydomain.com', '/bar/x')).toBe('bar');
    expect(serve([i], 'foo.mydomain.com', '/anything')).toBe('foo');
    expect(serve([i], 'unknown.example', '/')).toBe('404');
  });
  it('NGX defaultbackend/default_backend.go: with no Ingress at all, everything is 404 from the default server', () => {
    expect(serve([], 'foo.bar.com', '/')).toBe('404');
  });
  it('NGX servicebackend: a resource backend answers 404 (no upstream)', () => {
    const i = ing('res', { rules: [{ host: 'res', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static-assets' } } }] } }] });
    expect(serve([i], 'res', '/')).toBe('resource static-assets');
  });
});
