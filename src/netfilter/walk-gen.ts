// netfilter/walk-gen — ipt_do_table for one built-in chain as one generated function: every chain
// reachable from it is a block of switch cases (one per rule, falling through), a jump pushes the
// resume point on the walk stack (one for every namespace: hooks never nest) and switches to the
// callee's block, RETURN and a chain's end pop it, goto switches without a push. The walk of
// Netfilter.table (walked counts, counters, trace, dropReason, verdict codes) in the same order,
// without a call per chain visited: the rule tests are scan-gen's expressions and closure calls.
// A chain with a destination index (kube-proxy's KUBE-SERVICES of a big cluster) is one state: its
// index lookup (dst-index.ts indexedScan, the interpreter's scan) finds the next rule, whose target
// runs as the interpreter runs it, and a jump or goto from it calls the target chain's own walk
// (compiled.ts enterChain: a walk rooted at that chain, KUBE-SVC-* -> KUBE-SEP-*, on the walk stack
// above the caller's frames), so a nat hook reaching it is generated code throughout.
// Layer: netfilter (imports this folder).
// Mirrors net/ipv4/netfilter/ip_tables.c ipt_do_table (the jumpstack, XT_RETURN, the underflow).
import type { CChain, CRule } from './compiled.js';
import { countHomeSrc, PIN_RULES, slotOffset } from './nf-counters.js';
import { SLOT } from './nf-hook-nft.js';
import { indexedScan } from './dst-index.js';
import { natBind, natParams } from './ext/nat.js';
import { factoryOf, ruleCondition, type GenEnv } from './scan-gen.js';
import { TgCode, type TargetEnv, type TargetFn } from './targets.js';
import { ctStateBits, type EvalCtx, type MatchEnv, type MatchFn } from './x-tables.js';

/** What a generated walk calls on its namespace (Netfilter implements it). */
export interface WalkHost {
  /** Rules the linear walk evaluated (the cost model's count; 30-bit wrap as Netfilter.table keeps it). */
  walked: number;
  /**
   * Counts (and traces) a matched rule whose id is `id` (the walk's constant: the rule object, cold, is read only to
   * trace it). A generated walk hands the rule only when tracing (null otherwise: it keeps its rules in an array, R,
   * not in its closure's context).
   */
  hit(cr: CRule | null, id: number): void;
  /** The trace callback (non-null: every hit goes through hit()). */
  readonly trace: unknown;
  /** The namespace's counter table and its layout (nf-counters.ts): a hit whose id is in its home quad is counted here. */
  readonly countTab: number[];
  readonly countHead: number;
  readonly countMask: number;
  /** The rule that decided a DROP / REJECT / other verdict code the walk returned. */
  walkAt: CRule | null;
  /** The jump stack: (resume state, resume rule index) pairs. */
  readonly walkStack: number[];
  /** The namespace's match env: a built-in chain's walk points the late-bound env (its `E`, LATE_ENV) at it first. */
  readonly menv: MatchEnv;
}

/**
 * A generated walk of the chain it was made for (its root): -1 when the root ends or returns (a built-in
 * chain's policy; a user chain's return to its caller), else the verdict code (ACCEPT; DROP, REJECT with
 * walkAt set). `sp0`: where its frames start on the walk stack (the caller's top when a walk calls another
 * from an indexed chain); a built-in chain's walk, called by a hook, starts at 0 and takes there the offset of its
 * slot's policy counts in countTab (`slotOffset`, NfCounters.countSlot's), counting an ACCEPT policy itself.
 */
export type WalkFn = (w: WalkHost, c: EvalCtx, tenv: TargetEnv, sp0: number) => number;

/** Runs chain `ch` as a jump or goto from an indexed chain does (its walk, made or interpreted): a WalkFn's result. */
export type EnterFn = (w: WalkHost, c: EvalCtx, tenv: TargetEnv, sp0: number, ch: CChain) => number;

/** Keeps the walked counts small integers (V8 Smis): Netfilter.table and the generated walks wrap them alike. */
export const WALK_MASK = 0x3fffffff;

/** The offset of the first slot with a block of pinned rules (nf-counters.ts; Netfilter pins the nat slots): a walk's `so` from here on has one. */
const SLOT_PIN_SO = slotOffset(SLOT.NAT_PRE, SLOT.NAT_PRE);

