// k8s/scheduler — kube-scheduler, reduced to a deterministic choice: spec.nodeName binds the pod
// there; otherwise the node with the fewest pods, then node order (what the default scorer's
// spreading gives on equal nodes). Layer: k8s (imports k8s).
// Not modelled: resources, taints and tolerations, affinity, topology spread constraints.
import type { ClusterNode } from './cluster.js';

/** The node a pod is bound to, or an error message. */
export function schedulePod(nodes: ClusterNode[], nodeName: string | undefined): ClusterNode | string {
  if (nodeName !== undefined) return nodes.find((n) => n.name === nodeName) ?? `no node "${nodeName}" (nodes: ${nodes.map((n) => n.name).join(', ')})`;
  return nodes.reduce((best, n) => (n.pods.length < best.pods.length ? n : best), nodes[0]!);
}
