// k8s/coredns — cluster DNS: CoreDNS's `kubernetes` plugin records built from Services, EndpointSlices
// and pods, served by one DnsServer per CoreDNS pod, and the resolv.conf kubelet gives pods
// (dnsPolicy ClusterFirst). Layer: k8s (imports everything below scenario: core, wire, net, transport,
// app). Mirrors the Kubernetes DNS specification (github.com/kubernetes/dns docs/specification.md,
// schema 1.1.0) as CoreDNS implements it (plugin/kubernetes: parse.go parseRequest, kubernetes.go
// Records / findServices / findPods / serviceRecordForIP, handler.go; plugin/backend_lookup.go A,
// AAAA, SRV, SOA), with the default kubeadm Corefile:
//   kubernetes cluster.local in-addr.arpa ip6.arpa { pods insecure; fallthrough in-addr.arpa ip6.arpa; ttl 30 }
//   forward . /etc/resolv.conf ; cache 30 ; loadbalance
//
// Names (zone cluster.local, TTL 30, every answer authoritative):
//   <svc>.<ns>.svc.cluster.local            A  ClusterIP; headless: A of each ready endpoint;
//                                           ExternalName: CNAME <externalName> (chased in the zone, or
//                                           resolved upstream through the server's forwarders)
//   <ep>.<svc>.<ns>.svc.cluster.local       A  of that endpoint; <ep> is the pod's hostname when
//                                           spec.subdomain names the service, else its IP with '-'
//   _<port>._<proto>.<svc>.<ns>.svc…        SRV 0 <floor(100/n)> <port> <target>: target = the service
//                                           name (ClusterIP, port = service port) or each endpoint's
//                                           name (headless, port = endpoint port), A glue in additional
//   a-b-c-d.<ns>.pod.cluster.local          A a.b.c.d (pods insecure: not checked against pods; the
//                                           namespace must exist)
//   d.c.b.a.in-addr.arpa                    PTR to the service (ClusterIP) or endpoint name; else falls
//                                           through to forward
//   dns-version.cluster.local               TXT "1.1.0"
// NXDOMAIN (with SOA `ns.dns.cluster.local. hostmaster.cluster.local. <serial> 7200 1800 86400 30`)
// for a name in the zone that does not exist, including a headless service without ready endpoints;
// NOERROR/NODATA with the SOA for an existing name without records of the type (AAAA of a ClusterIP,
// `<ns>.svc.cluster.local`, the apex).
//
// Not modelled: IPv6 / dual-stack records, `endpoint_pod_names`, wildcard queries, `namespaces` /
// `ignore empty_service` options, the NS glue address of the apex NS answer, SRV additional records
// for ExternalName targets outside the zone, API watch delays (records change when its informer's
// watch delivers a Service or EndpointSlice change, at once).
import type { Distribution } from '../core/distributions.js';
import { DnsServer, denial, rr, type DnsZone, type ZoneAnswer } from '../app/dns-server.js';
import { parseResolvConf, StubResolver, type StubResolverOptions } from '../app/dns-resolver.js';
import type { Namespace } from '../net/namespace.js';
import type { UdpLayer } from '../transport/udp.js';
import type { TcpLayer } from '../transport/tcp/index.js';
import { DnsRcode, DnsType, type DnsQuestion, type DnsResourceRecord } from '../wire/dns.js';
import { formatIpv4, parseIpv4 } from '../wire/ipv4-addr.js';
import type { Ipv4 } from '../wire/types.js';
import type { ClusterPod } from './cluster.js';
import { podDns, resolvConfText } from './pod-dns.js';
import type { ServiceView } from './services.js';

/** The kube-dns Service address of the default service CIDR 10.96.0.0/12 (its 10th address). */
export const KUBE_DNS_IP: Ipv4 = parseIpv4('10.96.0.10')!;
/** The cluster domain kubeadm configures. */
export const CLUSTER_DOMAIN = 'cluster.local';
/** The kubernetes plugin's default TTL (`ttl 30`). */
export const KUBERNETES_TTL = 30;
/** The DNS schema version the plugin reports at dns-version.<zone>. */
export const DNS_SCHEMA_VERSION = '1.1.0';

