// netfilter/x-tables — what every iptables extension shares on the kernel side: the evaluation context
// a compiled match or target sees (struct xt_action_param), the environments its Netfilter hands it,
// verdict codes and the conntrack state bits. Layer: netfilter (imports core, wire, packet and this folder).
// Mirrors include/linux/netfilter/x_tables.h (xt_action_param, XT_CONTINUE/XT_RETURN),
// include/uapi/linux/netfilter/nf_conntrack_common.h (ctinfo) and net/netfilter/xt_conntrack.c
// (conntrack_mt's state bits).
import type { Packet } from '../packet/packet.js';
import type { Ipv4Header } from '../wire/types.js';
import { CtStatus, isIcmpError as isIcmpError_I, type Conntrack, type NatManip } from './conntrack.js';
import type { PortRange } from './rules.js';
const isIcmpError = isIcmpError_I; // hot imports as module constants (no Cell load and check a use)

/** What a compiled match sees: the packet and where it is (reused: one for every Netfilter, hooks never nest). */
export interface EvalCtx {
  pkt: Packet;
  ip: Ipv4Header;
  /** Input device name, "" when none (OUTPUT / locally generated). */
  inIf: string;
  /** Output device name, "" when not yet known (PREROUTING, INPUT). */
  outIf: string;
  now: number;
}

/**
 * The hooks' one EvalCtx (netfilter.ts CTX; hooks never nest). A hook stores its devices as small integers (`inId`,
 * `outId`: the net layer's NetDevice.ifindex, or a bare name's id from nfNameId) and which directions it has (`has`):
 * the context lives long (old generation), and a device name stored into it (a string: a pointer) was a write barrier
 * reading two page headers at ~48 hooks a request (the scale workload's consecutive hooks are mostly in different
 * namespaces with different names), where a small integer is a plain store. The names are looked up only when a rule
 * reads them (none does in the scale workload): an ifindex through `HookCtx.nameOf` (netfilter.ts: the running
 * namespace's device of that index), a bare name's id through the ids nfNameId gave.
 */
export class HookCtx implements EvalCtx {
  pkt = null as unknown as Packet;
  ip = null as unknown as Ipv4Header;
  /** The input / output device the last hook with one was given: an ifindex (> 0) or a bare name's id (< 0). */
  inId = -1;
  outId = -1;
  /** The running hook's directions: bit 0 an input device (PREROUTING, INPUT, FORWARD), bit 1 an output device (FORWARD, OUTPUT, POSTROUTING). */
  has = 0;
  now = 0;
  /** The running hook (NfHook) and the SLOT of the table traversed (trace events and nft's nat lookup name them): small integers here, not stores into the cold namespace. */
  hook = 0;
  slot = 0;
  /** The name of the running namespace's device of ifindex `id` ('' when none): set by netfilter.ts. */
  static nameOf: (id: number) => string = () => '';
  /**
   * skb->nf_bridge while net/br-netfilter runs a bridged frame's hooks (-m physdev; hooks never nest): the
   * ifindex of the bridge port it came in by (0: no bridge information) and of the port it is bridged out
   * by (0: none; -1: bridged DNAT, whose port `physOutLazy` looks up when a rule asks).
   */
  static physIn = 0;
  static physOut = 0;
  static physOutLazy: () => number = () => 0;
  get inIf(): string {
    return (this.has & 1) !== 0 ? deviceNameOf(this.inId) : '';
  }
  set inIf(n: string) {
    this.inId = nfNameId(n);
    this.has |= 1;
  }
  get outIf(): string {
    return (this.has & 2) !== 0 ? deviceNameOf(this.outId) : '';
  }
  set outIf(n: string) {
    this.outId = nfNameId(n);
    this.has |= 2;
  }
}

/** Bare device names by id -1, -2, … (nfNameId): names handed to Netfilter.hook and tests, not a namespace's devices. */
const BARE_NAMES: string[] = [''];
const BARE_IDS = new Map<string, number>([['', -1]]);

/** A small-integer id for device name `name` given without its device (below 0; '' is -1): the same id for the same name. */
export function nfNameId(name: string): number {
  let id = BARE_IDS.get(name);
  if (id === undefined) BARE_IDS.set(name, (id = -BARE_NAMES.push(name)));
  return id;
}

/** The name of device id `id` (HookCtx's stores): a bare name's, or the running namespace's device's. */
function deviceNameOf(id: number): string {
  return id < 0 ? BARE_NAMES[-1 - id]! : HookCtx.nameOf(id);
}

/** A compiled test. */
export type MatchFn = (c: EvalCtx) => boolean;

/** An error while evaluating a rule (e.g. -m set naming a set that does not exist); the packet is dropped. */
export class NfEvalError extends Error {}

/** One `-m recent` list: address -> hit timestamps (ns), oldest first. */
export type RecentList = Map<number, number[]>;

/** -m set membership as the ip set layer answers it (netfilter/ipset.ts IpSetTable.test). */
export interface IpSetLookup {
  /** True/false, or undefined when no set of that name exists. `flags` from ipsetFlags(). */
  test(name: string, flags: number, pkt: Packet): boolean | undefined;
}

