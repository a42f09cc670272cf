// netfilter/iptables-save — parse iptables-save / iptables-restore text into the rule model and
// render the model back exactly as iptables-save prints it. Layer: netfilter (imports rules.ts,
// xtables.ts and the extension registry ext/index.ts).
// Mirrors iptables/iptables-restore.c (line format, tokenising with "double quotes" and backslash
// escapes, COMMIT), iptables/iptables-save.c plus nft-shared.c (canonical option order: -s -d -i -o -p
// -f, then each match in rule order, then the target) and iptables/xshared.c (command_match /
// command_jump: `-m NAME` loads an extension, its options follow; "-p tcp --dport 80" loads tcp
// implicitly). Each extension parses and prints its own options (ext/<name>.ts, libxt_*.c).
// Input may be what a tool feeds iptables-restore (kube-proxy writes "-m tcp -p tcp -d 1.2.3.4 --dport
// 80"); output is always the canonical form. Verified against iptables v1.8.9 (nf_tables) on this machine.
import {
  PROTO_NAMES, TABLE_NAMES, canonicalize, emptyRule, formatCidr, isBuiltinChain,
  type Chain, type Match, type Rule, type Ruleset, type Table, type TableName, type Target,
} from './rules.js';
import { TCPMSS_CLAMP_PMTU } from './ext/tcpmss.js';
import { UNSUPPORTED_MATCHES, UNSUPPORTED_TARGETS, findMatch, findTarget, matchExt, targetExt } from './ext/index.js';
import { Cursor, IptablesParseError, negs, parseCidr, parseProto, type Token } from './xtables.js';
import { firstHookViolation, type HookJump, type HookLimited } from './hook-check.js';

export { IptablesParseError, saveString } from './xtables.js';
export { formatProbability, probabilityToKernel } from './ext/statistic.js';

/** Splits one line as iptables-restore does: whitespace separates, "..." groups, backslash escapes. */
function tokenize(line: string, file: string, lineNo: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= n) break;
    const col = i + 1;
    let text = '';
    let quoted = false;
    let inQuote = false;
    while (i < n) {
      const c = line[i]!;
      if (c === '\\' && i + 1 < n) {
        text += line[i + 1];
        i += 2;
        continue;
      }
      if (c === '"') {
        inQuote = !inQuote;
        quoted = true;
        i++;
        continue;
      }
      if (!inQuote && (c === ' ' || c === '\t')) break;
      text += c;
      i++;
    }
    if (inQuote) throw new IptablesParseError(file, lineNo, col, 'unterminated quoted string');
    out.push({ text, col, quoted });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing one rule (xshared.c do_parse)
// ---------------------------------------------------------------------------------------------

/** Where a jump target was named, so an undefined chain can be reported at COMMIT. */
interface PendingJump {
  rule: Rule;
  tok: Token;
  line: number;
}

/** A match of a rule being parsed that the kernel allows only from some hooks (netfilter/hook-check). */
interface LimitedAt {
  what: string;
  col: number;
  hooks: readonly string[];
}

/** One rule being parsed: the rule, a pending "!", where its target was named, and its hook-limited parts. */
interface RuleState {
  r: Rule;
  neg: Token | null;
  targetTok: Token | null;
  pending: PendingJump[];
  limited: LimitedAt[];
}

function takeNeg(s: RuleState): boolean {
  const n = s.neg !== null;
  s.neg = null;
  return n;
}

/** The interface after -i / -o: xtables_parse_interface refuses a name of IFNAMSIZ (16) characters or more. */
function ifaceArg(c: Cursor, t: Token): string {
  const a = c.arg(t);
  if (a.text.length >= 16) throw c.err(a, `interface name "${a.text}" must be shorter than IFNAMSIZ (15 characters at most)`);
  return a.text;
}

