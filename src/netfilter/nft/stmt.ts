// netfilter/nft/stmt — the statements of an nftables rule that kube-proxy's nftables mode (and a
// hand-written ruleset in the same style) uses: matches on ip saddr/daddr, l4proto, th/tcp/udp dport,
// ct state, fib type, meta mark, tcp flags; set and verdict-map lookups on concatenations; numgen;
// mark set; dnat, masquerade, reject; update of a dynamic set; `tcp option maxseg size set rt mtu | N`
// (what iptables-nft makes of -j TCPMSS); verdicts. Parsed from `nft -f` syntax, printed as
// `nft list ruleset` prints them. Layer: netfilter (imports core, wire and this folder).
// Mirrors nftables' src/parser_bison.y (the grammar subset) and src/statement.c / expression.c
// (the list output: `meta mark set meta mark | 0x00004000`, `{ a, b }` sorted interval sets).
import { formatIpv4, parseCidr, parseIpv4 } from '../../wire/ipv4-addr.js';

/** An error in a script, at a token. */
export class NftSyntaxError extends Error {}

/** A verdict as nft writes it. */
export type Verdict = { v: 'accept' | 'drop' | 'return' | 'reject' | 'continue' } | { v: 'jump' | 'goto'; chain: string };

/** A key field of a match or a concatenation. */
export type Field = 'ip saddr' | 'ip daddr' | 'meta l4proto' | 'th dport' | 'tcp dport' | 'udp dport' | 'sctp dport';

/** A set of IPv4 ranges, inclusive (an anonymous interval set or a single address/prefix). */
export type Ranges = [number, number][];

/** One statement of a rule. */
export type Stmt =
  | { k: 'cmp'; field: Field; neg: boolean; ranges: Ranges; text: string }
  | { k: 'cmp-set'; field: Field; neg: boolean; set: string }
  | { k: 'proto'; neg: boolean; proto: number }
  | { k: 'port'; field: Field; neg: boolean; port: number }
  | { k: 'ct-state'; bits: number; names: string[] }
  | { k: 'fib'; dir: 'saddr' | 'daddr'; local: boolean }
  | { k: 'mark-cmp'; mask: number; value: number; neg: boolean }
  | { k: 'vmap'; keys: Field[]; map: string }
  | { k: 'lookup'; keys: Field[]; set: string; neg: boolean }
  | { k: 'numgen'; mod: number; arms: Verdict[] }
  | { k: 'mark-set'; op: 'or' | 'xor' | 'and' | 'set'; value: number }
  | { k: 'masquerade'; fullyRandom: boolean }
  | { k: 'dnat'; addr: number; port: number | null }
  | { k: 'update'; set: string; field: Field }
  | { k: 'counter' }
  | { k: 'tcp-flags'; value: number; mask: number }
  | { k: 'maxseg-set'; mss: number | 'rt-mtu' }
  | { k: 'verdict'; verdict: Verdict };

/** A parsed rule: its statements and comment. */
export interface NftRule {
  stmts: Stmt[];
  comment: string | null;
}

export const PROTO_NUM: Record<string, number> = { tcp: 6, udp: 17, sctp: 132, icmp: 1 };
export const PROTO_NAME: Record<number, string> = { 6: 'tcp', 17: 'udp', 132: 'sctp', 1: 'icmp' };

/** ct state names and their bits (nf_conntrack's IP_CT_* as nft's ct state). */
export const CT_STATE_BITS: Record<string, number> = { invalid: 1, established: 2, related: 4, new: 8, untracked: 64 };

/** A token stream over one command (words, quoted strings, and the punctuation { } , : ; .). */
export class Tokens {
  i = 0;
  constructor(
    readonly t: string[],
    readonly where: string,
  ) {}
  peek(k = 0): string | undefined {
    return this.t[this.i + k];
  }
  next(what: string): string {
    const s = this.t[this.i++];
    if (s === undefined) throw new NftSyntaxError(`${this.where}: expected ${what}, got end of line`);
    return s;
  }
  expect(s: string): void {
    const got = this.next(`"${s}"`);
    if (got !== s) throw new NftSyntaxError(`${this.where}: expected "${s}", got "${got}"`);
  }
  done(): boolean {
    return this.i >= this.t.length;
  }
  err(msg: string): NftSyntaxError {
    return new NftSyntaxError(`${this.where}: ${msg}`);
  }
}

