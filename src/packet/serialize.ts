// packet/serialize — the bytes Linux would put on the wire for a packet, produced at a capture point.
// Layer: packet (imports core, wire). Mirrors the kernel's output path: eth_header, arp_create,
// ip_build_and_send / __ip_make_skb, udp_send_skb, tcp_transmit_skb, vxlan_xmit_one, icmp_send.
//
// - Lengths in headers (IPv4 total length, UDP length) are written as the records hold them: the net
//   layer fills them (packet/length helps). Byte counts written follow the structure (packet/length).
// - A checksum field that is null in a record is computed here; a number is written as given (decoded
//   packets, deliberately bad checksums, VXLAN's UDP checksum 0 = "none").
// - No Ethernet padding to 60 bytes and no FCS: a capture on the sending side of a veth or bridge
//   shows unpadded frames (padding is added by NIC hardware, which is not modelled).
// - VXLAN: outer eth/ip/udp/vxlan followed by the serialized inner frame.
// - A fragment (`pkt.fragOf`) carries bytes [fragOffset*8, +payloadLength) of its whole datagram's IP
//   payload, as ip_do_fragment copies them: the whole is serialized (once, cached) and the range copied.
// - A bit netem corrupted (`pkt.corruptBit`, from the IP header's first bit) is flipped last, so the
//   checksum that covers it shows bad in tshark.
// - Zero payload (`pkt.payload === null`): its one's-complement sum is 0, so the UDP/TCP checksum sums
//   only the pseudo-header and the L4 header (wire encodeUdp/encodeTcp `dataSum`); the bytes are the same.
// - ICMP errors quote `pkt.inner` (the original IP datagram, serialized with its own records) truncated
//   so the error fits in 576 bytes, as icmp_send does (see packet/length).
import { encodeArp } from '../wire/arp.js';
import { encodeEthernet } from '../wire/ethernet.js';
import { WireError } from '../wire/error.js';
import { encodeIcmp, ICMP_HEADER_LENGTH } from '../wire/icmp.js';
import { encodeIpv4, ipv4HeaderLength } from '../wire/ipv4.js';
import { encodeTcp, tcpHeaderLength } from '../wire/tcp.js';
import { encodeUdp, UDP_HEADER_LENGTH } from '../wire/udp.js';
import { encodeVxlan, VXLAN_HEADER_LENGTH } from '../wire/vxlan.js';
import { frameLength, icmpQuoteLength, ipTotalLength } from './length.js';
import type { Packet } from './packet.js';

/** Serializes an Ethernet frame (or a bare IP datagram when pkt.eth is null) into `out` (or a new buffer); returns the frame bytes. */
export function serializeFrame(pkt: Packet, out?: Uint8Array): Uint8Array {
  const len = frameLength(pkt);
  const buf = out ?? new Uint8Array(len);
  if (buf.length < len) throw new WireError('frame', 0, `output buffer of ${buf.length} bytes, frame needs ${len}`);
  writeFrame(pkt, buf, 0);
  return buf.subarray(0, len);
}

/** Serializes the IP datagram of a packet (no Ethernet header), for raw-IP capture; returns the bytes. */
export function serializeIp(pkt: Packet, out?: Uint8Array): Uint8Array {
  if (pkt.ip === null) throw new WireError('ipv4', 0, 'packet has no IP header');
  const len = ipTotalLength(pkt);
  const buf = out ?? new Uint8Array(len);
  if (buf.length < len) throw new WireError('ipv4', 0, `output buffer of ${buf.length} bytes, datagram needs ${len}`);
  writeIp(pkt, buf, 0);
  return buf.subarray(0, len);
}

/** Writes the frame of `pkt` at buf[off]; returns bytes written. */
export function writeFrame(pkt: Packet, buf: Uint8Array, off: number): number {
  let o = off;
  if (pkt.eth !== null) o += encodeEthernet(pkt.eth, buf, o);
  if (pkt.arp !== null) o += encodeArp(pkt.arp, buf, o);
  else if (pkt.ip !== null) o += writeIp(pkt, buf, o);
  else o += writePayload(pkt, buf, o);
  return o - off;
}