/** Options of the kubernetes plugin. */
export interface KubernetesZoneOptions {
  /** Cluster domain (default cluster.local). */
  domain?: string;
  /** Record TTL (default 30). */
  ttl?: number;
  /** SOA serial (CoreDNS: the Unix time of the last API change; default 1). */
  serial?: number;
  /** `pods insecure` (default) or `pods disabled`. */
  pods?: 'insecure' | 'disabled';
  /** Namespaces that exist; default: those of the pods and services plus default, kube-system, kube-public, kube-node-lease. */
  namespaces?: string[];
}

/** One endpoint address of a service, with the ports it serves (object.Endpoints subset form). */
interface EndpointAddr {
  ip: Ipv4;
  hostname: string;
  ports: { name: string; protocol: string; port: number }[];
}

/** A service entry found for a request (msg.Service). */
type Found = { kind: 'ip'; ip: Ipv4; port: number; key: string } | { kind: 'cname'; target: string; port: number; key: string };

/** Parsed request (parse.go recordRequest); '*' = any. */
interface Request {
  port: string;
  protocol: string;
  endpoint: string;
  service: string;
  namespace: string;
  podOrSvc: string;
}

const NAME_ERROR = 'nxdomain' as const;

/** The kubernetes plugin as a DnsZone over the given services and pods (read at each query). */
export function kubernetesZone(services: ServiceLister, pods: ClusterPod[], opts: KubernetesZoneOptions = {}): DnsZone {
  const plugin = new KubernetesPlugin(typeof services === 'function' ? services : () => services, pods, opts);
  return (q) => plugin.serveDns(q);
}

/** Where the plugin reads Services with their endpoints: a fixed list, or its informer cache. */
export type ServiceLister = readonly ServiceView[] | (() => readonly ServiceView[]);

/** The kubernetes plugin (plugin/kubernetes): the zone's records, read from the services at each query. */
class KubernetesPlugin {
  private readonly domain: string;
  private readonly ttl: number;
  private readonly serial: number;
  private readonly podMode: 'insecure' | 'disabled';

  constructor(
    private readonly services: () => readonly ServiceView[],
    private readonly pods: ClusterPod[],
    private readonly opts: KubernetesZoneOptions,
  ) {
    this.domain = (opts.domain ?? CLUSTER_DOMAIN).toLowerCase();
    this.ttl = opts.ttl ?? KUBERNETES_TTL;
    this.serial = opts.serial ?? 1;
    this.podMode = opts.pods ?? 'insecure';
  }

  private namespaceExists(ns: string): boolean {
    if (this.opts.namespaces) return this.opts.namespaces.includes(ns);
    return ['default', 'kube-system', 'kube-public', 'kube-node-lease'].includes(ns) || this.pods.some((p) => p.namespace === ns) || this.services().some((s) => s.namespace === ns);
  }

  private soaOf(zone: string): DnsResourceRecord {
    const ttl = this.ttl;
    return rr(zone, Math.min(ttl, 300), { kind: 'SOA', mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial: this.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl });
  }

  private endpointAddrs(svc: ServiceView): EndpointAddr[] {
    const out: EndpointAddr[] = [];
    for (const sp of svc.ports) {
      for (const ep of sp.endpoints) {
        if (!ep.ready) continue;
        let a = out.find((x) => x.ip === ep.ip);
        if (!a) out.push((a = { ip: ep.ip, hostname: endpointHostname(ep.ip, ep.pod, svc.name), ports: [] }));
        a.ports.push({ name: sp.name, protocol: sp.protocol, port: ep.port });
      }
    }
    return out;
  }

