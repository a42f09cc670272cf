// Cluster DNS end to end (src/k8s/coredns.ts on src/app/dns-server.ts + dns-resolver.ts): two CoreDNS
// pods behind the kube-dns Service 10.96.0.10 (kube-proxy iptables DNAT), a client pod in `default`,
// and an upstream recursive server on the external network for `forward . /etc/resolv.conf`.
//
//   node1 10.100.11.11                      node2 10.100.11.12          upstream 10.100.11.53
//     client (default)  web-* ×3 (spread)     coredns-* ×2 (kube-system)  (example.com, RA set)
//     db-0 (hostname db-0, subdomain db)
//   ───────────────────── br0 10.100.11.0/24, flannel VXLAN between the nodes ─────────────────────
//
// A lookup of `web` from the client emits web.default.svc.cluster.local A + AAAA to 10.96.0.10; the
// capture shows the reply un-DNATed (from 10.96.0.10); CoreDNS's forwarded queries reach the upstream
// masqueraded to node2's address (flannel's ip-masq rule); tshark decodes every DNS frame.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapngWriter } from '../../src/capture/pcapng.js';
import { SEC } from '../../src/core/time.js';
import { DnsServer, denial, rr, type ZoneAnswer } from '../../src/app/dns-server.js';
import type { LookupResult } from '../../src/app/dns-resolver.js';
import { corednsPodsOf, kubernetesZone, KUBE_DNS_IP, podResolvConf, podResolver, startClusterDns } from '../../src/k8s/coredns.js';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { DnsClass, DnsRcode, DnsType, type DnsQuestion } from '../../src/wire/dns.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4-addr.js';
import type { Namespace } from '../../src/net/namespace.js';
import { hasTshark, tsharkCheck, tsharkRecords } from '../helpers/tshark.js';

const SCENARIO = `
apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: coredns }
spec:
  seed: 3
  cluster:
    podCIDR: 10.244.0.0/16
    serviceCIDR: 10.96.0.0/12
    cni: flannel-vxlan
    network: { cidr: 10.100.11.0/24, rate: 1Gbps, delay: 50us }
    nodes:
      - { name: node1, ip: 10.100.11.11 }
      - { name: node2, ip: 10.100.11.12 }
    externalHosts:
      - { name: upstream, ip: 10.100.11.53 }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: coredns, namespace: kube-system }
spec:
  replicas: 2
  selector: { matchLabels: { k8s-app: kube-dns } }
  template:
    metadata: { labels: { k8s-app: kube-dns } }
    spec:
      nodeName: node2
      containers:
        - name: coredns
          image: registry.k8s.io/coredns/coredns:v1.11.3
          ports:
            - { name: dns, containerPort: 53, protocol: UDP }
            - { name: dns-tcp, containerPort: 53, protocol: TCP }
            - { name: metrics, containerPort: 9153, protocol: TCP }
---
apiVersion: v1
kind: Service
metadata: { name: kube-dns, namespace: kube-system }
spec:
  clusterIP: 10.96.0.10
  selector: { k8s-app: kube-dns }
  ports:
    - { name: dns, port: 53, protocol: UDP, targetPort: 53 }
    - { name: dns-tcp, port: 53, protocol: TCP, targetPort: 53 }
    - { name: metrics, port: 9153, protocol: TCP, targetPort: 9153 }
---
apiVersion: v1
kind: Service
metadata: { name: kubernetes, namespace: default }
spec:
  clusterIP: 10.96.0.2
  ports: [{ name: https, port: 443, targetPort: 6443 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: nginx:1.27, ports: [{ name: http, containerPort: 8080 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  clusterIP: 10.96.0.50
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: v1
kind: Service
metadata: { name: web-headless }
spec:
  clusterIP: None
  selector: { app: web }
  ports: [{ name: http, port: 8080, targetPort: http }]
---
apiVersion: v1
kind: Pod
metadata: { name: db-0, labels: { app: db } }
spec:
  nodeName: node1
  hostname: db-0
  subdomain: db
  containers: [{ name: pg, image: postgres:16, ports: [{ name: pg, containerPort: 5432 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: db }
spec:
  clusterIP: None
  selector: { app: db }
  ports: [{ name: pg, port: 5432 }]
---
apiVersion: v1
kind: Service
metadata: { name: empty-headless }
spec:
  clusterIP: None
  selector: { app: nothing }
  ports: [{ name: x, port: 1 }]
---
apiVersion: v1
kind: Service
metadata: { name: ext }
spec:
  type: ExternalName
  externalName: www.example.com
---
apiVersion: v1
kind: Service
metadata: { name: alias }
spec:
  type: ExternalName
  externalName: web.default.svc.cluster.local
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  nodeName: node1
  containers: [{ name: curl, image: curlimages/curl:8.10.1 }]
`;

