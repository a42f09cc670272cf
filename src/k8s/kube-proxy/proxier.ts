// k8s/kube-proxy/proxier — kube-proxy as a controller (pkg/proxy: the ServiceChangeTracker and
// EndpointsChangeTracker fed by informers, then syncProxyRules through the BoundedFrequencyRunner): a
// Service or EndpointSlice change schedules one sync `syncDelayNs` later (spec.cluster.proxySyncDelay,
// kube-proxy's --iptables-min-sync-period and the watch latency), which rewrites every node's rules
// with the pure renderers of iptables.ts / ipvs.ts, from its own informer's cache. Layer: k8s (imports core, netfilter, k8s).
// Changes that arrive while a sync is pending join it, as the BoundedFrequencyRunner coalesces them.
// A stalled node's proxy (the kube-proxy-stall fault: a hung process, an API server it cannot reach)
// skips syncs until it resumes, then does a full resync.
// Partial syncs (iptables mode; kube-proxy >= 1.28, MinimizeIPTablesRestore): after the first sync,
// a sync rewrites only the chains of the Services whose Service or EndpointSlice object changed since
// the last sync (the change trackers' PendingChanges), plus the dispatch chains, and deletes the chains
// they no longer use (index.ts programKubeProxyPartial). A full sync (every chain rewritten) runs
// first, when the last full one is FULL_SYNC_PERIOD_NS old (proxyutil.FullSyncPeriod, 1 h), and again
// at once when a partial restore fails (needFullSync). nftables mode: the same, with the sets and maps
// rebuilt in every transaction (renderNftablesSync). IPVS mode always syncs in full.
// Not modelled: per-node proxies with their own timing, the runner's max interval (--iptables-sync-period,
// a sync every 30 s even without changes), largeClusterMode (> 1000 endpoints: no rule comments, stale
// chains deleted once per sync period), conntrack flushing of stale UDP entries.
import type { Simulator } from '../../core/simulator.js';
import type { TimeNs } from '../../core/time.js';
import type { ApiStore } from '../api/store.js';
import type { ClusterNode } from '../cluster.js';
import { ServiceInformer } from '../service-informer.js';
import type { ServiceView } from '../services.js';
import type { EndpointSlice, Service } from '../api/objects.js';
import { programKubeProxy, programKubeProxyPartial, type KubeProxyOptions } from './index.js';

/** proxyutil.FullSyncPeriod: a partial-sync proxier rewrites every chain at least this often (1 h). */
export const FULL_SYNC_PERIOD_NS = 3_600_000_000_000;

/** What a sync was computed from, per Service key. */
interface Synced {
  service: Service;
  slice: EndpointSlice | undefined;
  view: ServiceView;
}

/**
 * The change trackers' test (ServiceChangeTracker / EndpointsChangeTracker drop a change whose previous
 * and current state are equal): a rewritten object with the same spec and endpoints is no change.
 */
function sameService(a: Synced, b: Synced): boolean {
  if (a.service !== b.service && JSON.stringify(a.service.spec) !== JSON.stringify(b.service.spec)) return false;
  if (a.slice === b.slice) return true;
  if (a.slice === undefined || b.slice === undefined || a.slice.ports.length !== b.slice.ports.length) return false;
  for (let i = 0; i < a.slice.ports.length; i++) {
    const x = a.slice.ports[i]!;
    const y = b.slice.ports[i]!;
    if (x.name !== y.name || x.protocol !== y.protocol || x.endpoints.length !== y.endpoints.length) return false;
    for (let j = 0; j < x.endpoints.length; j++) {
      const e = x.endpoints[j]!;
      const f = y.endpoints[j]!;
      if (e.ip !== f.ip || e.port !== f.port || e.ready !== f.ready || e.serving !== f.serving || e.terminating !== f.terminating || e.nodeName !== f.nodeName) return false;
    }
  }
  return true;
}

