// k8s/kube-proxy/nftables — what kube-proxy's nftables proxier (pkg/proxy/nftables/proxier.go,
// GA in v1.33) sends to `nft -f` on a node: the `ip kube-proxy` table, its base chains at dstnat−10 /
// dstnat / dstnat+10 / srcnat, the service-ips and service-nodeports verdict maps, one service-,
// external-, firewall- and endpoint- chain per service port and endpoint, `numgen random mod N vmap`
// endpoint choice, masquerade marks, and the no-endpoint and firewall maps. Layer: k8s.
// Chain names as hashAndTruncate makes them: the first 8 characters of base32(sha256(name)) and the
// name, e.g. "service-ULMVA6XW-ns1/svc1/tcp/p80". A full sync writes every chain; a partial one (the
// proxier's `changed`) only the changed Services' chains, the sets and maps in full either way. Services are written in
// "namespace/name:port" order, endpoints in address order (kube-proxy iterates maps; the order
// changes nothing but the listing).
// Not modelled: IPv6, --nodeport-addresses other than `primary` (the default in this mode).
import { createHash } from 'node:crypto';
import { base32, servicePortName, trafficPlan, type KpConfig, type KpEndpoint, type KpServicePort, type TrafficPlan } from './iptables.js';

const T = 'ip kube-proxy';
const MASQ_MARK = '0x4000';

/**
 * kube-proxy's base chains: name, type, hook, priority (knftables' DNATPriority−10, +10, SNATPriority),
 * written as numbers as knftables' fake dumps them: nft before 1.0.7 accepts "dstnat" only at prerouting.
 */
const BASE_CHAINS: [string, string, string, string][] = [
  ['filter-prerouting', 'filter', 'prerouting', '-110'],
  ['filter-input', 'filter', 'input', '-110'],
  ['filter-forward', 'filter', 'forward', '-110'],
  ['filter-output', 'filter', 'output', '-110'],
  ['filter-output-post-dnat', 'filter', 'output', '-90'],
  ['nat-prerouting', 'nat', 'prerouting', '-100'],
  ['nat-output', 'nat', 'output', '-100'],
  ['nat-postrouting', 'nat', 'postrouting', '100'],
];

/** nftablesJumpChains: destination, source, extra match. */
const JUMP_CHAINS: [string, string, string][] = [
  ['nodeport-endpoints-check', 'filter-input', 'ct state new'],
  ['service-endpoints-check', 'filter-input', 'ct state new'],
  ['service-endpoints-check', 'filter-forward', 'ct state new'],
  ['service-endpoints-check', 'filter-output', 'ct state new'],
  ['firewall-check', 'filter-prerouting', 'ct state new'],
  ['firewall-check', 'filter-output', 'ct state new'],
  ['services', 'nat-output', ''],
  ['services', 'nat-prerouting', ''],
  ['masquerading', 'nat-postrouting', ''],
  ['cluster-ips-check', 'filter-forward', 'ct state new'],
  ['cluster-ips-check', 'filter-output-post-dnat', 'ct state new'],
];

/** hashAndTruncate. */
export function nftChainBase(name: string): string {
  let s = bases.get(name);
  if (s === undefined) {
    // Every sync names every port's and endpoint's chains again: each distinct name is hashed once.
    if (bases.size >= BASES_MAX) bases.clear();
    const h = base32(createHash('sha256').update(name).digest()).slice(0, 8);
    s = `${h}-${name}`;
    if (s.length > 240) s = `${s.slice(0, 237)}...`;
    bases.set(name, s);
  }
  return s;
}
const bases = new Map<string, string>();
const BASES_MAX = 1 << 18;

/** Chain names of one service port (servicePortChainNameBase with the prefixes). */
export function nftServiceChains(sp: KpServicePort): { svc: string; local: string; ext: string; fw: string } {
  const b = nftChainBase(`${sp.namespace}/${sp.name}/${sp.protocol.toLowerCase()}/${sp.portName}`);
  return { svc: `service-${b}`, local: `local-${b}`, ext: `external-${b}`, fw: `firewall-${b}` };
}

/** The endpoint chain and affinity set of one endpoint (servicePortEndpointChainNameBase). */
export function nftEndpointNames(sp: KpServicePort, ep: KpEndpoint): { chain: string; affinity: string } {
  const b = nftChainBase(`${sp.namespace}/${sp.name}/${sp.protocol.toLowerCase()}/${sp.portName}__${ep.ip}/${ep.port}`);
  return { chain: `endpoint-${b}`, affinity: `affinity-${b}` };
}

