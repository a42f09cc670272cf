// netfilter/matches — compiles a rule's ipt_ip part and its match extensions into closures, once per
// ruleset load; each extension's evaluator lives in ext/<name>.ts and is found through the registry.
// Layer: netfilter (imports core, wire, packet and this folder).
// Mirrors net/ipv4/netfilter/ip_tables.c (ip_packet_match; `-f` never matches: podwire has no
// fragments) and the per-rule match loop of ipt_do_table (xt_ematch_foreach).
import { cidrContains, type Match, type Neg, type Rule } from './rules.js';
import { matchExt } from './ext/index.js';
import type { EvalCtx, MatchEnv, MatchFn } from './x-tables.js';

export { NfEvalError, ctStateBits, type EvalCtx, type MatchEnv, type MatchFn, type RecentList } from './x-tables.js';

function ifaceMatcher(n: Neg<string>, get: (c: EvalCtx) => string): MatchFn {
  const name = n.value;
  const neg = n.neg;
  if (name.endsWith('+')) {
    const prefix = name.slice(0, -1);
    return (c) => get(c).startsWith(prefix) !== neg;
  }
  return (c) => (get(c) === name) !== neg;
}

/** Compiles one match extension; null when it always matches (comment, nfacct, limit). */
export function compileMatch(m: Match, env: MatchEnv): MatchFn | null {
  return matchExt(m).compile(m, env);
}

/**
 * What one compiled test of a rule tests: an ipt_ip field (`src`, `dst`, `in`, `out`, `proto`, `frag`)
 * or a match record. scan-gen.ts writes the common ones out as straight-line code and calls the
 * closure for the rest (the same closure: statistic nth and recent keep state in theirs).
 */
export type TestPart = 'src' | 'dst' | 'in' | 'out' | 'proto' | 'frag' | Match;

/** The ipt_ip part of a rule and its matches as tests (all must pass), with what each tests (same order). */
export function compileRuleParts(r: Rule, env: MatchEnv): { tests: MatchFn[]; parts: TestPart[] } {
  const tests: MatchFn[] = [];
  const parts: TestPart[] = [];
  if (r.src) {
    const { value, neg } = r.src;
    tests.push((c) => cidrContains(value, c.ip.src) !== neg);
    parts.push('src');
  }
  if (r.dst) {
    const { value, neg } = r.dst;
    tests.push((c) => cidrContains(value, c.ip.dst) !== neg);
    parts.push('dst');
  }
  if (r.inIface) {
    tests.push(ifaceMatcher(r.inIface, (c) => c.inIf));
    parts.push('in');
  }
  if (r.outIface) {
    tests.push(ifaceMatcher(r.outIface, (c) => c.outIf));
    parts.push('out');
  }
  if (r.proto) {
    const { value, neg } = r.proto;
    tests.push(value === 0 ? () => !neg : (c) => (c.ip.protocol === value) !== neg);
    parts.push('proto');
  }
  if (r.fragment) {
    const neg = r.fragment.neg;
    tests.push((c) => (c.ip.fragOffset !== 0) !== neg);
    parts.push('frag');
  }
  for (const m of r.matches) {
    const fn = compileMatch(m, env);
    if (fn) {
      tests.push(fn);
      parts.push(m);
    }
  }
  return { tests, parts };
}

/** Compiles the ipt_ip part of a rule and its matches into one array of tests (all must pass). */
export function compileRuleTests(r: Rule, env: MatchEnv): MatchFn[] {
  return compileRuleParts(r, env).tests;
}
