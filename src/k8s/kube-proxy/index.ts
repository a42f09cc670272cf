// k8s/kube-proxy — programs every node's netfilter from the services, as kube-proxy does on each
// node: the base chains kubelet and kube-proxy ensure, then the sync's rules loaded with
// `iptables-restore --noflush`. Layer: k8s.
import { parseIptablesSave, renderRule, restoreInto } from '../../netfilter/iptables-save.js';
import { assumeCanonical, canonicalize, isBuiltinChain, type Chain, type Ruleset, type Table } from '../../netfilter/rules.js';
import { formatIpv4 } from '../../wire/ipv4-addr.js';
import type { ClusterNode } from '../cluster.js';
import type { ServiceView } from '../services.js';
import type { IpvsScheduler } from '../../netfilter/ipvs.js';
import { programIpvsNode } from './ipvs.js';
import { endpointChain, renderKubeProxyBase, renderKubeProxyPartial, renderKubeProxyRules, serviceChains, type KpConfig, type KpServicePort } from './iptables.js';
import { renderNftablesSync, type StaleChains } from './nftables.js';

/** kube-proxy settings of a scenario. */
export interface KubeProxyOptions {
  mode: 'iptables' | 'nftables' | 'ipvs';
  /** IPVS scheduler (ipvs mode). */
  scheduler: IpvsScheduler;
  clusterCIDR: string;
  /** --service-cluster-ip-range (nftables mode drops traffic to its unallocated addresses). */
  serviceCIDR?: string;
  masqueradeAll: boolean;
  randomFully: boolean;
}

/**
 * Endpoints in the order kube-proxy's endpoint-slice cache hands them to the proxier (endpointsMapFromEndpointInfo
 * sorts by Endpoint.String(), "ip:port", as strings: 10.244.10.2:80 before 10.244.2.2:80), so a KUBE-SVC chain lists
 * them in that order whatever the EndpointSlice's. Sorts in place.
 */
