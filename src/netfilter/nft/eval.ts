// netfilter/nft/eval — runs a namespace's nftables base chains at a netfilter hook: the chains of
// that hook in priority order (the caller says which priority window, so they interleave with the
// iptables tables), each rule's statements compiled once per ruleset generation into closures, the
// jump stack, goto, return, the chain policy, and nat statements binding the connection through
// conntrack as nft_nat / nft_masq do. Layer: netfilter (imports core, packet and this folder).
// Mirrors net/netfilter/nf_tables_core.c (nft_do_chain: the jump stack, NFT_CONTINUE/NFT_BREAK,
// NFT_JUMP/NFT_GOTO/NFT_RETURN) and nft_numgen.c (random mod N), nft_lookup.c, nft_dynset.c.
import type { Rng } from '../../core/rng.js';
import type { Packet } from '../../packet/packet.js';
import { NatManip, type Conntrack } from '../conntrack.js';
import { lowerMssOption } from '../ext/tcpmss.js';
import { CT_BIT, ctStateBits, type EvalCtx } from '../x-tables.js';
import { keyOf, type NftChain, type NftHookName, type NftRuleset, type NftSet, type NftTable } from './ruleset.js';
import type { Field, Stmt, Verdict } from './stmt.js';

/** What nft rules need from their namespace's netfilter. */
export interface NftEnv {
  readonly ctx: EvalCtx;
  readonly conntrack: Conntrack;
  isLocalAddress(ip: number): boolean;
  masqueradeAddress(outIf: string, dst: number): number | null;
  /** dst_mtu toward `dst` through `outIf` ("" = route lookup), 0xffffffff without a route (rt mtu). */
  routeMtu(outIf: string, dst: number): number;
  rng(name: string): Rng;
}

/** The outcome of the nft chains at one hook: null = accept (continue with the next hook entry). */
export type NftOutcome = null | { kind: 'drop'; chain: string; rule: number; reason: 'rule-drop' | 'nat-no-unique-tuple' | 'masquerade-no-address' } | { kind: 'reject'; chain: string; rule: number };

const CONTINUE = 0;
const BREAK = 1; // this rule stops, the next one runs
const ACCEPT = 2;
const DROP = 3;
const REJECT = 4;
const JUMP = 5;
const GOTO = 6;
const RETURN = 7;
const DROP_NAT = 8;
const DROP_MASQ = 9;

type Op = (env: NftEnv, out: { chain: CompiledChain | null }) => number;

interface CompiledRule {
  ops: Op[];
}

interface CompiledChain {
  name: string;
  rules: CompiledRule[];
  policyDrop: boolean;
}

interface HookEntry {
  priority: number;
  type: 'filter' | 'nat' | 'route';
  chain: CompiledChain;
}

const CT_NAMES: Record<string, number> = { new: CT_BIT.NEW, established: CT_BIT.ESTABLISHED, related: CT_BIT.RELATED, invalid: CT_BIT.INVALID, untracked: CT_BIT.UNTRACKED };

function fieldValue(f: Field, pkt: Packet): number {
  const ip = pkt.ip!;
  switch (f) {
    case 'ip saddr':
      return ip.src;
    case 'ip daddr':
      return ip.dst;
    case 'meta l4proto':
      return ip.protocol;
    case 'th dport':
      return pkt.tcp ? pkt.tcp.dstPort : pkt.udp ? pkt.udp.dstPort : -1;
    case 'tcp dport':
      return pkt.tcp ? pkt.tcp.dstPort : -1;
    case 'udp dport':
      return pkt.udp ? pkt.udp.dstPort : -1;
    case 'sctp dport':
      return -1;
  }
}

/** Fills `parts` with the packet's values of a concatenation's fields (a rule's reusable buffer); false when one is absent. */
function readKey(keys: readonly Field[], pkt: Packet, parts: number[]): boolean {
  for (let i = 0; i < keys.length; i++) {
    const v = fieldValue(keys[i]!, pkt);
    if (v < 0) return false;
    parts[i] = v;
  }
  return true;
}

