// netfilter/netfilter — the per-namespace netfilter: the five hooks, the tables at the kernel's
// priorities, chain traversal with jumps/goto/RETURN/policies, per-rule counters, a trace callback,
// conntrack and NAT. Layer: netfilter (imports core, wire, packet and this folder; never net/link/k8s:
// upward needs go through NfHost, which the net layer implements per namespace).
// Mirrors net/netfilter/core.c (nf_hook_slow over priority-ordered hook entries),
// net/ipv4/netfilter/ip_tables.c (ipt_do_table: the jump stack, RETURN, policies, counters),
// include/uapi/linux/netfilter_ipv4.h (NF_IP_PRI_RAW -300, CONNTRACK -200, MANGLE -150, NAT_DST -100,
// FILTER 0, NAT_SRC 100, CONNTRACK_CONFIRM INT_MAX) and net/netfilter/nf_nat_core.c (nf_nat_inet_fn:
// the nat table is consulted only for a connection's first packet; later packets use the binding).
import type { Packet } from '../packet/packet.js';
import type { Ipv4Header } from '../wire/types.js';
import { Conntrack, NatManip, isIcmpError as isIcmpErrorI, type ConnEntry } from './conntrack.js';
import { LATE_ENV as LATE_ENV_I, chainAt, chainsOf, compileTableShared, interpScan as interpScanI, walkOf as walkOfI, type CChain, type CompiledTable, type CRule } from './compiled.js';
import { WALK_MASK as WALK_MASK_I, type WalkFn, type WalkHost } from './walk-gen.js';
import { renderIptablesSave, renderRule } from './iptables-save.js';
import { carryCounts, loadedWithCounts, ZERO_COUNTS } from './noflush-counters.js';
import { IpSetTable } from './ipset.js';
import { CT_CLOCK as CT_CLOCK_I, CtStatus } from './ct-entry.js';
import { NfCounters, PIN_RULES, slotOffset as slotOffsetI } from './nf-counters.js';
import { NfEvalError, type MatchEnv, type RecentList } from './matches.js';
import { HookCtx, nfNameId, type ReverseRoute } from './x-tables.js';
import { canonicalize, type Ruleset, type Table, type TableName } from './rules.js';
import { TgCode, type TargetDropReason, type TargetEnv } from './targets.js';
import { NftRuntime, type NftEnv } from './nft/eval.js';
import { NftRuleset, type NftHookName } from './nft/ruleset.js';

import { NfHook, type NetfilterOptions, type NfHost, type NfTraceEvent, type NfVerdict } from './nf-types.js';
import { runHookNft as runHookNftI, SLOT, SLOT_CHAIN, SLOT_TABLE } from './nf-hook-nft.js';
import { ACCEPT as ACCEPT_I, ACCEPT_REROUTE as ACCEPT_REROUTE_I, drop as dropI, mapsNothing as mapsNothingI, natIdle as natIdleI, nested as nestedI, nftVerdict, reject as rejectI } from './nf-verdict.js';
const [ACCEPT, ACCEPT_REROUTE, drop, mapsNothing, natIdle, nested, reject, CT_CLOCK, LATE_ENV, interpScan, walkOf, WALK_MASK, isIcmpError, runHookNft, slotOffset] = [ACCEPT_I, ACCEPT_REROUTE_I, dropI, mapsNothingI, natIdleI, nestedI, rejectI, CT_CLOCK_I, LATE_ENV_I, interpScanI, walkOfI, WALK_MASK_I, isIcmpErrorI, runHookNftI, slotOffsetI] as const; // hot imports as module constants (no Cell load and check a use)

export { NfHook, NF_HOOK_NAMES, type NfDropReason, type NfWhere, type NfVerdict, type NfHost, type NfTraceEvent, type NetfilterOptions } from './nf-types.js';

/** nft hook names by NfHook. */
const NFT_HOOK: NftHookName[] = ['prerouting', 'input', 'forward', 'output', 'postrouting'];

