// k8s/pod-uid — a pod's identity as the kubelet and the container runtime key it: metadata.uid, one per
// Pod object, so a pod deleted and created again under the same name (a StatefulSet's `web-3`) is a
// new sandbox with new containers, probes and timers, never the old one's (pkg/kubelet keys its pod
// workers, the status manager and the PLEG by UID; the CRI keys sandboxes by their own id). podwire's
// uid is the ClusterPod object's sequence number: it never appears in an output, so its values need
// no seed. Layer: k8s (imports k8s types).
import type { Pod } from './api/objects.js';
import type { ApiStore } from './api/store.js';
import type { ClusterPod } from './cluster.js';

const uids = new WeakMap<ClusterPod, string>();
let next = 0;

/** The pod's uid: `namespace/name#n`, n unique per sandbox (a ClusterPod object). */
export function podUid(pod: ClusterPod): string {
  let u = uids.get(pod);
  if (u === undefined) uids.set(pod, (u = `${pod.namespace}/${pod.name}#${next++}`));
  return u;
}

/** The newest of `pods` named namespace/name: the live sandbox when a name was used again (older ones are gone). */
export function currentPod<P extends { namespace: string; name: string }>(pods: readonly P[], namespace: string, name: string): P | undefined {
  for (let i = pods.length - 1; i >= 0; i--) {
    const p = pods[i]!;
    if (p.name === name && p.namespace === namespace) return p;
  }
  return undefined;
}

/** The pod's object in the API server, if it is this sandbox's (a name used again belongs to the newest pod). */
export function podObject(api: ApiStore, pod: ClusterPod): Pod | undefined {
  const obj = api.get('Pod', pod.namespace, pod.name);
  return obj && obj.status.podIP === pod.ip ? obj : undefined;
}
