// k8s/daemonset-controller — the DaemonSet controller (pkg/controller/daemon daemon_controller.go manage,
// update.go rollingUpdate) after start: one pod per node the template should run on
// (NodeShouldRunDaemonPod: node selection and taints against the pod's and the DaemonSet's tolerations),
// bound to it, named <ds>-<5 chars> from the DaemonSet's name stream, labelled with the revision's
// controller-revision-hash and pod-template-generation.
//   manage: a node that should run the pod and has none (not even a terminating one) gets one; with
//     maxSurge, a node whose only pods are terminating gets one too; a surged node keeps its old pod
//     until the new one is available (or the old one is not Ready).
//   `kubectl rollout restart daemonset/NAME` (restartedAt in the template: a new hash, the template
//   generation + 1), RollingUpdate (maxUnavailable default 1, maxSurge default 0; percentages of the
//   nodes that should run it, rounded up; both 0 → maxUnavailable 1):
//     maxSurge 0: old pods are deleted while fewer than maxUnavailable nodes are unavailable (a node
//       whose pod is terminating, missing or not yet available counts); an old pod that is not available
//       goes at once. The new pod is created once the old Pod object is gone (its kubelet deletes it
//       when its containers stopped), so each node is without its daemon for the old pod's termination.
//     maxSurge > 0: up to maxSurge nodes get their new pod beside the old one; the old one is deleted
//       when the new one is available (Ready for minReadySeconds).
//   OnDelete: nothing is deleted; a pod someone deletes comes back at the new revision.
// The real controller walks its node → pods map in Go's random order; podwire walks the nodes in
// cluster order. The timeline says what `kubectl rollout status daemonset/NAME` says.
// Layer: k8s (imports core, k8s).
// Not modelled: failed-pod deletion back-off, burst limits and expectations, revision history, a node
// added after start (nodes are fixed), pods on nodes that stop fitting (their labels and taints change).
import type { Simulator } from '../core/simulator.js';
import type { ApiStore } from './api/store.js';
import type { ClusterNode, ClusterWorld } from './cluster.js';
import { intOrPercent } from './deployment-controller.js';
import type { PodDef } from './desired-state.js';
import type { Kubelet } from './kubelet.js';
import type { PodSpecT } from './manifests.js';
import { generateNames } from './names.js';
import { apiTaints, bindPod, deletePodGracefully, OwnerController, restartedTemplate, startPod, type Member, type OwnedSet } from './pod-control.js';
import { daemonNodes, daemonSetPod, revisionHash, type DaemonSetT } from './workload-controllers.js';

/** One DaemonSet as the controller keeps it. */
export interface DaemonSetState extends OwnedSet {
  /** The current revision's controller-revision-hash, its template annotations and generation. */
  hash: string;
  annotations: Record<string, string>;
  generation: number;
  maxSurge: unknown;
  maxUnavailable: unknown;
}

/** The DaemonSet controller. */
export class DaemonSetController extends OwnerController<DaemonSetState> {
  constructor(sim: Simulator, api: ApiStore, cluster: ClusterWorld, kubelet: Kubelet, record: (what: string) => void) {
    super(sim, api, cluster, kubelet, record, 'DaemonSet', (w) => {
      const spec = w.rawSpec as DaemonSetT['spec'];
      const ru = spec.updateStrategy.rollingUpdate;
      return {
        namespace: w.namespace,
        name: w.owner.name,
        template: w,
        hash: revisionHash(w.owner.name, w.rawTemplate),
        annotations: w.def.annotations,
        generation: 1,
        onDelete: spec.updateStrategy.type === 'OnDelete',
        maxSurge: ru?.maxSurge ?? 0,
        maxUnavailable: ru?.maxUnavailable ?? 1,
        minReadyNs: spec.minReadySeconds * 1e9,
        rolling: false,
        status: '',
        wake: Infinity,
      };
    });
  }

