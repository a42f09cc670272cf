// k8s/gateway/api — the Gateway API (gateway.networking.k8s.io/v1 GatewayClass, Gateway, HTTPRoute;
// v1beta1 ReferenceGrant) as the API server admits it: the CRDs' OpenAPI schemas and their CEL rules
// (kubernetes-sigs/gateway-api apis/v1: gatewayclass_types.go, gateway_types.go, httproute_types.go,
// shared_types.go), with the defaults they declare (path PathPrefix "/", header/query match type Exact,
// weight 1, redirect statusCode 302, allowedRoutes from Same, parentRef kind Gateway). Layer: k8s
// (imports core). A bad value is one file:line:col error at the field, as the CRD validation refuses it.
// Not modelled: the experimental channel's fields (HTTPRoute timeouts, retries, sessionPersistence,
// CORS, mirror percentages, Gateway infrastructure / addresses), TLSRoute / GRPCRoute / TCPRoute / UDPRoute,
// filters on a backendRef (they are stored and warned about), ExtensionRef and RequestMirror filters.
import { z } from 'zod';
import type { UserError } from '../../core/user-error.js';
import type { ManifestInput } from '../cluster.js';
import { suggestField } from '../manifests.js';
import { DNS1123_SUBDOMAIN } from '../names.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** The apiVersions each kind is served in (v1beta1 GatewayClass/Gateway/HTTPRoute are the same schema). */
export const GATEWAY_API_VERSIONS: Record<string, readonly string[]> = {
  GatewayClass: ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'],
  Gateway: ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'],
  HTTPRoute: ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'],
  ReferenceGrant: ['gateway.networking.k8s.io/v1beta1', 'gateway.networking.k8s.io/v1alpha2'],
};

/** shared_types.go Hostname: a DNS name with an optional "*." first label, no IP, no port. */
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** SectionName (listener names). */
const SECTION_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** HTTPHeaderName. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
/** httproute_types.go: the characters an Exact or PathPrefix value may hold. */
const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;

const Hostname = z.string().min(1).max(253).regex(HOSTNAME, 'must be a lower-case DNS name, optionally starting with "*." (no IP address, no port)');
const Meta = z.looseObject({
  name: z.string().regex(DNS1123_SUBDOMAIN, 'expected a DNS subdomain name (RFC 1123)').max(253),
  namespace: z.string().default('default'),
  labels: z.record(z.string(), z.string()).default({}),
});
const Port = z.number().int().min(1).max(65535);

const GatewayClassV1 = z.looseObject({
  metadata: Meta.omit({ namespace: true }),
  spec: z.looseObject({ controllerName: z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/, 'must be a domain-prefixed path such as example.com/bar') }),
});

const SecretRef = z.looseObject({ group: z.string().default(''), kind: z.string().default('Secret'), name: z.string().min(1), namespace: z.string().optional() });
const Listener = z
  .looseObject({
    name: z.string().min(1).max(253).regex(SECTION_NAME, 'must be a lower-case RFC 1123 label'),
    hostname: Hostname.optional(),
    port: Port,
    protocol: z.string().min(1).max(255),
    tls: z.looseObject({ mode: z.enum(['Terminate', 'Passthrough']).default('Terminate'), certificateRefs: z.array(SecretRef).max(64).default([]) }).optional(),
    allowedRoutes: z
      .looseObject({
        namespaces: z.looseObject({ from: z.enum(['All', 'Same', 'Selector'], { message: 'from must be All, Same or Selector' }).default('Same'), selector: z.looseObject({ matchLabels: z.record(z.string(), z.string()).default({}) }).optional() }).default({ from: 'Same' }),
        kinds: z.array(z.looseObject({ group: z.string().default(GATEWAY_GROUP), kind: z.string().min(1) })).max(8).optional(),
      })
      .default({ namespaces: { from: 'Same' } }),
  })
  // gateway_types.go Listener CEL rules.
  .refine((l) => !(['HTTP', 'TCP', 'UDP'].includes(l.protocol) && l.tls !== undefined), { message: "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']", path: ['tls'] })
  .refine((l) => !(l.protocol === 'HTTPS' && l.tls?.mode === 'Passthrough'), { message: "tls mode must be Terminate for protocol HTTPS", path: ['tls', 'mode'] })
  .refine((l) => !(l.protocol === 'HTTPS' && (l.tls === undefined || (l.tls.mode === 'Terminate' && l.tls.certificateRefs.length === 0))), { message: 'certificateRefs must be specified when the protocol is HTTPS (tls mode Terminate)', path: ['tls'] })
  .refine((l) => !(['TCP', 'UDP'].includes(l.protocol) && l.hostname !== undefined), { message: "hostname must not be specified for protocols ['TCP', 'UDP']", path: ['hostname'] });