const INDEX_MIN_RULES_DEFAULT = 32;
// Codes, slots, hooks and status bits read per packet as module numbers: in optimized code an imported `as const` object's
// field is a cell load, a hole check, a map check and a load at each use (a local object's a load, a map check and a load).
const [C_CONTINUE, C_ACCEPT, C_DROP, C_REJECT, C_RETURN, C_JUMP, C_GOTO] = [TgCode.CONTINUE, TgCode.ACCEPT, TgCode.DROP, TgCode.REJECT, TgCode.RETURN, TgCode.JUMP, TgCode.GOTO] as const;
const [M_SRC, M_DST, SRC_NAT_DONE, DST_NAT_DONE, H_PRE, H_IN, H_FWD, H_OUT, H_POST] = [NatManip.SRC, NatManip.DST, CtStatus.SRC_NAT_DONE, CtStatus.DST_NAT_DONE, NfHook.PREROUTING, NfHook.INPUT, NfHook.FORWARD, NfHook.OUTPUT, NfHook.POSTROUTING] as const;
const CONFIRMED = CtStatus.CONFIRMED;
const [S_RAW_PRE, S_RAW_OUT, S_MANGLE_PRE, S_MANGLE_IN, S_MANGLE_FWD, S_MANGLE_OUT, S_MANGLE_POST, S_FILTER_IN, S_FILTER_FWD, S_FILTER_OUT, S_NAT_PRE, S_NAT_IN, S_NAT_OUT, S_NAT_POST] = [SLOT.RAW_PRE, SLOT.RAW_OUT, SLOT.MANGLE_PRE, SLOT.MANGLE_IN, SLOT.MANGLE_FWD, SLOT.MANGLE_OUT, SLOT.MANGLE_POST, SLOT.FILTER_IN, SLOT.FILTER_FWD, SLOT.FILTER_OUT, SLOT.NAT_PRE, SLOT.NAT_IN, SLOT.NAT_OUT, SLOT.NAT_POST] as const;

/**
 * The state of the hook running, one for every namespace: hooks never nest (a target asks its host for routes and
 * addresses, never for another hook; `hook` checks it). In a big cluster a packet's namespace is cold in cache: a
 * context, a jump stack and a walk stack per namespace were misses at its first hook; these stay hot.
 */
const CTX = new HookCtx();
// A device name a rule reads (HookCtx.inIf / outIf): the running namespace's device of that ifindex (LATE_ENV.cur is its env wherever its rules run: Netfilter.menv).
HookCtx.nameOf = (id) => (LATE_ENV.cur as Netfilter).deviceName(id);
/** The jump stack of table()'s loop (ipt_do_table's jumpstack): the chains and rule indices to resume. */
const STACK_CHAINS: CChain[] = [];
const STACK_NEXT: number[] = [];
/** The jump stack of generated walks (walk-gen.ts). */
const WALK_STACK: number[] = [];
/** A hook is running (the shared state above is in use). */
let inHook = false;

/** One loaded table: its compiled chains in canonical order and the comment lines it was loaded with. */
interface LoadedTable {
  name: TableName;
  header: string[];
  footer: string[];
  chains: CompiledTable;
}

/** The per-namespace netfilter (tables, conntrack, NAT). */
export class Netfilter extends NfCounters implements WalkHost, TargetEnv, MatchEnv {
  // The fields a hook reads come first, in the order it reads them (the object spans five cache lines, cold at each visit
  // in a big cluster): after NfCounters' countTab … slotInfo, a hook's prologue and tables' tests, then what a walk reads.
  private readonly host: NfHost;
  /** The namespace has nft tables (`nft.tables.size !== 0`, kept by the ruleset's apply: a hook reads no nft object without). */
  private hasNft = false;
  /** Cost model (netfilter/cost-model.ts): simulated ns per rule evaluated; 0 = off. */
  perRuleNs = 0;
  /** Bit s set: slot s has no chain (`noChain`), an empty chain with an ACCEPT policy, which only counts (`emptyAccept`), an empty chain (`empty`): a hook tests them, not the chain and its rules, for an absent or empty table (most: raw, mangle, nat INPUT). */
  private noChain = (1 << SLOT_TABLE.length) - 1;
  private emptyAccept = 0;
  trace: ((ev: NfTraceEvent) => void) | null;
  readonly conntrack: Conntrack;
  /** -m statistic's decision (MatchEnv's `random`: the namespace is its rules' match env, `menv`). */
  readonly random: (p: number) => boolean;
  /** The jump stack of generated walks (walk-gen.ts): (resume state, rule index) pairs, every namespace's, read by every walk as trace is: beside it. */
  readonly walkStack: number[] = WALK_STACK;
  /** Rules ipt_do_table evaluated (linearly, as the kernel does) for `walkPkt`, since it entered a hook here. */
  walked = 0;
  /** walks[slot] of the slots with rules on kube-proxy's nodes as the hooks (natLookup) hand them to table(): fields, where the array's object and elements were two lines a hook read first in a cold namespace (issue 13); setWalk keeps them. */
  private natPreWalk: WalkFn | null = null;
  private natPostWalk: WalkFn | null = null;
  private natOutWalk: WalkFn | null = null;
  private filterInWalk: WalkFn | null = null;
  private filterFwdWalk: WalkFn | null = null;
  private filterOutWalk: WalkFn | null = null;
  /** The namespace is its targets' TargetEnv (not an object apart: a cold line fewer a nat lookup and target call): the nat hook's manip while its table runs; a target's DROP reason other than -j DROP; the host's masqueradeAddress and routeMtu. */
  natManip: NatManip | null = null;
  dropReason: TargetDropReason | null = null;
  /** The rule that decided the verdict a generated walk returned. */
  walkAt: CRule | null = null;
  /** The packet `walked` counts for (a hook call with another packet starts the count again; only with the cost model on). */
  walkPkt: Packet | null = null;
  private empty = 0;
  /** The built-in chain of each SLOT (the hooks' entry points; null: not loaded); jumps are pointers between compiled chains. */
  private bases: (CChain | null)[] = SLOT_TABLE.map(() => null);
  /** bases[slot].walk once made (it never changes then): table() calls it without reading the chain (cold, two lines). */
  private walks: (WalkFn | null)[] = SLOT_TABLE.map(() => null);
  /** The namespace's ip sets (`ipset restore` / `save`; `-m set` tests them). */
  readonly ipsets = new IpSetTable();
  /** Every chain of each table in canonical order (for save()). */
  private loaded: LoadedTable[] = [];
  private ruleCounters = false;
  readonly recent = new Map<string, RecentList>();
  private readonly indexMin: number;
  /** The namespace's nftables state (`nft -f`, `nft list ruleset`); its base chains run among the iptables tables by priority. */
  readonly nft = new NftRuleset(() => {
    this.hasNft = this.nft.tables.size !== 0;
  });
  private readonly nftRun = new NftRuntime(this.nft);
  private readonly nenv: NftEnv;

