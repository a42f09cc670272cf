// k8s/statefulset-controller — the StatefulSet controller (pkg/controller/statefulset
// stateful_set_control.go updateStatefulSet): it keeps pods <sts>-<ordinal> for the ordinals
// [start, start + replicas), each with its stable name, hostname and subdomain.
//   podManagementPolicy OrderedReady (the default, "monotonic"): processReplica walks the ordinals up and
//     stops at the first it has to wait for: it creates a missing pod and waits for it; it waits while a
//     pod is terminating, not Running and Ready, or Ready for less than minReadySeconds. So ordinal i is
//     created only once 0..i-1 are Ready (available). Scale down (processCondemned) starts only when
//     every kept pod is Ready, and deletes the highest ordinal first, one at a time, each once the one
//     before is gone (its Pod object deleted by its kubelet when its containers stopped).
//   Parallel: every missing pod is created and every condemned pod deleted at once.
// A pod's name is used again: a deleted ordinal (scale down and up, a rollout, pod-kill) is created
// anew only once its old Pod object is gone, and the new one is a new sandbox (pod-uid.ts: kubelet,
// probes, runtime and the EndpointSlice controller tell the two apart).
// `kubectl rollout restart statefulset/NAME` stamps kubectl.kubernetes.io/restartedAt into the template:
// a new update revision <sts>-<hash> (controller-revision-hash). RollingUpdate: once every pod is
// Ready, the highest ordinal (down to spec.updateStrategy.rollingUpdate.partition) not at the update
// revision is deleted, and the next one only after it is back Ready at the new revision; pods below the
// partition keep (and are recreated at) the current revision. OnDelete: nothing is deleted; a pod
// deleted by someone else comes back at the update revision. The timeline says what `kubectl rollout
// status` says (RollingUpdate's default partition 0 makes kubectl speak of a "partitioned roll out").
// Layer: k8s (imports core, k8s).
// Not modelled: volumeClaimTemplates and PVC retention, maxUnavailable (alpha MaxUnavailableStatefulSet:
// one pod at a time), failed-pod replacement (a pod's containers restart in place), revision history.
import type { Simulator } from '../core/simulator.js';
import type { ApiStore } from './api/store.js';
import type { ClusterWorld } from './cluster.js';
import type { PodDef } from './desired-state.js';
import type { Kubelet } from './kubelet.js';
import type { PodSpecT } from './manifests.js';
import { bindPod, deletePodGracefully, OwnerController, restartedTemplate, startPod, type Member, type OwnedSet } from './pod-control.js';
import { revisionHash, statefulSetPod, type StatefulSetT } from './workload-controllers.js';

/** A ControllerRevision: its name (the pods' controller-revision-hash) and the template annotations it stamps. */
interface Revision {
  name: string;
  annotations: Record<string, string>;
}

/** One StatefulSet as the controller keeps it. */
export interface StatefulSetState extends OwnedSet {
  replicas: number;
  start: number;
  serviceName: string;
  /** OrderedReady (not Parallel). */
  monotonic: boolean;
  partition: number;
  current: Revision;
  update: Revision;
  /** The last "stays Pending" line written (written once until a pod is created). */
  pending: string;
}

/** The StatefulSet controller. */
export class StatefulSetController extends OwnerController<StatefulSetState> {
  constructor(sim: Simulator, api: ApiStore, cluster: ClusterWorld, kubelet: Kubelet, record: (what: string) => void) {
    super(sim, api, cluster, kubelet, record, 'StatefulSet', (w) => {
      const spec = w.rawSpec as StatefulSetT['spec'];
      const rev: Revision = { name: revisionHash(w.owner.name, w.rawTemplate), annotations: w.def.annotations };
      return {
        namespace: w.namespace,
        name: w.owner.name,
        template: w,
        replicas: w.replicas,
        start: spec.ordinals?.start ?? 0,
        serviceName: spec.serviceName,
        monotonic: spec.podManagementPolicy !== 'Parallel',
        minReadyNs: spec.minReadySeconds * 1e9,
        onDelete: spec.updateStrategy.type === 'OnDelete',
        partition: spec.updateStrategy.rollingUpdate?.partition ?? 0,
        current: rev,
        update: rev,
        rolling: false,
        status: '',
        pending: '',
        wake: Infinity,
      };
    });
  }

  /** Watches Pods and syncs every set whose ordinals did not all come up with the cluster (OrderedReady's held-back ones). */
  override start(): void {
    super.start();
    // (A set whose pods all came up with the cluster has nothing to do: no event is scheduled for it.)
    for (const set of this.sets.values()) if (this.byOrdinal(set).size < set.replicas) this.queue(set);
  }

  /** `kubectl scale statefulset`: spec.replicas = n. */
  scale(set: StatefulSetState, n: number): void {
    set.replicas = n;
    this.sync(set);
  }

  /** `kubectl rollout restart statefulset`: a new update revision from the template stamped with restartedAt. */
  rolloutRestart(set: StatefulSetState, restartedAt: string): void {
    set.update = { name: revisionHash(set.name, restartedTemplate(set.template.rawTemplate, restartedAt)), annotations: { ...set.template.def.annotations, 'kubectl.kubernetes.io/restartedAt': restartedAt } };
    set.rolling = true;
    set.status = '';
    this.record(
      `statefulset ${set.name}: rollout restart: update revision ${set.update.name} (${set.onDelete ? 'OnDelete: no pod is replaced until it is deleted; rollout status is only available for RollingUpdate strategy type' : `RollingUpdate, partition ${set.partition}: ordinals from the highest down, one at a time`})`,
    );
    this.sync(set);
  }