const ip = (s: string): number => parseIpv4(s)!;

/** The upstream recursive server's view of the internet. */
function internet(q: DnsQuestion): ZoneAnswer {
  const n = q.name.toLowerCase();
  const root = rr('', 86400, { kind: 'SOA', mname: 'a.root-servers.net', rname: 'nstld.verisign-grs.com', serial: 2024010100, refresh: 1800, retry: 900, expire: 604800, minimum: 86400 });
  if (n !== 'example.com' && n !== 'www.example.com') return { ...denial(DnsRcode.NXDOMAIN, root), authoritative: false };
  if (q.type !== DnsType.A) return { ...denial(DnsRcode.NOERROR, rr('example.com', 3600, { kind: 'SOA', mname: 'ns.icann.org', rname: 'noc.dns.icann.org', serial: 1, refresh: 7200, retry: 3600, expire: 1209600, minimum: 3600 })), authoritative: false };
  return { rcode: 0, authoritative: false, answers: [rr(q.name, 300, { kind: 'A', address: ip('93.184.215.14') })], authority: [], additional: [], chase: null };
}

function cluster() {
  const world: World = buildWorld(loadScenarioText(SCENARIO, 'coredns.yaml'), 3);
  const c = world.cluster!;
  const upstreamHost = c.hosts.find((h) => h.name === 'upstream')!;
  const udpOf = (ns: Namespace) => world.udp.get(ns.name)!;
  const upstream = new DnsServer(udpOf(upstreamHost.ns), { zone: internet, upstream: [], recursionAvailable: true });
  const corednsPods = corednsPodsOf(c.pods);
  expect(corednsPods).toHaveLength(2);
  const dns = startClusterDns({ pods: c.pods, services: world.services, corednsPods, udpOf, upstream: [upstreamHost.ip] });
  const client = c.pods.find((p) => p.name === 'client')!;
  const resolver = podResolver(client, udpOf(client.ns));
  return { world, sim: world.sim, c, dns, upstream, upstreamHost, client, resolver, corednsPods };
}

function lookup(w: ReturnType<typeof cluster>, name: string): LookupResult {
  let out: LookupResult | null = null;
  w.resolver.lookup(name, (r) => (out = r));
  w.sim.run({ until: w.sim.now + 60 * SEC });
  return out!;
}

const Q = (name: string, type: number): DnsQuestion => ({ name, type, class: DnsClass.IN });

