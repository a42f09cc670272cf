// scenario/faults — the fault timeline: at a simulated time, a pod or a node goes down (or comes
// back), or a link gets netem impairments. The control plane reacts as it does in a cluster: the
// EndpointSlice controller marks the pod's endpoints not ready after `endpointDelay`, and kube-proxy
// rewrites every node's rules `proxySyncDelay` later; until then new connections may still be sent
// to the dead pod and time out. Layer: scenario.
import type { Simulator } from '../core/simulator.js';
import { durationOr0, type TimeNs } from '../core/time.js';
import type { ClusterPod, ClusterWorld } from '../k8s/cluster.js';
import { resolveSelected, type ServiceView } from '../k8s/services.js';
import { NicDevice } from '../link/nic.js';
import { setNetem } from '../link/netem.js';
import type { Namespace } from '../net/namespace.js';
import type { ScenarioSpecT } from './schema.js';

/** One thing that happened on the timeline (for the summary and stats.json). */
export interface TimelineEntry {
  atNs: TimeNs;
  what: string;
}

/** What the fault scheduler needs. */
export interface FaultContext {
  sim: Simulator;
  namespaces: Map<string, Namespace>;
  cluster: ClusterWorld | null;
  services: ServiceView[];
  /** Re-runs kube-proxy on every node with the current endpoints. */
  reprogram(): void;
  err(path: (string | number)[], message: string): void;
}

const dur = durationOr0;

/** Schedules every fault; returns the timeline the run fills in. */
export function scheduleFaults(ctx: FaultContext, spec: ScenarioSpecT): TimelineEntry[] {
  const timeline: TimelineEntry[] = [];
  const note = (what: string): void => {
    timeline.push({ atNs: ctx.sim.now, what });
  };
  const endpointDelay = dur(spec.cluster?.endpointDelay ?? '1s');
  const syncDelay = dur(spec.cluster?.proxySyncDelay ?? '1s');
  const controlPlane = (pods: ClusterPod[], ready: boolean, why: string): void => {
    ctx.sim.schedule(endpointDelay, () => {
      for (const p of pods) p.ready = ready;
      for (const s of ctx.services) if (s.selector !== null) resolveSelected(s, ctx.cluster!.pods);
      note(`endpointslice: ${pods.map((p) => p.name).join(', ')} ${ready ? 'ready' : 'not ready'} (${why})`);
      ctx.sim.schedule(syncDelay, () => {
        ctx.reprogram();
        note('kube-proxy: rules synced on every node');
      });
    });
  };
  spec.faults.forEach((f, i) => {
    const at = ['faults', i];
    switch (f.kind) {
      case 'pod-down':
      case 'pod-up': {
        const name = f.target.slice(4);
        const pod = ctx.cluster?.pods.find((p) => p.name === name || `${p.name}.${p.namespace}` === name);
        if (!pod) return ctx.err([...at, 'target'], `no pod "${name}"`);
        if (pod.hostNetwork) return ctx.err([...at, 'target'], `pod ${name} uses the host network; take its node down instead`);
        const up = f.kind === 'pod-up';
        ctx.sim.scheduleAt(dur(f.at), () => {
          const eth0 = pod.ns.device('eth0');
          if (eth0) eth0.up = up;
          if (pod.hostVeth) pod.hostVeth.up = up;
          note(`pod ${pod.name} ${up ? 'up' : 'down'}`);
          controlPlane([pod], up, `pod ${up ? 'up' : 'down'}`);
        });
        return;
      }
      case 'pod-delete': {
        const name = f.target.slice(4);
        const pod = ctx.cluster?.pods.find((p) => p.name === name || `${p.name}.${p.namespace}` === name);
        if (!pod) return ctx.err([...at, 'target'], `no pod "${name}"`);
        if (pod.hostNetwork) return ctx.err([...at, 'target'], `pod ${name} uses the host network; take its node down instead`);
        const grace = dur(f.gracePeriod);
        ctx.sim.scheduleAt(dur(f.at), () => {
          note(`pod ${pod.name} deleted (grace period ${grace / 1e9}s)`);
          // The EndpointSlice controller sees deletionTimestamp: terminating, not ready, still serving.
          ctx.sim.schedule(endpointDelay, () => {
            pod.terminating = true;
            for (const s of ctx.services) if (s.selector !== null) resolveSelected(s, ctx.cluster!.pods);
            note(`endpointslice: ${pod.name} terminating (serving, not ready)`);
            ctx.sim.schedule(syncDelay, () => {
              ctx.reprogram();
              note('kube-proxy: rules synced on every node');
            });
          });
          ctx.sim.schedule(grace, () => {
            const eth0 = pod.ns.device('eth0');
            if (eth0) eth0.up = false;
            if (pod.hostVeth) pod.hostVeth.up = false;
            note(`pod ${pod.name} stopped (grace period over)`);
            controlPlane([pod], false, 'pod gone');
          });
        });
        return;
      }
      case 'node-down': {
        const name = f.target.slice(5);
        const node = ctx.cluster?.nodes.find((n) => n.name === name);
        if (!node) return ctx.err([...at, 'target'], `no node "${name}"`);
        ctx.sim.scheduleAt(dur(f.at), () => {
          node.eth0.up = false;
          note(`node ${node.name} down`);
          controlPlane(node.pods, false, `node ${node.name} down`);
        });
        return;
      }
      case 'netem': {
        const [host, ifname] = f.target.split('/') as [string, string];
        const dev = ctx.namespaces.get(host)?.device(ifname);
        if (!(dev instanceof NicDevice) || dev.link === null) return ctx.err([...at, 'target'], `${f.target} is not an end of a link (a node's or host's eth0, or a links[] end)`);
        const ch = dev.link;
        const cfg = { loss: f.loss, delayNs: dur(f.delay), jitterNs: dur(f.jitter) };
        ctx.sim.scheduleAt(dur(f.at), () => {
          setNetem(ch, cfg, ctx.sim);
          note(`netem on ${f.target}: loss ${(cfg.loss * 100).toFixed(2)}% delay ${cfg.delayNs / 1e6}ms jitter ${cfg.jitterNs / 1e6}ms`);
        });
        return;
      }
      default: {
        const never: never = f;
        throw new Error(`unknown fault ${String(never)}`);
      }
    }
  });
  return timeline;
}