/** The transaction of one sync, and the service chains it made (for stale-chain cleanup). */
class Tx {
  readonly lines: string[] = [];
  private readonly created = new Set<string>();
  /** False while an unchanged service port of a partial sync is written: its chains are noted, not written. */
  writing = true;
  add(s: string): void {
    if (this.writing) this.lines.push(s);
  }
  ensureChain(name: string): void {
    if (this.created.has(name)) return;
    this.created.add(name);
    this.add(`add chain ${T} ${name}`);
    this.add(`flush chain ${T} ${name}`);
  }
  rule(chain: string, rule: string, comment?: string): void {
    this.add(`add rule ${T} ${chain} ${rule}${comment ? ` comment "${comment}"` : ''}`);
  }
  chains(): Set<string> {
    return this.created;
  }
}

/** setupNFTables: the table, base chains, jump chains, masquerading, and the maps (flushed). */
function setup(tx: Tx, cfg: NftConfig, first: boolean): void {
  tx.add(`add table ${T} { comment "rules for kube-proxy" ; }`);
  if (first) for (const [n] of BASE_CHAINS) tx.add(`add chain ${T} ${n}`), tx.add(`delete chain ${T} ${n}`);
  for (const [n, type, hook, prio] of BASE_CHAINS) {
    tx.add(`add chain ${T} ${n} { type ${type} hook ${hook} priority ${prio} ; }`);
    tx.add(`flush chain ${T} ${n}`);
  }
  for (const [dst, src, extra] of JUMP_CHAINS) {
    tx.ensureChain(dst);
    tx.rule(src, `${extra ? `${extra} ` : ''}jump ${dst}`);
  }
  for (const c of ['services', 'cluster-ips-check', 'masquerading', 'mark-for-masquerade']) tx.ensureChain(c);
  tx.rule('mark-for-masquerade', `mark set mark or ${MASQ_MARK}`);
  tx.rule('masquerading', `mark and ${MASQ_MARK} == 0 return`);
  tx.rule('masquerading', `mark set mark xor ${MASQ_MARK}`);
  tx.rule('masquerading', 'masquerade fully-random');
  tx.add(`add set ${T} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`);
  tx.rule('cluster-ips-check', 'ip daddr @cluster-ips reject', 'Reject traffic to invalid ports of ClusterIPs');
  if (cfg.serviceCIDR) tx.rule('cluster-ips-check', `ip daddr { ${cfg.serviceCIDR} } drop`, 'Drop traffic to unallocated ClusterIPs');
  tx.add(`add set ${T} nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`);
  tx.add(`flush set ${T} nodeport-ips`);
  tx.add(`add element ${T} nodeport-ips { ${cfg.nodeIP} }`);
  tx.add(`add map ${T} no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`);
  tx.add(`add map ${T} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`);
  tx.add(`add chain ${T} reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }`);
  tx.add(`flush chain ${T} reject-chain`);
  tx.rule('reject-chain', 'reject');
  tx.rule('service-endpoints-check', 'ip daddr . meta l4proto . th dport vmap @no-endpoint-services');
  tx.rule('nodeport-endpoints-check', 'ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports');
  tx.add(`add map ${T} firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`);
  tx.rule('firewall-check', 'ip daddr . meta l4proto . th dport vmap @firewall-ips');
  tx.add(`add map ${T} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`);
  tx.add(`add map ${T} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`);
  tx.rule('services', 'ip daddr . meta l4proto . th dport vmap @service-ips');
  tx.rule('services', 'ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports');
  for (const m of ['set cluster-ips', 'map service-ips', 'map firewall-ips', 'map no-endpoint-services', 'map no-endpoint-nodeports', 'map service-nodeports']) tx.add(`flush ${m.replace(' ', ` ${T} `)}`);
}

/** kube-proxy flags of this mode. */
export interface NftConfig extends KpConfig {
  /** The ServiceCIDRs (kube-apiserver --service-cluster-ip-range). */
  serviceCIDR: string;
}

const elem = (map: string, key: string, value: string, comment?: string): string => `add element ${T} ${map} { ${key}${comment ? ` comment "${comment}"` : ''} : ${value} }`;