/** Chains reachable from a built-in chain, in all, beyond which no walk is generated. */
const MAX_RULES = 512;

/**
 * The chains reachable from `base`, base first, up to and including indexed chains (whose jumps are
 * calls, not states of this walk), in the order a walk first enters them (depth first, each chain's jumps
 * in rule order): the states, and the walk's constants declared in their order, follow a packet's way
 * through the chains (nat POSTROUTING's first rule jumps to KUBE-POSTROUTING, whose rules came last when the
 * last jump was taken first, so a new connection read the closure context's first and last lines);
 * null when they hold more than MAX_RULES rules.
 */
function reachable(base: CChain): CChain[] | null {
  const chains: CChain[] = [];
  const seen = new Set<CChain>([base]);
  let total = 0;
  // Frames of (chain, next rule to look at): an explicit stack, the chains' depth being the rules' number at most.
  const stack: [CChain, number][] = [[base, 0]];
  chains.push(base);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [ch, k] = top;
    if (k === 0 && ch.index === null) {
      total += ch.rules.length;
      if (total > MAX_RULES) return null;
    }
    if (ch.index !== null || k >= ch.rules.length) {
      stack.pop();
      continue;
    }
    top[1] = k + 1;
    const j = ch.rules[k]!.jump;
    if (j === null || seen.has(j)) continue;
    seen.add(j);
    chains.push(j);
    stack.push([j, 0]);
  }
  return chains;
}

/**
 * Pops the jump stack (RETURN or the end of a user chain); -1 when this walk's frames are gone (after a goto
 * from the root). A built-in chain's walk (called by a hook) keeps its frames from 0: its code is that of a
 * walk whose `sp` never reads `sp0` (V8 keeps it a small integer); an entered chain's from `b0`.
 */
const pop = (entered: boolean): string => `if (sp === ${entered ? 'b0' : '0'}) return -1; sp -= 2; st = stk[sp]; from = stk[sp + 1]; continue;`;

/**
 * The state of indexed chain `j` (`x<j>`: the chain, `xr<j>` its rules, `xi<j>` its index): the next
 * rule from `from` on whose tests pass, by its index (the interpreter's indexedScan, the same tests in
 * the same order), then that rule as Netfilter.traverse acts on it; a jump or goto runs the target
 * chain through `enter` with this walk's frames below it. Back in this state (`continue`) it scans on.
 * The rule found is counted here when its id is in its home quad (as ruleAction's hit, the id read from
 * the rule: KUBE-SERVICES' hits, ~3 a request in the scale workload, were each a call of hit() and count()).
 */
function indexedState(j: number, isBase: boolean, POP: string): string {
  const ret = isBase ? 'return -1;' : POP;
  return `ri = ixScan(x${j}, xi${j}, from, c);
        if (ri < 0) { w.walked = (w.walked + xr${j}.length - from) & ${WALK_MASK}; ${ret} }
        w.walked = (w.walked + ri + 1 - from) & ${WALK_MASK};
        from = ri + 1;
        cr = xr${j}[ri];
        ki = cr.id;
        ${hitSrc('ki', 'cr')}
        code = cr.code;
        if (code === ${TgCode.CONTINUE}) continue;
        if (code === ${TgCode.JUMP} || code === ${TgCode.GOTO}) {
          v = enter(w, c, tenv, sp, cr.jump);
          cs = -1;
          if (v !== -1) return v;
          if (code === ${TgCode.JUMP}) continue;
          ${ret}
        }
        if (code === ${TgCode.ACCEPT}) return code;
        if (code === ${TgCode.RETURN}) { ${ret} }
        tenv.dropReason = null;
        if (code < 0) {
          code = cr.target(c, tenv);
          cs = -1;
          if (code === 0) continue;
          if (code === ${TgCode.RETURN}) { ${ret} }
          if (code === ${TgCode.ACCEPT}) return code;
        }
        w.walkAt = cr;
        return code;`;
}

/**
 * The source of a rule's hit: NfCounters.count's home-quad case written out for the rule `rule` whose id is
 * `id` (its hash countHash's operations written by countHashSrc); an id elsewhere in the table, or a
 * trace, goes through hit().
 */
