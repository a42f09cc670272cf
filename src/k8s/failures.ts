// k8s/failures — what a Kubernetes failure does to the machines, for the fault timeline
// (scenario/faults-k8s): each method changes the world (a process, a link, a node's kubelet, a proxy,
// a kernel table, a DNS server) and leaves the reaction to the controllers — the kubelet's restarts
// and back-off, the node lifecycle controller's grace period and taint, the taint manager's eviction,
// the ReplicaSet controller's replacement, the EndpointSlice controller and kube-proxy. Layer: k8s
// (imports core, wire, app, k8s).
//
//   pod-kill        graceful delete (Chaos Mesh: grace 0) ─▶ kubelet stops it ─▶ ReplicaSet replaces it
//   container-kill  SIGKILL ─▶ not Ready ─▶ restart after the CrashLoopBackOff delay (crash-loop.ts)
//   pod-failure     the image swapped for a pause image: the app is gone, the container "runs"
//   node-crash      eth0 down, kubelet silent ─▶ NotReady + unreachable taint after the grace period
//                   ─▶ pods not ready ─▶ evicted after tolerationSeconds ─▶ replaced on other nodes
//   node-delete     the Node object goes ─▶ flanneld drops its subnet everywhere ─▶ the pod GC force-deletes
//                   its pods 40-60 s later ─▶ replaced on other nodes; a running kubelet kills them
//   kube-proxy-stall, conntrack-full, dns-outage / dns-chaos: the proxy, the node's nf_conntrack_max,
//                   the CoreDNS servers' answers
import type { DnsChaosAction, DnsServer } from '../app/dns-server.js';
import type { ServerToxic } from '../app/http-server.js';
import type { Ipv4 } from '../wire/types.js';
import type { ApiStore } from './api/store.js';
import type { ClusterNode, ClusterPod } from './cluster.js';
import type { ContainerRuntime } from './container-runtime.js';
import type { Kubelet } from './kubelet.js';
import type { KubeProxy } from './kube-proxy/proxier.js';
import type { NodeHealthMonitor } from './node-lifecycle.js';
import type { DnsQuestion } from '../wire/dns.js';

/** One DNS fault in force: which queries it takes (by name pattern and client) and what it does. */
export interface DnsFault {
  /** Lower-case glob patterns (`*`, `?`) over the query name without its final dot; empty = every name. */
  patterns: RegExp[];
  /** Client addresses it applies to; null = every client. */
  clients: Set<Ipv4> | null;
  action: DnsChaosAction;
}

/** Chaos Mesh DNSChaos patterns: `*` and `?` wildcards over the whole name, case-insensitive. */
export function dnsPattern(glob: string): RegExp {
  const body = glob.toLowerCase().replace(/\.$/, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** The failure actions of a cluster. */
export class Failures {
  /** CoreDNS's servers (workloads register them when cluster DNS starts). */
  readonly dnsServers: DnsServer[] = [];
  private readonly dnsFaults: DnsFault[] = [];
  private readonly ctMax = new Map<string, number>();

  constructor(
    private readonly api: ApiStore,
    private readonly kubelet: Kubelet,
    private readonly runtime: ContainerRuntime,
    private readonly kubeProxy: KubeProxy,
    private readonly nodeHealth: NodeHealthMonitor,
  ) {}

  /** A container of the pod is killed (SIGKILL). */
  containerKill(pod: ClusterPod, container: string): void {
    this.kubelet.containerExited(pod, container, 'killed: exit code 137');
  }

  /** Chaos Mesh pod-failure starts (`on`) or ends: the pod's app is replaced by a pause container. */
  podFailure(pod: ClusterPod, on: boolean): number {
    if (on) {
      this.runtime.hold(pod);
      return this.runtime.restartsOf(pod);
    }
    const n = this.runtime.release(pod);
    this.kubelet.prober?.containersRestarted(pod);
    return n;
  }

  /** The node's machine stops: no frames in or out, its kubelet silent. */
  nodeCrash(node: ClusterNode): void {
    this.powerOff(node);
    this.nodeHealth.kubeletStopped(node.name);
  }

  /** The machine is off: link down, the kubelet and its pods gone (no health-check state: a deleted Node has none). */
  private powerOff(node: ClusterNode): void {
    node.eth0.up = false;
    this.kubelet.nodeCrashed(node);
  }

  /**
   * `kubectl delete node`: the API server removes the Node at once (no finalizers). With `kubeletRunning`
   * the machine goes on (its kubelet, kube-proxy, flanneld and pods run; the kubelet's status updates
   * fail with "not found" and it does not register again); otherwise it was shut down first (drained or
   * powered off): link down, kubelet silent. The controllers react to the missing Node: flanneld on the
   * other nodes (routes), the pod GC (its pods, after the quarantine), the ReplicaSet controller.
   * The caller checks that the Node exists (kubectl: NotFound).
   */
  nodeDelete(node: ClusterNode, kubeletRunning: boolean): void {
    if (!kubeletRunning) this.powerOff(node);
    this.api.delete('Node', '', node.name);
  }

  /** `systemctl restart kubelet` on a node whose Node was deleted: it registers the Node again (registerWithAPIServer). */
  kubeletRestart(node: ClusterNode): void {
    if (!this.kubelet.isRunning(node)) return;
    this.kubelet.restarted(node);
  }

  /** The node's machine is back: link up, the kubelet reports and starts its pods. */
  nodeBoot(node: ClusterNode): void {
    node.eth0.up = true;
    this.nodeHealth.kubeletStarted(node.name);
    this.kubelet.nodeBooted(node);
  }

  /** kube-proxy on the node stops syncing (true) or resumes with a full resync (false). */
  kubeProxyStall(node: ClusterNode, stalled: boolean): void {
    this.kubeProxy.setSyncing(node, !stalled);
  }

  /** nf_conntrack_max on the node: `max`, or back to the value before the first change (null). Returns the value set. */
  conntrackMax(node: ClusterNode, max: number | null): number {
    const ct = node.ns.nf?.conntrack;
    if (!ct) return 0;
    if (!this.ctMax.has(node.name)) this.ctMax.set(node.name, ct.cfg.max);
    ct.cfg.max = max ?? this.ctMax.get(node.name)!;
    return ct.cfg.max;
  }

  /** A Toxiproxy toxic on the pod's server connections (null removes it); false when its app takes none. */
  toxic(pod: ClusterPod, t: ServerToxic | null): boolean {
    return this.runtime.setToxic(pod, t);
  }

  /** Adds a DNS fault to every CoreDNS server; returns a function that removes it. */
  addDnsFault(f: DnsFault): () => void {
    this.dnsFaults.push(f);
    this.syncDnsHooks();
    return () => {
      this.dnsFaults.splice(this.dnsFaults.indexOf(f), 1);
      this.syncDnsHooks();
    };
  }

  private syncDnsHooks(): void {
    const faults = [...this.dnsFaults];
    const hook = faults.length === 0 ? null : (q: DnsQuestion, src: Ipv4): DnsChaosAction | null => matchDnsFault(faults, q, src);
    for (const s of this.dnsServers) s.chaos = hook;
  }
}

/** The first fault in force that takes this query. */
function matchDnsFault(faults: readonly DnsFault[], q: DnsQuestion, src: Ipv4): DnsChaosAction | null {
  const name = q.name.toLowerCase().replace(/\.$/, '');
  for (const f of faults) {
    if (f.clients !== null && !f.clients.has(src)) continue;
    if (f.patterns.length > 0 && !f.patterns.some((p) => p.test(name))) continue;
    return f.action;
  }
  return null;
}

