// k8s/replica-controller — the ReplicaSet controller's reaction to a pod going away
// (pkg/controller/replicaset syncReplicaSet → manageReplicas): a pod with a deletionTimestamp no
// longer counts as active (controller.FilterActivePods), so the moment a pod of a ReplicaSet (or of a
// Deployment's ReplicaSet) is deleted — by a user, Chaos Mesh's pod-kill or the taint manager's
// eviction — the controller creates a new pod from the template, named <replicaset>-<5 chars> from the
// ReplicaSet's name stream (`k8s/replicaset/NS/NAME`, continuing the names drawn at start); likewise
// when a pod turns Failed or is removed outright (the pod GC's force delete of a deleted node's pods). The
// scheduler binds it to a Ready node without an untolerated taint (kube-scheduler's filters,
// scheduler.ts), the kubelet there runs its sandbox (new namespace, veth, next pod IP) and its app.
// Layer: k8s (imports core, k8s).
// Not modelled: StatefulSet pods (replaced only once the old Pod object is gone, which on a dead node
// needs a force delete), DaemonSet and Job pods, the controller's expectations and burst limits, the
// scheduler's and kubelet's latency (the new pod runs in the same instant), a new pod's devices in the
// capture (they are created after the capture's interfaces were chosen; cni0 and the node's
// interfaces show its traffic).
import type { Simulator } from '../core/simulator.js';
import type { Pod } from './api/objects.js';
import type { ApiStore } from './api/store.js';
import { objectMeta } from './api/objects.js';
import type { ClusterPod, ClusterWorld } from './cluster.js';
import type { Kubelet } from './kubelet.js';
import { generateNames } from './names.js';

/** Watches Pods; replaces deleted pods of ReplicaSets and Deployments. */
export function startReplicaController(sim: Simulator, api: ApiStore, cluster: ClusterWorld, kubelet: Kubelet, record: (what: string) => void): void {
  api.watch('Pod', (events) => {
    for (const e of events) {
      if (e.old === null) continue;
      // A pod leaves the active set (controller.FilterActivePods): deleted gracefully (a deletionTimestamp),
      // failed (the pod GC marks an orphan Failed before deleting it) or removed without either (a DELETE
      // with grace period 0). A pod that left it already (Failed, then deleted) was replaced then.
      if (!isActive(e.old) || (e.type !== 'DELETED' && isActive(e.object))) continue;
      const pod = cluster.pods.find((p) => p.namespace === e.object.metadata.namespace && p.name === e.object.metadata.name);
      if (!pod || !replicated(pod)) continue;
      // The controller's own sync, after this write's watchers have run (same instant).
      sim.schedule(0, () => replace(sim, api, cluster, kubelet, pod, record));
    }
  });
}

/** A pod of a ReplicaSet (or of a Deployment's ReplicaSet): the pods this controller replaces. */
function replicated(pod: ClusterPod): boolean {
  return pod.owner !== null && (pod.owner.kind === 'Deployment' || pod.owner.kind === 'ReplicaSet');
}

/** controller.FilterActivePods: not Succeeded or Failed, no deletionTimestamp. */
function isActive(p: Pod): boolean {
  return p.metadata.deletionTimestamp === null && p.status.phase !== 'Succeeded' && p.status.phase !== 'Failed';
}

function replace(sim: Simulator, api: ApiStore, cluster: ClusterWorld, kubelet: Kubelet, old: ClusterPod, record: (what: string) => void): void {
  const owner = old.owner;
  if (owner === null || !replicated(old)) return;
  const def = cluster.spawner.defOf(old);
  if (!def) return;
  const rs = old.name.slice(0, old.name.lastIndexOf('-'));
  const rng = sim.rng.stream(`k8s/replicaset/${old.namespace}/${owner.name}`);
  let name = generateNames(rs, 1, rng)[0]!;
  while (cluster.pods.some((p) => p.namespace === old.namespace && p.name === name)) name = generateNames(rs, 1, rng)[0]!;
  const ready = cluster.nodes.filter((n) => api.get('Node', '', n.name)?.status.ready === true);
  const taintsOf = (n: ClusterPod['node']) => (api.get('Node', '', n.name)?.spec?.taints ?? []).map((t) => ({ key: t.key, effect: t.effect }));
  const pod = cluster.spawner.spawn({ ...def, name }, ready, taintsOf);
  if (typeof pod === 'string') {
    record(`replicaset ${rs}: replacement for ${old.name} stays Pending: ${pod}`);
    return;
  }
  record(`replicaset ${rs}: created pod ${pod.name} (replaces ${old.name}); scheduler: bound to ${pod.node.name}`);
  api.create<Pod>({ kind: 'Pod', metadata: objectMeta(pod.namespace, pod.name, pod.labels), spec: { nodeName: pod.node.name, hostNetwork: pod.hostNetwork }, status: { podIP: pod.ip, ready: false, reason: 'ContainersNotReady' } });
  kubelet.podCreated(pod);
}
