// k8s/addons — the add-ons kubeadm installs: the CoreDNS Deployment in kube-system and the kube-dns
// Service on the 10th address of the service range (kubeadm's `addon/dns` manifests). Their pods come
// first, so they take the first pod addresses, as on a real cluster. Layer: k8s (imports core, wire).
// With spec.cluster.ingressController, ingress-nginx's chart objects follow (ingress/addon.ts); a user's
// own ingress-nginx controller Deployment (deploy.yaml) is marked to run the controller. With
// spec.cluster.gatewayController, NGINX Gateway Fabric's chart objects (gateway/addon.ts).
// Not modelled: kube-proxy's DaemonSet (kube-proxy runs on every node without a Pod), the CoreDNS
// ConfigMap (the Corefile is fixed, see coredns.ts).
import type { UserError } from '../core/user-error.js';
import { formatIpv4, parseCidr } from '../wire/ipv4-addr.js';
import type { ClusterConfig, ManifestInput } from './cluster.js';
import { nginxGatewayManifests } from './gateway/addon.js';
import { adoptIngressNginx, ingressNginxManifests } from './ingress/addon.js';

const COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns:v1.11.3';

/** The add-ons' manifests followed by the user's. */
export function withAddOns(cfg: ClusterConfig, manifests: ManifestInput[], at: (path: (string | number)[], message: string) => UserError): ManifestInput[] {
  return [...dnsAddOn(cfg, at), ...ingressNginxManifests(cfg.ingressController, manifests, at), ...nginxGatewayManifests(cfg.gatewayController, manifests, at), ...adoptIngressNginx(manifests)];
}

/** kubeadm's CoreDNS Deployment and kube-dns Service, when cluster DNS is on. */
function dnsAddOn(cfg: ClusterConfig, at: (path: (string | number)[], message: string) => UserError): ManifestInput[] {
  if (!cfg.dns?.enabled) return [];
  const svcNet = parseCidr(cfg.serviceCIDR)!;
  const dnsIp = formatIpv4((svcNet.addr + 10) >>> 0);
  const error = (path: (string | number)[], message: string): UserError => at(['spec', 'cluster', 'dns', ...path], message);
  const labels = { 'k8s-app': 'kube-dns' };
  const deployment: ManifestInput = {
    kind: 'Deployment',
    value: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels: { ...labels } },
      spec: {
        replicas: cfg.dns.replicas,
        selector: { matchLabels: { ...labels } },
        template: {
          metadata: { labels: { ...labels } },
          spec: { containers: [{ name: 'coredns', image: COREDNS_IMAGE, ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }, { name: 'metrics', containerPort: 9153, protocol: 'TCP' }] }] },
        },
      },
    },
    error,
  };
  const service: ManifestInput = {
    kind: 'Service',
    value: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { ...labels } },
      spec: { clusterIP: dnsIp, selector: { ...labels }, ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 }, { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 }] },
    },
    error,
  };
  return [deployment, service];
}
