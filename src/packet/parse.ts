// packet/parse — bytes → Packet records, the inverse of packet/serialize. Layer: packet (imports core,
// wire). Used by tests and by the real-kernel differential tests, which compare captures record by
// record. Mirrors how tshark dissects: Ethernet → ARP | IPv4 → ICMP | UDP | TCP; UDP to port 8472 or
// 4789 → VXLAN + inner frame; ICMP errors → the quoted datagram in `inner`.
//
// Decoded records keep checksums as read, so parseFrame(bytes) re-serializes to the same bytes.
// - IPv4 bytes past totalLength (Ethernet padding) are dropped; a datagram shorter than its
//   totalLength is rejected, except inside an ICMP quote, which is truncated by design (RFC 1812).
// - In a quote, an L4 header that does not fit whole is left as raw payload bytes (no L4 record);
//   the quote's VXLAN or nested ICMP error is not dissected further (raw payload).
// Not modelled: IPv6, 802.1Q tags, IP fragments reassembly (a fragment's data, first or not, is raw payload).
import { decodeArp } from '../wire/arp.js';
import { decodeEthernet } from '../wire/ethernet.js';
import { WireError } from '../wire/error.js';
import { decodeIcmp, isIcmpError } from '../wire/icmp.js';
import { decodeIpv4 } from '../wire/ipv4.js';
import { decodeTcp } from '../wire/tcp.js';
import { EtherType, IP_MF, IpProto } from '../wire/types.js';
import { decodeUdp } from '../wire/udp.js';
import { decodeVxlan, VXLAN_PORT_IANA, VXLAN_PORT_LINUX } from '../wire/vxlan.js';
import { Packet } from './packet.js';

/** Parses an Ethernet frame into a Packet (throws WireError on malformed input). */
export function parseFrame(bytes: Uint8Array): Packet {
  const pkt = new Packet();
  const { hdr, bytesRead } = decodeEthernet(bytes, 0);
  pkt.eth = hdr;
  if (hdr.etherType === EtherType.ARP) {
    pkt.arp = decodeArp(bytes, bytesRead).hdr;
  } else if (hdr.etherType === EtherType.IPv4) {
    parseIpInto(pkt, bytes, bytesRead, false);
  } else {
    setPayload(pkt, bytes, bytesRead, bytes.length);
  }
  return pkt;
}

/** Parses a bare IPv4 datagram (raw-IP capture) into a Packet with eth null. */
export function parseIp(bytes: Uint8Array): Packet {
  const pkt = new Packet();
  parseIpInto(pkt, bytes, 0, false);
  return pkt;
}

/** Fills pkt.ip and the layers above from the datagram at bytes[off]; `quoted` tolerates truncation. */
function parseIpInto(pkt: Packet, bytes: Uint8Array, off: number, quoted: boolean): void {
  const { hdr: ip, bytesRead: hl } = decodeIpv4(bytes, off);
  pkt.ip = ip;
  let end = off + ip.totalLength;
  if (end > bytes.length) {
    if (!quoted) throw new WireError('ipv4', off, `total length ${ip.totalLength} but only ${bytes.length - off} bytes present`);
    end = bytes.length;
  }
  const l4 = off + hl;
  // A fragment is raw payload: a non-first one carries no L4 header, and a first one only the start
  // of a datagram whose L4 length and checksum cover bytes not here (tshark dissects after reassembly).
  if (ip.fragOffset !== 0 || (ip.flags & IP_MF) !== 0) {
    setPayload(pkt, bytes, l4, end);
    return;
  }
  const avail = end - l4;
  switch (ip.protocol) {
    case IpProto.ICMP: {
      if (quoted && avail < 8) break;
      const icmp = decodeIcmp(bytes.subarray(0, end), l4).hdr;
      pkt.icmp = icmp;
      if (!quoted && isIcmpError(icmp.type) && avail >= 8 + 20) {
        const inner = new Packet();
        parseIpInto(inner, bytes.subarray(0, end), l4 + 8, true);
        pkt.inner = inner;
      } else setPayload(pkt, bytes, l4 + 8, end);
      return;
    }
    case IpProto.UDP: {
      if (quoted && avail < 8) break;
      const udp = decodeUdp(bytes.subarray(0, end), l4).hdr;
      pkt.udp = udp;
      const data = l4 + 8;
      if (!quoted && (udp.dstPort === VXLAN_PORT_LINUX || udp.dstPort === VXLAN_PORT_IANA) && end - data >= 8 + 14) {
        pkt.vxlan = decodeVxlan(bytes, data).hdr;
        pkt.inner = parseFrame(bytes.subarray(data + 8, end));
      } else setPayload(pkt, bytes, data, end);
      return;
    }
    case IpProto.TCP: {
      if (quoted && (avail < 20 || avail < (bytes[l4 + 12]! >> 4) * 4)) break;
      const { hdr: tcp, bytesRead } = decodeTcp(bytes.subarray(0, end), l4);
      pkt.tcp = tcp;
      setPayload(pkt, bytes, l4 + bytesRead, end);
      return;
    }
    default:
      break;
  }
  setPayload(pkt, bytes, l4, end);
}

/** Copies bytes[start, end) into pkt.payload (null when empty). */
function setPayload(pkt: Packet, bytes: Uint8Array, start: number, end: number): void {
  const n = end > start ? end - start : 0;
  pkt.payloadLength = n;
  pkt.payload = n > 0 ? bytes.slice(start, end) : null;
}
