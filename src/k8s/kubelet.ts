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
// A Job's pod runs to completion (job-controller.ts says how long and with what exit code): the PLEG
// notices the exit at its next relist (1 s); OnFailure and a non-zero code restart the container in
// place after the CrashLoopBackOff delay, else the pod's phase becomes Succeeded or Failed and its
// sandbox is torn down (links down, probes stopped; the Pod is no endpoint any more).
// A Pod removed from the API server without a graceful delete (the pod GC's force delete of a deleted
// Node's pods) is killed at once and its sandbox removed. A kubelet whose Node was deleted goes on and
// never registers it again (registrationCompleted stays true, kubernetes#71398); `restarted` is a
// restarted kubelet's registration (100 ms after its start).
// A graceful delete runs the preStop hooks and SIGTERM (pod-termination.ts) before the grace period's SIGKILL.
// Pods are keyed by uid (pod-uid.ts): a name used again (a StatefulSet's pod created anew) is another pod.
// A terminated pod's host veth leaves cni0 and the node (cni-bridge cniDel). Not modelled: reusing its IP (host-local
// hands out the address after the last one, so a freed address comes back only when the range
// wraps, which podwire's IPAM never does). A gracefully deleted pod whose containers ended is deleted from the
// API server by its kubelet (`finalDelete`), which frees its slot on the node for the scheduler.
import type { SimEvent } from '../core/scheduler.js';
import type { Simulator } from '../core/simulator.js';
import { CrashLoopBackOff } from './crash-loop.js';
import { objectMeta, type Node, type Pod } from './api/objects.js';
import type { ApiStore, WatchEvent } from './api/store.js';
import type { ClusterNode, ClusterPod } from './cluster.js';
import { allocatePodIp, cniAdd, cniDel, ensureCni0, type CniBridgeConfig } from './cni-bridge.js';
import type { ContainerRuntime } from './container-runtime.js';
import type { ContainerT } from './manifests.js';
import { hasProbes, type Prober } from './prober.js';
import { DEFAULT_GRACE_SECONDS, terminationPlan } from './pod-termination.js';
import type { PodDef } from './desired-state.js';
import type { Inventory } from './inventory.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import { currentPod, podUid } from './pod-uid.js';
import type { PodStartup } from './pod-startup.js';

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
  /**
   * What a run-to-completion container (a Job pod's) does: how long it runs and its exit code, or
   * `runNs: null` when something else (its traffic) ends it through `containerTerminated`. Null for a
   * pod whose container serves until stopped.
   */
  workOf: ((pod: ClusterPod) => ContainerWork | null) | null = null;
  /** The scheduled exits of running run-to-completion containers, by pod key. */
  private readonly exits = new Map<string, SimEvent>();
  /** Pods that reached phase Succeeded or Failed (their sandbox is gone). */
  private readonly terminal = new Set<string>();
  /** Pods deleted gracefully whose containers have ended (SIGTERM obeyed or the grace period over). */
  private readonly stopped = new Set<string>();
  /** The start latency of pods bound while the scenario runs (spec.cluster.podStartup), or null: they start at once. */
  startup: PodStartup | null = null;

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
    this.record(`kubelet: ${pod.name}/${container} exited (${why})`);
    const job = runsToCompletion(pod);
    if (job) {
      this.exits.get(pk)?.cancel();
      this.exits.delete(pk);
    }
    if (restartPolicyOf(pod) === 'Never') {
      if (job) this.podTerminated(pod, 'Failed', 'Error');
      else this.setReady(pod, false, 'ContainersNotReady');
      return;
    }
    this.setReady(pod, false, 'ContainersNotReady');
    this.restartAfterBackOff(pod, container, (n) => n, job);
  }

  /** Starts the container again after the CrashLoopBackOff delay; `restartOf` names the restart from the runtime's count. */
  private restartAfterBackOff(pod: ClusterPod, container: string, restartOf: (started: number) => number, job: boolean): void {
    const pk = keyOf(pod);
    const key = `${pk}/${container}`;
    const delay = this.backOff.delayAfterExit(key, this.sim.now);
    if (delay > 0) this.record(`kubelet: back-off ${delay / 1e9}s restarting failed container=${container} pod=${pod.name}`);
    this.pending.set(
      pk,
      this.sim.schedule(delay, () => {
        this.pending.delete(pk);
        this.backOff.started(key, this.sim.now);
        const n = this.runtime.start(pod);
        this.record(`kubelet: ${pod.name}/${container} started (restart ${restartOf(n)})`);
        this.afterStart(pod, 'ContainersReady');
        if (job) this.runToCompletion(pod);
      }),
    );
  }

  /** The node crashed: its kubelet, probes and pods stop; nothing it would do happens until it boots. */
  nodeCrashed(node: ClusterNode): void {
    this.down.add(node.name);
    for (const pod of this.podsOn(node)) {
      this.pending.get(keyOf(pod))?.cancel();
      this.pending.delete(keyOf(pod));
      this.exits.get(keyOf(pod))?.cancel();
      this.exits.delete(keyOf(pod));
      this.prober?.stopPod(pod);
      setPodLinks(pod, false);
    }
  }

  /**
   * The node booted: the kubelet starts every pod's containers again (a restart each) and reports their
   * readiness; a pod deleted while the node was down, or one that had terminated, is not started.
   */
  nodeBooted(node: ClusterNode): void {
    this.down.delete(node.name);
    for (const pod of this.podsOn(node)) {
      const obj = this.api.get('Pod', pod.namespace, pod.name);
      if (!obj || obj.metadata.deletionTimestamp !== null || this.terminal.has(keyOf(pod))) continue;
      setPodLinks(pod, true);
      this.runtime.kill(pod);
      const n = this.runtime.start(pod);
      this.record(`kubelet: ${pod.name} containers started after node boot (restart ${n})`);
      if (hasProbes(pod)) this.prober?.addPod(pod);
      else this.setReady(pod, true, 'PodReady');
      // A Job pod's work starts over (a run cut by the crash; traffic-driven pods wait for theirs).
      if (runsToCompletion(pod)) this.runToCompletion(pod);
    }
  }

  /** False while the node's kubelet is down (crashed, rebooting, its machine shut down). */
  isRunning(node: ClusterNode): boolean {
    return !this.down.has(node.name);
  }

  /**
   * A pod a controller created and the scheduler bound: its containers start (at once, or after the
   * sandbox and image pulls of `startup`, pod-startup.ts), then its app runs, then probes or Ready;
   * `then` runs with the containers' start (a Job pod's work). A pod deleted before its containers
   * start never starts them.
   */
  podCreated(pod: ClusterPod, then?: () => void): void {
    if (this.startup === null) return this.containersRun(pod, then);
    const plan = this.startup.plan(pod, this.sim.now);
    for (const e of plan.events) this.sim.scheduleAt(e.atNs, () => this.record(e.what));
    if (plan.startAt === null) return;
    this.sim.scheduleAt(plan.startAt, () => {
      const obj = this.api.get('Pod', pod.namespace, pod.name);
      if (obj && obj.metadata.deletionTimestamp === null && !this.down.has(pod.node.name)) this.containersRun(pod, then);
    });
  }

  private containersRun(pod: ClusterPod, then?: () => void): void {
    this.podStarter?.(pod);
    this.record(`kubelet: ${pod.name} started on ${pod.node.name}`);
    if (hasProbes(pod)) this.prober?.addPod(pod);
    else this.setReady(pod, true, 'PodReady');
    then?.();
  }

  /** Starts the run of a run-to-completion container (a Job pod's): it exits after its work, with its exit code. */
  runToCompletion(pod: ClusterPod): void {
    const w = this.workOf?.(pod);
    if (!w || w.runNs === null) return;
    const code = w.exitCode;
    this.exits.set(
      keyOf(pod),
      this.sim.schedule(w.runNs, () => {
        this.exits.delete(keyOf(pod));
        this.containerTerminated(pod, code);
      }),
    );
  }

  /** True once a pod deleted gracefully has stopped (its containers ended, its sandbox removed). */
  hasStopped(pod: ClusterPod): boolean {
    return this.stopped.has(keyOf(pod));
  }

  /** True once the pod reached phase Succeeded or Failed. */
  isTerminal(pod: ClusterPod): boolean {
    return this.terminal.has(keyOf(pod));
  }

  /**
   * A run-to-completion container exited with `exitCode` (reason Completed for 0, Error otherwise).
   * restartPolicy OnFailure and a non-zero code: the container starts again in place after the
   * CrashLoopBackOff delay (the Pod's restartCount grows). Otherwise the pod terminates: phase
   * Succeeded (0) or Failed.
   */
  containerTerminated(pod: ClusterPod, exitCode: number): void {
    const pk = keyOf(pod);
    if (this.down.has(pod.node.name) || this.terminal.has(pk)) return;
    this.exits.get(pk)?.cancel();
    this.exits.delete(pk);
    const container = pod.spec.containers[0]!.name;
    const reason = exitCode === 0 ? 'Completed' : 'Error';
    this.runtime.kill(pod);
    this.record(`kubelet: ${pod.name}/${container} terminated (exit code ${exitCode}, reason ${reason})`);
    // The PLEG notices the exit at its next relist: until then the sandbox stays (a client's closing
    // handshake completes), then the kubelet syncs the pod.
    this.pending.set(
      pk,
      this.sim.schedule(PLEG_RELIST_NS, () => {
        this.pending.delete(pk);
        if (!this.down.has(pod.node.name)) this.afterExit(pod, container, exitCode, reason);
      }),
    );
  }

  private afterExit(pod: ClusterPod, container: string, exitCode: number, reason: string): void {
    const pk = keyOf(pod);
    if (exitCode !== 0 && restartPolicyOf(pod) === 'OnFailure') {
      const obj = this.api.get('Pod', pod.namespace, pod.name)!;
      const restartCount = (obj.status.restartCount ?? 0) + 1;
      this.api.update<Pod>({ ...obj, status: { ...obj.status, ready: false, reason: 'ContainersNotReady', restartCount } });
      if (this.terminal.has(pk)) return; // the write made its controller finish the Job (backoffLimit)
      this.restartAfterBackOff(pod, container, () => restartCount, true);
      return;
    }
    this.podTerminated(pod, exitCode === 0 ? 'Succeeded' : 'Failed', reason);
  }

  /**
   * The pod reached a terminal phase (its containers exited for good, or its controller killed it):
   * the kubelet stops its probes and tears its sandbox down (CNI DEL: the veth goes, host-local
   * releases the IP), and writes the phase; a terminal pod is never an endpoint again.
   */
  podTerminated(pod: ClusterPod, phase: 'Succeeded' | 'Failed', reason: string): void {
    const pk = keyOf(pod);
    if (this.terminal.has(pk)) return;
    this.tearDown(pod, pk);
    this.record(`kubelet: ${pod.name} ${phase} (${reason}); sandbox removed${pod.hostVeth ? ` (${pod.hostVeth.name} gone, ${formatIpv4(pod.ip)} released)` : ''}`);
    const obj = this.api.get('Pod', pod.namespace, pod.name);
    if (obj) this.api.update<Pod>({ ...obj, status: { ...obj.status, ready: false, reason, phase } });
  }

  /** A pod's end on its node: its timers go, its containers are killed, its probes stop, its sandbox is torn down (CNI DEL). */
  private tearDown(pod: ClusterPod, pk: string): void {
    this.terminal.add(pk);
    this.exits.get(pk)?.cancel();
    this.exits.delete(pk);
    this.pending.get(pk)?.cancel();
    this.pending.delete(pk);
    this.runtime.kill(pod);
    this.prober?.stopPod(pod);
    setPodLinks(pod, false);
    if (pod.hostVeth) {
      cniDel(pod.node, pod.hostVeth);
      pod.ns.releaseIdents(); // (its own namespace: a hostNetwork pod's is the node's)
    }
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
    const obj = this.api.get('Pod', pod.namespace, pod.name);
    if (!obj) return; // removed from the API server (force-deleted): no status to write
    this.api.update<Pod>({ ...obj, status: { ...obj.status, ready, reason } });
  }

  /**
   * A gracefully deleted pod whose containers ended: the status manager writes its last status (not
   * Ready) and, the pod being finished and its deletionTimestamp set, deletes it with grace period 0
   * (status_manager syncPod → canBeDeleted → Delete): the Pod object is gone, its slot on the node free.
   * One commit, as the two writes follow each other within the same sync.
   */
  private finalDelete(pod: ClusterPod): void {
    const obj = this.api.get('Pod', pod.namespace, pod.name);
    if (!obj) return;
    // KillPod stopped the sandbox: CNI DEL takes its host veth off cni0 and out of the node (`ip link` lists it no more).
    if (pod.hostVeth) {
      cniDel(pod.node, pod.hostVeth);
      pod.ns.releaseIdents();
    }
    const last: Pod = { ...obj, status: { ...obj.status, ready: false, reason: 'pod gone' } };
    this.api.commit([
      { op: 'update', object: last },
      { op: 'delete', kind: 'Pod', namespace: pod.namespace, name: pod.name },
    ]);
  }

  /**
   * The Pod object is gone from the API server without the kubelet's confirmation (a force delete: the
   * pod GC's, for a deleted Node): HandlePodRemoves — the pod workers kill its containers and the
   * sandbox is stopped (CNI DEL). A kubelet that is down does nothing; a terminal pod is already torn down.
   */
  private podRemoved(obj: Pod): void {
    const pod = currentPod(this.pods, obj.metadata.namespace, obj.metadata.name);
    if (!pod || this.down.has(pod.node.name) || this.terminal.has(keyOf(pod)) || this.stopped.has(keyOf(pod))) return;
    const pk = keyOf(pod);
    this.tearDown(pod, pk);
    this.record(`kubelet: ${pod.name} killed on ${pod.node.name} (deleted from the API server); sandbox removed${pod.hostVeth ? ` (${pod.hostVeth.name} gone)` : ''}`);
  }

  /**
   * The kubelet starts (systemctl restart kubelet) and registers its Node: registerWithAPIServer sleeps
   * 100 ms, then Nodes().Create with the status initialNode computed (Ready). A kubelet that kept
   * running after its Node was deleted does not do this by itself: registrationCompleted stays true
   * (kubernetes#71398, #115761). Its containers keep running across the restart.
   */
  restarted(node: ClusterNode): void {
    this.record(`kubelet: ${node.name} restarted`);
    this.sim.schedule(REGISTER_FIRST_STEP_NS, () => {
      if (this.api.get('Node', '', node.name)) return;
      this.record(`kubelet: registered Node ${node.name} (Ready)`);
      this.api.create<Node>({ kind: 'Node', metadata: objectMeta('', node.name), status: { internalIP: node.ip, ready: true, reason: 'KubeletReady' } });
    });
  }

  private podChanged(e: WatchEvent<Pod>): void {
    const obj = e.object;
    if (e.type === 'DELETED') return this.podRemoved(obj);
    if (e.type !== 'MODIFIED' || e.old?.metadata.deletionTimestamp !== null || obj.metadata.deletionTimestamp === null) return;
    const pod = currentPod(this.pods, obj.metadata.namespace, obj.metadata.name);
    if (!pod || this.down.has(pod.node.name)) return;
    const graceNs = Math.round((obj.metadata.deletionGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS) * 1e9);
    // pod-termination.ts: the preStop hooks, then SIGTERM; an app that exits on it ends the pod there, one
    // that drains when its last connection closes; whatever still runs is killed when the grace period ends.
    const plan = terminationPlan(pod);
    const sigtermNs = Math.min(plan.preStopNs, graceNs);
    if (plan.preStopNs > 0 && graceNs > 0) this.record(`kubelet: ${pod.name} preStop hook (${sigtermNs / 1e9}s), then SIGTERM`);
    let over = false;
    const end = (how: 'exit' | 'drained' | 'grace'): void => {
      // (A pod force-deleted meanwhile, by the pod GC, was killed then.)
      if (over || this.down.has(pod.node.name) || !this.api.get('Pod', pod.namespace, pod.name)) return;
      over = true;
      this.pending.get(keyOf(pod))?.cancel();
      this.exits.get(keyOf(pod))?.cancel();
      this.exits.delete(keyOf(pod));
      this.prober?.stopPod(pod);
      // Its processes end (SIGTERM obeyed, or SIGKILL): their sockets close, connections reset.
      if (how !== 'grace') this.runtime.kill(pod);
      setPodLinks(pod, false);
      this.stopped.add(keyOf(pod));
      this.record(how === 'exit' ? `pod ${pod.name} stopped (its app exited on SIGTERM; sandbox removed)` : how === 'drained' ? `pod ${pod.name} stopped (its app drained its connections and exited; sandbox removed)` : `pod ${pod.name} stopped (grace period over)`);
      this.finalDelete(pod);
    };
    if (sigtermNs >= graceNs || plan.sigterm === 'ignore') return void this.sim.schedule(graceNs, () => end('grace'));
    if (plan.sigterm === 'exit') return void this.sim.schedule(sigtermNs, () => end('exit'));
    this.sim.schedule(sigtermNs, () => {
      if (over || this.down.has(pod.node.name) || !this.api.get('Pod', pod.namespace, pod.name)) return;
      this.record(`kubelet: ${pod.name} SIGTERM: its app stops accepting and drains its connections`);
      this.runtime.drain(pod, () => end('drained'));
    });
    this.sim.schedule(graceNs, () => end('grace'));
  }
}

