// netfilter/compiled — rules compiled once and shared between namespaces. Layer: netfilter.
// A compiled chain (CChain) holds its rules' match closures, targets, jump pointers and a destination
// index; it carries no counters (those are per namespace, kept by the Netfilter under each rule's and
// chain's `id`). kube-proxy writes nearly the same rules on every node: a chain whose rule list is the
// same array (restoreInto and the parse cache of k8s/kube-proxy keep untouched chains' arrays shared)
// and whose jumps resolve to the same compiled chains is compiled once, in whichever namespace loads it
// first, and reused by every other (the chain interning of issue 13). Compiled matches read the
// evaluating namespace's state through a late-bound MatchEnv (LATE_ENV), set by Netfilter.hook.
// Mirrors nothing in the kernel, where each netns holds its own copy of every table (xt_table_info).
import { compileRuleTests, type EvalCtx, type MatchEnv, type MatchFn } from './matches.js';
import { isBuiltinChain, type Chain, type Rule, type Table, type TableName, type Target } from './rules.js';
import { genScan, type ScanFn } from './scan-gen.js';
import { internChain, internTable, sameChain } from './chain-intern.js';
import { TgCode, compileTarget, type TargetEnv, type TargetFn } from './targets.js';
import { WALK_MASK, genWalk, type WalkFn, type WalkHost } from './walk-gen.js';
import { buildIndex, indexedScan, passes, type ChainIndex } from './dst-index.js';

export type { ChainIndex } from './dst-index.js';

/** One compiled rule. `id` keys the namespace's counter for it. */
export interface CRule {
  readonly id: number;
  readonly rule: Rule;
  readonly index: number;
  readonly tests: MatchFn[];
  readonly target: TargetFn;
  /** The code `target` always returns (ACCEPT, DROP, RETURN, jump, goto, no target), or -1: call it. */
  readonly code: TgCode | -1;
  /** Chain object for jump/goto. */
  readonly jump: CChain | null;
  text: string | null;
  readonly chainName: string;
}

/** One compiled chain. `id` keys the namespace's policy counter (built-in chains). */
export interface CChain {
  readonly id: number;
  readonly name: string;
  readonly builtin: boolean;
  /** The policy is DROP (a built-in chain's; read per packet that reaches it, so not through model). */
  readonly dropPolicy: boolean;
  /** The chain as loaded (name, policy, the counters it was loaded with, rules). Shared: never mutated. */
  readonly model: Chain;
  readonly rules: CRule[];
  /** Indices of the rules that jump or go to a chain. */
  readonly jumpRules: number[];
  /** The chain objects those rules' targets were compiled from (in jumpRules order). */
  readonly deps: Chain[];
  readonly index: ChainIndex | null;
  /**
   * The first rule >= i whose tests pass, or -1: interpScan until the chain has been scanned JIT.hot
   * times, then the generated scan of its rules (scan-gen.ts; shared by every variant of the rule array).
   */
  scan: ScanFn<CChain>;
  /** Scans by interpScan so far; -1 when the chain is never generated (indexed, or too long). */
  runs: number;
  /**
   * The chain's generated walk (walk-gen.ts), rooted at it: a built-in chain's, made after JIT.walkHot
   * traversals; a user chain's, when an indexed chain's rules jump to it (enterChain), after JIT.enterHot
   * entries. Null until then or when it cannot have one.
   */
  walk: WalkFn | null;
  /** Its walk was made or refused (genWalk is asked once). */
  walkTried: boolean;
  /** Traversals (entries) of every variant of its rule array (one object for all): at JIT.walkHot (enterHot) each variant gets its walk. */
  readonly heat: { n: number };
}

/** Where LATE_ENV keeps the running namespace's MatchEnv (see LateMatchEnv.cur). */
class EnvSlot {
  constructor(public env: MatchEnv | null) {}
}

/** Changes of LATE_ENV's env after which it takes a new (young) EnvSlot. */
const ENV_SLOT_CHANGES = 256;

