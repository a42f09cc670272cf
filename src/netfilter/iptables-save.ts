// netfilter/iptables-save — parse iptables-save / iptables-restore text into the rule model and
// render the model back exactly as iptables-save prints it. Layer: netfilter (imports rules.ts only).
// Mirrors iptables/iptables-restore.c (line format, tokenising with "double quotes" and backslash
// escapes), iptables/iptables-save.c plus nft-shared.c (canonical option order: -s -d -i -o -p -f,
// then each match in rule order, then the target), libxtables' xtables_save_string (quote only when
// a character outside [A-Za-z0-9_-] appears) and the *_save functions of iptables/extensions/libxt_*.c.
// Input may be what a tool feeds iptables-restore (kube-proxy writes "-m tcp -p tcp -d 1.2.3.4 --dport
// 80"); output is always the canonical form. Verified against iptables v1.8.9 (nf_tables) on this machine.
import {
  ADDR_TYPE_NAMES, CT_STATE_NAMES, CT_STATUS_NAMES, PROTO_NAMES, TABLE_NAMES,
  canonicalize, emptyRule, formatCidr, parseIpv4, isBuiltinChain,
  type AddrTypeName, type Chain, type Cidr, type CtStateName, type CtStatusName, type Match, type NatRange, type Neg,
  type PortRange, type RejectWith, type Rule, type Ruleset, type Table, type TableName, type Target,
} from './rules.js';
import { formatIpv4, maskFromPrefix } from '../wire/ipv4-addr.js';

/** A user error in iptables text: file, 1-based line and column, and a one-line message naming the token. */
export class IptablesParseError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}:${col}: ${detail}`);
    this.name = 'IptablesParseError';
  }
}

interface Token {
  text: string;
  col: number;
  /** True when the token was (partly) quoted: a quoted "!" is a value, not a negation. */
  quoted: boolean;
}

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

/** Prints a string as libxtables' xtables_save_string does (quote unless only [A-Za-z0-9_-]; escape " \ '). */
export function saveString(s: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(s)) return s;
  return `"${s.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;
const negs = (n: boolean): string => (n ? '! ' : '');

/** Formats a probability as libxt_statistic prints it: %.11f of the kernel's u32 over 2^31. */
export function formatProbability(kernelValue: number): string {
  return (kernelValue / 0x80000000).toFixed(11);
}

