// k8s/kubelet — the kubelet's pod lifecycle after the sandbox exists (pkg/kubelet: the PLEG noticing
// containers stop or start, the status manager writing the Ready condition, podKiller running
// KillPod after the deletion grace period). The pod's network goes away with its containers: its
// eth0 and the host end of its veth go down. Layer: k8s (imports core, k8s).
// Not modelled: probes (a stopped container is noticed at once; the EndpointSlice controller's
// watch delay stands for the probe period), restarts, preStop hooks, removing the Pod object once
// the grace period ends (it stays, not ready and terminating).
import type { Simulator } from '../core/simulator.js';
import type { Pod } from './api/objects.js';
import type { ApiStore, WatchEvent } from './api/store.js';
import type { ClusterPod } from './cluster.js';

/** The kubelets of every node (one object: they share the simulator and act on their own pods). */
export class Kubelet {
  private readonly byKey: Map<string, ClusterPod>;

  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    pods: ClusterPod[],
    private readonly record: (what: string) => void,
  ) {
    this.byKey = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  }

  /** Watches Pods for graceful deletes (the kubelet's pod workers). */
  start(): void {
    this.api.watch('Pod', (events) => {
      for (const e of events) this.podChanged(e);
    });
  }

  /** The pod's containers stopped (crashed, killed): its network is gone and it is not Ready. */
  containersStopped(pod: ClusterPod, reason: string): void {
    setPodLinks(pod, false);
    this.setReady(pod, false, reason);
  }

  /** The pod's containers run again: network up, Ready. */
  containersStarted(pod: ClusterPod, reason: string): void {
    setPodLinks(pod, true);
    this.setReady(pod, true, reason);
  }

  private setReady(pod: ClusterPod, ready: boolean, reason: string): void {
    const obj = this.api.get('Pod', pod.namespace, pod.name)!;
    this.api.update<Pod>({ ...obj, status: { ...obj.status, ready, reason } });
  }

  private podChanged(e: WatchEvent<Pod>): void {
    const obj = e.object;
    if (e.type !== 'MODIFIED' || e.old?.metadata.deletionTimestamp !== null || obj.metadata.deletionTimestamp === null) return;
    const pod = this.byKey.get(`${obj.metadata.namespace}/${obj.metadata.name}`);
    if (!pod) return;
    const graceNs = Math.round((obj.metadata.deletionGracePeriodSeconds ?? 30) * 1e9);
    this.sim.schedule(graceNs, () => {
      setPodLinks(pod, false);
      this.record(`pod ${pod.name} stopped (grace period over)`);
      this.setReady(pod, false, 'pod gone');
    });
  }
}

function setPodLinks(pod: ClusterPod, up: boolean): void {
  const eth0 = pod.ns.device('eth0');
  if (eth0) eth0.up = up;
  if (pod.hostVeth) pod.hostVeth.up = up;
}
