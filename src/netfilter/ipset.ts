// netfilter/ipset — the ip sets of one network namespace as kernel data: `ipset restore` text in,
// `-m set` membership tests on packets, `ipset save` text out. Each Netfilter owns one IpSetTable
// (kube-proxy's IPVS mode feeds it the same restore text it would feed ipset). Layer: netfilter
// (imports core, wire, packet and this folder).
// Mirrors ipset's userspace lib/ (restore line syntax in ipset.c/session.c, element parsing in
// parse.c, printing in print.c: proto names, icmp names in icmp.c) and the kernel's
// net/netfilter/ipset/ip_set_core.c (ip_set_test: a match with fewer direction flags than the set
// has dimensions never matches), ip_set_getport.c (ip_set_get_ip4_port: the "port" of an ICMP packet
// is type<<8|code, of a portless protocol 0), ip_set_hash_ip.c, ip_set_hash_net.c,
// ip_set_hash_ipport.c, ip_set_hash_ipportip.c, ip_set_hash_ipportnet.c and ip_set_bitmap_port.c
// (TCP and UDP packets only).
//
// Timeouts: a set created with `timeout 0` (kube-router's) takes `timeout 0` elements, which never
// expire, as the kernel's permanent entries; other timeouts are refused. `nomatch` elements of the net
// types: the most specific matching prefix decides, and a nomatch one makes the test fail
// (ip_set_hash_gen.h mtype_test_cidrs, mtype_data_match's -ENOTEMPTY; kube-router's ipBlock except).
// Not modelled: IPv6 (family inet6), timeouts other than 0, counters, skbinfo, forceadd, ranges and CIDR
// expansion in `add` (one element per line), service names for ports, refusing to destroy a set an
// iptables rule references, quotes and backslashes inside comments. Hash types print their elements
// in insertion order (the kernel prints them in jhash bucket order) and never grow hashsize; initval,
// which the kernel draws at random, is a hash of the set name unless the create line gives one.
import { InputError } from '../core/user-error.js';
import type { Packet } from '../packet/packet.js';
import type { Ipv4Header } from '../wire/types.js';
import { formatIpv4, maskFromPrefix } from '../wire/ipv4-addr.js';
import { parseIpv4 } from './rules.js';

/** A user error in ipset restore text, printed clang-style `file:line:col: message`. */
export class IpsetError extends InputError {
  override readonly name = 'IpsetError';
}

/** The set types podwire models, with the dimensions of their elements (ip, port, net). */
const TYPES = {
  'hash:ip': ['ip'],
  'hash:net': ['net'],
  'hash:ip,port': ['ip', 'port'],
  'hash:ip,port,ip': ['ip', 'port', 'ip'],
  'hash:ip,port,net': ['ip', 'port', 'net'],
  'bitmap:port': ['bport'],
} as const;
/** One modelled set type. */
export type IpSetType = keyof typeof TYPES;
type Dim = (typeof TYPES)[IpSetType][number];

/**
 * The direction flags of `-m set --match-set NAME dst,dst,src` as one word: bit k set when dimension
 * k+1 takes the packet's source, and the number of flags in bits 8-10. -1 when invalid.
 */
export function ipsetFlags(flags: readonly string[]): number {
  if (flags.length < 1 || flags.length > 6) return -1;
  let w = flags.length << 8;
  for (let k = 0; k < flags.length; k++) {
    if (flags[k] === 'src') w |= 1 << k;
    else if (flags[k] !== 'dst') return -1;
  }
  return w;
}

// ---- element values as numbers: ip = u32, port = proto << 16 | port, net = addr * 64 + prefix ----

/** A level of the membership index: key → next level (null at the last dimension, NOMATCH for a nomatch element). */
interface Level extends Map<number, Level | null | typeof NOMATCH> {}
/** The last dimension's value of a `nomatch` element. */
const NOMATCH = 0;

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 2: 'igmp', 4: 'ipencap', 6: 'tcp', 17: 'udp', 41: 'ipv6', 47: 'gre', 50: 'esp', 51: 'ah', 132: 'sctp', 136: 'udplite' };
const PROTO_NUMBERS: Record<string, number> = Object.fromEntries(Object.entries(PROTO_NAMES).map(([n, s]) => [s, Number(n)]));
/** Protocols whose "port" is a real port (or ICMP type/code); others take port 0 only. */
const PORT_PROTOS = new Set([1, 6, 17, 132, 136]);

