// netfilter/walk-gen — ipt_do_table for one built-in chain as one generated function of straight-line
// code: the rules in order, each jumped-to chain written out as a labelled block inside the jumping
// rule's `if` (RETURN and the chain's end leave the block: the caller's next rule follows), a goto's
// chain likewise, then the goto-ing chain's own return. The tables are acyclic (checkAcyclic), so every
// branch goes forward: no jump stack, no dispatch per rule. The walk of Netfilter.table (walked counts,
// counters, trace, dropReason, verdict codes) in the same order: the rule tests are scan-gen's
// expressions and closure calls.
// Layer: netfilter (imports this folder).
// Mirrors net/ipv4/netfilter/ip_tables.c ipt_do_table (the jumpstack, XT_RETURN, the underflow).
import type { CChain, CRule } from './compiled.js';
import { bindClosures, factoryOf, ruleCondition, type GenEnv } from './scan-gen.js';
import { TgCode, type TargetEnv, type TargetFn } from './targets.js';
import { ctStateBits, type EvalCtx, type MatchEnv, type MatchFn } from './x-tables.js';

/** What a generated walk calls on its namespace (Netfilter implements it). */
export interface WalkHost {
  /** Rules the linear walk evaluated (the cost model's count; 30-bit wrap as Netfilter.table keeps it). */
  walked: number;
  /** Counts (and traces) a matched rule. */
  hit(cr: CRule): void;
  /** The rule that decided a DROP / REJECT / other verdict code the walk returned. */
  walkAt: CRule | null;
}

/** A generated walk: -1 for the policy, else the verdict code (ACCEPT; DROP, REJECT with walkAt set). */
export type WalkFn = (w: WalkHost, c: EvalCtx, tenv: TargetEnv) => number;

/** Keeps the walked counts small integers (V8 Smis): Netfilter.table and the generated walks wrap them alike. */
export const WALK_MASK = 0x3fffffff;

/** Chains reachable from a built-in chain, in all, beyond which no walk is generated. */
const MAX_RULES = 512;
/** Rules of the walk with every jump's chain written out at its call site, beyond which no walk is generated. */
const MAX_INSTANCES = 512;

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

/** Rules of `ch` with its callees written out at each call site (the tables are acyclic: checkAcyclic), Infinity past `cap`. */
function instances(ch: CChain, memo: Map<CChain, number>, cap: number): number {
  const have = memo.get(ch);
  if (have !== undefined) return have;
  let n = ch.rules.length;
  for (const cr of ch.rules) if (cr.jump !== null && n <= cap) n += instances(cr.jump, memo, cap);
  if (n > cap) n = Infinity;
  memo.set(ch, n);
  return n;
}

/** What the generated code of one walk collects: the rules, targets and match constants it reads, and its labels. */
interface Gen {
  g: GenEnv;
  R: CRule[];
  T: TargetFn[];
  labels: number;
}

/**
 * The code of chain `ch` as one block: its rules in order, a jump's chain written out inside the
 * rule's `if` (a labelled block; its RETURN and its end leave the block, and the caller goes on with
 * its next rule), a goto's chain likewise, after which the goto's chain returns as `ch` would.
 * `ret` is what a RETURN (or the end) of `ch` does: `return -1` in the built-in chain (its policy),
 * `break L<n>` out of a jumped-to chain's block. `from` counts the rules evaluated in the current chain
 * up to the last one that matched, as Netfilter.table adds them to `walked`.
 */
