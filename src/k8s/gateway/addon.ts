// k8s/gateway/addon — NGINX Gateway Fabric 1.x as its Helm chart installs it (charts/nginx-gateway-fabric),
// asked for with spec.cluster.gatewayController: one `nginx-gateway` Deployment in namespace
// nginx-gateway (the control plane and nginx in one pod; nginx listens on the listeners' ports 80 and
// 443), the `nginx-gateway` Service (the chart's LoadBalancer, or NodePort with pinned node ports; ports
// http 80 and https 443) and the GatewayClass `nginx` for controllerName
// gateway.nginx.org/nginx-gateway-controller. Layer: k8s (imports core).
// Not modelled: the Gateway API CRDs themselves (the kinds are always served), RBAC, the NginxProxy and
// NginxGateway resources, leader election, the metrics port's content.
import type { UserError } from '../../core/user-error.js';
import type { ManifestInput } from '../cluster.js';
import { NGF_CONTROLLER_NAME } from './controller.js';

/** spec.cluster.gatewayController. */
export interface GatewayControllerConfig {
  kind: 'nginx-gateway-fabric';
  replicas: number;
  service: { type: 'NodePort' | 'LoadBalancer'; nodePorts?: { http?: number | undefined; https?: number | undefined } | undefined; externalTrafficPolicy: 'Cluster' | 'Local' };
}

export const NGF_NAMESPACE = 'nginx-gateway';
export const NGF_IMAGE = 'ghcr.io/nginxinc/nginx-gateway-fabric:1.6.2';
export const NGF_NGINX_IMAGE = 'ghcr.io/nginxinc/nginx-gateway-fabric/nginx:1.6.2';
/** The podwire.dev/app value that runs NGF's nginx (an L7 proxy fed by the Gateway controller). */
export const NGF_APP = 'nginx-gateway';
/** The control plane's health port (/readyz, the chart's readiness probe). */
export const NGF_HEALTH_PORT = 8081;
const LABELS = { 'app.kubernetes.io/name': 'nginx-gateway', 'app.kubernetes.io/instance': 'nginx-gateway' } as const;

/** The chart's objects for a scenario's gateway controller (none without one). */
export function nginxGatewayManifests(cfg: GatewayControllerConfig | undefined, userManifests: readonly ManifestInput[], at: (path: (string | number)[], message: string) => UserError): ManifestInput[] {
  if (!cfg) return [];
  const error = (path: (string | number)[], message: string): UserError => at(['spec', 'cluster', 'gatewayController', ...path], message);
  const ns = NGF_NAMESPACE;
  const np = cfg.service.nodePorts ?? {};
  const out: ManifestInput[] = [
    {
      kind: 'Deployment',
      value: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'nginx-gateway', namespace: ns, labels: { ...LABELS } },
        spec: {
          replicas: cfg.replicas,
          selector: { matchLabels: { ...LABELS } },
          template: {
            metadata: { labels: { ...LABELS }, annotations: { 'podwire.dev/app': NGF_APP } },
            spec: {
              containers: [
                { name: 'nginx-gateway', image: NGF_IMAGE, ports: [{ name: 'health', containerPort: NGF_HEALTH_PORT, protocol: 'TCP' }] },
                { name: 'nginx', image: NGF_NGINX_IMAGE, ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }, { name: 'https', containerPort: 443, protocol: 'TCP' }] },
              ],
            },
          },
        },
      },
      error,
    },
    {
      kind: 'Service',
      value: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'nginx-gateway', namespace: ns, labels: { ...LABELS } },
        spec: {
          type: cfg.service.type,
          externalTrafficPolicy: cfg.service.externalTrafficPolicy,
          selector: { ...LABELS },
          ports: [
            { name: 'http', port: 80, protocol: 'TCP', targetPort: 80, ...(np.http !== undefined ? { nodePort: np.http } : {}) },
            { name: 'https', port: 443, protocol: 'TCP', targetPort: 443, ...(np.https !== undefined ? { nodePort: np.https } : {}) },
          ],
        },
      },
      error,
    },
  ];
  const userHasClass = userManifests.some((m) => m.kind === 'GatewayClass' && (m.value['metadata'] as { name?: string } | undefined)?.name === 'nginx');
  if (!userHasClass) out.push({ kind: 'GatewayClass', value: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'nginx', labels: { ...LABELS } }, spec: { controllerName: NGF_CONTROLLER_NAME } }, error });
  return out;
}
