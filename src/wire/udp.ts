// wire/udp — UDP header codec. Layer: wire (imports core, wire). Mirrors RFC 768.
//
//  0      7 8     15 16    23 24    31
// +--------+--------+--------+--------+
// |     Source      |   Destination   |
// |      Port       |      Port       |
// +--------+--------+--------+--------+
// |                 |                 |
// |     Length      |    Checksum     |
// +--------+--------+--------+--------+
// |          data octets ...
//
// | offset | size | field |
// |--------|------|-------|
// | 0      | 2    | srcPort |
// | 2      | 2    | dstPort |
// | 4      | 2    | length (header + data; written as the record holds it) |
// | 6      | 2    | checksum (pseudo-header + header + data) |
//
// RFC 768: "If the computed checksum is zero, it is transmitted as all ones (the equivalent in
// one's complement arithmetic). An all zero transmitted checksum value means that the transmitter
// generated no checksum." A record with checksum 0 therefore means "none" and is written as 0.
//
// Not modelled: UDP-Lite, IPv6 pseudo-header.
import { readU16, writeU16 } from './bytes.js';
import { checksumAdd, checksumFinish, pseudoHeaderSum } from './checksum.js';
import { requireBytes } from './error.js';
import { IpProto, type Ipv4, type UdpHeader } from './types.js';

/** Length of the UDP header. */
export const UDP_HEADER_LENGTH = 8;

/** Decodes a UDP header at buf[off]. */
export function decodeUdp(buf: Uint8Array, off: number): { hdr: UdpHeader; bytesRead: number } {
  requireBytes('udp', buf, off, UDP_HEADER_LENGTH);
  const hdr: UdpHeader = { srcPort: readU16(buf, off), dstPort: readU16(buf, off + 2), length: readU16(buf, off + 4), checksum: readU16(buf, off + 6) };
  return { hdr, bytesRead: UDP_HEADER_LENGTH };
}

/**
 * Encodes a UDP header at buf[off]. When hdr.checksum is null the checksum is computed over the
 * pseudo-header (src, dst, 17, length) and the `datagramLength` bytes starting at off (header + the
 * data already written after it; default hdr.length). `dataSum` ≥ 0 is the unfolded one's-complement
 * sum of those data bytes, known to the caller (0 for zero-filled data): then they are not read again.
 * Returns bytes written (8).
 */
export function encodeUdp(hdr: UdpHeader, buf: Uint8Array, off: number, src: Ipv4 = 0, dst: Ipv4 = 0, datagramLength: number = hdr.length, dataSum = -1): number {
  const cover = hdr.checksum === null ? Math.max(UDP_HEADER_LENGTH, datagramLength) : UDP_HEADER_LENGTH;
  requireBytes('udp', buf, off, cover);
  writeU16(buf, off, hdr.srcPort);
  writeU16(buf, off + 2, hdr.dstPort);
  writeU16(buf, off + 4, hdr.length);
  writeU16(buf, off + 6, 0);
  let csum: number;
  if (hdr.checksum === null && dataSum >= 0) {
    // The caller knows the unfolded sum of the data after the header (0 for zero bytes): sum only the
    // pseudo-header and the 8 header bytes (the data starts word-aligned, so the pairing is the same).
    const c = checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, IpProto.UDP, hdr.length) + dataSum, buf, off, off + UDP_HEADER_LENGTH));
    csum = c === 0 ? 0xffff : c;
  } else if (hdr.checksum === null) {
    csum = udpChecksum(buf, off, cover, src, dst, hdr.length);
  } else {
    csum = hdr.checksum;
  }
  writeU16(buf, off + 6, csum);
  return UDP_HEADER_LENGTH;
}

/**
 * UDP checksum of buf[off, off+cover) (checksum field must read as zero) with the pseudo-header length
 * `length`; a computed 0 is returned as 0xffff (RFC 768).
 */
export function udpChecksum(buf: Uint8Array, off: number, cover: number, src: Ipv4, dst: Ipv4, length: number): number {
  const c = checksumFinish(checksumAdd(pseudoHeaderSum(src, dst, IpProto.UDP, length), buf, off, off + cover));
  return c === 0 ? 0xffff : c;
}
