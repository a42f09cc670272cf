// k8s/node-lifecycle — kube-controller-manager's node lifecycle controller
// (pkg/controller/nodelifecycle, MarkPodsNotReady): when a Node stops being Ready, the Ready condition
// of every pod bound to it turns false, in one pass. Layer: k8s (imports k8s).
// Not modelled: the node monitor grace period (the Node is marked down at once), taint-based
// eviction, zone disruption rates.
import type { Node, Pod } from './api/objects.js';
import type { ApiStore, Write } from './api/store.js';

/** Watches Nodes; marks the pods of a node that went down not ready. */
export function startNodeLifecycleController(api: ApiStore): void {
  api.watch('Node', (events) => {
    for (const e of events) {
      if (e.type !== 'MODIFIED' || !e.old?.status.ready || e.object.status.ready) continue;
      markPodsNotReady(api, e.object);
    }
  });
}

function markPodsNotReady(api: ApiStore, node: Node): void {
  const reason = `node ${node.metadata.name} down`;
  const writes: Write[] = api
    .list('Pod')
    .filter((p) => p.spec.nodeName === node.metadata.name)
    .map((p): Write => {
      const notReady: Pod = { ...p, status: { ...p.status, ready: false, reason } };
      return { op: 'update', object: notReady };
    });
  api.commit(writes);
}