/** The kubelet keys a pod by its uid (a name used again is another pod: pod-uid.ts). */
const keyOf = podUid;

/** registerWithAPIServer's first back-off step: it sleeps this long before its first attempt. */
export const REGISTER_FIRST_STEP_NS = 100e6;

/** The PLEG's relist period (pkg/kubelet/pleg relistPeriod): how late the kubelet notices a container exit. */
export const PLEG_RELIST_NS = 1e9;

/** How a run-to-completion container's run ends: after `runNs` (null: when its traffic is done) with `exitCode`. */
export interface ContainerWork {
  runNs: number | null;
  exitCode: number;
}

/** A Job's pod: its container runs its work and exits (restartPolicy Never or OnFailure). */
export function runsToCompletion(pod: ClusterPod): boolean {
  return pod.owner?.kind === 'Job';
}

/** spec.restartPolicy (default Always). */
function restartPolicyOf(pod: ClusterPod): string {
  return (pod.spec as { restartPolicy?: string }).restartPolicy ?? 'Always';
}

function setPodLinks(pod: ClusterPod, up: boolean): void {
  // A hostNetwork pod has no links of its own: its eth0 is the node's.
  if (pod.hostNetwork) return;
  const eth0 = pod.ns.device('eth0');
  if (eth0) eth0.up = up;
  if (pod.hostVeth) pod.hostVeth.up = up;
}