function hitSrc(id: string, rule: string): string {
  return `kt = w.countTab; kq = ${countHomeSrc(id, 'w')}; if (kt[kq] === ${id} && w.trace === null) { kt[kq + 1] += 1; kt[kq + 2] += ip.totalLength; } else w.hit(${rule}, ${id});`;
}

/**
 * A rule's object in a walk's code, R[r]: read only to trace its hit or for the verdict it decided (DROP, REJECT), so
 * not a constant of the closure's context (which a cold walk reads line by line: a slot per rule was ~a line in four).
 */
function ruleRef(r: number): string {
  return `R[${r}]`;
}

/**
 * A DNAT / SNAT target with an address in --to written out: a call of ext/nat.ts natBind (`NAT`, one function for
 * every rule) with the rule's numbers (NatParams) as the walk's constants, declared beside the rule's other ones, and
 * its manip and flags as literals (part of the walk's shape). The rule's own closure and its context were two cold
 * lines at each new connection's KUBE-SEP-* DNAT in a big cluster (issue 13). Null for another target (called).
 */
function natSrc(cr: CRule, g: GenEnv): string | null {
  const t = cr.rule.target;
  if (t === null || (t.kind !== 'DNAT' && t.kind !== 'SNAT')) return null;
  const p = natParams(t);
  if (!p.withIp) return null;
  const lo = konstOf(p.minIp, g);
  const hi = p.maxIp === p.minIp ? lo : konstOf(p.maxIp, g);
  const pLo = p.pMin < 0 ? String(p.pMin) : konstOf(p.pMin, g);
  const pHi = p.pMax === p.pMin ? pLo : konstOf(p.pMax, g);
  return `NAT(tenv, pkt, ${p.manip}, ${lo}, ${hi}, ${pLo}, ${pHi}, ${p.flags})`;
}

/** The next constant of the walk (`k<j>`, K[j]) holding `n`. */
function konstOf(n: number, g: GenEnv): string {
  g.consts!.push(n);
  return `k${g.consts!.length - 1}`;
}

/**
 * What follows the tests of rule `k` (state `state`, named r<r>) when they pass: the walked count,
 * counter and trace, then the target's code as Netfilter.table acts on it.
 */
function ruleAction(cr: CRule, k: number, r: number, id: string, state: number, isBase: boolean, pin: boolean, start: Map<CChain, number>, T: TargetFn[], POP: string, g: GenEnv): string {
  // tenv.dropReason is cleared where a verdict may read it (a standard DROP's is 'rule-drop'), not per rule.
  // The hit: NfCounters.count's home-quad case written out (the id is the walk's constant, its hash
  // countHash's operations written here by countHashSrc, not a constant more; a call of hit() and its reads
  // of the shared context cost more than the count itself); an id elsewhere in the table, or a trace, goes
  // through hit().
  let hit = hitSrc(id, `w.trace !== null ? ${ruleRef(r)} : null`);
  // One of a built-in chain's first rules, in a slot with a block (the nat slots, from SLOT_PIN_SO on: NfCounters'
  // pinned rules): counted beside the slot's policy, no hash (what the id's entry was: a line of its own, cold in a
  // cold namespace). The interpreter and a trace count it in the hash (hit()); reads add both.
  if (pin) hit = `if (so >= ${SLOT_PIN_SO} && w.trace === null) { kt = w.countTab; kt[so + ${2 + 2 * k}] += 1; kt[so + ${3 + 2 * k}] += ip.totalLength; } else { ${hit} }`;
  const act: string[] = [`w.walked = (w.walked + ${k + 1} - from) & ${WALK_MASK};`, `from = ${k + 1};`, hit];
  const ret = isBase ? 'return -1;' : POP;
  switch (cr.code) {
    case TgCode.CONTINUE:
      break;
    case TgCode.ACCEPT:
      act.push(`return ${TgCode.ACCEPT};`);
      break;
    case TgCode.DROP:
    case TgCode.REJECT:
      act.push('tenv.dropReason = null;', `w.walkAt = ${ruleRef(r)};`, `return ${cr.code};`);
      break;
    case TgCode.RETURN:
      act.push(ret);
      break;
    case TgCode.JUMP:
      // A jump to an empty chain (kube-proxy's KUBE-PROXY-FIREWALL, KUBE-EXTERNAL-SERVICES, ... on most
      // nodes) returns at once and adds no walked rule: the next rule follows (the switch falls through).
      if (cr.jump!.rules.length === 0) break;
      act.push(`stk[sp] = ${state + 1}; stk[sp + 1] = ${k + 1}; sp += 2;`, `st = ${start.get(cr.jump!)!}; from = 0; continue;`);
      break;
    case TgCode.GOTO:
      act.push(`st = ${start.get(cr.jump!)!}; from = 0; continue;`);
      break;
    default: {
      // A target that may change the packet or its conntrack entry (CT --notrack): the state bits are read again.
      // walkAt is read only for a DROP or REJECT (Netfilter.walkVerdict): an ACCEPT (a DNAT's) returns without the
      // rule (its context slot and the store's write barrier, cold lines once a new connection).
      const call = natSrc(cr, g) ?? `t${T.push(cr.target) - 1}(c, tenv)`;
      act.push('tenv.dropReason = null;', `code = ${call};`, 'cs = -1;', `if (code !== 0) { if (code === ${TgCode.RETURN}) { ${ret} } if (code === ${TgCode.ACCEPT}) return code; w.walkAt = ${ruleRef(r)}; return code; }`);
    }
  }
  return act.join(' ');
}