/** Splits one line of nft syntax into tokens. */
export function tokenize(line: string, where: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === ' ' || ch === '\t') {
      i++;
    } else if (ch === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw new NftSyntaxError(`${where}: unterminated string`);
      out.push(line.slice(i, end + 1));
      i = end + 1;
    } else if ('{},:;'.includes(ch)) {
      out.push(ch);
      i++;
    } else {
      let j = i;
      while (j < line.length && !' \t{},;"'.includes(line[j]!) && !(line[j] === ':' && !/^[0-9.]+$/.test(line.slice(i, j)))) j++;
      // "10.0.0.1:80" stays one word (a dnat target); "0 :" and "key : verdict" split.
      out.push(line.slice(i, j));
      i = j;
    }
  }
  return out;
}

const FIELDS: Field[] = ['ip saddr', 'ip daddr', 'meta l4proto', 'th dport', 'tcp dport', 'udp dport', 'sctp dport'];

function readField(t: Tokens): Field | null {
  const two = `${t.peek()} ${t.peek(1)}`;
  const f = FIELDS.find((x) => x === two);
  if (f === undefined) return null;
  t.i += 2;
  return f;
}

function readRanges(t: Tokens, first: string): { ranges: Ranges; text: string } {
  const one = (s: string): [number, number] => {
    const c = s.includes('/') ? parseCidr(s) : null;
    if (c) {
      const size = 2 ** (32 - c.prefix);
      const lo = Math.floor(c.addr / size) * size;
      return [lo, lo + size - 1];
    }
    const a = parseIpv4(s);
    if (a === null) throw t.err(`"${s}" is not an address or prefix`);
    return [a, a];
  };
  if (first !== '{') return { ranges: [one(first)], text: first };
  const items: string[] = [];
  for (;;) {
    const s = t.next('an address');
    if (s === '}') break;
    if (s === ',') continue;
    items.push(s);
  }
  return { ranges: items.map(one), text: `{ ${items.join(', ')} }` };
}

function readVerdict(t: Tokens): Verdict {
  const w = t.next('a verdict');
  if (w === 'jump' || w === 'goto') return { v: w, chain: t.next('a chain name') };
  if (w === 'accept' || w === 'drop' || w === 'return' || w === 'reject' || w === 'continue') return { v: w };
  throw t.err(`"${w}" is not a verdict`);
}

function readNumber(t: Tokens, what: string): number {
  const s = t.next(what);
  const n = s.startsWith('0x') ? parseInt(s, 16) : Number(s);
  if (!Number.isInteger(n)) throw t.err(`expected ${what}, got "${s}"`);
  return n;
}

/** Concatenated key fields: `ip daddr . meta l4proto . th dport`. */
function readConcat(t: Tokens, first: Field): Field[] {
  const keys = [first];
  while (t.peek() === '.') {
    t.i++;
    const f = readField(t);
    if (f === null) throw t.err(`"${t.peek()}" cannot be part of a concatenation here`);
    keys.push(f);
  }
  return keys;
}

function matchOnField(t: Tokens, field: Field): Stmt {
  if (t.peek() === '.' || t.peek() === 'vmap') {
    const keys = readConcat(t, field);
    if (t.peek() === 'vmap') {
      t.i++;
      const at = t.next('@map');
      if (!at.startsWith('@')) throw t.err('vmap needs a named map (@name)');
      return { k: 'vmap', keys, map: at.slice(1) };
    }
    const neg = t.peek() === '!=';
    if (neg) t.i++;
    const at = t.next('@set');
    if (!at.startsWith('@')) throw t.err('a concatenation is looked up in a named set (@name)');
    return { k: 'lookup', keys, set: at.slice(1), neg };
  }
  let neg = false;
  if (t.peek() === '!=' || t.peek() === '==') neg = t.next('') === '!=';
  const v = t.next('a value');
  if (v.startsWith('@')) return { k: 'cmp-set', field, neg, set: v.slice(1) };
  if (field === 'meta l4proto') {
    const p = PROTO_NUM[v];
    if (p === undefined) throw t.err(`unknown protocol "${v}"`);
    return { k: 'proto', neg, proto: p };
  }
  if (field.endsWith('dport')) {
    const port = Number(v);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw t.err(`"${v}" is not a port`);
    return { k: 'port', field, neg, port };
  }
  const { ranges, text } = readRanges(t, v);
  return { k: 'cmp', field, neg, ranges, text };
}

