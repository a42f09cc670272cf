// k8s/service-informer — a client's informer over Services and EndpointSlices (client-go shared
// informers, as kube-proxy's ServiceChangeTracker / EndpointsChangeTracker and CoreDNS's dnsController
// keep them): it lists both kinds at start, applies their watch events to its own cache, and joins
// each Service with its EndpointSlice into a ServiceView. Each component has its own informer, so it
// sees the store as its watch delivered it. Layer: k8s (imports k8s).
// Not modelled: resyncs, several slices per Service.
import type { EndpointSlice, Service } from './api/objects.js';
import type { ApiStore, WatchEvent } from './api/store.js';
import { joinService, type ServiceView } from './services.js';

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The cache of one component's Service and EndpointSlice informers. */
export class ServiceInformer {
  private readonly services = new Map<string, Service>();
  /** By `namespace/service-name` (the kubernetes.io/service-name label). */
  private readonly slices = new Map<string, EndpointSlice>();
  private joined: ServiceView[] | null = null;

  /** Lists and watches both kinds (no watch delay); `onChange` runs after each delivered batch, once per kind. */
  constructor(api: ApiStore, onChange: () => void = () => {}) {
    for (const s of api.list('Service')) this.services.set(keyOf(s.metadata.namespace, s.metadata.name), s);
    for (const e of api.list('EndpointSlice')) this.slices.set(keyOf(e.metadata.namespace, e.serviceName), e);
    api.watch('Service', (events) => {
      this.apply(this.services, events, (s) => keyOf(s.metadata.namespace, s.metadata.name));
      onChange();
    });
    api.watch('EndpointSlice', (events) => {
      this.apply(this.slices, events, (e) => keyOf(e.metadata.namespace, e.serviceName));
      onChange();
    });
  }

  /** The Services (in creation order) with the endpoints of their slices. */
  list(): ServiceView[] {
    this.joined ??= [...this.services.values()].map((s) => joinService(s.spec, this.slices.get(keyOf(s.metadata.namespace, s.metadata.name))));
    return this.joined;
  }

  /**
   * Per Service (`namespace/name`, in list() order): the Service and EndpointSlice objects its view
   * joins. Stored objects are values replaced on every write, so kube-proxy's change trackers tell a
   * changed Service by comparing them with the last sync's.
   */
  sources(): Array<[key: string, service: Service, slice: EndpointSlice | undefined]> {
    return [...this.services].map(([k, s]) => [k, s, this.slices.get(k)]);
  }

  private apply<T extends Service | EndpointSlice>(cache: Map<string, T>, events: readonly WatchEvent<T>[], key: (o: T) => string): void {
    for (const e of events) {
      if (e.type === 'DELETED') cache.delete(key(e.object));
      else cache.set(key(e.object), e.object);
    }
    this.joined = null;
  }
}
