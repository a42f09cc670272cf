// k8s/api-versions — which kinds podwire models, and the API versions Kubernetes has removed, as the
// API server's discovery would answer `kubectl apply`. Layer: k8s (imports nothing). Mirrors the
// Kubernetes deprecated-API migration guide (kubernetes.io/docs/reference/using-api/deprecation-guide):
// each removed group/version with the release that removed it and the version to use instead.
// podwire runs an object written against a removed version as its replacement and warns; a real
// API server would refuse it ("no matches for kind ... in version ...").

/** Kinds podwire gives a network meaning; every other kind is accepted and ignored with a warning. */
export const MODELLED_KINDS = ['Node', 'Namespace', 'Pod', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Service', 'Endpoints', 'EndpointSlice', 'DNSEndpoint', 'Ingress', 'IngressClass', 'Secret', 'PodDisruptionBudget'] as const;

/** The served apiVersion of each modelled kind. */
export const SERVED_VERSION: Record<(typeof MODELLED_KINDS)[number], string> = {
  Node: 'v1',
  Namespace: 'v1',
  Pod: 'v1',
  Deployment: 'apps/v1',
  ReplicaSet: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
  Service: 'v1',
  Endpoints: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  DNSEndpoint: 'externaldns.k8s.io/v1alpha1',
  Ingress: 'networking.k8s.io/v1',
  IngressClass: 'networking.k8s.io/v1',
  Secret: 'v1',
  PodDisruptionBudget: 'policy/v1',
};

/**
 * Kinds whose removed versions differ in shape from the served one: the loader leaves their
 * apiVersion alone and their admission converts them (k8s/ingress/api.ts), as the API server's
 * conversion does; the note says what the conversion does.
 */
export const CONVERTED_ON_ADMISSION: Partial<Record<(typeof MODELLED_KINDS)[number], string>> = {
  Ingress: 'podwire converts it to networking.k8s.io/v1: spec.backend → defaultBackend, serviceName/servicePort → service.name/port, a missing pathType → ImplementationSpecific',
};

interface Removal {
  /** Release that stopped serving the version. */
  removedIn: string;
  /** The version to use instead, per kind ('*' for every kind of the group). */
  replacement: Record<string, string>;
}

/** Removed group/versions (the deprecation guide's table). */
const REMOVED: Record<string, Removal> = {
  'extensions/v1beta1': {
    removedIn: '1.16/1.22',
    replacement: { Deployment: 'apps/v1', DaemonSet: 'apps/v1', ReplicaSet: 'apps/v1', NetworkPolicy: 'networking.k8s.io/v1', PodSecurityPolicy: 'policy/v1beta1 (itself removed in 1.25: use Pod Security Admission)', Ingress: 'networking.k8s.io/v1' },
  },
  'apps/v1beta1': { removedIn: '1.16', replacement: { '*': 'apps/v1' } },
  'apps/v1beta2': { removedIn: '1.16', replacement: { '*': 'apps/v1' } },
  'networking.k8s.io/v1beta1': { removedIn: '1.22', replacement: { '*': 'networking.k8s.io/v1' } },
  'rbac.authorization.k8s.io/v1beta1': { removedIn: '1.22', replacement: { '*': 'rbac.authorization.k8s.io/v1' } },
  'apiextensions.k8s.io/v1beta1': { removedIn: '1.22', replacement: { '*': 'apiextensions.k8s.io/v1' } },
  'admissionregistration.k8s.io/v1beta1': { removedIn: '1.22', replacement: { '*': 'admissionregistration.k8s.io/v1' } },
  'apiregistration.k8s.io/v1beta1': { removedIn: '1.22', replacement: { '*': 'apiregistration.k8s.io/v1' } },
  'certificates.k8s.io/v1beta1': { removedIn: '1.22', replacement: { '*': 'certificates.k8s.io/v1' } },
  'coordination.k8s.io/v1beta1': { removedIn: '1.22', replacement: { '*': 'coordination.k8s.io/v1' } },
  'scheduling.k8s.io/v1beta1': { removedIn: '1.22', replacement: { '*': 'scheduling.k8s.io/v1' } },
  'batch/v1beta1': { removedIn: '1.25', replacement: { '*': 'batch/v1' } },
  'discovery.k8s.io/v1beta1': { removedIn: '1.25', replacement: { '*': 'discovery.k8s.io/v1' } },
  'events.k8s.io/v1beta1': { removedIn: '1.25', replacement: { '*': 'events.k8s.io/v1' } },
  'policy/v1beta1': { removedIn: '1.25', replacement: { '*': 'policy/v1' } },
  'node.k8s.io/v1beta1': { removedIn: '1.25', replacement: { '*': 'node.k8s.io/v1' } },
  'autoscaling/v2beta1': { removedIn: '1.25', replacement: { '*': 'autoscaling/v2' } },
  'autoscaling/v2beta2': { removedIn: '1.26', replacement: { '*': 'autoscaling/v2' } },
  'flowcontrol.apiserver.k8s.io/v1beta1': { removedIn: '1.26', replacement: { '*': 'flowcontrol.apiserver.k8s.io/v1' } },
  'flowcontrol.apiserver.k8s.io/v1beta2': { removedIn: '1.29', replacement: { '*': 'flowcontrol.apiserver.k8s.io/v1' } },
};

/** True when podwire models the kind. */
export function isModelledKind(kind: string): kind is (typeof MODELLED_KINDS)[number] {
  return (MODELLED_KINDS as readonly string[]).includes(kind);
}

/** A removed apiVersion of `kind`: the release that removed it and the version to use, or null. */
export function removedApiVersion(apiVersion: string, kind: string): { removedIn: string; replacement: string } | null {
  const r = REMOVED[apiVersion];
  if (!r) return null;
  const replacement = r.replacement[kind] ?? r.replacement['*'] ?? (isModelledKind(kind) ? SERVED_VERSION[kind] : 'a current version');
  return { removedIn: r.removedIn, replacement };
}

/**
 * Kinds the API server keeps outside namespaces, as its discovery says (`kubectl api-resources
 * --namespaced=false`, Kubernetes 1.33), and the cluster-scoped kinds of CRDs often applied beside
 * workloads (cert-manager, Gateway API, Calico, MetalLB has none); `kubectl apply -n` leaves them as they
 * are. Every other kind is namespaced unless a CustomResourceDefinition in the same file says otherwise.
 */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'ComponentStatus', 'Namespace', 'Node', 'PersistentVolume',
  'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding',
  'CustomResourceDefinition', 'APIService', 'SelfSubjectReview', 'TokenReview', 'SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'SubjectAccessReview',
  'CertificateSigningRequest', 'ClusterTrustBundle', 'FlowSchema', 'PriorityLevelConfiguration',
  'IngressClass', 'IPAddress', 'ServiceCIDR', 'RuntimeClass', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass',
  'CSIDriver', 'CSINode', 'StorageClass', 'VolumeAttachment', 'VolumeAttributesClass', 'DeviceClass', 'ResourceSlice', 'StorageVersion', 'StorageVersionMigration',
  'ClusterIssuer', 'GatewayClass', 'GlobalNetworkPolicy', 'GlobalNetworkSet', 'IPPool', 'FelixConfiguration', 'BGPConfiguration', 'BGPPeer', 'ClusterInformation', 'HostEndpoint',
]);