/** What genWalk gathers: the generator's env, the rules, targets, constants' declarations and cases so far. */
interface WalkParts {
  readonly g: GenEnv;
  readonly R: CRule[];
  readonly T: TargetFn[];
  readonly decl: string[];
  readonly cases: string[];
  readonly start: Map<CChain, number>;
  readonly POP: string;
  /** The chain is the root of a built-in chain's walk (called by a hook with its slot's offset): its first rules may be pinned. */
  readonly pin: boolean;
}

/** The cases of (non-indexed) chain `ch`'s rules, its states from `s0`, and the constants they read. */
function chainCases(ch: CChain, s0: number, isBase: boolean, p: WalkParts): void {
  const { g, R, T, decl, cases, start, POP } = p;
  // The rules' ids: a chain's are consecutive (compiled.ts newVariant numbers them in order), so one constant, its
  // first rule's (n<r>), and offsets in the code, not a slot per rule; else (never made so) a constant each (i<r>).
  const r0 = R.length;
  const b0 = ch.rules.length > 0 ? ch.rules[0]!.id : 0;
  const seq = ch.rules.every((cr, k) => cr.id === b0 + k);
  ch.rules.forEach((cr, k) => {
    const r = R.push(cr) - 1;
    const id = !seq ? `i${r}` : k === 0 ? `n${r0}` : `(n${r0} + ${k})`;
    const f0 = g.fns.length;
    const k0 = g.consts!.length;
    const t0 = T.length;
    const cond = ruleCondition(cr, g);
    const act = ruleAction(cr, k, r, id, s0 + k, isBase, p.pin && k < PIN_RULES, start, T, POP, g);
    for (let j = f0; j < g.fns.length; j++) decl.push(`const f${j} = F[${j}];`);
    for (let j = k0; j < g.consts!.length; j++) decl.push(`const k${j} = K[${j}];`);
    if (!seq) decl.push(`const i${r} = R[${r}].id;`);
    else if (k === 0) decl.push(`const n${r0} = R[${r}].id;`);
    for (let j = t0; j < T.length; j++) decl.push(`const t${j} = T[${j}];`);
    cases.push(`case ${s0 + k}: ${cond === '' ? `{ ${act} }` : `if (${cond}) { ${act} }`}`);
  });
}

/**
 * The generated walk rooted at chain `base` (a built-in chain, or a user chain an indexed chain jumps
 * to), or null when the chains it reaches (up to indexed ones) hold more than MAX_RULES rules. `enter`
 * runs the chains indexed ones jump to.
 */
