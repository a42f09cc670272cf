// k8s/internet — the world outside the cluster: an internet-like segment (namespace `internet`, a
// switch br0 whose links carry the internet's delay, rate and loss) joined to the cluster network by a
// router (forwarding on, one leg on each side, no NAT: a routed public network), the users on it, and
// the host of the public authoritative DNS server. Layer: k8s (imports core, wire, link, net).
//
//   user1 ──┐                                   ┌── node1/eth0
//   user2 ──┼── internet/br0 ── edge ── network/br0 ──┼── node2/eth0
//   ns1   ──┘   203.0.113.0/24  eth1 eth0  (cluster)  └── laptop (externalHosts)
//
// Routes, as an operator would set them: every node and cluster external host gets `default via
// <router's cluster address>` (so replies to internet users, DSR replies included, go back through the
// router), every internet host `default via <router's internet address>`; the router has only its two
// connected routes. Each router hop decrements the IP TTL (ip-forward.ts).
// Addresses: the router takes the 1st address of each side, internet hosts the 10th on, a DNS server
// created here the 53rd (internet) or the 53rd of the cluster network when there is no internet.
// Not modelled: BGP, NAT at the edge, more than one router, IPv6, an ISP's recursive resolvers (users
// ask the authoritative server directly; see dns-server.ts AuthoritativeZones).
import type { UserError } from '../core/user-error.js';
import type { Namespace } from '../net/namespace.js';
import { formatIpv4, parseIpv4 } from '../wire/ipv4-addr.js';
import type { Ipv4 } from '../wire/types.js';
import type { ClusterConfig, ClusterNode, ExternalHost } from './cluster.js';
import type { Inventory } from './inventory.js';
import { Underlay } from './underlay.js';

/** spec.internet (mirrors scenario/schema InternetSpec). */
export interface InternetConfig {
  cidr: string;
  delay: string | number;
  rate: string | number;
  queue: number;
  mtu: number;
  loss: number;
  jitter: string | number;
  router: { name: string; ip?: string | undefined; clusterIp?: string | undefined };
  hosts: { name: string; ip?: string | undefined; mac?: string | undefined; nameserver?: string | undefined }[];
}

/** The public DNS server's host (spec.dns.server). */
export interface PublicDnsServerConfig {
  name: string;
  ip?: string | undefined;
}

/** A host outside the cluster that sends or serves: an internet host or the DNS server's host. */
export interface OutsideHost extends ExternalHost {
  /** The nameserver of its resolv.conf (the public DNS server unless the scenario names one), or null. */
  nameserver: Ipv4 | null;
  /** On the internet segment (else on the cluster network). */
  onInternet: boolean;
}

/** What buildOutside made. */
export interface OutsideWorld {
  /** The router and its two addresses, when there is an internet. */
  router: { name: string; ns: Namespace; ip: Ipv4; clusterIp: Ipv4 } | null;
  /** The internet segment's switch namespace. */
  segment: Namespace | null;
  /** Internet hosts, then the DNS server's host when it was created here. */
  hosts: OutsideHost[];
  /** The public authoritative DNS server's host, when spec.dns is set. */
  dnsServer: OutsideHost | null;
}

type At = (path: (string | number)[], message: string) => UserError;

/**
 * Builds the internet (when `cfg.internet`) and the public DNS server's host (when `cfg.publicDns`),
 * after the nodes and the cluster's external hosts: routes on nodes and external hosts point at the
 * router. Returns null when the scenario has neither.
 */
