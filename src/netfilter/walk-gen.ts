// netfilter/walk-gen — ipt_do_table for one built-in chain as one generated function: every chain
// reachable from it is a block of switch cases (one per rule, falling through), a jump pushes the
// resume point on the walk stack (one for every namespace: hooks never nest) and switches to the
// callee's block, RETURN and a chain's end pop it, goto switches without a push. The walk of
// Netfilter.table (walked counts, counters, trace, dropReason, verdict codes) in the same order,
// without a call per chain visited: the rule tests are scan-gen's expressions and closure calls.
// Layer: netfilter (imports this folder).
// Mirrors net/ipv4/netfilter/ip_tables.c ipt_do_table (the jumpstack, XT_RETURN, the underflow).
import type { CChain, CRule } from './compiled.js';
import { countHash } from './nf-counters.js';
import { bindClosures, factoryOf, ruleCondition, type GenEnv } from './scan-gen.js';
import { TgCode, type TargetEnv, type TargetFn } from './targets.js';
import { ctStateBits, type EvalCtx, type MatchEnv, type MatchFn } from './x-tables.js';

/** What a generated walk calls on its namespace (Netfilter implements it). */
export interface WalkHost {
  /** Rules the linear walk evaluated (the cost model's count; 30-bit wrap as Netfilter.table keeps it). */
  walked: number;
  /** Counts (and traces) a matched rule. */
  hit(cr: CRule): void;
  /** The trace callback (non-null: every hit goes through hit()). */
  readonly trace: unknown;
  /** The namespace's counter table and its layout (nf-counters.ts): a hit whose id is in its home quad is counted here. */
  readonly countTab: Float64Array;
  readonly countHead: number;
  readonly countMask: number;
  /** The rule that decided a DROP / REJECT / other verdict code the walk returned. */
  walkAt: CRule | null;
  /** The jump stack: (resume state, resume rule index) pairs. */
  readonly walkStack: number[];
}

/** A generated walk: -1 for the policy, else the verdict code (ACCEPT; DROP, REJECT with walkAt set). */
export type WalkFn = (w: WalkHost, c: EvalCtx, tenv: TargetEnv) => number;

/** Keeps the walked counts small integers (V8 Smis): Netfilter.table and the generated walks wrap them alike. */
export const WALK_MASK = 0x3fffffff;

/** Chains reachable from a built-in chain, in all, beyond which no walk is generated. */
const MAX_RULES = 512;

/** The chains reachable from `base`, base first; null when one is indexed or they hold more than MAX_RULES rules. */
function reachable(base: CChain): CChain[] | null {
  const chains: CChain[] = [];
  const seen = new Set<CChain>();
  let total = 0;
  const stack = [base];
  while (stack.length > 0) {
    const ch = stack.pop()!;
    if (seen.has(ch)) continue;
    seen.add(ch);
    if (ch.index !== null) return null;
    total += ch.rules.length;
    if (total > MAX_RULES) return null;
    chains.push(ch);
    for (const cr of ch.rules) if (cr.jump !== null && !seen.has(cr.jump)) stack.push(cr.jump);
  }
  return chains;
}

/** Pops the jump stack (RETURN or the end of a user chain); the policy when it is empty (after a goto from the base). */
const POP = 'if (sp === 0) return -1; sp -= 2; st = stk[sp]; from = stk[sp + 1]; continue;';

/**
 * What follows the tests of rule `k` (state `state`, named r<r>) when they pass: the walked count,
 * counter and trace, then the target's code as Netfilter.table acts on it.
 */
