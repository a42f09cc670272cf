// scenario/endpoint-names — the names stats.json's per-flow endpoint breakdown gives whoever answered a
// ping or a UDP probe: a pod by its name, else the node or host namespace by its name. Layer: scenario.
import type { ClusterWorld } from '../k8s/cluster.js';
import type { Namespace } from '../net/namespace.js';
import type { Ipv4 } from '../wire/types.js';

interface Where {
  cluster: ClusterWorld | null;
  namespaces: Map<string, Namespace>;
}

/** The name a flow's endpoint breakdown gives a namespace: its pod's name, else the namespace's (a node, a host). */
export function nameOfNamespace(ctx: Where, ns: Namespace): string {
  return ctx.cluster?.pods.find((p) => p.ns === ns && !p.hostNetwork)?.name ?? ns.name;
}

/** Who owns `addr` (a pod by its IP, else the namespace holding the address), or null. */
export function addressOwner(ctx: Where, addr: Ipv4): string | null {
  const pod = ctx.cluster?.pods.find((p) => p.ip === addr && !p.hostNetwork);
  if (pod) return pod.name;
  for (const n of ctx.namespaces.values()) if (n.addrs.some((a) => a.addr === addr)) return nameOfNamespace(ctx, n);
  return null;
}