const GatewayV1 = z.looseObject({
  metadata: Meta,
  spec: z.looseObject({ gatewayClassName: z.string().min(1).max(253), listeners: z.array(Listener).min(1, 'a Gateway needs at least one listener').max(64) }),
});

const ParentRef = z.looseObject({
  group: z.string().default(GATEWAY_GROUP),
  kind: z.string().default('Gateway'),
  namespace: z.string().optional(),
  name: z.string().min(1).max(253),
  sectionName: z.string().regex(SECTION_NAME, 'must be a lower-case RFC 1123 label').optional(),
  port: Port.optional(),
});

const StringMatch = z.looseObject({ type: z.enum(['Exact', 'RegularExpression'], { message: 'type must be Exact or RegularExpression' }).default('Exact'), name: z.string().min(1).max(256), value: z.string().max(4096) });
const PathMatch = z
  .looseObject({ type: z.enum(['Exact', 'PathPrefix', 'RegularExpression'], { message: "type must be one of ['Exact', 'PathPrefix', 'RegularExpression']" }).default('PathPrefix'), value: z.string().max(1024).default('/') })
  .superRefine((p, ctx) => {
    if (p.type === 'RegularExpression') return;
    const bad = (message: string) => ctx.addIssue({ code: 'custom', message, path: ['value'] });
    if (!p.value.startsWith('/')) return bad("value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']");
    for (const s of ['//', '/./', '/../', '%2f', '%2F', '#']) if (p.value.includes(s)) return bad(`must not contain '${s}' when type one of ['Exact', 'PathPrefix']`);
    for (const s of ['/..', '/.']) if (p.value.endsWith(s)) return bad(`must not end with '${s}' when type one of ['Exact', 'PathPrefix']`);
    if (!PATH_CHARS.test(p.value)) return bad("must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']");
  });
const Match = z.looseObject({
  path: PathMatch.default({ type: 'PathPrefix', value: '/' }),
  headers: z.array(StringMatch.refine((h) => HEADER_NAME.test(h.name), { message: 'must be a valid HTTP header name', path: ['name'] })).max(16).default([]),
  queryParams: z.array(StringMatch).max(16).default([]),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'], { message: 'method must be one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH' }).optional(),
});
const PathModifier = z
  .looseObject({ type: z.enum(['ReplaceFullPath', 'ReplacePrefixMatch'], { message: 'type must be ReplaceFullPath or ReplacePrefixMatch' }), replaceFullPath: z.string().max(1024).optional(), replacePrefixMatch: z.string().max(1024).optional() })
  .refine((p) => p.type !== 'ReplaceFullPath' || p.replaceFullPath !== undefined, { message: "replaceFullPath must be specified when type is set to 'ReplaceFullPath'", path: ['replaceFullPath'] })
  .refine((p) => p.type !== 'ReplacePrefixMatch' || p.replacePrefixMatch !== undefined, { message: "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'", path: ['replacePrefixMatch'] });
const HeaderPair = z.looseObject({ name: z.string().min(1).max(256).regex(HEADER_NAME, 'must be a valid HTTP header name'), value: z.string().min(1).max(4096) });
const Filter = z
  .looseObject({
    type: z.enum(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'ExtensionRef'], { message: 'type must be RequestHeaderModifier, ResponseHeaderModifier, RequestMirror, RequestRedirect, URLRewrite or ExtensionRef' }),
    requestHeaderModifier: z.looseObject({ set: z.array(HeaderPair).max(16).default([]), add: z.array(HeaderPair).max(16).default([]), remove: z.array(z.string().min(1)).max(16).default([]) }).optional(),
    requestRedirect: z
      .looseObject({
        scheme: z.enum(['http', 'https'], { message: 'scheme must be http or https' }).optional(),
        hostname: Hostname.optional(),
        path: PathModifier.optional(),
        port: Port.optional(),
        statusCode: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)], { error: 'statusCode must be 301, 302, 303, 307 or 308' }).default(302),
      })
      .optional(),
    urlRewrite: z.looseObject({ hostname: Hostname.optional(), path: PathModifier.optional() }).optional(),
  })
  .superRefine((f, ctx) => {
    // httproute_types.go HTTPRouteFilter CEL: the field of the type, and only it.
    const field = { RequestHeaderModifier: 'requestHeaderModifier', ResponseHeaderModifier: 'responseHeaderModifier', RequestMirror: 'requestMirror', RequestRedirect: 'requestRedirect', URLRewrite: 'urlRewrite', ExtensionRef: 'extensionRef' }[f.type];
    if ((f as Record<string, unknown>)[field] === undefined) ctx.addIssue({ code: 'custom', message: `filter.${field} must be specified for ${f.type} filter.type`, path: [field] });
  });