/** The ipt_ip options (-s -d -i -o -p -f); false when `t` is not one of them. */
function ipOption(s: RuleState, t: Token, c: Cursor): boolean {
  const r = s.r;
  switch (t.text) {
    case '-s':
    case '--source':
    case '--src':
    case '-d':
    case '--destination':
    case '--dst': {
      // A /0 prefix matches everything: iptables-save omits it.
      const v = { neg: takeNeg(s), value: parseCidr(c, c.arg(t)) };
      const keep = v.value.prefix === 0 && !v.neg ? null : v;
      if (t.text === '-s' || t.text.startsWith('--s')) r.src = keep;
      else r.dst = keep;
      return true;
    }
    case '-i':
    case '--in-interface':
      r.inIface = { neg: takeNeg(s), value: ifaceArg(c, t) };
      return true;
    case '-o':
    case '--out-interface':
      r.outIface = { neg: takeNeg(s), value: ifaceArg(c, t) };
      return true;
    case '-p':
    case '--protocol': {
      const n = takeNeg(s);
      const p = parseProto(c, c.arg(t));
      r.proto = p === null ? (n ? { neg: true, value: 0 } : null) : { neg: n, value: p };
      return true;
    }
    case '-f':
    case '--fragment':
      r.fragment = { neg: takeNeg(s), value: true };
      return true;
    default:
      return false;
  }
}

/** `-m NAME`: load the extension (command_match). */
function loadMatch(s: RuleState, t: Token, c: Cursor): void {
  if (s.neg) throw c.err(s.neg, 'unexpected "!" before -m');
  const nt = c.arg(t);
  if (UNSUPPORTED_MATCHES.has(nt.text)) throw c.err(t, `unsupported match "-m ${nt.text}" (not modelled by podwire)`);
  const ext = findMatch(nt.text);
  if (!ext) throw c.err(t, `unknown match "-m ${nt.text}"`);
  s.r.matches.push(ext.init());
  if (ext.hooks) s.limited.push({ what: `match "${ext.name}"`, col: t.col, hooks: ext.hooks });
}

/** `-j NAME` / `-g CHAIN` (command_jump): a registered target, else a chain checked at COMMIT. */
function loadTarget(s: RuleState, t: Token, c: Cursor, line: number): void {
  if (s.neg) throw c.err(s.neg, `unexpected "!" before ${t.text}`);
  if (s.r.target) throw c.err(t, 'multiple targets');
  const nt = c.arg(t);
  s.targetTok = nt;
  const isGoto = t.text === '-g' || t.text === '--goto';
  const ext = isGoto ? undefined : findTarget(nt.text);
  if (ext) {
    s.r.target = ext.init();
    return;
  }
  if (!isGoto && UNSUPPORTED_TARGETS.has(nt.text)) throw c.err(t, `unsupported target "-j ${nt.text}" (not modelled by podwire)`);
  s.r.target = { kind: isGoto ? 'goto' : 'jump', chain: nt.text };
  s.pending.push({ rule: s.r, tok: nt, line });
}

/** An extension option: the target's, else the latest match that owns it, else an implicit protocol match. */
function extOption(s: RuleState, t: Token, c: Cursor): void {
  if (!t.text.startsWith('-')) throw c.err(t, `unexpected argument "${t.text}"`);
  const r = s.r;
  const n = takeNeg(s);
  if (r.target && targetExt(r.target).parse(r.target, t, c)) {
    if (n) throw c.err(t, `"!" not allowed before target option "${t.text}"`);
    return;
  }
  for (let k = r.matches.length - 1; k >= 0; k--) {
    const m = r.matches[k]!;
    const before = c.i;
    if (matchExt(m).parse(m, t, n, c)) return;
    c.i = before;
  }
  // Implicit protocol match: "-p tcp --dport 80" loads -m tcp at this point (iptables' "implicit" load).
  const protoName = r.proto && !r.proto.neg ? PROTO_NAMES[r.proto.value] : undefined;
  const ext = protoName === undefined ? undefined : findMatch(protoName);
  if (ext) {
    const m = ext.init();
    if (ext.parse(m, t, n, c)) {
      r.matches.push(m);
      return;
    }
  }
  throw c.err(t, `unknown option "${t.text}"`);
}

/** Parses the tokens of one rule after `-A CHAIN`. */
function parseRuleTokens(c: Cursor, table: TableName, pending: PendingJump[], limited: LimitedAt[]): Rule {
  const s: RuleState = { r: emptyRule(), neg: null, targetTok: null, pending, limited };
  while (!c.done) {
    const t = c.take();
    if (t.text === '!' && !t.quoted) {
      if (s.neg) throw c.err(t, 'multiple "!" flags');
      s.neg = t;
    } else if (t.text === '-m' || t.text === '--match') loadMatch(s, t, c);
    else if (t.text === '-j' || t.text === '--jump' || t.text === '-g' || t.text === '--goto') loadTarget(s, t, c, c.line);
    else if (!ipOption(s, t, c)) extOption(s, t, c);
  }
  if (s.neg) throw c.err(s.neg, 'trailing "!"');
  finalCheck(s, c, table);
  return s.r;
}

