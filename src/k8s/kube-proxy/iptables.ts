// k8s/kube-proxy/iptables — what kube-proxy's iptables proxier (pkg/proxy/iptables/proxier.go,
// v1.32) writes for a node, as the text it feeds `iptables-restore --noflush`. Layer: k8s.
// Chain names use kube-proxy's hash: "KUBE-SVC-" + the first 16 characters of base32(sha256(
// servicePortName + protocol)), and "KUBE-SEP-" + the same over servicePortName + protocol + "ip:port".
// Probabilities are written as kube-proxy formats them (`%0.10f` of 1/(n−i)); the kernel's
// iptables-save prints them back with its own rounding (see netfilter/iptables-save formatProbability).
// Rule order: KUBE-NODEPORTS and KUBE-SERVICES first, then every other chain sorted by name, services
// sorted by "namespace/name:port" — the normalised layout kube-proxy's own unit tests compare against
// (the proxier itself iterates a Go map, so its raw order is not defined).
import { createHash } from 'node:crypto';
import { inSubnet, parseCidr, parseIpv4 } from '../../wire/ipv4-addr.js';

/** One endpoint of a service port, from the EndpointSlice. */
export interface KpEndpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** On this node (kube-proxy compares the endpoint's nodeName with its own). */
  isLocal: boolean;
}

/** One service port as kube-proxy's ServicePortInfo sees it. */
export interface KpServicePort {
  namespace: string;
  name: string;
  /** Port name ("" for an unnamed single port). */
  portName: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  clusterIP: string;
  port: number;
  /** 0 when none. */
  nodePort: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  /** ClientIP affinity timeout in seconds, or null for no affinity. */
  sessionAffinitySeconds: number | null;
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  /** 0 when none (ETP Local LoadBalancer services get one). */
  healthCheckNodePort: number;
  endpoints: KpEndpoint[];
}