/** lib/icmp.c icmp_typecodes: name → type<<8|code; printing uses the first name of a value. */
const ICMP_NAMES: [string, number][] = (
  [
    ['echo-reply', 0, 0], ['pong', 0, 0], ['network-unreachable', 3, 0], ['host-unreachable', 3, 1], ['protocol-unreachable', 3, 2],
    ['port-unreachable', 3, 3], ['fragmentation-needed', 3, 4], ['source-route-failed', 3, 5], ['network-unknown', 3, 6],
    ['host-unknown', 3, 7], ['network-prohibited', 3, 9], ['host-prohibited', 3, 10], ['TOS-network-unreachable', 3, 11],
    ['TOS-host-unreachable', 3, 12], ['communication-prohibited', 3, 13], ['host-precedence-violation', 3, 14],
    ['precedence-cutoff', 3, 15], ['source-quench', 4, 0], ['network-redirect', 5, 0], ['host-redirect', 5, 1],
    ['TOS-network-redirect', 5, 2], ['TOS-host-redirect', 5, 3], ['echo-request', 8, 0], ['ping', 8, 0],
    ['router-advertisement', 9, 0], ['router-solicitation', 10, 0], ['ttl-zero-during-transit', 11, 0],
    ['ttl-zero-during-reassembly', 11, 1], ['ip-header-bad', 12, 0], ['required-option-missing', 12, 1],
    ['timestamp-request', 13, 0], ['timestamp-reply', 14, 0], ['address-mask-request', 17, 0], ['address-mask-reply', 18, 0],
  ] as const
).map(([n, t, c]) => [n, (t << 8) | c]);

function formatDim(d: Dim, v: number): string {
  switch (d) {
    case 'ip':
      return formatIpv4(v);
    case 'net': {
      const prefix = v % 64;
      const addr = (v - prefix) / 64;
      return prefix === 32 ? formatIpv4(addr) : `${formatIpv4(addr)}/${prefix}`;
    }
    case 'port': {
      const proto = v >>> 16;
      const port = v & 0xffff;
      const pname = PROTO_NAMES[proto] ?? `${proto}`;
      if (proto !== 1) return `${pname}:${port}`;
      const named = ICMP_NAMES.find(([, tc]) => tc === port);
      return `icmp:${named ? named[0] : `${port >>> 8}/${port & 0xff}`}`;
    }
    case 'bport':
      return `${v}`;
    default: {
      const never: never = d;
      throw new Error(`ipset dimension ${String(never)}`);
    }
  }
}

/** Parses one dimension of an element; a string is the error message. */
function parseDim(d: Dim, s: string): number | string {
  switch (d) {
    case 'ip': {
      const v = parseIpv4(s);
      return v === null ? `invalid IPv4 address "${s}" (ranges and CIDR expansion are not modelled)` : v;
    }
    case 'net': {
      const [a, p] = s.split('/', 2) as [string, string | undefined];
      const addr = parseIpv4(a);
      const prefix = p === undefined ? 32 : /^\d{1,2}$/.test(p) && Number(p) >= 1 && Number(p) <= 32 ? Number(p) : -1;
      if (addr === null || prefix < 0) return `invalid network "${s}"`;
      return ((addr & maskFromPrefix(prefix)) >>> 0) * 64 + prefix;
    }
    case 'port':
      return parseProtoPort(s);
    case 'bport':
      return /^\d+$/.test(s) && Number(s) <= 65535 ? Number(s) : `invalid port "${s}" (service names are not modelled)`;
    default: {
      const never: never = d;
      throw new Error(`ipset dimension ${String(never)}`);
    }
  }
}