  /** kubernetes.go findServices. */
  private findServices(r: Request, zone: string): Found[] | typeof NAME_ERROR {
    if (!this.namespaceExists(r.namespace)) return NAME_ERROR;
    if (r.service === '') return [];
    let err = true;
    const out: Found[] = [];
    for (const svc of this.services()) {
      if (svc.namespace !== r.namespace || svc.name !== r.service) continue;
      const key = `${svc.name}.${svc.namespace}.svc.${zone}`;
      if (svc.type === 'ExternalName') {
        if (r.endpoint !== '' || r.port !== '*' || r.protocol !== '*') continue;
        if (svc.externalName !== null && parseIpv4(svc.externalName) === null) {
          out.push({ kind: 'cname', target: svc.externalName.replace(/\.$/, ''), port: 0, key });
          err = false;
        }
        continue;
      }
      if (svc.headless || r.endpoint !== '') {
        for (const a of this.endpointAddrs(svc)) {
          if (r.endpoint !== '' && !match(r.endpoint, a.hostname)) continue;
          for (const p of a.ports) {
            if (!(match(r.port, p.name) && match(r.protocol, p.protocol))) continue;
            out.push({ kind: 'ip', ip: a.ip, port: p.port, key: `${a.hostname}.${key}` });
            err = false;
          }
        }
        continue;
      }
      // A service without ports gets a sentinel port -1 (object.ToService): A records, no SRV.
      const ports = svc.ports.length > 0 ? svc.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port })) : [{ name: '', protocol: '', port: -1 }];
      for (const p of ports) {
        if (!(match(r.port, p.name) && match(r.protocol, p.protocol))) continue;
        err = false;
        if (svc.clusterIP !== null) out.push({ kind: 'ip', ip: svc.clusterIP, port: p.port, key });
      }
    }
    return err ? NAME_ERROR : out;
  }

  /** kubernetes.go findPods (pods insecure). */
  private findPods(r: Request, zone: string): Found[] | typeof NAME_ERROR {
    if (this.podMode === 'disabled') return NAME_ERROR;
    if (!this.namespaceExists(r.namespace)) return NAME_ERROR;
    if (r.service === '') return [];
    const dashes = r.service.split('-').length - 1;
    const ip = dashes === 3 && !r.service.includes('--') ? parseIpv4(r.service.replaceAll('-', '.')) : null;
    if (ip === null) return NAME_ERROR; // IPv6 forms are not modelled
    return [{ kind: 'ip', ip, port: 0, key: `${r.service}.${r.namespace}.pod.${zone}` }];
  }

  /** kubernetes.go Records for a name below the zone. */
  private records(name: string, zone: string): Found[] | typeof NAME_ERROR {
    const r = parseRequest(name, zone);
    if (r === null) return NAME_ERROR;
    if (r.podOrSvc === '') return [];
    return r.podOrSvc === 'pod' ? this.findPods(r, zone) : this.findServices(r, zone);
  }

  /** backend_lookup.go A / AAAA: address records, CNAMEs chased in the zone, or handed to the server. */
  private addresses(qname: string, qtype: number, zone: string, previous: DnsResourceRecord[]): { rrs: DnsResourceRecord[]; chase: DnsQuestion | null } | typeof NAME_ERROR {
    const ttl = this.ttl;
    const found = this.records(qname, zone);
    if (found === NAME_ERROR) return NAME_ERROR;
    const out: DnsResourceRecord[] = [];
    let chase: DnsQuestion | null = null;
    const seen = new Set<Ipv4>();
    for (const f of found) {
      if (f.kind === 'cname') {
        if (f.target.toLowerCase() === qname.toLowerCase()) continue; // x CNAME x is a loop
        if (previous.length > 7) continue;
        const cname = rr(qname, ttl, { kind: 'CNAME', target: f.target });
        if (previous.some((p) => p.data.kind === 'CNAME' && p.name.toLowerCase() === qname.toLowerCase() && p.data.target.toLowerCase() === f.target.toLowerCase())) continue; // dnsutil.DuplicateCNAME
        if (inZone(f.target, zone)) {
          const next = this.addresses(f.target, qtype, zone, [...previous, cname]);
          if (next !== NAME_ERROR && (next.rrs.length > 0 || next.chase !== null)) {
            out.push(cname, ...next.rrs);
            chase = chase ?? next.chase;
          }
          continue;
        }
        out.push(cname);
        chase = chase ?? { name: f.target, type: qtype, class: 1 };
        continue;
      }
      if (qtype !== DnsType.A || seen.has(f.ip)) continue; // IPv4 hosts give no AAAA
      seen.add(f.ip);
      out.push(rr(qname, ttl, { kind: 'A', address: f.ip }));
    }
    return { rrs: out, chase };
  }

  /** backend_lookup.go SRV. */
  private srv(qname: string, zone: string): { rrs: DnsResourceRecord[]; extra: DnsResourceRecord[] } | typeof NAME_ERROR {
    const ttl = this.ttl;
    const found = this.records(qname, zone);
    if (found === NAME_ERROR) return NAME_ERROR;
    // Every entry weighs 100 at priority 0; each record gets floor(100 × 100 / total).
    const weight = Math.max(1, Math.floor((100 / (100 * found.length)) * 100));
    const rrs: DnsResourceRecord[] = [];
    const extra: DnsResourceRecord[] = [];
    const dup = new Set<string>();
    const looked = new Set<string>();
    for (const f of found) {
      if (f.port === -1) continue;
      if (f.kind === 'cname') {
        rrs.push(rr(qname, ttl, { kind: 'SRV', priority: 0, weight, port: f.port, target: f.target }));
        if (looked.has(f.target)) continue;
        looked.add(f.target);
        if (inZone(f.target, zone)) {
          const a = this.addresses(f.target, DnsType.A, zone, []);
          if (a !== NAME_ERROR) extra.push(...a.rrs);
        }
        continue;
      }
      const k1 = `${f.key}||${f.port}`;
      if (!dup.has(k1)) {
        dup.add(k1);
        rrs.push(rr(qname, ttl, { kind: 'SRV', priority: 0, weight, port: f.port, target: f.key }));
      }
      const k2 = `${f.key}|${f.ip}|0`;
      if (!dup.has(k2)) {
        dup.add(k2);
        extra.push(rr(f.key, ttl, { kind: 'A', address: f.ip }));
      }
    }
    return { rrs, extra };
  }

  /** kubernetes.go serviceRecordForIP: PTR targets for an address. */
  private reverse(ip: Ipv4): string[] {
    const domain = this.domain;
    const services = this.services();
    const svc = services.find((s) => s.clusterIP === ip);
    if (svc) return [`${svc.name}.${svc.namespace}.svc.${domain}`];
    const out: string[] = [];
    for (const s of services) for (const a of this.endpointAddrs(s)) if (a.ip === ip) out.push(`${a.hostname}.${s.name}.${s.namespace}.svc.${domain}`);
    return out;
  }

  /** handler.go ServeDNS for the reverse zones: only what the plugin knows, else fall through. */
  private serveReverse(q: DnsQuestion, lower: string): ZoneAnswer | null {
    const ip = lower.endsWith('.in-addr.arpa') ? reverseIpv4(lower) : null;
    if (ip === null || q.type !== DnsType.PTR) return null;
    const targets = this.reverse(ip);
    if (targets.length === 0) return null;
    return ok(targets.map((t) => rr(q.name, this.ttl, { kind: 'PTR', target: t })));
  }

  /** handler.go ServeDNS: the answer for a question, or null when the name is outside the plugin's zones. */
  serveDns(q: DnsQuestion): ZoneAnswer | null {
    const { domain, ttl } = this;
    const lower = q.name.toLowerCase();
    // fallthrough in-addr.arpa ip6.arpa: only what the plugin knows is answered here.
    if (lower.endsWith('.in-addr.arpa') || lower === 'in-addr.arpa' || lower.endsWith('.ip6.arpa') || lower === 'ip6.arpa') return this.serveReverse(q, lower);
    if (lower !== domain && !lower.endsWith(`.${domain}`)) return null;
    const zone = q.name.slice(q.name.length - domain.length); // keeps the query's case (handler.go)
    const soa = this.soaOf(zone);
    const apex = lower === domain;
    const fromA = (qtype: number): ZoneAnswer => {
      const a = this.addresses(q.name, qtype, zone, []);
      if (a === NAME_ERROR) return denial(DnsRcode.NXDOMAIN, soa);
      if (a.rrs.length === 0) return denial(DnsRcode.NOERROR, soa);
      return { ...ok(a.rrs), chase: a.chase };
    };
    switch (q.type) {
      case DnsType.A:
      case DnsType.AAAA:
        return fromA(q.type);
      case DnsType.SRV: {
        const s = this.srv(q.name, zone);
        if (s === NAME_ERROR) return denial(DnsRcode.NXDOMAIN, soa);
        if (s.rrs.length === 0) return denial(DnsRcode.NOERROR, soa);
        return { ...ok(s.rrs), additional: s.extra };
      }
      case DnsType.SOA:
        return apex ? ok([soa]) : denial(DnsRcode.NOERROR, soa);
      case DnsType.NS:
        if (apex) return ok([rr(q.name, ttl, { kind: 'NS', target: `ns.dns.${zone}` })]);
        return nodataOrNx(fromA(DnsType.A), soa);
      case DnsType.TXT:
        if (lower === `dns-version.${domain}`) return ok([rr(q.name, ttl, { kind: 'TXT', strings: [DNS_SCHEMA_VERSION] })]);
        return nodataOrNx(fromA(DnsType.A), soa);
      default:
        // handler.go: "Do a fake A lookup, so we can distinguish between NODATA and NXDOMAIN".
        return nodataOrNx(fromA(DnsType.A), soa);
    }
  }
}

