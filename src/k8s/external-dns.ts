// k8s/external-dns — kubernetes-sigs/external-dns in the cluster, writing DNSEndpoint objects
// (externaldns.k8s.io/v1alpha1, its CRD) that the public authoritative server serves (app/
// dns-authoritative reads them through dnsEndpointRecords). Layer: k8s (imports core, wire, app, k8s).
//
// Sources, as external-dns's `service` and `ingress` sources read them:
// - a Service of type LoadBalancer with `external-dns.alpha.kubernetes.io/hostname: a.example.com,b…`
//   (comma-separated names) → its status.loadBalancer.ingress[] (spec.loadBalancerIPs when no
//   controller wrote a status: MetalLB's pool);
// - an Ingress: every `spec.rules[].host` (and the hostname annotation) → its status.loadBalancer.ingress[].
// Targets: `ip` → A (all of them), else the first `hostname` → CNAME. TTL from
// `external-dns.alpha.kubernetes.io/ttl` (seconds or a duration like 1m), else 300 (external-dns
// leaves it unset and the provider's default, Route 53's 300 s, applies).
// Timing (external-dns's flags): a reconcile at start, then every `--interval` (1m); with `--events` a
// change of a Service or Ingress schedules one more, no sooner than `--min-event-sync-interval` (5s)
// after the last. Each reconcile computes the desired records per source and writes the difference as
// DNSEndpoints named `<kind>-<name>` in the source's namespace (label app.kubernetes.io/managed-by:
// external-dns): create, update, or delete when the source no longer yields records. Changes are
// recorded on the timeline.
// Not modelled: the TXT ownership registry (records of other owners are never touched because only
// labelled DNSEndpoints are), NodePort / ClusterIP / headless services, SRV records, domain filters,
// `--policy upsert-only` (deletes happen: policy sync), AAAA, provider API rate limits.
import { parseDuration, SEC, type TimeNs } from '../core/time.js';
import type { Simulator } from '../core/simulator.js';
import type { UserError } from '../core/user-error.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import type { PublicRecord } from '../app/dns-authoritative.js';
import { objectMeta, type ApiObject, type Service } from './api/objects.js';
import type { ApiStore, Write } from './api/store.js';
import type { ClusterWorld, ManifestInput } from './cluster.js';

export const HOSTNAME_ANNOTATION = 'external-dns.alpha.kubernetes.io/hostname';
export const TTL_ANNOTATION = 'external-dns.alpha.kubernetes.io/ttl';
const MANAGED_BY = 'app.kubernetes.io/managed-by';
/** TTL when the source names none (Route 53's default for a record without one). */
export const DEFAULT_TTL = 300;

/** One endpoint of a DNSEndpoint (sigs.k8s.io/external-dns/endpoint.Endpoint). */
export interface DnsEndpointSpecEntry {
  dnsName: string;
  recordType: string;
  targets: string[];
  recordTTL?: number;
}

/** externaldns.k8s.io/v1alpha1 DNSEndpoint. */
export interface DnsEndpoint extends ApiObject {
  kind: 'DNSEndpoint';
  spec: { endpoints: DnsEndpointSpecEntry[] };
}

/** An object with a load-balancer status (a Service after the cloud controller, an Ingress after its controller). */
interface LbStatus {
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** networking.k8s.io/v1 Ingress, the fields external-dns reads. */
interface IngressLike extends ApiObject, LbStatus {
  spec?: { rules?: { host?: string }[] };
}

/** Every A / CNAME record of every DNSEndpoint in the store (user-written, external-dns's, a cloud controller's), in store order. */
export function dnsEndpointRecords(api: ApiStore): PublicRecord[] {
  const out: PublicRecord[] = [];
  for (const o of api.list('DNSEndpoint') as DnsEndpoint[]) {
    for (const e of o.spec?.endpoints ?? []) {
      if ((e.recordType !== 'A' && e.recordType !== 'CNAME') || e.targets.length === 0) continue;
      out.push({ name: e.dnsName.toLowerCase().replace(/\.$/, ''), type: e.recordType, values: e.recordType === 'CNAME' ? [e.targets[0]!] : [...e.targets], ttl: e.recordTTL && e.recordTTL > 0 ? e.recordTTL : DEFAULT_TTL });
    }
  }
  return out;
}

/** external-dns settings (spec.dns.externalDns). */
export interface ExternalDnsOptions {
  intervalNs: TimeNs;
  events: boolean;
  minEventSyncNs: TimeNs;
}

/** The external-dns controller. */
export class ExternalDns {
  /** Reconciles run, and DNSEndpoint writes made. */
  readonly counters = { syncs: 0, writes: 0 };
  private lastSync: TimeNs = -Infinity;
  private pending = false;

  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    private readonly opts: ExternalDnsOptions,
    private readonly record: (what: string) => void,
    /** Annotations of Services as their manifests give them (the store's Service objects may not keep them). */
    private readonly manifestAnnotations: Map<string, Record<string, string>> = new Map(),
  ) {}