const BackendRef = z.looseObject({ group: z.string().default(''), kind: z.string().default('Service'), name: z.string().min(1).max(253), namespace: z.string().optional(), port: Port.optional(), weight: z.number().int().min(0).max(1000000).default(1), filters: z.array(z.unknown()).optional() }).refine((b) => !(b.group === '' && b.kind === 'Service' && b.port === undefined), { message: 'Must have port for Service reference', path: ['port'] });
const Rule = z
  .looseObject({ name: z.string().optional(), matches: z.array(Match).max(64).default([{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }]), filters: z.array(Filter).max(16).default([]), backendRefs: z.array(BackendRef).max(16).default([]) })
  .superRefine((r, ctx) => {
    const types = r.filters.map((f) => f.type);
    const count = (t: string) => types.filter((x) => x === t).length;
    if (count('RequestRedirect') > 0 && count('URLRewrite') > 0) ctx.addIssue({ code: 'custom', message: 'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both', path: ['filters'] });
    for (const t of ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite']) if (count(t) > 1) ctx.addIssue({ code: 'custom', message: `${t} filter cannot be repeated`, path: ['filters'] });
    if (count('RequestRedirect') > 0 && r.backendRefs.length > 0) ctx.addIssue({ code: 'custom', message: 'RequestRedirect filter must not be used together with backendRefs', path: ['backendRefs'] });
    const prefixRewrite = r.filters.some((f) => (f.urlRewrite?.path ?? f.requestRedirect?.path)?.type === 'ReplacePrefixMatch');
    if (prefixRewrite && (r.matches.length !== 1 || r.matches[0]!.path.type !== 'PathPrefix')) ctx.addIssue({ code: 'custom', message: 'When using URLRewrite or RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified', path: ['filters'] });
  });
const HttpRouteV1 = z.looseObject({
  metadata: Meta,
  spec: z.looseObject({ parentRefs: z.array(ParentRef).max(32).default([]), hostnames: z.array(Hostname).max(16).default([]), rules: z.array(Rule).max(16).default([{ matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }], filters: [], backendRefs: [] }]) }),
});

const GrantPeer = z.looseObject({ group: z.string(), kind: z.string().min(1), namespace: z.string().optional(), name: z.string().optional() });
const ReferenceGrantV1 = z.looseObject({ metadata: Meta, spec: z.looseObject({ from: z.array(GrantPeer).min(1).max(16), to: z.array(GrantPeer).min(1).max(16) }) });

/** A GatewayClass as admitted. */
export interface GatewayClassSpec {
  name: string;
  controllerName: string;
}

/** A listener of a Gateway. */
export interface ListenerSpec {
  name: string;
  port: number;
  protocol: string;
  /** The listener's hostname, or null (every host). */
  hostname: string | null;
  certificateRefs: { group: string; kind: string; namespace: string; name: string }[];
  allowedRoutes: { from: 'All' | 'Same' | 'Selector'; matchLabels: Record<string, string>; kinds: { group: string; kind: string }[] | null };
}

/** A Gateway as admitted. */
export interface GatewaySpec {
  namespace: string;
  name: string;
  className: string;
  listeners: ListenerSpec[];
  /** Creation order. */
  order: number;
}

export interface ParentRefSpec {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  sectionName: string | null;
  port: number | null;
}

