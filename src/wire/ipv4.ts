// wire/ipv4 — IPv4 header codec. Layer: wire (imports core, wire). Mirrors RFC 791 (and RFC 1071 for
// the header checksum).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |Version|  IHL  |Type of Service|          Total Length         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Identification        |Flags|      Fragment Offset    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Time to Live |    Protocol   |         Header Checksum       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       Source Address                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Destination Address                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Options                    |    Padding    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// | offset | size  | field |
// |--------|-------|-------|
// | 0      | 4 bit | version (4) |
// | 0      | 4 bit | IHL (header length / 4; derived from options on encode) |
// | 1      | 1     | tos   |
// | 2      | 2     | totalLength (written as the record holds it) |
// | 4      | 2     | id    |
// | 6      | 3 bit | flags (0x2 DF, 0x1 MF) |
// | 6      | 13 bit| fragOffset (8-byte units) |
// | 8      | 1     | ttl   |
// | 9      | 1     | protocol |
// | 10     | 2     | checksum (computed when the record holds null) |
// | 12     | 4     | src   |
// | 16     | 4     | dst   |
// | 20     | 0-40  | options (raw bytes, padded by the sender to a multiple of 4) |
//
// Not modelled: option semantics (record route, timestamps, ...): options are carried as raw bytes.
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { internetChecksum } from './checksum.js';
import { requireBytes, WireError } from './error.js';
import type { Ipv4, Ipv4Header } from './types.js';

/** Length of an IPv4 header without options. */
export const IPV4_MIN_HEADER_LENGTH = 20;
const IPV4_MIN_HEADER_LENGTHHere = IPV4_MIN_HEADER_LENGTH; // own export, as a module constant

/** net.ipv4.ip_default_ttl: the TTL of locally generated packets. */
export const IPV4_DEFAULT_TTL = 64;
const IPV4_DEFAULT_TTLHere = IPV4_DEFAULT_TTL; // own export, as a module constant

/**
 * A header record for a locally generated packet with Linux's defaults: TOS 0, TTL 64, no options, no
 * fragment offset; `id` -1 means "chosen at output" (ip_select_ident), `totalLength` 0 "computed at
 * encode", the checksum always computed at encode. Positional, so the hot path allocates one record.
 */
export function ipv4Header(protocol: number, src: Ipv4, dst: Ipv4, flags = 0, tos = 0, ttl = IPV4_DEFAULT_TTLHere, id = -1, totalLength = 0): Ipv4Header {
  return { tos, totalLength, id, flags, fragOffset: 0, ttl, protocol, checksum: null, src: src >>> 0, dst: dst >>> 0, options: null };
}

/** Header length of an IPv4 record: 20 + options (IHL * 4). */
export function ipv4HeaderLength(hdr: Ipv4Header): number {
  return hdr.options === null ? IPV4_MIN_HEADER_LENGTHHere : IPV4_MIN_HEADER_LENGTHHere + hdr.options.length;
}

/** Decodes an IPv4 header at buf[off] (header only; the payload is the caller's). */
export function decodeIpv4(buf: Uint8Array, off: number): { hdr: Ipv4Header; bytesRead: number } {
  requireBytes('ipv4', buf, off, IPV4_MIN_HEADER_LENGTHHere);
  const vihl = buf[off]!;
  const version = vihl >> 4;
  if (version !== 4) throw new WireError('ipv4', off, `version ${version}, expected 4`);
  const ihl = vihl & 0x0f;
  // RFC 791: "the minimum value for a correct header is 5".
  if (ihl < 5) throw new WireError('ipv4', off, `IHL ${ihl} below the minimum of 5`);
  const hlen = ihl * 4;
  requireBytes('ipv4', buf, off, hlen);
  const totalLength = readU16(buf, off + 2);
  if (totalLength < hlen) throw new WireError('ipv4', off, `total length ${totalLength} shorter than header length ${hlen}`);
  const ff = readU16(buf, off + 6);
  const hdr: Ipv4Header = {
    tos: buf[off + 1]!,
    totalLength,
    id: readU16(buf, off + 4),
    flags: ff >>> 13,
    fragOffset: ff & 0x1fff,
    ttl: buf[off + 8]!,
    protocol: buf[off + 9]!,
    checksum: readU16(buf, off + 10),
    src: readU32(buf, off + 12),
    dst: readU32(buf, off + 16),
    options: hlen > IPV4_MIN_HEADER_LENGTHHere ? buf.slice(off + IPV4_MIN_HEADER_LENGTHHere, off + hlen) : null,
  };
  return { hdr, bytesRead: hlen };
}

/** Encodes an IPv4 header at buf[off]; the checksum is computed when hdr.checksum is null, else written as given. Returns bytes written. */
export function encodeIpv4(hdr: Ipv4Header, buf: Uint8Array, off: number): number {
  const optLen = hdr.options === null ? 0 : hdr.options.length;
  if (optLen % 4 !== 0 || optLen > 40) {
    throw new WireError('ipv4', off, `options length ${optLen} must be a multiple of 4 and at most 40`);
  }
  const hlen = IPV4_MIN_HEADER_LENGTHHere + optLen;
  requireBytes('ipv4', buf, off, hlen);
  buf[off] = 0x40 | (hlen >> 2);
  buf[off + 1] = hdr.tos;
  writeU16(buf, off + 2, hdr.totalLength);
  writeU16(buf, off + 4, hdr.id);
  writeU16(buf, off + 6, ((hdr.flags & 0x7) << 13) | (hdr.fragOffset & 0x1fff));
  buf[off + 8] = hdr.ttl;
  buf[off + 9] = hdr.protocol;
  writeU16(buf, off + 10, 0);
  writeU32(buf, off + 12, hdr.src);
  writeU32(buf, off + 16, hdr.dst);
  if (hdr.options !== null) buf.set(hdr.options, off + IPV4_MIN_HEADER_LENGTHHere);
  // RFC 791: "For purposes of computing the checksum, the value of the checksum field is zero."
  writeU16(buf, off + 10, hdr.checksum === null ? internetChecksum(buf, off, off + hlen) : hdr.checksum);
  return hlen;
}

/** True when the header checksum of the IPv4 header at buf[off] verifies. */
export function ipv4ChecksumValid(buf: Uint8Array, off: number): boolean {
  const hlen = (buf[off]! & 0x0f) * 4;
  return internetChecksum(buf, off, off + hlen) === 0;
}
