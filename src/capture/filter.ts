// capture/filter — a capture filter in a subset of tcpdump's pcap-filter(7) syntax, compiled once to a
// tree of closures and evaluated on a Packet's header records (no bytes are serialized for a packet the
// filter refuses). Layer: capture (imports wire, packet).
//
// Primitives (as pcap-filter defines them; all match the OUTER headers of a packet, as tcpdump does):
//   host A | src host A | dst host A      IPv4 source/destination, or ARP sender/target address
//   net N/len | net a.b | src/dst net ... the same against a network (a.b = a.b.0.0/16, as tcpdump)
//   port N | src port N | dst port N      TCP or UDP port; only the first fragment of a datagram has ports
//   portrange A-B | src/dst portrange     a port in [A, B]
//   tcp | udp | icmp                      IP protocol 6 / 17 / 1 (every fragment)
//   tcp port N, udp dst port N, ...       protocol and port together
//   ip | arp                              EtherType IPv4 / ARP
//   vxlan | vxlan VNI                     a VXLAN packet (podwire extension: pcap-filter 1.10 has none)
//   inner PRIMITIVE                       the primitive applied to the inner frame of a VXLAN packet
//                                         (false for a packet without one), e.g. inner (tcp port 80)
//   and / && | or / || | not / ! | ( )    with tcpdump's precedence: not > and > or
// Not supported: ether/ip6/len/greater/less, byte offsets (ip[6:2]), the keyword-less shorthand
// `host a or b` (write `host a or host b`).
import type { Packet } from '../packet/packet.js';
import { maskFromPrefix, parseIpv4 } from '../wire/ipv4-addr.js';

/** A compiled filter: true when the packet is kept. */
export type PacketPredicate = (pkt: Packet) => boolean;

/** A filter syntax error: `column` is 1-based within the expression. */
export class CaptureFilterError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

interface Token {
  text: string;
  col: number;
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      out.push({ text: c, col: i + 1 });
      i++;
      continue;
    }
    if (c === '!' || c === '&' || c === '|') {
      const two = text.slice(i, i + 2);
      if (two === '&&' || two === '||') {
        out.push({ text: two === '&&' ? 'and' : 'or', col: i + 1 });
        i += 2;
        continue;
      }
      if (c === '!') {
        out.push({ text: 'not', col: i + 1 });
        i++;
        continue;
      }
      throw new CaptureFilterError(`unexpected "${c}"`, i + 1);
    }
    const m = /^[A-Za-z0-9._/:-]+/.exec(text.slice(i));
    if (!m) throw new CaptureFilterError(`unexpected "${c}"`, i + 1);
    out.push({ text: m[0], col: i + 1 });
    i += m[0].length;
  }
  return out;
}

const PROTO: Record<string, number> = { icmp: 1, tcp: 6, udp: 17 };

type Dir = 'src' | 'dst' | 'any' | 'both';

/** The L4 ports of a packet, from its records or (first fragment) its whole datagram's; null without. */
function portsOf(pkt: Packet): { srcPort: number; dstPort: number } | null {
  const ip = pkt.ip;
  if (ip === null || ip.fragOffset !== 0) return null;
  let p = pkt;
  if (p.udp === null && p.tcp === null && p.fragOf !== null) p = p.fragOf;
  if (ip.protocol === 17) return p.udp;
  if (ip.protocol === 6) return p.tcp;
  return null;
}

function addrTest(dir: Dir, match: (a: number) => boolean): PacketPredicate {
  return (pkt) => {
    let s: number;
    let d: number;
    if (pkt.ip !== null) {
      s = pkt.ip.src;
      d = pkt.ip.dst;
    } else if (pkt.arp !== null) {
      s = pkt.arp.spa;
      d = pkt.arp.tpa;
    } else return false;
    if (dir === 'src') return match(s);
    if (dir === 'dst') return match(d);
    if (dir === 'both') return match(s) && match(d);
    return match(s) || match(d);
  };
}

