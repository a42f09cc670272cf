// netfilter/rules — the iptables rule model: tables, chains, rules, matches and targets as typed
// records (never strings). Layer: netfilter (imports core, wire, packet only; this file imports only wire's address helpers
// and, as types, the extension records of ext/). Mirrors the userspace view of
// include/uapi/linux/netfilter_ipv4/ip_tables.h (struct ipt_entry, ipt_ip); each extension's record
// lives in its own ext/<name>.ts, as in iptables/extensions/libxt_*.c. What iptables-save
// canonicalises (MARK --or-mark becomes --set-xmark, statistic probability becomes the kernel's u32)
// is canonicalised here at parse time, so render(parse(x)) prints what iptables-save would print.

import { formatIpv4, maskFromPrefix } from '../wire/ipv4-addr.js';
import type { Match, Target } from './ext/index.js';

/** The four IPv4 tables podwire models (security is not modelled). */
export const TABLE_NAMES = ['raw', 'mangle', 'nat', 'filter'] as const;
/** One of raw / mangle / nat / filter. */
export type TableName = (typeof TABLE_NAMES)[number];

/** Built-in chains of each table, in the order iptables-save prints them (net/ipv4/netfilter/iptable_*.c valid_hooks). */
export const BUILTIN_CHAINS = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
} as const satisfies Record<TableName, readonly string[]>;

/** True when `chain` is a built-in chain of `table`. */
export function isBuiltinChain(table: TableName, chain: string): boolean {
  return (BUILTIN_CHAINS[table] as readonly string[]).includes(chain);
}

/** Packet and byte counters (bytes count the IP total length, as the kernel's xt_counters do). */
export interface Counters {
  packets: number;
  bytes: number;
}

/** A value with iptables' `!` (inverted match) flag. */
export interface Neg<T> {
  neg: boolean;
  value: T;
}

/** IPv4 prefix: address already masked (iptables-save prints it masked). */
export interface Cidr {
  addr: number;
  prefix: number;
}

/** Inclusive port range; a single port has min === max. */
export interface PortRange {
  min: number;
  max: number;
}

/** Connection-tracking states as -m conntrack / -m state name them, in the order libxt_conntrack prints them. */
export const CT_STATE_NAMES = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'] as const;
/** One conntrack state name. */
export type CtStateName = (typeof CT_STATE_NAMES)[number];
/** Conntrack status bits as --ctstatus names them (libxt_conntrack print order). */
export const CT_STATUS_NAMES = ['EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED', 'NONE'] as const;
/** One conntrack status name. */
export type CtStatusName = (typeof CT_STATUS_NAMES)[number];

/** Address types of -m addrtype (net/netfilter/xt_addrtype.c), in libxt_addrtype print order. */
export const ADDR_TYPE_NAMES = [
  'UNSPEC', 'UNICAST', 'LOCAL', 'BROADCAST', 'ANYCAST', 'MULTICAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE',
] as const;
/** One address type name. */
export type AddrTypeName = (typeof ADDR_TYPE_NAMES)[number];

/** A match extension record (`-m NAME ...`): one variant per module registered in ext/index.ts. */
export type { Match };

/** What REJECT sends (libipt_REJECT.c names; the net layer emits it). */
export const REJECT_WITH = [
  'icmp-net-unreachable', 'icmp-host-unreachable', 'icmp-port-unreachable', 'icmp-proto-unreachable',
  'icmp-net-prohibited', 'icmp-host-prohibited', 'icmp-admin-prohibited', 'tcp-reset',
] as const;
/** One REJECT --reject-with value. */
export type RejectWith = (typeof REJECT_WITH)[number];

/** A NAT range: --to-destination / --to-source `ip[-ip][:port[-port]]`. */
export interface NatRange {
  minIp: number;
  maxIp: number;
  ports: PortRange | null;
}

/** A rule's target (`-j NAME ...` / `-g CHAIN`): one variant per target registered in ext/index.ts. */
export type { Target };

/** One rule (struct ipt_entry): the ipt_ip part, the matches in order, and the target. */
export interface Rule {
  src: Neg<Cidr> | null;
  dst: Neg<Cidr> | null;
  inIface: Neg<string> | null;
  outIface: Neg<string> | null;
  /** IP protocol number; null for "all". */
  proto: Neg<number> | null;
  /** -f: second and further fragments only. */
  fragment: Neg<true> | null;
  matches: Match[];
  /** null when the rule has no target (only counts). */
  target: Target | null;
  counters: Counters;
}

/** A chain: built-in ones have a policy; user chains print "-". */
export interface Chain {
  name: string;
  /** ACCEPT / DROP for built-in chains; '-' for user chains (and a built-in listed with '-': policy unchanged). */
  policy: 'ACCEPT' | 'DROP' | '-';
  counters: Counters;
  rules: Rule[];
}