/** `[proto:]port`, `icmp:name`, `icmp:type/code`, `gre:0` (parse.c ipset_parse_proto_port; default tcp). */
function parseProtoPort(s: string): number | string {
  const colon = s.indexOf(':');
  const pname = colon < 0 ? 'tcp' : s.slice(0, colon).toLowerCase();
  const rest = colon < 0 ? s : s.slice(colon + 1);
  const proto = /^\d+$/.test(pname) ? Number(pname) : PROTO_NUMBERS[pname];
  if (proto === undefined || proto < 1 || proto > 255) return `invalid protocol "${pname}"`;
  if (proto === 1) {
    const named = ICMP_NAMES.find(([n]) => n.toLowerCase() === rest.toLowerCase());
    if (named) return (1 << 16) | named[1];
    const m = /^(\d+)\/(\d+)$/.exec(rest);
    if (!m || Number(m[1]) > 255 || Number(m[2]) > 255) return `invalid ICMP type/code "${rest}"`;
    return (1 << 16) | (Number(m[1]) << 8) | Number(m[2]);
  }
  if (!/^\d+$/.test(rest) || Number(rest) > 65535) return `invalid port "${rest}" (service names and ranges are not modelled)`;
  if (!PORT_PROTOS.has(proto) && Number(rest) !== 0) return `protocol ${pname} takes only port 0`;
  return (proto << 16) | Number(rest);
}

/** ip_set_get_ip4_port: proto << 16 | port of the packet (ICMP: type<<8|code; portless: 0), or -1 (a later fragment). */
function packetProtoPort(pkt: Packet, ip: Ipv4Header, src: boolean): number {
  const proto = ip.protocol;
  if (ip.fragOffset !== 0) return PORT_PROTOS.has(proto) ? -1 : proto << 16;
  let port = 0;
  if (pkt.tcp) port = src ? pkt.tcp.srcPort : pkt.tcp.dstPort;
  else if (pkt.udp) port = src ? pkt.udp.srcPort : pkt.udp.dstPort;
  else if (pkt.icmp) port = (pkt.icmp.type << 8) | pkt.icmp.code;
  return (proto << 16) | port;
}

/** Create-time options, as `ipset save` prints them. */
interface SetOptions {
  hashsize: number;
  maxelem: number;
  bucketsize: number;
  initval: number;
  comment: boolean;
  /** `timeout 0` at create (the set takes element timeouts; only 0, permanent, is modelled), else -1. */
  timeout: number;
  /** bitmap:port range. */
  first: number;
  last: number;
}

/** One ip set: its create options, its elements (for save) and a numeric index (for test). */
class IpSet {
  readonly dims: readonly Dim[];
  /** Canonical element text → its options as `ipset save` prints them after it (insertion order). */
  readonly entries = new Map<string, string>();
  root: Level = new Map();
  /** hash:net / hash:ip,port,net: how many elements have each prefix length (the kernel's nets[]). */
  readonly prefixCount = new Uint32Array(33);

  constructor(
    public name: string,
    readonly type: IpSetType,
    readonly opts: SetOptions,
  ) {
    this.dims = TYPES[type];
  }

  createLine(): string {
    const o = this.opts;
    if (this.type === 'bitmap:port') return `create ${this.name} ${this.type} range ${o.first}-${o.last}${o.comment ? ' comment' : ''}`;
    const initval = `0x${o.initval.toString(16).padStart(8, '0')}`;
    return `create ${this.name} ${this.type} family inet hashsize ${o.hashsize} maxelem ${o.maxelem}${o.timeout >= 0 ? ` timeout ${o.timeout}` : ''}${o.comment ? ' comment' : ''} bucketsize ${o.bucketsize} initval ${initval}`;
  }

  flush(): void {
    this.entries.clear();
    this.root = new Map();
    this.prefixCount.fill(0);
  }