/** The MatchEnv of the namespace whose rules are running; every compiled match sees it through LATE_ENV. */
class LateMatchEnv implements MatchEnv {
  /**
   * The env, in an object young most of the time: a pointer stored into an old object (LATE_ENV lives as long as the
   * process) is a write barrier that tests the page flags of the stored object, an env of one of a big cluster's
   * namespaces on a page whose header is a cold line (~1 LL miss per change of namespace, ~8 a request in the scale
   * window); stored into a young object the barrier stops at the holder's own page (young, not marking: no pointer from
   * it is recorded). A new slot every ENV_SLOT_CHANGES changes (a small object and one recorded store) so the one in
   * use is replaced before it survives two scavenges and is promoted.
   */
  private slot = new EnvSlot(null);
  private changes = 0;
  get cur(): MatchEnv | null {
    return this.slot.env;
  }
  set cur(env: MatchEnv | null) {
    if (++this.changes < ENV_SLOT_CHANGES) this.slot.env = env;
    else {
      this.changes = 0;
      this.slot = new EnvSlot(env);
    }
  }
  isLocalAddress(ip: number): boolean {
    return this.cur!.isLocalAddress(ip);
  }
  get conntrack(): MatchEnv['conntrack'] {
    return this.cur!.conntrack;
  }
  random(p: number): boolean {
    return this.cur!.random(p);
  }
  get recent(): MatchEnv['recent'] {
    return this.cur!.recent;
  }
  get ipsets(): MatchEnv['ipsets'] {
    return this.cur!.ipsets;
  }
  reverseRoute(addr: number): ReturnType<MatchEnv['reverseRoute']> {
    return this.cur!.reverseRoute(addr);
  }
}

/** The late-bound env shared compiled rules read; Netfilter.hook points it at its own env while it runs. */
export const LATE_ENV = new LateMatchEnv();

let nextId = 1;
/** Compiled tests and target of a rule record, shared by every chain variant holding the rule. */
const ruleCode = new WeakMap<Rule, { tests: MatchFn[]; target: TargetFn; code: TgCode | -1 }>();
/** Generated scans by rule array (every variant of a rule array scans alike: jumps play no part). */
const scanCache = new WeakMap<Rule[], ScanFn>();
/** CChain.heat by rule array. */
const walkHeat = new WeakMap<Rule[], { n: number }>();
/** Compiled chains by their model's rule array (variants differ in name, policy, jump targets or index threshold). */
const chainCache = new WeakMap<Rule[], CChain[]>();
/** The chain a jump rule led to when it was last compiled. */
const lastTarget = new WeakMap<Rule, Chain>();
/** Compiled chains from which no loop is reachable (a compiled chain never changes). */
const acyclic = new WeakSet<CChain>();

function codeOf(r: Rule): { tests: MatchFn[]; target: TargetFn; code: TgCode | -1 } {
  let code = ruleCode.get(r);
  if (code === undefined) ruleCode.set(r, (code = { tests: compileRuleTests(r, LATE_ENV), target: compileTarget(r.target), code: fixedCode(r.target) }));
  return code;
}

/** The verdict code of a target that only returns one (the walker then does not call it), or -1. */
function fixedCode(t: Target | null): TgCode | -1 {
  if (t === null) return TgCode.CONTINUE;
  switch (t.kind) {
    case 'ACCEPT':
      return TgCode.ACCEPT;
    case 'DROP':
      return TgCode.DROP;
    case 'RETURN':
      return TgCode.RETURN;
    case 'jump':
      return TgCode.JUMP;
    case 'goto':
      return TgCode.GOTO;
    default:
      return -1;
  }
}

/**
 * When chains get a generated scan: after `hot` interpreted scans (Infinity: never; the differential
 * test runs the interpreter so), if the chain has at most `maxRules` rules and no destination index.
 * Generating and first running a scan costs ~50 µs (bench/README, session 19), about what 256
 * interpreted scans cost more than generated ones: the SVC/SEP chains of a big cluster, each visited
 * by few connections, stay interpreted (tens of thousands of functions would cost seconds and memory).
 */
export const JIT = {
  hot: 256,
  maxRules: 256,
  /**
   * Traversals of a built-in chain's rule array (all its variants: a big cluster's per-node nat
   * POSTROUTING, each traversed rarely) before its walks are generated; walks of one shape share their
   * code (walk-gen, addresses as constants). H1 makes 8 walks; at 16,384 they came late (bench/README).
   */
  walkHot: 1024,
  /**
   * Entries of a user chain's rule array from an indexed chain (a big cluster's KUBE-SERVICES jumping
   * to KUBE-SVC-*, each entered by that Service's new connections) before its walk is generated; until
   * then interpWalk runs it. Walks of one shape share their code (a Service's chains differ in constants).
   */
  enterHot: 256,
  /** False: no generated walks (tests of the scans alone). */
  walk: true,
};

