// scenario/faults-k8s-run — puts the Kubernetes failures of spec.faults (faults-k8s.ts) on the
// timeline: at the fault's time it records what happened and calls the control plane's failure
// actions (k8s/failures.ts); a fault with a duration schedules its end. Nothing here touches
// readiness, endpoints or rules: the controllers react. Layer: scenario.
import { durationOr0 } from '../core/time.js';
import { DnsRcode } from '../wire/dns.js';
import type { DnsChaosAction } from '../app/dns-server.js';
import type { ServerToxic } from '../app/http-server.js';
import type { ClusterNode, ClusterPod } from '../k8s/cluster.js';
import { dnsPattern } from '../k8s/failures.js';
import type { FaultContext } from './faults.js';
import { scheduleWorkloadOp } from './faults-workload.js';
import { describeTarget, resolveTarget, type SelectorWorld } from './selectors.js';
import type { FaultSpecT, ScenarioSpecT } from './schema.js';
import type { Simulator } from '../core/simulator.js';
import type { StatsRegistry } from '../stats/report.js';
import type { TcpLayer } from '../transport/tcp/index.js';

type K8sFault = Extract<FaultSpecT, { kind: 'pod-kill' | 'pod-failure' | 'container-kill' | 'dns-chaos' | 'dns-outage' | 'node-crash' | 'node-delete' | 'node-reboot' | 'kube-proxy-stall' | 'conntrack-full' | 'toxic' | 'scale' | 'rollout-restart' | 'drain' | 'cordon' | 'uncordon' }>;

/** Resolves fault targets: shorthands are checked before the run, selectors when the fault fires. */
export interface Targets {
  world: SelectorWorld;
}

type PodTarget = Extract<K8sFault, { kind: 'pod-kill' }>['target'];

const dur = durationOr0;
const secs = (ns: number): string => `${ns / 1e9}s`;

/** A shorthand that names nothing is a user error now; a selector is resolved later. */
function check(ctx: FaultContext, t: Targets, target: PodTarget, at: (string | number)[]): boolean {
  if (typeof target !== 'string') return true;
  const r = resolveTarget(t.world, target, ctx.sim.rng.stream('faults/check'));
  // An ordinal OrderedReady creates later (its predecessors not Ready yet) is a pod by the time the fault fires.
  if (!r.ok && laterOrdinal(ctx, target)) return true;
  if (!r.ok) ctx.err([...at, 'target'], r.error);
  else if (r.selected.some((s) => s.kind === 'pod' && s.pod.hostNetwork)) ctx.err([...at, 'target'], `${target} uses the host network; take its node down instead`);
  return r.ok;
}

/** `pod/NAME[.NS]` names an ordinal of a StatefulSet's spec.replicas (as written) that is not running yet. */
function laterOrdinal(ctx: FaultContext, target: string): boolean {
  if (!target.startsWith('pod/')) return false;
  const ref = target.slice(4);
  return (ctx.cluster?.workloads ?? []).some((w) => {
    if (w.owner.kind !== 'StatefulSet' || !(ref.startsWith(`${w.owner.name}-`) && (w.namespace === 'default' ? !ref.includes('.') : ref.endsWith(`.${w.namespace}`)))) return false;
    const ord = Number(ref.slice(w.owner.name.length + 1, w.namespace === 'default' ? undefined : -(w.namespace.length + 1)));
    const start = (w.rawSpec['ordinals'] as { start?: number } | undefined)?.start ?? 0;
    return Number.isInteger(ord) && ord >= start && ord < start + w.replicas;
  });
}