  /** Starts the loop: a reconcile now, then every interval; with events, on Service / Ingress changes. */
  start(): void {
    // The periodic loop is housekeeping (background): it does not keep a run without a duration going.
    const tick = (): void => {
      this.sync();
      this.sim.scheduleBackground(this.opts.intervalNs, tick);
    };
    this.sim.scheduleBackground(0, tick);
    if (!this.opts.events) return;
    const onChange = (): void => {
      if (this.pending) return;
      this.pending = true;
      const wait = Math.max(0, this.lastSync + this.opts.minEventSyncNs - this.sim.now);
      this.sim.schedule(wait, () => {
        this.pending = false;
        this.sync();
      });
    };
    this.api.watch('Service', onChange);
    this.api.watch('Ingress', onChange);
  }

  /** One reconcile: desired DNSEndpoints from the sources, written where they differ. */
  sync(): void {
    this.counters.syncs++;
    this.lastSync = this.sim.now;
    const desired = new Map<string, { namespace: string; name: string; endpoints: DnsEndpointSpecEntry[] }>();
    for (const s of this.api.list('Service')) {
      const ann = s.metadata.annotations ?? this.manifestAnnotations.get(`${s.metadata.namespace}/${s.metadata.name}`) ?? {};
      if (s.spec.type !== 'LoadBalancer' || ann[HOSTNAME_ANNOTATION] === undefined) continue;
      const names = splitNames(ann[HOSTNAME_ANNOTATION]);
      const eps = endpointsFor(names, targetsOf(s), ttlOf(ann));
      if (eps.length > 0) desired.set(`${s.metadata.namespace}/service-${s.metadata.name}`, { namespace: s.metadata.namespace, name: `service-${s.metadata.name}`, endpoints: eps });
    }
    for (const i of this.api.list('Ingress') as IngressLike[]) {
      const ann = i.metadata.annotations ?? {};
      const hosts = (i.spec?.rules ?? []).map((r) => r.host ?? '').filter((h) => h !== '');
      const names = [...new Set([...hosts.map((h) => h.toLowerCase()), ...splitNames(ann[HOSTNAME_ANNOTATION] ?? '')])];
      const eps = endpointsFor(names, targetsOf(i), ttlOf(ann));
      if (eps.length > 0) desired.set(`${i.metadata.namespace}/ingress-${i.metadata.name}`, { namespace: i.metadata.namespace, name: `ingress-${i.metadata.name}`, endpoints: eps });
    }
    const writes: Write[] = [];
    const mine = (this.api.list('DNSEndpoint') as DnsEndpoint[]).filter((o) => o.metadata.labels[MANAGED_BY] === 'external-dns');
    for (const o of mine) {
      const key = `${o.metadata.namespace}/${o.metadata.name}`;
      const want = desired.get(key);
      if (want === undefined) {
        writes.push({ op: 'delete', kind: 'DNSEndpoint', namespace: o.metadata.namespace, name: o.metadata.name });
        for (const e of o.spec.endpoints) this.record(`external-dns: DELETE ${e.recordType} ${e.dnsName}`);
      } else if (JSON.stringify(want.endpoints) !== JSON.stringify(o.spec.endpoints)) {
        writes.push({ op: 'update', object: { ...o, spec: { endpoints: want.endpoints } } as DnsEndpoint });
        this.describe(want.endpoints);
      }
      desired.delete(key);
    }
    for (const want of desired.values()) {
      const obj: DnsEndpoint = { kind: 'DNSEndpoint', metadata: objectMeta(want.namespace, want.name, { [MANAGED_BY]: 'external-dns' }), spec: { endpoints: want.endpoints } };
      writes.push({ op: 'create', object: obj });
      this.describe(want.endpoints);
    }
    if (writes.length === 0) return;
    this.counters.writes += writes.length;
    this.api.commit(writes);
  }

  private describe(eps: DnsEndpointSpecEntry[]): void {
    for (const e of eps) this.record(`external-dns: UPSERT ${e.recordType} ${e.dnsName} → ${e.targets.join(', ')} (ttl ${e.recordTTL ?? DEFAULT_TTL})`);
  }
}

/** "a.example.com, b.example.com" → names, lower case, without trailing dots. */
function splitNames(text: string): string[] {
  return text
    .split(',')
    .map((n) => n.trim().toLowerCase().replace(/\.$/, ''))
    .filter((n) => n !== '');
}

/** The TTL annotation in seconds ("60" or a duration like "1m"), else undefined. */
function ttlOf(ann: Record<string, string>): number | undefined {
  const t = ann[TTL_ANNOTATION];
  if (t === undefined) return undefined;
  const ns = /^\d+$/.test(t.trim()) ? Number(t.trim()) * SEC : parseDuration(t);
  return ns !== null && ns > 0 ? Math.round(ns / SEC) : undefined;
}