  /** `kubectl rollout restart daemonset`: the template stamped with restartedAt, a new hash and generation. */
  rolloutRestart(set: DaemonSetState, restartedAt: string): void {
    set.hash = revisionHash(set.name, restartedTemplate(set.template.rawTemplate, restartedAt));
    set.annotations = { ...set.template.def.annotations, 'kubectl.kubernetes.io/restartedAt': restartedAt };
    set.generation++;
    set.rolling = !set.onDelete;
    set.status = '';
    const { surge, unavailable } = this.limits(set, this.shouldRun(set).length);
    this.record(
      `daemonset ${set.name}: rollout restart: revision ${set.hash}, pod-template-generation ${set.generation} (${set.onDelete ? 'OnDelete: no pod is replaced until it is deleted; rollout status is only available for RollingUpdate strategy type' : `RollingUpdate, maxSurge ${surge}, maxUnavailable ${unavailable}: node by node`})`,
    );
    this.sync(set);
  }

  /** maxSurge / maxUnavailable of the nodes that should run the pod (both rounded up; both 0 → unavailable 1). */
  private limits(set: DaemonSetState, desired: number): { surge: number; unavailable: number } {
    const surge = intOrPercent(set.maxSurge, desired, true) ?? 0;
    let unavailable = intOrPercent(set.maxUnavailable, desired, true) ?? 1;
    if (surge === 0 && unavailable === 0) unavailable = 1;
    return { surge, unavailable };
  }

  /** The nodes (with a Node object) the pod template should run on. */
  private shouldRun(set: DaemonSetState): ClusterNode[] {
    const taints = apiTaints(this.api);
    const nodes = this.cluster.nodes.filter((n) => this.api.get('Node', '', n.name) !== undefined);
    const infos = nodes.map((n) => ({ ...this.cluster.spawner.nodeInfo(n, taints), node: n }));
    return daemonNodes(set.template.def.spec, infos).map((i) => i.node);
  }

  /** The set's pods that exist, by node, oldest first. */
  private byNode(set: DaemonSetState): Map<string, Member[]> {
    const out = new Map<string, Member[]>();
    for (const m of this.members(set)) {
      const list = out.get(m.pod.node.name);
      if (list) list.push(m);
      else out.set(m.pod.node.name, [m]);
    }
    return out;
  }

  /** IsPodAvailable with the DaemonSet's minReadySeconds. */
  private ok(set: DaemonSetState, m: Member | null): boolean {
    return this.available(set, m, set.minReadyNs);
  }

  /** findUpdatedPodsOnNode: the node's one new and one old pod that are not terminating; null when it has more. */
  private updatedOn(set: DaemonSetState, pods: readonly Member[]): { newPod: Member | null; oldPod: Member | null } | null {
    let newPod: Member | null = null;
    let oldPod: Member | null = null;
    for (const m of pods) {
      if (m.obj.metadata.deletionTimestamp !== null) continue;
      if (m.pod.labels['controller-revision-hash'] === set.hash) {
        if (newPod) return null;
        newPod = m;
      } else {
        if (oldPod) return null;
        oldPod = m;
      }
    }
    return { newPod, oldPod };
  }

  protected sync(set: DaemonSetState): void {
    const nodes = this.shouldRun(set);
    // The status of the pods as listed (the writes below reach it through the next sync).
    this.writeStatus(set, nodes);
    let pods = this.byNode(set);
    const surging = (intOrPercent(set.maxSurge, nodes.length, true) ?? 0) > 0;
    // manage (podsShouldBeOnNode).
    for (const node of nodes) {
      const here = pods.get(node.name) ?? [];
      const running = here.filter((m) => m.obj.metadata.deletionTimestamp === null);
      if (here.length === 0 || (surging && running.length === 0)) this.create(set, node);
      else if (surging && running.length === 2) {
        const { newPod, oldPod } = this.updatedOn(set, running) ?? { newPod: null, oldPod: null };
        if (newPod && oldPod && (!oldPod.obj.status.ready || this.ok(set, newPod))) this.delete(set, oldPod, 'its replacement is available');
      }
    }
    if (!set.onDelete) {
      pods = this.byNode(set);
      const { surge, unavailable } = this.limits(set, nodes.length);
      if (surge === 0) this.rollUnavailable(set, pods, unavailable);
      else this.rollSurge(set, nodes, pods, surge);
    }
  }