/** The compiled form of a ruleset: base chains per hook, sorted by priority (then creation order). */
export class NftRuntime {
  private gen = -1;
  private hooks = new Map<NftHookName, HookEntry[]>();
  /** The jump stack (nft_do_chain's jumpstack), shared: traversals never nest. */
  private readonly stackChains: CompiledChain[] = [];
  private readonly stackNext: number[] = [];
  /** Rules evaluated (netfilter/cost-model.ts; the Netfilter resets it per packet). */
  walked = 0;

  constructor(readonly rs: NftRuleset) {}

  /** True when some base chain is attached to `hook` with a priority in [lo, hi) of `type` (or any type). */
  has(hook: NftHookName): boolean {
    this.compile();
    return (this.hooks.get(hook)?.length ?? 0) > 0;
  }

  /** Runs the base chains of `hook` whose priority is in [lo, hi) and whose type is `nat` (natOnly) or not. */
  run(hook: NftHookName, lo: number, hi: number, natOnly: boolean, env: NftEnv): NftOutcome {
    this.compile();
    const entries = this.hooks.get(hook);
    if (entries === undefined) return null;
    for (const e of entries) {
      if (e.priority < lo || e.priority >= hi || (e.type === 'nat') !== natOnly) continue;
      const r = this.runChain(e.chain, env);
      if (r !== null) return r;
    }
    return null;
  }

  private runChain(base: CompiledChain, env: NftEnv): NftOutcome {
    const sc = this.stackChains;
    const sn = this.stackNext;
    let sp = 0;
    let chain = base;
    let i = 0;
    const out: { chain: CompiledChain | null } = { chain: null };
    for (;;) {
      if (i >= chain.rules.length) {
        if (sp > 0) {
          sp--;
          chain = sc[sp]!;
          i = sn[sp]!;
          continue;
        }
        return base.policyDrop ? { kind: 'drop', chain: base.name, rule: -1, reason: 'rule-drop' } : null;
      }
      const rule = chain.rules[i]!;
      const ri = i++;
      this.walked = (this.walked + 1) & 0x3fffffff; // a small integer while nothing resets it (cost model off)
      let code = CONTINUE;
      for (const op of rule.ops) {
        code = op(env, out);
        if (code !== CONTINUE) break;
      }
      switch (code) {
        case CONTINUE:
        case BREAK:
          continue;
        case ACCEPT:
          return null;
        case DROP:
          return { kind: 'drop', chain: chain.name, rule: ri, reason: 'rule-drop' };
        case DROP_NAT:
          return { kind: 'drop', chain: chain.name, rule: ri, reason: 'nat-no-unique-tuple' };
        case DROP_MASQ:
          return { kind: 'drop', chain: chain.name, rule: ri, reason: 'masquerade-no-address' };
        case REJECT:
          return { kind: 'reject', chain: chain.name, rule: ri };
        case JUMP:
          sc[sp] = chain;
          sn[sp] = i;
          sp++;
          chain = out.chain!;
          i = 0;
          continue;
        case GOTO:
          chain = out.chain!;
          i = 0;
          continue;
        case RETURN:
          if (sp === 0) return base.policyDrop ? { kind: 'drop', chain: base.name, rule: -1, reason: 'rule-drop' } : null;
          sp--;
          chain = sc[sp]!;
          i = sn[sp]!;
          continue;
      }
    }
  }

