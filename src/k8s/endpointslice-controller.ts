// k8s/endpointslice-controller — kube-controller-manager's EndpointSlice controller
// (pkg/controller/endpointslice, endpointslice_controller.go syncService / reconciler.go): it watches
// Pods, keeps their conditions in its informer cache, and writes each selector Service's endpoints:
// ready = Ready and not terminating, serving = Ready, terminating = deletionTimestamp set. Layer: k8s
// (imports core, k8s). The watch delay (spec.cluster.endpointDelay) is the watch latency; for pods
// without probes it also stands for the time the kubelet takes to notice (with probes, prober.ts
// writes the Ready condition when they decide). At start it reads the Pods' conditions from the store.
// Not modelled: slices of more than one per Service (maxEndpointsPerSlice), topology hints, skipping
// unchanged slices (every selector Service's slice is rewritten on each change of a pod some Service
// selects, so kube-proxy syncs after each), the batch period (--endpoint-updates-batch-period). A deleted Node's pods are
// skipped at the next sync (any pod change starts one here; in Kubernetes only a change of that
// Service's pods or the Service), not at the deletion itself.
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import type { Ipv4 } from '../wire/types.js';
import type { Pod, EndpointSlice, Node, Service } from './api/objects.js';
import type { ApiStore, WatchEvent, Write } from './api/store.js';
import type { ClusterPod } from './cluster.js';
import { ALL_READY, emptyView, resolveSelected, selectorMatches, type PodConditions, type ServiceView } from './services.js';

/** A pod whose Node is gone, as a sync sees it: no endpoint. */
const NODE_GONE: PodConditions = { ready: false, terminating: false, terminal: true };
/** An earlier sandbox of a pod name used again: no endpoint. */
const GONE: PodConditions = NODE_GONE;

/** The EndpointSlice controller. */
export class EndpointSliceController {
  /** The informer's cache: each pod's conditions as last delivered. */
  private readonly seen = new Map<string, PodConditions & { podIP: Ipv4 }>();
  /** The selector Services this controller manages, with the endpoints it last wrote. */
  private readonly services = new Map<string, ServiceView>();
  /** Nodes gone from its node informer (deleted): a sync skips their pods. */
  private readonly missingNodes = new Set<string>();
  /** Nodes whose pods the last sync skipped (the sync failed: "Node … Not Found", and is retried). */
  private readonly skippedOn = new Set<string>();
  private delayNs: TimeNs = 0;

  constructor(
    private readonly sim: Pick<Simulator, 'schedule'>,
    private readonly api: ApiStore,
    private readonly pods: ClusterPod[],
    private readonly record: (what: string) => void,
  ) {}

  /**
   * Syncs every selector Service (its first EndpointSlice, from the pods as they are), then watches
   * Services (at once) and Pods (their changes reach the controller `delayNs` after the write).
   */
  start(delayNs: TimeNs): void {
    for (const p of this.api.list('Pod')) this.seen.set(`${p.metadata.namespace}/${p.metadata.name}`, { ready: p.status.ready, terminating: p.metadata.deletionTimestamp !== null, podIP: p.status.podIP });
    this.servicesAdded(this.api.list('Service'));
    this.api.watch('Service', (events) => this.servicesAdded(events.filter((e) => e.type === 'ADDED').map((e) => e.object)));
    this.api.watch('Pod', (events) => this.podsChanged(events), { delayNs });
    this.delayNs = delayNs;
    this.api.watch('Node', (events) => this.nodesChanged(events));
  }

  /**
   * The node informer (no sync of its own: deleteNode only feeds the topology cache). A deleted Node's
   * pods are skipped at the Services' next sync (reconcileByAddressType: "skipping Pod for Service,
   * Node not found"); that sync returns an error, so the Service is retried (rate-limited) until it
   * succeeds: a Node registered again is seen by the next retry, here `endpointDelay` after it is back.
   */
  private nodesChanged(events: readonly WatchEvent<Node>[]): void {
    let back = false;
    for (const e of events) {
      const name = e.object.metadata.name;
      if (e.type === 'DELETED') this.missingNodes.add(name);
      else if (this.missingNodes.delete(name) && this.skippedOn.has(name)) back = true;
    }
    if (!back) return;
    this.sim.schedule(this.delayNs, () => {
      this.resolveAll();
      this.record('endpointslice: resynced (Node registered again)');
      this.writeSlices();
    });
  }

  /** Re-resolves every selector Service from the informer caches (syncService for each). */
  private resolveAll(): void {
    this.skippedOn.clear();
    for (const s of this.services.values()) resolveSelected(s, this.pods, this.syncConditions);
  }