function ok(answers: DnsResourceRecord[]): ZoneAnswer {
  return { rcode: DnsRcode.NOERROR, authoritative: true, answers, authority: [], additional: [], chase: null };
}

function nodataOrNx(a: ZoneAnswer, soa: DnsResourceRecord): ZoneAnswer {
  return denial(a.rcode === DnsRcode.NXDOMAIN ? DnsRcode.NXDOMAIN : DnsRcode.NOERROR, soa);
}

/** parse.go match: '*' / 'any' match anything, else case-insensitive equality. */
function match(a: string, b: string): boolean {
  if (a === '*' || a === 'any' || b === '*' || b === 'any') return true;
  return a.toLowerCase() === b.toLowerCase();
}

function inZone(name: string, zone: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const z = zone.toLowerCase();
  return n === z || n.endsWith(`.${z}`);
}

/** parse.go parseRequest; null = errInvalidRequest (NXDOMAIN). */
function parseRequest(name: string, zone: string): Request | null {
  const r: Request = { port: '*', protocol: '*', endpoint: '', service: '', namespace: '', podOrSvc: '' };
  const base = name.length > zone.length ? name.slice(0, name.length - zone.length - 1) : '';
  const lb = base.toLowerCase();
  if (lb === '' || lb === 'svc' || lb === 'pod') return r;
  const segs = lb.split('.');
  let last = segs.length - 1;
  r.podOrSvc = segs[last]!;
  if (r.podOrSvc !== 'pod' && r.podOrSvc !== 'svc') return null;
  if (--last < 0) return r;
  r.namespace = segs[last]!;
  if (--last < 0) return r;
  r.service = segs[last]!;
  if (--last < 0) return r;
  if (last === 0) r.endpoint = segs[0]!;
  else if (last === 1) {
    r.protocol = stripUnderscore(segs[1]!);
    r.port = stripUnderscore(segs[0]!);
  } else return null;
  return r;
}