export interface StringMatchSpec {
  type: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

/** One HTTPRouteMatch (its conditions are ANDed). */
export interface HttpRouteMatchSpec {
  path: { type: 'Exact' | 'PathPrefix' | 'RegularExpression'; value: string };
  headers: StringMatchSpec[];
  queryParams: StringMatchSpec[];
  method: string | null;
}

export type PathModifierSpec = { type: 'ReplaceFullPath'; value: string } | { type: 'ReplacePrefixMatch'; value: string };

export type HttpRouteFilterSpec =
  | { type: 'RequestHeaderModifier'; set: [string, string][]; add: [string, string][]; remove: string[] }
  | { type: 'RequestRedirect'; scheme: 'http' | 'https' | null; hostname: string | null; path: PathModifierSpec | null; port: number | null; statusCode: number }
  | { type: 'URLRewrite'; hostname: string | null; path: PathModifierSpec | null }
  | { type: 'Unsupported'; name: string };

export interface BackendRefSpec {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  port: number | null;
  weight: number;
}

export interface HttpRouteRuleSpec {
  matches: HttpRouteMatchSpec[];
  filters: HttpRouteFilterSpec[];
  backendRefs: BackendRefSpec[];
}

/** An HTTPRoute as admitted. */
export interface HttpRouteSpec {
  namespace: string;
  name: string;
  parentRefs: ParentRefSpec[];
  hostnames: string[];
  rules: HttpRouteRuleSpec[];
  /** Creation order (the spec's "oldest Route" tie-break). */
  order: number;
}

/** A ReferenceGrant: who in other namespaces may refer to what in this one. */
export interface ReferenceGrantSpec {
  namespace: string;
  name: string;
  from: { group: string; kind: string; namespace: string }[];
  to: { group: string; kind: string; name: string | null }[];
}

/** What the API server holds for the Gateway API after admission. */
export interface AdmittedGatewayApi {
  classes: GatewayClassSpec[];
  gateways: GatewaySpec[];
  routes: HttpRouteSpec[];
  grants: ReferenceGrantSpec[];
  /** Every Secret by namespace/name, with its type and podwire.dev/tls annotation. */
  secrets: Map<string, { type: string; chain: string | null }>;
  /** Namespace labels (with the kubernetes.io/metadata.name label the API server adds). */
  namespaceLabels: (ns: string) => Record<string, string>;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function parse<T>(schema: z.ZodType<T>, m: ManifestInput, errors: UserError[]): T | null {
  const v = m.value['apiVersion'];
  const served = GATEWAY_API_VERSIONS[m.kind] ?? [];
  if (typeof v !== 'string' || !served.includes(v)) {
    errors.push(m.error(['apiVersion'], `${m.kind} is served as ${served.join(' or ')}, not ${String(v)}`));
    return null;
  }
  const r = schema.safeParse(m.value);
  if (r.success) return r.data;
  for (const issue of r.error.issues) errors.push(m.error(issue.path.filter((p): p is string | number => typeof p !== 'symbol'), issue.message));
  return null;
}

function pathModifier(p: z.infer<typeof PathModifier> | undefined): PathModifierSpec | null {
  if (p === undefined) return null;
  return p.type === 'ReplaceFullPath' ? { type: 'ReplaceFullPath', value: p.replaceFullPath! } : { type: 'ReplacePrefixMatch', value: p.replacePrefixMatch! };
}

function toFilter(f: z.infer<typeof Filter>): HttpRouteFilterSpec {
  const pair = (h: { name: string; value: string }): [string, string] => [h.name, h.value];
  switch (f.type) {
    case 'RequestHeaderModifier': {
      const m = f.requestHeaderModifier!;
      return { type: 'RequestHeaderModifier', set: m.set.map(pair), add: m.add.map(pair), remove: m.remove };
    }
    case 'RequestRedirect': {
      const r = f.requestRedirect!;
      return { type: 'RequestRedirect', scheme: r.scheme ?? null, hostname: r.hostname ?? null, path: pathModifier(r.path), port: r.port ?? null, statusCode: r.statusCode };
    }
    case 'URLRewrite':
      return { type: 'URLRewrite', hostname: f.urlRewrite!.hostname ?? null, path: pathModifier(f.urlRewrite!.path) };
    case 'ResponseHeaderModifier':
    case 'RequestMirror':
    case 'ExtensionRef':
      return { type: 'Unsupported', name: f.type };
    default: {
      const never: never = f.type;
      return never;
    }
  }
}

function admitGateway(m: ManifestInput, order: number, errors: UserError[]): GatewaySpec | null {
  const d = parse(GatewayV1, m, errors);
  if (!d) return null;
  const before = errors.length;
  const seen = new Map<string, number>();
  d.spec.listeners.forEach((l, i) => {
    if (seen.has(l.name)) errors.push(m.error(['spec', 'listeners', i, 'name'], 'Listener name must be unique within the Gateway'));
    seen.set(l.name, i);
    const key = `${l.port}/${l.protocol}/${l.hostname ?? ''}`;
    if (d.spec.listeners.findIndex((x) => `${x.port}/${x.protocol}/${x.hostname ?? ''}` === key) < i) errors.push(m.error(['spec', 'listeners', i], 'Combination of port, protocol and hostname must be unique for each listener'));
  });
  if (errors.length > before) return null;
  const ns = d.metadata.namespace;
  const listeners = d.spec.listeners.map((l): ListenerSpec => ({
    name: l.name,
    port: l.port,
    protocol: l.protocol,
    hostname: l.hostname ?? null,
    certificateRefs: (l.tls?.certificateRefs ?? []).map((c) => ({ group: c.group, kind: c.kind, namespace: c.namespace ?? ns, name: c.name })),
    allowedRoutes: { from: l.allowedRoutes.namespaces.from, matchLabels: l.allowedRoutes.namespaces.selector?.matchLabels ?? {}, kinds: l.allowedRoutes.kinds ?? null },
  }));
  return { namespace: ns, name: d.metadata.name, className: d.spec.gatewayClassName, listeners, order };
}

function admitHttpRoute(m: ManifestInput, order: number, errors: UserError[], warn: (path: (string | number)[], message: string) => void): HttpRouteSpec | null {
  const d = parse(HttpRouteV1, m, errors);
  if (!d) return null;
  const ns = d.metadata.namespace;
  const parents = d.spec.parentRefs.map((p): ParentRefSpec => ({ group: p.group, kind: p.kind, namespace: p.namespace ?? ns, name: p.name, sectionName: p.sectionName ?? null, port: p.port ?? null }));
  // CommonRouteSpec CEL: two references to one parent must tell their listeners apart.
  for (let i = 0; i < parents.length; i++) {
    const p = parents[i]!;
    const same = parents.filter((q) => q.group === p.group && q.kind === p.kind && q.namespace === p.namespace && q.name === p.name);
    if (same.length > 1 && (p.sectionName === null && p.port === null)) {
      errors.push(m.error(['spec', 'parentRefs', i], 'sectionName or port must be specified when parentRefs includes 2 or more references to the same parent'));
      return null;
    }
  }
  // (a ResponseHeaderModifier / RequestMirror / ExtensionRef filter's field gets gatewayFieldWarnings' "not modelled")
  d.spec.rules.forEach((r, i) => {
    r.backendRefs.forEach((b, j) => {
      if (b.filters !== undefined && b.filters.length > 0) warn(['spec', 'rules', i, 'backendRefs', j, 'filters'], 'filters on a backendRef are not modelled by podwire and are ignored');
    });
  });
  const rules = d.spec.rules.map((r): HttpRouteRuleSpec => ({
    matches: r.matches.map((x) => ({ path: x.path, headers: x.headers, queryParams: x.queryParams, method: x.method ?? null })),
    filters: r.filters.map(toFilter),
    backendRefs: r.backendRefs.map((b) => ({ group: b.group, kind: b.kind, namespace: b.namespace ?? ns, name: b.name, port: b.port ?? null, weight: b.weight })),
  }));
  return { namespace: ns, name: d.metadata.name, parentRefs: parents, hostnames: d.spec.hostnames, rules, order };
}

/** The fields of each kind: a nested tree (arrays are walked element by element); `0` = known but not modelled. */
type Fields = { [k: string]: Fields | 1 | 0 };
const META: Fields = { name: 1, namespace: 1, labels: 1, annotations: 1, uid: 1, resourceVersion: 1, generation: 1, creationTimestamp: 1 };
const PARENT: Fields = { group: 1, kind: 1, namespace: 1, name: 1, sectionName: 1, port: 1 };
const MODIFIER: Fields = { type: 1, replaceFullPath: 1, replacePrefixMatch: 1 };
const FILTER: Fields = { type: 1, requestHeaderModifier: { set: 1, add: 1, remove: 1 }, responseHeaderModifier: 0, requestMirror: 0, extensionRef: 0, cors: 0, requestRedirect: { scheme: 1, hostname: 1, path: MODIFIER, port: 1, statusCode: 1 }, urlRewrite: { hostname: 1, path: MODIFIER } };
const KIND_FIELDS: Record<string, Fields> = {
  GatewayClass: { metadata: META, spec: { controllerName: 1, description: 1, parametersRef: 0 } },
  Gateway: { metadata: META, spec: { gatewayClassName: 1, addresses: 0, infrastructure: 0, listeners: { name: 1, hostname: 1, port: 1, protocol: 1, tls: { mode: 1, certificateRefs: 1, options: 0 }, allowedRoutes: { namespaces: { from: 1, selector: { matchLabels: 1, matchExpressions: 0 } }, kinds: 1 } } } },
  HTTPRoute: { metadata: META, spec: { parentRefs: PARENT, hostnames: 1, rules: { name: 1, matches: { path: { type: 1, value: 1 }, headers: 1, queryParams: 1, method: 1 }, filters: FILTER, backendRefs: { group: 1, kind: 1, name: 1, namespace: 1, port: 1, weight: 1, filters: 1 }, timeouts: 0, retry: 0, sessionPersistence: 0 } } },
  ReferenceGrant: { metadata: META, spec: { from: 1, to: 1 } },
};

/** Warns about fields of a Gateway API object podwire does not know (a likely typo gets a did-you-mean) or does not model. */
export function gatewayFieldWarnings(kind: string, value: Json, warn: (path: (string | number)[], message: string) => void): void {
  const walk = (obj: unknown, known: Fields, path: (string | number)[]): void => {
    if (Array.isArray(obj)) return obj.forEach((x, i) => walk(x, known, [...path, i]));
    if (!isObj(obj)) return;
    for (const [k, v] of Object.entries(obj)) {
      const f = known[k];
      if (f === undefined) {
        const hint = suggestField(k, Object.keys(known));
        warn([...path, k], hint ? `unknown field "${k}", ignored: did you mean "${hint}"?` : `field "${k}" is not modelled by podwire and is ignored`);
      } else if (f === 0) warn([...path, k], `field "${k}" is not modelled by podwire and is ignored`);
      else if (f !== 1) walk(v, f, [...path, k]);
    }
  };
  const fields = KIND_FIELDS[kind];
  if (fields) walk(value, { apiVersion: 1, kind: 1, status: 1, ...fields }, []);
}

/**
 * Admits every GatewayClass, Gateway, HTTPRoute and ReferenceGrant among the manifests, in order,
 * with the Secrets and Namespace labels the controller resolves references against.
 */
export function admitGatewayApi(manifests: readonly ManifestInput[], errors: UserError[], warnings: UserError[]): AdmittedGatewayApi {
  const out: AdmittedGatewayApi = { classes: [], gateways: [], routes: [], grants: [], secrets: new Map(), namespaceLabels: () => ({}) };
  const nsLabels = new Map<string, Record<string, string>>();
  for (const m of manifests) {
    const md = isObj(m.value['metadata']) ? m.value['metadata'] : {};
    gatewayFieldWarnings(m.kind, m.value, (path, message) => warnings.push(m.error(path, message)));
    switch (m.kind) {
      case 'GatewayClass': {
        const d = parse(GatewayClassV1, m, errors);
        if (d) out.classes.push({ name: d.metadata.name, controllerName: d.spec.controllerName });
        break;
      }
      case 'Gateway': {
        const g = admitGateway(m, out.gateways.length, errors);
        if (g) out.gateways.push(g);
        break;
      }
      case 'HTTPRoute': {
        const r = admitHttpRoute(m, out.routes.length, errors, (path, message) => warnings.push(m.error(path, message)));
        if (r) out.routes.push(r);
        break;
      }
      case 'ReferenceGrant': {
        const d = parse(ReferenceGrantV1, m, errors);
        if (d) out.grants.push({ namespace: d.metadata.namespace, name: d.metadata.name, from: d.spec.from.map((f) => ({ group: f.group, kind: f.kind, namespace: f.namespace ?? '' })), to: d.spec.to.map((t) => ({ group: t.group, kind: t.kind, name: t.name ?? null })) });
        break;
      }
      case 'Secret': {
        const ann = isObj(md['annotations']) ? (md['annotations'] as Record<string, string>) : {};
        out.secrets.set(`${String(md['namespace'] ?? 'default')}/${String(md['name'] ?? '')}`, { type: String(m.value['type'] ?? 'Opaque'), chain: ann['podwire.dev/tls'] ?? null });
        break;
      }
      case 'Namespace':
        nsLabels.set(String(md['name'] ?? ''), isObj(md['labels']) ? (md['labels'] as Record<string, string>) : {});
        break;
    }
  }
  out.namespaceLabels = (ns) => ({ ...(nsLabels.get(ns) ?? {}), 'kubernetes.io/metadata.name': ns });
  return out;
}