function byEndpoint<T extends { ip: string; port: number }>(eps: T[]): T[] {
  if (eps.length < 2) return eps;
  const key = (e: T) => `${e.ip}:${e.port}`;
  return eps.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** The service ports kube-proxy on `node` sees (ClusterIP services with an IP; not headless, not ExternalName). */
export function servicePortsFor(node: Pick<ClusterNode, 'name'>, services: ServiceView[]): KpServicePort[] {
  const out: KpServicePort[] = [];
  for (const s of services) {
    if (s.clusterIP === null) continue;
    for (const p of s.ports) {
      out.push({
        namespace: s.namespace,
        name: s.name,
        portName: p.name,
        protocol: p.protocol,
        clusterIP: formatIpv4(s.clusterIP),
        port: p.port,
        nodePort: p.nodePort ?? 0,
        externalIPs: s.externalIPs.map(formatIpv4),
        loadBalancerIPs: s.loadBalancerIPs.map(formatIpv4),
        loadBalancerSourceRanges: s.loadBalancerSourceRanges ?? [],
        sessionAffinitySeconds: s.sessionAffinityTimeout,
        externalTrafficPolicy: s.externalTrafficPolicy,
        internalTrafficPolicy: s.internalTrafficPolicy,
        healthCheckNodePort: s.healthCheckNodePort ?? 0,
        endpoints: byEndpoint(p.endpoints.map((e) => ({ ip: formatIpv4(e.ip), port: e.port, ready: e.ready, serving: e.serving, terminating: e.terminating, isLocal: e.nodeName === node.name }))),
      });
    }
  }
  return out;
}

/** The restore text kube-proxy (iptables mode) writes on `node`. */
export function kubeProxyRestoreText(node: ClusterNode, services: ServiceView[], opts: KubeProxyOptions): string {
  const cfg: KpConfig = { clusterCIDR: opts.clusterCIDR, masqueradeAll: opts.masqueradeAll, randomFully: opts.randomFully, localhostNodePorts: true, nodeIP: formatIpv4(node.ip) };
  return renderKubeProxyRules(servicePortsFor(node, services), cfg);
}

/**
 * What of a node its kube-proxy rules depend on (iptables.ts renders the rest from the Services alone):
 * which endpoints are local, for Services with a Local traffic policy, and the node's IP, for Services
 * with loadBalancerSourceRanges. Nodes with the same key get the same text, so it is rendered and
 * parsed once for them all (and their compiled chains are shared, netfilter/compiled.ts).
 */
export class NodeVariants {
  /** Per port that depends on the node: its endpoints' node names and whether it has source ranges. */
  private readonly sensitive: Array<{ nodeNames: Array<string | null>; ranges: boolean }> = [];

  constructor(services: ServiceView[]) {
    // A node named "" (no endpoint's nodeName): only the fields that do not depend on the node are read.
    const neutral = servicePortsFor({ name: '' }, services);
    let i = 0;
    for (const s of services) {
      if (s.clusterIP === null) continue;
      for (const p of s.ports) {
        const sp = neutral[i++]!;
        const local = sp.internalTrafficPolicy === 'Local' || sp.externalTrafficPolicy === 'Local';
        const ranges = sp.loadBalancerSourceRanges.length > 0;
        if (local || ranges) this.sensitive.push({ nodeNames: local ? p.endpoints.map((e) => e.nodeName) : [], ranges });
      }
    }
  }

  /** The key of `node`: "" when no Service depends on the node. */
  key(node: ClusterNode): string {
    let key = '';
    for (let i = 0; i < this.sensitive.length; i++) {
      const p = this.sensitive[i]!;
      key += `${i}${p.ranges ? `@${node.ip}` : ''}:`;
      for (let e = 0; e < p.nodeNames.length; e++) if (p.nodeNames[e] === node.name) key += `${e},`;
    }
    return key;
  }
}

/**
 * Chains of several node variants by content, so the chains two variants write alike are one object
 * (and one compiled chain, netfilter/compiled.ts, unless a jump leads to a chain that differs).
 */
class ChainPool {
  private readonly chains = new Map<string, Chain>();

  /** `rs` with every chain already seen (same table, name and rules) replaced by the one seen first. */
  intern(rs: Ruleset): Ruleset {
    return {
      ...rs,
      tables: rs.tables.map((t) => ({
        ...t,
        chains: t.chains.map((c) => {
          let key = `${t.name} ${c.name} ${c.policy} ${c.counters.packets}:${c.counters.bytes}`;
          for (const r of c.rules) key += `\n${renderRule(c.name, r)}`;
          const have = this.chains.get(key);
          if (have !== undefined) return have;
          this.chains.set(key, c);
          return c;
        }),
      })),
    };
  }
}

/**
 * Loads every node's rules: kubelet's and kube-proxy's base chains, then `preload(node)` (the CNI's
 * own rules, e.g. flannel's masquerade), then kube-proxy's sync (iptables mode), or its virtual
 * services, ip sets and rules (IPVS mode). nftables mode: `nftChanged` makes the transaction a
 * partial one (only the chains of the ports it accepts written, renderNftablesSync).
 */
export function programKubeProxy(nodes: ClusterNode[], services: ServiceView[], opts: KubeProxyOptions, preload: (node: ClusterNode) => string | null = () => null, nftChanged: ((sp: KpServicePort) => boolean) | null = null): void {
  // Most nodes get the same text (only Local traffic policies and LB source ranges differ per node):
  // render and parse each distinct text once. Rulesets are not mutated by restoreInto or load.
  const parsed = new Map<string, Ruleset>();
  const parse = (text: string, file: string): Ruleset => {
    let rs = parsed.get(text);
    if (rs === undefined) parsed.set(text, (rs = parseIptablesSave(text, file)));
    return rs;
  };
  const variants = opts.mode === 'ipvs' ? null : new NodeVariants(services);
  const syncs = new Map<string, Ruleset>();
  /** Per variant, the first node's restore: later nodes' are derived from it (patchedRestore). */
  const firsts = new Map<string, FirstRestore>();
  const pool = new ChainPool();
  for (const node of nodes) {
    let rs = parse(renderKubeProxyBase(), 'kube-proxy-base');
    const pre = preload(node);
    liveRules.delete(node);
    if (pre !== null) rs = restoreInto(rs, parse(pre, `cni@${node.name}`), true);
    const other = overlays.get(node);
    if (other !== undefined) rs = other(rs);
    if (variants === null) {
      programIpvsNode(node, services, { clusterCIDR: opts.clusterCIDR, randomFully: opts.randomFully, scheduler: opts.scheduler }, rs);
      continue;
    }
    if (opts.mode === 'nftables') {
      // kube-proxy leaves iptables to kubelet and the CNI; its own rules are one nft transaction.
      // Kubelet's and the CNI's chains keep their counters (kube-proxy writes none of them).
      node.ns.enableNetfilter().loadNoflush(rs, null);
      programNftablesNode(node, services, opts, nftChanged);
      continue;
    }
    const key = variants.key(node);
    let sync = syncs.get(key);
    if (sync === undefined) {
      sync = userChainsSorted(parseIptablesSave(kubeProxyRestoreText(node, services, opts), `kube-proxy@${node.name}`));
      // A second variant: chains with the same rules as another variant's become that chain object.
      if (syncs.size === 1) pool.intern(syncs.values().next().value!);
      if (syncs.size >= 1) sync = pool.intern(sync);
      syncs.set(key, sync);
    }
    const first = firsts.get(key);
    const derived = first === undefined ? null : patchedRestore(first, rs, sync);
    let merged: Ruleset;
    if (derived !== null) merged = materialize(derived);
    else {
      merged = restoreInto(rs, sync, true);
      if (first === undefined) firsts.set(key, { live: rs, merged, index: null });
    }
    // Restored --noflush: kube-proxy's chains start at 0, kubelet's and the CNI's keep their counters.
    node.ns.enableNetfilter().loadNoflush(merged, sync);
    // A derived node keeps only its own chains and where they go (its full ruleset, one array of all
    // chains per table, is rebuilt when a partial sync needs it): 1,000 nodes × 10,000 Services would
    // otherwise keep a million-entry copy of the same chain arrays.
    liveRules.set(node, derived !== null ? { rs: null, derived, cni: pre } : { rs: merged, derived: null, cni: pre });
  }
}

/**
 * Per node (iptables mode): the ruleset its last sync loaded — in full, or as the chains a derived
 * restore (patchedRestore) put into its variant's first ruleset — and the CNI rules text it was built with.
 */
const liveRules = new WeakMap<ClusterNode, { rs: Ruleset | null; derived: DerivedRestore | null; cni: string | null }>();

/**
 * Per node, the rules another agent keeps in the node's tables by its own restores (kube-router's
 * policy controller, k8s/kube-router-netpol.ts): applied to the base and CNI rules before each full sync.
 */
const overlays = new WeakMap<ClusterNode, (rs: Ruleset) => Ruleset>();

/** Registers the rules another agent keeps on `node` (see `overlays`). */
export function setRulesOverlay(node: ClusterNode, overlay: (rs: Ruleset) => Ruleset): void {
  overlays.set(node, overlay);
}

/**
 * Another agent restored `rs` into the node's tables: a later partial sync starts from it (as
 * kube-proxy's iptables-save of the live tables would), not from kube-proxy's own last restore.
 */
export function liveRulesReplaced(node: ClusterNode, rs: Ruleset): void {
  const live = liveRules.get(node);
  if (live !== undefined) liveRules.set(node, { rs, derived: null, cni: live.cni });
}

/** The ruleset a node's last sync loaded. */
function liveRuleset(live: { rs: Ruleset | null; derived: DerivedRestore | null }): Ruleset {
  return live.rs ?? materialize(live.derived!);
}

/** The Services a partial sync rewrites: their keys (`namespace/name`) and their views at the last sync (none for new ones). */
export interface ServiceChanges {
  changed: ReadonlySet<string>;
  previous: ReadonlyMap<string, ServiceView>;
}

/**
 * A partial sync (iptables mode, kube-proxy >= 1.28's MinimizeIPTablesRestore): on each node, the
 * restore input holds the filter chains and the nat dispatch chains, the chains of the Services in
 * `changes` only, and the chains of those Services' previous views the node holds but no longer
 * needs (flushed and deleted); it is restored with --noflush into the node's live rules, so every
 * other chain stays as the last sync left it (the same objects: their compiled chains, netfilter/
 * compiled.ts, are reused). The result is the ruleset a full sync writes. Nodes without a live
 * ruleset from an earlier sync, or whose CNI rules changed, get a full sync.
 */
export function programKubeProxyPartial(nodes: ClusterNode[], services: ServiceView[], changes: ServiceChanges, opts: KubeProxyOptions, preload: (node: ClusterNode) => string | null = () => null): void {
  if (opts.mode !== 'iptables') throw new Error(`programKubeProxyPartial: ${opts.mode} mode`);
  const full: ClusterNode[] = [];
  const variants = new NodeVariants(services);
  const isChanged = (sp: KpServicePort): boolean => changes.changed.has(`${sp.namespace}/${sp.name}`);
  // Every chain the changed Services' previous views may have written on some node: the candidates for deletion.
  const candidates = new Set<string>();
  for (const key of changes.changed) {
    const prev = changes.previous.get(key);
    if (prev === undefined) continue;
    for (const sp of servicePortsFor({ name: '' }, [prev])) {
      const ch = serviceChains(sp);
      candidates.add(ch.svc).add(ch.svl).add(ch.ext).add(ch.fw);
      for (const ep of sp.endpoints) candidates.add(endpointChain(sp, ep));
    }
  }
  /** Per variant: its partial input (without deletions) and the input with each list of deletions. */
  const rendered = new Map<string, { r: ReturnType<typeof renderKubeProxyPartial>; texts: Map<string, string> }>();
  const parsed = new Map<string, Ruleset>();
  /**
   * The first ruleset this sync loaded, which later nodes are kept against when they list the same
   * chains in the same places (nodes of one variant differ only in their own chains; of other variants,
   * also in their Local-policy chains' rules).
   */
  let base: Ruleset | null = null;
  for (const node of nodes) {
    const live = liveRules.get(node);
    const pre = preload(node);
    if (live === undefined || live.cni !== pre) {
      full.push(node);
      continue;
    }
    const key = variants.key(node);
    let v = rendered.get(key);
    if (v === undefined) {
      const cfg: KpConfig = { clusterCIDR: opts.clusterCIDR, masqueradeAll: opts.masqueradeAll, randomFully: opts.randomFully, localhostNodePorts: true, nodeIP: formatIpv4(node.ip) };
      rendered.set(key, (v = { r: renderKubeProxyPartial(servicePortsFor(node, services), cfg, isChanged), texts: new Map() }));
    }
    // The candidates this node holds that the input does not write (proxier.go: iptables-save of nat, isServiceChainName, not active).
    const liveRs = liveRuleset(live);
    const nat = liveRs.tables.find((t) => t.name === 'nat');
    const gone: string[] = [];
    if (nat !== undefined) for (const c of candidates) if (!v.r.active.has(c) && userChainIndex(nat, c) >= 0) gone.push(c);
    gone.sort();
    const gkey = gone.join(' ');
    let text = v.texts.get(gkey);
    if (text === undefined) v.texts.set(gkey, (text = v.r.text(gone)));
    let input = parsed.get(text);
    if (input === undefined) {
      const rs = liveRs;
      const existing = (table: string, chain: string): boolean => {
        const t = rs.tables.find((x) => x.name === table);
        return t !== undefined && userChainIndex(t, chain) >= 0;
      };
      parsed.set(text, (input = parseIptablesSave(text, `kube-proxy@${node.name}`, existing)));
    }
    const merged = restoreUserChains(liveRs, input) ?? restoreInto(liveRs, input, true);
    // Only the chains `input` writes start at 0: the unchanged Services' chains keep their counters.
    node.ns.enableNetfilter().loadNoflush(merged, input);
    const derived = base === null ? null : deriveFrom(base, merged);
    base ??= merged;
    liveRules.set(node, derived !== null ? { rs: null, derived, cni: pre } : { rs: merged, derived: null, cni: pre });
  }
  if (full.length > 0) programKubeProxy(full, services, opts, preload);
}

/** Where `name` is among the user chains of a canonical table (sorted by name after the built-ins): its index, or -(insertion point) - 1. */
function userChainIndex(t: Table, name: string): number {
  const c = t.chains;
  let lo = 0;
  while (lo < c.length && isBuiltinChain(t.name, c[lo]!.name)) lo++;
  let hi = c.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const n = c[mid]!.name;
    if (n === name) return mid;
    if (n < name) lo = mid + 1;
    else hi = mid;
  }
  return -lo - 1;
}

