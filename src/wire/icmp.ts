// wire/icmp — ICMP header codec. Layer: wire (imports core, wire). Mirrors RFC 792.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Type      |     Code      |          Checksum             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                     Rest of header                            |
// |   echo: Identifier | Sequence; unreachable: unused | next-hop MTU (RFC 1191)
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Data (echo payload, or the quoted original datagram) ...
//
// | offset | size | field |
// |--------|------|-------|
// | 0      | 1    | type  |
// | 1      | 1    | code  |
// | 2      | 2    | checksum (over the whole ICMP message) |
// | 4      | 4    | rest  |
//
// RFC 792: "The checksum is the 16-bit ones's complement of the one's complement sum of the ICMP message
// starting with the ICMP Type." So computing it needs the data: encodeIcmp sums the `dataLength` bytes
// that already follow the header in `buf` — write the data first.
//
// Not modelled: ICMP extensions (RFC 4884), timestamp/address-mask messages beyond carrying their bytes.
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { internetChecksum } from './checksum.js';
import { requireBytes } from './error.js';
import { IcmpType, type IcmpHeader } from './types.js';

/** Length of the ICMP header (type, code, checksum, rest-of-header). */
export const ICMP_HEADER_LENGTH = 8;

/** Decodes an ICMP header at buf[off]. */
export function decodeIcmp(buf: Uint8Array, off: number): { hdr: IcmpHeader; bytesRead: number } {
  requireBytes('icmp', buf, off, ICMP_HEADER_LENGTH);
  const hdr: IcmpHeader = { type: buf[off]!, code: buf[off + 1]!, checksum: readU16(buf, off + 2), rest: readU32(buf, off + 4) };
  return { hdr, bytesRead: ICMP_HEADER_LENGTH };
}

/**
 * Encodes an ICMP header at buf[off]; when hdr.checksum is null it is computed over the header and the
 * `dataLength` bytes already written after it. Returns bytes written (8).
 */
export function encodeIcmp(hdr: IcmpHeader, buf: Uint8Array, off: number, dataLength = 0): number {
  requireBytes('icmp', buf, off, ICMP_HEADER_LENGTH + dataLength);
  buf[off] = hdr.type;
  buf[off + 1] = hdr.code;
  writeU16(buf, off + 2, 0);
  writeU32(buf, off + 4, hdr.rest);
  writeU16(buf, off + 2, hdr.checksum === null ? internetChecksum(buf, off, off + ICMP_HEADER_LENGTH + dataLength) : hdr.checksum);
  return ICMP_HEADER_LENGTH;
}

/** True for ICMP error types whose data quotes the offending datagram (unreachable, source quench, redirect, time exceeded, parameter problem). */
export function isIcmpError(type: number): boolean {
  return type === IcmpType.DEST_UNREACH || type === 4 || type === 5 || type === IcmpType.TIME_EXCEEDED || type === 12;
}

/** Echo identifier from an echo request/reply `rest` field. */
export function icmpEchoId(rest: number): number {
  return rest >>> 16;
}

/** Echo sequence number from an echo request/reply `rest` field. */
export function icmpEchoSeq(rest: number): number {
  return rest & 0xffff;
}

/** Builds the `rest` field of an echo message from id and sequence. */
export function icmpEchoRest(id: number, seq: number): number {
  return (((id & 0xffff) << 16) | (seq & 0xffff)) >>> 0;
}
