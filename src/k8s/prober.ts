// k8s/prober — the kubelet's prober manager (pkg/kubelet/prober: one worker per container and probe
// type, worker.go doProbe, prober.go runProbe) and the status manager's Ready condition it drives.
// Layer: k8s (imports core, wire, transport, app, k8s).
//
//   every periodSeconds (the first at once)  ─▶  skip while onHold, before initialDelaySeconds, or
//   (readiness, liveness) before the startup probe succeeded  ─▶  httpGet / tcpSocket / exec
//   ─▶  result run ≥ successThreshold / failureThreshold  ─▶  readiness: the Pod's Ready condition
//   written through the store (the EndpointSlice controller reacts); liveness or startup failure:
//   the kubelet restarts the container (onContainerFailed).
//
// Probes are real packets: httpGet is an HTTP/1.1 GET (User-Agent kube-probe/1.31, a new connection
// each time; scheme HTTPS: over TLS 1.3 (app/tls), the certificate not verified, as the kubelet's
// prober does) and tcpSocket a TCP connect, both from the node's network namespace, so the kernel picks
// the source (the cni0 address for a pod on the node's bridge); a probe that gets no answer within
// timeoutSeconds fails. exec runs no packets: it succeeds while the container's app runs (the
// container runtime says so; a fault stops it). Defaults are the API server's: period 10 s, timeout 1 s,
// success 1, failure 3, initial delay 0; readiness starts false (Failure), liveness true.
// Not modelled: the kubelet's start-up jitter before the first probe, httpHeaders and host,
// `Connection: close` on HTTP probes, a tick while a probe is still in flight (skipped), the gRPC
// exchange of a grpc probe (its TCP connect is made), terminationGracePeriodSeconds on probes, the
// status manager's own sync delay.
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import { HttpClient, type HttpResult } from '../app/http-client.js';
import type { TcpLayer } from '../transport/tcp/index.js';
import type { Namespace } from '../net/namespace.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import type { Pod } from './api/objects.js';
import type { ApiStore } from './api/store.js';
import type { ClusterNode, ClusterPod } from './cluster.js';
import type { ContainerRuntime } from './container-runtime.js';
import type { ContainerT, ProbeT } from './manifests.js';
import { podUid } from './pod-uid.js';

/** Which probe. */
export type ProbeType = 'startup' | 'readiness' | 'liveness';
type Result = 'success' | 'failure';

const SEC = 1e9;
/** The User-Agent the kubelet's HTTP prober sends. */
export const PROBE_USER_AGENT = 'kube-probe/1.31';

/** True when a container of the pod declares a readiness or startup probe: it starts not ready. */
export function startsNotReady(pod: ClusterPod): boolean {
  return pod.spec.containers.some((c) => c.readinessProbe !== undefined || c.startupProbe !== undefined);
}

/** True when the pod declares any probe (the kubelet's probes, not faults, decide its readiness). */
export function hasProbes(pod: ClusterPod): boolean {
  return pod.spec.containers.some((c) => c.readinessProbe !== undefined || c.livenessProbe !== undefined || c.startupProbe !== undefined);
}

/** One probe of one container (worker.go). */
class ProbeWorker {
  /** The results manager's value: null while unknown (a startup probe before its verdict). */
  result: Result | null = null;
  private lastResult: Result | null = null;
  private resultRun = 0;
  private onHold = false;
  private inFlight = false;
  private stopped = false;

  constructor(
    private readonly prober: Prober,
    readonly pod: ClusterPod,
    readonly container: ContainerT,
    readonly type: ProbeType,
    readonly spec: ProbeT,
  ) {
    this.reset();
  }

  /** A new container: the initial result, probing resumes (the worker sees a new container ID). */
  reset(): void {
    this.result = this.type === 'readiness' ? 'failure' : this.type === 'liveness' ? 'success' : null;
    this.lastResult = null;
    this.resultRun = 0;
    this.onHold = false;
  }

  /** Probes now and every periodSeconds until stopped. */
  start(): void {
    // Probing is housekeeping: it (and what it causes) does not keep a run without a duration going.
    const sim = this.prober.sim;
    const tick = (): void => {
      if (this.stopped) return;
      this.doProbe();
      sim.scheduleBackground(this.spec.periodSeconds * SEC, tick);
    };
    sim.inBackground(tick);
  }

  stop(): void {
    this.stopped = true;
  }

  private doProbe(): void {
    if (this.onHold || this.inFlight || !this.prober.running(this.pod)) return;
    if (this.prober.sim.now - this.prober.startedAt(this.pod) < this.spec.initialDelaySeconds * SEC) return;
    if (this.type !== 'startup' && !this.prober.started(this.pod, this.container)) return;
    this.inFlight = true;
    this.prober.runProbe(this, (ok, output) => {
      this.inFlight = false;
      if (!this.stopped) this.handle(ok ? 'success' : 'failure', output);
    });
  }