/** Each extension's final_check, then the target's table restriction (xt_check_target). */
function finalCheck(s: RuleState, c: Cursor, table: TableName): void {
  for (const m of s.r.matches) {
    const ext = matchExt(m);
    ext.check?.(m, c);
    if (ext.tables && !ext.tables.includes(table)) throw c.errAtEnd(`match "${m.kind}" is only valid in the ${ext.tables.join(' or ')} table`);
  }
  const tg = s.r.target;
  if (!tg || !s.targetTok) return;
  const ext = targetExt(tg);
  ext.check?.(tg, c);
  if (ext.proto !== undefined && (s.r.proto === null || s.r.proto.neg || s.r.proto.value !== ext.proto)) {
    throw c.err(s.targetTok, `target "${tg.kind}" is only valid for -p ${PROTO_NAMES[ext.proto] ?? ext.proto}`);
  }
  if (ext.table !== null && ext.table !== table) throw c.err(s.targetTok, `target "${tg.kind}" is only valid in the ${ext.table} table`);
}

// ---------------------------------------------------------------------------------------------
// Parsing a dump (iptables-restore.c)
// ---------------------------------------------------------------------------------------------

/** The state of one parse: the table being read and what COMMIT must check. */
class RestoreParser {
  readonly rs: Ruleset = { tables: [], ruleCounters: false };
  cur: Table | null = null;
  /** Chains of the current table by name: kube-proxy dumps hold thousands, so no linear searches. */
  byName = new Map<string, Chain>();
  pendingComments: string[] = [];
  pending: PendingJump[] = [];
  /** Rules of the current table with a hook-limited match, checked at COMMIT. */
  limited: (LimitedAt & { rule: Rule; line: number })[] = [];
  private readonly ruleLimited: LimitedAt[] = [];
  lastCommitted: Table | null = null;
  lineNo = 0;

  constructor(
    readonly file: string,
    /** Chains the live table already holds (an `iptables-restore --noflush` input may jump to them). */
    readonly existing: ((table: TableName, chain: string) => boolean) | null = null,
  ) {}

  err(col: number, msg: string, line = this.lineNo): IptablesParseError {
    return new IptablesParseError(this.file, line, col, msg);
  }

  addChain(c: Chain): void {
    this.cur!.chains.push(c);
    this.byName.set(c.name, c);
  }