  constructor(host: NfHost, opts: NetfilterOptions = {}) {
    super(SLOT_TABLE.length, S_NAT_PRE);
    this.host = host;
    this.conntrack = new Conntrack(host.rng('nat-port'), opts.conntrack);
    this.trace = opts.trace ?? null;
    this.indexMin = opts.indexMinRules ?? INDEX_MIN_RULES_DEFAULT;
    const stat = host.rng('statistic');
    this.random = opts.random ?? ((p) => (stat.uint32() & 0x7fffffff) < p);
    this.nenv = { ctx: CTX, conntrack: this.conntrack, isLocalAddress: (ip) => host.isLocalAddress(ip), masqueradeAddress: (o, d) => host.masqueradeAddress(o, d), routeMtu: (o, d) => host.routeMtu(o, d), rng: (n) => host.rng(n) };
  }

  /** The namespace's MatchEnv, LATE_ENV.cur while its rules run (set where they run: a walk, `traverse`, nft's `bindEnv`): itself, its host and conntrack on the lines a hook reads (an object apart was a cold line at addrtype's isLocalAddress, issue 13). */
  get menv(): MatchEnv { return this; }
  isLocalAddress(ip: number): boolean { return this.host.isLocalAddress(ip); }
  /** The name of the namespace's device of ifindex `id` ('' when none or the host does not say). */
  deviceName(id: number): string { return this.host.deviceName?.(id) ?? ''; }
  masqueradeAddress(outIf: string, dst: number): number | null { return this.host.masqueradeAddress(outIf, dst); }
  routeMtu(outIf: string, dst: number): number { return this.host.routeMtu(outIf, dst); }
  reverseRoute(addr: number): ReverseRoute | null { return this.host.reverseRoute?.(addr) ?? null; } // -m rpfilter's; none without a routing table

  /**
   * Replaces the whole ruleset (iptables-restore without --noflush). Chains are compiled once and shared
   * with every namespace that loads the same chain (netfilter/compiled.ts); the counters stay here.
   * Throws on a jump to an unknown chain or a chain loop. `rs` is not mutated and may be shared.
   */
  load(rs: Ruleset): void {
    const canon = canonicalize(rs);
    const tables = new Map<TableName, Map<string, CChain>>();
    const loaded: LoadedTable[] = [];
    for (const t of canon.tables) {
      const chains = compileTableShared(t, this.indexMin);
      const hooks = new Map<string, CChain>();
      // Canonical order: the built-in chains first.
      for (let i = 0; i < t.chains.length; i++) {
        const cc = chainAt(chains, i);
        if (!cc.builtin) break;
        hooks.set(cc.name, cc);
      }
      tables.set(t.name, hooks);
      loaded.push({ name: t.name, header: t.header, footer: t.footer, chains });
    }
    this.loaded = loaded;
    this.ruleCounters = canon.ruleCounters;
    this.bases = SLOT_TABLE.map((t, i) => tables.get(t)?.get(SLOT_CHAIN[i]!) ?? null);
    this.walks = this.bases.map(() => null);
    this.bases.forEach((b, s) => this.setWalk(s, b === null ? null : b.walk));
    this.noChain = this.bases.reduce((m, b, i) => (b === null ? m | (1 << i) : m), 0);
    this.empty = this.bases.reduce((m, b, i) => (b !== null && b.rules.length === 0 ? m | (1 << i) : m), 0);
    this.emptyAccept = this.bases.reduce((m, b, i) => (b !== null && b.rules.length === 0 && !b.dropPolicy ? m | (1 << i) : m), 0);
    this.resetCounts(this.bases.map((b) => (b === null ? -1 : b.id)), this.bases.map((b) => (b === null ? [] : b.rules.slice(0, PIN_RULES).map((r) => r.id))));
  }