export function buildOutside(inv: Inventory, underlay: Underlay, cfg: ClusterConfig, nodes: ClusterNode[], clusterHosts: ExternalHost[], errors: UserError[], at: At): OutsideWorld | null {
  const inet = cfg.internet;
  const dnsCfg = cfg.publicDns;
  if (!inet && !dnsCfg) return null;
  const taken = (name: string): boolean => inv.namespaces.some((n) => n.name === name);
  const out: OutsideWorld = { router: null, segment: null, hosts: [], dnsServer: null };
  let seg: Underlay | null = null;
  if (inet) {
    const network = { cidr: inet.cidr, rate: inet.rate, delay: inet.delay, queue: inet.queue, mtu: inet.mtu, loss: inet.loss, netemDelay: 0, jitter: inet.jitter };
    seg = new Underlay(inv, cfg, errors, at, { ns: 'internet', network, label: 'the internet' });
    out.segment = seg.ns;
    const r = inet.router;
    const rPath = ['spec', 'internet', 'router'];
    if (taken(r.name)) errors.push(at([...rPath, 'name'], `duplicate name "${r.name}"`));
    const clusterIp = underlay.takeIp(r.clusterIp, (underlay.netBase + 1) >>> 0, [...rPath, 'clusterIp']);
    const ip = seg.takeIp(r.ip, (seg.netBase + 1) >>> 0, [...rPath, 'ip']);
    const { ns } = underlay.addMachine(r.name, clusterIp);
    // The internet leg carries no delay of its own: a user's one-way delay to the router is `delay`.
    seg.addInterface(ns, 'eth1', ip, undefined, 0);
    ns.ipForwardEnabled = true;
    out.router = { name: r.name, ns, ip, clusterIp };
    for (const n of nodes) defaultVia(n.ns, clusterIp);
    for (const h of clusterHosts) defaultVia(h.ns, clusterIp);
    inet.hosts.forEach((h, i) => {
      const path = ['spec', 'internet', 'hosts', i];
      if (taken(h.name)) return errors.push(at([...path, 'name'], `duplicate name "${h.name}"`));
      const hip = seg!.takeIp(h.ip, (seg!.netBase + 10 + i) >>> 0, [...path, 'ip']);
      const m = seg!.addMachine(h.name, hip, h.mac);
      defaultVia(m.ns, ip);
      out.hosts.push({ name: h.name, ns: m.ns, ip: hip, nameserver: h.nameserver !== undefined ? parseIpv4(h.nameserver) : null, onInternet: true });
    });
  }
  if (dnsCfg) out.dnsServer = dnsServerHost(out, seg, underlay, clusterHosts, dnsCfg.server, taken, errors, at);
  // Hosts without a nameserver of their own ask the public DNS server.
  const ns1 = out.dnsServer?.ip ?? null;
  for (const h of out.hosts) if (h.nameserver === null && h !== out.dnsServer) h.nameserver = ns1;
  return out;
}

/** The public DNS server's host: an internet host of that name, a cluster external host, or a new host (the internet's, else the cluster network's). */
function dnsServerHost(out: OutsideWorld, seg: Underlay | null, underlay: Underlay, clusterHosts: ExternalHost[], cfg: PublicDnsServerConfig, taken: (n: string) => boolean, errors: UserError[], at: At): OutsideHost | null {
  const path = ['spec', 'dns', 'server'];
  const onInet = out.hosts.find((h) => h.name === cfg.name);
  const existing = onInet ?? clusterHosts.find((h) => h.name === cfg.name);
  if (existing) {
    if (cfg.ip !== undefined && parseIpv4(cfg.ip) !== existing.ip) errors.push(at([...path, 'ip'], `host ${cfg.name} already has the address ${formatIpv4(existing.ip)}`));
    return onInet ?? { ...existing, nameserver: null, onInternet: false };
  }
  if (taken(cfg.name)) {
    errors.push(at([...path, 'name'], `"${cfg.name}" is a node or a router, not a host that can serve DNS`));
    return null;
  }
  const on = seg ?? underlay;
  const ip = on.takeIp(cfg.ip, (on.netBase + 53) >>> 0, [...path, 'ip']);
  const m = on.addMachine(cfg.name, ip);
  if (seg && out.router) defaultVia(m.ns, out.router.ip);
  else if (out.router) defaultVia(m.ns, out.router.clusterIp);
  const host: OutsideHost = { name: cfg.name, ns: m.ns, ip, nameserver: null, onInternet: seg !== null };
  out.hosts.push(host);
  return host;
}

/** `ip route add default via GW` (GW on eth0's connected subnet). */
function defaultVia(ns: Namespace, gw: Ipv4): void {
  const eth0 = ns.device('eth0');
  if (eth0) ns.addRoute({ dst: 0, prefix: 0, gateway: gw, dev: eth0 });
}