/**
 * restoreInto(live, input, true) for a canonical `live` and an input of user chains only, every
 * table of which `live` holds: each table's chains copied once, the input's deletions spliced out
 * and its chains put in place by binary search (the canonical order kept), instead of a merge by
 * name and a sort of every chain. Null when the input does not fit (restore in full then).
 */
function restoreUserChains(live: Ruleset, input: Ruleset): Ruleset | null {
  if (canonicalize(live) !== live) return null;
  const tables = live.tables.slice();
  for (const it of input.tables) {
    const at = tables.findIndex((t) => t.name === it.name);
    if (at < 0) return null;
    const lt = tables[at]!;
    const t: Table = { ...lt, chains: lt.chains.slice() };
    for (const name of it.deletedChains ?? []) {
      if (isBuiltinChain(it.name, name)) return null;
      const i = userChainIndex(t, name);
      if (i >= 0) t.chains.splice(i, 1);
    }
    for (const c of it.chains) {
      if (isBuiltinChain(it.name, c.name)) return null;
      const i = userChainIndex(t, c.name);
      if (i >= 0) t.chains[i] = c;
      else t.chains.splice(-i - 1, 0, c);
    }
    tables[at] = t;
  }
  return assumeCanonical({ tables, ruleCounters: live.ruleCounters || input.ruleCounters });
}