  /**
   * load(rs) where `rs` is the live ruleset after `iptables-restore --noflush` of `input` (kube-proxy's sync), keeping
   * counters as the kernel does (libiptc TC_COMMIT's counter map, or iptables-nft's rules left in place): a user chain
   * `input` declares was flushed and refilled, so its rules start at 0; a built-in chain it declares gets the line's
   * policy counters (in `rs`) and its rules that stay keep theirs; every other chain keeps its rule and policy counters
   * (their live values, whatever counters `rs` gives it), if its rules are unchanged (the same rules in the same
   * order). `input` null: no chain was written (a reload of the same rules).
   */
  loadNoflush(rs: Ruleset, input: Ruleset | null): void {
    const before = this.loaded;
    // The live counters that are not zero, by the ids of the chains loaded before: what was counted
    // since that load, and what the chains were loaded with (zero in kube-proxy's inputs); rekeyed below.
    const saved = this.countedIds();
    for (const t of before) for (const id of loadedWithCounts(t.chains)) if (!saved.has(id)) saved.set(id, ZERO_COUNTS);
    this.load(rs);
    if (saved.size > 0) for (const [id, k] of carryCounts(saved, before, this.loaded, input)) this.setCount(id, k);
  }

  /** The live ruleset with this namespace's counters, canonical order (a fresh copy per call). */
  ruleset(): Ruleset {
    const tables: Table[] = this.loaded.map((t) => ({
      name: t.name,
      header: t.header,
      footer: t.footer,
      chains: chainsOf(t.chains).map((cc) => ({
        name: cc.name,
        policy: cc.model.policy,
        counters: this.counted(cc.id, cc.model.counters),
        rules: cc.rules.map((cr) => ({ ...cr.rule, counters: this.counted(cr.id, cr.rule.counters) })),
      })),
    }));
    return { tables, ruleCounters: this.ruleCounters };
  }

  /** The compiled chain `name` of `table`: the same object in every namespace that loaded the same chain (tests, inspection). */
  compiledChain(table: TableName, name: string): CChain | undefined { const t = this.loaded.find((x) => x.name === table); return t && chainsOf(t.chains).find((c) => c.name === name); }

  /** The live rules as `iptables-save -c`-less text (no banner lines). */
  save(): string { return renderIptablesSave(this.ruleset()); }

  /**
   * nf_hook for one IPv4 hook: runs the tables registered there in priority order (conntrack in at
   * PREROUTING/OUTPUT, confirm at INPUT/POSTROUTING). `inIf`/`outIf` are device names or null. The net
   * layer calls the hook's own entry point (hookPre … hookPost, with the devices' ifindex): each call site then reaches one
   * function, and each entry point has V8's inlining budget for its own hook's tables.
   */
  hook(hook: NfHook, pkt: Packet, inIf: string | null, outIf: string | null): NfVerdict {
    const i = nfNameId(inIf ?? '');
    const o = nfNameId(outIf ?? '');
    if (hook === H_PRE) return this.hookPre(pkt, i);
    if (hook === H_IN) return this.hookIn(pkt, i);
    if (hook === H_FWD) return this.hookFwd(pkt, i, o);
    return hook === H_OUT ? this.hookOut(pkt, o) : this.hookPost(pkt, o);
  }

