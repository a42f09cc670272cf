// test/helpers/frames — Packets of every kind built from records as the simulator builds them
// (checksums null, lengths filled from packet/length), for capture and round-trip tests.
import { ipTotalLength, udpLength } from '../../src/packet/length.js';
import { Packet } from '../../src/packet/packet.js';
import { arpReply, arpRequest } from '../../src/wire/arp.js';
import { icmpEchoRest } from '../../src/wire/icmp.js';
import { vxlanHeader } from '../../src/wire/vxlan.js';
import { BROADCAST_MAC, EtherType, IP_DF, IpProto, TcpFlag, type Ipv4Header, type TcpOption } from '../../src/wire/types.js';

export const POD_A = { mac: 0x0a580af40102, ip: 0x0af40102 }; // 10.244.1.2
export const POD_B = { mac: 0x0a580af40203, ip: 0x0af40203 }; // 10.244.2.3
export const NODE1 = { mac: 0x02420a000001, ip: 0xc0a80a01 }; // 192.168.10.1
export const NODE2 = { mac: 0x02420a000002, ip: 0xc0a80a02 }; // 192.168.10.2

function ipHdr(src: number, dst: number, protocol: number, id: number, extra: Partial<Ipv4Header> = {}): Ipv4Header {
  return { tos: 0, totalLength: 0, id, flags: IP_DF, fragOffset: 0, ttl: 64, protocol, checksum: null, src, dst, options: null, ...extra };
}

/** Fills ip.totalLength and udp.length the way the net layer does. */
export function fillLengths(p: Packet): Packet {
  if (p.inner) fillLengths(p.inner);
  if (p.udp) p.udp.length = udpLength(p);
  if (p.ip) p.ip.totalLength = ipTotalLength(p);
  return p;
}

export function arpRequestFrame(): Packet {
  const p = new Packet();
  p.eth = { dst: BROADCAST_MAC, src: POD_A.mac, etherType: EtherType.ARP };
  p.arp = arpRequest(POD_A.mac, POD_A.ip, POD_B.ip);
  return p;
}

export function arpReplyFrame(): Packet {
  const p = new Packet();
  p.eth = { dst: POD_A.mac, src: POD_B.mac, etherType: EtherType.ARP };
  p.arp = arpReply(POD_B.mac, POD_B.ip, POD_A.mac, POD_A.ip);
  return p;
}

export function icmpEchoFrame(type: 8 | 0 = 8, seq = 1): Packet {
  const p = new Packet();
  const [s, d] = type === 8 ? [POD_A, POD_B] : [POD_B, POD_A];
  p.eth = { dst: d.mac, src: s.mac, etherType: EtherType.IPv4 };
  p.ip = ipHdr(s.ip, d.ip, IpProto.ICMP, 0x1000 + seq);
  p.icmp = { type, code: 0, checksum: null, rest: icmpEchoRest(0x4242, seq) };
  p.payloadLength = 56;
  p.payload = new Uint8Array(56).map((_, i) => i);
  return fillLengths(p);
}

export function udpFrame(dstPort = 9999, payload: Uint8Array | null = new TextEncoder().encode('hello podwire'), payloadLength = payload?.length ?? 0): Packet {
  const p = new Packet();
  p.eth = { dst: POD_B.mac, src: POD_A.mac, etherType: EtherType.IPv4 };
  p.ip = ipHdr(POD_A.ip, POD_B.ip, IpProto.UDP, 0x2001);
  p.udp = { srcPort: 40000, dstPort, length: 0, checksum: null };
  p.payload = payload;
  p.payloadLength = payloadLength;
  return fillLengths(p);
}

/** ICMP port unreachable from POD_B quoting `orig` (an IP datagram; its eth is dropped). */
export function icmpPortUnreachableFrame(orig: Packet = udpFrame()): Packet {
  const quoted = orig.clone();
  quoted.eth = null;
  const p = new Packet();
  p.eth = { dst: POD_A.mac, src: POD_B.mac, etherType: EtherType.IPv4 };
  p.ip = ipHdr(POD_B.ip, POD_A.ip, IpProto.ICMP, 0x3001, { tos: 0xc0, flags: 0 });
  p.icmp = { type: 3, code: 3, checksum: null, rest: 0 };
  p.inner = quoted;
  return fillLengths(p);
}

export const LINUX_SYN_OPTIONS: TcpOption[] = [
  { kind: 'mss', value: 1460 },
  { kind: 'sackPermitted' },
  { kind: 'timestamps', tsval: 0x7a410b62, tsecr: 0 },
  { kind: 'nop' },
  { kind: 'wscale', shift: 7 },
];

export function tcpFrame(flags: number, seq: number, ack: number, payload: Uint8Array | null = null, options: TcpOption[] = [], reverse = false): Packet {
  const [s, d] = reverse ? [POD_B, POD_A] : [POD_A, POD_B];
  const p = new Packet();
  p.eth = { dst: d.mac, src: s.mac, etherType: EtherType.IPv4 };
  p.ip = ipHdr(s.ip, d.ip, IpProto.TCP, 0x4000 + (seq & 0xff));
  p.tcp = {
    srcPort: reverse ? 8080 : 43210, dstPort: reverse ? 43210 : 8080, seq: seq >>> 0, ack: ack >>> 0, flags,
    window: 64240, checksum: null, urgent: 0, options,
  };
  p.payload = payload;
  p.payloadLength = payload?.length ?? 0;
  return fillLengths(p);
}

export function tcpSynFrame(): Packet {
  return tcpFrame(TcpFlag.SYN, 0xa84ec533, 0, null, LINUX_SYN_OPTIONS.slice());
}

/** VXLAN (VNI 1, port 8472, outer UDP checksum 0 = none, a device without udpcsum) between nodes carrying `inner`. */
export function vxlanFrame(inner: Packet = icmpEchoFrame(), dstPort = 8472): Packet {
  const p = new Packet();
  p.eth = { dst: NODE2.mac, src: NODE1.mac, etherType: EtherType.IPv4 };
  p.ip = ipHdr(NODE1.ip, NODE2.ip, IpProto.UDP, 0x5001, { flags: 0 });
  p.udp = { srcPort: 51000, dstPort, length: 0, checksum: 0 };
  p.vxlan = vxlanHeader(1);
  p.inner = inner;
  return fillLengths(p);
}
