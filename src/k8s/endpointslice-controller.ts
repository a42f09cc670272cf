// k8s/endpointslice-controller — kube-controller-manager's EndpointSlice controller
// (pkg/controller/endpointslice, endpointslice_controller.go syncService / reconciler.go): it watches
// Pods, keeps their conditions in its informer cache, and writes each selector Service's endpoints:
// ready = Ready and not terminating, serving = Ready, terminating = deletionTimestamp set. Layer: k8s
// (imports core, k8s). The watch delay (spec.cluster.endpointDelay) is the watch latency; for pods
// without probes it also stands for the time the kubelet takes to notice (with probes, prober.ts
// writes the Ready condition when they decide). At start it reads the Pods' conditions from the store.
// Not modelled: slices of more than one per Service (maxEndpointsPerSlice), topology hints, skipping
// unchanged slices (every selector Service's slice is rewritten on each change, so kube-proxy syncs
// after every pod change), the batch period (--endpoint-updates-batch-period).
import type { TimeNs } from '../core/time.js';
import type { Pod, EndpointSlice, Service } from './api/objects.js';
import type { ApiStore, WatchEvent, Write } from './api/store.js';
import type { ClusterPod } from './cluster.js';
import { ALL_READY, emptyView, resolveSelected, type PodConditions, type ServiceView } from './services.js';

/** The EndpointSlice controller. */
export class EndpointSliceController {
  /** The informer's cache: each pod's conditions as last delivered. */
  private readonly seen = new Map<string, PodConditions>();
  /** The selector Services this controller manages, with the endpoints it last wrote. */
  private readonly services = new Map<string, ServiceView>();

  constructor(
    private readonly api: ApiStore,
    private readonly pods: ClusterPod[],
    private readonly record: (what: string) => void,
  ) {}

  /**
   * Syncs every selector Service (its first EndpointSlice, from the pods as they are), then watches
   * Services (at once) and Pods (their changes reach the controller `delayNs` after the write).
   */
  start(delayNs: TimeNs): void {
    for (const p of this.api.list('Pod')) this.seen.set(`${p.metadata.namespace}/${p.metadata.name}`, { ready: p.status.ready, terminating: p.metadata.deletionTimestamp !== null });
    this.servicesAdded(this.api.list('Service'));
    this.api.watch('Service', (events) => this.servicesAdded(events.filter((e) => e.type === 'ADDED').map((e) => e.object)));
    this.api.watch('Pod', (events) => this.podsChanged(events), { delayNs });
  }

  /** A pod's conditions as this controller knows them. */
  readonly conditionsOf = (pod: ClusterPod): PodConditions => this.seen.get(`${pod.namespace}/${pod.name}`) ?? ALL_READY();

  /** syncService for new selector Services: create their slices, in one commit. */
  private servicesAdded(added: readonly Service[]): void {
    const writes: Write[] = [];
    for (const svc of added) {
      if (svc.spec.selector === null || svc.spec.type === 'ExternalName') continue;
      const view = emptyView(svc.spec);
      resolveSelected(view, this.pods, this.conditionsOf);
      this.services.set(`${view.namespace}/${view.name}`, view);
      writes.push({ op: 'create', object: sliceOf(view) });
    }
    if (writes.length > 0) this.api.commit(writes);
  }

  private podsChanged(events: readonly WatchEvent<Pod>[]): void {
    for (const e of events) {
      const p = e.object;
      const terminal = e.type === 'DELETED' || p.status.phase !== undefined;
      this.seen.set(`${p.metadata.namespace}/${p.metadata.name}`, terminal ? { ready: false, terminating: false, terminal } : { ready: p.status.ready, terminating: p.metadata.deletionTimestamp !== null });
    }
    for (const s of this.services.values()) resolveSelected(s, this.pods, this.conditionsOf);
    this.record(describe(events));
    this.writeSlices();
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
  const names = events.map((e) => e.object.metadata.name).join(', ');
  return `endpointslice: ${names} ${first.object.status.ready ? 'ready' : 'not ready'} (${first.object.status.reason})`;
}
