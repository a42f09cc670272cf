// k8s/ingress/api — the Ingress API (networking.k8s.io/v1 Ingress and IngressClass) as the API server
// admits it: schema, validation (pkg/apis/networking/validation ValidateIngressSpec: paths, hosts,
// backends), the conversion of the removed extensions/v1beta1 and networking.k8s.io/v1beta1 objects
// (serviceName/servicePort → service.name/port, spec.backend → defaultBackend, a missing pathType →
// ImplementationSpecific), and the DefaultIngressClass admission plugin (an Ingress without a class
// gets the IngressClass annotated ingressclass.kubernetes.io/is-default-class). Layer: k8s (imports core).
// Errors are file:line:col records at the field, as every manifest error is.
// Not modelled: Ingress status (no load-balancer address is written), IngressClass parameters, the
// Secret's certificate bytes (a TLS Secret is referenced by name; its key type comes from tls/).
import { z } from 'zod';
import type { UserError } from '../../core/user-error.js';
import type { ManifestInput } from '../cluster.js';
import { suggestField } from '../manifests.js';
import { DNS1123_SUBDOMAIN } from '../names.js';

export const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'] as const;
/** networking.k8s.io/v1 PathType. */
export type PathType = (typeof PATH_TYPES)[number];

/** The API versions that hold Ingress; the beta ones are converted to v1. */
export const INGRESS_VERSIONS = ['networking.k8s.io/v1', 'networking.k8s.io/v1beta1', 'extensions/v1beta1'] as const;

/** The annotation that marks the cluster's default IngressClass. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** The annotation older Ingresses name their class with (deprecated by ingressClassName). */
export const CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** An IngressBackend: a Service port, or a resource (which ingress-nginx answers with 404). */
export type IngressBackend = { kind: 'service'; name: string; port: number | string } | { kind: 'resource'; apiGroup: string; resourceKind: string; name: string };

/** One path of a rule. */
export interface IngressPath {
  path: string;
  pathType: PathType;
  backend: IngressBackend;
  /** Where the path is declared (['spec', 'rules', i, 'http', 'paths', j]), for messages. */
  at: (string | number)[];
}

/** One rule: a host (null = every host) and its paths. */
export interface IngressRule {
  host: string | null;
  paths: IngressPath[];
}

/** An admitted Ingress. */
export interface IngressSpec {
  namespace: string;
  name: string;
  annotations: Record<string, string>;
  /** spec.ingressClassName after admission, or the old annotation's class, or null. */
  className: string | null;
  defaultBackend: IngressBackend | null;
  rules: IngressRule[];
  tls: { hosts: string[]; secretName: string | null }[];
  /** The order the Ingress was created in (ingress-nginx sorts by creation time). */
  order: number;
}

/** An IngressClass. */
export interface IngressClassSpec {
  name: string;
  controller: string;
  isDefault: boolean;
}

const IPV4ISH = /^\d+\.\d+\.\d+\.\d+$/;

const Meta = z.looseObject({
  name: z.string().regex(DNS1123_SUBDOMAIN, 'expected a DNS subdomain name (RFC 1123)').max(253),
  namespace: z.string().default('default'),
  annotations: z.record(z.string(), z.string()).default({}),
});

const PortV1 = z.looseObject({ number: z.number().int().min(1).max(65535).optional(), name: z.string().min(1).max(15).optional() }).refine((p) => (p.number === undefined) !== (p.name === undefined), 'exactly one of port.number and port.name');

const BackendV1 = z
  .looseObject({
    service: z.looseObject({ name: z.string().min(1), port: PortV1 }).optional(),
    resource: z.looseObject({ apiGroup: z.string().default(''), kind: z.string().min(1), name: z.string().min(1) }).optional(),
  })
  .refine((b) => (b.service === undefined) !== (b.resource === undefined), 'a backend needs exactly one of service and resource');

const PathV1 = z.looseObject({ path: z.string().optional(), pathType: z.enum(PATH_TYPES, { message: 'pathType must be Exact, Prefix or ImplementationSpecific' }), backend: BackendV1 });

