// netfilter/nf-types — what a Netfilter's users see of it: the hooks, a hook's verdict and why it dropped, what
// it needs from its namespace (NfHost), trace events and options. Layer: netfilter (imports core and this folder).
// Kept apart from netfilter.ts (which re-exports them) so the hooks' code has the room there.
import type { Rng } from '../core/rng.js';
import type { ConntrackConfig, CtDropReason } from './conntrack.js';
import type { RejectWith, TableName } from './rules.js';
import type { TargetDropReason } from './targets.js';
import type { ReverseRoute } from './x-tables.js';

/** The five IPv4 hooks (enum nf_inet_hooks). */
export const NfHook = { PREROUTING: 0, INPUT: 1, FORWARD: 2, OUTPUT: 3, POSTROUTING: 4 } as const;
/** One of NfHook. */
export type NfHook = (typeof NfHook)[keyof typeof NfHook];
/** Hook names as iptables spells them, indexed by NfHook. */
export const NF_HOOK_NAMES = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'] as const;

/** Why netfilter dropped a packet. */
export type NfDropReason =
  | 'rule-drop' // a rule's -j DROP
  | 'policy-drop' // a built-in chain's DROP policy
  | 'rule-error' // a rule could not be evaluated (e.g. -m set naming an unknown set)
  | CtDropReason
  | TargetDropReason;

/** Where in the rules a verdict was decided (null fields for conntrack/NAT drops outside a rule). */
export interface NfWhere {
  table: TableName | null;
  chain: string | null;
  /** 0-based rule index, or -1 for a chain policy. */
  rule: number;
}

/** The outcome of one hook. REJECT carries what to send; the net layer emits it. */
export type NfVerdict =
  | { kind: 'accept'; /** OUTPUT only: the destination or mark changed, re-route (ip_route_me_harder). */ reroute: boolean }
  | ({ kind: 'drop'; reason: NfDropReason; detail?: string } & NfWhere)
  | ({ kind: 'reject'; with: RejectWith } & NfWhere);

/** What the netfilter of a namespace needs from that namespace (implemented by the net layer). */
export interface NfHost {
  /** Current simulated time (ns). */
  now(): number;
  /** True when `ip` is one of the namespace's addresses (addrtype LOCAL; include 127.0.0.0/8). */
  isLocalAddress(ip: number): boolean;
  /** The address MASQUERADE uses for a packet leaving `outIf` toward `dst` (the route's preferred source), or null. */
  masqueradeAddress(outIf: string, dst: number): number | null;
  /**
   * dst_mtu of the route toward `dst`: `outIf`'s MTU when given (the packet's route), else the route
   * lookup's device; a learned path MTU lowers it; 0xffffffff when there is no route (TCPMSS clamping).
   */
  routeMtu(outIf: string, dst: number): number;
  /** A named random stream ("statistic", "nat-port", ...), stable per namespace. */
  rng(name: string): Rng;
  /** The name of the namespace's device of ifindex `ifindex` ('' when none): what a hook given an ifindex matches -i / -o against. */
  deviceName?(ifindex: number): string;
  /** The route toward `addr` (fib_lookup): its type and device; null without one, or when the host has no routing table. */
  reverseRoute?(addr: number): ReverseRoute | null;
}

/** One trace event: a rule that matched, or a policy applied. */
export interface NfTraceEvent {
  hook: NfHook;
  table: TableName;
  chain: string;
  /** 0-based index in the chain, -1 for the policy. */
  rule: number;
  /** The rule as iptables-save prints it ("-A CHAIN ..."), or ":CHAIN POLICY" for a policy. */
  text: string;
}

/** Options of a Netfilter. */
export interface NetfilterOptions {
  conntrack?: Partial<ConntrackConfig>;
  /** Receives every matched rule and applied policy (powers `podwire trace`). */
  trace?: ((ev: NfTraceEvent) => void) | null;
  /** Replaces the statistic random draw (trace-dump uses it to follow both branches). */
  random?: (p: number) => boolean;
  /** Chains with at least this many rules get a destination index (default 32; Infinity disables). */
  indexMinRules?: number;
}
