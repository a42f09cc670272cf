// wire/types — lossless header records, one per protocol. Layer: wire (imports nothing but core).
// Addresses are integers on the hot path: a MAC is a 48-bit number (exact in a double), an IPv4
// address a uint32 (always stored `>>> 0`). ipaddr.js converts at the edges (scenario, CLI, reports).
// A field that holds a checksum is `null` in a record built by the simulator ("compute on encode") and
// the value read from the wire in a decoded record, so decode → encode reproduces the bytes exactly.

/** 48-bit MAC address as an integer (0 .. 2^48-1). */
export type Mac = number;
/** IPv4 address as an unsigned 32-bit integer. */
export type Ipv4 = number;

export const BROADCAST_MAC: Mac = 0xffff_ffff_ffff;

export const EtherType = { IPv4: 0x0800, ARP: 0x0806, IPv6: 0x86dd, VLAN: 0x8100 } as const;
export const IpProto = { ICMP: 1, TCP: 6, UDP: 17, SCTP: 132 } as const;

/** Ethernet II header (IEEE 802.3 DIX framing; no FCS: Linux captures do not show it). */
export interface EthernetHeader {
  dst: Mac;
  src: Mac;
  etherType: number;
}

/** ARP for IPv4 over Ethernet (RFC 826). `op` 1 = request, 2 = reply. */
export interface ArpHeader {
  htype: number;
  ptype: number;
  hlen: number;
  plen: number;
  op: number;
  sha: Mac;
  spa: Ipv4;
  tha: Mac;
  tpa: Ipv4;
}
export const ArpOp = { REQUEST: 1, REPLY: 2 } as const;

/** IPv4 header (RFC 791). `flags` holds the 3 flag bits (0x2 = DF, 0x1 = MF); IHL is derived from options. */
export interface Ipv4Header {
  tos: number;
  totalLength: number;
  id: number;
  flags: number;
  fragOffset: number;
  ttl: number;
  protocol: number;
  checksum: number | null;
  src: Ipv4;
  dst: Ipv4;
  /** Raw option bytes (a multiple of 4 long) or null for none. */
  options: Uint8Array | null;
}
export const IP_DF = 0x2;
export const IP_MF = 0x1;

/** ICMP header (RFC 792). `rest` is the 4-byte "rest of header": id<<16|seq for echo, 0 or next-hop MTU for errors. */
export interface IcmpHeader {
  type: number;
  code: number;
  checksum: number | null;
  rest: number;
}
export const IcmpType = { ECHO_REPLY: 0, DEST_UNREACH: 3, ECHO_REQUEST: 8, TIME_EXCEEDED: 11 } as const;
export const IcmpUnreachCode = { NET: 0, HOST: 1, PROTOCOL: 2, PORT: 3, FRAG_NEEDED: 4, ADMIN_PROHIBITED: 13 } as const;

/** UDP header (RFC 768). */
export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  length: number;
  checksum: number | null;
}

/** TCP options, kept in wire order (NOPs included) so a decoded header re-encodes byte for byte. */
export type TcpOption =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackPermitted' }
  | { kind: 'sack'; blocks: [number, number][] }
  | { kind: 'timestamps'; tsval: number; tsecr: number }
  | { kind: 'unknown'; type: number; data: Uint8Array };

/** TCP header (RFC 9293). `flags` are the low 9 bits (NS..FIN); data offset is derived from options. */
export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  checksum: number | null;
  urgent: number;
  options: TcpOption[];
}
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

/** VXLAN header (RFC 7348): flags byte (0x08 = VNI valid), 24-bit VNI, reserved fields kept for losslessness. */
export interface VxlanHeader {
  flags: number;
  reserved1: number;
  vni: number;
  reserved2: number;
}
