// wire/ipv4-addr — IPv4 address text <-> uint32, CIDR and masks. Layer: wire (imports core, wire/types).
// Addresses are unsigned 32-bit integers (always `>>> 0`); all math here is plain integer math so it
// can sit on the hot path (route lookup, netfilter matches). Text forms follow RFC 4632 ("a.b.c.d/n").
import type { Ipv4 } from './types.js';

/** Formats a uint32 as a dotted quad ("10.244.1.2"). */
export function formatIpv4(addr: Ipv4): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** Parses a dotted quad into a uint32; null when malformed (no octal, no shorthand forms). */
export function parseIpv4(text: string): Ipv4 | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part[0] === '0') return null;
    const n = Number(part);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** Parses "a.b.c.d/n" (or a bare address, prefix 32) into {addr, prefix}; null when malformed. Host bits are kept. */
export function parseCidr(text: string): { addr: Ipv4; prefix: number } | null {
  const slash = text.indexOf('/');
  const addr = parseIpv4(slash < 0 ? text : text.slice(0, slash));
  if (addr === null) return null;
  if (slash < 0) return { addr, prefix: 32 };
  const p = text.slice(slash + 1).trim();
  if (!/^\d{1,2}$/.test(p)) return null;
  const prefix = Number(p);
  if (prefix > 32) return null;
  return { addr, prefix };
}

/** Formats {addr, prefix} as "a.b.c.d/n". */
export function formatCidr(addr: Ipv4, prefix: number): string {
  return `${formatIpv4(addr)}/${prefix}`;
}

/** Netmask for a prefix length 0..32 as a uint32 (prefix 0 → 0, 32 → 0xffffffff). */
export function maskFromPrefix(prefix: number): number {
  return prefix <= 0 ? 0 : prefix >= 32 ? 0xffff_ffff : (0xffff_ffff << (32 - prefix)) >>> 0;
}

/** Prefix length of a contiguous netmask, or -1 when the mask is not contiguous. */
export function prefixFromMask(mask: number): number {
  const m = mask >>> 0;
  const inv = ~m >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  let n = 0;
  for (let v = m; v !== 0; v = (v << 1) >>> 0) n++;
  return n;
}

/** Network address of addr/prefix. */
export function networkOf(addr: Ipv4, prefix: number): Ipv4 {
  return (addr & maskFromPrefix(prefix)) >>> 0;
}

/** Broadcast address of addr/prefix. */
export function broadcastOf(addr: Ipv4, prefix: number): Ipv4 {
  return (addr | ~maskFromPrefix(prefix)) >>> 0;
}

/** True when addr lies in net/prefix. */
export function inSubnet(addr: Ipv4, net: Ipv4, prefix: number): boolean {
  const mask = maskFromPrefix(prefix);
  return ((addr ^ net) & mask) === 0;
}