function stripUnderscore(s: string): string {
  return s.startsWith('_') ? s.slice(1) : s;
}

/** endpointHostname: the pod's hostname when its subdomain is the service (Endpoints controller), else the IP with dashes. */
function endpointHostname(ip: Ipv4, pod: ClusterPod | null, service: string): string {
  if (pod !== null) {
    const spec = pod.spec as Record<string, unknown>;
    const hostname = spec['hostname'];
    const subdomain = spec['subdomain'];
    if (typeof hostname === 'string' && hostname !== '' && subdomain === service) return hostname;
  }
  return formatIpv4(ip).replaceAll('.', '-');
}

function reverseIpv4(name: string): Ipv4 | null {
  const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
  if (parts.length !== 4) return null;
  return parseIpv4(parts.reverse().join('.'));
}

/** The /etc/resolv.conf kubelet gives a pod with dnsPolicy ClusterFirst (k8s/pod-dns.ts; as containerd writes it). */
export function podResolvConf(namespace: string, opts: { nameservers?: Ipv4[]; domain?: string; hostSearch?: string[] } = {}): string {
  const host = { nameservers: [], searches: opts.hostSearch ?? [], options: [] };
  return resolvConfText(podDns({ namespace, hostNetwork: false }, opts.nameservers ?? [KUBE_DNS_IP], opts.domain ?? CLUSTER_DOMAIN, host));
}

