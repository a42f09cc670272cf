// scenario/faults-workload — the kubectl operations of spec.faults: `scale` (`kubectl scale`),
// `rollout-restart` (`kubectl rollout restart`), `cordon`, `uncordon` and `drain` (k8s/drain). At the operation's time it records what the user did
// and writes it to the controllers (k8s/replica-controller, k8s/deployment-controller); they create and
// delete the pods, which terminate gracefully (k8s/pod-termination). Layer: scenario.
import { CRON_EPOCH_MS } from '../k8s/cron.js';
import { durationOr0 } from '../core/time.js';
import type { FaultContext } from './faults.js';
import type { FaultSpecT } from './schema.js';

type WorkloadOp = Extract<FaultSpecT, { kind: 'scale' | 'rollout-restart' | 'drain' | 'cordon' | 'uncordon' }>;

/** `kind/NAME[.NAMESPACE]` → kind, name, namespace. */
function parseRef(target: string): { kind: string; name: string; namespace: string } {
  const [kind, rest] = target.split('/') as [string, string];
  const dot = rest.indexOf('.');
  return dot < 0 ? { kind, name: rest, namespace: 'default' } : { kind, name: rest.slice(0, dot), namespace: rest.slice(dot + 1) };
}

/** Schedules a scale or rollout-restart (spec.faults[i]); a target that names nothing is an error now. */
export function scheduleWorkloadOp(ctx: FaultContext, f: WorkloadOp, i: number): void {
  const cp = ctx.controlPlane!;
  const ref = parseRef(f.target);
  const at = ['faults', i, 'target'];
  if (f.kind === 'drain' || f.kind === 'cordon' || f.kind === 'uncordon') {
    const node = ctx.cluster?.nodes.find((n) => n.name === ref.name);
    if (!node) return ctx.err(at, `no node "${ref.name}"`);
    ctx.sim.scheduleAt(durationOr0(f.at), () => {
      ctx.record(`${f.kind}: kubectl ${f.kind} ${f.target}${f.kind === 'drain' ? ` --ignore-daemonsets${f.force ? ' --force' : ''}${f.gracePeriod !== undefined ? ` --grace-period=${durationOr0(f.gracePeriod) / 1e9}` : ''}` : ''}`);
      if (f.kind === 'drain') cp.drainer!.drain(node, { force: f.force, gracePeriodS: f.gracePeriod === undefined ? undefined : durationOr0(f.gracePeriod) / 1e9 });
      else cp.drainer!.setUnschedulable(node, f.kind === 'cordon');
    });
    return;
  }
  const d = ref.kind === 'deployment' ? cp.deployments.deployment(ref.namespace, ref.name) : undefined;
  if (ref.kind === 'deployment' && !d) return ctx.err(at, `no Deployment "${ref.name}" in namespace ${ref.namespace}`);
  if (f.kind === 'rollout-restart') {
    ctx.sim.scheduleAt(durationOr0(f.at), () => {
      ctx.record(`rollout-restart: kubectl rollout restart ${f.target}`);
      cp.deployments.rolloutRestart(d!, new Date(CRON_EPOCH_MS + Math.floor(ctx.sim.now / 1e9) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'));
    });
    return;
  }
  const rs = ref.kind === 'replicaset' ? [...cp.replicaSets.sets.values()].find((x) => x.namespace === ref.namespace && x.owner.kind === 'ReplicaSet' && x.name === ref.name) : undefined;
  if (ref.kind === 'replicaset' && !rs) return ctx.err(at, `no ReplicaSet "${ref.name}" in namespace ${ref.namespace}`);
  ctx.sim.scheduleAt(durationOr0(f.at), () => {
    ctx.record(`scale: kubectl scale ${f.target} --replicas=${f.replicas}`);
    if (d) cp.deployments.scale(d, f.replicas);
    else cp.replicaSets.scale(rs!, f.replicas);
  });
}