/** One node's restore of a sync: what it restored into (base and CNI rules) and the result. */
interface FirstRestore {
  live: Ruleset;
  merged: Ruleset;
  /** Per table of `merged`, each chain's index by name. */
  index: Map<string, Map<string, number>> | null;
}

/**
 * A node's ruleset kept as another's with, per table, some chains replaced by this node's (`chains[k]`
 * at index `at[k]`): its variant's first at a full sync (patchedRestore), a partial sync's first node
 * at a partial one (deriveFrom).
 */
interface DerivedRestore {
  base: Ruleset;
  /** Per table of `base`, in its order: this node's table (its header and its own few chains) and where they go. */
  tables: { own: Table; at: number[] }[];
  ruleCounters: boolean;
}

/**
 * `rs` kept as `base` with its own chains in their places, when the two list the same chains by name in
 * the same places (a partial sync restores the same input into every node of a variant, so they differ
 * only in the node's own chains); null when they do not, or when too many differ for the form to pay.
 */
function deriveFrom(base: Ruleset, rs: Ruleset): DerivedRestore | null {
  if (base.tables.length !== rs.tables.length) return null;
  const tables: DerivedRestore['tables'] = [];
  for (let i = 0; i < rs.tables.length; i++) {
    const t = rs.tables[i]!;
    const bc = base.tables[i]!.chains;
    if (base.tables[i]!.name !== t.name || bc.length !== t.chains.length) return null;
    const own: Chain[] = [];
    const at: number[] = [];
    for (let k = 0; k < bc.length; k++) {
      const c = t.chains[k]!;
      if (c === bc[k]) continue;
      if (c.name !== bc[k]!.name || own.length * 4 >= bc.length + 64) return null;
      own.push(c);
      at.push(k);
    }
    tables.push({ own: { ...t, chains: own }, at });
  }
  return { base, tables, ruleCounters: rs.ruleCounters };
}

