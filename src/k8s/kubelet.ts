// k8s/kubelet — the kubelet (pkg/kubelet): RunPodSandbox (a network namespace per pod, or the node's
// own for hostNetwork pods, then CNI ADD through cni-bridge.ts), and the pod lifecycle after that: the
// PLEG noticing containers stop or start, the status manager writing the Ready condition, podKiller
// running KillPod after the deletion grace period. The pod's network goes away with its containers:
// its eth0 and the host end of its veth go down. Layer: k8s (imports core, k8s).
// A pod with probes is left to its probes (prober.ts): containers stopping take its network and app
// away but write no Ready condition; a liveness failure restarts its containers (container-runtime.ts).
// A pod without probes is Ready once its sandbox is up, and a stopped container is noticed at once
// (the EndpointSlice controller's watch delay stands for the time to notice).
// Not modelled: preStop hooks, restart back-off, removing the Pod object once the grace period ends
// (it stays, not ready and terminating).
import type { Simulator } from '../core/simulator.js';
import type { Pod } from './api/objects.js';
import type { ApiStore, WatchEvent } from './api/store.js';
import type { ClusterNode, ClusterPod } from './cluster.js';
import { allocatePodIp, cniAdd, ensureCni0, type CniBridgeConfig } from './cni-bridge.js';
import type { ContainerRuntime } from './container-runtime.js';
import type { ContainerT } from './manifests.js';
import { hasProbes, type Prober } from './prober.js';
import type { PodDef } from './desired-state.js';
import type { Inventory } from './inventory.js';

/** RunPodSandbox on `node`: the pod's namespace (`nsName`) plugged into cni0, or the node's for hostNetwork. Returns an error message when the subnet is full. */
export function runPodSandbox(inv: Inventory, cni: CniBridgeConfig, node: ClusterNode, def: PodDef, nsName: string): ClusterPod | string {
  const pod = (ns: ClusterPod['ns'], ip: ClusterPod['ip'], hostVeth: ClusterPod['hostVeth']): ClusterPod => ({ name: def.name, namespace: def.namespace, labels: def.labels, annotations: def.annotations, node, ns, ip, hostNetwork: hostVeth === null, hostVeth, spec: def.spec, deployment: def.deployment, owner: def.owner });
  if (def.spec.hostNetwork) return pod(node.ns, node.ip, null);
  ensureCni0(inv, cni, node);
  const ip = allocatePodIp(node);
  if (ip === null) return `node ${node.name}'s pod subnet is full`;
  const ns = inv.newNs(nsName);
  return pod(ns, ip, cniAdd(inv, cni, node, ns, ip));
}

/** The kubelets of every node (one object: they share the simulator and act on their own pods). */
export class Kubelet {
  private readonly byKey: Map<string, ClusterPod>;
  /** The prober manager, once probes run (ControlPlane.startProbes). */
  prober: Prober | null = null;

  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    pods: ClusterPod[],
    private readonly runtime: ContainerRuntime,
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

  /** The pod's containers stopped (crashed, killed): its network is gone; not Ready at once, or when its probes say so. */
  containersStopped(pod: ClusterPod, reason: string): void {
    setPodLinks(pod, false);
    if (hasProbes(pod)) this.runtime.stopApp(pod);
    else this.setReady(pod, false, reason);
  }

  /** The pod's containers run again: network up; Ready at once, or when its probes say so. */
  containersStarted(pod: ClusterPod, reason: string): void {
    setPodLinks(pod, true);
    if (hasProbes(pod)) this.restartContainers(pod, reason);
    else this.setReady(pod, true, reason);
  }

  /** A liveness or startup probe failed: kill the pod's containers and start them again (syncPod). */
  containerFailed(pod: ClusterPod, container: ContainerT, why: string): void {
    this.restartContainers(pod, `${container.name} ${why}`);
  }

  private restartContainers(pod: ClusterPod, why: string): void {
    const n = this.runtime.restart(pod);
    this.record(`kubelet: ${pod.name} containers restarted (restart ${n}: ${why})`);
    this.prober?.containersRestarted(pod);
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
      this.prober?.stopPod(pod);
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
