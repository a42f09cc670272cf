// The Ingress API as the API server admits it (pkg/apis/networking/validation, the v1beta1 conversion,
// the DefaultIngressClass admission plugin), through the scenario loader so errors carry file:line:col,
// and the controller's table built from the store (class filtering, not-ready endpoints, service-upstream).
import { describe, expect, it } from 'vitest';
import { convertIngressV1beta1, hostProblem, pathProblem } from '../../../src/k8s/ingress/api.js';
import { formatUserError } from '../../../src/scenario/errors.js';
import { buildText, errorsOfText } from '../../helpers/scenario-text.js';

const head = (ingressController = true) => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: t }
spec:
  cluster:
    dns: { enabled: false }
    nodes: [{ name: n1 }]
${ingressController ? '    ingressController: { service: { type: NodePort } }\n' : ''}---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web }, annotations: { podwire.dev/app: http } }
    spec: { containers: [{ name: c, image: nginx, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ name: http, port: 80, targetPort: 8080 }] }
`;

const build = (text: string) => buildText(text, 'i.yaml');
const errorsOf = (text: string) => errorsOfText(text, 'i.yaml');

describe('validation (ValidateIngressSpec)', () => {
  it.each([
    ['foo.bar.com', null],
    ['*.foo.com', null],
    ['*.*.foo.com', 'a wildcard is only allowed as the first label ("*.foo.com")'],
    ['foo.*.com', 'a wildcard is only allowed as the first label ("*.foo.com")'],
    ['10.0.0.1', 'must be a DNS name, not an IP address'],
    ['Foo.com', 'must be a lower-case RFC 1123 subdomain (a-z, 0-9, "-", ".")'],
  ])('host %s → %s', (host, want) => {
    expect(hostProblem(host)).toBe(want);
  });
  it.each([
    ['/foo', 'Prefix', null],
    ['foo', 'Exact', 'must be an absolute path (Exact paths start with "/")'],
    ['/foo//bar', 'Prefix', "must not contain '//'"],
    ['/foo/..', 'Prefix', "must not end with '/..'"],
    ['/foo%2Fbar', 'Exact', "must not contain '%2F'"],
    ['/foo/(.*)', 'ImplementationSpecific', null],
  ] as const)('path %s (%s) → %s', (path, type, want) => {
    expect(pathProblem(path, type)).toBe(want);
  });

  it('reports bad manifests at file:line:col with the field', () => {
    const errs = errorsOf(`${head()}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: bad }
spec:
  rules:
    - host: "*.*.example.com"
      http:
        paths:
          - { path: /x, pathType: Regex, backend: { service: { name: web, port: { number: 80 } } } }
          - { path: nope, pathType: Exact, backend: { service: { name: web, port: { number: 80, name: http } } } }
`);
    expect(errs).toEqual([
      'i.yaml:33:35: spec.rules[0].http.paths[0].pathType: pathType must be Exact, Prefix or ImplementationSpecific',
      'i.yaml:34:83: spec.rules[0].http.paths[1].backend.service.port: exactly one of port.number and port.name',
    ]);
    const errs2 = errorsOf(`${head()}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: bad }
spec:
  rules:
    - host: "*.*.example.com"
      http:
        paths:
          - { path: nope, pathType: Exact, backend: { service: { name: web, port: { number: 80 } } } }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: empty }
spec: {}
`);
    expect(errs2).toEqual([
      'i.yaml:30:13: spec.rules[0].host: a wildcard is only allowed as the first label ("*.foo.com")',
      'i.yaml:33:21: spec.rules[0].http.paths[0].path: must be an absolute path (Exact paths start with "/")',
      'i.yaml:38:7: spec: either `defaultBackend` or `rules` must be specified',
    ]);
  });
});

describe('unknown fields', () => {
  it('warn with a did-you-mean, as for other kinds', () => {
    const w = build(`${head()}---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: typo }
