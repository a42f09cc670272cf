// netfilter/xtables — what every iptables extension shares on the userspace side: the token and
// cursor of one rule line, the user error type, the argument parsers (addresses, ports, numbers,
// marks, protocols, name lists) and the save-side printers. Layer: netfilter (imports rules.ts and
// wire's address helpers only).
// Mirrors libxtables/xtables.c (xtables_ipparse_any, xtables_parse_port, xtables_strtoui,
// xtables_parse_protocol, xtables_save_string) and the option-argument helpers of
// iptables/extensions/libxt_*.c that several extensions repeat.
import { InputError } from '../core/user-error.js';
import { maskFromPrefix } from '../wire/ipv4-addr.js';
import { PROTO_ALIASES, PROTO_NAMES, parseIpv4, type Cidr, type Neg, type PortRange } from './rules.js';

/** A user error in iptables text: file, 1-based line and column, and a one-line message naming the token. */
export class IptablesParseError extends InputError {
  override readonly name = 'IptablesParseError';
}

/** One word of a rule line. */
export interface Token {
  text: string;
  col: number;
  /** True when the token was (partly) quoted: a quoted "!" is a value, not a negation. */
  quoted: boolean;
}

/** Reads the tokens of one rule line; errors carry file, line and the token's column. */
export class Cursor {
  i = 0;
  constructor(
    readonly toks: Token[],
    readonly file: string,
    readonly line: number,
  ) {}
  get done(): boolean {
    return this.i >= this.toks.length;
  }
  peek(): Token | undefined {
    return this.toks[this.i];
  }
  take(): Token {
    const t = this.toks[this.i];
    if (!t) throw this.errAtEnd('unexpected end of rule');
    this.i++;
    return t;
  }
  /** The argument of option `opt` (the next token); errors name the option when it is missing. */
  arg(opt: Token): Token {
    const t = this.toks[this.i];
    if (!t) throw this.err(opt, `option "${opt.text}" requires an argument`);
    this.i++;
    return t;
  }
  err(t: Token, msg: string): IptablesParseError {
    return new IptablesParseError(this.file, this.line, t.col, msg);
  }
  errAtEnd(msg: string): IptablesParseError {
    const last = this.toks[this.toks.length - 1];
    return new IptablesParseError(this.file, this.line, last ? last.col + last.text.length : 1, msg);
  }
}

// ---- argument parsers (libxtables) ----

/** `addr[/prefix|/mask]`, masked as iptables stores it (xtables_ipparse_any). */
export function parseCidr(c: Cursor, t: Token): Cidr {
  const [a, m] = t.text.split('/', 2) as [string, string | undefined];
  const addr = parseIpv4(a);
  if (addr === null) throw c.err(t, a.includes(':') ? `IPv6 address "${t.text}": podwire's iptables model is IPv4 only (ip6tables rules are not supported)` : `invalid address "${t.text}"`);
  let prefix = 32;
  if (m !== undefined) {
    if (/^\d{1,2}$/.test(m) && Number(m) <= 32) prefix = Number(m);
    else {
      const mask = parseIpv4(m);
      if (mask === null) throw c.err(t, `invalid mask in "${t.text}"`);
      const inv = ~mask >>> 0;
      if ((inv & (inv + 1)) !== 0) throw c.err(t, `non-contiguous mask in "${t.text}" is not supported`);
      prefix = 32 - Math.log2(inv + 1);
    }
  }
  return { addr: (addr & maskFromPrefix(prefix)) >>> 0, prefix };
}

function parsePort(c: Cursor, t: Token, s: string): number {
  if (!/^\d+$/.test(s) || Number(s) > 65535) throw c.err(t, `invalid port "${s}"`);
  return Number(s);
}

/** `port`, `min:max`, `:max`, `min:` (or with `-` as NAT ranges write them). */
export function parsePortRange(c: Cursor, t: Token, sep = ':'): PortRange {
  const parts = t.text.split(sep);
  if (parts.length > 2) throw c.err(t, `invalid port range "${t.text}"`);
  const min = parts[0] === '' ? 0 : parsePort(c, t, parts[0]!);
  const max = parts.length === 2 ? (parts[1] === '' ? 65535 : parsePort(c, t, parts[1]!)) : min;
  if (min > max) throw c.err(t, `invalid port range "${t.text}"`);
  return { min, max };
}

/** A u32 in decimal or 0x hex (xtables_strtoui). */
export function parseNumber(c: Cursor, t: Token): number {
  const s = t.text;
  const v = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(v) || v > 0xffffffff) throw c.err(t, `invalid number "${s}"`);
  return v >>> 0;
}

/** `value[/mask]` as -m mark / MARK take it; mask defaults to 0xffffffff. */
export function parseMarkMask(c: Cursor, t: Token): { value: number; mask: number } {
  const [v, m] = t.text.split('/', 2) as [string, string | undefined];
  const value = parseNumber(c, { ...t, text: v });
  const mask = m === undefined ? 0xffffffff : parseNumber(c, { ...t, text: m });
  return { value, mask };
}

/** A protocol name or number; null for "all" (xtables_parse_protocol). */
export function parseProto(c: Cursor, t: Token): number | null {
  const s = t.text.toLowerCase();
  if (s === 'all' || s === '0') return null;
  if (/^\d+$/.test(s) && Number(s) <= 255) return Number(s);
  for (const [num, name] of Object.entries(PROTO_NAMES)) if (name === s) return Number(num);
  const alias = PROTO_ALIASES[s];
  if (alias !== undefined) return alias;
  throw c.err(t, `unknown protocol "${t.text}"`);
}

/** A comma list of names from `names` (case-insensitive), returned in the module's fixed print order. */
export function parseNameList<T extends string>(c: Cursor, t: Token, names: readonly T[], what: string): T[] {
  const out: T[] = [];
  for (const p of t.text.split(',')) {
    const u = p.toUpperCase() as T;
    if (!names.includes(u)) throw c.err(t, `unknown ${what} "${p}"`);
    if (!out.includes(u)) out.push(u);
  }
  return names.filter((n) => out.includes(n));
}

// ---- save-side printers ----

/** Prints a string as libxtables' xtables_save_string does (quote unless only [A-Za-z0-9_-]; escape " \ '). */
export function saveString(s: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(s)) return s;
  return `"${s.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

/** `0x…` lower-case hex of a u32, as the mark extensions print it. */
export const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;
/** "! " when negated. */
export const negs = (n: boolean): string => (n ? '! ' : '');
/** A port or a range `min<sep>max`. */
export const portStr = (p: PortRange, sep = ':'): string => (p.min === p.max ? `${p.min}` : `${p.min}${sep}${p.max}`);
/** ` [! ]--name value` for a set option, "" when unset. */
export const optNeg = <T>(n: Neg<T> | null, name: string, f: (v: T) => string): string => (n ? ` ${negs(n.neg)}${name} ${f(n.value)}` : '');