const IngressV1 = z.looseObject({
  apiVersion: z.literal('networking.k8s.io/v1'),
  kind: z.literal('Ingress'),
  metadata: Meta,
  spec: z.looseObject({
    ingressClassName: z.string().min(1).optional(),
    defaultBackend: BackendV1.optional(),
    tls: z.array(z.looseObject({ hosts: z.array(z.string()).default([]), secretName: z.string().optional() })).default([]),
    rules: z.array(z.looseObject({ host: z.string().optional(), http: z.looseObject({ paths: z.array(PathV1).min(1, 'http.paths needs at least one path') }).optional() })).default([]),
  }),
});

const IngressClassV1 = z.looseObject({
  apiVersion: z.literal('networking.k8s.io/v1'),
  kind: z.literal('IngressClass'),
  metadata: z.looseObject({ name: z.string().regex(DNS1123_SUBDOMAIN), annotations: z.record(z.string(), z.string()).default({}) }),
  spec: z.looseObject({ controller: z.string().min(1) }).default({ controller: '' }),
});

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A v1beta1 IngressBackend {serviceName, servicePort} as v1 {service: {name, port}} (other shapes unchanged). */
function convertBackend(b: unknown): unknown {
  if (!isObj(b) || b['serviceName'] === undefined) return b;
  const { serviceName, servicePort, ...rest } = b;
  const port = typeof servicePort === 'number' ? { number: servicePort } : { name: servicePort };
  return { ...rest, service: { name: serviceName, port } };
}

/**
 * Converts a networking.k8s.io/v1beta1 or extensions/v1beta1 Ingress to v1, as the API server's
 * conversion does (pkg/apis/networking/v1beta1 conversion and defaults): spec.backend → defaultBackend,
 * serviceName/servicePort → service.name/port.number|name, pathType defaulted to ImplementationSpecific.
 */
export function convertIngressV1beta1(value: Json): Json {
  const spec = isObj(value['spec']) ? value['spec'] : {};
  const { backend, ...rest } = spec;
  const out: Json = { ...rest };
  if (backend !== undefined) out['defaultBackend'] = convertBackend(backend);
  if (Array.isArray(spec['rules'])) {
    out['rules'] = spec['rules'].map((r) => {
      if (!isObj(r) || !isObj(r['http']) || !Array.isArray(r['http']['paths'])) return r;
      const paths = r['http']['paths'].map((p) => (isObj(p) ? { ...p, pathType: p['pathType'] ?? 'ImplementationSpecific', backend: convertBackend(p['backend']) } : p));
      return { ...r, http: { ...r['http'], paths } };
    });
  }
  return { ...value, apiVersion: 'networking.k8s.io/v1', spec: out };
}

type At = (path: (string | number)[], message: string) => UserError;

/** Host validation (ValidateIngressSpec → validateIngressRules): a DNS-1123 subdomain, `*.` once at the front, not an IP. */
export function hostProblem(host: string): string | null {
  if (IPV4ISH.test(host)) return `must be a DNS name, not an IP address`;
  const bare = host.startsWith('*.') ? host.slice(2) : host;
  if (bare.includes('*')) return 'a wildcard is only allowed as the first label ("*.foo.com")';
  if (!DNS1123_SUBDOMAIN.test(bare) || host.length > 253) return 'must be a lower-case RFC 1123 subdomain (a-z, 0-9, "-", ".")';
  return null;
}

/** Path validation (validateIngressPath): Exact and Prefix paths are absolute and normalised. */
export function pathProblem(path: string, pathType: PathType): string | null {
  if (pathType === 'ImplementationSpecific') return path !== '' && !path.startsWith('/') ? 'must be an absolute path' : null;
  if (!path.startsWith('/')) return `must be an absolute path (${pathType} paths start with "/")`;
  for (const bad of ['//', '/./', '/../', '%2f', '%2F']) if (path.includes(bad)) return `must not contain '${bad}'`;
  for (const bad of ['/..', '/.']) if (path.endsWith(bad)) return `must not end with '${bad}'`;
  return null;
}

function toBackend(b: z.infer<typeof BackendV1>): IngressBackend {
  if (b.service) return { kind: 'service', name: b.service.name, port: b.service.port.number ?? b.service.port.name! };
  const r = b.resource!;
  return { kind: 'resource', apiGroup: r.apiGroup, resourceKind: r.kind, name: r.name };
}

function pushIssues(r: { error: z.ZodError }, at: At, errors: UserError[]): void {
  for (const issue of r.error.issues) errors.push(at(issue.path.filter((p): p is string | number => typeof p !== 'symbol'), issue.message));
}

