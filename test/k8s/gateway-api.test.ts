// The Gateway API as the API server admits it (the CRDs' OpenAPI schemas and CEL rules: one file:line:col
// error at the field) and the status NGINX Gateway Fabric's controller writes (GatewayClass, Gateway and
// its listeners, each HTTPRoute's parents), as conformance/tests gateway-*.go and httproute-*.go expect
// the conditions and reasons.
import { describe, expect, it } from 'vitest';
import { formatUserError } from '../../src/scenario/errors.js';
import { build, conditionsOf, decide, errorsOf, gateway, head, route, where } from './gateway-helpers.js';

/** The 1-based line of the first line of `text` containing `needle`. */
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('admission: one error at the field', () => {
  const cases: [string, string, string, string][] = [
    ['tls on an HTTP listener', gateway(undefined, '    - { name: h2, port: 81, protocol: HTTP, tls: { certificateRefs: [{ name: s }] } }\n'), 'name: h2', "spec.listeners[1].tls: tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"],
    ['HTTPS without certificateRefs', gateway(undefined, '    - { name: s, port: 443, protocol: HTTPS }\n'), 'name: s,', 'spec.listeners[1].tls: certificateRefs must be specified when the protocol is HTTPS (tls mode Terminate)'],
    ['two listeners with one name', gateway(undefined, '    - { name: http, port: 81, protocol: HTTP }\n'), 'port: 81', 'spec.listeners[1].name: Listener name must be unique within the Gateway'],
    ['an upper-case hostname', gateway('Foo.example.com'), 'Foo.example', 'spec.listeners[0].hostname: must be a lower-case DNS name, optionally starting with "*." (no IP address, no port)'],
    ['a relative Exact path', gateway() + route('r', '  rules: [{ matches: [{ path: { type: Exact, value: foo } }] }]\n'), 'value: foo', "spec.rules[0].matches[0].path.value: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"],
    ['"//" in a PathPrefix', gateway() + route('r', '  rules: [{ matches: [{ path: { value: /a//b } }] }]\n'), 'value: /a//b', "spec.rules[0].matches[0].path.value: must not contain '//' when type one of ['Exact', 'PathPrefix']"],
    ['a redirect beside backendRefs', gateway() + route('r', '  rules:\n    - filters: [{ type: RequestRedirect, requestRedirect: { scheme: https } }]\n      backendRefs: [{ name: web, port: 80 }]\n'), 'backendRefs: [{ name: web', 'spec.rules[0].backendRefs: RequestRedirect filter must not be used together with backendRefs'],
    ['a weight above 1000000', gateway() + route('r', '  rules: [{ backendRefs: [{ name: web, port: 80, weight: 1000001 }] }]\n'), 'weight: 1000001', 'spec.rules[0].backendRefs[0].weight: at most 1000000, got 1000001'],
    ['a Service backendRef without port', gateway() + route('r', '  rules: [{ backendRefs: [{ name: web }] }]\n'), 'backendRefs: [{ name: web }]', 'spec.rules[0].backendRefs[0].port: Must have port for Service reference'],
    ['status code 304', gateway() + route('r', '  rules: [{ filters: [{ type: RequestRedirect, requestRedirect: { statusCode: 304 } }] }]\n'), 'statusCode: 304', 'spec.rules[0].filters[0].requestRedirect.statusCode: statusCode must be 301, 302, 303, 307 or 308'],
    ['a filter without its field', gateway() + route('r', '  rules: [{ filters: [{ type: URLRewrite }] }]\n'), 'type: URLRewrite', 'spec.rules[0].filters[0].urlRewrite: filter.urlRewrite must be specified for URLRewrite filter.type'],
    ['two refs to one parent without sectionName', gateway() + route('r', '  rules: [{ backendRefs: [{ name: web, port: 80 }] }]\n', '[{ name: gw }, { name: gw }]'), 'parentRefs: [{ name: gw }, { name: gw }]', 'spec.parentRefs[0]: sectionName or port must be specified when parentRefs includes 2 or more references to the same parent'],
    ['ReplacePrefixMatch with an Exact match', gateway() + route('r', '  rules:\n    - matches: [{ path: { type: Exact, value: /a } }]\n      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /b } } }]\n      backendRefs: [{ name: web, port: 80 }]\n'), 'filters: [{ type: URLRewrite, urlRewrite: { path', 'spec.rules[0].filters: When using URLRewrite or RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified'],
  ];
  it.each(cases)('%s', (_, body, needle, message) => {
    const text = head() + body;
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^g\\.yaml:${lineOf(text, needle)}:\\d+: `));
    expect(errors[0]!.replace(/^g\.yaml:\d+:\d+: /, '')).toBe(message);
  });

  it('a Gateway in an unserved version is refused; an Istio Gateway (another group) stays an ignored kind', () => {
    const text = head() + gateway().replace('gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1alpha1');
    expect(errorsOf(text).map((e) => e.replace(/^g\.yaml:\d+:\d+: /, ''))).toEqual(['apiVersion: Gateway is served as gateway.networking.k8s.io/v1 or gateway.networking.k8s.io/v1beta1, not gateway.networking.k8s.io/v1alpha1']);
    const istio = build(head() + '---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: ig }\nspec: { selector: { istio: ingressgateway } }\n');
    expect(istio.warnings.map(formatUserError).some((w) => w.includes('Gateway.networking.istio.io'))).toBe(true);
  });

  it('stored but not served: a warning at the Gateway without a controller, and at a route naming no Gateway', () => {
    const w = build(head(false) + gateway() + route('r', '  rules: [{ backendRefs: [{ name: web, port: 80 }] }]\n', '[{ name: nope }]'));
    const warnings = w.warnings.map((x) => x.message);
    expect(warnings).toContain('Gateway default/gw is stored but not served: no gateway controller runs in this scenario (add spec.cluster.gatewayController)');
    expect(warnings).toContain('HTTPRoute default/r: no Gateway default/nope');
    expect(w.controlPlane!.gateway).toBeNull();
  });
});

const secret = (name: string, type = 'kubernetes.io/tls', ns = 'default') => `---\napiVersion: v1\nkind: Secret\ntype: ${type}\nmetadata: { name: ${name}, namespace: ${ns} }\ndata: {}\n`;
const https = (ref: string) => `    - { name: https, port: 443, protocol: HTTPS, tls: { certificateRefs: [${ref}] } }\n`;

describe('Gateway and listener status (gateway-invalid-tls-configuration, gateway-with-attached-routes, gateway-observed-generation-bump)', () => {
  it('a valid Gateway: GatewayClass Accepted, Gateway Accepted and Programmed, its address the Service\'s ClusterIP (NodePort), attachedRoutes counted', () => {
    const w = build(head() + gateway() + route('r', '  rules: [{ backendRefs: [{ name: web, port: 80 }] }]\n'));
    expect(conditionsOf(w, 'GatewayClass/nginx')).toEqual(['Accepted True Accepted']);
    expect(conditionsOf(w, 'Gateway/default/gw', 'addresses 10.')).toEqual(['Accepted True Accepted', 'Programmed True Programmed']);
    expect(conditionsOf(w, 'Gateway/default/gw', 'listener http (1 routes)')).toEqual(['Accepted True Accepted', 'ResolvedRefs True ResolvedRefs', 'Conflicted False NoConflicts', 'Programmed True Programmed']);
  });
  it.each([
    ['a missing Secret', https('{ name: nosuch }'), '', 'ResolvedRefs False InvalidCertificateRef'],
    ['an Opaque Secret', https('{ name: opaque }'), secret('opaque', 'Opaque'), 'ResolvedRefs False InvalidCertificateRef'],
    ['a Secret in another namespace without a ReferenceGrant', https('{ name: c, namespace: certs }'), secret('c', 'kubernetes.io/tls', 'certs'), 'ResolvedRefs False RefNotPermitted'],
  ])('%s: the HTTPS listener is not programmed, the Gateway Accepted with ListenersNotValid', (_, listener, extra, refs) => {
    const w = build(head() + gateway(undefined, listener) + extra);
    const l = conditionsOf(w, 'Gateway/default/gw', 'listener https');
    expect(l).toContain(refs);
    expect(l).toContain('Programmed False Invalid');
    expect(conditionsOf(w, 'Gateway/default/gw', 'addresses')).toEqual(['Accepted True ListenersNotValid', 'Programmed True Programmed']);
  });
  it('a ReferenceGrant for the Gateway lets the listener use the Secret in another namespace; SNI then selects its chain', () => {
    const grant = '---\napiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: { name: g, namespace: certs }\nspec:\n  from: [{ group: gateway.networking.k8s.io, kind: Gateway, namespace: default }]\n  to: [{ group: "", kind: Secret }]\n';
    const w = build(head() + gateway(undefined, https('{ name: c, namespace: certs }')) + secret('c', 'kubernetes.io/tls', 'certs') + grant);
    expect(conditionsOf(w, 'Gateway/default/gw', 'listener https')).toContain('Programmed True Programmed');
    expect(w.controlPlane!.gateway!.table()!.certificate('*.any')).toBeDefined();
  });
  it('an unsupported protocol and one port with two protocols: UnsupportedProtocol, ProtocolConflict', () => {
    const w = build(head() + gateway(undefined, '    - { name: tcp, port: 5432, protocol: TCP }\n' + https('{ name: t }').replace('443', '80')) + secret('t'));
    expect(conditionsOf(w, 'Gateway/default/gw', 'listener tcp')).toContain('Accepted False UnsupportedProtocol');
    expect(conditionsOf(w, 'Gateway/default/gw', 'listener http ')).toContain('Conflicted True ProtocolConflict');
    expect(conditionsOf(w, 'Gateway/default/gw', 'listener https')).toContain('Conflicted True ProtocolConflict');
    expect(conditionsOf(w, 'Gateway/default/gw', 'addresses')).toEqual(['Accepted False ListenersNotValid', 'Programmed False Invalid']);
  });
  it('NGF 1.x serves one Gateway per class: a second one gets Accepted/Programmed False GatewayConflict and no traffic', () => {
    const second = gateway().replace('name: gw', 'name: gw2');
    const w = build(head() + gateway('a.example.com') + second + route('r', '  rules: [{ backendRefs: [{ name: v2, port: 80 }] }]\n', '[{ name: gw2 }]'));
    expect(conditionsOf(w, 'Gateway/default/gw2')).toEqual(['Accepted False GatewayConflict', 'Programmed False GatewayConflict']);
    expect(conditionsOf(w, 'HTTPRoute/default/r')).toEqual([]);
    expect(where(decide(w, 'b.example.com', '/'))).toBe('404');
  });
});

describe('HTTPRoute parents: httproute-invalid-parentref-not-matching-section-name, -listener-hostname, httproute-disallowed-kind, gateway allowedRoutes', () => {
  it('sectionName naming no listener: Accepted False NoMatchingParent', () => {
    const w = build(head() + gateway() + route('r', '  rules: [{ backendRefs: [{ name: web, port: 80 }] }]\n', '[{ name: gw, sectionName: nope }]'));
    expect(conditionsOf(w, 'HTTPRoute/default/r')).toEqual(['Accepted False NoMatchingParent', 'ResolvedRefs True ResolvedRefs']);
    expect(where(decide(w, 'h', '/'))).toBe('404');
  });
  it('a port selects the listener: the route serves on it only', () => {
    const w = build(head() + gateway(undefined, '    - { name: alt, port: 8080, protocol: HTTP }\n') + route('r', '  rules: [{ backendRefs: [{ name: web, port: 80 }] }]\n', '[{ name: gw, port: 8080 }]'));
    expect(where(decide(w, 'h', '/', { port: 8080 }))).toBe('default_web_80');
    expect(where(decide(w, 'h', '/', { port: 80 }))).toBe('404');
  });
  const other = (from: string) => head() + gateway(undefined, `    - name: any\n      port: 8080\n      protocol: HTTP\n      allowedRoutes: { namespaces: { from: ${from} } }\n`) + '---\napiVersion: v1\nkind: Namespace\nmetadata: { name: other, labels: { team: blue } }\n' + route('r', '  rules: [{ backendRefs: [{ name: remote, port: 80 }] }]\n', '[{ name: gw, namespace: default, sectionName: SECTION }]', 'other');
  it('from Same (the default): a route in another namespace is NotAllowedByListeners', () => {
    const w = build(other('Same').replace('SECTION', 'http'));
    expect(conditionsOf(w, 'HTTPRoute/other/r')).toEqual(['Accepted False NotAllowedByListeners', 'ResolvedRefs True ResolvedRefs']);
  });
  it.each([['All'], ['Selector, selector: { matchLabels: { team: blue } }'], ['Selector, selector: { matchLabels: { kubernetes.io/metadata.name: other } }']])('from %s admits it', (from) => {
    const w = build(other(from).replace('SECTION', 'any'));
    expect(conditionsOf(w, 'HTTPRoute/other/r')).toEqual(['Accepted True Accepted', 'ResolvedRefs True ResolvedRefs']);
    expect(where(decide(w, 'h', '/', { port: 8080 }))).toBe('other_remote_80');
  });
  it('a Selector the namespace\'s labels do not match: NotAllowedByListeners', () => {
    const w = build(other('Selector, selector: { matchLabels: { team: red } }').replace('SECTION', 'any'));
    expect(conditionsOf(w, 'HTTPRoute/other/r')[0]).toBe('Accepted False NotAllowedByListeners');
  });
  it('a backendRef of another kind: ResolvedRefs False InvalidKind, its requests 500', () => {
    const w = build(head() + gateway() + route('r', '  rules: [{ backendRefs: [{ group: example.com, kind: Bucket, name: b }] }]\n'));
    expect(conditionsOf(w, 'HTTPRoute/default/r')).toEqual(['Accepted True Accepted', 'ResolvedRefs False InvalidKind']);
    expect(where(decide(w, 'h', '/'))).toBe('500');
  });
});

describe('unknown and unmodelled fields warn, the object is still served', () => {
  it('a typo gets a did-you-mean, an experimental field "not modelled", both at the field', () => {
    const text = head() + gateway() + route('r', '  hostname: [a.example.com]\n  rules:\n    - backendRefs: [{ name: web, port: 80 }]\n      timeouts: { request: 10s }\n');
    const w = build(text);
    const lines = w.warnings.map(formatUserError).filter((x) => x.includes('spec.'));
    expect(lines).toContain(`g.yaml:${lineOf(text, 'hostname: [a.example')}:13: spec.hostname: unknown field "hostname", ignored: did you mean "hostnames"?`);
    expect(lines).toContain(`g.yaml:${lineOf(text, 'timeouts:')}:17: spec.rules[0].timeouts: field "timeouts" is not modelled by podwire and is ignored`);
    expect(where(decide(w, 'h', '/'))).toBe('default_web_80');
  });
});

describe('listener ports', () => {
  it('a listener on a port the nginx-gateway Service does not expose warns at its port (its routes are still in the table)', () => {
    const text = head() + gateway(undefined, '    - { name: alt, port: 8080, protocol: HTTP }\n');
    const w = build(text);
    expect(w.warnings.map(formatUserError)).toContain(`g.yaml:${lineOf(text, 'port: 8080')}:26: spec.listeners[1].port: listener alt (HTTP on 8080) is programmed but gets no traffic: the nginx-gateway pods listen on 80 (HTTP) and 443 (HTTPS), the ports the chart's Service exposes`);
    expect(w.warnings.map(formatUserError).filter((x) => x.includes('listener http '))).toEqual([]);
  });
});