/** The pods (or nodes) a target selects now; a timeline line and nothing when it selects none. */
function selectNow<K extends 'pod' | 'node'>(ctx: FaultContext, t: Targets, target: PodTarget, kind: K, i: number, what: string): (K extends 'pod' ? ClusterPod : ClusterNode)[] {
  const r = resolveTarget(t.world, target, ctx.sim.rng.stream(`faults/${i}`));
  if (!r.ok) {
    ctx.record(`${what} on ${describeTarget(target)}: not applied: ${r.error}`);
    return [];
  }
  const out: (ClusterPod | ClusterNode)[] = [];
  for (const s of r.selected) {
    if (s.kind === 'pod' && kind === 'pod' && !s.pod.hostNetwork) out.push(s.pod);
    else if (s.kind === 'node' && kind === 'node') out.push(s.node);
  }
  return out as (K extends 'pod' ? ClusterPod : ClusterNode)[];
}

/** Schedules one Kubernetes failure (spec.faults[i]). */
export function scheduleK8sFault(ctx: FaultContext, f: K8sFault, i: number, t: Targets): void {
  if (ctx.controlPlane === null) return ctx.err(['faults', i, 'kind'], `${f.kind} needs a cluster (spec.cluster)`);
  if (f.kind === 'dns-outage' || f.kind === 'dns-chaos') return scheduleDnsFault(ctx, f, i, t);
  if (f.kind === 'scale' || f.kind === 'rollout-restart' || f.kind === 'drain' || f.kind === 'cordon' || f.kind === 'uncordon') return scheduleWorkloadOp(ctx, f, i);
  if ('target' in f && !check(ctx, t, f.target, ['faults', i])) return;
  if (f.kind === 'node-delete') return scheduleNodeDelete(ctx, f, i, t);
  if (f.kind === 'node-crash' || f.kind === 'node-reboot' || f.kind === 'kube-proxy-stall' || f.kind === 'conntrack-full') return scheduleNodeFault(ctx, f, i, t);
  schedulePodFault(ctx, f, i, t);
}

type PodFault = Extract<K8sFault, { kind: 'pod-kill' | 'container-kill' | 'pod-failure' | 'toxic' }>;
type NodeFault = Extract<K8sFault, { kind: 'node-crash' | 'node-reboot' | 'kube-proxy-stall' | 'conntrack-full' }>;

/** pod-kill, container-kill, pod-failure, toxic: on the pods the target selects when the fault fires. */
function schedulePodFault(ctx: FaultContext, f: PodFault, i: number, t: Targets): void {
  const cp = ctx.controlPlane!;
  const fail = cp.failures;
  const note = ctx.record;
  const when = (delayNs: number, fn: () => void) => ctx.sim.scheduleAt(dur(f.at) + delayNs, fn);
  const pods = () => selectNow(ctx, t, f.target, 'pod', i, f.kind);
  switch (f.kind) {
    case 'pod-kill': {
      const grace = dur(f.gracePeriod);
      return void when(0, () => {
        for (const pod of pods()) {
          note(`pod-kill: pod ${pod.name} deleted (grace period ${secs(grace)})`);
          cp.deletePod(pod, grace);
        }
      });
    }
    case 'container-kill':
      return void when(0, () => {
        for (const pod of pods()) {
          if (!pod.spec.containers.some((c) => c.name === f.container)) note(`container-kill: pod ${pod.name} has no container "${f.container}"`);
          else {
            note(`container-kill: ${pod.name}/${f.container} killed`);
            fail.containerKill(pod, f.container);
          }
        }
      });
    case 'pod-failure': {
      let chosen: ClusterPod[] = [];
      when(0, () => {
        chosen = pods();
        for (const pod of chosen) {
          note(`pod-failure: ${pod.name} runs a pause container for ${secs(dur(f.duration))}`);
          fail.podFailure(pod, true);
        }
      });
      return void when(dur(f.duration), () => {
        for (const pod of chosen) note(`pod-failure over: ${pod.name} restarted with its image (restart ${fail.podFailure(pod, false)})`);
      });
    }
    case 'toxic': {
      const rng = ctx.sim.rng.stream(`faults/${i}/toxic`);
      const [lat, jit] = [dur(f.latency), dur(f.jitter)];
      const toxic: ServerToxic = { kind: f.toxic, latencyNs: () => Math.max(0, Math.round(lat + (jit > 0 ? (rng.next() * 2 - 1) * jit : 0))), timeoutNs: dur(f.timeout), sliceBytes: f.averageSize, sliceDelayNs: dur(f.delay) };
      let chosen: ClusterPod[] = [];
      when(0, () => {
        chosen = pods().filter((p) => fail.toxic(p, toxic));
        note(`toxic ${f.toxic} on ${describeTarget(f.target)}: ${chosen.map((p) => p.name).join(', ') || 'no HTTP server'}`);
      });
      if (f.duration !== undefined)
        when(dur(f.duration), () => {
          for (const p of chosen) fail.toxic(p, null);
          note(`toxic ${f.toxic} on ${describeTarget(f.target)} removed`);
        });
    }
  }
}