/** Admits one Ingress manifest (any served or removed version); null after pushing errors. */
export function admitIngress(value: Json, order: number, at: At, errors: UserError[]): IngressSpec | null {
  const v1 = value['apiVersion'] === 'networking.k8s.io/v1' ? value : convertIngressV1beta1(value);
  const r = IngressV1.safeParse(v1);
  if (!r.success) {
    pushIssues(r, at, errors);
    return null;
  }
  const { metadata, spec } = r.data;
  const before = errors.length;
  if (spec.defaultBackend === undefined && spec.rules.length === 0) errors.push(at(['spec'], 'either `defaultBackend` or `rules` must be specified'));
  const rules: IngressRule[] = spec.rules.map((rule, i) => {
    if (rule.host !== undefined && rule.host !== '') {
      const p = hostProblem(rule.host);
      if (p) errors.push(at(['spec', 'rules', i, 'host'], p));
    }
    const paths = (rule.http?.paths ?? []).map((p, j): IngressPath => {
      // ingress-nginx serves an empty ImplementationSpecific path as "/" (location.go rootLocation).
      const path = p.path === undefined || p.path === '' ? '/' : p.path;
      const problem = p.path === undefined && p.pathType !== 'ImplementationSpecific' ? `path is required for pathType ${p.pathType}` : pathProblem(path, p.pathType);
      if (problem) errors.push(at(['spec', 'rules', i, 'http', 'paths', j, 'path'], problem));
      return { path, pathType: p.pathType, backend: toBackend(p.backend), at: ['spec', 'rules', i, 'http', 'paths', j] };
    });
    return { host: rule.host ? rule.host : null, paths };
  });
  spec.tls.forEach((t, i) =>
    t.hosts.forEach((h, j) => {
      const p = hostProblem(h);
      if (p) errors.push(at(['spec', 'tls', i, 'hosts', j], p));
    }),
  );
  if (errors.length > before) return null;
  const className = spec.ingressClassName ?? metadata.annotations[CLASS_ANNOTATION] ?? null;
  return {
    namespace: metadata.namespace,
    name: metadata.name,
    annotations: metadata.annotations,
    className,
    defaultBackend: spec.defaultBackend ? toBackend(spec.defaultBackend) : null,
    rules,
    tls: spec.tls.map((t) => ({ hosts: t.hosts, secretName: t.secretName ?? null })),
    order,
  };
}

/** Admits one IngressClass manifest. */
export function admitIngressClass(value: Json, at: At, errors: UserError[]): IngressClassSpec | null {
  const r = IngressClassV1.safeParse(value);
  if (!r.success) {
    pushIssues(r, at, errors);
    return null;
  }
  return { name: r.data.metadata.name, controller: r.data.spec.controller, isDefault: r.data.metadata.annotations[DEFAULT_CLASS_ANNOTATION] === 'true' };
}

const INGRESS_FIELDS: Record<string, readonly string[]> = {
  root: ['apiVersion', 'kind', 'metadata', 'spec', 'status'],
  spec: ['ingressClassName', 'defaultBackend', 'backend', 'tls', 'rules'],
  rule: ['host', 'http'],
  http: ['paths'],
  path: ['path', 'pathType', 'backend'],
  backend: ['service', 'resource', 'serviceName', 'servicePort'],
  tls: ['hosts', 'secretName'],
};

