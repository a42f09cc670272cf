// k8s/ingress/addon — the ingress-nginx install a scenario asks for with spec.cluster.ingressController,
// as the Helm chart renders it (charts/ingress-nginx: controller Deployment and Service in namespace
// ingress-nginx, labels app.kubernetes.io/{name,instance,component}, ports http 80 and https 443,
// IngressClass `nginx` for controller k8s.io/ingress-nginx). Layer: k8s (imports core).
// The chart's Service defaults to type LoadBalancer; a scenario may choose NodePort (docs/deploy/
// baremetal.md) and pin the node ports. The IngressClass is marked default when `defaultClass` is set
// (the chart's controller.ingressClassResource.default; podwire's default is true, as minikube's addon
// installs it, so Ingresses without a class — seed 002's — are served).
// Not modelled: the admission webhook, the ConfigMap, RBAC, the controller's leader election.
import type { UserError } from '../../core/user-error.js';
import type { ManifestInput } from '../cluster.js';
import { DEFAULT_CLASS_ANNOTATION } from './api.js';

/** spec.cluster.ingressController. */
export interface IngressControllerConfig {
  kind: 'nginx';
  replicas: number;
  service: { type: 'NodePort' | 'LoadBalancer'; nodePorts?: { http?: number | undefined; https?: number | undefined } | undefined; externalTrafficPolicy: 'Cluster' | 'Local' };
  defaultClass: boolean;
}

export const INGRESS_NGINX_NAMESPACE = 'ingress-nginx';
export const INGRESS_NGINX_IMAGE = 'registry.k8s.io/ingress-nginx/controller:v1.15.1';
/** The label set of the chart's controller pods. */
export const CONTROLLER_LABELS = { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/instance': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' } as const;
/** The controller's status port (--healthz-port / --status-port's default): /healthz answers 200. */
export const INGRESS_NGINX_HEALTH_PORT = 10254;
/** The podwire.dev/app value that runs the L7 proxy in a pod. */
export const INGRESS_NGINX_APP = 'ingress-nginx';

/** The chart's objects for a scenario's ingress controller (none without one). */
export function ingressNginxManifests(cfg: IngressControllerConfig | undefined, userManifests: readonly ManifestInput[], at: (path: (string | number)[], message: string) => UserError): ManifestInput[] {
  if (!cfg) return [];
  const error = (path: (string | number)[], message: string): UserError => at(['spec', 'cluster', 'ingressController', ...path], message);
  const labels = { ...CONTROLLER_LABELS };
  const ns = INGRESS_NGINX_NAMESPACE;
  const deployment: ManifestInput = {
    kind: 'Deployment',
    value: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'ingress-nginx-controller', namespace: ns, labels: { ...labels } },
      spec: {
        replicas: cfg.replicas,
        selector: { matchLabels: { ...labels } },
        template: {
          metadata: { labels: { ...labels }, annotations: { 'podwire.dev/app': INGRESS_NGINX_APP } },
          spec: { containers: [{ name: 'controller', image: INGRESS_NGINX_IMAGE, ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }, { name: 'https', containerPort: 443, protocol: 'TCP' }] }] },
        },
      },
    },
    error,
  };
  const np = cfg.service.nodePorts ?? {};
  const service: ManifestInput = {
    kind: 'Service',
    value: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ingress-nginx-controller', namespace: ns, labels: { ...labels } },
      spec: {
        type: cfg.service.type,
        externalTrafficPolicy: cfg.service.externalTrafficPolicy,
        selector: { ...labels },
        ports: [
          { name: 'http', port: 80, protocol: 'TCP', targetPort: 'http', ...(np.http !== undefined ? { nodePort: np.http } : {}) },
          { name: 'https', port: 443, protocol: 'TCP', targetPort: 'https', ...(np.https !== undefined ? { nodePort: np.https } : {}) },
        ],
      },
    },
    error,
  };
  const out = [deployment, service];
  const userHasClass = userManifests.some((m) => m.kind === 'IngressClass' && (m.value['metadata'] as { name?: string } | undefined)?.name === 'nginx');
  if (!userHasClass) {
    out.push({
      kind: 'IngressClass',
      value: { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx', labels: { ...labels }, annotations: cfg.defaultClass ? { [DEFAULT_CLASS_ANNOTATION]: 'true' } : {} }, spec: { controller: 'k8s.io/ingress-nginx' } },
      error,
    });
  }
  return out;
}

/** Images of ingress-nginx's controller: registry.k8s.io/ingress-nginx/controller (and its chroot variant, the older k8s.gcr.io path), quay.io's nginx-ingress-controller of releases before 0.33. */
const CONTROLLER_IMAGE = /(^|\/)(ingress-nginx\/controller(-chroot)?|nginx-ingress-controller)(:|@|$)/;
const CONTROLLER_KINDS = ['Deployment', 'DaemonSet', 'StatefulSet'];

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => x !== null && typeof x === 'object' && !Array.isArray(x);

/** True for a pod template running ingress-nginx's controller: its image, or its /nginx-ingress-controller entry point. */
function runsControllerImage(template: unknown): boolean {
  const spec = isObj(template) ? template['spec'] : undefined;
  const containers = isObj(spec) && Array.isArray(spec['containers']) ? (spec['containers'] as unknown[]) : [];
  return containers.some((c) => isObj(c) && ((typeof c['image'] === 'string' && CONTROLLER_IMAGE.test(c['image'])) || [c['args'], c['command']].some((a) => Array.isArray(a) && a[0] === '/nginx-ingress-controller')));
}

/**
 * The user's own ingress-nginx install (the project's deploy.yaml, `helm template` output): its
 * controller Deployment / DaemonSet gets `podwire.dev/app: ingress-nginx` on its pod template (unless it
 * names another app), so its pods run the controller — routing, TLS with the Ingresses' Secrets — as the
 * spec.cluster.ingressController add-on's do, instead of a plain server on its declared ports. Other
 * manifests are returned as they are.
 */
export function adoptIngressNginx(manifests: readonly ManifestInput[]): ManifestInput[] {
  return manifests.map((m) => {
    if (!CONTROLLER_KINDS.includes(m.kind)) return m;
    const spec = m.value['spec'];
    const template = isObj(spec) ? spec['template'] : undefined;
    if (!isObj(spec) || !isObj(template) || !runsControllerImage(template)) return m;
    const md = isObj(template['metadata']) ? template['metadata'] : {};
    const annotations = isObj(md['annotations']) ? md['annotations'] : {};
    if (annotations['podwire.dev/app'] !== undefined) return m;
    const value = { ...m.value, spec: { ...spec, template: { ...template, metadata: { ...md, annotations: { ...annotations, 'podwire.dev/app': INGRESS_NGINX_APP } } } } };
    return { ...m, value };
  });
}

/** True when some workload's pods run the ingress controller (the add-on's, or an adopted install). */
export function runsIngressNginx(manifests: readonly ManifestInput[]): boolean {
  return manifests.some((m) => {
    if (!CONTROLLER_KINDS.includes(m.kind)) return false;
    const spec = m.value['spec'];
    const template = isObj(spec) ? spec['template'] : undefined;
    const md = isObj(template) ? template['metadata'] : undefined;
    const annotations = isObj(md) ? md['annotations'] : undefined;
    return isObj(annotations) && annotations['podwire.dev/app'] === INGRESS_NGINX_APP;
  });
}