describe('kubernetes plugin records', () => {
  const w = cluster();
  const zone = kubernetesZone(w.world.services, w.c.pods);
  const a = (name: string, type: number = DnsType.A) => zone(Q(name, type))!;
  const addrs = (z: ZoneAnswer) => z.answers.map((r) => (r.data.kind === 'A' ? formatIpv4(r.data.address) : `${r.data.kind} ${'target' in r.data ? r.data.target : ''}`));
  const webPods = w.c.pods.filter((p) => p.labels['app'] === 'web').map((p) => formatIpv4(p.ip));

  it('ClusterIP service: A → ClusterIP, TTL 30, authoritative; AAAA → NODATA with the SOA', () => {
    expect(addrs(a('web.default.svc.cluster.local'))).toEqual(['10.96.0.50']);
    expect(a('web.default.svc.cluster.local').answers[0]!.ttl).toBe(30);
    expect(a('web.default.svc.cluster.local').authoritative).toBe(true);
    expect(addrs(a('kubernetes.default.svc.cluster.local'))).toEqual(['10.96.0.2']);
    expect(addrs(a('kube-dns.kube-system.svc.cluster.local'))).toEqual(['10.96.0.10']);
    const aaaa = a('web.default.svc.cluster.local', DnsType.AAAA);
    expect(aaaa.rcode).toBe(DnsRcode.NOERROR);
    expect(aaaa.answers).toEqual([]);
    expect(aaaa.authority).toEqual([rr('cluster.local', 30, { kind: 'SOA', mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 30 })]);
  });

  it('NXDOMAIN with the SOA for names in the zone that do not exist; NODATA for existing non-terminals and the apex', () => {
    for (const n of ['nope.default.svc.cluster.local', 'example.com.default.svc.cluster.local', 'example.com.svc.cluster.local', 'example.com.cluster.local', 'web.nons.svc.cluster.local', 'a.b.c.web.default.svc.cluster.local']) {
      const z = a(n);
      expect(z.rcode, n).toBe(DnsRcode.NXDOMAIN);
      expect(z.authority[0]!.data.kind, n).toBe('SOA');
    }
    for (const n of ['cluster.local', 'svc.cluster.local', 'default.svc.cluster.local', 'kube-system.pod.cluster.local']) {
      const z = a(n);
      expect([z.rcode, z.answers.length], n).toEqual([DnsRcode.NOERROR, 0]);
    }
    expect(a('cluster.local', DnsType.SOA).answers[0]!.data.kind).toBe('SOA');
    expect(a('nope.default.svc.cluster.local', DnsType.TXT).rcode).toBe(DnsRcode.NXDOMAIN); // the fake A lookup
    expect(a('dns-version.cluster.local', DnsType.TXT).answers[0]!.data).toEqual({ kind: 'TXT', strings: ['1.1.0'] });
    expect(zone(Q('example.com', DnsType.A))).toBeNull(); // not ours: forwarded
  });

  it('headless: A records of the ready endpoints; endpoint names by IP or by hostname+subdomain', () => {
    expect(addrs(a('web-headless.default.svc.cluster.local')).sort()).toEqual([...webPods].sort());
    const first = webPods[0]!;
    expect(addrs(a(`${first.replaceAll('.', '-')}.web-headless.default.svc.cluster.local`))).toEqual([first]);
    const db = formatIpv4(w.c.pods.find((p) => p.name === 'db-0')!.ip);
    expect(addrs(a('db-0.db.default.svc.cluster.local'))).toEqual([db]);
    expect(a('empty-headless.default.svc.cluster.local').rcode).toBe(DnsRcode.NXDOMAIN); // no endpoints: NXDOMAIN
  });

  it('SRV for named ports: priority 0, weight 100 for one target (service name), 33 each for three endpoints, A glue', () => {
    const s = a('_http._tcp.web.default.svc.cluster.local', DnsType.SRV);
    expect(s.answers.map((r) => r.data)).toEqual([{ kind: 'SRV', priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
    expect(addrs({ ...s, answers: s.additional })).toEqual(['10.96.0.50']);
    const h = a('_http._tcp.web-headless.default.svc.cluster.local', DnsType.SRV);
    expect(h.answers.map((r) => (r.data.kind === 'SRV' ? [r.data.weight, r.data.port, r.data.target] : null))).toEqual(webPods.map((p) => [33, 8080, `${p.replaceAll('.', '-')}.web-headless.default.svc.cluster.local`]));
    expect(h.additional).toHaveLength(3);
    const d = a('_pg._tcp.db.default.svc.cluster.local', DnsType.SRV);
    expect(d.answers.map((r) => r.data.kind === 'SRV' && r.data.target)).toEqual(['db-0.db.default.svc.cluster.local']);
    expect(a('_nope._tcp.web.default.svc.cluster.local', DnsType.SRV).rcode).toBe(DnsRcode.NXDOMAIN);
    expect(a('_http._udp.web.default.svc.cluster.local', DnsType.SRV).rcode).toBe(DnsRcode.NXDOMAIN);
  });

  it('ExternalName: CNAME; chased in the zone, handed to the server outside it', () => {
    const e = a('ext.default.svc.cluster.local');
    expect(addrs(e)).toEqual(['CNAME www.example.com']);
    expect(e.chase).toEqual({ name: 'www.example.com', type: DnsType.A, class: 1 });
    const al = a('alias.default.svc.cluster.local');
    expect(addrs(al)).toEqual(['CNAME web.default.svc.cluster.local', '10.96.0.50']);
    expect(al.chase).toBeNull();
    expect(a('_x._tcp.ext.default.svc.cluster.local', DnsType.SRV).rcode).toBe(DnsRcode.NXDOMAIN);
  });

  it('pods insecure: a-b-c-d.<ns>.pod.cluster.local → a.b.c.d when the namespace exists; PTR for ClusterIPs and endpoints', () => {
    expect(addrs(a('10-244-7-9.default.pod.cluster.local'))).toEqual(['10.244.7.9']);
    expect(a('10-244-7-9.nons.pod.cluster.local').rcode).toBe(DnsRcode.NXDOMAIN);
    expect(a('not-an-ip.default.pod.cluster.local').rcode).toBe(DnsRcode.NXDOMAIN);
    expect(addrs(a('50.0.96.10.in-addr.arpa', DnsType.PTR))).toEqual(['PTR web.default.svc.cluster.local']);
    const db = w.c.pods.find((p) => p.name === 'db-0')!.ip;
    const rev = formatIpv4(db).split('.').reverse().join('.');
    expect(addrs(a(`${rev}.in-addr.arpa`, DnsType.PTR))).toEqual(['PTR db-0.db.default.svc.cluster.local']);
    expect(zone(Q('1.1.168.192.in-addr.arpa', DnsType.PTR))).toBeNull(); // fallthrough in-addr.arpa
  });

  it('resolv.conf of a ClusterFirst pod', () => {
    expect(podResolvConf('shop')).toBe('search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
    expect(formatIpv4(KUBE_DNS_IP)).toBe('10.96.0.10');
  });
});

describe('cluster DNS on the wire', () => {
  it('web from a pod in default: one A+AAAA pair to 10.96.0.10, answered by a CoreDNS pod through the DNAT', () => {
    const w = cluster();
    const r = lookup(w, 'web');
    expect(r.addresses.map(formatIpv4)).toEqual(['10.96.0.50']);
    expect(r.answeredName).toBe('web.default.svc.cluster.local');
    expect(r.queries).toBe(2);
    const served = w.dns.servers.map((s) => s.counters.queries);
    expect(served.reduce((x, y) => x + y)).toBe(2);
  });

  it('example.com: three NXDOMAIN search candidates from CoreDNS, then example.com forwarded to the upstream', () => {
    const w = cluster();
    const r = lookup(w, 'example.com');
    expect(r.addresses.map(formatIpv4)).toEqual(['93.184.215.14']);
    expect(r.queries).toBe(8);
    const total = (k: 'forwarded' | 'queries') => w.dns.servers.reduce((n, s) => n + s.counters[k], 0);
    expect(total('queries')).toBe(8);
    expect(total('forwarded')).toBe(2);
    expect(w.dns.servers.reduce((n, s) => n + s.counters.responses.NXDOMAIN, 0)).toBe(6);
    expect(w.upstream.counters.queries).toBe(2);
  });

  it('ExternalName ext: CNAME to www.example.com, its A resolved upstream by CoreDNS and appended', () => {
    const w = cluster();
    const r = lookup(w, 'ext');
    expect(r.canonicalName).toBe('www.example.com');
    expect(r.addresses.map(formatIpv4)).toEqual(['93.184.215.14']);
    expect(w.upstream.counters.queries).toBe(2); // www.example.com A and AAAA, chased by CoreDNS
  });

  it('a pcapng of the client and upstream: the dns.qry.name sequence tshark reads, zero malformed frames', () => {
    const w = cluster();
    const path = join(mkdtempSync(join(tmpdir(), 'podwire-dns-')), 'dns.pcapng');
    const pw = new PcapngWriter(path, { application: 'podwire-test' });
    const client0 = w.client.ns.device('eth0')!;
    const up0 = w.upstreamHost.ns.device('eth0')!;
    for (const dev of [client0, up0]) {
      const id = pw.addInterface(dev.qualifiedName);
      dev.tap.connect((_d, pkt) => pw.writePacketRecord(id, w.sim.now, pkt));
    }
    lookup(w, 'web');
    lookup(w, 'example.com');
    pw.close();
    if (!hasTshark()) return;
    const rep = tsharkCheck(path);
    expect(rep.malformedFrames, rep.errors.join('\n')).toEqual([]);
    expect(rep.badChecksumFrames, rep.errors.join('\n')).toEqual([]);
    const rows = tsharkRecords(path, ['frame.interface_name', 'ip.src', 'ip.dst', 'dns.flags.response', 'dns.qry.name', 'dns.qry.type', 'dns.flags.rcode', 'dns.a'], ['-Y', 'dns']);
    const clientOut = rows.filter((x) => x['frame.interface_name'] === client0.qualifiedName && x['ip.src'] === formatIpv4(w.client.ip));
    expect(clientOut.map((x) => `${x['dns.qry.name']} ${x['dns.qry.type']} → ${x['ip.dst']}`)).toEqual([
      'web.default.svc.cluster.local 1 → 10.96.0.10', 'web.default.svc.cluster.local 28 → 10.96.0.10',
      'example.com.default.svc.cluster.local 1 → 10.96.0.10', 'example.com.default.svc.cluster.local 28 → 10.96.0.10',
      'example.com.svc.cluster.local 1 → 10.96.0.10', 'example.com.svc.cluster.local 28 → 10.96.0.10',
      'example.com.cluster.local 1 → 10.96.0.10', 'example.com.cluster.local 28 → 10.96.0.10',
      'example.com 1 → 10.96.0.10', 'example.com 28 → 10.96.0.10',
    ]);
    // replies come back from the Service address (conntrack un-DNAT)
    const clientIn = rows.filter((x) => x['frame.interface_name'] === client0.qualifiedName && x['ip.dst'] === formatIpv4(w.client.ip));
    expect(new Set(clientIn.map((x) => x['ip.src']))).toEqual(new Set(['10.96.0.10']));
    expect(clientIn.filter((x) => x['dns.flags.rcode'] === '3')).toHaveLength(6);
    expect(clientIn.filter((x) => x['dns.a'] !== '').map((x) => x['dns.a'])).toEqual(['10.96.0.50', '93.184.215.14']);
    // at the upstream: only example.com (A, AAAA), from node2 (the CoreDNS pods' node, flanneld masq)
    const atUp = rows.filter((x) => x['frame.interface_name'] === up0.qualifiedName && x['ip.dst'] === '10.100.11.53');
    expect(atUp.map((x) => `${x['dns.qry.name']} ${x['dns.qry.type']} from ${x['ip.src']}`)).toEqual(['example.com 1 from 10.100.11.12', 'example.com 28 from 10.100.11.12']);
    const upReplies = rows.filter((x) => x['frame.interface_name'] === up0.qualifiedName && x['ip.src'] === '10.100.11.53');
    expect(upReplies.map((x) => x['dns.flags.rcode'])).toEqual(['0', '0']);
  });
});
