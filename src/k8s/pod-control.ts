// k8s/pod-control — what every workload controller does to create or delete one of its pods
// (pkg/controller controller_utils.go RealPodControl): schedule the pod onto a Ready node (kube-scheduler's
// filters, scheduler.ts) and run its sandbox (ClusterWorld.spawner), store the Pod, hand it to its
// node's kubelet; or start a graceful delete (deletionTimestamp and the pod's grace period). Layer: k8s.
import type { Simulator } from '../core/simulator.js';
import { objectMeta, type Pod } from './api/objects.js';
import type { ApiStore } from './api/store.js';
import type { ClusterNode, ClusterPod, ClusterWorld } from './cluster.js';
import type { PodDef } from './desired-state.js';
import type { Kubelet } from './kubelet.js';
import { graceSecondsOf } from './pod-termination.js';

/** Schedules `def` onto one of `nodes` (default: the Ready ones) and runs its sandbox; returns why it stays Pending otherwise. */
export function bindPod(api: ApiStore, cluster: ClusterWorld, def: PodDef, nodes?: ClusterNode[]): ClusterPod | string {
  const ready = nodes ?? cluster.nodes.filter((n) => api.get('Node', '', n.name)?.status.ready === true);
  return cluster.spawner.spawn(def, ready, apiTaints(api));
}

/** A node's taints as the API's Node object has them now (cordon, the node lifecycle controller's). */
export function apiTaints(api: ApiStore): (n: ClusterNode) => { key: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[] {
  return (n) => (api.get('Node', '', n.name)?.spec?.taints ?? []).map((t) => ({ key: t.key, effect: t.effect }));
}

/** Stores a bound pod's Pod object (not ready yet) and lets its kubelet start it. */
export function startPod(api: ApiStore, kubelet: Kubelet, pod: ClusterPod): void {
  api.create<Pod>({ kind: 'Pod', metadata: objectMeta(pod.namespace, pod.name, pod.labels), spec: { nodeName: pod.node.name, hostNetwork: pod.hostNetwork }, status: { podIP: pod.ip, ready: false, reason: 'ContainersNotReady' } });
  kubelet.podCreated(pod);
}

/** A graceful delete (the API server sets deletionTimestamp with the pod's grace period); returns the grace period in seconds. */
export function deletePodGracefully(sim: Simulator, api: ApiStore, pod: ClusterPod): number {
  const obj = api.get('Pod', pod.namespace, pod.name)!;
  const grace = graceSecondsOf(pod);
  api.update<Pod>({ ...obj, metadata: { ...obj.metadata, deletionTimestamp: sim.now, deletionGracePeriodSeconds: grace } });
  return grace;
}
