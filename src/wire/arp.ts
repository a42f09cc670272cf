// wire/arp — ARP for IPv4 over Ethernet. Layer: wire (imports core, wire). Mirrors RFC 826.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         Hardware type         |         Protocol type         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     HLEN      |     PLEN      |           Operation           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |              Sender hardware address (6) ...                  |
// |              Sender protocol address (4) ...                  |
// |              Target hardware address (6) ...                  |
// |              Target protocol address (4)                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// | offset | size | field |
// |--------|------|-------|
// | 0      | 2    | htype (1 = Ethernet) |
// | 2      | 2    | ptype (0x0800)       |
// | 4      | 1    | hlen (6)             |
// | 5      | 1    | plen (4)             |
// | 6      | 2    | op (1 request, 2 reply) |
// | 8      | 6    | sha   |
// | 14     | 4    | spa   |
// | 18     | 6    | tha   |
// | 24     | 4    | tpa   |
//
// Not modelled: hardware/protocol address sizes other than 6/4 (rejected on decode and encode), RARP.
import { readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { requireBytes, WireError } from './error.js';
import { readMac, writeMac } from './mac.js';
import { ArpOp, type ArpHeader, type Ipv4, type Mac } from './types.js';

/** Length of an Ethernet/IPv4 ARP packet in bytes. */
export const ARP_LENGTH = 28;

/** Decodes an Ethernet/IPv4 ARP packet at buf[off]. */
export function decodeArp(buf: Uint8Array, off: number): { hdr: ArpHeader; bytesRead: number } {
  requireBytes('arp', buf, off, 8);
  const hlen = buf[off + 4]!;
  const plen = buf[off + 5]!;
  if (hlen !== 6 || plen !== 4) throw new WireError('arp', off, `unsupported address sizes hlen=${hlen} plen=${plen} (only 6/4)`);
  requireBytes('arp', buf, off, ARP_LENGTH);
  const hdr: ArpHeader = {
    htype: readU16(buf, off),
    ptype: readU16(buf, off + 2),
    hlen,
    plen,
    op: readU16(buf, off + 6),
    sha: readMac(buf, off + 8),
    spa: readU32(buf, off + 14),
    tha: readMac(buf, off + 18),
    tpa: readU32(buf, off + 24),
  };
  return { hdr, bytesRead: ARP_LENGTH };
}

/** Encodes an ARP packet at buf[off]; returns bytes written (28). */
export function encodeArp(hdr: ArpHeader, buf: Uint8Array, off: number): number {
  if (hdr.hlen !== 6 || hdr.plen !== 4) throw new WireError('arp', off, `unsupported address sizes hlen=${hdr.hlen} plen=${hdr.plen}`);
  requireBytes('arp', buf, off, ARP_LENGTH);
  writeU16(buf, off, hdr.htype);
  writeU16(buf, off + 2, hdr.ptype);
  buf[off + 4] = hdr.hlen;
  buf[off + 5] = hdr.plen;
  writeU16(buf, off + 6, hdr.op);
  writeMac(buf, off + 8, hdr.sha);
  writeU32(buf, off + 14, hdr.spa);
  writeMac(buf, off + 18, hdr.tha);
  writeU32(buf, off + 24, hdr.tpa);
  return ARP_LENGTH;
}

/** An ARP request "who-has tpa tell spa" as Linux sends it (target MAC zero; the frame goes to broadcast). */
export function arpRequest(sha: Mac, spa: Ipv4, tpa: Ipv4): ArpHeader {
  return { htype: 1, ptype: 0x0800, hlen: 6, plen: 4, op: ArpOp.REQUEST, sha, spa, tha: 0, tpa };
}

/** An ARP reply "spa is-at sha" to the requester (tha, tpa). */
export function arpReply(sha: Mac, spa: Ipv4, tha: Mac, tpa: Ipv4): ArpHeader {
  return { htype: 1, ptype: 0x0800, hlen: 6, plen: 4, op: ArpOp.REPLY, sha, spa, tha, tpa };
}