/** node-crash, node-reboot, kube-proxy-stall, conntrack-full: on the nodes the target selects when the fault fires. */
function scheduleNodeFault(ctx: FaultContext, f: NodeFault, i: number, t: Targets): void {
  const fail = ctx.controlPlane!.failures;
  const note = ctx.record;
  const when = (delayNs: number, fn: () => void) => ctx.sim.scheduleAt(dur(f.at) + delayNs, fn);
  let nodes: ClusterNode[] = [];
  when(0, () => {
    nodes = selectNow(ctx, t, f.target, 'node', i, f.kind);
    for (const node of nodes) {
      if (f.kind === 'kube-proxy-stall') {
        note(`kube-proxy-stall: kube-proxy on ${node.name} stops syncing for ${secs(dur(f.duration))}`);
        fail.kubeProxyStall(node, true);
      } else if (f.kind === 'conntrack-full') {
        const max = f.max ?? node.ns.nf?.conntrack.count ?? 0;
        note(`conntrack-full: nf_conntrack_max on ${node.name} = ${fail.conntrackMax(node, max)} (${node.ns.nf?.conntrack.count ?? 0} entries)`);
      } else {
        note(`${f.kind}: node ${node.name} down`);
        fail.nodeCrash(node);
      }
    }
  });
  if (f.kind === 'node-crash' || (f.kind === 'conntrack-full' && f.duration === undefined)) return;
  when(dur(f.duration!), () => {
    for (const node of nodes) {
      if (f.kind === 'kube-proxy-stall') fail.kubeProxyStall(node, false);
      else if (f.kind === 'conntrack-full') note(`conntrack-full over: nf_conntrack_max on ${node.name} = ${fail.conntrackMax(node, null)}`);
      else {
        note(`node-reboot: node ${node.name} booted`);
        fail.nodeBoot(node);
      }
    }
  });
}

/**
 * node-delete: `kubectl delete node` on the nodes the target selects when it fires; with
 * kubeletRestart, `systemctl restart kubelet` on them that long after (the Node registered again).
 */
function scheduleNodeDelete(ctx: FaultContext, f: Extract<K8sFault, { kind: 'node-delete' }>, i: number, t: Targets): void {
  if (f.kubeletRestart !== undefined && f.kubelet === 'stopped') return ctx.err(['faults', i, 'kubeletRestart'], 'a stopped machine has no kubelet to restart (kubelet: running, or no kubeletRestart)');
  const fail = ctx.controlPlane!.failures;
  const running = f.kubelet === 'running';
  let nodes: ClusterNode[] = [];
  ctx.sim.scheduleAt(dur(f.at), () => {
    nodes = selectNow(ctx, t, f.target, 'node', i, f.kind);
    for (const node of nodes) {
      if (!ctx.controlPlane!.api.get('Node', '', node.name)) {
        ctx.record(`node-delete: node ${node.name} not found (already deleted)`);
        continue;
      }
      ctx.record(`node-delete: kubectl delete node ${node.name} (${running ? 'its kubelet keeps running' : 'machine shut down first'})`);
      fail.nodeDelete(node, running);
    }
  });
  if (f.kubeletRestart === undefined) return;
  ctx.sim.scheduleAt(dur(f.at) + dur(f.kubeletRestart), () => {
    for (const node of nodes) fail.kubeletRestart(node);
  });
}