export function genWalk(base: CChain, env: MatchEnv, enter: EnterFn): WalkFn | null {
  const chains = reachable(base);
  if (chains === null) return null;
  const entered = !base.builtin;
  const POP = pop(entered);
  // State numbers: each chain's rules, then its end; an indexed chain is one state.
  const start = new Map<CChain, number>();
  let s = 0;
  for (const ch of chains) {
    start.set(ch, s);
    s += ch.index !== null ? 1 : ch.rules.length + 1;
  }
  // Addresses and single ports are constants k0, k1, ... (scan-gen's konst): the per-node variants of a
  // chain (nat POSTROUTING through each node's FLANNEL-POSTRTG, which differ only in the node's CIDR)
  // have walks of one source, one factory, code V8 compiles and optimizes once for all of them.
  const g: GenEnv = { env, fns: [], usesCt: false, consts: [] };
  const R: CRule[] = [];
  const T: TargetFn[] = [];
  const cases: string[] = [];
  const X: CChain[] = [];
  // The walk's constants (a closure context: one per chain and namespace variant, cold in a big cluster when a new
  // connection's packet runs KUBE-SVC-* and KUBE-SEP-*) declared in the order the rules use them, which is the order
  // of their slots: a walk that stops early or jumps reads a few neighbouring lines, not one line per kind of
  // constant (a chain's rule ids one constant); the rule objects, read only to trace or for a DROP / REJECT, none (R[r]).
  const decl: string[] = [];
  for (const ch of chains) {
    const isBase = ch === base;
    const s0 = start.get(ch)!;
    if (ch.index !== null) {
      const j = X.push(ch) - 1;
      decl.push(`const x${j} = X[${j}]; const xr${j} = x${j}.rules; const xi${j} = x${j}.index;`);
      cases.push(`case ${s0}: {\n        ${indexedState(j, isBase, POP)}\n      }`);
      continue;
    }
    chainCases(ch, s0, isBase, { g, R, T, decl, cases, start, POP, pin: isBase && !entered });
    const n = ch.rules.length;
    // A built-in chain's end with an ACCEPT policy, untraced: the policy counted here (`so`, its slot's counts in
    // countTab: NfCounters.countSlot's), ACCEPT returned; else -1, Netfilter.policy's (three calls a walk, ~70 a request).
    const end = isBase && !entered && !base.dropPolicy ? `if (w.trace === null) { kt = w.countTab; kt[so] += 1; kt[so + 1] += ip.totalLength; return ${TgCode.ACCEPT}; } return -1;` : 'return -1;';
    cases.push(`case ${s0 + n}: w.walked = (w.walked + ${n} - from) & ${WALK_MASK}; ${isBase ? end : POP}`);
  }
  // A built-in chain's walk first points the late-bound env (E, LATE_ENV) at its namespace's (WalkHost.menv): the hooks
  // do not (a store of a cold object's pointer is a write barrier reading that object's page flags), rules run here.
  const src = `${decl.join('\n')}
return function walk(w, c, tenv, ${entered ? 'sp0' : 'so'}) {
  const ip = c.ip;
  const pkt = c.pkt;
  const stk = w.walkStack;
  let cs = -1;${entered ? '\n  const b0 = sp0 | 0;' : ''}
  let sp = ${entered ? 'b0' : '0'};
  let st = 0;
  let from = 0;
  let code = 0;
  let kt = w.countTab;
  let kq = 0;${entered ? '' : '\n  if (E.cur !== w.menv) E.cur = w.menv;'}${X.length > 0 ? '\n  let ri = 0;\n  let v = 0;\n  let cr = null;\n  let ki = 0;' : ''}
  for (;;) {
    switch (st) {
      ${cases.join('\n      ')}
      default:
        throw new Error('walk: state ' + st);
    }
  }
};`;
  const factory = factoryOf(walkFactories, WALK_FACTORIES_MAX, src, ['F', 'R', 'T', 'E', 'ctStateBits', 'K', 'X', 'ixScan', 'enter', 'NAT']);
  return factory(g.fns, R, T, env, ctStateBits, g.consts!, X, indexedScan, enter, natBind);
}

type WalkFactory = (F: MatchFn[], R: CRule[], T: TargetFn[], E: MatchEnv, ctb: typeof ctStateBits, K: number[], X: CChain[], ixScan: typeof indexedScan, enter: EnterFn, nat: typeof natBind) => WalkFn;

/** Walk factories by generated source (as scan-gen's): the walks of one shape are closures of one function. */
const walkFactories = new Map<string, WalkFactory>();
const WALK_FACTORIES_MAX = 1024;