function ruleAction(cr: CRule, k: number, r: number, state: number, isBase: boolean, start: Map<CChain, number>, T: TargetFn[]): string {
  // tenv.dropReason is cleared where a verdict may read it (a standard DROP's is 'rule-drop'), not per rule.
  // The hit: NfCounters.count's home-quad case written out (the id and its hash are the walk's
  // constants; a call of hit() and its reads of the shared context cost more than the count itself);
  // an id elsewhere in the table, or a trace, goes through hit().
  const hit = `kt = w.countTab; kq = w.countHead + ((h${r} & w.countMask) << 2); if (kt[kq] === i${r} && w.trace === null) { kt[kq + 1] += 1; kt[kq + 2] += ip.totalLength; } else w.hit(r${r});`;
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
      act.push('tenv.dropReason = null;', `w.walkAt = r${r};`, `return ${cr.code};`);
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
      const t = T.push(cr.target) - 1;
      act.push('tenv.dropReason = null;', `code = t${t}(c, tenv);`, 'cs = -1;', `if (code !== 0) { if (code === ${TgCode.RETURN}) { ${ret} } w.walkAt = r${r}; return code; }`);
    }
  }
  return act.join(' ');
}

/**
 * The generated walk of built-in chain `base`, or null when a chain it reaches has a destination
 * index (its scan merges candidates) or the chains hold more than MAX_RULES rules.
 */
export function genWalk(base: CChain, env: MatchEnv): WalkFn | null {
  const chains = reachable(base);
  if (chains === null) return null;
  // State numbers: each chain's rules, then its end.
  const start = new Map<CChain, number>();
  let s = 0;
  for (const ch of chains) {
    start.set(ch, s);
    s += ch.rules.length + 1;
  }
  // Addresses and single ports are constants k0, k1, ... (scan-gen's konst): the per-node variants of a
  // chain (nat POSTROUTING through each node's FLANNEL-POSTRTG, which differ only in the node's CIDR)
  // have walks of one source, one factory, code V8 compiles and optimizes once for all of them.
  const g: GenEnv = { env, fns: [], usesCt: false, consts: [] };
  const R: CRule[] = [];
  const T: TargetFn[] = [];
  const cases: string[] = [];
  for (const ch of chains) {
    const isBase = ch === base;
    const s0 = start.get(ch)!;
    ch.rules.forEach((cr, k) => {
      const r = R.push(cr) - 1;
      const cond = ruleCondition(cr, g);
      const act = ruleAction(cr, k, r, s0 + k, isBase, start, T);
      cases.push(`case ${s0 + k}: ${cond === '' ? `{ ${act} }` : `if (${cond}) { ${act} }`}`);
    });
    const n = ch.rules.length;
    cases.push(`case ${s0 + n}: w.walked = (w.walked + ${n} - from) & ${WALK_MASK}; ${isBase ? 'return -1;' : POP}`);
  }
  const src = `${bindClosures(g)}
${R.map((_, j) => `const r${j} = R[${j}]; const i${j} = r${j}.id; const h${j} = HS[${j}];`).join('\n')}
${T.map((_, j) => `const t${j} = T[${j}];`).join('\n')}
${g.consts!.map((_, j) => `const k${j} = K[${j}];`).join('\n')}
return function walk(w, c, tenv) {
  const ip = c.ip;
  const pkt = c.pkt;
  const stk = w.walkStack;
  let cs = -1;
  let sp = 0;
  let st = 0;
  let from = 0;
  let code = 0;
  let kt = w.countTab;
  let kq = 0;
  for (;;) {
    switch (st) {
      ${cases.join('\n      ')}
      default:
        throw new Error('walk: state ' + st);
    }
  }
};`;
  const factory = factoryOf(walkFactories, WALK_FACTORIES_MAX, src, ['F', 'R', 'T', 'E', 'ctStateBits', 'K', 'HS']);
  return factory(g.fns, R, T, env, ctStateBits, g.consts!, R.map((cr) => countHash(cr.id)));
}

type WalkFactory = (F: MatchFn[], R: CRule[], T: TargetFn[], E: MatchEnv, ctb: typeof ctStateBits, K: number[], HS: number[]) => WalkFn;
/** Walk factories by generated source (as scan-gen's): the walks of one shape are closures of one function. */
const walkFactories = new Map<string, WalkFactory>();
const WALK_FACTORIES_MAX = 1024;