/** The kernel's u32 for a --probability argument (libxt_statistic: lround(0x80000000 * p)). */
export function probabilityToKernel(p: number): number {
  return Math.round(0x80000000 * p);
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

const MATCH_MODULES = new Set<string>(['tcp', 'udp', 'sctp', 'icmp', 'comment', 'addrtype', 'mark', 'connmark', 'statistic', 'conntrack', 'state', 'recent', 'multiport', 'nfacct', 'physdev', 'set', 'limit']);
/** Modules real iptables has but podwire refuses (their behaviour depends on sockets or state podwire does not model). */
const UNSUPPORTED_MATCHES = new Set<string>(['socket', 'owner', 'cgroup', 'bpf', 'string', 'u32', 'hashlimit', 'connlimit', 'policy', 'ipvs', 'rpfilter', 'length', 'ttl', 'tos', 'dscp', 'iprange', 'mac', 'pkttype', 'helper', 'connbytes', 'time', 'quota', 'devgroup', 'realm', 'cpu', 'esp', 'ah', 'ecn', 'dccp', 'udplite', 'tcpmss', 'osf', 'cluster', 'ipv6header', 'rateest', 'conntrack-zone', 'connlabel']);
const TARGET_NAMES = new Set<string>(['ACCEPT', 'DROP', 'RETURN', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'MARK', 'CONNMARK', 'NOTRACK', 'CT', 'LOG', 'TRACE']);
const UNSUPPORTED_TARGETS = new Set<string>(['REDIRECT', 'TPROXY', 'NFLOG', 'NFQUEUE', 'QUEUE', 'ULOG', 'TCPMSS', 'TOS', 'DSCP', 'TTL', 'CLASSIFY', 'SET', 'AUDIT', 'CHECKSUM', 'CLUSTERIP', 'NETMAP', 'SECMARK', 'CONNSECMARK', 'IDLETIMER', 'LED', 'HMARK', 'TEE', 'SYNPROXY', 'ECN', 'RATEEST', 'NFLOG']);

const REJECT_ALIASES: Record<string, RejectWith> = {
  'icmp-net-unreachable': 'icmp-net-unreachable', 'net-unreach': 'icmp-net-unreachable',
  'icmp-host-unreachable': 'icmp-host-unreachable', 'host-unreach': 'icmp-host-unreachable',
  'icmp-port-unreachable': 'icmp-port-unreachable', 'port-unreach': 'icmp-port-unreachable',
  'icmp-proto-unreachable': 'icmp-proto-unreachable', 'proto-unreach': 'icmp-proto-unreachable',
  'icmp-net-prohibited': 'icmp-net-prohibited', 'net-prohib': 'icmp-net-prohibited',
  'icmp-host-prohibited': 'icmp-host-prohibited', 'host-prohib': 'icmp-host-prohibited',
  'icmp-admin-prohibited': 'icmp-admin-prohibited', 'admin-prohib': 'icmp-admin-prohibited',
  'tcp-reset': 'tcp-reset', 'tcp-rst': 'tcp-reset',
};

const ICMP_TYPE_NAMES: Record<string, [number, number | null]> = {
  any: [255, null], 'echo-reply': [0, null], pong: [0, null], 'destination-unreachable': [3, null], 'network-unreachable': [3, 0],
  'host-unreachable': [3, 1], 'protocol-unreachable': [3, 2], 'port-unreachable': [3, 3], 'fragmentation-needed': [3, 4],
  'source-quench': [4, null], redirect: [5, null], 'echo-request': [8, null], ping: [8, null], 'time-exceeded': [11, null],
  'ttl-zero-during-transit': [11, 0], 'ttl-exceeded': [11, 0], 'parameter-problem': [12, null], 'timestamp-request': [13, null], 'timestamp-reply': [14, null],
};

const TCP_FLAGS: [string, number][] = [['FIN', 0x01], ['SYN', 0x02], ['RST', 0x04], ['PSH', 0x08], ['ACK', 0x10], ['URG', 0x20]];

const LOG_LEVELS: Record<string, number> = { emerg: 0, alert: 1, crit: 2, error: 3, err: 3, warning: 4, warn: 4, notice: 5, info: 6, debug: 7, panic: 0 };

class Cursor {
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

function parseCidr(c: Cursor, t: Token): Cidr {
  const [a, m] = t.text.split('/', 2) as [string, string | undefined];
  const addr = parseIpv4(a);
  if (addr === null) throw c.err(t, `invalid address "${t.text}"`);
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

function parsePortRange(c: Cursor, t: Token, sep = ':'): PortRange {
  const parts = t.text.split(sep);
  if (parts.length > 2) throw c.err(t, `invalid port range "${t.text}"`);
  const min = parts[0] === '' ? 0 : parsePort(c, t, parts[0]!);
  const max = parts.length === 2 ? (parts[1] === '' ? 65535 : parsePort(c, t, parts[1]!)) : min;
  if (min > max) throw c.err(t, `invalid port range "${t.text}"`);
  return { min, max };
}

function parseNumber(c: Cursor, t: Token): number {
  const s = t.text;
  const v = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(v) || v > 0xffffffff) throw c.err(t, `invalid number "${s}"`);
  return v >>> 0;
}

/** `value[/mask]` as -m mark / MARK take it; mask defaults to 0xffffffff. */
function parseMarkMask(c: Cursor, t: Token): { value: number; mask: number; hasMask: boolean } {
  const [v, m] = t.text.split('/', 2) as [string, string | undefined];
  const value = parseNumber(c, { ...t, text: v });
  const mask = m === undefined ? 0xffffffff : parseNumber(c, { ...t, text: m });
  return { value, mask, hasMask: m !== undefined };
}

function parseProto(c: Cursor, t: Token): number | null {
  const s = t.text.toLowerCase();
  if (s === 'all' || s === '0') return null;
  if (/^\d+$/.test(s) && Number(s) <= 255) return Number(s);
  for (const [num, name] of Object.entries(PROTO_NAMES)) if (name === s) return Number(num);
  throw c.err(t, `unknown protocol "${t.text}"`);
}

function parseNameList<T extends string>(c: Cursor, t: Token, names: readonly T[], what: string): T[] {
  const out: T[] = [];
  for (const p of t.text.split(',')) {
    const u = p.toUpperCase() as T;
    if (!names.includes(u)) throw c.err(t, `unknown ${what} "${p}"`);
    if (!out.includes(u)) out.push(u);
  }
  // Printed in the module's fixed order, whatever order they were given in.
  return names.filter((n) => out.includes(n));
}

function newMatch(kind: string): Match {
  switch (kind) {
    case 'tcp':
    case 'udp':
    case 'sctp':
      return { kind, sport: null, dport: null, tcpFlags: null };
    case 'icmp':
      return { kind, type: null };
    case 'comment':
      return { kind, comment: '' };
    case 'addrtype':
      return { kind, srcType: null, dstType: null, limitIfaceIn: false, limitIfaceOut: false };
    case 'mark':
    case 'connmark':
      return { kind, neg: false, value: 0, mask: 0xffffffff };
    case 'statistic':
      return { kind, mode: 'random', neg: false, probability: -1 };
    case 'conntrack':
      return {
        kind, ctstate: null, ctproto: null, ctorigsrc: null, ctorigdst: null, ctreplsrc: null, ctrepldst: null,
        ctorigsrcport: null, ctorigdstport: null, ctreplsrcport: null, ctrepldstport: null, ctstatus: null, ctdir: null,
      };
    case 'state':
      return { kind, neg: false, states: [] };
    case 'recent':
      return { kind, neg: false, command: 'set', seconds: null, reap: false, hitcount: null, rttl: false, name: 'DEFAULT', mask: 0xffffffff, side: 'rsource' };
    case 'multiport':
      return { kind, option: 'dports', neg: false, ports: [] };
    case 'nfacct':
      return { kind, name: '' };
    case 'physdev':
      return { kind, physdevIn: null, physdevOut: null, isIn: null, isOut: null, isBridged: null };
    case 'set':
      return { kind, neg: false, name: '', flags: [] };
    case 'limit':
      return { kind, rate: 3, unit: 'hour', burst: 5 };
    default:
      throw new Error(`newMatch: ${kind}`);
  }
}

/**
 * Applies option `opt` to match `m` if the module owns it. Returns false when the module does not
 * know the option (the caller then tries other matches or reports it).
 */
function matchOption(m: Match, opt: Token, neg: boolean, c: Cursor): boolean {
  const o = opt.text;
  switch (m.kind) {
    case 'tcp':
    case 'udp':
    case 'sctp':
      if (o === '--sport' || o === '--source-port') return (m.sport = { neg, value: parsePortRange(c, c.arg(opt)) }), true;
      if (o === '--dport' || o === '--destination-port') return (m.dport = { neg, value: parsePortRange(c, c.arg(opt)) }), true;
      if (m.kind === 'tcp' && o === '--tcp-flags') {
        const maskT = c.arg(opt);
        const compT = c.arg(opt);
        const flags = (tk: Token): number => {
          let v = 0;
          for (const f of tk.text.split(',')) {
            const u = f.toUpperCase();
            if (u === 'ALL') v |= 0x3f;
            else if (u === 'NONE') continue;
            else {
              const e = TCP_FLAGS.find(([n]) => n === u);
              if (!e) throw c.err(tk, `unknown TCP flag "${f}"`);
              v |= e[1];
            }
          }
          return v;
        };
        m.tcpFlags = { neg, value: { mask: flags(maskT), comp: flags(compT) } };
        return true;
      }
      if (m.kind === 'tcp' && o === '--syn') return (m.tcpFlags = { neg, value: { mask: 0x17, comp: 0x02 } }), true;
      return false;
    case 'icmp':
      if (o === '--icmp-type') {
        const t = c.arg(opt);
        const named = ICMP_TYPE_NAMES[t.text];
        if (named) m.type = { neg, value: { type: named[0], code: named[1] } };
        else {
          const mm = /^(\d+)(?:\/(\d+))?$/.exec(t.text);
          if (!mm) throw c.err(t, `unknown ICMP type "${t.text}"`);
          m.type = { neg, value: { type: Number(mm[1]), code: mm[2] === undefined ? null : Number(mm[2]) } };
        }
        return true;
      }
      return false;
    case 'comment':
      if (o === '--comment') return (m.comment = c.arg(opt).text), true;
      return false;
    case 'addrtype':
      if (o === '--src-type') return (m.srcType = { neg, value: parseNameList<AddrTypeName>(c, c.arg(opt), ADDR_TYPE_NAMES, 'address type') }), true;
      if (o === '--dst-type') return (m.dstType = { neg, value: parseNameList<AddrTypeName>(c, c.arg(opt), ADDR_TYPE_NAMES, 'address type') }), true;
      if (o === '--limit-iface-in') return (m.limitIfaceIn = true), true;
      if (o === '--limit-iface-out') return (m.limitIfaceOut = true), true;
      return false;
    case 'mark':
    case 'connmark':
      if (o === '--mark') {
        const { value, mask } = parseMarkMask(c, c.arg(opt));
        m.neg = neg;
        m.value = value;
        m.mask = mask;
        return true;
      }
      return false;
    case 'statistic': {
      if (o === '--mode') {
        const t = c.arg(opt);
        if (t.text === 'random') return true;
        if (t.text === 'nth') {
          Object.assign(m, { mode: 'nth', every: 0, packet: 0 });
          delete (m as { probability?: number }).probability;
          return true;
        }
        throw c.err(t, `unknown statistic mode "${t.text}"`);
      }
      if (o === '--probability' && m.mode === 'random') {
        const t = c.arg(opt);
        const p = Number(t.text);
        if (!/^[0-9.eE+-]+$/.test(t.text) || !(p >= 0 && p <= 1)) throw c.err(t, `invalid probability "${t.text}"`);
        m.neg = neg;
        m.probability = probabilityToKernel(p);
        return true;
      }
      if (o === '--every' && m.mode === 'nth') {
        const t = c.arg(opt);
        const v = parseNumber(c, t);
        if (v < 1) throw c.err(t, `--every must be at least 1`);
        m.neg = neg;
        m.every = v;
        return true;
      }
      if (o === '--packet' && m.mode === 'nth') return (m.packet = parseNumber(c, c.arg(opt))), (m.packetGiven = true), true;
      return false;
    }
    case 'conntrack':
      switch (o) {
        case '--ctstate':
          m.ctstate = { neg, value: parseNameList<CtStateName>(c, c.arg(opt), CT_STATE_NAMES, 'conntrack state') };
          return true;
        case '--ctproto': {
          const p = parseProto(c, c.arg(opt));
          m.ctproto = { neg, value: p ?? 0 };
          return true;
        }
        case '--ctorigsrc':
        case '--ctorigdst':
        case '--ctreplsrc':
        case '--ctrepldst':
          m[o.slice(2) as 'ctorigsrc'] = { neg, value: parseCidr(c, c.arg(opt)) };
          return true;
        case '--ctorigsrcport':
        case '--ctorigdstport':
        case '--ctreplsrcport':
        case '--ctrepldstport':
          m[o.slice(2) as 'ctorigsrcport'] = { neg, value: parsePortRange(c, c.arg(opt)) };
          return true;
        case '--ctstatus':
          m.ctstatus = { neg, value: parseNameList<CtStatusName>(c, c.arg(opt), CT_STATUS_NAMES, 'conntrack status') };
          return true;
        case '--ctdir': {
          const t = c.arg(opt);
          if (t.text !== 'ORIGINAL' && t.text !== 'REPLY') throw c.err(t, `invalid --ctdir "${t.text}"`);
          m.ctdir = t.text;
          return true;
        }
        default:
          return false;
      }
    case 'state':
      if (o === '--state') {
        m.neg = neg;
        m.states = parseNameList<CtStateName>(c, c.arg(opt), CT_STATE_NAMES.slice(0, 5), 'state');
        return true;
      }
      return false;
    case 'recent':
      switch (o) {
        case '--set':
        case '--rcheck':
        case '--update':
        case '--remove':
          m.command = o.slice(2) as 'set';
          m.neg = neg;
          return true;
        case '--seconds':
          m.seconds = parseNumber(c, c.arg(opt));
          return true;
        case '--reap':
          m.reap = true;
          return true;
        case '--hitcount':
          m.hitcount = parseNumber(c, c.arg(opt));
          return true;
        case '--rttl':
          m.rttl = true;
          return true;
        case '--name':
          m.name = c.arg(opt).text;
          return true;
        case '--mask': {
          const t = c.arg(opt);
          const v = parseIpv4(t.text);
          if (v === null) throw c.err(t, `invalid mask "${t.text}"`);
          m.mask = v;
          return true;
        }
        case '--rsource':
          m.side = 'rsource';
          return true;
        case '--rdest':
          m.side = 'rdest';
          return true;
        default:
          return false;
      }
    case 'multiport':
      if (o === '--dports' || o === '--destination-ports' || o === '--sports' || o === '--source-ports' || o === '--ports') {
        const t = c.arg(opt);
        m.option = o.startsWith('--d') ? 'dports' : o.startsWith('--s') ? 'sports' : 'ports';
        m.neg = neg;
        m.ports = t.text.split(',').map((p) => parsePortRange(c, { ...t, text: p }));
        if (m.ports.length > 15) throw c.err(t, 'too many ports specified (multiport allows 15)');
        return true;
      }
      return false;
    case 'nfacct':
      if (o === '--nfacct-name') return (m.name = c.arg(opt).text), true;
      return false;
    case 'physdev':
      if (o === '--physdev-in') return (m.physdevIn = { neg, value: c.arg(opt).text }), true;
      if (o === '--physdev-out') return (m.physdevOut = { neg, value: c.arg(opt).text }), true;
      if (o === '--physdev-is-in') return (m.isIn = { neg, value: true }), true;
      if (o === '--physdev-is-out') return (m.isOut = { neg, value: true }), true;
      if (o === '--physdev-is-bridged') return (m.isBridged = { neg, value: true }), true;
      return false;
    case 'set':
      if (o === '--match-set') {
        m.neg = neg;
        m.name = c.arg(opt).text;
        m.flags = c.arg(opt).text.split(',');
        return true;
      }
      return false;
    case 'limit':
      if (o === '--limit') {
        const t = c.arg(opt);
        const mm = /^(\d+)(?:\/(\w+))?$/.exec(t.text);
        const units: Record<string, 'sec' | 'min' | 'hour' | 'day'> = { s: 'sec', m: 'min', h: 'hour', d: 'day' };
        const unit = mm ? units[(mm[2] ?? 's')[0]!] : undefined;
        if (!mm || !unit) throw c.err(t, `invalid rate "${t.text}"`);
        m.rate = Number(mm[1]);
        m.unit = unit;
        return true;
      }
      if (o === '--limit-burst') return (m.burst = parseNumber(c, c.arg(opt))), true;
      return false;
    default: {
      const never: never = m;
      throw new Error(`matchOption: ${(never as Match).kind}`);
    }
  }
}

function parseNatRange(c: Cursor, t: Token, withIp: boolean): NatRange {
  const s = t.text;
  let ipPart = s;
  let portPart: string | null = null;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    ipPart = s.slice(0, colon);
    portPart = s.slice(colon + 1);
  }
  let minIp = 0;
  let maxIp = 0;
  if (ipPart !== '' || withIp) {
    const [a, b] = ipPart.split('-', 2) as [string, string | undefined];
    const lo = parseIpv4(a);
    const hi = b === undefined ? lo : parseIpv4(b);
    if (lo === null || hi === null || hi < lo) throw c.err(t, `invalid address range "${s}"`);
    minIp = lo;
    maxIp = hi;
  }
  return { minIp, maxIp, ports: portPart === null ? null : parsePortRange(c, { ...t, text: portPart }, '-') };
}

function newTarget(name: string): Target {
  switch (name) {
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
    case 'NOTRACK':
    case 'TRACE':
      return { kind: name };
    case 'REJECT':
      return { kind: 'REJECT', with: 'icmp-port-unreachable' };
    case 'DNAT':
      return { kind: 'DNAT', to: null, random: false, persistent: false };
    case 'SNAT':
      return { kind: 'SNAT', to: null, random: false, randomFully: false, persistent: false };
    case 'MASQUERADE':
      return { kind: 'MASQUERADE', ports: null, random: false, randomFully: false };
    case 'MARK':
      return { kind: 'MARK', value: 0, mask: 0 };
    case 'CONNMARK':
      return { kind: 'CONNMARK', mode: 'set', value: 0, mask: 0 };
    case 'CT':
      return { kind: 'CT', notrack: true };
    case 'LOG':
      return { kind: 'LOG', prefix: null, level: 4, tcpSequence: false, tcpOptions: false, ipOptions: false, uid: false, macDecode: false };
    default:
      throw new Error(`newTarget: ${name}`);
  }
}

function targetOption(tg: Target, opt: Token, c: Cursor): boolean {
  const o = opt.text;
  switch (tg.kind) {
    case 'REJECT':
      if (o === '--reject-with') {
        const t = c.arg(opt);
        const w = REJECT_ALIASES[t.text];
        if (!w) throw c.err(t, `unknown --reject-with "${t.text}"`);
        tg.with = w;
        return true;
      }
      return false;
    case 'DNAT':
      if (o === '--to-destination' || o === '--to') return (tg.to = parseNatRange(c, c.arg(opt), false)), true;
      if (o === '--random') return (tg.random = true), true;
      if (o === '--persistent') return (tg.persistent = true), true;
      return false;
    case 'SNAT':
      if (o === '--to-source' || o === '--to') return (tg.to = parseNatRange(c, c.arg(opt), true)), true;
      if (o === '--random') return (tg.random = true), true;
      if (o === '--random-fully') return (tg.randomFully = true), true;
      if (o === '--persistent') return (tg.persistent = true), true;
      return false;
    case 'MASQUERADE':
      if (o === '--to-ports') return (tg.ports = parsePortRange(c, c.arg(opt), '-')), true;
      if (o === '--random') return (tg.random = true), true;
      if (o === '--random-fully') return (tg.randomFully = true), true;
      return false;
    case 'MARK': {
      // libxt_MARK revision 2: everything becomes --set-xmark value/mask; skb->mark = (mark & ~mask) ^ value.
      if (o === '--set-xmark') {
        const { value, mask } = parseMarkMask(c, c.arg(opt));
        return Object.assign(tg, { value, mask }), true;
      }
      if (o === '--set-mark') {
        const { value, mask } = parseMarkMask(c, c.arg(opt));
        return Object.assign(tg, { value, mask: (mask | value) >>> 0 }), true;
      }
      if (o === '--and-mark') return Object.assign(tg, { value: 0, mask: ~parseNumber(c, c.arg(opt)) >>> 0 }), true;
      if (o === '--or-mark') {
        const v = parseNumber(c, c.arg(opt));
        return Object.assign(tg, { value: v, mask: v }), true;
      }
      if (o === '--xor-mark') return Object.assign(tg, { value: parseNumber(c, c.arg(opt)), mask: 0 }), true;
      return false;
    }
    case 'CONNMARK': {
      if (o === '--set-xmark' || o === '--set-mark') {
        const { value, mask } = parseMarkMask(c, c.arg(opt));
        const t = tg as Target & { kind: 'CONNMARK' };
        Object.assign(t, { mode: 'set', value, mask: o === '--set-mark' ? (mask | value) >>> 0 : mask });
        delete (t as { nfmask?: number }).nfmask;
        delete (t as { ctmask?: number }).ctmask;
        return true;
      }
      if (o === '--save-mark' || o === '--restore-mark') {
        const t = tg as Record<string, unknown>;
        delete t.value;
        delete t.mask;
        Object.assign(t, { mode: o === '--save-mark' ? 'save' : 'restore', nfmask: 0xffffffff, ctmask: 0xffffffff });
        return true;
      }
      if ((o === '--nfmask' || o === '--ctmask') && tg.mode !== 'set') {
        const v = parseNumber(c, c.arg(opt));
        if (o === '--nfmask') tg.nfmask = v;
        else tg.ctmask = v;
        return true;
      }
      if (o === '--mask' && tg.mode !== 'set') {
        const v = parseNumber(c, c.arg(opt));
        tg.nfmask = v;
        tg.ctmask = v;
        return true;
      }
      return false;
    }
    case 'CT':
      return o === '--notrack';
    case 'LOG':
      switch (o) {
        case '--log-prefix':
          tg.prefix = c.arg(opt).text;
          return true;
        case '--log-level': {
          const t = c.arg(opt);
          const lv = LOG_LEVELS[t.text] ?? (/^[0-7]$/.test(t.text) ? Number(t.text) : undefined);
          if (lv === undefined) throw c.err(t, `invalid --log-level "${t.text}"`);
          tg.level = lv;
          return true;
        }
        case '--log-tcp-sequence':
          tg.tcpSequence = true;
          return true;
        case '--log-tcp-options':
          tg.tcpOptions = true;
          return true;
        case '--log-ip-options':
          tg.ipOptions = true;
          return true;
        case '--log-uid':
          tg.uid = true;
          return true;
        case '--log-macdecode':
          tg.macDecode = true;
          return true;
        default:
          return false;
      }
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
    case 'NOTRACK':
    case 'TRACE':
    case 'jump':
    case 'goto':
      return false;
    default: {
      const never: never = tg;
      throw new Error(`targetOption: ${(never as Target).kind}`);
    }
  }
}

/** Where a jump target was named, so an undefined chain can be reported at COMMIT. */
interface PendingJump {
  rule: Rule;
  tok: Token;
}

/** Parses the tokens of one rule after `-A CHAIN`. */
function parseRuleTokens(c: Cursor, table: TableName, pending: PendingJump[]): Rule {
  const r = emptyRule();
  let neg: Token | null = null;
  const takeNeg = (): boolean => {
    const n = neg !== null;
    neg = null;
    return n;
  };
  let targetTok: Token | null = null;
  while (!c.done) {
    const t = c.take();
    if (t.text === '!' && !t.quoted) {
      if (neg) throw c.err(t, 'multiple "!" flags');
      neg = t;
      continue;
    }
    switch (t.text) {
      case '-s':
      case '--source':
      case '--src': {
        // A /0 prefix matches everything: iptables-save omits it.
        const v = { neg: takeNeg(), value: parseCidr(c, c.arg(t)) };
        r.src = v.value.prefix === 0 && !v.neg ? null : v;
        continue;
      }
      case '-d':
      case '--destination':
      case '--dst': {
        const v = { neg: takeNeg(), value: parseCidr(c, c.arg(t)) };
        r.dst = v.value.prefix === 0 && !v.neg ? null : v;
        continue;
      }
      case '-i':
      case '--in-interface':
        r.inIface = { neg: takeNeg(), value: c.arg(t).text };
        continue;
      case '-o':
      case '--out-interface':
        r.outIface = { neg: takeNeg(), value: c.arg(t).text };
        continue;
      case '-p':
      case '--protocol': {
        const n = takeNeg();
        const p = parseProto(c, c.arg(t));
        r.proto = p === null ? (n ? { neg: true, value: 0 } : null) : { neg: n, value: p };
        continue;
      }
      case '-f':
      case '--fragment':
        r.fragment = { neg: takeNeg(), value: true };
        continue;
      case '-m':
      case '--match': {
        if (neg) throw c.err(neg, 'unexpected "!" before -m');
        const nt = c.arg(t);
        if (UNSUPPORTED_MATCHES.has(nt.text)) throw c.err(t, `unsupported match "-m ${nt.text}" (not modelled by podwire)`);
        if (!MATCH_MODULES.has(nt.text)) throw c.err(t, `unknown match "-m ${nt.text}"`);
        r.matches.push(newMatch(nt.text));
        continue;
      }
      case '-j':
      case '--jump':
      case '-g':
      case '--goto': {
        if (neg) throw c.err(neg, `unexpected "!" before ${t.text}`);
        if (r.target) throw c.err(t, 'multiple targets');
        const nt = c.arg(t);
        targetTok = nt;
        if (t.text === '-g' || t.text === '--goto') {
          r.target = { kind: 'goto', chain: nt.text };
          pending.push({ rule: r, tok: nt });
        } else if (TARGET_NAMES.has(nt.text)) r.target = newTarget(nt.text);
        else if (UNSUPPORTED_TARGETS.has(nt.text)) throw c.err(t, `unsupported target "-j ${nt.text}" (not modelled by podwire)`);
        else {
          r.target = { kind: 'jump', chain: nt.text };
          pending.push({ rule: r, tok: nt });
        }
        continue;
      }
      default:
        break;
    }
    if (!t.text.startsWith('-')) throw c.err(t, `unexpected argument "${t.text}"`);
    const n = takeNeg();
    if (r.target && targetOption(r.target, t, c)) {
      if (n) throw c.err(t, `"!" not allowed before target option "${t.text}"`);
      continue;
    }
    let owned = false;
    for (let k = r.matches.length - 1; k >= 0 && !owned; k--) {
      const before = c.i;
      owned = matchOption(r.matches[k]!, t, n, c);
      if (!owned) c.i = before;
    }
    if (owned) continue;
    // Implicit protocol match: "-p tcp --dport 80" loads -m tcp at this point (iptables' "implicit" load).
    const protoName = r.proto && !r.proto.neg ? PROTO_NAMES[r.proto.value] : undefined;
    if (protoName === 'tcp' || protoName === 'udp' || protoName === 'sctp' || protoName === 'icmp') {
      const m = newMatch(protoName);
      if (matchOption(m, t, n, c)) {
        r.matches.push(m);
        continue;
      }
    }
    throw c.err(t, `unknown option "${t.text}"`);
  }
  if (neg) throw c.err(neg, 'trailing "!"');
  validateRule(r, c, table, targetTok);
  return r;
}

function validateRule(r: Rule, c: Cursor, table: TableName, targetTok: Token | null): void {
  for (const m of r.matches) {
    if (m.kind === 'statistic' && m.mode === 'random' && m.probability < 0) throw c.errAtEnd('statistic --mode random needs --probability');
    if (m.kind === 'statistic' && m.mode === 'nth' && m.every === 0) throw c.errAtEnd('statistic --mode nth needs --every');
    if (m.kind === 'statistic' && m.mode === 'nth' && m.packet >= m.every) throw c.errAtEnd('statistic --packet must be less than --every');
    if (m.kind === 'statistic' && m.mode === 'nth' && !m.packetGiven) throw c.errAtEnd('statistic: option "--every" also requires "--packet"');
    if (m.kind === 'statistic' && m.mode === 'nth') delete m.packetGiven;
    if (m.kind === 'multiport' && m.ports.length === 0) throw c.errAtEnd('multiport needs --dports, --sports or --ports');
  }
  if (r.target && targetTok && (r.target.kind === 'DNAT' || r.target.kind === 'SNAT' || r.target.kind === 'MASQUERADE') && table !== 'nat')
    throw c.err(targetTok, `target "${r.target.kind}" is only valid in the nat table`);
  if (r.target && targetTok && (r.target.kind === 'NOTRACK' || r.target.kind === 'CT') && table !== 'raw')
    throw c.err(targetTok, `target "${r.target.kind}" is only valid in the raw table`);
}

/** Parses iptables-save (or iptables-restore input) text. `file` names the source in errors. */
export function parseIptablesSave(text: string, file = '<input>'): Ruleset {
  const rs: Ruleset = { tables: [], ruleCounters: false };
  const lines = text.split('\n');
  let cur: Table | null = null;
  // Chains of the current table by name: kube-proxy dumps hold thousands, so no linear searches.
  let byName = new Map<string, Chain>();
  const addChain = (c: Chain): void => {
    cur!.chains.push(c);
    byName.set(c.name, c);
  };
  let pendingComments: string[] = [];
  let pending: PendingJump[] = [];
  let lastCommitted: Table | null = null;
  let jumpLines = new Map<PendingJump, number>();
  for (let ln = 0; ln < lines.length; ln++) {
    let line = lines[ln]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const lineNo = ln + 1;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      if (!cur && lastCommitted && line.startsWith('# Completed')) lastCommitted.footer.push(line);
      else if (!cur) pendingComments.push(line);
      continue;
    }
    if (line.startsWith('*')) {
      if (cur) throw new IptablesParseError(file, lineNo, 1, `table "${line.slice(1)}" started before COMMIT of "${cur.name}"`);
      const name = line.slice(1).trim();
      if (!(TABLE_NAMES as readonly string[]).includes(name)) throw new IptablesParseError(file, lineNo, 2, `unknown table "${name}"`);
      cur = { name: name as TableName, chains: [], header: pendingComments, footer: [] };
      byName = new Map();
      pendingComments = [];
      pending = [];
      jumpLines = new Map();
      continue;
    }
    if (!cur) throw new IptablesParseError(file, lineNo, 1, `"${line.split(/\s+/)[0]}" outside a table (missing "*table" line)`);
    if (line.trim() === 'COMMIT') {
      for (const p of pending) {
        const chain = p.rule.target && (p.rule.target.kind === 'jump' || p.rule.target.kind === 'goto') ? p.rule.target.chain : '';
        if (!byName.has(chain) || isBuiltinChain(cur.name, chain)) {
          throw new IptablesParseError(file, jumpLines.get(p) ?? lineNo, p.tok.col, `unknown target "${p.tok.text}" (no such chain in table ${cur.name})`);
        }
      }
      rs.tables.push(cur);
      lastCommitted = cur;
      cur = null;
      continue;
    }
    if (line.startsWith(':')) {
      const m = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?\s*$/.exec(line);
      if (!m) throw new IptablesParseError(file, lineNo, 1, `malformed chain line "${line}"`);
      const [, name, policy, p, b] = m as unknown as [string, string, string, string | undefined, string | undefined];
      const builtin = isBuiltinChain(cur.name, name);
      if (policy !== '-' && policy !== 'ACCEPT' && policy !== 'DROP') throw new IptablesParseError(file, lineNo, name.length + 3, `invalid policy "${policy}"`);
      if (!builtin && policy !== '-') throw new IptablesParseError(file, lineNo, name.length + 3, `user chain "${name}" cannot have policy "${policy}"`);
      if (byName.has(name)) throw new IptablesParseError(file, lineNo, 2, `chain "${name}" declared twice`);
      addChain({ name, policy: policy as Chain['policy'], counters: { packets: Number(p ?? 0), bytes: Number(b ?? 0) }, rules: [] });
      continue;
    }
    const toks = tokenize(line, file, lineNo);
    const c = new Cursor(toks, file, lineNo);
    let counters: { packets: number; bytes: number } | null = null;
    const first = c.peek()!;
    const cm = /^\[(\d+):(\d+)\]$/.exec(first.text);
    if (cm) {
      c.take();
      counters = { packets: Number(cm[1]), bytes: Number(cm[2]) };
      rs.ruleCounters = true;
    }
    const cmd = c.take();
    const chainTok = c.arg(cmd);
    let chain = byName.get(chainTok.text);
    if (!chain && isBuiltinChain(cur.name, chainTok.text) && cmd.text !== '-N' && cmd.text !== '--new-chain') {
      // Built-in chains exist in every table: iptables-restore takes rules for them without a ":CHAIN" line.
      chain = { name: chainTok.text, policy: '-', counters: { packets: 0, bytes: 0 }, rules: [] };
      addChain(chain);
    }
    switch (cmd.text) {
      case '-A':
      case '--append': {
        if (!chain) throw c.err(chainTok, `unknown chain "${chainTok.text}" (declare it with ":${chainTok.text} - [0:0]")`);
        const before = pending.length;
        const r = parseRuleTokens(c, cur.name, pending);
        for (let k = before; k < pending.length; k++) jumpLines.set(pending[k]!, lineNo);
        if (counters) r.counters = counters;
        chain.rules.push(r);
        break;
      }
      case '-N':
      case '--new-chain':
        if (chain) throw c.err(chainTok, `chain "${chainTok.text}" already exists`);
        addChain({ name: chainTok.text, policy: '-', counters: { packets: 0, bytes: 0 }, rules: [] });
        break;
      case '-X':
      case '--delete-chain':
        if (!chain) throw c.err(chainTok, `unknown chain "${chainTok.text}"`);
        cur.chains = cur.chains.filter((ch) => ch !== chain);
        byName.delete(chain.name);
        (cur.deletedChains ??= []).push(chain.name);
        break;
      case '-F':
      case '--flush':
        if (!chain) throw c.err(chainTok, `unknown chain "${chainTok.text}"`);
        chain.rules = [];
        break;
      default:
        throw c.err(cmd, `unknown command "${cmd.text}"`);
    }
  }
  if (cur) throw new IptablesParseError(file, lines.length, 1, `table "${cur.name}" has no COMMIT`);
  return rs;
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

const portStr = (p: PortRange, sep = ':'): string => (p.min === p.max ? `${p.min}` : `${p.min}${sep}${p.max}`);
const optNeg = <T>(n: Neg<T> | null, name: string, f: (v: T) => string): string => (n ? ` ${negs(n.neg)}${name} ${f(n.value)}` : '');
const ctAddr = (c: Cidr): string => (c.prefix === 32 ? formatIpv4(c.addr) : formatCidr(c));

function tcpFlagsStr(v: number): string {
  const names = TCP_FLAGS.filter(([, b]) => v & b).map(([n]) => n);
  return names.length ? names.join(',') : 'NONE';
}

/** Renders one match as iptables-save prints it (" -m name opts"). */
export function renderMatch(m: Match): string {
  switch (m.kind) {
    case 'tcp':
    case 'udp':
    case 'sctp':
      return (
        ` -m ${m.kind}` +
        optNeg(m.sport, '--sport', (p) => portStr(p)) +
        optNeg(m.dport, '--dport', (p) => portStr(p)) +
        optNeg(m.tcpFlags, '--tcp-flags', (f) => `${tcpFlagsStr(f.mask)} ${tcpFlagsStr(f.comp)}`)
      );
    case 'icmp':
      return ` -m icmp` + optNeg(m.type, '--icmp-type', (t) => (t.type === 255 ? 'any' : t.code === null ? `${t.type}` : `${t.type}/${t.code}`));
    case 'comment':
      return ` -m comment --comment ${saveString(m.comment)}`;
    case 'addrtype':
      return (
        ` -m addrtype` +
        optNeg(m.srcType, '--src-type', (v) => v.join(',')) +
        optNeg(m.dstType, '--dst-type', (v) => v.join(',')) +
        (m.limitIfaceIn ? ' --limit-iface-in' : '') +
        (m.limitIfaceOut ? ' --limit-iface-out' : '')
      );
    case 'mark':
    case 'connmark':
      return ` -m ${m.kind} ${negs(m.neg)}--mark ${hex(m.value)}${m.mask === 0xffffffff ? '' : `/${hex(m.mask)}`}`;
    case 'statistic':
      return m.mode === 'random'
        ? ` -m statistic --mode random ${negs(m.neg)}--probability ${formatProbability(m.probability)}`
        : ` -m statistic --mode nth ${negs(m.neg)}--every ${m.every} --packet ${m.packet}`;
    case 'conntrack':
      return (
        ' -m conntrack' +
        optNeg(m.ctstate, '--ctstate', (v) => v.join(',')) +
        optNeg(m.ctproto, '--ctproto', (v) => `${v}`) +
        optNeg(m.ctorigsrc, '--ctorigsrc', ctAddr) +
        optNeg(m.ctorigdst, '--ctorigdst', ctAddr) +
        optNeg(m.ctreplsrc, '--ctreplsrc', ctAddr) +
        optNeg(m.ctrepldst, '--ctrepldst', ctAddr) +
        optNeg(m.ctorigsrcport, '--ctorigsrcport', (p) => portStr(p)) +
        optNeg(m.ctorigdstport, '--ctorigdstport', (p) => portStr(p)) +
        optNeg(m.ctreplsrcport, '--ctreplsrcport', (p) => portStr(p)) +
        optNeg(m.ctrepldstport, '--ctrepldstport', (p) => portStr(p)) +
        optNeg(m.ctstatus, '--ctstatus', (v) => v.join(',')) +
        (m.ctdir ? ` --ctdir ${m.ctdir}` : '')
      );
    case 'state':
      return ` -m state ${negs(m.neg)}--state ${m.states.join(',')}`;
    case 'recent':
      return (
        ` -m recent ${negs(m.neg)}--${m.command}` +
        (m.seconds !== null ? ` --seconds ${m.seconds}` : '') +
        (m.reap ? ' --reap' : '') +
        (m.hitcount !== null ? ` --hitcount ${m.hitcount}` : '') +
        (m.rttl ? ' --rttl' : '') +
        ` --name ${m.name} --mask ${formatIpv4(m.mask)} --${m.side}`
      );
    case 'multiport':
      return ` -m multiport ${negs(m.neg)}--${m.option} ${m.ports.map((p) => portStr(p)).join(',')}`;
    case 'nfacct':
      // libxt_nfacct prints "--nfacct-name " and then xtables_save_string adds its own leading space.
      return ` -m nfacct --nfacct-name  ${m.name}`;
    case 'physdev':
      return (
        ' -m physdev' +
        (m.isIn ? ` ${negs(m.isIn.neg)}--physdev-is-in` : '') +
        optNeg(m.physdevIn, '--physdev-in', (v) => v) +
        (m.isOut ? ` ${negs(m.isOut.neg)}--physdev-is-out` : '') +
        optNeg(m.physdevOut, '--physdev-out', (v) => v) +
        (m.isBridged ? ` ${negs(m.isBridged.neg)}--physdev-is-bridged` : '')
      );
    case 'set':
      return ` -m set ${negs(m.neg)}--match-set ${m.name} ${m.flags.join(',')}`;
    case 'limit':
      return ` -m limit --limit ${m.rate}/${m.unit}${m.burst !== 5 ? ` --limit-burst ${m.burst}` : ''}`;
    default: {
      const never: never = m;
      throw new Error(`renderMatch: ${(never as Match).kind}`);
    }
  }
}

function natRangeStr(r: NatRange, withIp: boolean): string {
  let s = '';
  if (withIp || r.minIp !== 0 || r.maxIp !== 0) s = r.minIp === r.maxIp ? formatIpv4(r.minIp) : `${formatIpv4(r.minIp)}-${formatIpv4(r.maxIp)}`;
  if (r.ports) s += `:${portStr(r.ports, '-')}`;
  return s;
}

/** Renders a target as iptables-save prints it (" -j NAME opts" or " -g CHAIN"). */
export function renderTarget(t: Target): string {
  switch (t.kind) {
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
    case 'NOTRACK':
    case 'TRACE':
      return ` -j ${t.kind}`;
    case 'jump':
      return ` -j ${t.chain}`;
    case 'goto':
      return ` -g ${t.chain}`;
    case 'REJECT':
      return ` -j REJECT --reject-with ${t.with}`;
    case 'DNAT':
      return ` -j DNAT${t.to ? ` --to-destination ${natRangeStr(t.to, false)}` : ''}${t.random ? ' --random' : ''}${t.persistent ? ' --persistent' : ''}`;
    case 'SNAT':
      return ` -j SNAT${t.to ? ` --to-source ${natRangeStr(t.to, true)}` : ''}${t.random ? ' --random' : ''}${t.randomFully ? ' --random-fully' : ''}${t.persistent ? ' --persistent' : ''}`;
    case 'MASQUERADE':
      return ` -j MASQUERADE${t.ports ? ` --to-ports ${portStr(t.ports, '-')}` : ''}${t.random ? ' --random' : ''}${t.randomFully ? ' --random-fully' : ''}`;
    case 'MARK':
      return ` -j MARK --set-xmark ${hex(t.value)}/${hex(t.mask)}`;
    case 'CONNMARK':
      return t.mode === 'set'
        ? ` -j CONNMARK --set-xmark ${hex(t.value)}/${hex(t.mask)}`
        : ` -j CONNMARK --${t.mode}-mark --nfmask ${hex(t.nfmask)} --ctmask ${hex(t.ctmask)}`;
    case 'CT':
      return ' -j CT --notrack';
    case 'LOG':
      return (
        ' -j LOG' +
        (t.prefix !== null ? ` --log-prefix ${saveString(t.prefix)}` : '') +
        (t.level !== 4 ? ` --log-level ${t.level}` : '') +
        (t.tcpSequence ? ' --log-tcp-sequence' : '') +
        (t.tcpOptions ? ' --log-tcp-options' : '') +
        (t.ipOptions ? ' --log-ip-options' : '') +
        (t.uid ? ' --log-uid' : '') +
        (t.macDecode ? ' --log-macdecode' : '')
      );
    default: {
      const never: never = t;
      throw new Error(`renderTarget: ${(never as Target).kind}`);
    }
  }
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
  const tables = live.tables.map((t) => ({ ...t, chains: t.chains.map((c) => ({ ...c, rules: c.rules.slice() })) }));
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
    const have0 = new Map(target.chains.map((c) => [c.name, c]));
    for (const c of it.chains) {
      const have = have0.get(c.name);
      if (have) {
        // --noflush: a ":CHAIN" line flushes an existing user chain, but a built-in chain is only
        // given its policy; rules for it are appended (iptables-restore.c, ops->builtin()).
        have.rules = noflush && isBuiltinChain(it.name, c.name) ? [...have.rules, ...c.rules] : c.rules.slice();
        if (c.policy !== '-') have.policy = c.policy;
        have.counters = { ...c.counters };
      } else target.chains.push({ ...c, rules: c.rules.slice() });
    }
  }
  return canonicalize({ tables, ruleCounters: live.ruleCounters || input.ruleCounters });
}