/** The maps' elements for one service port (clusterIP, external IPs, LB IPs, node port). */
function writeElements(tx: Tx, sp: KpServicePort, p: Plan): void {
  const proto = sp.protocol.toLowerCase();
  const k = (ip: string): string => `${ip} . ${proto} . ${sp.port}`;
  tx.add(`add element ${T} cluster-ips { ${sp.clusterIP} }`);
  if (p.hasInternal) tx.add(elem('service-ips', k(sp.clusterIP), `goto ${p.internalChain}`));
  else tx.add(elem('no-endpoint-services', k(sp.clusterIP), p.intVerdict, p.name));
  for (const ip of sp.externalIPs) {
    if (p.hasEndpoints) tx.add(elem('service-ips', k(ip), `goto ${p.ch.ext}`));
    if (!p.hasExternal) tx.add(elem('no-endpoint-services', k(ip), p.extVerdict, p.name));
  }
  for (const ip of sp.loadBalancerIPs) {
    if (p.hasEndpoints) tx.add(elem('service-ips', k(ip), `goto ${p.ch.ext}`));
    if (p.usesFw) tx.add(elem('firewall-ips', k(ip), `goto ${p.ch.fw}`));
  }
  if (!p.hasExternal) for (const ip of sp.loadBalancerIPs) tx.add(elem('no-endpoint-services', k(ip), p.extVerdict, p.name));
  if (sp.nodePort !== 0) {
    if (p.hasEndpoints) tx.add(elem('service-nodeports', `${proto} . ${sp.nodePort}`, `goto ${p.ch.ext}`));
    if (!p.hasExternal) tx.add(elem('no-endpoint-nodeports', `${proto} . ${sp.nodePort}`, p.extVerdict, p.name));
  }
}

interface Plan extends TrafficPlan {
  name: string;
  ch: ReturnType<typeof nftServiceChains>;
  usesFw: boolean;
  intVerdict: string;
  extVerdict: string;
}

function plan(sp: KpServicePort): Plan {
  const ch = nftServiceChains(sp);
  const t = trafficPlan(sp, ch.svc, ch.local);
  const none = t.hasEndpoints ? 'drop' : 'goto reject-chain';
  return { name: servicePortName(sp), ch, ...t, usesFw: sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0, intVerdict: none, extVerdict: none };
}

/** The chains a service port uses, created (and flushed) before any element points at them. */
function ensureChains(tx: Tx, sp: KpServicePort, p: Plan): void {
  for (const ep of p.all) tx.ensureChain(nftEndpointNames(sp, ep).chain);
  if (p.cluster.length > 0) tx.ensureChain(p.ch.svc);
  if (p.local.length > 0) tx.ensureChain(p.ch.local);
  if (p.usesExt) tx.ensureChain(p.ch.ext);
  if (p.usesFw) tx.ensureChain(p.ch.fw);
}

/** The service's chains: internal masquerade, external handling, firewall, affinity sets, policy and endpoint chains. */
function writeChains(tx: Tx, sp: KpServicePort, p: Plan, cfg: NftConfig): void {
  const proto = sp.protocol.toLowerCase();
  if (p.hasInternal) {
    const match = `ip daddr ${sp.clusterIP} ${proto} dport ${sp.port}`;
    if (cfg.masqueradeAll) tx.rule(p.internalChain, `${match} jump mark-for-masquerade`);
    else if (cfg.clusterCIDR) tx.rule(p.internalChain, `${match} ip saddr != ${cfg.clusterCIDR} jump mark-for-masquerade`);
  }
  if (p.usesExt) {
    if (sp.externalTrafficPolicy !== 'Local') tx.rule(p.ch.ext, 'jump mark-for-masquerade');
    else {
      if (cfg.clusterCIDR) tx.rule(p.ch.ext, `ip saddr ${cfg.clusterCIDR} goto ${p.ch.svc}`, 'short-circuit pod traffic');
      tx.rule(p.ch.ext, 'fib saddr type local jump mark-for-masquerade', 'masquerade local traffic');
      tx.rule(p.ch.ext, `fib saddr type local goto ${p.ch.svc}`, 'short-circuit local traffic');
    }
    if (p.hasExternal) tx.rule(p.ch.ext, `goto ${p.externalPolicy}`);
  }
  if (p.usesFw) {
    const sources = sp.loadBalancerSourceRanges.map((s) => s.trim());
    if (sources.some((c) => inCidr(cfg.nodeIP, c))) sources.push(...sp.loadBalancerIPs);
    tx.rule(p.ch.fw, `ip saddr != { ${sources.join(', ')} } drop`);
  }
  if (sp.sessionAffinitySeconds !== null) {
    for (const ep of p.all) tx.add(`add set ${T} ${nftEndpointNames(sp, ep).affinity} { type ipv4_addr ; flags dynamic,timeout ; timeout ${sp.sessionAffinitySeconds}s ; }`);
  }
  if (p.cluster.length > 0) writeServiceToEndpoints(tx, sp, p.ch.svc, p.cluster);
  if (p.local.length > 0) writeServiceToEndpoints(tx, sp, p.ch.local, p.local);
  for (const ep of p.all) {
    const n = nftEndpointNames(sp, ep);
    tx.rule(n.chain, `ip saddr ${ep.ip} jump mark-for-masquerade`);
    if (sp.sessionAffinitySeconds !== null) tx.rule(n.chain, `update @${n.affinity} { ip saddr }`);
    tx.rule(n.chain, `meta l4proto ${proto} dnat to ${ep.ip}:${ep.port}`);
  }
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, len] = cidr.split('/');
  const toN = (s: string): number => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);
  const size = 2 ** (32 - Number(len ?? 32));
  return Math.floor(toN(ip) / size) === Math.floor(toN(net!) / size);
}

