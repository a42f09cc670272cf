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