  /** A pod's conditions as a sync uses them: none (no endpoint) while its Node is missing. */
  private readonly syncConditions = (pod: ClusterPod): PodConditions => {
    const c = this.conditionsOf(pod);
    if (this.missingNodes.size === 0 || c.terminal === true || !this.missingNodes.has(pod.node.name)) return c;
    // (publishNotReadyAddresses, which keeps such pods, is not modelled.)
    this.skippedOn.add(pod.node.name);
    return NODE_GONE;
  };

  /** A pod's conditions as this controller knows them. */
  readonly conditionsOf = (pod: ClusterPod): PodConditions => {
    const c = this.seen.get(`${pod.namespace}/${pod.name}`);
    if (c === undefined) return ALL_READY();
    // A name used again (a StatefulSet's pod created anew): the informer's Pod is the other sandbox's.
    return c.podIP === pod.ip ? c : GONE;
  };

  /** syncService for new selector Services: create their slices, in one commit. */
  private servicesAdded(added: readonly Service[]): void {
    const writes: Write[] = [];
    for (const svc of added) {
      if (svc.spec.selector === null || svc.spec.type === 'ExternalName') continue;
      const view = emptyView(svc.spec);
      resolveSelected(view, this.pods, this.syncConditions);
      this.services.set(`${view.namespace}/${view.name}`, view);
      writes.push({ op: 'create', object: sliceOf(view) });
    }
    if (writes.length > 0) this.api.commit(writes);
  }

  private podsChanged(events: readonly WatchEvent<Pod>[]): void {
    for (const e of events) {
      const p = e.object;
      const terminal = e.type === 'DELETED' || p.status.phase !== undefined;
      this.seen.set(`${p.metadata.namespace}/${p.metadata.name}`, terminal ? { ready: false, terminating: false, terminal, podIP: p.status.podIP } : { ready: p.status.ready, terminating: p.metadata.deletionTimestamp !== null, podIP: p.status.podIP });
    }
    // podEndpointSliceUpdate queues only the Services whose selector matches the pod (old or new labels):
    // a pod no Service selects (a Job's, a client's) changes no slice, causes no kube-proxy sync and no
    // timeline line. An unscheduled pod (no node yet) is no endpoint: creating or deleting one changes no
    // slice (the reconciler finds nothing to write).
    const member = (p: Pod | null) => p !== null && p.spec.nodeName !== '' && this.selected(p);
    const members = events.filter((e) => member(e.object) || member(e.old));
    if (members.length === 0) return;
    this.resolveAll();
    this.record(describe(members));
    this.writeSlices();
  }

  /** True when some selector Service of this controller selects the pod (its namespace and labels). */
  private selected(pod: Pod): boolean {
    const { namespace, labels } = pod.metadata;
    for (const s of this.services.values()) if (s.namespace === namespace && selectorMatches(s.selector!, labels)) return true;
    return false;
  }

  /** Writes the EndpointSlice of every selector Service, in one commit. */
  private writeSlices(): void {
    const writes: Write[] = [];
    for (const s of this.services.values()) {
      const old = this.api.get('EndpointSlice', s.namespace, s.sliceName);
      if (old) writes.push({ op: 'update', object: sliceOf(s, old) });
    }
    this.api.commit(writes);
  }
}

/** The EndpointSlice object of a Service's current endpoints. */
export function sliceOf(s: ServiceView, base?: EndpointSlice): EndpointSlice {
  return {
    kind: 'EndpointSlice',
    metadata: base?.metadata ?? { namespace: s.namespace, name: s.sliceName, resourceVersion: '', labels: { 'kubernetes.io/service-name': s.name }, deletionTimestamp: null },
    serviceName: s.name,
    ports: s.ports.map((p) => ({ name: p.name, protocol: p.protocol, endpoints: p.endpoints.map((e) => ({ ...e })) })),
  };
}

/** The timeline line of one delivered change. */
function describe(events: readonly WatchEvent<Pod>[]): string {
  const first = events[0]!;
  if (first.old?.metadata.deletionTimestamp === null && first.object.metadata.deletionTimestamp !== null) {
    return `endpointslice: ${first.object.metadata.name} terminating (${first.object.status.ready ? 'serving, ' : ''}not ready)`;
  }
  let names = events.map((e) => e.object.metadata.name);
  // A force delete is two writes of one pod (phase Failed, then DELETE): one name.
  if (events.some((e) => e.type === 'DELETED')) names = [...new Set(names)];
  return `endpointslice: ${names.join(', ')} ${first.object.status.ready ? 'ready' : 'not ready'} (${first.object.status.reason})`;
}