  line(line: string): void {
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      // An ip6tables-save dump may hold no address at all (kube-proxy's IPv6 filter table): refuse it rather than read its rules as IPv4.
      if (line.startsWith('# Generated by ip6tables-save')) throw this.err(1, "an ip6tables-save dump (IPv6 rules): podwire's iptables model is IPv4 only; give it the iptables-save output");
      if (!this.cur && this.lastCommitted && line.startsWith('# Completed')) this.lastCommitted.footer.push(line);
      else if (!this.cur) this.pendingComments.push(line);
      return;
    }
    if (line.startsWith('*')) return this.tableStart(line);
    if (!this.cur) throw this.err(1, `"${line.split(/\s+/)[0]}" outside a table (missing "*table" line)`);
    if (line.trim() === 'COMMIT') return this.commit(this.cur);
    if (line.startsWith(':')) return this.chainLine(this.cur, line);
    this.command(this.cur, line);
  }

  tableStart(line: string): void {
    if (this.cur) throw this.err(1, `table "${line.slice(1)}" started before COMMIT of "${this.cur.name}"`);
    const name = line.slice(1).trim();
    if (!(TABLE_NAMES as readonly string[]).includes(name)) throw this.err(2, `unknown table "${name}"`);
    this.cur = { name: name as TableName, chains: [], header: this.pendingComments, footer: [] };
    this.byName = new Map();
    this.pendingComments = [];
    this.pending = [];
    this.limited = [];
  }

  /** COMMIT: every -j/-g must name a user chain of this table. */
  commit(cur: Table): void {
    for (const p of this.pending) {
      const chain = p.rule.target && (p.rule.target.kind === 'jump' || p.rule.target.kind === 'goto') ? p.rule.target.chain : '';
      if ((!this.byName.has(chain) && !(this.existing?.(cur.name, chain) ?? false)) || isBuiltinChain(cur.name, chain)) {
        throw this.err(p.tok.col, `unknown target "${p.tok.text}" (no such chain in table ${cur.name})`, p.line);
      }
    }
    this.checkLoops(cur);
    this.checkHooks(cur);
    this.rs.tables.push(cur);
    this.lastCommitted = cur;
    this.cur = null;
  }

  /**
   * A jump that closes a loop of chains reachable from a built-in chain is refused at COMMIT, as the
   * kernel refuses it (iptables-nft: "RULE_APPEND failed (Too many links)", ELOOP; a loop no built-in
   * chain reaches is accepted); reported at the `-j`/`-g` that closes it, with the loop.
   */
  private checkLoops(cur: Table): void {
    const jumpsOf = new Map<string, PendingJump[]>();
    const chainOfRule = new Map<Rule, string>();
    for (const c of cur.chains) for (const r of c.rules) chainOfRule.set(r, c.name);
    for (const p of this.pending) {
      const from = chainOfRule.get(p.rule);
      if (from === undefined) continue;
      let list = jumpsOf.get(from);
      if (list === undefined) jumpsOf.set(from, (list = []));
      list.push(p);
    }
    const state = new Map<string, 1 | 2>();
    const path: string[] = [];
    const visit = (chain: string): void => {
      state.set(chain, 1);
      path.push(chain);
      for (const p of jumpsOf.get(chain) ?? []) {
        const to = p.rule.target && (p.rule.target.kind === 'jump' || p.rule.target.kind === 'goto') ? p.rule.target.chain : '';
        const s = state.get(to);
        if (s === 1) throw this.err(p.tok.col, `chain loop ${[...path.slice(path.indexOf(to)), to].join(' -> ')} (the kernel refuses the table: ELOOP)`, p.line);
        if (s === undefined) visit(to);
      }
      path.pop();
      state.set(chain, 2);
    };
    for (const c of cur.chains) if (isBuiltinChain(cur.name, c.name) && !state.has(c.name)) visit(c.name);
  }

  /** Hook-limited matches reached from a hook they do not allow are refused (netfilter/hook-check). */
  private checkHooks(cur: Table): void {
    if (this.limited.length === 0) return;
    const chainOfRule = new Map<Rule, string>();
    for (const c of cur.chains) for (const r of c.rules) chainOfRule.set(r, c.name);
    const jumps: HookJump[] = [];
    for (const p of this.pending) {
      const from = chainOfRule.get(p.rule);
      const t = p.rule.target;
      if (from !== undefined && t && (t.kind === 'jump' || t.kind === 'goto')) jumps.push({ from, to: t.chain, line: p.line, col: p.tok.col });
    }
    const limited: HookLimited[] = [];
    for (const l of this.limited) {
      const chain = chainOfRule.get(l.rule);
      if (chain !== undefined) limited.push({ what: l.what, chain, line: l.line, col: l.col, hooks: l.hooks });
    }
    const bad = firstHookViolation(cur.chains.filter((c) => isBuiltinChain(cur.name, c.name)).map((c) => c.name), jumps, limited);
    if (bad !== null) throw this.err(bad.col, bad.message, bad.line);
  }

  /** `:CHAIN POLICY [packets:bytes]`. */
  chainLine(cur: Table, line: string): void {
    const m = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?\s*$/.exec(line);
    if (!m) throw this.err(1, `malformed chain line "${line}"`);
    const [, name, policy, p, b] = m as unknown as [string, string, string, string | undefined, string | undefined];
    const builtin = isBuiltinChain(cur.name, name);
    if (policy !== '-' && policy !== 'ACCEPT' && policy !== 'DROP') throw this.err(name.length + 3, `invalid policy "${policy}"`);
    if (!builtin && policy !== '-') throw this.err(name.length + 3, `user chain "${name}" cannot have policy "${policy}"`);
    if (this.byName.has(name)) throw this.err(2, `chain "${name}" declared twice`);
    this.addChain({ name, policy: policy as Chain['policy'], counters: { packets: Number(p ?? 0), bytes: Number(b ?? 0) }, rules: [] });
  }

  /** `[counters] -A|-N|-X|-F CHAIN ...`. */
  command(cur: Table, line: string): void {
    const c = new Cursor(tokenize(line, this.file, this.lineNo), this.file, this.lineNo);
    let counters: { packets: number; bytes: number } | null = null;
    const cm = /^\[(\d+):(\d+)\]$/.exec(c.peek()!.text);
    if (cm) {
      c.take();
      counters = { packets: Number(cm[1]), bytes: Number(cm[2]) };
      this.rs.ruleCounters = true;
    }
    const cmd = c.take();
    const chainTok = c.arg(cmd);
    let chain = this.byName.get(chainTok.text);
    if (!chain && isBuiltinChain(cur.name, chainTok.text) && cmd.text !== '-N' && cmd.text !== '--new-chain') {
      // Built-in chains exist in every table: iptables-restore takes rules for them without a ":CHAIN" line.
      chain = { name: chainTok.text, policy: '-', counters: { packets: 0, bytes: 0 }, rules: [] };
      this.addChain(chain);
    }
    const known = (): Chain => {
      if (!chain) throw c.err(chainTok, `unknown chain "${chainTok.text}"${cmd.text === '-A' || cmd.text === '--append' ? ` (declare it with ":${chainTok.text} - [0:0]")` : ''}`);
      return chain;
    };
    switch (cmd.text) {
      case '-A':
      case '--append': {
        const ch = known();
        const limited = this.ruleLimited; // reused: kube-proxy's dumps hold tens of thousands of rules, almost none limited
        limited.length = 0;
        const r = parseRuleTokens(c, cur.name, this.pending, limited);
        for (const l of limited) this.limited.push({ ...l, rule: r, line: this.lineNo });
        // tcpmss_tg4_check: path-MTU clamping needs the output route (FORWARD, OUTPUT, POSTROUTING).
        if (r.target?.kind === 'TCPMSS' && r.target.mss === TCPMSS_CLAMP_PMTU && (ch.name === 'PREROUTING' || ch.name === 'INPUT')) {
          throw c.err(chainTok, `TCPMSS --clamp-mss-to-pmtu is only supported in FORWARD, OUTPUT and POSTROUTING, not ${ch.name}`);
        }
        if (counters) r.counters = counters;
        ch.rules.push(r);
        break;
      }
      case '-N':
      case '--new-chain':
        if (chain) throw c.err(chainTok, `chain "${chainTok.text}" already exists`);
        this.addChain({ name: chainTok.text, policy: '-', counters: { packets: 0, bytes: 0 }, rules: [] });
        break;
      case '-X':
      case '--delete-chain': {
        const ch = known();
        cur.chains = cur.chains.filter((x) => x !== ch);
        this.byName.delete(ch.name);
        (cur.deletedChains ??= []).push(ch.name);
        break;
      }
      case '-F':
      case '--flush':
        known().rules = [];
        break;
      default:
        throw c.err(cmd, `unknown command "${cmd.text}"`);
    }
  }
}

