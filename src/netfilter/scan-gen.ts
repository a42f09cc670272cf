// netfilter/scan-gen — a compiled chain's rule scan as one generated function: "the first rule at or
// after index i whose tests all pass", straight-line code with a case per rule (the walker resumes in
// the middle after a jump returns). Layer: netfilter (imports this folder).
// The interpreter (compiled.ts interpScan) calls every test through one call site, which V8 sees
// megamorphic; here the common tests (-s/-d, -i/-o, -p, -f, tcp/udp/sctp ports and flags, mark,
// conntrack --ctstate, state, addrtype LOCAL, statistic random) are written out as expressions and every
// other test is a call of the rule's own closure from a call site of its own (the same closure the
// interpreter calls: statistic nth and recent keep state in theirs). The conntrack state bits are computed at most
// once per scan (no match changes them). Tests run in the interpreter's order and stop at the first
// that fails, so side effects (statistic draws, recent lists, -m set errors) are the same.
// Mirrors the rule loop of ipt_do_table (ip_packet_match, xt_ematch_foreach) with the matches inlined.
import { maskFromPrefix } from '../wire/ipv4-addr.js';
import { onlyCtstate } from './ext/conntrack.js';
import type { Match, Neg, PortRange, Rule } from './rules.js';
import { CT_BIT, ctStateBits, type EvalCtx, type MatchEnv, type MatchFn } from './x-tables.js';
import { compileRuleParts, type TestPart } from './matches.js';

/** A chain's scan: the index of the first rule >= i whose tests pass, or -1 (the third argument is the chain, for the interpreter). */
export type ScanFn<C = unknown> = (c: EvalCtx, i: number, chain: C) => number;

/** The part of a compiled rule a scan needs. */
export interface ScanRule {
  readonly rule: Rule;
  readonly tests: readonly MatchFn[];
}

/** What generated code reads besides the packet: the closures it calls and whether it tests the conntrack state. */
export interface GenEnv {
  /** The late-bound MatchEnv the rules were compiled with. */
  env: MatchEnv;
  /** Fallback closures, by the order their call sites appear. */
  fns: MatchFn[];
  /** True when some rule tests the conntrack state (the function then declares its cache `cs`). */
  usesCt: boolean;
  /**
   * null: constants are written out. Else addresses of -s/-d and single ports go here and the code
   * reads them as k0, k1, ... (by index), so chains differing only in them (kube-proxy's KUBE-SVC-* and
   * KUBE-SEP-* chains) share one generated function body (genScan's cache by source).
   */
  consts: number[] | null;
}

/** `n` as the generated code reads it: a literal, or the next constant of `g.consts`. */
function konst(n: number, g: GenEnv): string {
  if (g.consts === null) return String(n);
  g.consts.push(n);
  return `k${g.consts.length - 1}`;
}

const isU32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

/** `expr` compared with a port range, true when inside (negated with neg). */
function portTest(expr: string, r: Neg<PortRange>, g: GenEnv): string | null {
  const { min, max } = r.value;
  if (!isU32(min) || !isU32(max)) return null;
  if (min === max) return `(${expr} ${r.neg ? '!==' : '==='} ${konst(min, g)})`;
  const inside = `(${expr} >= ${min} && ${expr} <= ${max})`;
  return r.neg ? `!${inside}` : inside;
}

/** The conntrack state bits, computed on first use in this scan. */
const CT = '(cs >= 0 ? cs : (cs = ctStateBits(c, E.conntrack)))';