/** kube-proxy on every node of the cluster. */
export class KubeProxy {
  /** The Services joined with their EndpointSlices, as the change trackers hold them. */
  private informer: ServiceInformer | null = null;
  private syncPending = false;
  /** Nodes whose proxy does not sync (kube-proxy-stall). */
  private readonly stalled = new Set<string>();
  /** Per Service key, the objects and view of the last sync (null before the first: it is a full sync). */
  private synced: Map<string, Synced> | null = null;
  /** When the last full sync ran. */
  private lastFullSync = 0;
  /** False: every sync is a full one (kube-proxy < 1.28, or the MinimizeIPTablesRestore gate off; tests compare both). */
  partialSyncs = true;
  /** Syncs done in full and in part (tests, bench). */
  readonly syncCounts = { full: 0, partial: 0 };
  /** kube-proxy's health servers (kube-proxy/healthz.ts), told of queued changes and of each sync. */
  health: { queued(): void; synced(services: readonly ServiceView[]): void } | null = null;

  constructor(
    private readonly sim: Simulator,
    private readonly nodes: ClusterNode[],
    private readonly opts: KubeProxyOptions,
    /** Rules the CNI owns that kube-proxy's restore keeps (flanneld's). */
    private readonly cniRules: (node: ClusterNode) => string | null,
    private readonly record: (what: string) => void,
  ) {}

  /** Lists and watches Services and EndpointSlices (no watch delay: the sync delay covers it); each change schedules a sync. */
  start(api: ApiStore, syncDelayNs: TimeNs): void {
    this.informer = new ServiceInformer(api, () => {
      this.health?.queued();
      // Changes while a sync is pending join it (the runner reads the trackers when it runs).
      if (this.syncPending) return;
      this.syncPending = true;
      this.sim.schedule(syncDelayNs, () => {
        this.syncPending = false;
        this.syncProxyRules();
        this.record('kube-proxy: rules synced on every node');
      });
    });
  }

  /** Rewrites every node's rules from the informer's Services and endpoints (not a stalled node's). */
  syncProxyRules(): void {
    const services = this.informer?.list() ?? [];
    const nodes = this.stalled.size === 0 ? this.nodes : this.nodes.filter((n) => !this.stalled.has(n.name));
    const sources = this.informer?.sources() ?? [];
    const now = this.sim.now;
    const prev = this.synced;
    const next = new Map<string, Synced>();
    sources.forEach(([key, service, slice], i) => next.set(key, { service, slice, view: services[i]! }));
    let partial = this.partialSyncs && this.opts.mode !== 'ipvs' && prev !== null && now - this.lastFullSync < FULL_SYNC_PERIOD_NS;
    if (partial) {
      const changed = new Set<string>();
      const previous = new Map<string, ServiceView>();
      for (const [key, s] of next) {
        const p = prev!.get(key);
        if (p === undefined || !sameService(p, s)) changed.add(key);
      }
      for (const [key, p] of prev!) {
        previous.set(key, p.view);
        if (!next.has(key)) changed.add(key);
      }
      try {
        if (this.opts.mode === 'iptables') programKubeProxyPartial(nodes, services, { changed, previous }, this.opts, this.cniRules);
        else programKubeProxy(nodes, services, this.opts, this.cniRules, (sp) => changed.has(`${sp.namespace}/${sp.name}`));
        this.syncCounts.partial++;
      } catch {
        // A failed restore leaves the rules as they were; the proxier's next sync is a full one (needFullSync).
        partial = false;
      }
    }
    if (!partial) {
      programKubeProxy(nodes, services, this.opts, this.cniRules);
      this.lastFullSync = now;
      this.syncCounts.full++;
    }
    this.synced = next;
    this.health?.synced(services);
  }

  /** The Services as the proxier's informer holds them. */
  get services(): readonly ServiceView[] {
    return this.informer?.list() ?? [];
  }

  /** The node's proxy stops syncing (`false`), or resumes with a full resync of that node (`true`). */
  setSyncing(node: ClusterNode, syncing: boolean): void {
    if (!syncing) {
      this.stalled.add(node.name);
      return;
    }
    if (!this.stalled.delete(node.name)) return;
    programKubeProxy([node], this.informer?.list() ?? [], this.opts, this.cniRules);
    this.record(`kube-proxy: ${node.name} resumed, full resync`);
  }
}
