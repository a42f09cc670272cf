// k8s/pod-dns — the /etc/resolv.conf kubelet writes for a pod (pkg/kubelet/network/dns/dns.go,
// Configurer.GetPodDNS). Layer: k8s (imports wire).
//
// dnsPolicy picks the base:
// - ClusterFirst (the default; on a hostNetwork pod it falls back to Default), ClusterFirstWithHostNet:
//   the cluster DNS service as the only nameserver; search `<ns>.svc.<domain> svc.<domain> <domain>`
//   then the node's search domains (duplicates dropped); options `ndots:5`. With no cluster DNS the
//   kubelet falls back to Default (event MissingClusterDNS).
// - Default: the node's resolv.conf (kubelet --resolv-conf) as it is.
// - None: nothing; dnsConfig gives all of it (the API server demands at least one nameserver).
// Then spec.dnsConfig is appended (appendDNSConfig): its nameservers and searches after the base's, each
// once; its options merged by name over the base's (mergeDNSOptions: a name given twice keeps the last
// value; the kubelet writes them in Go map order, podwire sorts them: order does not matter to glibc).
// Last the limits (formDNSConfigFitsLimits): 3 nameservers, 32 search paths, none longer than 253
// characters, 2,048 characters in the search line; what is cut is said as kubelet's DNSConfigForming
// event does.
import type { Ipv4 } from '../wire/types.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';

/** kube-apiserver's limits (pkg/apis/core/validation: MaxDNSNameservers, ...Expanded since 1.28). */
export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
const DNS1123_SUBDOMAIN_MAX = 253;

/** A node's /etc/resolv.conf as the kubelet reads it. */
export interface HostResolv {
  nameservers: string[];
  searches: string[];
  options: string[];
}

/** What the kubelet needs from a pod. */
export interface PodDnsInput {
  namespace: string;
  hostNetwork: boolean;
  dnsPolicy?: 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None' | undefined;
  dnsConfig?: { nameservers?: string[] | undefined; searches?: string[] | undefined; options?: { name: string; value?: string | undefined }[] | undefined } | undefined;
}

/** The pod's resolv.conf settings and the kubelet's events about them. */
export interface PodDns {
  nameservers: string[];
  searches: string[];
  options: string[];
  /** Warning events (MissingClusterDNS, DNSConfigForming), in the kubelet's words. */
  events: string[];
}

const omitDuplicates = (xs: string[]): string[] => [...new Set(xs)];

/** mergeDNSOptions: `name[:value]` strings, the pod's options overriding the base's by name. */
function mergeOptions(base: string[], extra: NonNullable<PodDnsInput['dnsConfig']>['options']): string[] {
  const m = new Map<string, string>();
  for (const op of base) {
    const i = op.indexOf(':');
    if (i >= 0) m.set(op.slice(0, i), op.slice(i + 1));
    else m.set(op, '');
  }
  for (const op of extra ?? []) m.set(op.name, op.value ?? '');
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => (v !== '' ? `${k}:${v}` : k));
}

/** formDNSSearchFitsLimits. */
function searchFitsLimits(search: string[], events: string[]): string[] {
  let out = search;
  let exceeded = false;
  if (out.length > MAX_DNS_SEARCH_PATHS) {
    out = out.slice(0, MAX_DNS_SEARCH_PATHS);
    exceeded = true;
  }
  const kept = out.filter((s) => s.length <= DNS1123_SUBDOMAIN_MAX);
  if (kept.length !== out.length) exceeded = true;
  out = kept;
  const len = out.join(' ').length;
  if (len > MAX_DNS_SEARCH_LIST_CHARS) {
    let cut = 0;
    let cutLen = 0;
    for (let i = out.length - 1; i >= 0; i--) {
      cutLen += out[i]!.length + 1;
      cut++;
      if (len - cutLen <= MAX_DNS_SEARCH_LIST_CHARS) break;
    }
    out = out.slice(0, out.length - cut);
    exceeded = true;
  }
  if (exceeded) events.push(`Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${out.join(' ')}`);
  return out;
}

/** GetPodDNS: the pod's DNS settings from its policy, its dnsConfig, the cluster DNS and the node's resolv.conf. */
export function podDns(pod: PodDnsInput, clusterDns: Ipv4[], clusterDomain: string, host: HostResolv): PodDns {
  const events: string[] = [];
  const policy = pod.dnsPolicy ?? 'ClusterFirst';
  let type: 'cluster' | 'host' | 'none' = policy === 'None' ? 'none' : policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !pod.hostNetwork) ? 'cluster' : 'host';
  let cfg = { nameservers: [...host.nameservers], searches: [...host.searches], options: [...host.options] };
  if (type === 'cluster' && clusterDns.length === 0) {
    events.push(`kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.`);
    type = 'host';
  }
  if (type === 'none') cfg = { nameservers: [], searches: [], options: [] };
  else if (type === 'cluster') {
    const clusterSearch = [`${pod.namespace}.svc.${clusterDomain}`, `svc.${clusterDomain}`, clusterDomain];
    cfg = { nameservers: clusterDns.map(formatIpv4), searches: omitDuplicates([...clusterSearch, ...cfg.searches]), options: ['ndots:5'] };
  }
  const d = pod.dnsConfig;
  if (d !== undefined) {
    cfg.nameservers = omitDuplicates([...cfg.nameservers, ...(d.nameservers ?? [])]);
    cfg.searches = omitDuplicates([...cfg.searches, ...(d.searches ?? [])]);
    cfg.options = mergeOptions(cfg.options, d.options);
  }
  if (cfg.nameservers.length > MAX_DNS_NAMESERVERS) {
    cfg.nameservers = cfg.nameservers.slice(0, MAX_DNS_NAMESERVERS);
    events.push(`Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${cfg.nameservers.join(' ')}`);
  }
  cfg.searches = searchFitsLimits(cfg.searches, events);
  return { ...cfg, events };
}

/** The resolv.conf text the container runtime writes from it (containerd: search, nameserver…, options). */
export function resolvConfText(d: Pick<PodDns, 'nameservers' | 'searches' | 'options'>): string {
  let t = '';
  if (d.searches.length > 0) t += `search ${d.searches.join(' ')}\n`;
  for (const n of d.nameservers) t += `nameserver ${n}\n`;
  if (d.options.length > 0) t += `options ${d.options.join(' ')}\n`;
  return t;
}
