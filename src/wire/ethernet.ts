// wire/ethernet — Ethernet II header codec. Layer: wire (imports core, wire).
// Mirrors IEEE 802.3 DIX framing as Linux captures show it: no preamble, no FCS, no padding.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  Destination MAC (6 bytes)                    |
// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                               |                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+       Source MAC (6 bytes)    +
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           EtherType           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// | offset | size | field     |
// |--------|------|-----------|
// | 0      | 6    | dst       |
// | 6      | 6    | src       |
// | 12     | 2    | etherType |
//
// Not modelled: 802.1Q tags (a VLAN etherType is kept as is, its tag left in the payload), 802.3
// length fields (values < 0x0600 are kept as given), the FCS and minimum-frame padding.
import { readU16, writeU16 } from './bytes.js';
import { requireBytes } from './error.js';
import { readMac, writeMac } from './mac.js';
import type { EthernetHeader } from './types.js';

/** Length of an Ethernet II header in bytes. */
export const ETHERNET_HEADER_LENGTH = 14;

/** Decodes an Ethernet II header at buf[off]. */
export function decodeEthernet(buf: Uint8Array, off: number): { hdr: EthernetHeader; bytesRead: number } {
  requireBytes('ethernet', buf, off, ETHERNET_HEADER_LENGTH);
  const hdr: EthernetHeader = { dst: readMac(buf, off), src: readMac(buf, off + 6), etherType: readU16(buf, off + 12) };
  return { hdr, bytesRead: ETHERNET_HEADER_LENGTH };
}

/** Encodes an Ethernet II header at buf[off]; returns bytes written (14). */
export function encodeEthernet(hdr: EthernetHeader, buf: Uint8Array, off: number): number {
  requireBytes('ethernet', buf, off, ETHERNET_HEADER_LENGTH);
  writeMac(buf, off, hdr.dst);
  writeMac(buf, off + 6, hdr.src);
  writeU16(buf, off + 12, hdr.etherType);
  return ETHERNET_HEADER_LENGTH;
}

