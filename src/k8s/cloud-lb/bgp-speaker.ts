// k8s/cloud-lb/bgp-speaker — MetalLB's speakers in BGP mode (internal/bgp, speaker's
// ShouldAnnounce): every node's speaker advertises a /32 route to each LoadBalancer IP with itself as
// next hop while it is eligible — its Node is Ready and, with externalTrafficPolicy Local, it has a
// ready endpoint of the Service (Cluster: the Service has one anywhere). The router (the `bgp-router`
// machine, dataplane.ts in ecmp mode) spreads flows over the advertised next hops. A change is a
// route update at once (a BFD-fast session), written to the timeline. Layer: k8s (imports k8s).
// Not modelled: BGP messages on the wire (sessions, OPEN/UPDATE/KEEPALIVE on TCP 179), hold timers,
// communities, localPref, peer selectors.
import type { ApiStore } from '../api/store.js';
import type { ClusterNode } from '../cluster.js';
import { ServiceInformer } from '../service-informer.js';
import type { ServiceView } from '../services.js';
import type { LbService } from './model.js';

/** True when `node`'s speaker announces `svc` (MetalLB's eligibility rule). */
export function advertises(svc: ServiceView, node: string, nodeReady: boolean): boolean {
  if (!nodeReady) return false;
  const ready = svc.ports.flatMap((p) => p.endpoints.filter((e) => e.ready));
  return svc.externalTrafficPolicy === 'Local' ? ready.some((e) => e.nodeName === node) : ready.length > 0;
}

/** Starts the speakers: the router's next hops (the targets' states) follow the Services, EndpointSlices and Nodes. */
export function startBgpSpeakers(api: ApiStore, nodes: readonly ClusterNode[], lbs: readonly LbService[], now: () => number, record: (what: string) => void): void {
  const ready = new Map(nodes.map((n) => [n.name, api.get('Node', '', n.name)?.status.ready ?? true]));
  const sync = (initial: boolean): void => {
    for (const lb of lbs) {
      const view = informer.list().find((s) => s.namespace === lb.namespace && s.name === lb.name);
      for (const t of lb.targets) {
        const on = view !== undefined && advertises(view, t.node.name, ready.get(t.node.name) ?? false);
        const state = on ? 'healthy' : 'unhealthy';
        if (t.state === state) continue;
        t.state = state;
        t.since = now();
        t.lastResult = on ? 'advertised' : 'withdrawn';
        if (!initial) record(`metallb-bgp: ${t.node.name} ${on ? 'advertises' : 'withdraws'} the route to ${lb.namespace}/${lb.name} (${lb.targets.filter((x) => x.state === 'healthy').length} next hops)`);
      }
    }
  };
  const informer: ServiceInformer = new ServiceInformer(api, () => sync(false));
  api.watch('Node', (events) => {
    for (const e of events) ready.set(e.object.metadata.name, e.type !== 'DELETED' && e.object.status.ready); // a deleted Node is no candidate
    sync(false);
  });
  sync(true);
}
