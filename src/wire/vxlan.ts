// wire/vxlan — VXLAN header codec. Layer: wire (imports core, wire). Mirrors RFC 7348 §5.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |R|R|R|R|I|R|R|R|            Reserved                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                VXLAN Network Identifier (VNI) |   Reserved    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// | offset | size | field |
// |--------|------|-------|
// | 0      | 1    | flags (0x08 = I, VNI valid) |
// | 1      | 3    | reserved1 |
// | 4      | 3    | vni   |
// | 7      | 1    | reserved2 |
//
// RFC 7348: "I flag MUST be set to 1 for a valid VXLAN Network ID (VNI). The other 7 bits
// (designated "R") are reserved fields and MUST be set to zero on transmission and ignored on
// receipt." The codec keeps them as read so decode → encode is exact; it does not reject I = 0.
// The UDP destination port is 4789 (IANA) or 8472 (Linux's historic default, used by flannel).
//
// Not modelled: VXLAN-GPE, GBP (group policy) extension semantics (bits are kept, not interpreted).
import { readU16, writeU16 } from './bytes.js';
import { requireBytes } from './error.js';
import type { VxlanHeader } from './types.js';

/** Length of the VXLAN header. */
export const VXLAN_HEADER_LENGTH = 8;
/** IANA VXLAN port (RFC 7348). */
export const VXLAN_PORT_IANA = 4789;
/** Linux's historic VXLAN port, flannel's default. */
export const VXLAN_PORT_LINUX = 8472;
/** The I flag: VNI valid. */
export const VXLAN_FLAG_I = 0x08;

/** Decodes a VXLAN header at buf[off]. */
export function decodeVxlan(buf: Uint8Array, off: number): { hdr: VxlanHeader; bytesRead: number } {
  requireBytes('vxlan', buf, off, VXLAN_HEADER_LENGTH);
  const hdr: VxlanHeader = {
    flags: buf[off]!,
    reserved1: (buf[off + 1]! << 16) | readU16(buf, off + 2),
    vni: (buf[off + 4]! << 16) | readU16(buf, off + 5),
    reserved2: buf[off + 7]!,
  };
  return { hdr, bytesRead: VXLAN_HEADER_LENGTH };
}

/** Encodes a VXLAN header at buf[off]; returns bytes written (8). */
export function encodeVxlan(hdr: VxlanHeader, buf: Uint8Array, off: number): number {
  requireBytes('vxlan', buf, off, VXLAN_HEADER_LENGTH);
  buf[off] = hdr.flags;
  buf[off + 1] = hdr.reserved1 >>> 16;
  writeU16(buf, off + 2, hdr.reserved1 & 0xffff);
  buf[off + 4] = hdr.vni >>> 16;
  writeU16(buf, off + 5, hdr.vni & 0xffff);
  buf[off + 7] = hdr.reserved2;
  return VXLAN_HEADER_LENGTH;
}

/** A VXLAN header as Linux sends it: I flag set, reserved zero. */
export function vxlanHeader(vni: number): VxlanHeader {
  return { flags: VXLAN_FLAG_I, reserved1: 0, vni: vni & 0xffffff, reserved2: 0 };
}