  /** PREROUTING from device `inId` (its ifindex, or nfNameId of a bare name). */
  hookPre(pkt: Packet, inId: number): NfVerdict {
    const ip = pkt.ip;
    if (ip === null) return ACCEPT;
    // The hook's start, written out in each entry point: as a method it was a call in most of them (~220 bytes of
    // bytecode, beyond what V8's inlining budget left after the hook's tables). A new packet for the cost model: its
    // rule count from 0. CTX lives long (old generation) and a packet is young: each store of one is a write barrier's
    // slow path (the remembered set), and a store into an old object reads the page headers of both (cold lines in a
    // big heap). A packet passes several hooks of a namespace in a row: stored on change only; the devices as small integers (HookCtx). The time is conntrack's too (its in, confirm, the NAT targets' setupNatAt; the match env is set where rules run: `menv`).
    if (this.perRuleNs !== 0 && pkt !== this.walkPkt) this.walkFrom(pkt);
    if (inHook) nested();
    const c = CTX;
    if (c.pkt !== pkt) c.pkt = pkt;
    if (c.ip !== ip) c.ip = ip;
    c.inId = inId;
    c.has = 1;
    c.now = CT_CLOCK[0] = this.host.now();
    c.hook = H_PRE;
    inHook = true;
    try {
      const v = this.hasNft ? runHookNft(this, H_PRE, pkt, ip) : this.pre(pkt);
      inHook = false;
      return v;
    } catch (e) {
      return failed(e);
    }
  }

  /** INPUT from device `inId`. */
  hookIn(pkt: Packet, inId: number): NfVerdict {
    const ip = pkt.ip;
    if (ip === null) return ACCEPT;
    // The hook's start, written out in each entry point (a call, or the inlining budget of its tables): see hookPre.
    if (this.perRuleNs !== 0 && pkt !== this.walkPkt) this.walkFrom(pkt);
    if (inHook) nested();
    const c = CTX;
    if (c.pkt !== pkt) c.pkt = pkt;
    if (c.ip !== ip) c.ip = ip;
    c.inId = inId;
    c.has = 1;
    c.now = CT_CLOCK[0] = this.host.now();
    c.hook = H_IN;
    inHook = true;
    try {
      const v = this.hasNft ? runHookNft(this, H_IN, pkt, ip) : (this.tq(S_MANGLE_IN) ?? this.table(S_FILTER_IN, this.filterInWalk) ?? this.natConfirm(pkt, S_NAT_IN));
      inHook = false;
      return v;
    } catch (e) {
      return failed(e);
    }
  }

  /** FORWARD from device `inId` to `outId`. */
  hookFwd(pkt: Packet, inId: number, outId: number): NfVerdict {
    const ip = pkt.ip;
    if (ip === null) return ACCEPT;
    // The hook's start, written out in each entry point (a call, or the inlining budget of its tables): see hookPre.
    if (this.perRuleNs !== 0 && pkt !== this.walkPkt) this.walkFrom(pkt);
    if (inHook) nested();
    const c = CTX;
    if (c.pkt !== pkt) c.pkt = pkt;
    if (c.ip !== ip) c.ip = ip;
    c.inId = inId;
    c.outId = outId;
    c.has = 3;
    c.now = CT_CLOCK[0] = this.host.now();
    c.hook = H_FWD;
    inHook = true;
    try {
      const v = this.hasNft ? runHookNft(this, H_FWD, pkt, ip) : (this.tq(S_MANGLE_FWD) ?? this.table(S_FILTER_FWD, this.filterFwdWalk) ?? ACCEPT);
      inHook = false;
      return v;
    } catch (e) {
      return failed(e);
    }
  }

  /** OUTPUT to device `outId`. */
  hookOut(pkt: Packet, outId: number): NfVerdict {
    const ip = pkt.ip;
    if (ip === null) return ACCEPT;
    // The hook's start, written out in each entry point (a call, or the inlining budget of its tables): see hookPre.
    if (this.perRuleNs !== 0 && pkt !== this.walkPkt) this.walkFrom(pkt);
    if (inHook) nested();
    const c = CTX;
    if (c.pkt !== pkt) c.pkt = pkt;
    if (c.ip !== ip) c.ip = ip;
    c.outId = outId;
    c.has = 2;
    c.now = CT_CLOCK[0] = this.host.now();
    c.hook = H_OUT;
    inHook = true;
    try {
      const v = this.hasNft ? runHookNft(this, H_OUT, pkt, ip) : this.output(pkt, ip);
      inHook = false;
      return v;
    } catch (e) {
      return failed(e);
    }
  }

  /** POSTROUTING to device `outId`. */
  hookPost(pkt: Packet, outId: number): NfVerdict {
    const ip = pkt.ip;
    if (ip === null) return ACCEPT;
    // The hook's start, written out in each entry point (a call, or the inlining budget of its tables): see hookPre.
    if (this.perRuleNs !== 0 && pkt !== this.walkPkt) this.walkFrom(pkt);
    if (inHook) nested();
    const c = CTX;
    if (c.pkt !== pkt) c.pkt = pkt;
    if (c.ip !== ip) c.ip = ip;
    c.outId = outId;
    c.has = 2;
    c.now = CT_CLOCK[0] = this.host.now();
    c.hook = H_POST;
    inHook = true;
    try {
      const v = this.hasNft ? runHookNft(this, H_POST, pkt, ip) : (this.tq(S_MANGLE_POST) ?? this.natConfirm(pkt, S_NAT_POST));
      inHook = false;
      return v;
    } catch (e) {
      return failed(e);
    }
  }