/**
 * Parses iptables-save (or iptables-restore input) text. `file` names the source in errors. `existing`:
 * for an `iptables-restore --noflush` input, the user chains the live tables hold, which its rules may
 * jump to without declaring them.
 */
export function parseIptablesSave(text: string, file = '<input>', existing: ((table: TableName, chain: string) => boolean) | null = null): Ruleset {
  const p = new RestoreParser(file, existing);
  const lines = text.split('\n');
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!;
    p.lineNo = ln + 1;
    p.line(line.endsWith('\r') ? line.slice(0, -1) : line);
  }
  if (p.cur) throw p.err(1, `table "${p.cur.name}" has no COMMIT`, lines.length);
  return p.rs;
}

// ---------------------------------------------------------------------------------------------
// Rendering (iptables-save.c, nft-shared.c save_rule)
// ---------------------------------------------------------------------------------------------

/** Renders one match as iptables-save prints it (" -m name opts"). */
export function renderMatch(m: Match): string {
  return matchExt(m).render(m);
}

/** Renders a target as iptables-save prints it (" -j NAME opts" or " -g CHAIN"). */
export function renderTarget(t: Target): string {
  return targetExt(t).render(t);
}

/** Renders the part of a rule after "-A CHAIN" (leading space included when non-empty). */
export function renderRuleSpec(r: Rule): string {
  let s = '';
  if (r.src) s += ` ${negs(r.src.neg)}-s ${formatCidr(r.src.value)}`;
  if (r.dst) s += ` ${negs(r.dst.neg)}-d ${formatCidr(r.dst.value)}`;
  if (r.inIface) s += ` ${negs(r.inIface.neg)}-i ${r.inIface.value}`;
  if (r.outIface) s += ` ${negs(r.outIface.neg)}-o ${r.outIface.value}`;
  if (r.proto) s += ` ${negs(r.proto.neg)}-p ${r.proto.value === 0 ? 'all' : (PROTO_NAMES[r.proto.value] ?? `${r.proto.value}`)}`;
  if (r.fragment) s += ` ${negs(r.fragment.neg)}-f`;
  for (const m of r.matches) s += renderMatch(m);
  if (r.target) s += renderTarget(r.target);
  return s;
}

