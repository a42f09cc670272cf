// scenario/faults — the fault timeline: at a simulated time, a pod or a node goes down (or comes
// back), a pod's app stops listening, a pod is deleted, or a link gets netem impairments. A fault changes a namespace's devices or
// tells the control plane what happened to an object (k8s/control-plane); the controllers react with
// their own delays (see k8s/README.md). This file never touches readiness or rules. Layer: scenario.
import type { Simulator } from '../core/simulator.js';
import { durationOr0 } from '../core/time.js';
import type { ClusterPod, ClusterWorld } from '../k8s/cluster.js';
import type { ControlPlane } from '../k8s/control-plane.js';
import { NicDevice } from '../link/nic.js';
import { setNetemOn } from '../link/netem.js';
import type { Namespace } from '../net/namespace.js';
import { scheduleK8sFault } from './faults-k8s-run.js';
import type { ScenarioSpecT } from './schema.js';

export type { TimelineEntry } from '../k8s/control-plane.js';

/** What the fault scheduler needs. */
export interface FaultContext {
  sim: Simulator;
  namespaces: Map<string, Namespace>;
  cluster: ClusterWorld | null;
  /** The cluster's control plane, when there is one. */
  controlPlane: ControlPlane | null;
  /** Adds a line to the timeline at the current time. */
  record(what: string): void;
  err(path: (string | number)[], message: string): void;
}

const dur = durationOr0;

/** Schedules every fault. */
export function scheduleFaults(ctx: FaultContext, spec: ScenarioSpecT): void {
  const note = ctx.record;
  const podOf = (target: string, at: (string | number)[]): ClusterPod | undefined => {
    const name = target.slice(4);
    const pod = ctx.cluster?.pods.find((p) => p.name === name || `${p.name}.${p.namespace}` === name);
    if (!pod) return void ctx.err([...at, 'target'], `no pod "${name}"`);
    if (pod.hostNetwork) return void ctx.err([...at, 'target'], `pod ${name} uses the host network; take its node down instead`);
    return pod;
  };
  const nodeOf = (target: string, at: (string | number)[]) => {
    const name = target.slice(5);
    const node = ctx.cluster?.nodes.find((n) => n.name === name);
    if (!node) ctx.err([...at, 'target'], `no node "${name}"`);
    return node;
  };
  spec.faults.forEach((f, i) => {
    const at = ['faults', i];
    switch (f.kind) {
      case 'pod-down':
      case 'pod-up': {
        const pod = podOf(f.target, at);
        if (!pod) return;
        const up = f.kind === 'pod-up';
        ctx.sim.scheduleAt(dur(f.at), () => {
          note(`pod ${pod.name} ${up ? 'up' : 'down'}`);
          if (up) ctx.controlPlane!.podContainersStarted(pod, 'pod up');
          else ctx.controlPlane!.podContainersStopped(pod, 'pod down');
        });
        return;
      }
      case 'app-stop': {
        const pod = podOf(f.target, at);
        if (!pod) return;
        ctx.sim.scheduleAt(dur(f.at), () => {
          note(`pod ${pod.name} app stopped`);
          ctx.controlPlane!.podAppStopped(pod);
        });
        return;
      }
      case 'pod-delete': {
        const pod = podOf(f.target, at);
        if (!pod) return;
        const grace = dur(f.gracePeriod);
        ctx.sim.scheduleAt(dur(f.at), () => {
          note(`pod ${pod.name} deleted (grace period ${grace / 1e9}s)`);
          ctx.controlPlane!.deletePod(pod, grace);
        });
        return;
      }
      case 'node-down': {
        const node = nodeOf(f.target, at);
        if (!node) return;
        ctx.sim.scheduleAt(dur(f.at), () => {
          node.eth0.up = false;
          note(`node ${node.name} down`);
          ctx.controlPlane!.nodeDown(node);
        });
        return;
      }
      case 'netem': {
        const [host, ifname] = f.target.split('/') as [string, string];
        const dev = ctx.namespaces.get(host)?.device(ifname);
        if (!(dev instanceof NicDevice) || dev.link === null) return ctx.err([...at, 'target'], `${f.target} is not an end of a link (a node's or host's eth0, or a links[] end)`);
        const cfg = { loss: f.loss, delayNs: dur(f.delay), jitterNs: dur(f.jitter) };
        ctx.sim.scheduleAt(dur(f.at), () => {
          setNetemOn(dev, cfg, ctx.sim); // tc qdisc … dev IFNAME: that interface's egress only
          note(`netem on ${f.target}: loss ${(cfg.loss * 100).toFixed(2)}% delay ${cfg.delayNs / 1e6}ms jitter ${cfg.jitterNs / 1e6}ms`);
        });
        return;
      }
      default:
        return scheduleK8sFault(ctx, f, at, { pod: podOf, node: nodeOf });
    }
  });
}