function readStmt(t: Tokens): Stmt {
  const w = t.peek()!;
  const field = readField(t);
  if (field !== null) return matchOnField(t, field);
  t.i++;
  switch (w) {
    case 'ct': {
      t.expect('state');
      const names = t.next('a state').split(',');
      let bits = 0;
      for (const n of names) {
        const b = CT_STATE_BITS[n];
        if (b === undefined) throw t.err(`unknown ct state "${n}"`);
        bits |= b;
      }
      return { k: 'ct-state', bits, names };
    }
    case 'fib': {
      const dir = t.next('saddr or daddr');
      if (dir !== 'saddr' && dir !== 'daddr') throw t.err(`fib ${dir} is not modelled`);
      t.expect('type');
      const neg = t.peek() === '!=';
      if (neg) t.i++;
      t.expect('local');
      return { k: 'fib', dir, local: !neg };
    }
    case 'mark':
    case 'meta':
      return readMark(t, w);
    case 'numgen': {
      t.expect('random');
      t.expect('mod');
      const mod = readNumber(t, 'a modulus');
      t.expect('vmap');
      t.expect('{');
      const arms: Verdict[] = [];
      for (;;) {
        const s = t.next('an element');
        if (s === '}') break;
        if (s === ',') continue;
        t.expect(':');
        arms[Number(s)] = readVerdict(t);
      }
      if (arms.length !== mod) throw t.err(`numgen mod ${mod} needs ${mod} arms`);
      return { k: 'numgen', mod, arms };
    }
    case 'masquerade': {
      const fullyRandom = t.peek() === 'fully-random';
      if (fullyRandom) t.i++;
      return { k: 'masquerade', fullyRandom };
    }
    case 'dnat': {
      t.expect('to');
      const s = t.next('an address');
      const [a, p] = s.split(':');
      const addr = parseIpv4(a!);
      if (addr === null) throw t.err(`"${s}" is not an address[:port]`);
      return { k: 'dnat', addr, port: p === undefined ? null : Number(p) };
    }
    case 'update': {
      const at = t.next('@set');
      t.expect('{');
      const f = readField(t);
      if (f === null) throw t.err('update needs a key like { ip saddr }');
      t.expect('}');
      return { k: 'update', set: at.slice(1), field: f };
    }
    case 'counter':
      return { k: 'counter' };
    case 'tcp':
      return readTcp(t);
    default:
      t.i--;
      return { k: 'verdict', verdict: readVerdict(t) };
  }
}

/** TCP flag names in bit order, as nft prints them (fin,syn,rst,psh,ack,urg,ecn,cwr). */
const TCP_FLAG_NAMES = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ecn', 'cwr'] as const;

function readFlagList(t: Tokens): number {
  let v = 0;
  for (;;) {
    const n = t.next('a TCP flag');
    const b = TCP_FLAG_NAMES.indexOf(n as (typeof TCP_FLAG_NAMES)[number]);
    if (b < 0) throw t.err(`unknown TCP flag "${n}"`);
    v |= 1 << b;
    if (t.peek() !== ',') return v;
    t.i++;
  }
}

const flagListText = (v: number): string => TCP_FLAG_NAMES.filter((_, b) => (v >> b) & 1).join(',');

/**
 * `tcp flags VALUE / MASK` (what iptables-nft makes of --tcp-flags) and `tcp option maxseg size set
 * rt mtu | N` (nft_exthdr's TCP option write fed by nft_rt's TCPMSS key, or an immediate).
 */
function readTcp(t: Tokens): Stmt {
  const w = t.next('flags or option');
  if (w === 'flags') {
    const value = readFlagList(t);
    t.expect('/');
    return { k: 'tcp-flags', value, mask: readFlagList(t) };
  }
  if (w !== 'option') throw t.err(`tcp ${w} is not modelled`);
  t.expect('maxseg');
  t.expect('size');
  t.expect('set');
  if (t.peek() === 'rt') {
    t.i++;
    t.expect('mtu');
    return { k: 'maxseg-set', mss: 'rt-mtu' };
  }
  const mss = readNumber(t, 'an MSS');
  if (mss > 0xffff) throw t.err(`${mss} does not fit the 16-bit MSS`);
  return { k: 'maxseg-set', mss };
}