  /** A new packet for the cost model: its rule count from 0 (stores, no array). */
  private walkFrom(pkt: Packet): void { this.walkPkt = pkt; this.walked = 0; this.nftWalked = 0; }

  private pre(pkt: Packet): NfVerdict {
    const v = (this.noChain >>> S_RAW_PRE) & 1 ? null : this.tq(S_RAW_PRE); // tq's first test here: raw is mostly absent (no call, and V8's budget left for mangle's tq)
    if (v !== null) return v;
    const r = this.conntrack.inAt(pkt);
    return r.ok === false ? drop(r.reason, null, null, -1) : (this.tq(S_MANGLE_PRE) ?? this.natIn(M_DST, S_NAT_PRE) ?? ACCEPT);
  }

  private output(pkt: Packet, ip: Ipv4Header): NfVerdict {
    const dst0 = ip.dst;
    const mark0 = pkt.mark;
    const v = (this.noChain >>> S_RAW_OUT) & 1 ? null : this.tq(S_RAW_OUT); // as pre
    if (v !== null) return v;
    const r = this.conntrack.inAt(pkt);
    if (r.ok === false) return drop(r.reason, null, null, -1);
    return this.tq(S_MANGLE_OUT) ?? this.natIn(M_DST, S_NAT_OUT) ?? this.table(S_FILTER_OUT, this.filterOutWalk) ?? (ip.dst !== dst0 || pkt.mark !== mark0 ? ACCEPT_REROUTE : ACCEPT);
  }

  /** Points LATE_ENV at this namespace's env (`menv`) before rules run outside a generated walk, which does it itself. */
  private bindEnv(): void { if (LATE_ENV.cur !== this.menv) LATE_ENV.cur = this.menv; }
  /** The nft filter-type base chains of `hook` with a priority in [lo, hi) (null when none or all accept). */
  nftAt(hook: NftHookName, lo: number, hi: number): NfVerdict | null {
    if (!this.hasNft) return null;
    this.bindEnv(); // nft's rules read the devices' names through HookCtx (LATE_ENV.cur's)
    return nftVerdict(this.nftRun.run(hook, lo, hi, false, this.nenv));
  }

  /** Rules the nft chains evaluated for `walkPkt` (a verdict map lookup is one rule). */
  get nftWalked(): number { return this.nftRun.walked; }
  set nftWalked(n: number) { this.nftRun.walked = n; }

  confirm(pkt: Packet): NfVerdict { const r = this.conntrack.confirmAt(pkt); return r.ok ? ACCEPT : drop(r.reason, null, null, -1); }

  /** nf_nat_inet_fn: consult the nat table for a new connection's first packet, then apply the binding. */
  nat(manip: NatManip, slot: number): NfVerdict | null { const pkt = CTX.pkt, ct = this.conntrack.ctOf(pkt); return ct === null ? null : this.natOf(ct, pkt, manip, slot); }

  /**
   * nat() at PREROUTING / OUTPUT, right after conntrack's `in` (only mangle in between, whose targets never
   * touch pkt.ct): `in` left pkt.ct null, this table's `untracked`, or an entry of this table (ctOf's test).
   */
  private natIn(manip: NatManip, slot: number): NfVerdict | null {
    const pkt = CTX.pkt;
    const ct = pkt.ct;
    if (ct === null || ct === this.conntrack.untracked) return null;
    return natIdle((ct as ConnEntry).status, manip, pkt.ctDir) ? null : this.natOf(ct as ConnEntry, pkt, manip, slot);
  }

  /** INPUT's / POSTROUTING's SRC nat then conntrack's confirm (the last hook), the entry found once; a confirmed one needs no confirm. */
  private natConfirm(pkt: Packet, slot: number): NfVerdict {
    const ct = this.conntrack.ctOf(pkt);
    if (ct === null) return ACCEPT;
    const st = ct.status;
    if (natIdle(st, M_SRC, pkt.ctDir)) return (st & CONFIRMED) !== 0 ? ACCEPT : this.confirm(pkt);
    const v = this.natOf(ct, pkt, M_SRC, slot);
    if (v !== null) return v;
    return (ct.status & CONFIRMED) !== 0 ? ACCEPT : this.confirm(pkt);
  }

