// Test helpers for netfilter: packet records, a fake NfHost, rule text -> Ruleset.
import { RngFactory } from '../../src/core/rng.js';
import { Packet } from '../../src/packet/packet.js';
import type { NfHost } from '../../src/netfilter/netfilter.js';
import { parseIptablesSave } from '../../src/netfilter/iptables-save.js';
import { parseIpv4, type Ruleset } from '../../src/netfilter/rules.js';
import { IpProto, TcpFlag } from '../../src/wire/types.js';

export const ip = (s: string): number => {
  const v = parseIpv4(s);
  if (v === null) throw new Error(`bad ip ${s}`);
  return v;
};

/** A TCP segment record (no bytes); flags default SYN. */
export function tcp(src: string, sport: number, dst: string, dport: number, flags: number = TcpFlag.SYN, len = 0): Packet {
  const p = new Packet();
  p.ip = { tos: 0, totalLength: 40 + len, id: 1, flags: 2, fragOffset: 0, ttl: 64, protocol: IpProto.TCP, checksum: null, src: ip(src), dst: ip(dst), options: null };
  p.tcp = { srcPort: sport, dstPort: dport, seq: 1, ack: 0, flags, window: 65535, checksum: 0x1234, urgent: 0, options: [] };
  p.payloadLength = len;
  return p;
}

/** A UDP datagram record. */
export function udp(src: string, sport: number, dst: string, dport: number, len = 10): Packet {
  const p = new Packet();
  p.ip = { tos: 0, totalLength: 28 + len, id: 1, flags: 0, fragOffset: 0, ttl: 64, protocol: IpProto.UDP, checksum: null, src: ip(src), dst: ip(dst), options: null };
  p.udp = { srcPort: sport, dstPort: dport, length: 8 + len, checksum: 0x1234 };
  p.payloadLength = len;
  return p;
}

/** An ICMP message record; for errors pass the quoted packet as `inner`. */
export function icmp(src: string, dst: string, type: number, code: number, rest = 0, inner: Packet | null = null): Packet {
  const p = new Packet();
  p.ip = { tos: 0, totalLength: 28 + (inner ? 28 : 0), id: 1, flags: 0, fragOffset: 0, ttl: 64, protocol: IpProto.ICMP, checksum: null, src: ip(src), dst: ip(dst), options: null };
  p.icmp = { type, code, checksum: null, rest };
  p.inner = inner;
  return p;
}

/** A fake namespace: its local addresses, a clock, MASQUERADE using a fixed address per device. */
export class FakeHost implements NfHost {
  t = 0;
  readonly rngs: RngFactory;
  constructor(
    readonly local: number[],
    readonly masq: Record<string, number> = {},
    seed = 1,
  ) {
    this.rngs = new RngFactory(seed);
  }
  now(): number {
    return this.t;
  }
  isLocalAddress(a: number): boolean {
    return a >>> 24 === 127 || this.local.includes(a);
  }
  masqueradeAddress(outIf: string): number | null {
    return this.masq[outIf] ?? null;
  }
  /** Route MTUs for TCPMSS: by output device, else by destination address; 1500 when not given. */
  mtus: Record<string, number> = {};
  routeMtu(outIf: string, dst: number): number {
    return (outIf !== '' ? this.mtus[outIf] : this.mtus[ipStr(dst)]) ?? 1500;
  }
  rng(name: string) {
    return this.rngs.stream(`nf:${name}`);
  }
}

/** Parses rules given as table blocks without the ceremony: lines joined, COMMIT added. */
export function rules(text: string): Ruleset {
  return parseIptablesSave(text.replace(/^\s+/gm, ''), 'test');
}

export const ipStr = (v: number): string => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
