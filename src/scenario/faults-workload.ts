// scenario/faults-workload — the kubectl operations of spec.faults: `scale` (`kubectl scale`),
// `rollout-restart` (`kubectl rollout restart`), `cordon`, `uncordon` and `drain` (k8s/drain). At the
// operation's time it records what the user did and writes it to the controllers (k8s/replica-controller,
// k8s/deployment-controller, k8s/statefulset-controller, k8s/daemonset-controller, k8s/drain); they create and delete the pods, which terminate gracefully
// (k8s/pod-termination). Layer: scenario.
import { CRON_EPOCH_MS } from '../k8s/cron.js';
import { durationOr0 } from '../core/time.js';
import type { FaultContext } from './faults.js';
import type { FaultSpecT } from './schema.js';

type WorkloadOp = Extract<FaultSpecT, { kind: 'scale' | 'rollout-restart' | 'drain' | 'cordon' | 'uncordon' }>;

/** `kind/REST`: REST names an object as NAME (namespace default) or NAME.NAMESPACE, as pod targets do. */
function parseRef(target: string): { kind: string; rest: string; names: (name: string, namespace: string) => boolean } {
  const slash = target.indexOf('/');
  const rest = target.slice(slash + 1);
  return { kind: target.slice(0, slash), rest, names: (name, namespace) => (name === rest && namespace === 'default') || `${name}.${namespace}` === rest };
}

/** Schedules a kubectl operation (spec.faults[i]); a target that names nothing is an error now. */
export function scheduleWorkloadOp(ctx: FaultContext, f: WorkloadOp, i: number): void {
  const cp = ctx.controlPlane!;
  const ref = parseRef(f.target);
  const at = ['faults', i, 'target'];
  if (f.kind === 'drain' || f.kind === 'cordon' || f.kind === 'uncordon') {
    const node = ctx.cluster?.nodes.find((n) => n.name === ref.rest);
    if (!node) return ctx.err(at, `no node "${ref.rest}"`);
    ctx.sim.scheduleAt(durationOr0(f.at), () => {
      ctx.record(`${f.kind}: kubectl ${f.kind} ${f.target}${f.kind === 'drain' ? ` --ignore-daemonsets${f.force ? ' --force' : ''}${f.gracePeriod !== undefined ? ` --grace-period=${durationOr0(f.gracePeriod) / 1e9}` : ''}` : ''}`);
      if (f.kind === 'drain') cp.drainer!.drain(node, { force: f.force, gracePeriodS: f.gracePeriod === undefined ? undefined : durationOr0(f.gracePeriod) / 1e9 });
      else cp.drainer!.setUnschedulable(node, f.kind === 'cordon');
    });
    return;
  }
  const d = ref.kind === 'deployment' ? ctx.cluster?.workloads.find((w) => w.owner.kind === 'Deployment' && ref.names(w.owner.name, w.namespace)) : undefined;
  if (ref.kind === 'deployment' && !d) return ctx.err(at, `no Deployment "${ref.rest}"`);
  const sts = ref.kind === 'statefulset' ? cp.statefulSets.find(ref.rest) : undefined;
  if (ref.kind === 'statefulset' && !sts) return ctx.err(at, `no StatefulSet "${ref.rest}"`);
  const ds = ref.kind === 'daemonset' ? cp.daemonSets.find(ref.rest) : undefined;
  if (ref.kind === 'daemonset' && !ds) return ctx.err(at, `no DaemonSet "${ref.rest}"`);
  if (f.kind === 'rollout-restart') {
    ctx.sim.scheduleAt(durationOr0(f.at), () => {
      ctx.record(`rollout-restart: kubectl rollout restart ${f.target}`);
      // kubectl's restartedAt: the time now, RFC 3339 in seconds.
      const restartedAt = new Date(CRON_EPOCH_MS + Math.floor(ctx.sim.now / 1e9) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      if (sts) cp.statefulSets.rolloutRestart(sts, restartedAt);
      else if (ds) cp.daemonSets.rolloutRestart(ds, restartedAt);
      else cp.deployments.rolloutRestart(d!, restartedAt);
    });
    return;
  }
  const rs = ref.kind === 'replicaset' ? [...cp.replicaSets.sets.values()].find((x) => x.owner.kind === 'ReplicaSet' && ref.names(x.name, x.namespace)) : undefined;
  if (ref.kind === 'replicaset' && !rs) return ctx.err(at, `no ReplicaSet "${ref.rest}"`);
  ctx.sim.scheduleAt(durationOr0(f.at), () => {
    ctx.record(`scale: kubectl scale ${f.target} --replicas=${f.replicas}`);
    if (sts) cp.statefulSets.scale(sts, f.replicas);
    else if (d) cp.deployments.scale(d, f.replicas);
    else cp.replicaSets.scale(rs!, f.replicas);
  });
}