  /** nat() of `pkt`'s entry `ct` in this table. */
  private natOf(ct: ConnEntry, pkt: Packet, manip: NatManip, slot: number): NfVerdict | null {
    // The entry's status first (Conntrack.natDone's bit): a bound connection needs no other test, an unbound one natLookup;
    // a bound one without a mapping for this manip in the packet's direction (natPacket's test; most entries: forwarded
    // pod traffic, VXLAN's outer flows, and one of the two manips of a NATed one) nothing to apply, no call.
    const st = ct.status;
    const dir = pkt.ctDir;
    if ((st & (manip === M_SRC ? SRC_NAT_DONE : DST_NAT_DONE)) === 0 && dir === 0 && !isIcmpError(pkt)) {
      const v = this.natLookup(ct, manip, slot);
      if (v !== null) return v;
    } else if (mapsNothing(st, manip, dir)) return null;
    this.conntrack.natPacket(ct, pkt, manip);
    return null;
  }

  /** nat() for a connection's first packet: the nat table (and nft nat chains) choose its binding, or a null binding. */
  private natLookup(ct: ConnEntry, manip: NatManip, slot: number): NfVerdict | null {
    this.natManip = manip;
    try {
      const v = this.table(slot, slot === S_NAT_PRE ? this.natPreWalk : slot === S_NAT_POST ? this.natPostWalk : slot === S_NAT_OUT ? this.natOutWalk : undefined);
      if (v) return v;
    } finally {
      this.natManip = null;
    }
    // nft nat chains of this hook (kube-proxy's nat-prerouting/output/postrouting) while unbound.
    if (this.hasNft && !this.conntrack.natDone(ct, manip)) {
      this.bindEnv();
      const nv = nftVerdict(this.nftRun.run(NFT_HOOK[CTX.hook]!, -Infinity, Infinity, true, this.nenv));
      if (nv) return nv;
    }
    if (!this.conntrack.natDone(ct, manip)) this.conntrack.nullBinding(ct, manip);
    return null;
  }

  /**
   * table() for a slot mostly absent or an empty ACCEPT chain (raw, mangle: kube-proxy's nodes have no raw table and
   * five empty mangle chains, one a hook): those two cases tested here, small enough for V8 to inline where table()
   * is not (a call a hook fewer), the rest table()'s.
   */
  private tq(slot: number): NfVerdict | null {
    if ((this.noChain >>> slot) & 1) return null;
    if ((this.emptyAccept >>> slot) & 1 && this.trace === null) {
      const t = this.countTab; // countSlot written out: a call where a hook inlines tq but its budget ends before countSlot
      const o = slotOffset(slot, S_NAT_PRE);
      t[o] = t[o]! + 1;
      t[o + 1] = t[o + 1]! + CTX.ip.totalLength;
      return null;
    }
    return this.table(slot);
  }

  /** ipt_do_table for one table at one hook: null when the packet continues (ACCEPT), else the verdict. `walk`: walks[slot] (a hook hands its field), else read there. */
  table(slot: number, walk?: WalkFn | null): NfVerdict | null {
    // Small enough for V8 to inline into the hooks (~3 tables a hook, most absent or empty): the common cases here
    // (no chain, an empty ACCEPT chain, a chain with its generated walk), the rest in traverse().
    if ((this.noChain >>> slot) & 1) return null;
    if ((this.emptyAccept >>> slot) & 1 && this.trace === null) {
      this.countSlot(slotOffset(slot, S_NAT_PRE), CTX.ip.totalLength); // an empty built-in chain: its policy alone
      return null;
    }
    if (walk === undefined) walk = this.walks[slot]!; // (after the tests: a namespace without the chain reads no array)
    if (walk === null) return this.traverse(slot, this.bases[slot]!);
    CTX.slot = slot;
    const code = walk(this, CTX, this, slotOffset(slot, S_NAT_PRE));
    return code === C_ACCEPT ? null : this.walkVerdict(code, slot, this.bases[slot]!);
  }