  /** The set's pods that exist, by ordinal. */
  private byOrdinal(set: StatefulSetState): Map<number, Member> {
    const out = new Map<number, Member>();
    for (const m of this.members(set)) {
      const ord = Number(m.pod.name.slice(set.name.length + 1));
      if (Number.isInteger(ord)) out.set(ord, m);
    }
    return out;
  }

  /** isRunningAndAvailable: Running and Ready (not terminating) for minReadySeconds. */
  private ok(set: StatefulSetState, m: Member | undefined): boolean {
    return this.available(set, m, set.minReadyNs);
  }

  /** updateStatefulSet: the status of the pods as listed, then create, wait, scale down, roll, in the real controller's order. */
  protected sync(set: StatefulSetState): void {
    this.writeStatus(set);
    this.reconcile(set);
  }

  private reconcile(set: StatefulSetState): void {
    const members = this.byOrdinal(set);
    const end = set.start + set.replicas;
    const condemned = [...members.keys()].filter((o) => o < set.start || o >= end).sort((a, b) => b - a);
    // The first unavailable pod (a missing one counts): the one pod a monotonic scale down may take while not Ready.
    let firstUnhealthy: number | null = null;
    for (let o = set.start; o < end && firstUnhealthy === null; o++) if (!this.ok(set, members.get(o))) firstUnhealthy = o;
    for (let i = condemned.length - 1; i >= 0 && firstUnhealthy === null; i--) if (!this.ok(set, members.get(condemned[i]!))) firstUnhealthy = condemned[i]!;
    // processReplica for each ordinal in range.
    for (let o = set.start; o < end; o++) {
      const m = members.get(o);
      if (!m) {
        // Created: OrderedReady waits for it; a pod that stays Pending stops the batch (slowStartBatch) either way.
        if (!this.create(set, o) || set.monotonic) return;
        continue;
      }
      if (!set.monotonic) continue;
      if (m.obj.metadata.deletionTimestamp !== null) return; // waiting for it to terminate
      if (!this.ok(set, m)) return; // waiting for it to be Running and Ready (and available)
    }
    // processCondemned, highest ordinal first.
    for (const o of condemned) {
      const m = members.get(o)!;
      if (m.obj.metadata.deletionTimestamp !== null) {
        if (set.monotonic) return;
        continue;
      }
      if (set.monotonic && o !== firstUnhealthy && !this.ok(set, m)) return;
      this.delete(set, m, `scale down to ${set.replicas}`);
      if (set.monotonic) return;
    }
    if (set.onDelete) return;
    // The rolling update: the highest ordinal not at the update revision goes, one at a time, down to the partition.
    for (let o = end - 1; o >= set.start + set.partition; o--) {
      const m = members.get(o);
      if (m && m.pod.labels['controller-revision-hash'] !== set.update.name && m.obj.metadata.deletionTimestamp === null) {
        this.delete(set, m, `update to revision ${set.update.name}`);
        return;
      }
      if (!this.ok(set, m)) return;
    }
  }

  /** newVersionedStatefulSetPod: below the partition the current revision, else the update revision. */
  private create(set: StatefulSetState, ord: number): boolean {
    const rev = !set.onDelete && ord < set.start + set.partition ? set.current : set.update;
    const t = set.template.def;
    const st = statefulSetPod(set.name, ord, set.serviceName, t.labels, rev.name);
    const def: PodDef = { ...t, name: st.name, labels: st.labels, annotations: rev.annotations, spec: { ...t.spec, ...st.specOverrides } as PodSpecT };
    const pod = bindPod(this.api, this.cluster, def);
    if (typeof pod === 'string') {
      const note = `statefulset ${set.name}: create Pod ${st.name} in StatefulSet ${set.name}: it stays Pending: ${pod}`;
      if (note !== set.pending) this.record(note);
      set.pending = note;
      return false;
    }
    set.pending = '';
    this.record(`statefulset ${set.name}: create Pod ${pod.name} in StatefulSet ${set.name} successful (revision ${rev.name}); scheduler: bound to ${pod.node.name}`);
    startPod(this.api, this.kubelet, pod);
    return true;
  }

  private delete(set: StatefulSetState, m: Member, why: string): void {
    this.record(`statefulset ${set.name}: delete Pod ${m.pod.name} in StatefulSet ${set.name} successful (${why})`);
    deletePodGracefully(this.sim, this.api, m.pod);
  }

  /**
   * The set's status as the controller counts it (updateStatus: ready, updated; completeRollingUpdate) and
   * during a rollout restart the line `kubectl rollout status statefulset/NAME` prints, once per change.
   */
  private writeStatus(set: StatefulSetState): void {
    const members = [...this.byOrdinal(set).entries()].filter(([o]) => o >= set.start && o < set.start + set.replicas);
    let ready = 0;
    let updated = 0;
    for (const [, m] of members) {
      if (m.obj.metadata.deletionTimestamp !== null) continue;
      if (m.obj.status.ready) ready++;
      if (m.pod.labels['controller-revision-hash'] === set.update.name) updated++;
    }
    // completeRollingUpdate: every replica updated and ready makes the update revision the current one.
    if (!set.onDelete && updated === set.replicas && ready === set.replicas) set.current = set.update;
    if (!set.rolling || set.onDelete) return;
    const want = set.replicas - set.partition;
    const done = ready >= set.replicas && updated >= want;
    const line = ready < set.replicas ? `Waiting for ${set.replicas - ready} pods to be ready...` : !done ? `Waiting for partitioned roll out to finish: ${updated} out of ${want} new pods have been updated...` : `partitioned roll out complete: ${updated} new pods have been updated...`;
    if (line === set.status) return;
    set.status = line;
    this.record(`statefulset ${set.name}: ${line}`);
    if (done) set.rolling = false;
  }
}