/** kube-proxy flags that shape the rules. */
export interface KpConfig {
  /** --cluster-cidr (the local-traffic detector); null disables "! -s CIDR" masquerade rules. */
  clusterCIDR: string | null;
  /** --masquerade-all. */
  masqueradeAll: boolean;
  /** MASQUERADE --random-fully (when the kernel's iptables supports it). */
  randomFully: boolean;
  /** Node ports also accepted on 127.0.0.0/8 (route_localnet; the IPv4 default). */
  localhostNodePorts: boolean;
  /** The node's IP (for loadBalancerSourceRanges that contain it). */
  nodeIP: string;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export function base32(buf: Uint8Array): string {
  let bits = 0;
  let v = 0;
  let out = '';
  for (const x of buf) {
    v = ((v << 8) | x) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += B32[(v >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(v << (5 - bits)) & 31];
  return out;
}

/** The 16-character hash kube-proxy puts in chain names. */
export function chainHash(s: string): string {
  let h = hashes.get(s);
  if (h === undefined) {
    // Every sync names the chains of every port and endpoint again: each distinct name is hashed once.
    if (hashes.size >= HASHES_MAX) hashes.clear();
    hashes.set(s, (h = base32(createHash('sha256').update(s).digest()).slice(0, 16)));
  }
  return h;
}
const hashes = new Map<string, string>();
const HASHES_MAX = 1 << 18;

/** "ns/name:port" (or "ns/name" for an unnamed port), ServicePortName.String(). */
export function servicePortName(sp: Pick<KpServicePort, 'namespace' | 'name' | 'portName'>): string {
  return `${sp.namespace}/${sp.name}${sp.portName ? `:${sp.portName}` : ''}`;
}

/** Chain names of one service port. */
export function serviceChains(sp: KpServicePort): { svc: string; svl: string; ext: string; fw: string } {
  const h = chainHash(servicePortName(sp) + sp.protocol.toLowerCase());
  return { svc: `KUBE-SVC-${h}`, svl: `KUBE-SVL-${h}`, ext: `KUBE-EXT-${h}`, fw: `KUBE-FW-${h}` };
}

/** The KUBE-SEP chain of one endpoint. */
export function endpointChain(sp: KpServicePort, ep: KpEndpoint): string {
  return `KUBE-SEP-${chainHash(servicePortName(sp) + sp.protocol.toLowerCase() + `${ep.ip}:${ep.port}`)}`;
}

/** proxier.probability: 1/n as %0.10f. */
export function probability(n: number): string {
  return (1 / n).toFixed(10);
}

function inCidr(ip: string, cidr: string): boolean {
  const a = parseIpv4(ip);
  const c = parseCidr(cidr);
  return a !== null && c !== null && inSubnet(a, c.addr, c.prefix);
}

/** Which endpoints kube-proxy uses (CategorizeEndpoints): ready ones, else serving-terminating ones (shared with nftables.ts). */
function categorize(sp: KpServicePort): { cluster: KpEndpoint[]; local: KpEndpoint[]; all: KpEndpoint[] } {
  const pick = (eps: KpEndpoint[]): KpEndpoint[] => {
    const ready = eps.filter((e) => e.ready);
    return ready.length > 0 ? ready : eps.filter((e) => e.serving && e.terminating);
  };
  const usesCluster = sp.internalTrafficPolicy === 'Cluster' || (externallyAccessible(sp) && sp.externalTrafficPolicy === 'Cluster');
  const usesLocal = sp.internalTrafficPolicy === 'Local' || (externallyAccessible(sp) && sp.externalTrafficPolicy === 'Local');
  const cluster = usesCluster ? pick(sp.endpoints) : [];
  const local = usesLocal ? pick(sp.endpoints.filter((e) => e.isLocal)) : [];
  const all = [...cluster];
  for (const e of local) if (!all.includes(e)) all.push(e);
  return { cluster, local, all };
}

function externallyAccessible(sp: KpServicePort): boolean {
  return sp.nodePort !== 0 || sp.externalIPs.length > 0 || sp.loadBalancerIPs.length > 0;
}

/** Which endpoints and policy chains internal and external traffic of a service port use (syncProxyRules' preamble, shared by the iptables and nftables proxiers). */
export interface TrafficPlan {
  cluster: KpEndpoint[];
  local: KpEndpoint[];
  all: KpEndpoint[];
  /** The service has usable endpoints on some node. */
  hasEndpoints: boolean;
  internalChain: string;
  hasInternal: boolean;
  externalPolicy: string;
  hasExternal: boolean;
  /** The external-destinations chain is written (endpoints and an external way in). */
  usesExt: boolean;
}

/** CategorizeEndpoints and the internal/external policy chains (`clusterChain` / `localChain` by traffic policy). */
export function trafficPlan(sp: KpServicePort, clusterChain: string, localChain: string): TrafficPlan {
  const { cluster, local, all } = categorize(sp);
  const hasEndpoints = all.length > 0;
  const pol = (policy: 'Cluster' | 'Local'): [string, boolean] => (policy === 'Local' ? [localChain, local.length > 0 && hasEndpoints] : [clusterChain, hasEndpoints]);
  const [internalChain, hasInternal] = pol(sp.internalTrafficPolicy);
  const [externalPolicy, hasExternal] = pol(sp.externalTrafficPolicy);
  return { cluster, local, all, hasEndpoints, internalChain, hasInternal, externalPolicy, hasExternal, usesExt: hasEndpoints && externallyAccessible(sp) };
}

/** The rule buffers of one sync (proxier.go's filterRules / natChains / natRules), by chain. */
class RuleWriter {
  readonly natChains = new Set<string>(['KUBE-MARK-MASQ', 'KUBE-POSTROUTING']);
  private readonly natRules = new Map<string, string[]>();
  private readonly filterRules = new Map<string, string[]>();

  nat(chain: string, rule: string): void {
    let l = this.natRules.get(chain);
    if (!l) this.natRules.set(chain, (l = []));
    l.push(`-A ${chain} ${rule}`.trimEnd());
  }

  filter(chain: string, rule: string): void {
    let l = this.filterRules.get(chain);
    if (!l) this.filterRules.set(chain, (l = []));
    l.push(`-A ${chain} ${rule}`);
  }

  /**
   * The restore text: filter chains in kube-proxy's fixed order, then nat (node ports, services, the
   * rest sorted); `deleted` chains as proxier.go writes them: a chain line (which flushes the chain)
   * after the others, "-X" after the rules.
   */
  text(deleted: readonly string[] = []): string {
    const out: string[] = ['*filter'];
    const filterChains = ['KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL', 'KUBE-FORWARD', 'KUBE-PROXY-FIREWALL'];
    for (const c of filterChains) out.push(`:${c} - [0:0]`);
    for (const c of filterChains) for (const r of this.filterRules.get(c) ?? []) out.push(r);
    out.push('COMMIT', '*nat');
    const rest = [...this.natChains].filter((c) => c !== 'KUBE-NODEPORTS' && c !== 'KUBE-SERVICES').sort();
    const natOrder = ['KUBE-NODEPORTS', 'KUBE-SERVICES', ...rest];
    for (const c of natOrder) out.push(`:${c} - [0:0]`);
    for (const c of deleted) out.push(`:${c} - [0:0]`);
    for (const c of natOrder) for (const r of this.natRules.get(c) ?? []) out.push(r);
    for (const c of deleted) out.push(`-X ${c}`);
    out.push('COMMIT');
    return out.join('\n') + '\n';
  }
}

/** What syncProxyRules decides for one service port before writing its rules. */
interface PortPlan extends TrafficPlan {
  name: string;
  /** `-m tcp -p tcp`. */
  dport: string;
  ch: ReturnType<typeof serviceChains>;
  usesFw: boolean;
  intTarget: string;
  intComment: string;
  extTarget: string;
  extComment: string;
}

const quoted = (s: string): string => (/\s/.test(s) ? `"${s}"` : s);

function planPort(sp: KpServicePort): PortPlan {
  const name = servicePortName(sp);
  const proto = sp.protocol.toLowerCase();
  const ch = serviceChains(sp);
  const t = trafficPlan(sp, ch.svc, ch.svl);
  const hasEndpoints = t.hasEndpoints;
  const plan: PortPlan = { name, dport: `-m ${proto} -p ${proto}`, ch, ...t, usesFw: hasEndpoints && sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0, intTarget: '', intComment: '', extTarget: '', extComment: '' };
  if (!hasEndpoints) {
    plan.intTarget = plan.extTarget = 'REJECT';
    plan.intComment = plan.extComment = `"${name} has no endpoints"`;
  } else {
    if (!t.hasInternal) {
      plan.intTarget = 'DROP';
      plan.intComment = `"${name} has no local endpoints"`;
    }
    if (!t.hasExternal) {
      plan.extTarget = 'DROP';
      plan.extComment = `"${name} has no local endpoints"`;
    }
  }
  return plan;
}

/** The jumps from KUBE-SERVICES / KUBE-NODEPORTS / KUBE-EXTERNAL-SERVICES / KUBE-PROXY-FIREWALL for one port. */
function writeServiceJumps(w: RuleWriter, sp: KpServicePort, p: PortPlan, cfg: KpConfig): void {
  const { name, dport, ch } = p;
  const extChain = ch.ext;
  const lbChain = p.usesFw ? ch.fw : extChain;
  if (p.hasInternal) w.nat('KUBE-SERVICES', `-m comment --comment "${name} cluster IP" ${dport} -d ${sp.clusterIP} --dport ${sp.port} -j ${p.internalChain}`);
  else w.filter('KUBE-SERVICES', `-m comment --comment ${p.intComment} ${dport} -d ${sp.clusterIP} --dport ${sp.port} -j ${p.intTarget}`);
  for (const eip of sp.externalIPs) {
    if (p.hasEndpoints) w.nat('KUBE-SERVICES', `-m comment --comment "${name} external IP" ${dport} -d ${eip} --dport ${sp.port} -j ${extChain}`);
    if (!p.hasExternal) w.filter('KUBE-EXTERNAL-SERVICES', `-m comment --comment ${p.extComment} ${dport} -d ${eip} --dport ${sp.port} -j ${p.extTarget}`);
  }
  for (const lb of sp.loadBalancerIPs) {
    if (p.hasEndpoints) w.nat('KUBE-SERVICES', `-m comment --comment "${name} loadbalancer IP" ${dport} -d ${lb} --dport ${sp.port} -j ${lbChain}`);
    if (p.usesFw) w.filter('KUBE-PROXY-FIREWALL', `-m comment --comment "${name} traffic not accepted by ${ch.fw}" ${dport} -d ${lb} --dport ${sp.port} -j DROP`);
  }
  if (!p.hasExternal) {
    for (const lb of sp.loadBalancerIPs) w.filter('KUBE-EXTERNAL-SERVICES', `-m comment --comment ${p.extComment} ${dport} -d ${lb} --dport ${sp.port} -j ${p.extTarget}`);
  }
  if (sp.nodePort !== 0) {
    if (p.hasEndpoints) {
      if (cfg.localhostNodePorts) w.nat('KUBE-NODEPORTS', `-m comment --comment ${quoted(name)} ${dport} -d 127.0.0.0/8 --dport ${sp.nodePort} -m nfacct --nfacct-name localhost_nps_accepted_pkts -j ${extChain}`);
      w.nat('KUBE-NODEPORTS', `-m comment --comment ${quoted(name)} ${dport} --dport ${sp.nodePort} -j ${extChain}`);
    }
    if (!p.hasExternal) w.filter('KUBE-EXTERNAL-SERVICES', `-m comment --comment ${p.extComment} -m addrtype --dst-type LOCAL ${dport} --dport ${sp.nodePort} -j ${p.extTarget}`);
  }
  if (sp.healthCheckNodePort !== 0) w.filter('KUBE-NODEPORTS', `-m comment --comment "${name} health check node port" -m tcp -p tcp --dport ${sp.healthCheckNodePort} -j ACCEPT`);
}

/** The internal masquerade rule, KUBE-EXT-… and KUBE-FW-… of one port. */
function writePolicyChains(w: RuleWriter, sp: KpServicePort, p: PortPlan, cfg: KpConfig): void {
  const { name, ch } = p;
  const extChain = ch.ext;
  const clusterPolicy = ch.svc;
  if (p.hasInternal) {
    const args = `-m comment --comment "${name} cluster IP" ${p.dport} -d ${sp.clusterIP} --dport ${sp.port}`;
    const ifNotLocal = cfg.clusterCIDR ? `! -s ${cfg.clusterCIDR} ` : '';
    if (cfg.masqueradeAll) w.nat(p.internalChain, `${args} -j KUBE-MARK-MASQ`);
    else if (cfg.clusterCIDR) w.nat(p.internalChain, `${args} ${ifNotLocal}-j KUBE-MARK-MASQ`);
  }
  if (p.usesExt) {
    w.natChains.add(extChain);
    if (sp.externalTrafficPolicy !== 'Local') {
      w.nat(extChain, `-m comment --comment "masquerade traffic for ${name} external destinations" -j KUBE-MARK-MASQ`);
    } else {
      if (cfg.clusterCIDR) w.nat(extChain, `-m comment --comment "pod traffic for ${name} external destinations" -s ${cfg.clusterCIDR} -j ${clusterPolicy}`);
      w.nat(extChain, `-m comment --comment "masquerade LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`);
      w.nat(extChain, `-m comment --comment "route LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${clusterPolicy}`);
    }
    if (p.hasExternal) w.nat(extChain, `-j ${p.externalPolicy}`);
  }
  if (p.usesFw) {
    w.natChains.add(ch.fw);
    let fromNode = false;
    for (const cidr of sp.loadBalancerSourceRanges) {
      w.nat(ch.fw, `-m comment --comment "${name} loadbalancer IP" -s ${cidr} -j ${extChain}`);
      if (inCidr(cfg.nodeIP, cidr)) fromNode = true;
    }
    if (fromNode) for (const lb of sp.loadBalancerIPs) w.nat(ch.fw, `-m comment --comment "${name} loadbalancer IP" -s ${lb} -j ${extChain}`);
    w.nat(ch.fw, `-m comment --comment "other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL"`);
  }
}

/** KUBE-SVC-… / KUBE-SVL-… (random choice, affinity) and each KUBE-SEP-… (masquerade hairpin, DNAT). */
function writeEndpointChains(w: RuleWriter, sp: KpServicePort, p: PortPlan): void {
  const { name } = p;
  const toEndpoints = (chain: string, eps: KpEndpoint[]): void => {
    w.natChains.add(chain);
    if (sp.sessionAffinitySeconds !== null) {
      for (const ep of eps) w.nat(chain, `-m comment --comment "${name} -> ${ep.ip}:${ep.port}" -m recent --name ${endpointChain(sp, ep)} --rcheck --seconds ${sp.sessionAffinitySeconds} --reap -j ${endpointChain(sp, ep)}`);
    }
    eps.forEach((ep, i) => {
      const stat = i < eps.length - 1 ? ` -m statistic --mode random --probability ${probability(eps.length - i)}` : '';
      w.nat(chain, `-m comment --comment "${name} -> ${ep.ip}:${ep.port}"${stat} -j ${endpointChain(sp, ep)}`);
    });
  };
  if (p.cluster.length > 0) toEndpoints(p.ch.svc, p.cluster);
  if (p.local.length > 0) toEndpoints(p.ch.svl, p.local);
  for (const ep of p.all) {
    const sep = endpointChain(sp, ep);
    w.natChains.add(sep);
    w.nat(sep, `-m comment --comment ${quoted(name)} -s ${ep.ip} -j KUBE-MARK-MASQ`);
    const affinity = sp.sessionAffinitySeconds !== null ? ` -m recent --name ${sep} --set` : '';
    w.nat(sep, `-m comment --comment ${quoted(name)}${affinity} ${p.dport} -j DNAT --to-destination ${ep.ip}:${ep.port}`);
  }
}

/** The rules every sync ends with: the node-ports jump, masquerade marking, the firewall and forward rules. */
function writeTrailer(w: RuleWriter, cfg: KpConfig): void {
  w.nat('KUBE-SERVICES', '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  w.nat('KUBE-MARK-MASQ', '-j MARK --or-mark 0x4000');
  w.nat('KUBE-POSTROUTING', '-m mark ! --mark 0x4000/0x4000 -j RETURN');
  w.nat('KUBE-POSTROUTING', '-j MARK --xor-mark 0x4000');
  w.nat('KUBE-POSTROUTING', `-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${cfg.randomFully ? ' --random-fully' : ''}`);
  w.filter('KUBE-FIREWALL', '-m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP');
  w.filter('KUBE-FORWARD', '-m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP');
  w.filter('KUBE-FORWARD', '-m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT');
  w.filter('KUBE-FORWARD', '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');
}

/** The iptables-restore input kube-proxy writes (filter and nat tables) for these service ports (proxier.go syncProxyRules). */
export function renderKubeProxyRules(ports: KpServicePort[], cfg: KpConfig): string {
  return renderKubeProxyPartial(ports, cfg, null).text([]);
}

/**
 * A partial sync's restore input (proxier.go with MinimizeIPTablesRestore, kube-proxy >= 1.28): the
 * filter chains and the nat dispatch chains (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-MARK-MASQ,
 * KUBE-POSTROUTING) in full, as every sync writes them; the per-service chains (KUBE-SVC/SVL/EXT/FW/SEP)
 * only of the ports `changed` accepts (all of them when `changed` is null: a full sync); `text(deleted)`
 * adds the `deleted` chains (service chains the node holds that no port writes any more), flushed with
 * a chain line and deleted with -X. `active`: the nat chains the input writes (activeNATChains).
 */
export function renderKubeProxyPartial(ports: KpServicePort[], cfg: KpConfig, changed: ((sp: KpServicePort) => boolean) | null): { active: ReadonlySet<string>; written: number; text(deleted: readonly string[]): string } {
  const sorted = [...ports].sort((a, b) => {
    const x = servicePortName(a) + a.protocol;
    const y = servicePortName(b) + b.protocol;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const w = new RuleWriter();
  // The per-service chains of unchanged ports: computed, as the real proxier does, and thrown away.
  let skipped: RuleWriter | null = null;
  let written = 0;
  for (const sp of sorted) {
    const plan = planPort(sp);
    writeServiceJumps(w, sp, plan, cfg);
    let out = w;
    if (changed !== null && !changed(sp)) out = skipped ??= new RuleWriter();
    else written++;
    writePolicyChains(out, sp, plan, cfg);
    writeEndpointChains(out, sp, plan);
  }
  writeTrailer(w, cfg);
  return { active: w.natChains, written, text: (deleted) => w.text(deleted) };
}

/**
 * The chains and jumps kube-proxy and kubelet ensure outside the sync (iptablesJumpChains,
 * KUBE-FIREWALL, the canaries): the base every node's dump starts from.
 */
export function renderKubeProxyBase(): string {
  return [
    '*mangle',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-IPTABLES-HINT - [0:0]',
    ':KUBE-KUBELET-CANARY - [0:0]',
    ':KUBE-PROXY-CANARY - [0:0]',
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':KUBE-EXTERNAL-SERVICES - [0:0]',
    ':KUBE-FIREWALL - [0:0]',
    ':KUBE-FORWARD - [0:0]',
    ':KUBE-KUBELET-CANARY - [0:0]',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-PROXY-CANARY - [0:0]',
    ':KUBE-PROXY-FIREWALL - [0:0]',
    ':KUBE-SERVICES - [0:0]',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A INPUT -j KUBE-FIREWALL',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -j KUBE-FIREWALL',
    'COMMIT',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-KUBELET-CANARY - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-PROXY-CANARY - [0:0]',
    ':KUBE-SERVICES - [0:0]',
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    'COMMIT',
  ].join('\n') + '\n';
}