  /** rollingUpdate with maxSurge 0: delete old pods while fewer than maxUnavailable nodes are unavailable. */
  private rollUnavailable(set: DaemonSetState, pods: Map<string, Member[]>, maxUnavailable: number): void {
    let numUnavailable = 0;
    const replace: Member[] = [];
    const candidates: Member[] = [];
    for (const here of pods.values()) {
      const u = this.updatedOn(set, here);
      if (u === null || (u.newPod === null) === (u.oldPod === null)) {
        numUnavailable++;
        continue;
      }
      if (u.newPod) {
        if (!this.ok(set, u.newPod)) numUnavailable++;
      } else if (!this.ok(set, u.oldPod)) replace.push(u.oldPod!);
      else if (numUnavailable < maxUnavailable) candidates.push(u.oldPod!);
    }
    const n = Math.min(Math.max(0, maxUnavailable - numUnavailable), candidates.length);
    for (const m of [...replace, ...candidates.slice(0, n)]) this.delete(set, m, `update to revision ${set.hash}`);
  }

  /** rollingUpdate with maxSurge: new pods beside old ones on up to maxSurge nodes; an old pod goes once its node's new one is available. */
  private rollSurge(set: DaemonSetState, nodes: ClusterNode[], pods: Map<string, Member[]>, maxSurge: number): void {
    let numSurge = 0;
    const allowed: ClusterNode[] = [];
    const candidates: ClusterNode[] = [];
    const toDelete: Member[] = [];
    for (const node of nodes) {
      const u = this.updatedOn(set, pods.get(node.name) ?? []);
      if (u === null) {
        numSurge++;
        continue;
      }
      if (u.oldPod === null) continue;
      if (u.newPod === null) (this.ok(set, u.oldPod) ? candidates : allowed).push(node);
      else if (!this.ok(set, u.newPod)) numSurge++;
      else toDelete.push(u.oldPod);
    }
    const n = Math.min(Math.max(0, maxSurge - numSurge), candidates.length);
    for (const node of [...allowed, ...candidates.slice(0, n)]) this.create(set, node);
    for (const m of toDelete) this.delete(set, m, `its replacement is available`);
  }

  /** CreatePods bound to `node` (the template with the revision's labels and annotations). */
  private create(set: DaemonSetState, node: ClusterNode): void {
    const rng = this.sim.rng.stream(`k8s/daemonset/${set.namespace}/${set.name}`);
    let name = generateNames(set.name, 1, rng)[0]!;
    while (this.cluster.pods.some((p) => p.namespace === set.namespace && p.name === name)) name = generateNames(set.name, 1, rng)[0]!;
    const t = set.template.def;
    const st = daemonSetPod(name, t.spec, node.name, t.labels, set.hash, set.generation);
    const def: PodDef = { ...t, name, labels: st.labels, annotations: set.annotations, spec: { ...t.spec, ...st.specOverrides } as PodSpecT };
    const pod = bindPod(this.api, this.cluster, def, [node]);
    if (typeof pod === 'string') return this.record(`daemonset ${set.name}: pod for ${node.name} stays Pending: ${pod}`);
    this.record(`daemonset ${set.name}: Created pod: ${pod.name} on ${node.name} (revision ${set.hash})`);
    startPod(this.api, this.kubelet, pod);
  }

  private delete(set: DaemonSetState, m: Member, why: string): void {
    if (this.api.get('Pod', m.pod.namespace, m.pod.name)?.metadata.deletionTimestamp !== null) return;
    this.record(`daemonset ${set.name}: Deleted pod: ${m.pod.name} on ${m.pod.node.name} (${why})`);
    deletePodGracefully(this.sim, this.api, m.pod);
  }

  /** updateDaemonSetStatus's counts (each node's oldest pod) and, during a rollout, `kubectl rollout status`'s line, once per change. */
  private writeStatus(set: DaemonSetState, nodes: ClusterNode[]): void {
    if (!set.rolling) return;
    const pods = this.byNode(set);
    let updated = 0;
    let available = 0;
    for (const node of nodes) {
      const oldest = pods.get(node.name)?.[0];
      if (!oldest) continue;
      if (this.ok(set, oldest)) available++;
      if (oldest.pod.labels['controller-revision-hash'] === set.hash) updated++;
    }
    const desired = nodes.length;
    const q = `"${set.name}"`;
    const line =
      updated < desired ? `Waiting for daemon set ${q} rollout to finish: ${updated} out of ${desired} new pods have been updated...` : available < desired ? `Waiting for daemon set ${q} rollout to finish: ${available} of ${desired} updated pods are available...` : `daemon set ${q} successfully rolled out`;
    if (line === set.status) return;
    set.status = line;
    this.record(`daemonset ${set.name}: ${line}`);
    if (available === desired && updated === desired) set.rolling = false;
  }
}