/** Writes the IP datagram of `pkt` at buf[off] (payload first, then L4 header with its checksum, then IP header); returns bytes written. */
export function writeIp(pkt: Packet, buf: Uint8Array, off: number): number {
  const ip = pkt.ip;
  if (ip === null) throw new WireError('ipv4', off, 'packet has no IP header');
  const total = ipTotalLength(pkt);
  const end = off + total;
  if (end > buf.length) throw new WireError('ipv4', off, `datagram of ${total} bytes does not fit in the buffer`);
  const l4 = off + ipv4HeaderLength(ip);
  if (pkt.fragOf !== null) {
    writeFragmentData(pkt, pkt.fragOf, buf, l4);
  } else if (pkt.icmp !== null) {
    const data = l4 + ICMP_HEADER_LENGTH;
    if (pkt.inner !== null) writeQuote(pkt, buf, data);
    else writePayload(pkt, buf, data);
    encodeIcmp(pkt.icmp, buf, l4, end - data);
  } else if (pkt.udp !== null) {
    const data = l4 + UDP_HEADER_LENGTH;
    if (pkt.vxlan !== null) {
      encodeVxlan(pkt.vxlan, buf, data);
      if (pkt.inner !== null) writeFrame(pkt.inner, buf, data + VXLAN_HEADER_LENGTH);
      else writePayload(pkt, buf, data + VXLAN_HEADER_LENGTH);
      encodeUdp(pkt.udp, buf, l4, ip.src, ip.dst, end - l4);
    } else {
      writePayload(pkt, buf, data);
      encodeUdp(pkt.udp, buf, l4, ip.src, ip.dst, end - l4, pkt.payload === null ? 0 : -1);
    }
  } else if (pkt.tcp !== null) {
    writePayload(pkt, buf, l4 + tcpHeaderLength(pkt.tcp));
    encodeTcp(pkt.tcp, buf, l4, ip.src, ip.dst, end - l4, pkt.payload === null ? 0 : -1);
  } else {
    writePayload(pkt, buf, l4);
  }
  encodeIpv4(ip, buf, off);
  // netem corrupt: one bit flipped after the checksums (sch_netem.c flips skb->data after checksumming).
  if (pkt.corruptBit >= 0 && pkt.corruptBit < total * 8) buf[off + (pkt.corruptBit >> 3)]! ^= 1 << (pkt.corruptBit & 7);
  return total;
}

/** The bytes of each whole datagram fragments were cut from, serialized once (a whole is never modified after). */
const wholeBytes = new WeakMap<Packet, Uint8Array>();

/** Writes a fragment's slice of its whole datagram's IP payload at buf[off]. */
function writeFragmentData(pkt: Packet, whole: Packet, buf: Uint8Array, off: number): void {
  let bytes = wholeBytes.get(whole);
  if (bytes === undefined) {
    bytes = serializeIp(whole);
    wholeBytes.set(whole, bytes);
  }
  const start = ipv4HeaderLength(whole.ip!) + pkt.ip!.fragOffset * 8;
  const end = start + pkt.payloadLength;
  if (end > bytes.length) throw new WireError('ipv4', off, `fragment [${start}, ${end}) beyond its datagram of ${bytes.length} bytes`);
  buf.set(bytes.subarray(start, end), off);
}

/** Writes the ICMP error quote of pkt.inner at buf[off], truncated as icmp_send does. */
function writeQuote(pkt: Packet, buf: Uint8Array, off: number): void {
  const inner = pkt.inner!;
  const quote = icmpQuoteLength(pkt);
  const full = ipTotalLength(inner);
  if (full <= quote) {
    writeIp(inner, buf, off);
    return;
  }
  // The original's L4 checksum covers all of it, so serialize it whole, then quote the head.
  const scratch = new Uint8Array(full);
  writeIp(inner, scratch, 0);
  buf.set(scratch.subarray(0, quote), off);
}

/** Writes pkt.payloadLength bytes at buf[off]: the payload bytes, zero-filled past their end. Returns bytes written. */
function writePayload(pkt: Packet, buf: Uint8Array, off: number): number {
  const len = pkt.payloadLength;
  const p = pkt.payload;
  let n = 0;
  if (p !== null) {
    n = p.length < len ? p.length : len;
    buf.set(n === p.length ? p : p.subarray(0, n), off);
  }
  if (n < len) buf.fill(0, off + n, off + len);
  return len;
}