  private handle(result: Result, output: string): void {
    if (this.lastResult === result) this.resultRun++;
    else {
      this.lastResult = result;
      this.resultRun = 1;
    }
    if ((result === 'failure' && this.resultRun < this.spec.failureThreshold) || (result === 'success' && this.resultRun < this.spec.successThreshold)) return;
    const changed = this.result !== result;
    this.result = result;
    const runs = this.resultRun;
    if ((this.type === 'liveness' || this.type === 'startup') && result === 'failure') {
      // Stop probing until the container is restarted (a new container ID).
      this.onHold = true;
      this.resultRun = 0;
    }
    if (changed) this.prober.resultChanged(this, `${this.type} probe ${result === 'success' ? 'succeeded' : `failed ${runs} times: ${output}`}`);
  }
}

/** What the prober needs from the rest of the kubelet. */
export interface ProberOptions {
  sim: Simulator;
  api: ApiStore;
  pods: ClusterPod[];
  runtime: ContainerRuntime;
  /** The TCP layer of a namespace (one per namespace, shared with the apps). */
  tcpOf(ns: Namespace): TcpLayer;
  record(what: string): void;
  /** A liveness or startup probe failed: the kubelet restarts the container. */
  onContainerFailed(pod: ClusterPod, container: ContainerT, why: string): void;
  /** A probe's TCP connection to the pod was established (stats: the pod's connections apart from the traffic's). */
  onProbeConnected?(pod: ClusterPod): void;
}

/** The prober manager of every node's kubelet. */
export class Prober {
  readonly sim: Simulator;
  private readonly workers = new Map<string, ProbeWorker[]>();
  private readonly startTimes = new Map<string, TimeNs>();
  private readonly clients = new Map<string, HttpClient>();

  constructor(private readonly opts: ProberOptions) {
    this.sim = opts.sim;
  }

  /** Starts a worker for every probe of every pod (the sandbox is up now), and stops a node's probes when it goes NotReady. */
  start(): void {
    for (const pod of this.opts.pods) this.workersOf(pod);
    for (const ws of this.workers.values()) for (const w of ws) w.start();
    this.opts.api.watch('Node', (events) => {
      for (const e of events) if (e.old?.status.ready && !e.object.status.ready) for (const p of this.opts.pods) if (p.node.name === e.object.metadata.name) this.stopPod(p);
    });
  }

  /** A pod that starts after the others (a controller's new pod, a node that booted): its workers start now, readiness from false. */
  addPod(pod: ClusterPod): void {
    this.stopPod(pod);
    for (const w of this.workersOf(pod)) w.start();
    this.writeReady(pod, 'containers started');
  }

  private workersOf(pod: ClusterPod): ProbeWorker[] {
    const ws: ProbeWorker[] = [];
    for (const c of pod.spec.containers) {
      if (c.startupProbe) ws.push(new ProbeWorker(this, pod, c, 'startup', c.startupProbe));
      if (c.readinessProbe) ws.push(new ProbeWorker(this, pod, c, 'readiness', c.readinessProbe));
      if (c.livenessProbe) ws.push(new ProbeWorker(this, pod, c, 'liveness', c.livenessProbe));
    }
    if (ws.length === 0) return ws;
    this.workers.set(keyOf(pod), ws);
    this.startTimes.set(keyOf(pod), this.sim.now);
    return ws;
  }

  /** The container runs (probes are not run for a container that exited and waits for its restart). */
  running(pod: ClusterPod): boolean {
    return this.opts.runtime.running(pod);
  }

  /** The kubelet stopped the pod (or its node): no more probes. */
  stopPod(pod: ClusterPod): void {
    for (const w of this.workers.get(keyOf(pod)) ?? []) w.stop();
    this.workers.delete(keyOf(pod));
  }

  /** The pod's containers were restarted: every worker starts over, readiness from false. */
  containersRestarted(pod: ClusterPod): void {
    this.startTimes.set(keyOf(pod), this.sim.now);
    for (const w of this.workers.get(keyOf(pod)) ?? []) w.reset();
    this.writeReady(pod, 'container restarted');
  }

  /** When the pod's current containers started. */
  startedAt(pod: ClusterPod): TimeNs {
    return this.startTimes.get(keyOf(pod)) ?? 0;
  }

  /** The container's startup probe succeeded (or it has none). */
  started(pod: ClusterPod, container: ContainerT): boolean {
    const w = this.workers.get(keyOf(pod))?.find((x) => x.container === container && x.type === 'startup');
    return w === undefined || w.result === 'success';
  }

  /** A worker's result changed (after its threshold). */
  resultChanged(w: ProbeWorker, why: string): void {
    this.opts.record(`kubelet: ${w.pod.name}/${w.container.name} ${why}`);
    if (w.type !== 'readiness' && w.result === 'failure') this.opts.onContainerFailed(w.pod, w.container, why);
    else this.writeReady(w.pod, why);
  }

