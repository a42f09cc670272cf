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
function base32(buf: Uint8Array): string {
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
  return base32(createHash('sha256').update(s).digest()).slice(0, 16);
}

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

/** Which endpoints kube-proxy uses (CategorizeEndpoints): ready ones, else serving-terminating ones. */
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

/** The iptables-restore input kube-proxy writes (filter and nat tables) for these service ports. */
export function renderKubeProxyRules(ports: KpServicePort[], cfg: KpConfig): string {
  const filterRules: string[] = [];
  const natChains = new Set<string>(['KUBE-MARK-MASQ', 'KUBE-POSTROUTING']);
  const natRules = new Map<string, string[]>();
  const nat = (chain: string, rule: string): void => {
    let l = natRules.get(chain);
    if (!l) natRules.set(chain, (l = []));
    l.push(`-A ${chain} ${rule}`.trimEnd());
  };
  const q = (s: string): string => (/\s/.test(s) ? `"${s}"` : s);
  const sorted = [...ports].sort((a, b) => {
    const x = servicePortName(a) + a.protocol;
    const y = servicePortName(b) + b.protocol;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const filterBy = new Map<string, string[]>();
  const filter = (chain: string, rule: string): void => {
    let l = filterBy.get(chain);
    if (!l) filterBy.set(chain, (l = []));
    l.push(`-A ${chain} ${rule}`);
  };
  const ifNotLocal = cfg.clusterCIDR ? `! -s ${cfg.clusterCIDR} ` : '';

  for (const sp of sorted) {
    const name = servicePortName(sp);
    const proto = sp.protocol.toLowerCase();
    const ch = serviceChains(sp);
    const { cluster, local, all } = categorize(sp);
    const hasEndpoints = all.length > 0;
    const clusterPolicy = ch.svc;
    const localPolicy = ch.svl;
    const usesClusterPolicy = cluster.length > 0;
    const usesLocalPolicy = local.length > 0;
    let internalChain = clusterPolicy;
    let hasInternal = hasEndpoints;
    if (sp.internalTrafficPolicy === 'Local') {
      internalChain = localPolicy;
      if (local.length === 0) hasInternal = false;
    }
    let externalPolicy = clusterPolicy;
    let hasExternal = hasEndpoints;
    if (sp.externalTrafficPolicy === 'Local') {
      externalPolicy = localPolicy;
      if (local.length === 0) hasExternal = false;
    }
    const extChain = ch.ext;
    const usesExt = hasEndpoints && externallyAccessible(sp);
    const usesFw = hasEndpoints && sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
    const lbChain = usesFw ? ch.fw : extChain;
    let intTarget = '';
    let intComment = '';
    let extTarget = '';
    let extComment = '';
    if (!hasEndpoints) {
      intTarget = extTarget = 'REJECT';
      intComment = extComment = `"${name} has no endpoints"`;
    } else {
      if (!hasInternal) {
        intTarget = 'DROP';
        intComment = `"${name} has no local endpoints"`;
      }
      if (!hasExternal) {
        extTarget = 'DROP';
        extComment = `"${name} has no local endpoints"`;
      }
    }
    const dport = `-m ${proto} -p ${proto}`;
    if (hasInternal) nat('KUBE-SERVICES', `-m comment --comment "${name} cluster IP" ${dport} -d ${sp.clusterIP} --dport ${sp.port} -j ${internalChain}`);
    else filter('KUBE-SERVICES', `-m comment --comment ${intComment} ${dport} -d ${sp.clusterIP} --dport ${sp.port} -j ${intTarget}`);
    for (const eip of sp.externalIPs) {
      if (hasEndpoints) nat('KUBE-SERVICES', `-m comment --comment "${name} external IP" ${dport} -d ${eip} --dport ${sp.port} -j ${extChain}`);
      if (!hasExternal) filter('KUBE-EXTERNAL-SERVICES', `-m comment --comment ${extComment} ${dport} -d ${eip} --dport ${sp.port} -j ${extTarget}`);
    }
    for (const lb of sp.loadBalancerIPs) {
      if (hasEndpoints) nat('KUBE-SERVICES', `-m comment --comment "${name} loadbalancer IP" ${dport} -d ${lb} --dport ${sp.port} -j ${lbChain}`);
      if (usesFw) filter('KUBE-PROXY-FIREWALL', `-m comment --comment "${name} traffic not accepted by ${ch.fw}" ${dport} -d ${lb} --dport ${sp.port} -j DROP`);
    }
    if (!hasExternal) {
      for (const lb of sp.loadBalancerIPs) filter('KUBE-EXTERNAL-SERVICES', `-m comment --comment ${extComment} ${dport} -d ${lb} --dport ${sp.port} -j ${extTarget}`);
    }
    if (sp.nodePort !== 0) {
      if (hasEndpoints) {
        if (cfg.localhostNodePorts) nat('KUBE-NODEPORTS', `-m comment --comment ${q(name)} ${dport} -d 127.0.0.0/8 --dport ${sp.nodePort} -m nfacct --nfacct-name localhost_nps_accepted_pkts -j ${extChain}`);
        nat('KUBE-NODEPORTS', `-m comment --comment ${q(name)} ${dport} --dport ${sp.nodePort} -j ${extChain}`);
      }
      if (!hasExternal) filter('KUBE-EXTERNAL-SERVICES', `-m comment --comment ${extComment} -m addrtype --dst-type LOCAL ${dport} --dport ${sp.nodePort} -j ${extTarget}`);
    }
    if (sp.healthCheckNodePort !== 0) filter('KUBE-NODEPORTS', `-m comment --comment "${name} health check node port" -m tcp -p tcp --dport ${sp.healthCheckNodePort} -j ACCEPT`);

    if (hasInternal) {
      const args = `-m comment --comment "${name} cluster IP" ${dport} -d ${sp.clusterIP} --dport ${sp.port}`;
      if (cfg.masqueradeAll) nat(internalChain, `${args} -j KUBE-MARK-MASQ`);
      else if (cfg.clusterCIDR) nat(internalChain, `${args} ${ifNotLocal}-j KUBE-MARK-MASQ`);
    }
    if (usesExt) {
      natChains.add(extChain);
      if (sp.externalTrafficPolicy !== 'Local') {
        nat(extChain, `-m comment --comment "masquerade traffic for ${name} external destinations" -j KUBE-MARK-MASQ`);
      } else {
        if (cfg.clusterCIDR) nat(extChain, `-m comment --comment "pod traffic for ${name} external destinations" -s ${cfg.clusterCIDR} -j ${clusterPolicy}`);
        nat(extChain, `-m comment --comment "masquerade LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ`);
        nat(extChain, `-m comment --comment "route LOCAL traffic for ${name} external destinations" -m addrtype --src-type LOCAL -j ${clusterPolicy}`);
      }
      if (hasExternal) nat(extChain, `-j ${externalPolicy}`);
    }
    if (usesFw) {
      natChains.add(ch.fw);
      let fromNode = false;
      for (const cidr of sp.loadBalancerSourceRanges) {
        nat(ch.fw, `-m comment --comment "${name} loadbalancer IP" -s ${cidr} -j ${extChain}`);
        if (inCidr(cfg.nodeIP, cidr)) fromNode = true;
      }
      if (fromNode) for (const lb of sp.loadBalancerIPs) nat(ch.fw, `-m comment --comment "${name} loadbalancer IP" -s ${lb} -j ${extChain}`);
      nat(ch.fw, `-m comment --comment "other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL"`);
    }
    const toEndpoints = (chain: string, eps: KpEndpoint[]): void => {
      natChains.add(chain);
      if (sp.sessionAffinitySeconds !== null) {
        for (const ep of eps) nat(chain, `-m comment --comment "${name} -> ${ep.ip}:${ep.port}" -m recent --name ${endpointChain(sp, ep)} --rcheck --seconds ${sp.sessionAffinitySeconds} --reap -j ${endpointChain(sp, ep)}`);
      }
      eps.forEach((ep, i) => {
        const stat = i < eps.length - 1 ? ` -m statistic --mode random --probability ${probability(eps.length - i)}` : '';
        nat(chain, `-m comment --comment "${name} -> ${ep.ip}:${ep.port}"${stat} -j ${endpointChain(sp, ep)}`);
      });
    };
    if (usesClusterPolicy) toEndpoints(clusterPolicy, cluster);
    if (usesLocalPolicy) toEndpoints(localPolicy, local);
    for (const ep of all) {
      const sep = endpointChain(sp, ep);
      natChains.add(sep);
      nat(sep, `-m comment --comment ${q(name)} -s ${ep.ip} -j KUBE-MARK-MASQ`);
      const affinity = sp.sessionAffinitySeconds !== null ? ` -m recent --name ${sep} --set` : '';
      nat(sep, `-m comment --comment ${q(name)}${affinity} ${dport} -j DNAT --to-destination ${ep.ip}:${ep.port}`);
    }
  }
  nat('KUBE-SERVICES', '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
  nat('KUBE-MARK-MASQ', '-j MARK --or-mark 0x4000');
  nat('KUBE-POSTROUTING', '-m mark ! --mark 0x4000/0x4000 -j RETURN');
  nat('KUBE-POSTROUTING', '-j MARK --xor-mark 0x4000');
  nat('KUBE-POSTROUTING', `-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${cfg.randomFully ? ' --random-fully' : ''}`);
  filter('KUBE-FIREWALL', '-m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP');
  filter('KUBE-FORWARD', '-m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP');
  filter('KUBE-FORWARD', '-m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT');
  filter('KUBE-FORWARD', '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT');

  const out: string[] = ['*filter'];
  const filterChains = ['KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FIREWALL', 'KUBE-FORWARD', 'KUBE-PROXY-FIREWALL'];
  for (const c of filterChains) out.push(`:${c} - [0:0]`);
  for (const c of filterChains) out.push(...(filterBy.get(c) ?? []));
  out.push('COMMIT', '*nat');
  const rest = [...natChains].filter((c) => c !== 'KUBE-NODEPORTS' && c !== 'KUBE-SERVICES').sort();
  const natOrder = ['KUBE-NODEPORTS', 'KUBE-SERVICES', ...rest];
  for (const c of natOrder) out.push(`:${c} - [0:0]`);
  for (const c of natOrder) out.push(...(natRules.get(c) ?? []));
  out.push('COMMIT');
  void filterRules;
  return out.join('\n') + '\n';
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