/** Warns about Ingress fields podwire does not know (a likely typo gets a did-you-mean), as for other kinds. */
export function ingressFieldWarnings(value: Json, warn: (path: (string | number)[], message: string) => void): void {
  const check = (obj: unknown, known: readonly string[], path: (string | number)[]): void => {
    if (!isObj(obj)) return;
    for (const k of Object.keys(obj)) {
      if (known.includes(k)) continue;
      const hint = suggestField(k, known);
      warn([...path, k], hint ? `unknown field "${k}", ignored: did you mean "${hint}"?` : `field "${k}" is not modelled by podwire and is ignored`);
    }
  };
  check(value, INGRESS_FIELDS['root']!, []);
  const spec = value['spec'];
  check(spec, INGRESS_FIELDS['spec']!, ['spec']);
  if (!isObj(spec)) return;
  for (const b of ['defaultBackend', 'backend'] as const) check(spec[b], INGRESS_FIELDS['backend']!, ['spec', b]);
  if (Array.isArray(spec['tls'])) spec['tls'].forEach((t, i) => check(t, INGRESS_FIELDS['tls']!, ['spec', 'tls', i]));
  if (!Array.isArray(spec['rules'])) return;
  spec['rules'].forEach((r, i) => {
    check(r, INGRESS_FIELDS['rule']!, ['spec', 'rules', i]);
    const http = isObj(r) ? r['http'] : undefined;
    check(http, INGRESS_FIELDS['http']!, ['spec', 'rules', i, 'http']);
    const paths = isObj(http) ? http['paths'] : undefined;
    if (Array.isArray(paths)) {
      paths.forEach((p, j) => {
        check(p, INGRESS_FIELDS['path']!, ['spec', 'rules', i, 'http', 'paths', j]);
        check(isObj(p) ? p['backend'] : undefined, INGRESS_FIELDS['backend']!, ['spec', 'rules', i, 'http', 'paths', j, 'backend']);
      });
    }
  });
}

/** What the API server holds for the Ingress API after admission. */
export interface AdmittedIngresses {
  ingresses: IngressSpec[];
  classes: IngressClassSpec[];
  /** TLS Secrets by namespace/name, with the key annotations a scenario may give. */
  tlsSecrets: Map<string, { annotations: Record<string, string> }>;
}

/**
 * Admits every Ingress, IngressClass and kubernetes.io/tls Secret among the manifests, in order. The
 * DefaultIngressClass admission plugin gives an Ingress without ingressClassName (and without the old
 * annotation) the default class; two default classes refuse such an Ingress, as the plugin does.
 */
export function admitIngressApi(manifests: readonly ManifestInput[], errors: UserError[], warnings: UserError[]): AdmittedIngresses {
  const classes: IngressClassSpec[] = [];
  const tlsSecrets = new Map<string, { annotations: Record<string, string> }>();
  for (const m of manifests) {
    if (m.kind === 'IngressClass') {
      const c = admitIngressClass(m.value, m.error, errors);
      if (c) classes.push(c);
    }
    if (m.kind === 'Secret' && m.value['type'] === 'kubernetes.io/tls') {
      const md = isObj(m.value['metadata']) ? m.value['metadata'] : {};
      const ann = isObj(md['annotations']) ? (md['annotations'] as Record<string, string>) : {};
      tlsSecrets.set(`${String(md['namespace'] ?? 'default')}/${String(md['name'] ?? '')}`, { annotations: ann });
    }
  }
  const defaults = classes.filter((c) => c.isDefault);
  const ingresses: IngressSpec[] = [];
  for (const m of manifests) {
    if (m.kind !== 'Ingress') continue;
    ingressFieldWarnings(m.value, (path, message) => warnings.push(m.error(path, message)));
    const ing = admitIngress(m.value, ingresses.length, m.error, errors);
    if (!ing) continue;
    if (ing.className === null && defaults.length === 1) ing.className = defaults[0]!.name;
    else if (ing.className === null && defaults.length > 1) {
      errors.push(m.error(['spec'], `${defaults.length} IngressClasses are marked default (${defaults.map((d) => d.name).join(', ')}): the DefaultIngressClass admission plugin refuses an Ingress without ingressClassName`));
      continue;
    }
    for (const r of ing.rules) {
      for (const p of r.paths) {
        if (p.pathType === 'ImplementationSpecific' && p.path.includes('*') && ing.annotations['nginx.ingress.kubernetes.io/use-regex'] !== 'true') {
          warnings.push(m.error([...p.at, 'path'], `ImplementationSpecific path "${p.path}": ingress-nginx matches it as a literal string prefix ("*" is no glob; GCE's controller reads "/*" as one); add nginx.ingress.kubernetes.io/use-regex: "true" for a pattern`));
        }
      }
    }
    ingresses.push(ing);
  }
  return { ingresses, classes, tlsSecrets };
}

/** The Services an Ingress's backends name, in declaration order (defaultBackend first). */
export function ingressBackends(ing: IngressSpec): IngressBackend[] {
  const out: IngressBackend[] = [];
  if (ing.defaultBackend) out.push(ing.defaultBackend);
  for (const r of ing.rules) for (const p of r.paths) out.push(p.backend);
  return out;
}
