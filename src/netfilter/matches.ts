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

/** Compiles the ipt_ip part of a rule and its matches into one array of tests (all must pass). */
export function compileRuleTests(r: Rule, env: MatchEnv): MatchFn[] {
  const tests: MatchFn[] = [];
  if (r.src) {
    const { value, neg } = r.src;
    tests.push((c) => cidrContains(value, c.ip.src) !== neg);
  }
  if (r.dst) {
    const { value, neg } = r.dst;
    tests.push((c) => cidrContains(value, c.ip.dst) !== neg);
  }
  if (r.inIface) tests.push(ifaceMatcher(r.inIface, (c) => c.inIf));
  if (r.outIface) tests.push(ifaceMatcher(r.outIface, (c) => c.outIf));
  if (r.proto) {
    const { value, neg } = r.proto;
    tests.push(value === 0 ? () => !neg : (c) => (c.ip.protocol === value) !== neg);
  }
  if (r.fragment) {
    const neg = r.fragment.neg;
    tests.push((c) => (c.ip.fragOffset !== 0) !== neg);
  }
  for (const m of r.matches) {
    const fn = compileMatch(m, env);
    if (fn) tests.push(fn);
  }
  return tests;
}