/**
 * The interpreter's scan: each candidate rule's tests through one call site; counts the chain's scans
 * toward its generated one. On its first scan a chain takes the generated scan of its rule array if
 * another variant made it (a big cluster's per-node variants of a chain are each scanned little).
 */
export function interpScan(c: EvalCtx, i: number, chain: CChain): number {
  if (chain.runs >= 0) {
    const n = ++chain.runs;
    if ((n === 1 && JIT.hot !== Infinity) || n >= JIT.hot) {
      upgrade(chain, n >= JIT.hot);
      if (chain.scan !== interpScan) return chain.scan(c, i, chain);
    }
  }
  const rules = chain.rules;
  if (chain.index !== null) return indexedScan(chain, chain.index, i, c);
  for (let ri = i; ri < rules.length; ri++) if (passes(rules[ri]!.tests, c)) return ri;
  return -1;
}

/** Built-in chain `base`'s generated walk once its rule array is hot (null before, or when genWalk refuses it). */
export function walkOf(base: CChain): WalkFn | null {
  if (base.walk !== null || base.walkTried || !JIT.walk || ++base.heat.n < JIT.walkHot) return base.walk;
  base.walkTried = true;
  base.walk = genWalk(base, LATE_ENV, enterChain);
  return base.walk;
}

/**
 * A jump or goto from an indexed chain in a generated walk (walk-gen.ts EnterFn): chain `ch` run by its
 * own walk, made once JIT.enterHot entries of its rule array have been counted, else by interpWalk.
 */
export function enterChain(w: WalkHost, c: EvalCtx, tenv: TargetEnv, sp0: number, ch: CChain): number {
  const walk = ch.walk;
  if (walk !== null) return walk(w, c, tenv, sp0);
  if (ch.rules.length === 0) return -1;
  if (!ch.walkTried && JIT.walk && ++ch.heat.n >= JIT.enterHot) {
    ch.walkTried = true;
    ch.walk = genWalk(ch, LATE_ENV, enterChain);
    if (ch.walk !== null) return ch.walk(w, c, tenv, sp0);
  }
  return interpWalk(w, c, tenv, sp0, ch);
}

/**
 * Netfilter.traverse's loop for user chain `ch` entered from an indexed chain, with a generated walk's
 * result (-1 when `ch` returns; a verdict code, walkAt set for DROP / REJECT / a target's code): the same
 * scans, counts, hits and targets in the same order. A jump is a call (the chains form no loop); it
 * keeps no frames on the walk stack, so the walks it calls start theirs at the caller's `sp0`.
 */
function interpWalk(w: WalkHost, c: EvalCtx, tenv: TargetEnv, sp0: number, ch: CChain): number {
  const rules = ch.rules;
  let i = 0;
  for (;;) {
    const scan = ch.scan;
    const ri = scan === interpScan ? interpScan(c, i, ch) : scan(c, i, ch);
    w.walked = (w.walked + (ri < 0 ? rules.length : ri + 1) - i) & WALK_MASK;
    if (ri < 0) return -1;
    const cr = rules[ri]!;
    i = ri + 1;
    w.hit(cr, cr.id);
    let code: number = cr.code;
    if (code === TgCode.CONTINUE) continue;
    if (code === TgCode.JUMP || code === TgCode.GOTO) {
      const v = enterChain(w, c, tenv, sp0, cr.jump!);
      if (v !== -1 || code === TgCode.GOTO) return v;
      continue;
    }
    if (code === TgCode.ACCEPT) return code;
    if (code === TgCode.RETURN) return -1;
    tenv.dropReason = null;
    if (code < 0) {
      code = cr.target(c, tenv);
      if (code === TgCode.CONTINUE) continue;
      if (code === TgCode.RETURN) return -1;
    }
    w.walkAt = cr;
    return code;
  }
}

/** Gives `chain` the generated scan of its rule array (made when `make`, else only if there is one), or marks it never to get one. */
function upgrade(chain: CChain, make: boolean): void {
  if (chain.index !== null || chain.rules.length > JIT.maxRules) {
    chain.runs = -1;
    return;
  }
  const key = chain.model.rules;
  let fn = scanCache.get(key);
  if (fn === undefined) {
    if (!make) return;
    scanCache.set(key, (fn = genScan(chain.rules, LATE_ENV)));
  }
  chain.scan = fn;
  chain.runs = -1;
}