/** The full ruleset of a derived restore: the same chain objects in the same places each time. */
function materialize(d: DerivedRestore): Ruleset {
  const tables: Table[] = [];
  for (let i = 0; i < d.tables.length; i++) {
    const { own, at } = d.tables[i]!;
    const chains = d.base.tables[i]!.chains.slice();
    for (let k = 0; k < at.length; k++) chains[at[k]!] = own.chains[k]!;
    tables.push({ ...own, chains });
  }
  return assumeCanonical({ tables, ruleCounters: d.ruleCounters });
}

/** The chain names of each table of `rs`, as one comparable string. */
function chainNames(rs: Ruleset): string {
  return rs.tables.map((t) => `${t.name}:${t.chains.map((c) => c.name).sort().join(',')}`).join(';');
}

const chainsByNameCache = new WeakMap<Table, Map<string, Chain>>();
function chainsByNameMemo(t: Table): Map<string, Chain> {
  let m = chainsByNameCache.get(t);
  if (m === undefined) chainsByNameCache.set(t, (m = new Map(t.chains.map((c) => [c.name, c]))));
  return m;
}

const namesOf = new WeakMap<Ruleset, string>();
function chainNamesMemo(rs: Ruleset): string {
  let s = namesOf.get(rs);
  if (s === undefined) namesOf.set(rs, (s = chainNames(rs)));
  return s;
}