function scheduleDnsFault(ctx: FaultContext, f: Extract<K8sFault, { kind: 'dns-outage' | 'dns-chaos' }>, i: number, t: Targets): void {
  const fail = ctx.controlPlane!.failures;
  let action: DnsChaosAction;
  let clients: Set<number> | null = null;
  let patterns: RegExp[] = [];
  let what: string;
  if (f.kind === 'dns-outage') {
    action = f.mode === 'timeout' ? { kind: 'drop' } : f.mode === 'delay' ? { kind: 'delay', ns: dur(f.delay) } : { kind: 'rcode', rcode: f.mode === 'servfail' ? DnsRcode.SERVFAIL : DnsRcode.NXDOMAIN };
    what = `dns-outage: CoreDNS ${f.mode === 'timeout' ? 'stops answering' : f.mode === 'delay' ? `answers ${secs(dur(f.delay))} late` : `answers ${f.mode.toUpperCase()}`} for ${secs(dur(f.duration))}`;
  } else {
    action = f.action === 'error' ? { kind: 'rcode', rcode: DnsRcode.SERVFAIL } : { kind: 'random' };
    patterns = f.patterns.map(dnsPattern);
    if (f.target !== undefined && !check(ctx, t, f.target, ['faults', i])) return;
    what = `dns-chaos: ${f.action} for ${f.patterns.length > 0 ? f.patterns.join(', ') : 'every name'}${f.target !== undefined ? ` queried by ${describeTarget(f.target)}` : ''} for ${secs(dur(f.duration))}`;
  }
  let remove: (() => void) | null = null;
  ctx.sim.scheduleAt(dur(f.at), () => {
    if (f.kind === 'dns-chaos' && f.target !== undefined) clients = new Set(selectNow(ctx, t, f.target, 'pod', i, f.kind).map((p) => p.ip));
    ctx.record(what);
    remove = fail.addDnsFault({ patterns, clients, action });
  });
  ctx.sim.scheduleAt(dur(f.at) + dur(f.duration), () => {
    ctx.record(`${f.kind} over`);
    remove?.();
  });
}

/** The target a fault names, as stats.json's recovery section shows it. */
function targetOf(f: FaultSpecT): string {
  return 'target' in f && f.target !== undefined ? describeTarget(f.target) : f.kind === 'dns-outage' || f.kind === 'dns-chaos' ? 'svc/kube-dns.kube-system' : '';
}

/**
 * stats.json's recovery section for a scenario with faults: the registry learns the faults and the
 * thresholds, and a background event at the end of every second samples the TCP stacks' retransmission
 * and RTO counters (background: it never keeps a run going).
 */
export function trackRecovery(sim: Simulator, stats: StatsRegistry, tcp: ReadonlyMap<string, TcpLayer>, spec: ScenarioSpecT): void {
  if (spec.faults.length === 0) return;
  const tcpTotals = (): [number, number] => {
    let retrans = 0;
    let rtos = 0;
    for (const t of tcp.values()) {
      retrans += t.counters.RetransSegs;
      rtos += t.counters.TCPTimeouts;
    }
    return [retrans, rtos];
  };
  stats.enableRecovery({ faults: spec.faults.map((f) => ({ kind: f.kind, target: targetOf(f), atNs: dur(f.at) })), errorThreshold: spec.recovery.errorThreshold, windowNs: dur(spec.recovery.window), tcpTotals });
  let t = 0;
  const tick = (): void => {
    stats.sampleTcp(t++);
    sim.scheduleBackground(1e9, tick);
  };
  sim.scheduleBackground(1e9, tick);
}