  /** The status manager: the pod is Ready when every container is started and passes its readiness probe. */
  private writeReady(pod: ClusterPod, why: string): void {
    const ws = this.workers.get(keyOf(pod)) ?? [];
    const ready = pod.spec.containers.every((c) => this.started(pod, c) && ws.every((w) => w.container !== c || w.type !== 'readiness' || w.result === 'success'));
    const obj = this.opts.api.get('Pod', pod.namespace, pod.name);
    if (!obj || obj.status.ready === ready) return;
    this.opts.api.update<Pod>({ ...obj, status: { ...obj.status, ready, reason: why } });
  }

  /** prober.go runProbe: calls `done(success, output)` once. */
  runProbe(w: ProbeWorker, done: (ok: boolean, output: string) => void): void {
    const { pod, spec } = w;
    const timeoutNs = spec.timeoutSeconds * SEC;
    if (spec.exec) return done(this.opts.runtime.healthy(pod), 'exec');
    // grpc: the kubelet's grpc.health.v1 Health/Check over HTTP/2; modelled as its TCP connect (the
    // containers podwire runs answer any connection), so a stopped app fails it as the kubelet sees.
    const action = spec.httpGet ?? spec.tcpSocket ?? spec.grpc;
    if (!action) return done(false, 'no handler'); // the schema requires exactly one
    const port = typeof action.port === 'number' ? action.port : w.container.ports.find((p) => p.name === action.port)?.containerPort;
    if (port === undefined) return done(false, `no container port named ${String(action.port)}`);
    const tcp = this.opts.tcpOf(pod.node.ns);
    if (spec.httpGet) {
      // HTTPS: a TLS handshake that verifies nothing (InsecureSkipVerify; no SNI for an address), then the GET.
      const tls = spec.httpGet.scheme === 'HTTPS';
      const url = `${tls ? 'https' : 'http'}://${formatIpv4(pod.ip)}:${port}${spec.httpGet.path}`;
      this.clientOf(pod.node, tcp).request({ addr: pod.ip, port, host: formatIpv4(pod.ip), path: spec.httpGet.path, ...(tls ? { tls } : {}) }, timeoutNs, (r) => {
        if (r.connect !== null) this.opts.onProbeConnected?.(pod);
        done(r.ok, httpOutput(url, r));
      });
      return;
    }
    tcpProbe(this.sim, tcp, pod.ip, port, timeoutNs, (ok, output) => {
      if (ok) this.opts.onProbeConnected?.(pod);
      done(ok, output);
    });
  }

  private clientOf(node: ClusterNode, tcp: TcpLayer): HttpClient {
    let c = this.clients.get(node.name);
    if (!c) this.clients.set(node.name, (c = new HttpClient(tcp, { keepAlive: false, userAgent: PROBE_USER_AGENT })));
    return c;
  }
}

/** Workers are per pod uid (a name used again is another pod: pod-uid.ts). */
const keyOf = podUid;

/** The probe's output as the kubelet reports it in events. */
function httpOutput(url: string, r: HttpResult): string {
  if (r.response !== null) return `HTTP probe ${r.ok ? 'succeeded' : 'failed'} with statuscode: ${r.status}`;
  if (r.error === 'timeout') return `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`;
  if (r.error === 'refused') return `Get "${url}": dial tcp: connect: connection refused`;
  if (r.tlsFailure) {
    // Go's net/http (client.go send) turns crypto/tls's RecordHeaderError into ErrSchemeMismatch when the
    // record header reads "HTTP/": a plain HTTP server answered the ClientHello (nginx: 400 Bad Request).
    if (r.tlsFailure.badFirstRecord === 'HTTP/') return `Get "${url}": http: server gave HTTP response to HTTPS client`;
    return `Get "${url}": tls: ${r.tlsFailure.reason}`;
  }
  return `Get "${url}": ${r.error ?? 'error'}`;
}

/** tcp.go DoTCPProbe: a connect that completes within the timeout, then closed. */
function tcpProbe(sim: Simulator, tcp: TcpLayer, ip: number, port: number, timeoutNs: TimeNs, done: (ok: boolean, output: string) => void): void {
  const target = `${formatIpv4(ip)}:${port}`;
  const sock = tcp.connect(ip, port);
  const timer = sim.schedule(timeoutNs, () => {
    sock.abort();
    done(false, `dial tcp ${target}: i/o timeout`);
  });
  sock.onConnect = () => {
    timer.cancel();
    sock.close();
    done(true, '');
  };
  sock.onError = (k) => {
    timer.cancel();
    done(false, `dial tcp ${target}: connect: ${k === 'refused' ? 'connection refused' : k}`);
  };
}