function portTest(dir: Dir, proto: number, lo: number, hi: number): PacketPredicate {
  return (pkt) => {
    if (proto !== 0 && (pkt.ip === null || pkt.ip.protocol !== proto)) return false;
    const p = portsOf(pkt);
    if (p === null) return false;
    const s = p.srcPort >= lo && p.srcPort <= hi;
    const d = p.dstPort >= lo && p.dstPort <= hi;
    return dir === 'src' ? s : dir === 'dst' ? d : dir === 'both' ? s && d : s || d;
  };
}

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Token[],
    private readonly len: number,
  ) {}

  private peek(): string | undefined {
    return this.toks[this.i]?.text;
  }

  private col(): number {
    return this.toks[this.i]?.col ?? this.len + 1;
  }

  private next(what: string): Token {
    const t = this.toks[this.i];
    if (t === undefined) throw new CaptureFilterError(`expected ${what} at the end`, this.len + 1);
    this.i++;
    return t;
  }

  parse(): PacketPredicate {
    if (this.toks.length === 0) throw new CaptureFilterError('empty filter', 1);
    const e = this.or();
    if (this.i < this.toks.length) throw new CaptureFilterError(`unexpected "${this.peek()}"`, this.col());
    return e;
  }

  private or(): PacketPredicate {
    let l = this.and();
    while (this.peek() === 'or') {
      this.i++;
      const a = l;
      const b = this.and();
      l = (p) => a(p) || b(p);
    }
    return l;
  }

  private and(): PacketPredicate {
    let l = this.unary();
    while (this.peek() === 'and') {
      this.i++;
      const a = l;
      const b = this.unary();
      l = (p) => a(p) && b(p);
    }
    return l;
  }

  private unary(): PacketPredicate {
    const t = this.peek();
    if (t === 'not') {
      this.i++;
      const e = this.unary();
      return (p) => !e(p);
    }
    if (t === 'inner') {
      this.i++;
      const e = this.unary();
      return (p) => p.vxlan !== null && p.inner !== null && e(p.inner);
    }
    if (t === '(') {
      this.i++;
      const e = this.or();
      const close = this.next('")"');
      if (close.text !== ')') throw new CaptureFilterError(`expected ")", got "${close.text}"`, close.col);
      return e;
    }
    return this.primitive();
  }

  private primitive(): PacketPredicate {
    const start = this.next('a primitive (host, net, port, tcp, udp, icmp, arp, ip, vxlan)');
    let word = start.text.toLowerCase();
    let proto = 0;
    if (word in PROTO) {
      proto = PROTO[word]!;
      const after = this.peek();
      if (after !== 'src' && after !== 'dst' && after !== 'port' && after !== 'portrange') {
        const n = proto;
        return (p) => p.ip !== null && p.ip.protocol === n;
      }
      word = this.next('port').text;
    }
    if (word === 'ip') return (p) => p.ip !== null;
    if (word === 'arp') return (p) => p.arp !== null;
    if (word === 'vxlan') {
      const vni = this.peek();
      if (vni !== undefined && /^\d+$/.test(vni)) {
        const v = this.number(this.next('VNI'), 0xffffff, 'VNI');
        return (p) => p.vxlan !== null && p.vxlan.vni === v;
      }
      return (p) => p.vxlan !== null;
    }
    let dir: Dir = 'any';
    let at = start;
    if (word === 'src' || word === 'dst') {
      dir = word;
      // "src or dst port 80" / "src and dst host A", as pcap-filter allows.
      const conj = this.peek();
      if ((conj === 'or' || conj === 'and') && this.toks[this.i + 1]?.text === (word === 'src' ? 'dst' : 'src')) {
        dir = conj === 'or' ? 'any' : 'both';
        this.i += 2;
      }
      at = this.next('host, net, port or portrange');
      word = at.text;
    }
    if (proto !== 0 && word !== 'port' && word !== 'portrange') throw new CaptureFilterError(`expected port or portrange after the protocol, got "${word}"`, at.col);
    switch (word) {
      case 'host': {
        const t = this.next('an IPv4 address');
        const a = parseIpv4(t.text);
        if (a === null) throw new CaptureFilterError(`expected an IPv4 address, got "${t.text}"`, t.col);
        return addrTest(dir, (x) => x === a);
      }
      case 'net': {
        const t = this.next('a network like 10.244.0.0/16');
        const { net, mask } = parseNet(t);
        return addrTest(dir, (x) => ((x & mask) >>> 0) === net);
      }
      case 'port': {
        const t = this.next('a port number');
        const n = this.number(t, 65535, 'port');
        return portTest(dir, proto, n, n);
      }
      case 'portrange': {
        const t = this.next('a port range like 8000-8080');
        const m = /^(\d+)-(\d+)$/.exec(t.text);
        if (!m) throw new CaptureFilterError(`expected a port range like 8000-8080, got "${t.text}"`, t.col);
        const lo = Number(m[1]);
        const hi = Number(m[2]);
        if (lo > 65535 || hi > 65535) throw new CaptureFilterError('ports are at most 65535', t.col);
        return portTest(dir, proto, Math.min(lo, hi), Math.max(lo, hi));
      }
      default:
        throw new CaptureFilterError(`unknown primitive "${word}" (known: host, net, port, portrange, tcp, udp, icmp, ip, arp, vxlan, inner)`, at.col);
    }
  }

  private number(t: Token, max: number, what: string): number {
    if (!/^\d+$/.test(t.text) || Number(t.text) > max) throw new CaptureFilterError(`expected a ${what} from 0 to ${max}, got "${t.text}"`, t.col);
    return Number(t.text);
  }
}

function parseNet(t: Token): { net: number; mask: number } {
  const m = /^(\d+(?:\.\d+){0,3})(?:\/(\d+))?$/.exec(t.text);
  if (!m) throw new CaptureFilterError(`expected a network like 10.244.0.0/16, got "${t.text}"`, t.col);
  const parts = m[1]!.split('.');
  const full = [...parts, '0', '0', '0'].slice(0, 4).join('.');
  const addr = parseIpv4(full);
  // tcpdump: "net 10.244" is 10.244.0.0/16 (the octets written), "net 10.244.0.0" is /32.
  const prefix = m[2] !== undefined ? Number(m[2]) : parts.length * 8;
  if (addr === null || prefix > 32) throw new CaptureFilterError(`expected a network like 10.244.0.0/16, got "${t.text}"`, t.col);
  const mask = maskFromPrefix(prefix) >>> 0;
  if (((addr & ~mask) >>> 0) !== 0) throw new CaptureFilterError(`non-network bits set in "${t.text}"`, t.col);
  return { net: addr >>> 0, mask };
}

/** Compiles a filter expression; throws CaptureFilterError (message and 1-based column) when it is not valid. */
export function compileCaptureFilter(text: string): PacketPredicate {
  return new Parser(tokenize(text), text.length).parse();
}

/** Checks a filter: null when valid, else the error text with its column ("... at column 7"). */
export function captureFilterError(text: string): string | null {
  try {
    compileCaptureFilter(text);
    return null;
  } catch (e) {
    if (e instanceof CaptureFilterError) return `${e.message} (column ${e.column})`;
    throw e;
  }
}

/** Does an interface name ("node1/cni0") match a pattern with * and ? ("node*\/flannel.1")? */
export function interfaceGlob(pattern: string): (name: string) => boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return (name) => re.test(name);
}