/** A glibc stub resolver for a pod, configured by its ClusterFirst resolv.conf. */
export function podResolver(pod: ClusterPod, udp: UdpLayer, opts: StubResolverOptions = {}): StubResolver {
  return new StubResolver(udp, parseResolvConf(podResolvConf(pod.namespace)), opts);
}

/** The pods a kubeadm cluster runs CoreDNS in: label k8s-app=kube-dns (the kube-dns Service's selector). */
export function corednsPodsOf(pods: ClusterPod[]): ClusterPod[] {
  return pods.filter((p) => p.labels['k8s-app'] === 'kube-dns' && !p.hostNetwork);
}

/** What startClusterDns needs. */
export interface ClusterDnsOptions {
  pods: ClusterPod[];
  /** The Services with their endpoints: a fixed list, or CoreDNS's informer (read at each query). */
  services: ServiceLister;
  /** The pods that run CoreDNS (the kube-dns Service's endpoints). */
  corednsPods: ClusterPod[];
  udpOf(ns: Namespace): UdpLayer;
  /** The CoreDNS pods' TCP layers: CoreDNS answers on TCP 53 too (a client's retry after a truncated reply). */
  tcpOf?(ns: Namespace): TcpLayer;
  /** `forward . /etc/resolv.conf`: the nameservers of the nodes' resolv.conf. */
  upstream: Ipv4[];
  zone?: KubernetesZoneOptions;
  /** Per-query processing time (ns). */
  processingDelay?: Distribution;
  /** `cache 30` (null disables). */
  cacheMaxTtl?: number | null;
  /** `loadbalance` (default true). */
  loadbalance?: boolean;
}

/** The running cluster DNS. */
export interface ClusterDns {
  zone: DnsZone;
  /** One server per CoreDNS pod, in corednsPods order. */
  servers: DnsServer[];
}

/** Starts CoreDNS on UDP 53 (and TCP 53 with `tcpOf`) in every CoreDNS pod, serving the kubernetes zone and forwarding the rest. */
export function startClusterDns(opts: ClusterDnsOptions): ClusterDns {
  const zone = kubernetesZone(opts.services, opts.pods, opts.zone);
  const servers = opts.corednsPods.map(
    (p) =>
      new DnsServer(opts.udpOf(p.ns), {
        zone,
        upstream: opts.upstream,
        recursionAvailable: false,
        cacheMaxTtl: opts.cacheMaxTtl === undefined ? 30 : opts.cacheMaxTtl,
        loadbalance: opts.loadbalance ?? true,
        ...(opts.processingDelay ? { processingDelay: opts.processingDelay } : {}),
        identity: p.name,
        ...(opts.tcpOf ? { tcp: opts.tcpOf(p.ns) } : {}),
      }),
  );
  return { zone, servers };
}
