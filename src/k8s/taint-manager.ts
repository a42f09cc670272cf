// k8s/taint-manager — the NoExecute taint manager of kube-controller-manager
// (pkg/controller/tainteviction): when a node gets a NoExecute taint, each pod bound to it that does
// not tolerate the taint is deleted at once, a pod that tolerates it for tolerationSeconds is deleted
// that long after the taint was added (the shortest of its matching tolerations), a pod that tolerates
// it without a limit stays. Taints removed before then cancel the eviction. The tolerations are the
// pod's own plus the API server's DefaultTolerationSeconds admission: `node.kubernetes.io/not-ready`
// and `node.kubernetes.io/unreachable` NoExecute for 300 s, added to pods that have none for those keys
// (--default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds). An eviction is a
// graceful delete (terminationGracePeriodSeconds, 30 s by default): the Pod gets its deletionTimestamp;
// on a dead node no kubelet confirms it, so it stays Terminating while its controller replaces it
// (replica-controller.ts). Layer: k8s (imports core, k8s).
// Not modelled: eviction rate limits (--node-eviction-rate), PodDisruptionConditions.
import type { SimEvent } from '../core/scheduler.js';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { Node, Pod } from './api/objects.js';
import type { ApiStore } from './api/store.js';
import type { ClusterPod } from './cluster.js';
import { podObject } from './pod-uid.js';
import { SchedulingSchema, tolerates, type Taint, type TolerationT } from './scheduler.js';

/** DefaultTolerationSeconds admission default (300 s). */
export const DEFAULT_TOLERATION_SECONDS = 300;

type NoExecuteTaint = Taint & { timeAdded?: TimeNs };

/** The pod's tolerations with the admission plugin's defaults added (tolerationSeconds kept as the API has it). */
export function effectiveTolerations(pod: ClusterPod, defaultSeconds: number): (TolerationT & { tolerationSeconds?: number })[] {
  const parsed = SchedulingSchema.safeParse(pod.spec);
  const own = (parsed.success ? parsed.data.tolerations : []) as (TolerationT & { tolerationSeconds?: number })[];
  const out = [...own];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const taint: Taint = { key, effect: 'NoExecute' };
    if (!own.some((t) => tolerates(t, taint))) out.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: defaultSeconds });
  }
  return out;
}

/** How long after the taint the pod is evicted: 0 = now, null = never (getMinTolerationTime). */
export function evictionDelayNs(tolerations: readonly (TolerationT & { tolerationSeconds?: number })[], taint: Taint): TimeNs | null {
  const matching = tolerations.filter((t) => tolerates(t, taint));
  if (matching.length === 0) return 0;
  let min: number | null = null;
  for (const t of matching) {
    if (t.tolerationSeconds === undefined) continue;
    const s = Math.max(0, t.tolerationSeconds);
    if (min === null || s < min) min = s;
  }
  if (min === null) return null;
  return min * 1e9;
}

/** Watches Nodes; evicts pods from nodes with NoExecute taints as their tolerations allow. */
export class TaintManager {
  private readonly pending = new Map<string, SimEvent>();

  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    private readonly pods: ClusterPod[],
    private readonly defaultSeconds: number,
    private readonly record: (what: string) => void,
  ) {}

  start(): void {
    this.api.watch('Node', (events) => {
      for (const e of events) if (e.type === 'MODIFIED') this.nodeUpdated(e.object);
    });
  }

  private nodeUpdated(node: Node): void {
    const taints = (node.spec?.taints ?? []).filter((t) => t.effect === 'NoExecute') as NoExecuteTaint[];
    for (const pod of this.pods) {
      if (pod.node.name !== node.metadata.name) continue;
      const key = `${pod.namespace}/${pod.name}`;
      const obj = podObject(this.api, pod);
      if (!obj || obj.metadata.deletionTimestamp !== null) continue;
      const old = this.pending.get(key);
      old?.cancel();
      this.pending.delete(key);
      if (taints.length === 0) continue;
      const tol = effectiveTolerations(pod, this.defaultSeconds);
      let at: TimeNs | null = null;
      let why = '';
      for (const t of taints) {
        const d = evictionDelayNs(tol, t);
        if (d === null) continue;
        const when = (t.timeAdded ?? this.sim.now) + d;
        if (at === null || when < at) [at, why] = [when, `${t.key}:NoExecute, tolerationSeconds ${d / 1e9}`];
      }
      if (at === null) continue;
      this.pending.set(key, this.sim.scheduleAt(Math.max(at, this.sim.now), () => this.evict(pod, why)));
    }
  }

  private evict(pod: ClusterPod, why: string): void {
    this.pending.delete(`${pod.namespace}/${pod.name}`);
    const obj = podObject(this.api, pod);
    if (!obj || obj.metadata.deletionTimestamp !== null) return;
    const grace = (pod.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ?? 30;
    this.record(`taint-manager: evicting pod ${pod.name} from ${pod.node.name} (${why})`);
    this.api.update<Pod>({ ...obj, metadata: { ...obj.metadata, deletionTimestamp: this.sim.now, deletionGracePeriodSeconds: grace } });
  }
}