function jumpName(r: Rule): string | null {
  const t = r.target;
  return t && (t.kind === 'jump' || t.kind === 'goto') ? t.chain : null;
}

/** Thrown inside compileTable when the jumps form a loop (then the table is compiled unshared). */
class LoopFound extends Error {}

/** A canonical table's compiled chains in its order, shared ones reused; throws on an unknown jump target or a loop. */
export function compileTable(t: Table, indexMin: number): CChain[] {
  return compileFull(t, indexMin).out;
}

/** A table's compiled chains in canonical order: `base` (a template's, shared) and the chains that differ, by index. */
export interface CompiledTable {
  readonly base: CChain[];
  readonly patch: ReadonlyMap<number, CChain> | null;
}

/** The compiled chains of `ct` as one array (inspection paths; a fresh array when patched). */
export function chainsOf(ct: CompiledTable): CChain[] {
  if (ct.patch === null) return ct.base;
  const out = ct.base.slice();
  for (const [i, cc] of ct.patch) out[i] = cc;
  return out;
}

/** The compiled chain at index `i` of `ct`. */
export function chainAt(ct: CompiledTable, i: number): CChain {
  return ct.patch?.get(i) ?? ct.base[i]!;
}

/** A big table compiled in full, against which the next tables of that name are compared (issue 13). */
interface Template {
  readonly chains: Chain[];
  readonly out: CChain[];
  byName: Map<string, number> | null;
  /** Indices of the chains that jump to each chain name. */
  rdeps: Map<string, number[]> | null;
}

/** Tables with fewer chains are compiled in full (the resolution is cheap enough). */
const TEMPLATE_MIN_CHAINS = 64;
const templates = new Map<string, Template>();

/**
 * Compiles a canonical table, sharing compiled chains (and, for big tables that differ from the last
 * big table of the same name in a few chains only, the array of them) with earlier loads. kube-proxy
 * writes the same thousands of chains on every node; a node's own chains (flannel's, the built-in
 * chains' appended rules, Local policies) are a handful: they and the chains that jump to them are
 * resolved, every other chain is the template's. Same result as compileTable (the same compiled chain
 * objects), in time proportional to the table's length for the comparison plus the chains that differ.
 */
export function compileTableShared(t: Table, indexMin: number): CompiledTable {
  if (t.chains.length < TEMPLATE_MIN_CHAINS) t = internTable(t);
  const key = `${t.name}/${indexMin}`;
  const tpl = templates.get(key);
  if (tpl !== undefined && tpl.chains.length === t.chains.length) {
    const r = compileAgainst(t, tpl, indexMin);
    if (r !== null) return r;
  }
  const { out, shared } = compileFull(t, indexMin);
  if (shared && t.chains.length >= TEMPLATE_MIN_CHAINS) templates.set(key, { chains: t.chains, out, byName: null, rdeps: null });
  return { base: out, patch: null };
}

/** `t` compiled as the template's chains plus the few that differ; null when too many differ or a name does not line up. */
function compileAgainst(t: Table, tpl: Template, indexMin: number): CompiledTable | null {
  let a = t.chains;
  const b = tpl.chains;
  const limit = Math.max(16, a.length >> 3);
  const diff: number[] = [];
  let copied = false;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (x.name !== y.name) return null;
    if (sameChain(x, y)) continue;
    const x2 = internChain(t.name, x, y);
    if (x2 !== x) {
      if (!copied) (a = a.slice()), (copied = true);
      a[i] = x = x2;
      if (sameChain(x, y)) continue;
    }
    diff.push(i);
    if (diff.length > limit) return null;
  }
  if (diff.length === 0) return { base: tpl.out, patch: null };
  if (tpl.byName === null) indexTemplate(tpl);
  const byName = tpl.byName!;
  const rdeps = tpl.rdeps!;
  // The chains that differ and every chain that reaches one of them through the template's jumps.
  const dirty = new Set<number>(diff);
  const queue = diff.slice();
  while (queue.length > 0) {
    const i = queue.pop()!;
    const from = rdeps.get(b[i]!.name);
    if (from === undefined) continue;
    for (const j of from) {
      if (dirty.has(j)) continue;
      dirty.add(j);
      if (dirty.size > limit) return null;
      queue.push(j);
    }
  }
  const memo = new Map<number, CChain | null>();
  const resolve = (i: number): CChain => {
    if (!dirty.has(i)) return tpl.out[i]!;
    const have = memo.get(i);
    if (have === null) throw new LoopFound();
    if (have !== undefined) return have;
    memo.set(i, null);
    const c = a[i]!;
    const deps: Chain[] = [];
    const jumps = c.rules.map((r) => {
      const to = jumpName(r);
      if (to === null) return null;
      const j = byName.get(to);
      if (j === undefined) throw new LoopFound(); // an unknown chain: the full compile reports it
      deps.push(a[j]!);
      return resolve(j);
    });
    const cc = findJumpVariant(t.name, c, indexMin, jumps) ?? newVariant(t.name, c, jumps, deps, indexMin, true);
    memo.set(i, cc);
    return cc;
  };
  const patch = new Map<number, CChain>();
  try {
    for (const i of dirty) {
      const cc = resolve(i);
      if (cc !== tpl.out[i]) patch.set(i, cc);
    }
  } catch (e) {
    if (e instanceof LoopFound) return null;
    throw e;
  }
  for (const cc of patch.values()) if (cc.builtin) checkAcyclic(t.name, cc);
  return { base: tpl.out, patch: patch.size > 0 ? patch : null };
}

