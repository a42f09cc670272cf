// k8s/api/objects — the API objects podwire's control plane stores and watches, trimmed to the fields
// its controllers read (k8s.io/api core/v1 Pod, Node, Service; discovery/v1 EndpointSlice). Layer: k8s
// (imports core, wire, and k8s' own views). Any other kind (Ingress, IngressClass, Secret, …) can be
// stored as a plain ApiObject until it earns a type here.
import type { TimeNs } from '../../core/time.js';
import type { Ipv4 } from '../../wire/types.js';
import type { EndpointView, ServiceSpec } from '../services.js';

/** metav1.ObjectMeta, the fields podwire uses. */
export interface ObjectMeta {
  namespace: string;
  name: string;
  /** Set by the store on every write: a counter shared by all kinds (etcd's revision). */
  resourceVersion: string;
  labels: Record<string, string>;
  /** Set when a graceful delete starts (the object stays until its finalizers and grace end). */
  deletionTimestamp: TimeNs | null;
  /** The grace period of a graceful delete, in seconds. */
  deletionGracePeriodSeconds?: number;
  /** metadata.annotations, when the writer keeps them (external-dns reads its annotations here). */
  annotations?: Record<string, string>;
}

/** Any API object: a kind and metadata. */
export interface ApiObject {
  kind: string;
  metadata: ObjectMeta;
}

/** core/v1 Pod: where it runs and its Ready condition. */
export interface Pod extends ApiObject {
  kind: 'Pod';
  spec: { nodeName: string; hostNetwork: boolean };
  /**
   * status.podIP (0 while unscheduled) and the Ready condition with its reason; phase Pending while no
   * node is bound (spec.nodeName ''), absent while it runs, Succeeded / Failed once it terminated; its
   * containers' restarts (OnFailure).
   */
  status: { podIP: Ipv4; ready: boolean; reason: string; phase?: 'Pending' | 'Succeeded' | 'Failed'; restartCount?: number };
}

/** core/v1 Node: its InternalIP and Ready condition; spec.taints (the node lifecycle controller's, read by kube-proxy's health server). */
export interface Node extends ApiObject {
  kind: 'Node';
  spec?: { taints: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'; timeAdded?: TimeNs }[] };
  status: { internalIP: Ipv4; ready: boolean; reason: string };
}

/** core/v1 LoadBalancerIngress: an address of the Service's load balancer. */
export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  /** VIP: traffic reaches the nodes with the LB IP as destination; Proxy: the LB delivers to node IP:NodePort (or the pod). */
  ipMode?: 'VIP' | 'Proxy';
}

/** core/v1 Service after the API server's allocation (ClusterIP, NodePorts), with the status the load-balancer controller writes. */
export interface Service extends ApiObject {
  kind: 'Service';
  spec: ServiceSpec;
  /** status.loadBalancer as a load-balancer controller fills it (absent: spec.loadBalancerIPs stand for it). */
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] } };
}

/** discovery/v1 EndpointSlice: one per Service here, endpoints per service port. */
export interface EndpointSlice extends ApiObject {
  kind: 'EndpointSlice';
  /** The `kubernetes.io/service-name` label's Service. */
  serviceName: string;
  ports: { name: string; protocol: string; endpoints: readonly EndpointView[] }[];
}

/** The typed kinds; any other kind name maps to ApiObject. */
export interface KindMap {
  Pod: Pod;
  Node: Node;
  Service: Service;
  EndpointSlice: EndpointSlice;
}

/** The object type of a kind name. */
export type ObjectOf<K extends string> = K extends keyof KindMap ? KindMap[K] : ApiObject;

/** ObjectMeta for a new object (resourceVersion is set by the store). */
export function objectMeta(namespace: string, name: string, labels: Record<string, string> = {}): ObjectMeta {
  return { namespace, name, resourceVersion: '', labels, deletionTimestamp: null };
}