  /** table() for a chain without its generated walk (yet): its policy when empty, else the walk made now or the interpreter's loop. */
  private traverse(slot: number, base: CChain): NfVerdict | null {
    this.bindEnv();
    if ((this.empty >>> slot) & 1) return this.policy(slot, base);
    const name = SLOT_TABLE[slot]!;
    const c = CTX;
    c.slot = slot;
    const walk = this.setWalk(slot, walkOf(base));
    if (walk !== null) return this.walkVerdict(walk(this, c, this, slotOffset(slot, S_NAT_PRE)), slot, base);
    // The jump stack (ipt_do_table's jumpstack), shared: traversals never nest.
    const sc = STACK_CHAINS;
    const sn = STACK_NEXT;
    let sp = 0;
    let chain = base;
    let i = 0;
    for (;;) {
      // The first rule from i on whose tests pass (compiled.ts interpScan, called directly: the
      // scan call site sees every generated scan; or the chain's generated scan).
      const scan = chain.scan;
      const ri = scan === interpScan ? interpScan(c, i, chain) : scan(c, i, chain);
      this.walked = (this.walked + (ri < 0 ? chain.rules.length : ri + 1) - i) & WALK_MASK; // the rules the kernel's linear walk evaluates
      if (ri < 0) {
        if (sp > 0 && chain !== base) {
          sp--;
          chain = sc[sp]!;
          i = sn[sp]!;
          continue;
        }
        return this.policy(slot, base);
      }
      const cr = chain.rules[ri]!;
      i = ri + 1;
      this.hit(cr, cr.id);
      let code: TgCode;
      if (cr.code >= 0) code = cr.code as TgCode;
      else {
        // Only a target's call may set why it dropped (a standard DROP: 'rule-drop').
        this.dropReason = null;
        code = cr.target(c, this);
      }
      switch (code) {
        case C_CONTINUE:
          continue;
        case C_ACCEPT:
          return null;
        case C_DROP:
          return drop((cr.code < 0 ? this.dropReason : null) ?? 'rule-drop', name, chain.name, cr.index);
        case C_REJECT:
          return reject(cr, name);
        case C_RETURN: {
          if (sp === 0 || chain === base) return this.policy(slot, base);
          sp--;
          chain = sc[sp]!;
          i = sn[sp]!;
          continue;
        }
        case C_JUMP:
          // On change only: a pointer stored into the (old) stack array is a write barrier, and the
          // same chains are jumped from at the same depth packet after packet.
          if (sc[sp] !== chain) sc[sp] = chain;
          sn[sp] = i;
          sp++;
          chain = cr.jump!;
          i = 0;
          continue;
        case C_GOTO:
          chain = cr.jump!;
          i = 0;
          continue;
        default: {
          const never: never = code;
          throw new Error(`code ${String(never)}`);
        }
      }
    }
  }

  /** Sets the walk of `slot` (in walks and its field, natPreWalk …); returns it. */
  private setWalk(slot: number, walk: WalkFn | null): WalkFn | null {
    if (slot === S_NAT_PRE) this.natPreWalk = walk;
    else if (slot === S_NAT_POST) this.natPostWalk = walk;
    else if (slot === S_NAT_OUT) this.natOutWalk = walk;
    else if (slot === S_FILTER_IN) this.filterInWalk = walk;
    else if (slot === S_FILTER_FWD) this.filterFwdWalk = walk;
    else if (slot === S_FILTER_OUT) this.filterOutWalk = walk;
    return (this.walks[slot] = walk);
  }

  /** A generated walk's result as table() returns it (walk-gen.ts WalkFn). */
  private walkVerdict(code: number, slot: number, base: CChain): NfVerdict | null {
    if (code === -1) return this.policy(slot, base);
    const name = SLOT_TABLE[slot]!;
    if (code === C_ACCEPT) return null;
    const cr = this.walkAt!;
    if (code === C_DROP) return drop(this.dropReason ?? 'rule-drop', name, cr.chainName, cr.index);
    if (code === C_REJECT) return reject(cr, name);
    throw new Error(`code ${code}`);
  }

  /** Counts a rule that matched (the interpreter's or a generated walk's: WalkHost), and traces it. */
  hit(cr: CRule | null, id: number): void {
    this.count(id, CTX.ip.totalLength);
    if (this.trace !== null) this.trace({ hook: CTX.hook as NfHook, table: SLOT_TABLE[CTX.slot]!, chain: cr!.chainName, rule: cr!.index, text: (cr!.text ??= renderRule(cr!.chainName, cr!.rule)) });
  }

  /** The built-in chain of `slot` (`base`) ends: its policy, counted by slot (NfCounters.countSlot). */
  private policy(slot: number, base: CChain): NfVerdict | null {
    const table = SLOT_TABLE[slot]!;
    this.countSlot(slotOffset(slot, S_NAT_PRE), CTX.ip.totalLength);
    if (this.trace !== null) this.trace({ hook: CTX.hook as NfHook, table, chain: base.name, rule: -1, text: `:${base.name} ${base.dropPolicy ? 'DROP' : 'ACCEPT'}` });
    return base.dropPolicy ? drop('policy-drop', table, base.name, -1) : null;
  }
}

/** A hook's exception: a rule that could not be evaluated drops the packet; the shared state is released either way (no `finally` per hook call). */
function failed(e: unknown): NfVerdict {
  inHook = false;
  if (e instanceof NfEvalError) return { kind: 'drop', reason: 'rule-error', detail: e.message, table: null, chain: null, rule: -1 };
  throw e;
}