/** The template's chain indices by name and, per chain name, the indices of the chains that jump to it. */
function indexTemplate(tpl: Template): void {
  const byName = new Map<string, number>();
  const rdeps = new Map<string, number[]>();
  for (let j = 0; j < tpl.chains.length; j++) {
    const c = tpl.chains[j]!;
    byName.set(c.name, j);
    for (const r of c.rules) {
      const to = jumpName(r);
      if (to === null) continue;
      let l = rdeps.get(to);
      if (l === undefined) rdeps.set(to, (l = []));
      if (l[l.length - 1] !== j) l.push(j);
    }
  }
  tpl.byName = byName;
  tpl.rdeps = rdeps;
}

/** `v` was compiled from a chain like `c` apart from where its jumps lead: name, kind, policy, loaded counters, indexed or not. */
function sameChainHead(v: CChain, c: Chain, builtin: boolean, indexMin: number): boolean {
  const m = v.model;
  return v.name === c.name && v.builtin === builtin && m.policy === c.policy && m.counters.packets === c.counters.packets && m.counters.bytes === c.counters.bytes && (v.index !== null) === c.rules.length >= indexMin;
}

/** A compiled chain of `c`'s rule array whose jump rules lead to `jumps` (by rule index). */
function findJumpVariant(table: TableName, c: Chain, indexMin: number, jumps: Array<CChain | null>): CChain | null {
  const list = chainCache.get(c.rules);
  if (list === undefined) return null;
  const builtin = isBuiltinChain(table, c.name);
  outer: for (const v of list) {
    if (!sameChainHead(v, c, builtin, indexMin)) continue;
    for (const k of v.jumpRules) if (v.rules[k]!.jump !== jumps[k]) continue outer;
    return v;
  }
  return null;
}

function compileFull(t: Table, indexMin: number): { out: CChain[]; shared: boolean } {
  const inTable = new Set<Chain>(t.chains);
  let byName: Map<string, Chain> | null = null;
  const target = (from: string, r: Rule, to: string): Chain => {
    // The chain this rule jumped to in the last table that held it, when it is in this table too
    // (names are unique in a table): no name index for tables that only add a few chains.
    const last = lastTarget.get(r);
    if (last !== undefined && last.name === to && inTable.has(last)) return last;
    if (byName === null) byName = new Map(t.chains.map((c) => [c.name, c]));
    const c = byName.get(to);
    if (c === undefined) throw new Error(`${t.name}: chain ${from} jumps to unknown chain ${to}`);
    lastTarget.set(r, c);
    return c;
  };
  /** Resolved chains; null while a chain's jump targets are being resolved (seeing it again is a loop). */
  const done = new Map<Chain, CChain | null>();
  const resolve = (c: Chain): CChain => {
    const have = done.get(c);
    if (have === null) throw new LoopFound();
    if (have !== undefined) return have;
    done.set(c, null);
    let cc = findVariant(t.name, c, indexMin, inTable, resolve);
    if (cc === null) {
      const deps: Chain[] = [];
      const jumps = c.rules.map((r) => {
        const to = jumpName(r);
        if (to === null) return null;
        const d = target(c.name, r, to);
        deps.push(d);
        return resolve(d);
      });
      cc = newVariant(t.name, c, jumps, deps, indexMin, true);
    }
    done.set(c, cc);
    return cc;
  };
  let out: CChain[];
  let shared = true;
  try {
    out = t.chains.map(resolve);
  } catch (e) {
    if (!(e instanceof LoopFound)) throw e;
    out = compileUnshared(t, new Map(t.chains.map((c) => [c.name, c])), indexMin);
    shared = false;
  }
  for (const cc of out) if (cc.builtin) checkAcyclic(t.name, cc);
  return { out, shared };
}