function chainCode(ch: CChain, ret: string, x: Gen, out: string[], depth: number): void {
  const pad = '  '.repeat(depth);
  const n = ch.rules.length;
  ch.rules.forEach((cr, k) => {
    const r = x.R.push(cr) - 1;
    const cond = ruleCondition(cr, x.g);
    const act: string[] = [`w.walked = (w.walked + ${k + 1} - from) & ${WALK_MASK};`, `from = ${k + 1};`, `w.hit(r${r});`];
    // tenv.dropReason is cleared where a verdict may read it (a standard DROP's is 'rule-drop'), not per rule.
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
      case TgCode.JUMP: {
        const l = `L${x.labels++}`;
        act.push('from = 0;', `${l}: {`);
        const inner: string[] = [];
        chainCode(cr.jump!, `break ${l};`, x, inner, depth + 2);
        act.push(...inner, `${pad}  }`, `${pad}  from = ${k + 1};`);
        break;
      }
      case TgCode.GOTO: {
        act.push('from = 0;');
        const inner: string[] = [];
        chainCode(cr.jump!, ret, x, inner, depth + 1);
        act.push(...inner);
        break;
      }
      default: {
        // A target that may change the packet or its conntrack entry (CT --notrack): the state bits are read again.
        const t = x.T.push(cr.target) - 1;
        act.push('tenv.dropReason = null;', `code = t${t}(c, tenv);`, 'cs = -1;', `if (code !== 0) { if (code === ${TgCode.RETURN}) { ${ret} } w.walkAt = r${r}; return code; }`);
      }
    }
    const body = act.map((a) => (a.startsWith(' ') ? a : `${pad}  ${a}`)).join('\n');
    out.push(cond === '' ? `${pad}{\n${body}\n${pad}}` : `${pad}if (${cond}) {\n${body}\n${pad}}`);
  });
  // The end of the chain: its policy (the built-in chain's ret), or back to the caller.
  out.push(`${pad}w.walked = (w.walked + ${n} - from) & ${WALK_MASK};`, `${pad}${ret}`);
}

/**
 * The generated walk of built-in chain `base`, or null when a chain it reaches has a destination
 * index (its scan merges candidates), the chains hold more than MAX_RULES rules, or written out at
 * every call site more than MAX_INSTANCES. Straight-line code: each chain a block at each of its call
 * sites (the tables are acyclic), so a jump, a RETURN and a goto are forward branches, with no jump
 * stack and no dispatch per rule.
 */
export function genWalk(base: CChain, env: MatchEnv): WalkFn | null {
  if (reachable(base) === null || instances(base, new Map(), MAX_INSTANCES) > MAX_INSTANCES) return null;
  // Addresses and single ports are constants k0, k1, ... (scan-gen's konst): the per-node variants of a
  // chain (nat POSTROUTING through each node's FLANNEL-POSTRTG, which differ only in the node's CIDR)
  // have walks of one source, one factory, code V8 compiles and optimizes once for all of them.
  const x: Gen = { g: { env, fns: [], usesCt: false, consts: [] }, R: [], T: [], labels: 0 };
  const body: string[] = [];
  chainCode(base, 'return -1;', x, body, 1);
  const src = `${bindClosures(x.g)}
${x.R.map((_, j) => `const r${j} = R[${j}];`).join('\n')}
${x.T.map((_, j) => `const t${j} = T[${j}];`).join('\n')}
${x.g.consts!.map((_, j) => `const k${j} = K[${j}];`).join('\n')}
return function walk(w, c, tenv) {
  const ip = c.ip;
  const pkt = c.pkt;
  let cs = -1;
  let from = 0;
  let code = 0;
${body.join('\n')}
};`;
  const factory = factoryOf(walkFactories, WALK_FACTORIES_MAX, src, ['F', 'R', 'T', 'E', 'ctStateBits', 'K']);
  return factory(x.g.fns, x.R, x.T, env, ctStateBits, x.g.consts!);
}

type WalkFactory = (F: MatchFn[], R: CRule[], T: TargetFn[], E: MatchEnv, ctb: typeof ctStateBits, K: number[]) => WalkFn;
/** Walk factories by generated source (as scan-gen's): the walks of one shape are closures of one function. */
const walkFactories = new Map<string, WalkFactory>();
const WALK_FACTORIES_MAX = 1024;