/** writeServiceToEndpointRules: affinity lookups, then the numgen vmap over the endpoints. */
function writeServiceToEndpoints(tx: Tx, sp: KpServicePort, chain: string, eps: KpEndpoint[]): void {
  if (sp.sessionAffinitySeconds !== null) {
    for (const ep of eps) {
      const n = nftEndpointNames(sp, ep);
      tx.rule(chain, `ip saddr @${n.affinity} goto ${n.chain}`);
    }
  }
  const arms = eps.map((ep, i) => `${i} : goto ${nftEndpointNames(sp, ep).chain}`);
  tx.rule(chain, `numgen random mod ${eps.length} vmap { ${arms.join(' , ')} }`);
}

/** The service chains a previous sync left, and when they went stale (proxier.staleChains). */
export type StaleChains = Map<string, number>;

/**
 * One sync's transaction for a node: setup, every service port, then the stale service chains
 * flushed (and deleted once stale for a second) and stale affinity sets deleted. A partial sync
 * (`changed` given, kube-proxy >= 1.31's nftables proxier with a live table): the sets and maps are
 * rebuilt in full as in every sync, but the chains of the ports `changed` rejects are only noted as
 * in use, not flushed and written again.
 */
export function renderNftablesSync(ports: KpServicePort[], cfg: NftConfig, existing: { chains: string[]; sets: string[] } | null, stale: StaleChains, nowNs: number, changed: ((sp: KpServicePort) => boolean) | null = null): string {
  const tx = new Tx();
  const old = stale.size > 0 ? [...stale].filter(([, t]) => nowNs - t >= 1e9).map(([c]) => c) : [];
  for (const c of old) {
    tx.add(`delete chain ${T} ${c}`);
    stale.delete(c);
  }
  setup(tx, cfg, existing === null);
  const sorted = [...ports].sort((a, b) => (servicePortName(a) + a.protocol < servicePortName(b) + b.protocol ? -1 : 1));
  const affinity = new Set<string>();
  for (const sp of sorted) {
    const p = plan(sp);
    const skip = changed !== null && existing !== null && !changed(sp);
    if (skip) tx.writing = false;
    ensureChains(tx, sp, p);
    tx.writing = true;
    writeElements(tx, sp, p);
    if (!skip) writeChains(tx, sp, p, cfg);
    if (sp.sessionAffinitySeconds !== null) for (const ep of p.all) affinity.add(nftEndpointNames(sp, ep).affinity);
  }
  for (const c of existing?.chains ?? []) {
    if (!c.includes('/') || old.includes(c)) continue;
    if (tx.chains().has(c)) stale.delete(c);
    else {
      tx.add(`flush chain ${T} ${c}`);
      if (!stale.has(c)) stale.set(c, nowNs);
    }
  }
  for (const s of existing?.sets ?? []) if (s.startsWith('affinity-') && !affinity.has(s)) tx.add(`delete set ${T} ${s}`);
  return `${tx.lines.join('\n')}\n`;
}