/**
 * restoreInto(live, sync, true) for a node whose live rules (base and CNI rules: a few chains) have the
 * same chain names as `first`'s: restoreInto decides each chain by its name alone (the live chain and
 * the input's chain of that name), so the result is `first.merged` with the chains of those names
 * replaced by this node's, computed by restoring into `live` only the sync's chains of those names (and
 * the built-in ones), returned as those chains and their places (materialize() gives the ruleset). Null
 * when the names differ or the sync adds a table `live` lacks (restore in full then). Each node then
 * costs its own few chains, not a merge and sort of the sync's tens of thousands of chains nor a copy
 * of its table arrays kept.
 */
function patchedRestore(first: FirstRestore, live: Ruleset, sync: Ruleset): DerivedRestore | null {
  // A canonical live ruleset (restoreInto's results are) holds every built-in chain, which mini relies on.
  if (canonicalize(live) !== live || chainNamesMemo(live) !== chainNamesMemo(first.live)) return null;
  const mini: Ruleset = { ruleCounters: sync.ruleCounters, tables: [] };
  for (const st of sync.tables) {
    const lt = live.tables.find((t) => t.name === st.name);
    if (lt === undefined) return null;
    // The live table holds every built-in chain (it is canonical), so its names cover the sync's built-ins.
    const byName = chainsByNameMemo(st);
    const chains: Chain[] = [];
    for (const lc of lt.chains) {
      const c = byName.get(lc.name);
      if (c !== undefined) chains.push(c);
    }
    mini.tables.push({ ...st, chains });
  }
  const small = restoreInto(live, mini, true);
  if (first.index === null) {
    first.index = new Map(first.merged.tables.map((t) => [t.name, new Map(t.chains.map((c, i) => [c.name, i]))]));
  }
  const tables: DerivedRestore['tables'] = [];
  for (const mt of first.merged.tables) {
    const t = small.tables.find((x) => x.name === mt.name);
    if (t === undefined) return null;
    const index: Map<string, number> = first.index.get(mt.name)!;
    const at: number[] = [];
    for (const c of t.chains) {
      const i = index.get(c.name);
      if (i === undefined) return null;
      at.push(i);
    }
    tables.push({ own: t, at });
  }
  if (tables.length !== small.tables.length) return null;
  return { base: first.merged, tables, ruleCounters: small.ruleCounters || sync.ruleCounters };
}

/**
 * `rs` with each table's user chains in name order (built-in chains first, as declared): the order
 * restoreInto's canonical result lists them in, so merging it into every node's few chains is a merge
 * of two sorted runs instead of a sort of tens of thousands of chains per node. The restore is the same.
 */
function userChainsSorted(rs: Ruleset): Ruleset {
  return {
    ...rs,
    tables: rs.tables.map((t) => {
      const builtins = t.chains.filter((c) => isBuiltinChain(t.name, c.name));
      const users = t.chains.filter((c) => !isBuiltinChain(t.name, c.name));
      users.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return { ...t, chains: [...builtins, ...users] };
    }),
  };
}

/** Per node: service chains a sync left behind, and since when (flushed now, deleted a second later). */
const staleChains = new WeakMap<ClusterNode, StaleChains>();

/** One nftables-mode sync on `node`: the transaction kube-proxy sends to `nft -f`, applied atomically. */
export function programNftablesNode(node: ClusterNode, services: ServiceView[], opts: KubeProxyOptions, changed: ((sp: KpServicePort) => boolean) | null = null): string {
  const nf = node.ns.enableNetfilter();
  const table = nf.nft.table('kube-proxy');
  const existing = table ? { chains: [...table.chains.keys()], sets: [...table.sets.keys()] } : null;
  let stale = staleChains.get(node);
  if (stale === undefined) staleChains.set(node, (stale = new Map()));
  const cfg = { clusterCIDR: opts.clusterCIDR, masqueradeAll: opts.masqueradeAll, randomFully: opts.randomFully, localhostNodePorts: false, nodeIP: formatIpv4(node.ip), serviceCIDR: opts.serviceCIDR ?? '' };
  const now = node.ns.sim.now;
  const text = renderNftablesSync(servicePortsFor(node, services), cfg, existing, stale, now, changed);
  nf.nft.apply(text, `kube-proxy@${node.name}`, now);
  return text;
}
