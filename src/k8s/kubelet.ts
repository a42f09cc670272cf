// k8s/kubelet — the kubelet (pkg/kubelet): RunPodSandbox (a network namespace per pod, or the node's
// own for hostNetwork pods, then CNI ADD through cni-bridge.ts), and the pod lifecycle after that: the
// PLEG noticing containers stop or start, the status manager writing the Ready condition, podKiller
// running KillPod after the deletion grace period. The pod's network goes away with its containers:
// its eth0 and the host end of its veth go down. Layer: k8s (imports core, k8s).
// A pod with probes is left to its probes (prober.ts): containers stopping take its network and app
// away but write no Ready condition; a liveness failure restarts its containers (container-runtime.ts).
// A pod without probes is Ready once its sandbox is up, and a stopped container is noticed at once
// (the EndpointSlice controller's watch delay stands for the time to notice).
// A container that exits (container-kill, a liveness failure) is restarted per the pod's restartPolicy
// after the CrashLoopBackOff delay (crash-loop.ts); meanwhile the pod is not Ready. A crashed node's
// kubelet does nothing until the node boots: then its pods' containers start again (restart counts
// grow) and pods deleted meanwhile stay down. A pod a controller creates later (replica-controller.ts)
// is started through `podStarter` (the scenario runs its app) and probed like the first ones.
// Not modelled: preStop hooks, removing the Pod object once the grace period ends (it stays, not
// ready and terminating), image pulls and sandbox start latency (a new pod's container runs at once).
import type { SimEvent } from '../core/scheduler.js';
import type { Simulator } from '../core/simulator.js';
import { CrashLoopBackOff } from './crash-loop.js';
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
  /** The prober manager, once probes run (ControlPlane.startProbes). */
  prober: Prober | null = null;
  /** Runs the app of a pod created after start (the scenario's workloads set it). */
  podStarter: ((pod: ClusterPod) => void) | null = null;
  private readonly backOff = new CrashLoopBackOff();
  /** Nodes whose kubelet is down (crashed or rebooting). */
  private readonly down = new Set<string>();
  /** Container starts waiting for their back-off, by pod key. */
  private readonly pending = new Map<string, SimEvent>();

  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    /** Every pod of the cluster (the cluster's own list: pods created later join it). */
    private readonly pods: ClusterPod[],
    private readonly runtime: ContainerRuntime,
    private readonly record: (what: string) => void,
  ) {}

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

  /** A liveness or startup probe failed: kill the pod's containers and start them again (syncPod), after the back-off. */
  containerFailed(pod: ClusterPod, container: ContainerT, why: string): void {
    const key = `${keyOf(pod)}/${container.name}`;
    if (this.backOff.delayAfterExit(key, this.sim.now) > 0) return this.containerExited(pod, container.name, why);
    this.backOff.started(key, this.sim.now);
    this.restartContainers(pod, `${container.name} ${why}`);
  }

  /**
   * A container exited (killed, crashed: exit code 137): the pod is not Ready at once; the kubelet
   * starts it again per restartPolicy (Always, OnFailure: a kill is a failure; Never: it stays down),
   * after the CrashLoopBackOff delay. An exit while the container is not running changes nothing.
   */
  containerExited(pod: ClusterPod, container: string, why: string): void {
    if (this.down.has(pod.node.name) || !this.runtime.kill(pod)) return;
    const pk = keyOf(pod);
    const key = `${pk}/${container}`;
    this.record(`kubelet: ${pod.name}/${container} exited (${why})`);
    this.setReady(pod, false, 'ContainersNotReady');
    if (restartPolicyOf(pod) === 'Never') return;
    const delay = this.backOff.delayAfterExit(key, this.sim.now);
    if (delay > 0) this.record(`kubelet: back-off ${delay / 1e9}s restarting failed container=${container} pod=${pod.name}`);
    this.pending.set(
      pk,
      this.sim.schedule(delay, () => {
        this.pending.delete(pk);
        this.backOff.started(key, this.sim.now);
        const n = this.runtime.start(pod);
        this.record(`kubelet: ${pod.name}/${container} started (restart ${n})`);
        this.afterStart(pod, 'ContainersReady');
      }),
    );
  }

  /** The node crashed: its kubelet, probes and pods stop; nothing it would do happens until it boots. */
  nodeCrashed(node: ClusterNode): void {
    this.down.add(node.name);
    for (const pod of this.podsOn(node)) {
      this.pending.get(keyOf(pod))?.cancel();
      this.pending.delete(keyOf(pod));
      this.prober?.stopPod(pod);
      setPodLinks(pod, false);
    }
  }

  /**
   * The node booted: the kubelet starts every pod's containers again (a restart each) and reports their
   * readiness; a pod deleted while the node was down is not started.
   */
  nodeBooted(node: ClusterNode): void {
    this.down.delete(node.name);
    for (const pod of this.podsOn(node)) {
      const obj = this.api.get('Pod', pod.namespace, pod.name);
      if (!obj || obj.metadata.deletionTimestamp !== null) continue;
      setPodLinks(pod, true);
      this.runtime.kill(pod);
      const n = this.runtime.start(pod);
      this.record(`kubelet: ${pod.name} containers started after node boot (restart ${n})`);
      if (hasProbes(pod)) this.prober?.addPod(pod);
      else this.setReady(pod, true, 'PodReady');
    }
  }

  /** A pod a controller created and the scheduler bound (its sandbox is up): run its app, then probes or Ready. */
  podCreated(pod: ClusterPod): void {
    this.podStarter?.(pod);
    this.record(`kubelet: ${pod.name} started on ${pod.node.name}`);
    if (hasProbes(pod)) this.prober?.addPod(pod);
    else this.setReady(pod, true, 'PodReady');
  }

  private afterStart(pod: ClusterPod, reason: string): void {
    if (hasProbes(pod)) this.prober?.containersRestarted(pod);
    else this.setReady(pod, true, reason);
  }

  private podsOn(node: ClusterNode): ClusterPod[] {
    return this.pods.filter((p) => p.node === node);
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
    const pod = this.pods.find((p) => p.namespace === obj.metadata.namespace && p.name === obj.metadata.name);
    if (!pod || this.down.has(pod.node.name)) return;
    const graceNs = Math.round((obj.metadata.deletionGracePeriodSeconds ?? 30) * 1e9);
    this.sim.schedule(graceNs, () => {
      if (this.down.has(pod.node.name)) return;
      this.pending.get(keyOf(pod))?.cancel();
      this.prober?.stopPod(pod);
      setPodLinks(pod, false);
      this.record(`pod ${pod.name} stopped (grace period over)`);
      this.setReady(pod, false, 'pod gone');
    });
  }
}

const keyOf = (pod: ClusterPod): string => `${pod.namespace}/${pod.name}`;

/** spec.restartPolicy (default Always). */
function restartPolicyOf(pod: ClusterPod): string {
  return (pod.spec as { restartPolicy?: string }).restartPolicy ?? 'Always';
}

function setPodLinks(pod: ClusterPod, up: boolean): void {
  const eth0 = pod.ns.device('eth0');
  if (eth0) eth0.up = up;
  if (pod.hostVeth) pod.hostVeth.up = up;
}