/** A table as one `*name ... COMMIT` block. */
export interface Table {
  name: TableName;
  /** Chains in the order they are printed. */
  chains: Chain[];
  /** Comment lines printed before `*name` (e.g. "# Generated by iptables-save v1.8.9 (nf_tables) on ..."). */
  header: string[];
  /** Comment lines printed after COMMIT (e.g. "# Completed on ..."). */
  footer: string[];
  /** Chains removed with -X in iptables-restore input (applied by restoreInto). */
  deletedChains?: string[];
}

/** A whole iptables-save dump. */
export interface Ruleset {
  tables: Table[];
  /** Print `[packets:bytes]` before each -A line (iptables-save -c). */
  ruleCounters: boolean;
}

/** A fresh rule with nothing set (matches everything, no target). */
export function emptyRule(): Rule {
  return { src: null, dst: null, inIface: null, outIface: null, proto: null, fragment: null, matches: [], target: null, counters: { packets: 0, bytes: 0 } };
}

/** Finds a chain by name. */
export function findChain(table: Table, name: string): Chain | undefined {
  return table.chains.find((c) => c.name === name);
}

/**
 * The form a live kernel holds and iptables-save prints: every built-in chain present (policy ACCEPT
 * when the dump did not declare it), built-ins first in kernel order, then user chains sorted by
 * name (strcmp order, as iptables-save lists them). Returns a new ruleset; rules are shared.
 */
export function canonicalize(rs: Ruleset): Ruleset {
  if (CANONICAL.has(rs)) return rs;
  const out: Ruleset = {
    ruleCounters: rs.ruleCounters,
    tables: rs.tables.map((t) => {
      // One pass (a table can hold tens of thousands of chains): the built-ins by name, the rest in order.
      const names = BUILTIN_CHAINS[t.name] as readonly string[];
      const found: Array<Chain | undefined> = names.map(() => undefined);
      const users: Chain[] = [];
      const set = BUILTIN_SETS[t.name];
      for (const c of t.chains) {
        const b = set.has(c.name) ? names.indexOf(c.name) : -1;
        if (b < 0) users.push(c);
        else if (found[b] === undefined) found[b] = c;
      }
      const builtins: Chain[] = names.map((n, b) => {
        const c = found[b];
        return c ? { ...c, policy: c.policy === '-' ? 'ACCEPT' : c.policy } : { name: n, policy: 'ACCEPT', counters: { packets: 0, bytes: 0 }, rules: [] };
      });
      let sorted = true;
      for (let i = 1; i < users.length && sorted; i++) sorted = users[i - 1]!.name < users[i]!.name;
      if (!sorted) users.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return { ...t, chains: [...builtins, ...users] };
    }),
  };
  CANONICAL.add(out);
  return out;
}

/**
 * Declares `rs` canonical (its tables hold every built-in chain first, in kernel order, with a policy,
 * then the user chains sorted by name), so canonicalize returns it as it is: for rulesets built from a
 * canonical one by replacing chains with same-named canonical ones (k8s/kube-proxy, per node).
 */
export function assumeCanonical(rs: Ruleset): Ruleset {
  CANONICAL.add(rs);
  return rs;
}

/** Rulesets canonicalize returned (values, never mutated): canonical already. */
const CANONICAL = new WeakSet<Ruleset>();
const BUILTIN_SETS: Record<TableName, ReadonlySet<string>> = {
  raw: new Set(BUILTIN_CHAINS.raw),
  mangle: new Set(BUILTIN_CHAINS.mangle),
  nat: new Set(BUILTIN_CHAINS.nat),
  filter: new Set(BUILTIN_CHAINS.filter),
};

// ---- IPv4 helpers (the edges: text <-> uint32) ----

/** Parses dotted-quad IPv4 into a uint32, or null. */
export function parseIpv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return null;
    v = v * 256 + o;
  }
  return v >>> 0;
}

/** True when `ip` lies in `c`. */
export function cidrContains(c: Cidr, ip: number): boolean {
  return ((ip & maskFromPrefix(c.prefix)) >>> 0) === c.addr;
}

/** Formats a prefix as iptables-save prints it ("10.0.0.0/8"). */
export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.addr)}/${c.prefix}`;
}

/**
 * IP protocol names iptables prints for -p (from /etc/protocols as libxtables resolves them: Debian's
 * netbase, where 4 is `ipencap`, as iptables-save prints Calico's IP-in-IP rules on this machine).
 */
export const PROTO_NAMES: Record<number, string> = {
  1: 'icmp', 2: 'igmp', 4: 'ipencap', 6: 'tcp', 17: 'udp', 33: 'dccp', 41: 'ipv6', 47: 'gre', 50: 'esp', 51: 'ah', 58: 'ipv6-icmp',
  89: 'ospf', 94: 'ipip', 103: 'pim', 112: 'vrrp', 115: 'l2tp', 132: 'sctp', 136: 'udplite',
};
/** Other names -p takes: RHEL's /etc/protocols calls protocol 4 `ipv4`, so dumps from those nodes say `-p ipv4`. */
export const PROTO_ALIASES: Record<string, number> = { ipv4: 4 };