/** One rule line as iptables-save prints it ("-A CHAIN ..."). */
export function renderRule(chain: string, r: Rule): string {
  return `-A ${chain}${renderRuleSpec(r)}`;
}

/** Renders one table block. */
export function renderTable(t: Table, ruleCounters = false): string {
  let out = '';
  for (const h of t.header) out += `${h}\n`;
  out += `*${t.name}\n`;
  for (const c of t.chains) out += `:${c.name} ${c.policy} [${c.counters.packets}:${c.counters.bytes}]\n`;
  for (const c of t.chains) for (const r of c.rules) out += `${ruleCounters ? `[${r.counters.packets}:${r.counters.bytes}] ` : ''}${renderRule(c.name, r)}\n`;
  out += 'COMMIT\n';
  for (const f of t.footer) out += `${f}\n`;
  return out;
}

/** Renders a whole ruleset as iptables-save prints it. */
export function renderIptablesSave(rs: Ruleset): string {
  return rs.tables.map((t) => renderTable(t, rs.ruleCounters)).join('');
}

/** The header and footer comment lines iptables-save v1.8.x prints; `date` is the caller's (no wall clock here). */
export function saveBanner(date: string, version = 'v1.8.9', backend: 'nf_tables' | 'legacy' = 'nf_tables'): { header: string[]; footer: string[] } {
  return {
    header: [`# Generated by iptables-save ${version}${backend === 'nf_tables' ? ' (nf_tables)' : ''} on ${date}`],
    footer: [`# Completed on ${date}`],
  };
}

/**
 * Applies `input` to `live` as iptables-restore does (iptables/iptables-restore.c): without
 * `noflush` each table in the input replaces the live one; with `noflush` (kube-proxy's mode) every
 * chain declared in the input is created or flushed, its rules appended, built-in policies other
 * than "-" set, and chains deleted with -X removed. Returns a new ruleset in canonical form order.
 */
export function restoreInto(live: Ruleset, input: Ruleset, noflush: boolean): Ruleset {
  // Rulesets are values (never mutated): a chain the input does not touch stays the same object, and a
  // user chain the input declares is the input's own object. Nodes restoring the same text therefore
  // share those chains, which lets netfilter/compiled share the compiled chains.
  const tables = live.tables.map((t) => ({ ...t, chains: t.chains.slice() }));
  for (const it of input.tables) {
    let t = tables.find((x) => x.name === it.name);
    if (!t || !noflush) {
      const fresh: Table = { name: it.name, chains: [], header: it.header, footer: it.footer };
      if (t) tables[tables.indexOf(t)] = fresh;
      else tables.push(fresh);
      t = fresh;
    }
    const target = t;
    for (const name of it.deletedChains ?? []) target.chains = target.chains.filter((c) => c.name !== name);
    const inputByName = chainsByName(it);
    const replaced = new Set<Chain>();
    target.chains = target.chains.map((have) => {
      const c = inputByName.get(have.name);
      if (c === undefined) return have;
      replaced.add(c);
      if (!isBuiltinChain(it.name, c.name)) return c;
      // --noflush: a ":CHAIN" line flushes an existing user chain, but a built-in chain is only
      // given its policy; rules for it are appended (iptables-restore.c, ops->builtin()).
      const rules = noflush ? (c.rules.length === 0 ? have.rules : [...have.rules, ...c.rules]) : c.rules;
      return { name: have.name, policy: c.policy !== '-' ? c.policy : have.policy, counters: c.counters, rules };
    });
    for (const c of it.chains) if (!replaced.has(c)) target.chains.push(c);
  }
  return canonicalize({ tables, ruleCounters: live.ruleCounters || input.ruleCounters });
}

/** The chains of a restore input's table by name (computed once per parsed table: kube-proxy's is shared by every node). */
const byNameCache = new WeakMap<Table, Map<string, Chain>>();
function chainsByName(t: Table): Map<string, Chain> {
  let m = byNameCache.get(t);
  if (m === undefined) byNameCache.set(t, (m = new Map(t.chains.map((c) => [c.name, c]))));
  return m;
}
