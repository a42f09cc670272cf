// k8s/routing-publisher — what every controller feeding L7 proxies does with its tables (the ingress-nginx
// controller, NGINX Gateway Fabric's): the proxies of its pods attach and detach as the pods start and
// stop; each gets the table built last when it attaches, and every later one. Layer: k8s (imports app).
import type { RoutingTable } from '../app/l7-balancer.js';

/** Where a controller pushes its table: the proxy of one controller pod. */
export interface RoutingTableSink {
  setTable(t: RoutingTable): void;
}

/** The attached proxies and the table built last. */
export class RoutingTablePublisher<T extends RoutingTable> {
  /** The proxies attached (one per running controller pod), in attach order. */
  readonly sinks: RoutingTableSink[] = [];
  protected built: T | null = null;

  /** A proxy in one of the controller's pods starts: it gets the current table and every later one. */
  attach(sink: RoutingTableSink): void {
    this.sinks.push(sink);
    if (this.built) sink.setTable(this.built);
  }

  detach(sink: RoutingTableSink): void {
    const i = this.sinks.indexOf(sink);
    if (i >= 0) this.sinks.splice(i, 1);
  }

  /** The table built last (what the proxies get at their next sync), or null before the first. */
  table(): T | null {
    return this.built;
  }

  /** A new build: every attached proxy gets it. */
  protected publish(t: T): void {
    this.built = t;
    for (const s of this.sinks) s.setTable(t);
  }
}