/** A table whose chains jump in a loop: every chain compiled for this load only, jumps patched after. */
function compileUnshared(t: Table, byName: Map<string, Chain>, indexMin: number): CChain[] {
  const out = t.chains.map((c) => newVariant(t.name, c, c.rules.map(() => null), [], indexMin, false));
  const byCName = new Map(out.map((cc) => [cc.name, cc]));
  for (const cc of out) {
    for (const cr of cc.rules) {
      const to = jumpName(cr.rule);
      if (to === null) continue;
      if (!byName.has(to)) throw new Error(`${t.name}: chain ${cc.name} jumps to unknown chain ${to}`);
      (cr as { jump: CChain | null }).jump = byCName.get(to)!;
    }
  }
  return out;
}

/**
 * A compiled chain of `c`'s rule array whose jumps lead where this table's do: its jump targets were
 * compiled from chain objects that are in this table (chain names are unique in a table, so the names
 * resolve to them) and resolve here to the same compiled chains.
 */
function findVariant(table: TableName, c: Chain, indexMin: number, inTable: Set<Chain>, resolve: (c: Chain) => CChain): CChain | null {
  const list = chainCache.get(c.rules);
  if (list === undefined) return null;
  const builtin = isBuiltinChain(table, c.name);
  outer: for (const v of list) {
    if (!sameChainHead(v, c, builtin, indexMin)) continue;
    const deps = v.deps;
    for (let j = 0; j < deps.length; j++) {
      const d = deps[j]!;
      if (!inTable.has(d) || resolve(d) !== v.rules[v.jumpRules[j]!]!.jump) continue outer;
    }
    return v;
  }
  return null;
}

function newVariant(table: TableName, c: Chain, jumps: Array<CChain | null>, deps: Chain[], indexMin: number, share: boolean): CChain {
  const model: Chain = { name: c.name, policy: c.policy, counters: { ...c.counters }, rules: c.rules };
  const rules: CRule[] = c.rules.map((r, i) => {
    const code = codeOf(r);
    return { id: nextId++, code: code.code, jump: jumps[i] ?? null, target: code.target, rule: r, index: i, tests: code.tests, text: null, chainName: c.name };
  });
  const jumpRules: number[] = [];
  for (let i = 0; i < rules.length; i++) if (rules[i]!.jump !== null) jumpRules.push(i);
  const index = buildIndex(c.rules, indexMin);
  // A rule array scanned hot in an earlier variant: its generated scan at once (not while the interpreter is forced).
  const known = index === null && JIT.hot !== Infinity ? scanCache.get(c.rules) : undefined;
  const cc: CChain = { walk: null, id: nextId++, name: c.name, builtin: isBuiltinChain(table, c.name), dropPolicy: c.policy === 'DROP', model, rules, jumpRules, deps, index, scan: known ?? interpScan, runs: index === null && known === undefined ? 0 : -1, walkTried: false, heat: walkHeat.get(c.rules) ?? { n: 0 } };
  walkHeat.set(c.rules, cc.heat);
  if (share) {
    let list = chainCache.get(c.rules);
    if (list === undefined) chainCache.set(c.rules, (list = []));
    list.push(cc);
  }
  return cc;
}

/** The kernel refuses a table with a loop reachable from a built-in chain (mark_source_chains). */
function checkAcyclic(table: TableName, root: CChain): void {
  const state = new Map<CChain, 1>();
  const visit = (c: CChain, path: string[]): void => {
    if (acyclic.has(c)) return;
    if (state.has(c)) throw new Error(`${table}: chain loop ${[...path, c.name].join(' -> ')}`);
    state.set(c, 1);
    for (const r of c.rules) if (r.jump) visit(r.jump, [...path, c.name]);
    state.delete(c);
    acyclic.add(c);
  };
  visit(root, []);
}