/** An expression for one test, or null when the test is called as its closure. */
function inline(p: TestPart, rule: Rule, g: GenEnv): string | null {
  switch (p) {
    case 'src':
    case 'dst': {
      const n = p === 'src' ? rule.src! : rule.dst!;
      const { addr, prefix } = n.value;
      if (!isU32(addr) || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return null;
      // Compared as signed 32-bit integers (`&` gives one; the address as `addr | 0`, the same bits): a constant read
      // from the walk's or scan's closure context is then a small integer for the addresses of 0/2 and 192/2 (10/8,
      // 192.168/16, 224/4), where the unsigned value past 2^30 was a heap number, one more cold object a test (nat
      // POSTROUTING's `! -d 224.0.0.0/4` of every node's walk, read on a new connection).
      return `((ip.${p} & ${maskFromPrefix(prefix) | 0}) ${n.neg ? '!==' : '==='} ${konst(addr | 0, g)})`;
    }
    case 'in':
    case 'out': {
      const n = p === 'in' ? rule.inIface! : rule.outIface!;
      const field = p === 'in' ? 'c.inIf' : 'c.outIf';
      const name = n.value;
      if (name.endsWith('+')) return `(${field}.startsWith(${JSON.stringify(name.slice(0, -1))}) !== ${n.neg})`;
      return `(${field} ${n.neg ? '!==' : '==='} ${JSON.stringify(name)})`;
    }
    case 'proto': {
      const { value, neg } = rule.proto!;
      if (value === 0) return neg ? 'false' : 'true';
      if (!isU32(value)) return null;
      return `(ip.protocol ${neg ? '!==' : '==='} ${value})`;
    }
    case 'frag':
      return `(ip.fragOffset ${rule.fragment!.neg ? '===' : '!=='} 0)`;
    default:
      return inlineMatch(p, g);
  }
}

function inlineMatch(m: Match, g: GenEnv): string | null {
  switch (m.kind) {
    case 'tcp':
    case 'udp':
    case 'sctp': {
      const conds: string[] = [];
      let sp: string;
      let dp: string;
      if (m.kind === 'tcp') {
        conds.push('pkt.tcp');
        sp = 'pkt.tcp.srcPort';
        dp = 'pkt.tcp.dstPort';
      } else {
        conds.push('pkt.udp', `ip.protocol === ${m.kind === 'udp' ? 17 : 132}`);
        // srcPort()/dstPort() of x-tables.ts: the TCP header's when there is one.
        sp = '(pkt.tcp ? pkt.tcp.srcPort : pkt.udp.srcPort)';
        dp = '(pkt.tcp ? pkt.tcp.dstPort : pkt.udp.dstPort)';
      }
      if (m.sport) {
        const t = portTest(sp, m.sport, g);
        if (t === null) return null;
        conds.push(t);
      }
      if (m.dport) {
        const t = portTest(dp, m.dport, g);
        if (t === null) return null;
        conds.push(t);
      }
      if (m.tcpFlags) {
        if (m.kind !== 'tcp') return null;
        const { mask, comp } = m.tcpFlags.value;
        if (!isU32(mask) || !isU32(comp)) return null;
        conds.push(`((pkt.tcp.flags & ${mask}) ${m.tcpFlags.neg ? '!==' : '==='} ${comp})`);
      }
      return `(${conds.join(' && ')})`;
    }
    case 'mark': {
      if (!isU32(m.mask) || !isU32(m.value)) return null;
      return `(((pkt.mark & ${m.mask}) >>> 0) ${m.neg ? '!==' : '==='} ${m.value})`;
    }
    case 'conntrack': {
      if (!m.ctstate || !onlyCtstate(m)) return null;
      let want = 0;
      for (const s of m.ctstate.value) want |= CT_BIT[s];
      g.usesCt = true;
      return `((${CT} & ${want}) ${m.ctstate.neg ? '===' : '!=='} 0)`;
    }
    case 'state': {
      let want = 0;
      for (const s of m.states) want |= CT_BIT[s];
      g.usesCt = true;
      return `((${CT} & ${want & 31}) ${m.neg ? '===' : '!=='} 0)`;
    }
    case 'statistic': {
      // xt_statistic random, as its closure: a draw of the running namespace's stream (E is the env the closure was
      // compiled with, LATE_ENV) against the kernel's probability, written out (kube-proxy's KUBE-SVC-* chains have
      // 1/n, 1/(n-1), ... by position: chains of one shape keep one source). The closure's call read its function and
      // context, two cold objects per rule on a new connection. nth keeps a counter in its closure: called.
      if (m.mode !== 'random' || !isU32(m.probability)) return null;
      return `(E.random(${m.probability}) !== ${m.neg})`;
    }
    case 'addrtype': {
      // addrType(): 0 is UNSPEC before LOCAL is asked; a list of LOCAL alone is "non-zero and local".
      const one = (n: Neg<string[]> | null, field: string): string | null => {
        if (n === null) return 'true';
        if (n.value.length !== 1 || n.value[0] !== 'LOCAL') return null;
        const local = `(${field} !== 0 && E.isLocalAddress(${field}))`;
        return n.neg ? `!${local}` : local;
      };
      const s = one(m.srcType, 'ip.src');
      const d = one(m.dstType, 'ip.dst');
      if (s === null || d === null) return null;
      return `(${s} && ${d})`;
    }
    default:
      return null;
  }
}

/**
 * The conjunction of a rule's tests as one expression ('' when it has none), in the interpreter's
 * order; closures it calls are appended to `g.fns` and named f0, f1, ... by their index there.
 */
export function ruleCondition(r: ScanRule, g: GenEnv): string {
  const { tests, rule } = r;
  // What each test tests, in compileRuleTests's order (its closures are made again here and dropped:
  // only at generation, so compiled rules carry no description of their tests).
  const parts = compileRuleParts(rule, g.env).parts;
  if (parts.length !== tests.length) throw new Error(`scan-gen: ${parts.length} parts for ${tests.length} tests`);
  const conds: string[] = [];
  for (let j = 0; j < tests.length; j++) {
    let e = inline(parts[j]!, rule, g);
    if (e === null) {
      e = `f${g.fns.length}(c)`;
      g.fns.push(tests[j]!);
    }
    if (e === 'true') continue;
    conds.push(e);
  }
  return conds.join(' && ');
}

/** `const f0 = F[0]; ...` for the closures of `g` (the factory's prologue). */
export function bindClosures(g: GenEnv): string {
  return g.fns.map((_, j) => `const f${j} = F[${j}];`).join('\n');
}

/**
 * The generated scan of `rules` (a compiled chain's, in order). `env` is the late-bound MatchEnv the
 * closures were compiled with (LATE_ENV): generated code reads it per packet, as they do.
 */
export function genScan(rules: readonly ScanRule[], env: MatchEnv): ScanFn {
  const g: GenEnv = { env, fns: [], usesCt: false, consts: [] };
  const cases: string[] = [];
  for (let k = 0; k < rules.length; k++) {
    const cond = ruleCondition(rules[k]!, g);
    cases.push(cond === '' ? `case ${k}: return ${k};` : `case ${k}: if (${cond}) return ${k};`);
  }
  const src = `${bindClosures(g)}
${g.consts!.map((_, j) => `const k${j} = K[${j}];`).join('\n')}
return function scan(c, i) {
  const ip = c.ip;
  const pkt = c.pkt;
  ${g.usesCt ? 'let cs = -1;' : ''}
  switch (i) {
    ${cases.join('\n    ')}
  }
  return -1;
};`;
  const factory = factoryOf(scanFactories, SCAN_FACTORIES_MAX, src, ['F', 'E', 'ctStateBits', 'K']);
  return factory(g.fns, env, ctStateBits, g.consts!);
}

/**
 * The function `new Function(...params, src)` makes, from `cache` when that source was compiled before
 * (generated code of one shape is one function V8 compiles once); the cache keeps at most `max`.
 */
export function factoryOf<F>(cache: Map<string, F>, max: number, src: string, params: string[]): F {
  let factory = cache.get(src);
  if (factory === undefined) {
    factory = new Function(...params, src) as F;
    if (cache.size < max) cache.set(src, factory);
  }
  return factory;
}

type ScanFactory = (F: MatchFn[], E: MatchEnv, ctb: typeof ctStateBits, K: number[]) => (c: EvalCtx, i: number) => number;
/**
 * Scan factories by generated source (constants read from K): the scans of chains of one shape (a
 * big cluster's thousands of KUBE-SVC-* / KUBE-SEP-* chains) are closures of one function, so V8
 * parses, compiles and optimizes it once for all of them. `env` is the same for every scan (LATE_ENV).
 */
const scanFactories = new Map<string, ScanFactory>();
const SCAN_FACTORIES_MAX = 4096;
