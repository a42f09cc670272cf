// Shared by the Gateway API tests: a one-node cluster running NGINX Gateway Fabric with four Services
// (web, api, v1, v2 — one pod each; `other/remote` in namespace other), built from a Scenario text and
// the manifests a test adds; a request's decision read from the controller's table.
import type { RouteDecision } from '../../src/app/l7-balancer.js';
import type { ConditionRow } from '../../src/k8s/gateway/index.js';
import type { World } from '../../src/scenario/build.js';
import { buildText, errorsOfText } from '../helpers/scenario-text.js';

const svc = (name: string, ns = 'default') => `---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${ns} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} }, annotations: { podwire.dev/app: http } }
    spec: { containers: [{ name: c, image: nginx, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${ns} }
spec: { selector: { app: ${name} }, ports: [{ name: http, port: 80, targetPort: 8080 }] }
`;

/** The Scenario document and the backends; `gateway: false` runs no controller. */
export const head = (gateway = true) => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: t }
spec:
  cluster:
    dns: { enabled: false }
    nodes: [{ name: n1 }]
${gateway ? '    gatewayController: { service: { type: NodePort } }\n' : ''}${svc('web')}${svc('api')}${svc('v1')}${svc('v2')}${svc('remote', 'other')}`;

/** A Gateway `gw` in default with an HTTP listener on 80 (hostname optional) and `more` listeners. */
export const gateway = (hostname?: string, more = '') => `---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw }
spec:
  gatewayClassName: nginx
  listeners:
    - { name: http, port: 80, protocol: HTTP${hostname ? `, hostname: "${hostname}"` : ''} }
${more}`;

export const build = (text: string): World => buildText(text, 'g.yaml');
export const errorsOf = (text: string): string[] => errorsOfText(text, 'g.yaml');

/** The decision for a request, by the table the controller built. */
export function decide(w: World, host: string, uri: string, o: { method?: string; headers?: Record<string, string>; port?: number; scheme?: 'http' | 'https' } = {}): RouteDecision {
  const h = new Map(Object.entries(o.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return w.controlPlane!.gateway!.table()!.route(host, uri, { method: o.method ?? 'GET', scheme: o.scheme ?? 'http', port: o.port ?? 80, header: (n) => h.get(n.toLowerCase()) });
}

/** Where a decision sends the request: the upstream (NAMESPACE_SERVICE_PORT), "split a:w,b:w", a status, or a redirect. */
export function where(d: RouteDecision): string {
  if (d.kind === 'not-found') return String(d.status ?? 404);
  if (d.kind === 'redirect') return `${d.status} ${d.location}`;
  if (d.route.split) return `split ${d.route.split.map((s) => `${s.upstream}:${s.weight}`).join(',')}`;
  return d.route.upstream ?? '-';
}

/** "TYPE STATUS REASON" of an object's conditions in scope (a prefix of the scope column). */
export function conditionsOf(w: World, object: string, scope = ''): string[] {
  return w.controlPlane!.gateway!.conditions()
    .filter((c: ConditionRow) => c.object === object && c.scope.startsWith(scope))
    .map((c) => `${c.type} ${c.status} ${c.reason}`);
}

/** An HTTPRoute `name` attached to gw with the given spec body (indented YAML under spec, after parentRefs). */
export const route = (name: string, body: string, parent = '[{ name: gw }]', ns = 'default') => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name}, namespace: ${ns} }
spec:
  parentRefs: ${parent}
${body}`;
