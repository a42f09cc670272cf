// k8s/endpointslice-controller — kube-controller-manager's EndpointSlice controller
// (pkg/controller/endpointslice, endpointslice_controller.go syncService / reconciler.go): it watches
// Pods, keeps their conditions in its informer cache, and writes each selector Service's endpoints:
// ready = Ready and not terminating, serving = Ready, terminating = deletionTimestamp set. Layer: k8s
// (imports core, k8s). The watch delay (spec.cluster.endpointDelay) stands for the probe failures,
// the kubelet's status update and the watch latency together.
// Not modelled: slices of more than one per Service (maxEndpointsPerSlice), topology hints, skipping
// unchanged slices (every selector Service's slice is rewritten on each change, so kube-proxy syncs
// after every pod change), the batch period (--endpoint-updates-batch-period).
import type { TimeNs } from '../core/time.js';
import type { Pod, EndpointSlice } from './api/objects.js';
import type { ApiStore, WatchEvent, Write } from './api/store.js';
import type { ClusterPod } from './cluster.js';
import { ALL_READY, resolveSelected, type PodConditions, type ServiceView } from './services.js';

/** The EndpointSlice controller. */
export class EndpointSliceController {
  /** The informer's cache: each pod's conditions as last delivered. */
  private readonly seen = new Map<string, PodConditions>();
  private readonly byKey: Map<string, ClusterPod>;

  constructor(
    private readonly api: ApiStore,
    private readonly pods: ClusterPod[],
    private readonly services: ServiceView[],
    private readonly record: (what: string) => void,
  ) {
    this.byKey = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  }

  /** Starts watching Pods; their changes reach the controller `delayNs` after the write. */
  start(delayNs: TimeNs): void {
    this.api.watch('Pod', (events) => this.podsChanged(events), { delayNs });
  }

  /** A pod's conditions as this controller knows them. */
  readonly conditionsOf = (pod: ClusterPod): PodConditions => this.seen.get(`${pod.namespace}/${pod.name}`) ?? ALL_READY();

  private podsChanged(events: readonly WatchEvent<Pod>[]): void {
    for (const e of events) {
      const p = e.object;
      this.seen.set(`${p.metadata.namespace}/${p.metadata.name}`, { ready: p.status.ready, terminating: p.metadata.deletionTimestamp !== null });
    }
    for (const s of this.services) if (s.selector !== null) resolveSelected(s, this.pods, this.conditionsOf);
    this.record(describe(events));
    this.writeSlices();
  }

  /** Writes the EndpointSlice of every selector Service, in one commit. */
  private writeSlices(): void {
    const writes: Write[] = [];
    for (const s of this.services) {
      if (s.selector === null) continue;
      const old = this.api.get('EndpointSlice', s.namespace, s.sliceName);
      if (old) writes.push({ op: 'update', object: sliceOf(s, old) });
    }
    this.api.commit(writes);
  }

  /** The ClusterPod an API Pod stands for. */
  podOf(p: Pod): ClusterPod | undefined {
    return this.byKey.get(`${p.metadata.namespace}/${p.metadata.name}`);
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
    return `endpointslice: ${first.object.metadata.name} terminating (serving, not ready)`;
  }
  const names = events.map((e) => e.object.metadata.name).join(', ');
  return `endpointslice: ${names} ${first.object.status.ready ? 'ready' : 'not ready'} (${first.object.status.reason})`;
}