  private compile(): void {
    if (this.gen === this.rs.generation) return;
    this.gen = this.rs.generation;
    this.hooks = new Map();
    for (const table of this.rs.tables.values()) {
      const compiled = new Map<string, CompiledChain>();
      for (const c of table.chains.values()) compiled.set(c.name, { name: c.name, rules: [], policyDrop: c.base?.policy === 'drop' });
      for (const c of table.chains.values()) compiled.get(c.name)!.rules = c.rules.map((r) => ({ ops: r.stmts.map((s) => compileStmt(s, table, compiled)) }));
      for (const c of table.chains.values()) {
        if (!c.base) continue;
        const list = this.hooks.get(c.base.hook) ?? [];
        list.push({ priority: c.base.priority, type: c.base.type, chain: compiled.get(c.name)! });
        this.hooks.set(c.base.hook, list);
      }
    }
    for (const list of this.hooks.values()) list.sort((a, b) => a.priority - b.priority);
  }
}

function verdictOp(v: Verdict, chains: Map<string, CompiledChain>): Op {
  switch (v.v) {
    case 'accept':
      return () => ACCEPT;
    case 'drop':
      return () => DROP;
    case 'reject':
      return () => REJECT;
    case 'return':
      return () => RETURN;
    case 'continue':
      return () => CONTINUE;
    case 'jump':
    case 'goto': {
      const target = chains.get(v.chain)!;
      const code = v.v === 'jump' ? JUMP : GOTO;
      return (_e, out) => {
        out.chain = target;
        return code;
      };
    }
  }
}

function liveElement(set: NftSet, key: string, now: number): boolean {
  const e = set.elements.get(key);
  return e !== undefined && e.expires > now;
}

function compileStmt(s: Stmt, table: NftTable, chains: Map<string, CompiledChain>): Op {
  switch (s.k) {
    case 'cmp': {
      const { field, neg, ranges } = s;
      return (e) => {
        const v = fieldValue(field, e.ctx.pkt);
        let hit = false;
        for (const [lo, hi] of ranges) if (v >= lo && v <= hi) hit = true;
        return hit !== neg ? CONTINUE : BREAK;
      };
    }
    case 'cmp-set': {
      const set = table.sets.get(s.set)!;
      const { field, neg } = s;
      return (e) => (liveElement(set, String(fieldValue(field, e.ctx.pkt)), e.ctx.now) !== neg ? CONTINUE : BREAK);
    }
    case 'proto':
      return (e) => ((e.ctx.ip.protocol === s.proto) !== s.neg ? CONTINUE : BREAK);
    case 'port': {
      const { field, port, neg } = s;
      return (e) => {
        const v = fieldValue(field, e.ctx.pkt);
        return v >= 0 && (v === port) !== neg ? CONTINUE : BREAK;
      };
    }
    case 'ct-state': {
      const mask = s.names.reduce((a, n) => a | (CT_NAMES[n] ?? 0), 0);
      return (e) => ((ctStateBits(e.ctx, e.conntrack) & mask) !== 0 ? CONTINUE : BREAK);
    }
    case 'fib':
      return (e) => (e.isLocalAddress(s.dir === 'saddr' ? e.ctx.ip.src : e.ctx.ip.dst) === s.local ? CONTINUE : BREAK);
    case 'mark-cmp':
      return (e) => ((((e.ctx.pkt.mark & s.mask) >>> 0) === s.value) !== s.neg ? CONTINUE : BREAK);
    case 'vmap': {
      const set = table.sets.get(s.map)!;
      const keys = s.keys;
      const arms = new Map<string, Op>();
      for (const [k, el] of set.elements) if (el.verdict) arms.set(k, verdictOp(el.verdict, chains));
      const parts: number[] = new Array<number>(keys.length);
      return (e, out) => {
        if (!readKey(keys, e.ctx.pkt, parts)) return BREAK;
        const op = arms.get(keyOf(parts));
        return op === undefined ? BREAK : op(e, out);
      };
    }
    case 'lookup': {
      const set = table.sets.get(s.set)!;
      const parts: number[] = new Array<number>(s.keys.length);
      return (e) => ((readKey(s.keys, e.ctx.pkt, parts) && liveElement(set, keyOf(parts), e.ctx.now)) !== s.neg ? CONTINUE : BREAK);
    }
    case 'numgen': {
      const arms = s.arms.map((v) => verdictOp(v, chains));
      const mod = s.mod;
      return (e, out) => arms[e.rng('numgen').int(mod)]!(e, out);
    }
    case 'mark-set':
    case 'masquerade':
    case 'dnat':
    case 'update':
      return compileAction(s, table);
    case 'counter':
      return () => CONTINUE;
    case 'tcp-flags': {
      const { value, mask } = s;
      return (e) => (e.ctx.pkt.tcp !== null && (e.ctx.pkt.tcp.flags & mask) === value ? CONTINUE : BREAK);
    }
    case 'maxseg-set':
      return maxsegSet(s.mss);
    case 'verdict':
      return verdictOp(s.verdict, chains);
  }
}