function readMark(t: Tokens, w: string): Stmt {
  if (w === 'meta') t.expect('mark');
  if (t.peek() === 'set') {
    t.i++;
    if (t.peek() === 'meta') t.i++;
    if (t.peek() !== 'mark') return { k: 'mark-set', op: 'set', value: readNumber(t, 'a mark') };
    t.i++;
    const op = t.next('an operator');
    const ops: Record<string, 'or' | 'xor' | 'and'> = { or: 'or', '|': 'or', xor: 'xor', '^': 'xor', and: 'and', '&': 'and' };
    if (ops[op] === undefined) throw t.err(`unknown mark operator "${op}"`);
    return { k: 'mark-set', op: ops[op], value: readNumber(t, 'a mask') };
  }
  const op = t.next('and');
  if (op !== 'and' && op !== '&') throw t.err('expected "mark and MASK == VALUE"');
  const mask = readNumber(t, 'a mask');
  const cmp = t.next('== or !=');
  if (cmp !== '==' && cmp !== '!=') throw t.err('expected == or !=');
  return { k: 'mark-cmp', mask, value: readNumber(t, 'a value'), neg: cmp === '!=' };
}

/** Parses the statements of `add rule ... CHAIN <statements> [comment "..."]`. */
export function parseRule(t: Tokens): NftRule {
  const stmts: Stmt[] = [];
  let comment: string | null = null;
  while (!t.done()) {
    if (t.peek() === 'comment') {
      t.i++;
      const s = t.next('a comment');
      comment = s.startsWith('"') ? s.slice(1, -1) : s;
      continue;
    }
    stmts.push(readStmt(t));
  }
  return { stmts, comment };
}

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

function verdictText(v: Verdict): string {
  return v.v === 'jump' || v.v === 'goto' ? `${v.v} ${v.chain}` : v.v;
}

/** An anonymous interval set as nft lists it: sorted, a lone element without braces. */
function rangesText(r: Ranges): string {
  const items = [...r].sort((a, b) => a[0] - b[0]).map(([lo, hi]) => {
    if (lo === hi) return formatIpv4(lo);
    const prefix = 32 - Math.log2(hi - lo + 1);
    return `${formatIpv4(lo)}/${prefix}`;
  });
  return items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`;
}

/** One statement as `nft list ruleset` prints it. */
export function stmtText(s: Stmt): string {
  switch (s.k) {
    case 'cmp':
      return `${s.field} ${s.neg ? '!= ' : ''}${rangesText(s.ranges)}`;
    case 'cmp-set':
      return `${s.field} ${s.neg ? '!= ' : ''}@${s.set}`;
    case 'proto':
      return `meta l4proto ${s.neg ? '!= ' : ''}${PROTO_NAME[s.proto]}`;
    case 'port':
      return `${s.field} ${s.neg ? '!= ' : ''}${s.port}`;
    case 'ct-state':
      return `ct state ${s.names.join(',')}`;
    case 'fib':
      return `fib ${s.dir} type ${s.local ? '' : '!= '}local`;
    case 'mark-cmp':
      return `meta mark & ${hex8(s.mask)} ${s.neg ? '!=' : '=='} ${hex8(s.value)}`;
    case 'vmap':
      return `${s.keys.join(' . ')} vmap @${s.map}`;
    case 'lookup':
      return `${s.keys.join(' . ')} ${s.neg ? '!= ' : ''}@${s.set}`;
    case 'numgen':
      return `numgen random mod ${s.mod} vmap { ${s.arms.map((v, i) => `${i} : ${verdictText(v)}`).join(', ')} }`;
    case 'mark-set':
      return s.op === 'set' ? `meta mark set ${hex8(s.value)}` : `meta mark set meta mark ${{ or: '|', xor: '^', and: '&' }[s.op]} ${hex8(s.value)}`;
    case 'masquerade':
      return s.fullyRandom ? 'masquerade fully-random' : 'masquerade';
    case 'dnat':
      return `dnat to ${formatIpv4(s.addr)}${s.port === null ? '' : `:${s.port}`}`;
    case 'update':
      return `update @${s.set} { ${s.field} }`;
    case 'counter':
      return 'counter packets 0 bytes 0';
    case 'tcp-flags':
      return `tcp flags ${flagListText(s.value)} / ${flagListText(s.mask)}`;
    case 'maxseg-set':
      return `tcp option maxseg size set ${s.mss === 'rt-mtu' ? 'rt mtu' : s.mss}`;
    case 'verdict':
      return verdictText(s.verdict);
  }
}

/** A rule as `nft list ruleset` prints it. */
export function ruleText(r: NftRule): string {
  const body = r.stmts.map(stmtText).join(' ');
  return r.comment === null ? body : `${body} comment "${r.comment}"`;
}
