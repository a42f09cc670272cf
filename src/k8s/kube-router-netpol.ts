// k8s/kube-router-netpol — kube-router's network policy controller (`kube-router --run-router=false
// --run-service-proxy=false --run-firewall=true`, the "flannel + kube-router for policy" DaemonSet) on
// every node: the ip sets and filter-table rules it writes (cloudnativelabs/kube-router
// pkg/controllers/netpol: npc_iptables.go, policy.go, pod.go, utils.go; pkg/utils/ipset.go). Layer: k8s
// (imports core, netfilter, wire, k8s).
//
//   INPUT / FORWARD / OUTPUT ── rule 1 "kube-router netpol - <uuid>" ──▶ KUBE-ROUTER-INPUT / -FORWARD / -OUTPUT
//     KUBE-ROUTER-INPUT: RETURN for the service CIDR and LOCAL node ports (tcp, udp, sctp)
//     per local pod: -d POD (in) / -s POD (out) ──▶ KUBE-POD-FW-<hash>
//       KUBE-NWPLCY-COMMON (INVALID DROP, RELATED,ESTABLISHED ACCEPT, ICMP echo-request / unreachable /
//       time-exceeded ACCEPT), "from local node" ACCEPT, KUBE-NWPLCY-DEFAULT (MARK 0x10000) for a direction
//       no policy selects, KUBE-NWPLCY-<hash> of each policy selecting the pod (its rules MARK 0x10000 and
//       RETURN on a match of the KUBE-SRC-/KUBE-DST- sets and ports), then for an unmarked packet NFLOG
//       group 100 and REJECT (icmp-port-unreachable), the 0x10000 mark cleared, 0x20000 set
//     ──▶ KUBE-NWPLCY-TAIL (ACCEPT on 0x20000), and the chain's own ACCEPT on 0x20000
//
// A full sync (fullPolicySync) renders every chain anew, named after the sync's version (its start in
// Unix nanoseconds: chain names change at each sync), restores the ip sets (a TMP- set per type filled,
// swapped in, flushed; stale KUBE-SRC-/KUBE-DST- sets destroyed) and the whole filter table with
// iptables-restore (no --noflush, no -c: every filter chain's counters restart at 0; the nat and mangle
// tables, kube-proxy's and flannel's, are not touched). Syncs are requested by the Pod, Namespace and
// NetworkPolicy event handlers (a pod whose phase, IP or labels change, added or deleted) and every
// --iptables-sync-period (5 min); one runs at a time, one more waits (the request channel holds one).
// Not modelled: --netpol-default-deny (kube-router-local-pods), IPv6, the nftables backend, external
// IP / load-balancer IP range RETURNs (no --service-external-ip-range), the ICMP NFLOG messages going
// anywhere (NFLOG and -m limit load and do nothing). A frame bridged between two pods of a node passes
// the pod chains twice, by the plain -d / -s jump and by the `--physdev-is-bridged` one, as in the kernel
// (netfilter/ext/physdev, set by net/br-netfilter).
import { createHash } from 'node:crypto';
import type { Simulator } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import { parseIptablesSave } from '../netfilter/iptables-save.js';
import { canonicalize, isBuiltinChain, type Chain, type Ruleset, type Table } from '../netfilter/rules.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import { objectMeta, type ApiObject, type Pod } from './api/objects.js';
import type { ApiStore } from './api/store.js';
import type { ClusterNode, ClusterPod } from './cluster.js';
import { labelSelectorMatches, type LabelSelector, type NetworkPolicy, type PolicyPeer, type PolicyPort } from './network-policy.js';

/** kube-router's default --iptables-sync-period. */
export const NPC_SYNC_PERIOD_NS = 300e9;
/**
 * How long a full sync takes from its start (when it reads the informers) to its iptables-restore:
 * iptables-save, building the rules, ipset restore, iptables-restore (kube-router's
 * controller_iptables_sync_time on a small node).
 */
export const NPC_SYNC_DURATION_NS = 200e6;
/** Simulated time 0 as Unix nanoseconds (2025-01-01T00:00Z, as k8s/cron.ts): the sync version. */
const EPOCH_NS = 1735689600n * 1000000000n;

/** A pod as the controller's pod informer holds it. */
export interface NpcPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** status.podIP (dotted). */
  ip: string;
  nodeName: string;
  hostNetwork: boolean;
  /** Phase Succeeded or Failed. */
  finished: boolean;
  /** The containers' ports (named ports resolve against them). */
  ports: { name: string | undefined; protocol: string; containerPort: number }[];
}