  /** Adds (true) or deletes (false) an element given as numbers; false when nothing changed (a re-add with -exist sets its nomatch flag). */
  update(key: number[], add: boolean, nomatch = false): boolean {
    const last = key.length - 1;
    const path: Level[] = [this.root];
    let n = this.root;
    for (let i = 0; i < last; i++) {
      let next = n.get(key[i]!);
      if (!next) {
        if (!add) return false;
        n.set(key[i]!, (next = new Map()));
      }
      path.push((n = next));
    }
    const had = n.has(key[last]!);
    if (had === add) {
      if (add) n.set(key[last]!, nomatch ? NOMATCH : null);
      return false;
    }
    if (add) n.set(key[last]!, nomatch ? NOMATCH : null);
    else {
      n.delete(key[last]!);
      for (let i = last; i > 0 && path[i]!.size === 0; i--) path[i - 1]!.delete(key[i - 1]!);
    }
    if (this.dims[last] === 'net') this.prefixCount[key[last]! % 64]! += add ? 1 : -1;
    return true;
  }

  /**
   * The last dimension of a net type: the most specific prefix present containing `addr` decides
   * (kernel: nets[] most specific first, the first hit returned, a nomatch one as no match).
   */
  private hasNet(level: Level, addr: number): boolean {
    for (let p = 32; p >= 1; p--) {
      if (this.prefixCount[p] === 0) continue;
      const v = level.get(((addr & maskFromPrefix(p)) >>> 0) * 64 + p);
      if (v !== undefined) return v !== NOMATCH;
    }
    return false;
  }

  /** The set type's kadt test for a packet. */
  test(flags: number, pkt: Packet): boolean {
    const ip = pkt.ip;
    if (ip === null || flags >>> 8 < this.dims.length) return false;
    const a = flags & 1 ? ip.src : ip.dst;
    switch (this.type) {
      case 'hash:ip':
        return this.root.has(a);
      case 'hash:net':
        return this.hasNet(this.root, a);
      case 'bitmap:port': {
        if (ip.fragOffset !== 0 || !(ip.protocol === 6 ? pkt.tcp : ip.protocol === 17 ? pkt.udp : null)) return false;
        return this.root.has(packetProtoPort(pkt, ip, (flags & 1) !== 0) & 0xffff);
      }
      default: {
        const pp = packetProtoPort(pkt, ip, (flags & 2) !== 0);
        const l2 = pp < 0 ? undefined : (this.root.get(a) as Level | null | undefined)?.get(pp);
        if (l2 === undefined) return false;
        if (this.type === 'hash:ip,port') return true;
        if (l2 === null || l2 === NOMATCH) return false;
        const c = flags & 4 ? ip.src : ip.dst;
        return this.type === 'hash:ip,port,ip' ? l2.has(c) : this.hasNet(l2, c);
      }
    }
  }
}

/** Round up to a power of two, at least 64 (the kernel's htable_bits / IPSET_MIMINAL_HASHSIZE). */
function hashsizeOf(n: number): number {
  let s = 64;
  while (s < n) s *= 2;
  return s;
}