/** A targets (ip) or one CNAME target (hostname) of an object's load-balancer status. */
function targetsOf(o: LbStatus & { spec?: unknown; kind: string }): { type: 'A' | 'CNAME'; values: string[] } | null {
  const ingress = o.status?.loadBalancer?.ingress;
  if (ingress === undefined && o.kind === 'Service') {
    const ips = (o as Service).spec.loadBalancerIPs.map(formatIpv4);
    return ips.length > 0 ? { type: 'A', values: ips } : null;
  }
  const ips = (ingress ?? []).map((x) => x.ip).filter((x): x is string => x !== undefined && x !== '');
  if (ips.length > 0) return { type: 'A', values: ips };
  const host = (ingress ?? []).map((x) => x.hostname).find((x) => x !== undefined && x !== '');
  return host !== undefined ? { type: 'CNAME', values: [host] } : null;
}

function endpointsFor(names: string[], t: { type: 'A' | 'CNAME'; values: string[] } | null, ttl: number | undefined): DnsEndpointSpecEntry[] {
  if (t === null) return [];
  return names.map((dnsName) => ({ dnsName, recordType: t.type, targets: [...t.values], ...(ttl !== undefined ? { recordTTL: ttl } : {}) }));
}

/**
 * Puts the user's DNSEndpoint manifests into the store and starts external-dns when the scenario has
 * public DNS (spec.dns); without it, DNSEndpoints are reported as having no server.
 */
export function startPublicDns(sim: Simulator, api: ApiStore, cluster: ClusterWorld, record: (what: string) => void): ExternalDns | null {
  const cfg = cluster.config.publicDns;
  const manifests = cluster.manifests.filter((m) => m.kind === 'DNSEndpoint');
  if (!cfg) {
    for (const m of manifests) cluster.warnings.push(m.error(['kind'], 'DNSEndpoint records need a public DNS server (spec.dns): ignored'));
    return null;
  }
  for (const m of manifests) storeDnsEndpoint(api, m, cluster.warnings);
  const x = cfg.externalDns;
  if (!x?.enabled) return null;
  const annotations = new Map<string, Record<string, string>>();
  for (const m of cluster.manifests) {
    if (m.kind !== 'Service') continue;
    const md = m.value['metadata'] as { name?: string; namespace?: string; annotations?: Record<string, string> } | undefined;
    if (md?.name && md.annotations) annotations.set(`${md.namespace ?? 'default'}/${md.name}`, md.annotations);
  }
  const ctl = new ExternalDns(sim, api, { intervalNs: parseDuration(x.interval) ?? 60 * SEC, events: x.events, minEventSyncNs: parseDuration(x.minEventSyncInterval) ?? 5 * SEC }, record, annotations);
  ctl.start();
  return ctl;
}

/** One DNSEndpoint manifest into the store (entries without dnsName or targets are warned about and skipped). */
function storeDnsEndpoint(api: ApiStore, m: ManifestInput, warnings: UserError[]): void {
  const md = m.value['metadata'] as { name?: string; namespace?: string; labels?: Record<string, string> } | undefined;
  const spec = m.value['spec'] as { endpoints?: unknown } | undefined;
  const raw = Array.isArray(spec?.endpoints) ? (spec.endpoints as Record<string, unknown>[]) : [];
  const endpoints: DnsEndpointSpecEntry[] = [];
  raw.forEach((e, i) => {
    const dnsName = typeof e?.['dnsName'] === 'string' ? e['dnsName'] : '';
    const recordType = typeof e?.['recordType'] === 'string' ? e['recordType'] : 'A';
    const targets = Array.isArray(e?.['targets']) ? (e['targets'] as unknown[]).filter((t): t is string => typeof t === 'string') : [];
    if (dnsName === '' || targets.length === 0) return void warnings.push(m.error(['spec', 'endpoints', i], 'an endpoint needs dnsName and targets: ignored'));
    if (recordType !== 'A' && recordType !== 'CNAME') warnings.push(m.error(['spec', 'endpoints', i, 'recordType'], `recordType ${recordType} is not served by podwire (A and CNAME are)`));
    const ttl = typeof e['recordTTL'] === 'number' ? e['recordTTL'] : undefined;
    endpoints.push({ dnsName, recordType, targets, ...(ttl !== undefined ? { recordTTL: ttl } : {}) });
  });
  const name = md?.name ?? 'dnsendpoint';
  const ns = md?.namespace ?? 'default';
  if (api.get('DNSEndpoint', ns, name)) return void warnings.push(m.error(['metadata', 'name'], `duplicate DNSEndpoint ${ns}/${name}: ignored`));
  api.create<DnsEndpoint>({ kind: 'DNSEndpoint', metadata: objectMeta(ns, name, md?.labels ?? {}), spec: { endpoints } });
}