/**
 * `tcp option maxseg size set rt mtu | N`: nft_rt's TCPMSS key (get_tcpmss: min(dst_mtu(skb_dst), the
 * MTU of the route back to the source) − 40, or 536 when that is ≤ 40 or above 65535; no route on
 * the packet yet — PREROUTING, INPUT — breaks the rule) written by nft_exthdr_tcp_set_eval, which
 * only lowers an MSS option present (it never adds one, unlike iptables' TCPMSS). A packet that is not
 * TCP breaks the rule. Not modelled: the load-time hook check of `rt mtu` (nft_rt_validate).
 */
function maxsegSet(mss: number | 'rt-mtu'): Op {
  return (e) => {
    const c = e.ctx;
    if (c.pkt.tcp === null) return BREAK;
    let v: number;
    if (mss === 'rt-mtu') {
      if (c.outIf === '') return BREAK;
      const out = e.routeMtu(c.outIf, c.ip.dst);
      const back = e.routeMtu('', c.ip.src);
      const mtu = out < back ? out : back;
      v = mtu <= 40 || mtu > 0xffff ? 536 : mtu - 40;
    } else v = mss;
    lowerMssOption(c.pkt, v);
    return CONTINUE;
  };
}

/** The statements that change the packet, the connection or a set. */
function compileAction(s: Extract<Stmt, { k: 'mark-set' | 'masquerade' | 'dnat' | 'update' }>, table: NftTable): Op {
  switch (s.k) {
    case 'mark-set':
      return (e) => {
        const p = e.ctx.pkt;
        p.mark = (s.op === 'set' ? s.value : s.op === 'or' ? p.mark | s.value : s.op === 'xor' ? p.mark ^ s.value : p.mark & s.value) >>> 0;
        return CONTINUE;
      };
    case 'masquerade':
      return (e) => {
        const ct = e.conntrack.ctOf(e.ctx.pkt);
        if (!ct) return ACCEPT;
        const addr = e.masqueradeAddress(e.ctx.outIf, e.ctx.ip.dst);
        if (addr === null) return DROP_MASQ;
        const ok = e.conntrack.setupNat(ct, NatManip.SRC, { minIp: addr, maxIp: addr, ports: null, random: false, randomFully: s.fullyRandom, persistent: false }, e.ctx.now);
        return ok ? ACCEPT : DROP_NAT;
      };
    case 'dnat':
      return (e) => {
        const ct = e.conntrack.ctOf(e.ctx.pkt);
        if (!ct) return ACCEPT;
        const ports = s.port === null ? null : { min: s.port, max: s.port };
        const ok = e.conntrack.setupNat(ct, NatManip.DST, { minIp: s.addr, maxIp: s.addr, ports, random: false, randomFully: false, persistent: false }, e.ctx.now);
        return ok ? ACCEPT : DROP_NAT;
      };
    case 'update': {
      const set = table.sets.get(s.set)!;
      return (e) => {
        const v = fieldValue(s.field, e.ctx.pkt);
        set.elements.set(String(v), { key: [v], verdict: null, comment: null, expires: set.timeoutS > 0 ? e.ctx.now + set.timeoutS * 1e9 : Infinity });
        return CONTINUE;
      };
    }
  }
}

export type { NftChain };
