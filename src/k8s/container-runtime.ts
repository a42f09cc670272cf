// k8s/container-runtime — the container runtime under the kubelet (CRI: StartContainer,
// StopContainer): a pod's processes are its apps (scenario/workloads starts them through `run`); the
// runtime stops them (an app that stops listening, a killed container) and starts them again (the
// kubelet's restart after a liveness failure). Killing a container closes its sockets: the listener
// goes away and every connection of its ports is aborted with RST, as the peers of a killed process
// see them. Layer: k8s (imports transport, k8s).
// Not modelled: image pulls and start latency (a container starts at once), SIGTERM and the
// termination grace period on a restart (the kill is immediate; a deleted pod's SIGTERM is pod-termination.ts), a FIN instead of RST for connections
// with nothing unread. The restart back-off (CrashLoopBackOff) is the kubelet's (crash-loop.ts).
import type { ServerToxic } from '../app/http-server.js';
import type { TcpLayer } from '../transport/tcp/index.js';
import type { ClusterPod } from './cluster.js';
import { podUid } from './pod-uid.js';

/** A running app of a container: what stopping it means to the app. */
export interface ContainerProcess {
  /** Stops listening (open connections are the kernel's business). */
  stop(): void;
  /** A Toxiproxy toxic on the app's connections (HTTP servers; others ignore it). */
  setToxic?(t: ServerToxic | null): void;
  /** Graceful shutdown: stop accepting, finish what is in flight, then `idle` (an app without it stops at once). */
  drain?(idle: () => void): void;
}

/** How to start a pod's app again, and where its sockets live. */
export interface ContainerSpec {
  tcp: TcpLayer;
  /** The app's listening ports (their connections are reset when the container is killed). */
  ports: number[];
  start(): ContainerProcess;
}

interface Running {
  spec: ContainerSpec;
  process: ContainerProcess | null;
  /** The app stopped answering (a fault) while the container still runs. */
  appStopped: boolean;
  /** The image was swapped for one that does nothing (Chaos Mesh pod-failure): the container runs, the app does not. */
  held: boolean;
  restarts: number;
}

/** Containers are per pod uid (a name used again is another sandbox: pod-uid.ts). */
const keyOf = podUid;

/** The containers of every pod, by pod. */
export class ContainerRuntime {
  private readonly pods = new Map<string, Running>();

  /** StartContainer: starts the pod's app now and remembers how to start it again. */
  run(pod: ClusterPod, spec: ContainerSpec): void {
    this.pods.set(keyOf(pod), { spec, process: spec.start(), appStopped: false, held: false, restarts: 0 });
  }

  /** The pod's app answers (it runs and did not stop listening); true for a pod without a registered app. */
  healthy(pod: ClusterPod): boolean {
    const r = this.pods.get(keyOf(pod));
    return r === undefined || (r.process !== null && !r.appStopped);
  }

  /** The app stops listening (a fault): new connections are refused, established ones stay. */
  stopApp(pod: ClusterPod): void {
    const r = this.pods.get(keyOf(pod));
    if (!r || r.process === null || r.appStopped) return;
    r.process.stop();
    r.appStopped = true;
  }

  /** SIGTERM to an app that shuts down gracefully: it stops accepting and `exited` runs once its connections are done. */
  drain(pod: ClusterPod, exited: () => void): void {
    const r = this.pods.get(keyOf(pod));
    if (!r || r.process === null || r.appStopped || !r.process.drain) {
      this.stopApp(pod);
      return exited();
    }
    r.appStopped = true;
    r.process.drain(exited);
  }

  /** The container is killed (SIGKILL, a crash): it stops listening and its connections are reset; false when it was not running. */
  kill(pod: ClusterPod): boolean {
    const r = this.pods.get(keyOf(pod));
    if (!r || r.process === null) return false;
    if (!r.appStopped) r.process.stop();
    this.resetConnections(r);
    r.process = null;
    r.appStopped = false;
    return true;
  }

  /** StartContainer after a kill: the app listens again. Returns the restart count (0 for a pod without a registered app). */
  start(pod: ClusterPod): number {
    const r = this.pods.get(keyOf(pod));
    if (!r || r.process !== null) return r?.restarts ?? 0;
    if (!r.held) r.process = r.spec.start();
    return ++r.restarts;
  }

  /** The container runs (it was not killed); true for a pod without a registered app. */
  running(pod: ClusterPod): boolean {
    const r = this.pods.get(keyOf(pod));
    return r === undefined || r.process !== null || r.held;
  }

  /**
   * Chaos Mesh pod-failure: the container's image becomes a pause image (the app is killed, its
   * connections reset, the container restarted doing nothing) until `release`, which restores the
   * image (another restart, the app listens again). Restarts meanwhile keep the pause image.
   */
  hold(pod: ClusterPod): void {
    const r = this.pods.get(keyOf(pod));
    if (!r || r.held) return;
    this.kill(pod);
    r.held = true;
    r.restarts++;
  }

  /** Ends `hold`: the original image runs again. Returns the restart count. */
  release(pod: ClusterPod): number {
    const r = this.pods.get(keyOf(pod));
    if (!r || !r.held) return r?.restarts ?? 0;
    r.held = false;
    r.process = null;
    return this.start(pod);
  }

  /** Sets (or clears) a toxic on the pod's running app; a restarted app starts without it. Returns false when the app takes no toxic. */
  setToxic(pod: ClusterPod, t: ServerToxic | null): boolean {
    const p = this.pods.get(keyOf(pod))?.process;
    if (!p?.setToxic) return false;
    p.setToxic(t);
    return true;
  }

  /** Restarts so far. */
  restartsOf(pod: ClusterPod): number {
    return this.pods.get(keyOf(pod))?.restarts ?? 0;
  }

  private resetConnections(r: Running): void {
    for (const s of r.spec.tcp.sockets()) if (r.spec.ports.includes(s.localPort) && !s.isClosed()) s.abort();
  }

  /** StopContainer then StartContainer: the app's connections are reset, then it listens again. Returns the restart count. */
  restart(pod: ClusterPod): number {
    const r = this.pods.get(keyOf(pod));
    if (!r) return 0;
    if (r.process !== null && !r.appStopped) r.process.stop();
    this.resetConnections(r);
    r.process = r.held ? null : r.spec.start();
    r.appStopped = false;
    return ++r.restarts;
  }
}