/** What matches need from their Netfilter. */
export interface MatchEnv {
  isLocalAddress(ip: number): boolean;
  conntrack: Conntrack;
  /** The statistic decision: true with probability p/2^31 (xt_statistic: (random & 0x7fffffff) < p). */
  random(p: number): boolean;
  recent: Map<string, RecentList>;
  ipsets: IpSetLookup;
  /** The route back to `addr` (-m rpfilter's reverse lookup): its type and device name, or null when there is none. */
  reverseRoute(addr: number): ReverseRoute | null;
}

/** A route as -m rpfilter sees it (fib_lookup's res.type and the nexthop's device). */
export interface ReverseRoute {
  type: 'unicast' | 'local' | 'other';
  dev: string;
}

/** Verdict codes a compiled target returns (XT_CONTINUE, NF_ACCEPT, NF_DROP, ..., XT_RETURN). */
export const TgCode = { CONTINUE: 0, ACCEPT: 1, DROP: 2, REJECT: 3, RETURN: 4, JUMP: 5, GOTO: 6 } as const;
/** One of TgCode. */
export type TgCode = (typeof TgCode)[keyof typeof TgCode];

/** Why a NAT target dropped the packet. */
export type TargetDropReason = 'nat-no-unique-tuple' | 'masquerade-no-address' | 'tcpmss-invalid-pmtu';

/** What targets need from their Netfilter. */
export interface TargetEnv {
  conntrack: Conntrack;
  masqueradeAddress(outIf: string, dst: number): number | null;
  /** dst_mtu of the route toward `dst` through `outIf` ("" = look the route up), 0xffffffff without one (TCPMSS). */
  routeMtu(outIf: string, dst: number): number;
  /** The manip of the nat hook being traversed, or null outside the nat table. */
  natManip: NatManip | null;
  /** Set by a target that returns DROP for a reason other than -j DROP. */
  dropReason: TargetDropReason | null;
}

/** A compiled target. */
export type TargetFn = (c: EvalCtx, env: TargetEnv) => TgCode;

/** Conntrack state bits as xt_conntrack tests them (XT_CONNTRACK_STATE_BIT / _SNAT / _DNAT). */
export const CT_BIT = { INVALID: 1, NEW: 2, RELATED: 4, ESTABLISHED: 8, UNTRACKED: 16, SNAT: 32, DNAT: 64 } as const;

// ctStateBits's literal numbers, checked once at load (as nf-verdict.ts checks natIdle's).
if (CtStatus.SEEN_REPLY !== 2 || CtStatus.SRC_NAT !== 16 || CtStatus.DST_NAT !== 32 || CT_BIT.INVALID !== 1 || CT_BIT.NEW !== 2 || CT_BIT.RELATED !== 4 || CT_BIT.ESTABLISHED !== 8 || CT_BIT.UNTRACKED !== 16 || CT_BIT.SNAT !== 32 || CT_BIT.DNAT !== 64) {
  throw new Error('netfilter: conntrack state bits changed');
}

/**
 * The conntrack state bits of the packet as xt_conntrack computes them. Run by every walk and scan that
 * tests a state (filter FORWARD / INPUT / OUTPUT on every packet of a kube-proxy node), so written with
 * numbers: a module constant (CT_BIT, CtStatus, the ConnEntry class of an `instanceof`) is a cell load
 * and a hole check in optimized code. `pkt.ct` is null, a table's `untracked` or a ConnEntry, each with
 * its table as `owner`: an entry of this table is one whose owner is `ctt` that is not its `untracked`.
 */
export function ctStateBits(c: EvalCtx, ctt: Conntrack): number {
  const pkt = c.pkt;
  const ct = pkt.ct;
  if (ct === null) return 1; // INVALID
  if (ct === ctt.untracked) return 16; // UNTRACKED
  if ((ct as { readonly owner: unknown }).owner !== ctt) return 1; // another namespace's entry or NOTRACK: INVALID
  const st = (ct as { readonly status: number }).status;
  // RELATED (an ICMP error), NEW (ORIGINAL direction, no SEEN_REPLY: 2) or ESTABLISHED; SNAT / DNAT for SRC_NAT (16) / DST_NAT (32).
  let bits = pkt.icmp !== null && isIcmpError(pkt) ? 4 : pkt.ctDir === 0 && (st & 2) === 0 ? 2 : 8;
  if (st & 16) bits |= 32;
  if (st & 32) bits |= 64;
  return bits;
}

/** True when `p` lies in the inclusive range. */
export const inRange = (r: PortRange, p: number): boolean => p >= r.min && p <= r.max;

/** The transport source port, or undefined for packets without ports. */
export function srcPort(pkt: Packet): number | undefined {
  return pkt.tcp ? pkt.tcp.srcPort : pkt.udp ? pkt.udp.srcPort : undefined;
}
/** The transport destination port, or undefined for packets without ports. */
export function dstPort(pkt: Packet): number | undefined {
  return pkt.tcp ? pkt.tcp.dstPort : pkt.udp ? pkt.udp.dstPort : undefined;
}
