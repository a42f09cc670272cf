// netfilter/ext/index — the registry of iptables extensions podwire models: the parser, the renderer
// and the compilers look matches up by `-m NAME` / record kind and targets by `-j NAME` here, and the
// rule model's Match and Target unions are derived from these lists. Adding `-m iprange` is one new
// file in this folder and one line below. Layer: netfilter (imports this folder).
// Mirrors libxtables' extension registry (xtables_register_match / xtables_find_match, each
// libxt_*.c registering itself in _init) and the kernel's xt_register_match list (x_tables.c).
import type { MatchExt, MatchOf, TargetExt, TargetOf } from './api.js';
import { addrtype } from './addrtype.js';
import { comment } from './comment.js';
import { CONNMARK, connmark } from './connmark.js';
import { conntrack } from './conntrack.js';
import { CT, NOTRACK } from './ct.js';
import { icmp } from './icmp.js';
import { limit } from './limit.js';
import { CHECKSUM } from './checksum.js';
import { LOG, NFLOG, TRACE } from './log.js';
import { MARK, mark } from './mark.js';
import { MASQUERADE } from './masquerade.js';
import { multiport } from './multiport.js';
import { DNAT, SNAT } from './nat.js';
import { nfacct } from './nfacct.js';
import { physdev } from './physdev.js';
import { recent } from './recent.js';
import { rpfilter } from './rpfilter.js';
import { REJECT } from './reject.js';
import { set } from './set.js';
import { ACCEPT, DROP, RETURN, goto, jump } from './standard.js';
import { state } from './state.js';
import { TCPMSS } from './tcpmss.js';
import { statistic } from './statistic.js';
import { sctp, tcp, udp } from './tcpudp.js';

/** Every match extension (`-m NAME`). */
export const MATCH_EXTENSIONS = [
  tcp, udp, sctp, icmp, comment, addrtype, mark, connmark, statistic, conntrack, state, recent, multiport, nfacct, physdev, set, limit, rpfilter,
] as const;

/** Every target looked up by name (`-j NAME`); any other name is a user chain. */
export const TARGET_EXTENSIONS = [ACCEPT, DROP, RETURN, REJECT, DNAT, SNAT, MASQUERADE, MARK, CONNMARK, NOTRACK, CT, LOG, NFLOG, TRACE, TCPMSS, CHECKSUM] as const;
/** Targets that name a chain (`-j CHAIN`, `-g CHAIN`). */
export const CHAIN_TARGETS = [jump, goto] as const;

/** A match extension record (`-m NAME ...`), one variant per registered module. */
export type Match = MatchOf<(typeof MATCH_EXTENSIONS)[number]>;
/** A rule's target (`-j NAME ...` / `-g CHAIN`), one variant per registered target. */
export type Target = TargetOf<(typeof TARGET_EXTENSIONS)[number] | (typeof CHAIN_TARGETS)[number]>;

const matchByName = new Map<string, MatchExt<Match>>(MATCH_EXTENSIONS.map((e) => [e.name, e as MatchExt<Match>]));
const targetByName = new Map<string, TargetExt<Target>>(TARGET_EXTENSIONS.map((e) => [e.name, e as TargetExt<Target>]));
const targetByKind = new Map<string, TargetExt<Target>>([...targetByName, ...CHAIN_TARGETS.map((e) => [e.name, e as TargetExt<Target>] as const)]);

/** The match extension `-m name` loads, or undefined. */
export function findMatch(name: string): MatchExt<Match> | undefined {
  return matchByName.get(name);
}

/** The extension of a match record. */
export function matchExt(m: Match): MatchExt<Match> {
  return matchByName.get(m.kind)!;
}

/** The target `-j name` loads, or undefined (then `name` is a chain). */
export function findTarget(name: string): TargetExt<Target> | undefined {
  return targetByName.get(name);
}

/** The extension of a target record. */
export function targetExt(t: Target): TargetExt<Target> {
  return targetByKind.get(t.kind)!;
}

/** Matches real iptables has but podwire refuses (their behaviour depends on sockets or state podwire does not model). */
export const UNSUPPORTED_MATCHES: ReadonlySet<string> = new Set([
  'socket', 'owner', 'cgroup', 'bpf', 'string', 'u32', 'hashlimit', 'connlimit', 'policy', 'ipvs', 'length', 'ttl', 'tos', 'dscp',
  'iprange', 'mac', 'pkttype', 'helper', 'connbytes', 'time', 'quota', 'devgroup', 'realm', 'cpu', 'esp', 'ah', 'ecn', 'dccp', 'udplite',
  'tcpmss', 'osf', 'cluster', 'ipv6header', 'rateest', 'conntrack-zone', 'connlabel',
]);
/** Targets real iptables has but podwire refuses. */
export const UNSUPPORTED_TARGETS: ReadonlySet<string> = new Set([
  'REDIRECT', 'TPROXY', 'NFQUEUE', 'QUEUE', 'ULOG', 'TOS', 'DSCP', 'TTL', 'CLASSIFY', 'SET', 'AUDIT', 'CLUSTERIP',
  'NETMAP', 'SECMARK', 'CONNSECMARK', 'IDLETIMER', 'LED', 'HMARK', 'TEE', 'SYNPROXY', 'ECN', 'RATEEST',
]);
