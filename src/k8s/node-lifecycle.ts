// k8s/node-lifecycle — kube-controller-manager's node lifecycle controller
// (pkg/controller/nodelifecycle): when a Node stops being Ready, the Ready condition of every pod
// bound to it turns false, in one pass (MarkPodsNotReady). A node whose kubelet stops posting its
// status (a crash) is marked Ready=Unknown once --node-monitor-grace-period has passed since its last
// heartbeat, and tainted node.kubernetes.io/unreachable:NoExecute (taint-based eviction: the taint
// manager, taint-manager.ts, evicts its pods); when the kubelet reports again the condition and the
// taint go. Layer: k8s (imports core, k8s).
// Not modelled: the heartbeat (lease renewal every 10 s) and monitor (every 5 s) periods — the Node is
// marked exactly one grace period after the kubelet stopped —, zone disruption rates, the
// node.kubernetes.io/not-ready taint of a kubelet that reports NotReady itself.
import type { SimEvent } from '../core/scheduler.js';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { Node, Pod } from './api/objects.js';
import type { ApiStore, Write } from './api/store.js';

/** The taint key of a node whose kubelet stopped reporting. */
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
/** kube-controller-manager --node-monitor-grace-period default (1.31: 40 s). */
export const DEFAULT_NODE_MONITOR_GRACE_NS = 40e9;

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

/** monitorNodeHealth for kubelets that stop and start reporting (node-crash, node-reboot). */
export class NodeHealthMonitor {
  private readonly pending = new Map<string, SimEvent>();

  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    private readonly graceNs: TimeNs,
    private readonly record: (what: string) => void,
  ) {}

  /** The node's kubelet posted its last status now: Ready=Unknown and the unreachable taint one grace period later. */
  kubeletStopped(name: string): void {
    if (this.pending.has(name)) return;
    this.pending.set(
      name,
      this.sim.schedule(this.graceNs, () => {
        this.pending.delete(name);
        const obj = this.api.get('Node', '', name);
        if (!obj) return; // deleted meanwhile: nothing to mark (monitorNodeHealth forgets it)
        const taints = [...(obj.spec?.taints ?? []).filter((t) => t.key !== UNREACHABLE_TAINT), { key: UNREACHABLE_TAINT, effect: 'NoExecute' as const, timeAdded: this.sim.now }];
        this.record(`node-lifecycle: node ${name} NotReady (Kubelet stopped posting node status for ${this.graceNs / 1e9}s), tainted ${UNREACHABLE_TAINT}:NoExecute`);
        this.api.update<Node>({ ...obj, spec: { taints }, status: { ...obj.status, ready: false, reason: 'NodeStatusUnknown' } });
      }),
    );
  }

  /** The kubelet reports again: the grace period starts over; a Node marked Unknown turns Ready and loses the taint. */
  kubeletStarted(name: string): void {
    this.pending.get(name)?.cancel();
    this.pending.delete(name);
    const obj = this.api.get('Node', '', name);
    if (!obj || obj.status.ready) return;
    this.record(`node-lifecycle: node ${name} Ready, taint ${UNREACHABLE_TAINT} removed`);
    this.api.update<Node>({ ...obj, spec: { taints: (obj.spec?.taints ?? []).filter((t) => t.key !== UNREACHABLE_TAINT) }, status: { ...obj.status, ready: true, reason: 'KubeletReady' } });
  }
}