/** What a sync reads: the informers' objects and the node's flags. */
export interface NpcInput {
  policies: readonly NetworkPolicy[];
  pods: readonly NpcPod[];
  namespaces: ReadonlyMap<string, Record<string, string>>;
  /** --service-cluster-ip-range. */
  serviceCIDR: string;
  /** --service-node-port-range as kube-router prints it (30000:32767). */
  nodePortRange: string;
}

/** One node's sync: the ipset restore input and the filter rules (kube-router's chains and the three jumps to them). */
export interface NpcRendered {
  ipsets: string;
  filter: string;
  /** The KUBE-SRC- / KUBE-DST- sets this sync uses (others are destroyed after the restore). */
  activeSets: string[];
}

const b32 = (buf: Buffer): string => {
  // encoding/base32 StdEncoding (RFC 4648 alphabet, padded).
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  let bits = 0;
  let v = 0;
  for (const b of buf) {
    v = (v << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += A[(v >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += A[(v << (5 - bits)) & 31];
  return out.padEnd(Math.ceil(out.length / 8) * 8, '=');
};
const sha256b32 = (s: string): string => b32(createHash('sha256').update(s).digest()).slice(0, 16);

const FAMILY = 'IPv4';
/** podFirewallChainName. */
export const podFirewallChain = (ns: string, pod: string, version: string): string => `KUBE-POD-FW-${sha256b32(ns + pod + version)}`;
/** networkPolicyChainName. */
export const policyChain = (ns: string, pol: string, version: string): string => `KUBE-NWPLCY-${sha256b32(ns + pol + version + FAMILY)}`;
const targetSet = (prefix: 'KUBE-SRC-' | 'KUBE-DST-', ns: string, pol: string): string => prefix + sha256b32(ns + pol + FAMILY);
const indexedSet = (prefix: 'KUBE-SRC-' | 'KUBE-DST-', ns: string, pol: string, what: string): string => prefix + sha256b32(ns + pol + what);
/** addUUIDForRuleSpec: the rule's comment gets " - " and a hash of its chain and arguments. */
const uuid = (chain: string, args: string[]): string => sha256b32(chain + args.join(''));
const q = (s: string): string => `"${s}"`;

const isActionable = (p: NpcPod): boolean => !p.finished && p.ip !== '' && !p.hostNetwork;

/** One resolved rule port: protocol, port ('' for all) and end port. */
interface ProtoPort {
  protocol: string;
  port: string;
  endport: string;
}
/** A named port resolved: the pods' IPs that have it, with its number. */
interface NamedEps extends ProtoPort {
  ips: string[];
}
type NamedPorts = Map<string, Map<string, Map<string, NamedEps>>>;

/** grabNamedPortFromPod. */
function grabNamedPorts(pod: NpcPod, into: NamedPorts): void {
  for (const p of pod.ports) {
    const name = p.name ?? '';
    let byProto = into.get(name);
    if (!byProto) into.set(name, (byProto = new Map()));
    let byNum = byProto.get(p.protocol);
    if (!byNum) byProto.set(p.protocol, (byNum = new Map()));
    const num = String(p.containerPort);
    const eps = byNum.get(num);
    if (eps) eps.ips.push(pod.ip);
    else byNum.set(num, { ips: [pod.ip], protocol: p.protocol, port: num, endport: '' });
  }
}

/** processNetworkPolicyPorts: numeric ports (with endPort) and named ports resolved against `named`. */
function policyPorts(ports: readonly PolicyPort[], named: NamedPorts): { numeric: ProtoPort[]; named: NamedEps[] } {
  const numeric: ProtoPort[] = [];
  const out: NamedEps[] = [];
  for (const p of ports) {
    if (p.port === undefined) numeric.push({ protocol: p.protocol, port: '', endport: '' });
    else if (typeof p.port === 'number') numeric.push({ protocol: p.protocol, port: String(p.port), endport: p.endPort !== undefined && p.endPort >= p.port ? String(p.endPort) : '' });
    else for (const eps of named.get(p.port)?.get(p.protocol)?.values() ?? []) out.push(eps);
  }
  return { numeric, named: out };
}

/** The rules of a sync, as kube-router writes its iptables-restore buffer (per chain, in order). */
class FilterBuffer {
  readonly chains: string[] = [];
  readonly rules = new Map<string, string[]>();
  chain(name: string): void {
    if (!this.rules.has(name)) {
      this.chains.push(name);
      this.rules.set(name, []);
    }
  }
  append(chain: string, rule: string): void {
    this.chain(chain);
    this.rules.get(chain)!.push(rule);
  }
  insertFirst(chain: string, rule: string): void {
    this.chain(chain);
    this.rules.get(chain)!.unshift(rule);
  }
}

/** Renders one node's sync (the ipset restore and the filter rules), for the pods on `nodeName`. */
export function renderKubeRouterSync(input: NpcInput, nodeName: string, version: string): NpcRendered {
  const b = new SyncBuilder(input, version);
  b.topLevelChains();
  // buildNetworkPoliciesInfo + syncNetworkPolicyChains.
  for (const pol of input.policies) b.policyChain(pol);
  // syncPodFirewallChains: the pods on this node.
  for (const pod of input.pods) if (pod.nodeName === nodeName && isActionable(pod)) b.podFirewall(pod);
  // ensureTailChainPosition, ensureExplicitAccept.
  for (const chain of TOP_CHAINS) {
    b.buf.append(chain, `-m comment --comment ${q('rule to explicitly handle traffic for network policies ACCEPT/REJECT decision')} -j KUBE-NWPLCY-TAIL`);
    b.buf.append(chain, `-m comment --comment ${q('rule to explicitly ACCEPT traffic that comply to network policies')} -m mark --mark 0x20000/0x20000 -j ACCEPT`);
  }
  let filter = '*filter\n';
  for (const c of b.buf.chains) if (!isBuiltinChain('filter', c)) filter += `:${c} - [0:0]\n`;
  for (const c of b.buf.chains) for (const r of b.buf.rules.get(c)!) filter += `-A ${c} ${r}\n`;
  filter += 'COMMIT\n';
  return { ipsets: ipsetRestore(b.sets), filter, activeSets: [...b.sets.keys()].sort() };
}

/** kube-router's top-level chains, each jumped to from its built-in chain. */
const TOP = { INPUT: 'KUBE-ROUTER-INPUT', FORWARD: 'KUBE-ROUTER-FORWARD', OUTPUT: 'KUBE-ROUTER-OUTPUT' } as const;
const TOP_CHAINS = [TOP.INPUT, TOP.FORWARD, TOP.OUTPUT] as const;
type SetType = 'hash:ip' | 'hash:net';
const ipEntries = (ips: readonly string[]): string[] => ips.map((ip) => `${ip} timeout 0`);

/** One sync's iptables-restore buffer and ip sets, built as kube-router's fullPolicySync writes them. */
class SyncBuilder {
  readonly buf = new FilterBuffer();
  readonly sets = new Map<string, { type: SetType; entries: string[] }>();
  /** Per policy, the actionable pods its podSelector selects. */
  private readonly targets = new Map<NetworkPolicy, NpcPod[]>();

  constructor(
    private readonly input: NpcInput,
    private readonly version: string,
  ) {}

  private refresh(name: string, type: SetType, entries: string[]): string {
    this.sets.set(name, { type, entries });
    return name;
  }

  private podsIn(ns: string, sel: LabelSelector | null): NpcPod[] {
    return this.input.pods.filter((p) => p.namespace === ns && (sel === null || labelSelectorMatches(sel, p.labels)));
  }

  /** ensureTopLevelChains (rules inserted by iptables commands, kept across syncs by iptables-save), the default, common and tail chains. */
  topLevelChains(): void {
    const buf = this.buf;
    for (const [builtin, custom] of Object.entries(TOP)) {
      const args = ['-m', 'comment', '--comment', 'kube-router netpol', '-j', custom];
      buf.append(builtin, `-m comment --comment ${q(`kube-router netpol - ${uuid(builtin, args)}`)} -j ${custom}`);
      buf.chain(custom);
    }
    const cidr = this.input.serviceCIDR;
    const svcArgs = ['-m', 'comment', '--comment', 'allow traffic to primary/secondary cluster IP range', '-d', cidr, '-j', 'RETURN'];
    buf.append(TOP.INPUT, `-d ${cidr} -m comment --comment ${q(`allow traffic to primary/secondary cluster IP range - ${uuid(TOP.INPUT, svcArgs)}`)} -j RETURN`);
    const range = this.input.nodePortRange;
    for (const [proto, up] of [['tcp', 'TCP'], ['udp', 'UDP'], ['sctp', 'SCTP']] as const) {
      const comment = `allow LOCAL ${up} traffic to node ports`;
      const args = ['-p', proto, '-m', 'comment', '--comment', comment, '-m', 'addrtype', '--dst-type', 'LOCAL', '-m', 'multiport', '--dports', range, '-j', 'RETURN'];
      buf.append(TOP.INPUT, `-p ${proto} -m comment --comment ${q(`${comment} - ${uuid(TOP.INPUT, args)}`)} -m addrtype --dst-type LOCAL -m multiport --dports ${range} -j RETURN`);
    }
    // ensureDefaultNetworkPolicyChain, ensureCommonPolicyChain, ensureDefaultTailChain.
    buf.append('KUBE-NWPLCY-DEFAULT', `-m comment --comment ${q('rule to mark traffic matching a network policy')} -j MARK --set-xmark 0x10000/0x10000`);
    buf.append('KUBE-NWPLCY-COMMON', `-m comment --comment ${q('rule to drop invalid state for pod')} -m conntrack --ctstate INVALID -j DROP`);
    buf.append('KUBE-NWPLCY-COMMON', `-m comment --comment ${q('rule for stateful firewall for pod')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    for (const [type, comment] of [['echo-request', 'allow icmp echo requests'], ['destination-unreachable', 'allow icmp destination unreachable messages'], ['time-exceeded', 'allow icmp time exceeded messages']] as const) {
      buf.append('KUBE-NWPLCY-COMMON', `-p icmp -m comment --comment ${q(comment)} -m icmp --icmp-type ${type} -j ACCEPT`);
    }
    buf.append('KUBE-NWPLCY-TAIL', `-m comment --comment ${q('accept netpol-ok')} -m mark --mark 0x20000/0x20000 -j ACCEPT`);
  }

  /** evalPodPeer. */
  private evalPeer(pol: NetworkPolicy, peer: PolicyPeer): NpcPod[] {
    if (peer.namespaceSelector !== undefined) {
      const out: NpcPod[] = [];
      for (const [ns, labels] of this.input.namespaces) if (labelSelectorMatches(peer.namespaceSelector, labels)) out.push(...this.podsIn(ns, peer.podSelector ?? null));
      return out;
    }
    return peer.podSelector !== undefined ? this.podsIn(pol.namespace, peer.podSelector) : [];
  }

  /** evalIPBlockPeer: a /0 as two /1s, the excepts as nomatch elements. */
  private ipBlockEntries(peers: readonly PolicyPeer[]): string[] {
    const out: string[] = [];
    const half = (c: string, nomatch: string): string[] => (c.endsWith('/0') ? [`0.0.0.0/1 timeout 0${nomatch}`, `128.0.0.0/1 timeout 0${nomatch}`] : [`${c} timeout 0${nomatch}`]);
    for (const p of peers) {
      if (p.ipBlock === undefined || p.podSelector !== undefined || p.namespaceSelector !== undefined) continue;
      out.push(...half(p.ipBlock.cidr, ''));
      for (const e of p.ipBlock.except) out.push(...half(e, ' nomatch'));
    }
    return out;
  }

  /** appendRuleToPolicyChain: MARK, then RETURN once marked. */
  private rule(pol: NetworkPolicy, kind: string, src: string, dst: string, pp: ProtoPort | null): void {
    const chain = policyChain(pol.namespace, pol.name, this.version);
    let r = '';
    if (pp && pp.protocol !== '') r += `-p ${pp.protocol.toLowerCase()} `;
    r += `-m comment --comment ${q(`${pol.namespace}/${pol.name} ${kind}`.slice(0, 120))}`;
    if (src !== '') r += ` -m set --match-set ${src} src`;
    if (dst !== '') r += ` -m set --match-set ${dst} dst`;
    if (pp && pp.port !== '') r += ` -m ${pp.protocol.toLowerCase()} --dport ${pp.endport !== '' ? `${pp.port}:${pp.endport}` : pp.port}`;
    this.buf.append(chain, `${r} -j MARK --set-xmark 0x10000/0x10000`);
    this.buf.append(chain, `${r} -m mark --mark 0x10000/0x10000 -j RETURN`);
  }

  /** A rule's own set (policyIndexed…IPSetName: the policy, the rule's index and what it holds), refreshed with `entries`. */
  private ruleSet(pol: NetworkPolicy, prefix: 'KUBE-SRC-' | 'KUBE-DST-', what: string, type: SetType, entries: string[]): string {
    return this.refresh(indexedSet(prefix, pol.namespace, pol.name, what), type, entries);
  }

  /** One policy's chain and sets. */
  policyChain(pol: NetworkPolicy): void {
    this.buf.chain(policyChain(pol.namespace, pol.name, this.version));
    const target = this.podsIn(pol.namespace, pol.podSelector).filter(isActionable);
    this.targets.set(pol, target);
    const ips = ipEntries(target.map((p) => p.ip));
    if (pol.policyTypes.ingress || !pol.policyTypes.egress) this.ingress(pol, target, this.refresh(targetSet('KUBE-DST-', pol.namespace, pol.name), 'hash:ip', ips));
    if (pol.policyTypes.egress) this.egress(pol, this.refresh(targetSet('KUBE-SRC-', pol.namespace, pol.name), 'hash:ip', ips));
  }

  /** processIngressRules. */
  private ingress(pol: NetworkPolicy, target: readonly NpcPod[], dstSet: string): void {
    const named: NamedPorts = new Map();
    for (const p of target) grabNamedPorts(p, named);
    (pol.ingress ?? []).forEach((ir, i) => {
      const allSources = ir.from.length === 0;
      const srcPods = allSources ? [] : ir.from.flatMap((peer) => this.evalPeer(pol, peer)).filter(isActionable);
      const ports = ir.ports.length === 0 ? null : policyPorts(ir.ports, named);
      const namedSet = (j: number, eps: NamedEps, type: SetType): string => this.ruleSet(pol, 'KUBE-DST-', `ingressrule${i}${j}${FAMILY}namedport`, type, ipEntries(eps.ips));
      const rules = (kind: string, src: string, type: SetType): void => {
        if (!ports) return this.rule(pol, kind, src, dstSet, null);
        for (const pp of ports.numeric) this.rule(pol, kind, src, dstSet, pp);
        ports.named.forEach((eps, j) => this.rule(pol, `${kind} np`, src, namedSet(j, eps, type), eps));
      };
      if (srcPods.length > 0) rules('ingress pods', this.ruleSet(pol, 'KUBE-SRC-', `ingressrule${i}${FAMILY}pod`, 'hash:ip', ipEntries(srcPods.map((p) => p.ip))), 'hash:ip');
      if (allSources) rules('ingress any', '', 'hash:ip');
      const blocks = allSources ? [] : this.ipBlockEntries(ir.from);
      if (blocks.length > 0) rules('ingress cidr', this.ruleSet(pol, 'KUBE-SRC-', `ingressrule${i}${FAMILY}ipblock`, 'hash:net', blocks), 'hash:net');
    });
  }

  /** processEgressRules. */
  private egress(pol: NetworkPolicy, srcSet: string): void {
    (pol.egress ?? []).forEach((er, i) => {
      const allDests = er.to.length === 0;
      const named: NamedPorts = new Map();
      let dstPods: NpcPod[] = [];
      if (allDests) {
        if (er.ports.some((p) => typeof p.port === 'string')) for (const p of this.podsIn(pol.namespace, null).filter(isActionable)) grabNamedPorts(p, named);
      } else {
        dstPods = er.to.flatMap((peer) => this.evalPeer(pol, peer)).filter(isActionable);
        for (const p of dstPods) grabNamedPorts(p, named);
      }
      const ports = er.ports.length === 0 ? null : policyPorts(er.ports, named);
      if (dstPods.length > 0) {
        const dstSet = this.ruleSet(pol, 'KUBE-DST-', `egressrule${i}${FAMILY}pod`, 'hash:ip', ipEntries(dstPods.map((p) => p.ip)));
        if (!ports) this.rule(pol, 'egress pods', srcSet, dstSet, null);
        for (const pp of ports?.numeric ?? []) this.rule(pol, 'egress pods', srcSet, dstSet, pp);
        (ports?.named ?? []).forEach((eps, j) => this.rule(pol, 'egress pods np', srcSet, this.ruleSet(pol, 'KUBE-DST-', `egressrule${i}${j}${FAMILY}namedport`, 'hash:ip', ipEntries(eps.ips)), eps));
      }
      if (allDests && ports) {
        for (const pp of ports.numeric) this.rule(pol, 'egress any', srcSet, '', pp);
        for (const eps of ports.named) this.rule(pol, 'egress any np', srcSet, '', eps);
      }
      if (allDests && !ports) this.rule(pol, 'egress any', srcSet, '', null);
      const blocks = allDests ? [] : this.ipBlockEntries(er.to);
      if (blocks.length > 0) {
        const cidrSet = this.ruleSet(pol, 'KUBE-DST-', `egressrule${i}${FAMILY}ipblock`, 'hash:net', blocks);
        if (ports) for (const pp of ports.numeric) this.rule(pol, 'egress cidr', srcSet, cidrSet, pp);
        else this.rule(pol, 'egress cidr', srcSet, cidrSet, null);
      }
    });
  }

  /** A local pod's KUBE-POD-FW chain and the jumps to it (setupPodNetpolRules, intercept…Traffic, dropUnmarkedTrafficRules). */
  podFirewall(pod: NpcPod): void {
    const buf = this.buf;
    const fw = podFirewallChain(pod.namespace, pod.name, this.version);
    const ip = `${pod.ip}/32`;
    buf.chain(fw);
    let ingress = false;
    let egress = false;
    // Every rule of setupPodNetpolRules is inserted at position 1.
    for (const pol of this.input.policies) {
      if (!this.targets.get(pol)!.includes(pod)) continue;
      const jump = `-m comment --comment ${q(`${pol.namespace}/${pol.name} policy`)} -j ${policyChain(pol.namespace, pol.name, this.version)}`;
      if (pol.policyTypes.ingress && pol.policyTypes.egress) {
        ingress = egress = true;
        buf.insertFirst(fw, jump);
      } else if (pol.policyTypes.egress) {
        egress = true;
        buf.insertFirst(fw, `-s ${ip} ${jump}`);
      } else {
        ingress = true;
        buf.insertFirst(fw, `-d ${ip} ${jump}`);
      }
    }
    if (!ingress) buf.insertFirst(fw, `-d ${ip} -m comment --comment ${q('default ingress')} -j KUBE-NWPLCY-DEFAULT`);
    if (!egress) buf.insertFirst(fw, `-s ${ip} -m comment --comment ${q('default egress')} -j KUBE-NWPLCY-DEFAULT`);
    buf.insertFirst(fw, `-d ${ip} -m comment --comment ${q('from local node')} -m addrtype --src-type LOCAL -j ACCEPT`);
    buf.insertFirst(fw, `-m comment --comment ${q('common netpol rules')} -j KUBE-NWPLCY-COMMON`);
    const id = (kind: string): string => q(`${pod.namespace}/${pod.name} ${kind}`.slice(0, 120));
    buf.append(TOP.FORWARD, `-d ${ip} -m comment --comment ${id('in')} -j ${fw}`);
    buf.append(TOP.OUTPUT, `-d ${ip} -m comment --comment ${id('in')} -j ${fw}`);
    buf.append(TOP.FORWARD, `-d ${ip} -m physdev --physdev-is-bridged -m comment --comment ${id('in')} -j ${fw}`);
    for (const chain of TOP_CHAINS) buf.append(chain, `-s ${ip} -m comment --comment ${id('out')} -j ${fw}`);
    buf.append(TOP.FORWARD, `-s ${ip} -m physdev --physdev-is-bridged -m comment --comment ${id('out')} -j ${fw}`);
    // dropUnmarkedTrafficRules, then the netpol-ok mark.
    buf.append(fw, `-m comment --comment ${id('log-drop')} -m mark ! --mark 0x10000/0x10000 -m limit --limit 10/min --limit-burst 10 -j NFLOG --nflog-group 100`);
    buf.append(fw, `-m comment --comment ${id('reject')} -m mark ! --mark 0x10000/0x10000 -j REJECT --reject-with icmp-port-unreachable`);
    buf.append(fw, '-j MARK --set-xmark 0x0/0x10000');
    buf.append(fw, `-m comment --comment ${q('set netpol-ok mark')} -j MARK --set-xmark 0x20000/0x20000`);
  }
}

/** BuildIPSetRestore: per set (sorted by name) a TMP- set of its options filled, the set created, swapped, the TMP- set flushed; TMP- sets destroyed last. */
function ipsetRestore(sets: ReadonlyMap<string, { type: string; entries: string[] }>): string {
  const tmp = new Map<string, string>();
  let out = '';
  for (const name of [...sets.keys()].sort()) {
    const s = sets.get(name)!;
    const opts = `${s.type} timeout 0`;
    let t = tmp.get(opts);
    if (t === undefined) {
      t = `TMP-${b32(createHash('sha1').update(`tmp:${opts}`).digest().subarray(0, 10))}`;
      tmp.set(opts, t);
      out += `create ${t} ${opts}\nflush ${t}\n`;
    }
    for (const e of s.entries) out += `add ${t} ${e}\n`;
    out += `create ${name} ${opts}\nswap ${t} ${name}\nflush ${t}\n`;
  }
  for (const t of [...tmp.values()].sort()) out += `destroy ${t}\n`;
  return out;
}

const OWN = /^KUBE-(ROUTER-|NWPLCY-|POD-FW-)/;

/**
 * The node's rules after kube-router's restore of `rendered` (its `filter`, parsed) into `live`: the
 * filter table keeps every other chain and rule (kube-proxy's, flanneld's), its built-in INPUT /
 * FORWARD / OUTPUT start with kube-router's jumps, and kube-router's chains are those of this sync.
 */
export function withKubeRouter(live: Ruleset, mine: Ruleset): Ruleset {
  const kr = mine.tables[0]!;
  const jumps = new Map(kr.chains.filter((c) => isBuiltinChain('filter', c.name)).map((c) => [c.name, c.rules]));
  const own = kr.chains.filter((c) => !isBuiltinChain('filter', c.name));
  const tables: Table[] = live.tables.slice();
  let at = tables.findIndex((t) => t.name === 'filter');
  if (at < 0) at = tables.push({ name: 'filter', chains: [], header: [], footer: [] }) - 1;
  const filter = tables[at]!;
  const chains: Chain[] = [];
  for (const c of filter.chains) {
    if (OWN.test(c.name)) continue;
    const pre = jumps.get(c.name);
    if (pre === undefined) chains.push(c);
    else {
      chains.push({ ...c, rules: [...pre, ...c.rules.filter((r) => !(r.target?.kind === 'jump' && OWN.test(r.target.chain)))] });
      jumps.delete(c.name);
    }
  }
  for (const [name, rules] of jumps) chains.push({ name, policy: 'ACCEPT', counters: { packets: 0, bytes: 0 }, rules });
  tables[at] = { ...filter, chains: [...chains, ...own] };
  return canonicalize({ tables, ruleCounters: live.ruleCounters });
}

/** `rs` with the filter table's chain and rule counters at 0 (iptables-restore without -c). */
function zeroFilterCounters(rs: Ruleset): Ruleset {
  const zero = { packets: 0, bytes: 0 };
  return { ...rs, tables: rs.tables.map((t) => (t.name !== 'filter' ? t : { ...t, chains: t.chains.map((c) => ({ ...c, counters: zero, rules: c.rules.map((r) => ({ ...r, counters: zero })) })) })) };
}

/** The sync version: the sync's start as Unix nanoseconds (strconv.FormatInt(start.UnixNano(), 10)). */
export function syncVersion(now: TimeNs): string {
  return (EPOCH_NS + BigInt(now)).toString();
}

/** A NetworkPolicy as the API server stores it (spec: the admitted policy, network-policy.ts). */
export interface NetworkPolicyObject extends ApiObject {
  kind: 'NetworkPolicy';
  spec: NetworkPolicy;
}

/** The API server's NetworkPolicy and Namespace objects (the manifests'), which the controller's informers list and watch. */
export function storePolicyObjects(api: ApiStore, policies: readonly NetworkPolicy[], namespaces: ReadonlyMap<string, Record<string, string>>): void {
  for (const [name, labels] of namespaces) api.create({ kind: 'Namespace', metadata: objectMeta('', name, labels) });
  for (const p of policies) api.create<NetworkPolicyObject>({ kind: 'NetworkPolicy', metadata: objectMeta(p.namespace, p.name), spec: p });
}

/** kube-router's policy controller on every node of a cluster. */
export class KubeRouterNetpol {
  /** Per node, the filter rules of its last sync (parsed), applied again whenever kube-proxy rebuilds the node's rules. */
  private readonly mine = new Map<string, Ruleset>();
  private busyUntil = -1;
  private queued = false;
  /** Syncs done (tests, the timeline). */
  syncs = 0;

  constructor(
    private readonly sim: Simulator,
    private readonly api: ApiStore,
    private readonly nodes: readonly ClusterNode[],
    private readonly pods: readonly ClusterPod[],
    private readonly serviceCIDR: string,
    private readonly record: (what: string) => void,
    /** Called with a node whose rules the controller replaced (kube-proxy's view of its live rules follows). */
    private readonly onLoaded: (node: ClusterNode, rs: Ruleset) => void,
  ) {}

  /** Run(): the first full sync now, the Pod, Namespace and NetworkPolicy event handlers, the periodic sync. */
  start(): void {
    // newNetworkPolicyEventHandler: every add, update and delete.
    this.api.watch('NetworkPolicy', () => this.requestFullSync());
    // newNamespaceEventHandler: a namespace with labels added or deleted, or its labels changed.
    this.api.watch('Namespace', (events) => {
      for (const e of events) {
        const labels = (o: ApiObject | null): string => JSON.stringify(o?.metadata.labels ?? {});
        if (e.type === 'MODIFIED' ? labels(e.old) !== labels(e.object) : Object.keys(e.object.metadata.labels).length > 0) return this.requestFullSync();
      }
    });
    this.api.watch('Pod', (events) => {
      for (const e of events) {
        const o = e.object as Pod;
        const old = e.old as Pod | null;
        // newPodEventHandler: AddFunc (actionable pods), UpdateFunc (isPodUpdateNetPolRelevant), DeleteFunc.
        const relevant =
          e.type === 'DELETED' ||
          (e.type === 'ADDED' && !o.spec.hostNetwork && o.status.phase === undefined) ||
          (old !== null && (old.status.phase !== o.status.phase || old.status.podIP !== o.status.podIP || old.spec.nodeName !== o.spec.nodeName || JSON.stringify(old.metadata.labels) !== JSON.stringify(o.metadata.labels)));
        if (relevant) return this.requestFullSync();
      }
    });
    this.fullSync();
    // The ticker is housekeeping: it keeps no run going once the traffic and faults are done.
    const tick = (): void => {
      this.requestFullSync();
      this.sim.scheduleBackground(NPC_SYNC_PERIOD_NS, tick);
    };
    this.sim.scheduleBackground(NPC_SYNC_PERIOD_NS, tick);
  }

  /** RequestFullSync: starts a sync, or queues one behind the running sync (one at most). */
  requestFullSync(): void {
    if (this.queued) return;
    const now = this.sim.now;
    if (this.busyUntil > now) {
      this.queued = true;
      this.sim.schedule(this.busyUntil - now, () => {
        this.queued = false;
        this.fullSync();
      });
      return;
    }
    this.fullSync();
  }

  /** fullPolicySync: reads the informers now, restores the node's ip sets and filter table when it ends. */
  private fullSync(): void {
    const version = syncVersion(this.sim.now);
    const input = this.input();
    const rendered = this.nodes.map((n) => renderKubeRouterSync(input, n.name, version));
    const apply = (): void => {
      this.nodes.forEach((n, i) => this.load(n, rendered[i]!));
      this.syncs++;
      this.record(`kube-router: network policy sync ${version} (${input.policies.length} policies, ${input.pods.filter(isActionable).length} pods)`);
    };
    // The first sync (Run) happens with the node's rules in place; later ones take their time.
    if (this.syncs === 0 && this.busyUntil < 0) {
      this.busyUntil = this.sim.now;
      apply();
      return;
    }
    this.busyUntil = this.sim.now + NPC_SYNC_DURATION_NS;
    this.sim.schedule(NPC_SYNC_DURATION_NS, apply);
  }

  private input(): NpcInput {
    const byKey = new Map(this.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
    const pods: NpcPod[] = [];
    for (const o of this.api.list('Pod') as Pod[]) {
      const cp = byKey.get(`${o.metadata.namespace}/${o.metadata.name}`);
      pods.push({
        namespace: o.metadata.namespace,
        name: o.metadata.name,
        labels: o.metadata.labels,
        ip: o.status.podIP === 0 ? '' : formatIpv4(o.status.podIP),
        nodeName: o.spec.nodeName,
        hostNetwork: o.spec.hostNetwork,
        finished: o.status.phase !== undefined,
        ports: cp ? cp.spec.containers.flatMap((c) => c.ports.map((p) => ({ name: p.name, protocol: p.protocol, containerPort: p.containerPort }))) : [],
      });
    }
    const policies = (this.api.list('NetworkPolicy') as NetworkPolicyObject[]).map((o) => o.spec);
    const namespaces = new Map((this.api.list('Namespace') as ApiObject[]).map((o) => [o.metadata.name, o.metadata.labels]));
    return { policies, pods, namespaces, serviceCIDR: this.serviceCIDR, nodePortRange: '30000:32767' };
  }

  private load(node: ClusterNode, r: NpcRendered): void {
    const nf = node.ns.enableNetfilter();
    const ipsets = nf.ipsets;
    ipsets.restore(r.ipsets, { file: `kube-router-ipset@${node.name}`, exist: true });
    const mine = parseIptablesSave(r.filter, `kube-router@${node.name}`);
    this.mine.set(node.name, mine);
    const merged = zeroFilterCounters(withKubeRouter(nf.ruleset(), mine));
    // iptables-restore -T filter without --noflush or -c: the filter table flushed and written anew, every
    // counter of it 0 (kube-proxy's and flanneld's chains too); the other tables keep theirs. (A load
    // without the filter table first, so that no filter chain carries its counts over.)
    nf.loadNoflush({ tables: merged.tables.filter((t) => t.name !== 'filter'), ruleCounters: merged.ruleCounters }, null);
    nf.loadNoflush(merged, null);
    // cleanupStaleIPSets: kube-router's sets of earlier syncs that this one no longer uses.
    const stale = ipsets.save().split('\n').flatMap((l) => /^create (KUBE-(?:SRC|DST)-\S+) /.exec(l)?.[1] ?? []).filter((s) => !r.activeSets.includes(s));
    if (stale.length > 0) ipsets.restore(stale.map((s) => `destroy ${s}`).join('\n'), { file: `kube-router-ipset@${node.name}` });
    this.onLoaded(node, merged);
  }

  /** The node's rules with kube-router's as its last sync left them (kube-proxy's rebuilds keep them). */
  overlay(node: ClusterNode, rs: Ruleset): Ruleset {
    const mine = this.mine.get(node.name);
    return mine === undefined ? rs : withKubeRouter(rs, mine);
  }
}