/** FNV-1a of the name: podwire's stand-in for the kernel's random initval. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/** Splits a restore line: whitespace separates, "..." groups (comments may contain spaces). */
function words(line: string): { text: string; col: number }[] {
  const out: { text: string; col: number }[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push({ text: m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!, col: m.index + 1 });
  return out;
}

const COMMANDS: Record<string, string> = {
  create: 'create', n: 'create', '-N': 'create', add: 'add', a: 'add', '-A': 'add', del: 'del', '-D': 'del',
  flush: 'flush', '-F': 'flush', destroy: 'destroy', x: 'destroy', '-X': 'destroy', swap: 'swap', '-W': 'swap', rename: 'rename', '-E': 'rename',
};

/** The ip sets of a namespace (the kernel's ip_set_net list). */
export class IpSetTable {
  private readonly sets = new Map<string, IpSet>();

  /** Number of sets. */
  get size(): number {
    return this.sets.size;
  }

  /** A set named `name` exists. */
  has(name: string): boolean {
    return this.sets.has(name);
  }

  /** ip_set_test for `-m set`: undefined when no set is named `name`. `flags` from ipsetFlags(). */
  test(name: string, flags: number, pkt: Packet): boolean | undefined {
    const s = this.sets.get(name);
    return s === undefined ? undefined : s.test(flags, pkt);
  }

  /** What `ipset save` prints: each set's create line, then its add lines. */
  save(): string {
    let out = '';
    for (const s of this.sets.values()) {
      out += `${s.createLine()}\n`;
      const keys = [...s.entries.keys()];
      if (s.type === 'bitmap:port') keys.sort((x, y) => Number(x) - Number(y));
      for (const k of keys) out += `add ${s.name} ${k}${s.entries.get(k)!}\n`;
    }
    return out;
  }

  /** `ipset restore [-exist]`: applies every line of `text`; throws an IpsetError naming the line. */
  restore(text: string, opts: { file?: string; exist?: boolean } = {}): void {
    const file = opts.file ?? '<ipset>';
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const w = words(lines[i]!.replace(/\r$/, ''));
      if (w.length === 0 || w[0]!.text.startsWith('#') || w[0]!.text === 'COMMIT') continue;
      const err = (col: number, msg: string): IpsetError => new IpsetError(file, i + 1, col, msg);
      const exist = opts.exist === true || w.some((x) => x.text === '-exist' || x.text === '-!');
      const args = w.filter((x) => x.text !== '-exist' && x.text !== '-!');
      this.command(args, exist, err);
    }
  }

  private command(w: { text: string; col: number }[], exist: boolean, err: (col: number, msg: string) => IpsetError): void {
    const cmd = COMMANDS[w[0]!.text];
    if (cmd === undefined) throw err(w[0]!.col, `unknown command "${w[0]!.text}"`);
    const nameW = w[1];
    const get = (): IpSet => {
      if (!nameW) throw err(w[0]!.col, `${cmd} needs a set name`);
      const s = this.sets.get(nameW.text);
      if (!s) throw err(nameW.col, `the set with the given name does not exist: "${nameW.text}"`);
      return s;
    };
    switch (cmd) {
      case 'create':
        return this.create(w, exist, err);
      case 'add':
      case 'del':
        return this.element(get(), w, cmd === 'add', exist, err);
      case 'flush':
        if (nameW) get().flush();
        else for (const s of this.sets.values()) s.flush();
        return;
      case 'destroy':
        if (nameW) this.sets.delete(get().name);
        else this.sets.clear();
        return;
      case 'swap':
      case 'rename': {
        const a = get();
        const bW = w[2];
        if (!bW) throw err(nameW!.col, `${cmd} needs a second set name`);
        const b = this.sets.get(bW.text);
        if (cmd === 'rename' && b) throw err(bW.col, `a set with the new name already exists: "${bW.text}"`);
        if (cmd === 'swap' && !b) throw err(bW.col, `the set with the given name does not exist: "${bW.text}"`);
        const entries = [...this.sets.values()].map((s) => (s === a ? b ?? a : s === b ? a : s));
        if (cmd === 'swap') [a.name, b!.name] = [b!.name, a.name];
        else a.name = bW.text;
        this.sets.clear();
        for (const s of entries) this.sets.set(s.name, s);
        return;
      }
      default:
        throw err(w[0]!.col, `unknown command "${cmd}"`);
    }
  }

  /** `create NAME TYPE [family inet] [hashsize N] [maxelem N] [bucketsize N] [initval N] [range A-B] [comment]`. */
  private create(w: { text: string; col: number }[], exist: boolean, err: (col: number, msg: string) => IpsetError): void {
    const [, nameW, typeW] = w;
    if (!nameW || !typeW) throw err(w[0]!.col, 'create needs a set name and a type');
    if (!(typeW.text in TYPES)) throw err(typeW.col, `unknown or unmodelled set type "${typeW.text}"`);
    const o: SetOptions = { hashsize: 1024, maxelem: 65536, bucketsize: 12, initval: nameHash(nameW.text), comment: false, timeout: -1, first: -1, last: -1 };
    for (let i = 3; i < w.length; i++) {
      const k = w[i]!;
      if (k.text === 'comment') {
        o.comment = true;
        continue;
      }
      const v = w[++i];
      if (!v) throw err(k.col, `option "${k.text}" needs a value`);
      const num = /^(0x[0-9a-f]+|\d+)$/i.test(v.text) ? Number(v.text) : NaN;
      if (k.text === 'family' && v.text === 'inet') continue;
      if (k.text === 'range' && typeW.text === 'bitmap:port') {
        const m = /^(\d+)-(\d+)$/.exec(v.text);
        if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > 65535) throw err(v.col, `invalid port range "${v.text}"`);
        [o.first, o.last] = [Number(m[1]), Number(m[2])];
      } else if (k.text === 'timeout' && num === 0) {
        o.timeout = 0;
      } else if ((k.text === 'hashsize' || k.text === 'maxelem' || k.text === 'bucketsize' || k.text === 'initval') && num >= 0 && num <= 0xffffffff) {
        // The kernel rounds hashsize up to a power of two (at least 64) and bucketsize up to an even number.
        o[k.text] = k.text === 'hashsize' ? hashsizeOf(num) : k.text === 'bucketsize' ? num + (num & 1) : num;
      } else throw err(k.col, `unknown or unmodelled create option "${k.text} ${v.text}"`);
    }
    if (typeW.text === 'bitmap:port' && o.first < 0) throw err(typeW.col, 'bitmap:port needs "range FROM-TO"');
    const old = this.sets.get(nameW.text);
    if (old) {
      if (exist && old.type === typeW.text) return;
      throw err(nameW.col, `set cannot be created: set with the same name already exists: "${nameW.text}"`);
    }
    this.sets.set(nameW.text, new IpSet(nameW.text, typeW.text as IpSetType, o));
  }

  /** `add|del NAME ELEMENT [comment "text"]`. */
  private element(s: IpSet, w: { text: string; col: number }[], add: boolean, exist: boolean, err: (col: number, msg: string) => IpsetError): void {
    const ew = w[2];
    if (!ew) throw err(w[1]!.col, 'missing element');
    const parts = ew.text.split(',');
    if (parts.length !== s.dims.length) throw err(ew.col, `element "${ew.text}" does not fit ${s.type}`);
    const key: number[] = [];
    for (let k = 0; k < parts.length; k++) {
      const v = parseDim(s.dims[k]!, parts[k]!);
      if (typeof v === 'string') throw err(ew.col, v);
      key.push(v);
    }
    if (s.type === 'bitmap:port' && (key[0]! < s.opts.first || key[0]! > s.opts.last)) throw err(ew.col, `port ${key[0]} is outside the range of ${s.name}`);
    let comment: string | null = null;
    let nomatch = false;
    // print.c order: timeout, nomatch, comment.
    for (let i = 3; i < w.length; i++) {
      const o = w[i]!;
      if (!add) throw err(o.col, `unknown or unmodelled element option "${o.text}"`);
      if (o.text === 'timeout') {
        if (s.opts.timeout < 0) throw err(o.col, `timeout cannot be used: set ${s.name} was created without timeout support`);
        if (w[i + 1]?.text !== '0') throw err(o.col, 'element timeouts other than 0 (permanent) are not modelled');
        i++;
      } else if (o.text === 'nomatch') {
        if (s.dims[s.dims.length - 1] !== 'net') throw err(o.col, `nomatch needs a set type with a net, not ${s.type}`);
        nomatch = true;
      } else if (o.text === 'comment' && w[i + 1]) {
        if (!s.opts.comment) throw err(o.col, `set ${s.name} was created without "comment"`);
        comment = w[++i]!.text;
      } else throw err(o.col, `unknown or unmodelled element option "${o.text}"`);
    }
    const text = key.map((v, k) => formatDim(s.dims[k]!, v)).join(',');
    if (add && !s.entries.has(text) && s.entries.size >= s.opts.maxelem) throw err(ew.col, `set ${s.name} is full (maxelem ${s.opts.maxelem})`);
    if (!s.update(key, add, nomatch) && !exist) throw err(ew.col, add ? `element is already added: "${text}"` : `element is missing: "${text}"`);
    const old = s.entries.get(text);
    const oldComment = old === undefined ? null : (/ comment "(.*)"$/.exec(old)?.[1] ?? null);
    const c = comment ?? oldComment;
    if (add) s.entries.set(text, `${s.opts.timeout >= 0 ? ' timeout 0' : ''}${nomatch ? ' nomatch' : ''}${c !== null ? ` comment "${c}"` : ''}`);
    else s.entries.delete(text);
  }
}