spec:
  ingresClassName: nginx
  rules:
    - host: a.example.com
      http: { paths: [{ path: /, pathtype: Prefix, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }
`);
    expect(w.warnings.map(formatUserError).filter((l) => l.includes('unknown field'))).toEqual([
      'i.yaml:29:20: spec.ingresClassName: unknown field "ingresClassName", ignored: did you mean "ingressClassName"?',
      'i.yaml:32:44: spec.rules[0].http.paths[0].pathtype: unknown field "pathtype", ignored: did you mean "pathType"?',
    ]);
  });
});

describe('v1beta1 conversion', () => {
  it('extensions/v1beta1 → v1: spec.backend → defaultBackend, serviceName/servicePort → service.name/port, pathType ImplementationSpecific', () => {
    const v = convertIngressV1beta1({ apiVersion: 'extensions/v1beta1', kind: 'Ingress', metadata: { name: 'x' }, spec: { backend: { serviceName: 'other', servicePort: 8080 }, rules: [{ host: 'a', http: { paths: [{ path: '/p', backend: { serviceName: 's', servicePort: 'http' } }] } }] } });
    expect(v).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'x' },
      spec: { defaultBackend: { service: { name: 'other', port: { number: 8080 } } }, rules: [{ host: 'a', http: { paths: [{ path: '/p', pathType: 'ImplementationSpecific', backend: { service: { name: 's', port: { name: 'http' } } } }] } }] },
    });
  });

  it('networking.k8s.io/v1beta1 runs too, with the loader\'s warning at its apiVersion', () => {
    const w = build(`${head()}---
apiVersion: networking.k8s.io/v1beta1
kind: Ingress
metadata: { name: old }
spec:
  rules:
    - host: a.example.com
      http: { paths: [{ path: /, backend: { serviceName: web, servicePort: 80 } }] }
`);
    expect(w.warnings.map(formatUserError)).toContain('i.yaml:25:13: apiVersion: networking.k8s.io/v1beta1 Ingress was removed in Kubernetes 1.22: use networking.k8s.io/v1 (podwire converts it to networking.k8s.io/v1: spec.backend → defaultBackend, serviceName/servicePort → service.name/port, a missing pathType → ImplementationSpecific)');
    const rows = w.controlPlane!.ingress!.rows();
    expect(rows[0]).toMatchObject({ host: 'a.example.com', path: '/', pathType: 'ImplementationSpecific', backend: 'web:80', ingress: 'default/old' });
    expect(rows[0]!.endpoints).toHaveLength(2);
  });
});

describe('classes and the controller\'s table', () => {
  const ing = (name: string, extra: string) => `---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: ${name}${extra.startsWith('annotations') ? `, ${extra}` : ''} }
spec:
${extra.startsWith('annotations') ? '' : `  ${extra}\n`}  rules: [{ host: ${name}.example.com, http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { name: http } } } }] } }]
`;

  it('serves Ingresses of class nginx (ingressClassName, the old annotation, or none with the default class); warns about others', () => {
    const w = build(`${head()}${ing('a', 'ingressClassName: nginx')}${ing('b', 'annotations: { kubernetes.io/ingress.class: nginx }')}${ing('c', 'ingressClassName: traefik')}${ing('d', '')}`);
    expect(new Set(w.controlPlane!.ingress!.rows().map((r) => r.host))).toEqual(new Set(['a.example.com', 'b.example.com', 'd.example.com', '_']));
    expect(w.warnings.map(formatUserError).filter((l) => l.includes('not served'))).toEqual(['i.yaml:40:19: metadata.name: Ingress default/c is stored but not served: no controller serves class "traefik"']);
  });

  it('without an ingress controller the Ingress is stored and a warning says nothing serves it', () => {
    const w = build(`${head(false)}${ing('a', 'ingressClassName: nginx')}`);
    expect(w.controlPlane!.ingress).toBeNull();
    expect(w.warnings.map(formatUserError)).toContain('i.yaml:26:19: metadata.name: Ingress default/a is stored but not served: no ingress controller runs in this scenario (add spec.cluster.ingressController)');
  });

  it('service-upstream: the upstream is the ClusterIP, not the pods', () => {
    const w = build(`${head()}${ing('a', 'annotations: { nginx.ingress.kubernetes.io/service-upstream: "true" }')}`);
    const svc = w.services.find((s) => s.name === 'web')!;
    const ip = [svc.clusterIP! >>> 24, (svc.clusterIP! >>> 16) & 255, (svc.clusterIP! >>> 8) & 255, svc.clusterIP! & 255].join('.');
    expect(w.controlPlane!.ingress!.rows()[0]!.endpoints).toEqual([`${ip}:80`]);
  });

  it('endpoints follow the EndpointSlice: a pod turning not ready leaves the upstream (endpointslices.go skips ready=false)', () => {
    const w = build(`${head()}${ing('a', 'ingressClassName: nginx')}`);
    const cp = w.controlPlane!;
    expect(cp.ingress!.rows()[0]!.endpoints).toHaveLength(2);
    const pod = w.cluster!.pods.find((p) => p.name.startsWith('web-'))!;
    cp.podContainersStopped(pod, 'test');
    w.sim.run({ until: 3e9 });
    expect(cp.ingress!.rows()[0]!.endpoints).toHaveLength(1);
  });

  it('the chart\'s objects: Deployment and Service ingress-nginx-controller in namespace ingress-nginx, IngressClass nginx (default)', () => {
    const w = build(head());
    const svc = w.services.find((s) => s.name === 'ingress-nginx-controller')!;
    expect([svc.namespace, svc.type, svc.ports.map((p) => `${p.name}:${p.port}`)]).toEqual(['ingress-nginx', 'NodePort', ['http:80', 'https:443']]);
    expect(w.cluster!.pods.filter((p) => p.namespace === 'ingress-nginx').map((p) => p.labels['app.kubernetes.io/component'])).toEqual(['controller']);
    expect(svc.ports[0]!.endpoints).toHaveLength(1);
  });
});
