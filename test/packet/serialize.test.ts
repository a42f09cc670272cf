import { describe, expect, it } from 'vitest';
import { frameLength, ipTotalLength, l4HeaderLength, udpLength, icmpQuoteLength } from '../../src/packet/length.js';
import { Packet } from '../../src/packet/packet.js';
import { parseFrame, parseIp } from '../../src/packet/parse.js';
import { serializeFrame, serializeIp } from '../../src/packet/serialize.js';
import { decodeIpv4 } from '../../src/wire/ipv4.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { arpRequest } from '../../src/wire/arp.js';
import { icmpEchoRest } from '../../src/wire/icmp.js';
import { vxlanHeader } from '../../src/wire/vxlan.js';
import { EtherType, IP_DF, IpProto, TcpFlag, type Ipv4Header } from '../../src/wire/types.js';
import { garbage } from '../helpers/garbage.js';
import { FRAMES, hex, toHex } from '../helpers/vectors.js';

const A = 0x0a630001;
const B = 0x0a630002;
const MAC_A = 0x621db7add0ca;
const MAC_B = 0x1aa04199ce49;

function ip(p: Partial<Ipv4Header> & Pick<Ipv4Header, 'src' | 'dst' | 'protocol' | 'totalLength' | 'id'>): Ipv4Header {
  return { tos: 0, flags: IP_DF, fragOffset: 0, ttl: 64, checksum: null, options: null, ...p };
}

/** The UDP datagram of FRAMES.udpDatagram, built from records as the simulator would. */
function udpPacket(): Packet {
  const p = new Packet();
  p.eth = { dst: MAC_B, src: MAC_A, etherType: EtherType.IPv4 };
  p.ip = ip({ src: A, dst: B, protocol: IpProto.UDP, totalLength: 41, id: 0x5de7 });
  p.udp = { srcPort: 46362, dstPort: 9999, length: 21, checksum: null };
  p.payload = new TextEncoder().encode('hello podwire');
  p.payloadLength = 13;
  return p;
}

describe('serialize', () => {
  it('every real frame: parseFrame → serializeFrame gives the same bytes and lengths agree', () => {
    for (const [name, h] of Object.entries(FRAMES)) {
      const bytes = hex(h);
      const p = parseFrame(bytes);
      expect(toHex(serializeFrame(p)), name).toBe(h);
      expect(frameLength(p), name).toBe(bytes.length);
      if (p.ip) expect(ipTotalLength(p), name).toBe(p.ip.totalLength);
    }
  });

  it('ARP request from records, unpadded 42 bytes', () => {
    const p = new Packet();
    p.eth = { dst: 0xffffffffffff, src: MAC_A, etherType: EtherType.ARP };
    p.arp = arpRequest(MAC_A, A, B);
    expect(frameLength(p)).toBe(42);
    expect(toHex(serializeFrame(p))).toBe(FRAMES.arpRequest);
  });

  it('UDP from records: checksums computed where null', () => {
    const p = udpPacket();
    expect(udpLength(p)).toBe(21);
    expect(toHex(serializeFrame(p))).toBe(FRAMES.udpDatagram);
  });

  it('ICMP echo request from records', () => {
    const p = new Packet();
    p.eth = { dst: MAC_B, src: MAC_A, etherType: EtherType.IPv4 };
    p.ip = ip({ src: A, dst: B, protocol: IpProto.ICMP, totalLength: 68, id: 0x08cb });
    p.icmp = { type: 8, code: 0, checksum: null, rest: icmpEchoRest(0x1234, 1) };
    p.payload = hex('101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637');
    p.payloadLength = 40;
    expect(toHex(serializeFrame(p))).toBe(FRAMES.icmpEchoRequest);
  });

  it('TCP SYN with options from records (Linux: mss 1460,sackOK,TS,nop,wscale 7)', () => {
    const p = new Packet();
    p.eth = { dst: MAC_A, src: MAC_B, etherType: EtherType.IPv4 };
    p.ip = ip({ src: B, dst: A, protocol: IpProto.TCP, totalLength: 60, id: 0x6216 });
    p.tcp = {
      srcPort: 50234, dstPort: 8080, seq: 0xa84ec533, ack: 0, flags: TcpFlag.SYN, window: 64240, checksum: null, urgent: 0,
      options: [{ kind: 'mss', value: 1460 }, { kind: 'sackPermitted' }, { kind: 'timestamps', tsval: 0x7a410b62, tsecr: 0 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }],
    };
    expect(l4HeaderLength(p)).toBe(40);
    expect(ipTotalLength(p)).toBe(60);
    expect(toHex(serializeFrame(p))).toBe(FRAMES.tcpSyn);
  });

  it('ICMP port unreachable from records quotes the original datagram (icmp_send)', () => {
    const orig = udpPacket();
    orig.eth = null;
    const p = new Packet();
    p.eth = { dst: MAC_A, src: MAC_B, etherType: EtherType.IPv4 };
    p.ip = ip({ src: B, dst: A, protocol: IpProto.ICMP, totalLength: 69, id: 0x5d7b, tos: 0xc0, flags: 0 });
    p.icmp = { type: 3, code: 3, checksum: null, rest: 0 };
    p.inner = orig;
    expect(ipTotalLength(p)).toBe(69);
    expect(toHex(serializeFrame(p))).toBe(FRAMES.icmpPortUnreachable);
  });

  it('ICMP error quote is capped so the error datagram is 576 bytes', () => {
    const orig = udpPacket();
    orig.eth = null;
    orig.payload = null;
    orig.payloadLength = 1000;
    orig.ip!.totalLength = 1028;
    orig.udp!.length = 1008;
    const p = new Packet();
    p.ip = ip({ src: B, dst: A, protocol: IpProto.ICMP, totalLength: 576, id: 1, tos: 0xc0, flags: 0 });
    p.icmp = { type: 3, code: 3, checksum: null, rest: 0 };
    p.inner = orig;
    expect(icmpQuoteLength(p)).toBe(548);
    expect(ipTotalLength(p)).toBe(576);
    const bytes = serializeIp(p);
    expect(bytes.length).toBe(576);
    expect(internetChecksum(bytes, 20, 576)).toBe(0);
    // The quoted UDP checksum is the one of the whole original datagram.
    const whole = serializeIp(orig);
    expect(toHex(bytes.subarray(28))).toBe(toHex(whole.subarray(0, 548)));
    // parse tolerates the truncated quote and re-serializes identically.
    const back = parseIp(bytes);
    expect(back.inner!.udp!.length).toBe(1008);
    expect(back.inner!.payloadLength).toBe(548 - 28);
    expect(toHex(serializeIp(back))).toBe(toHex(bytes));
  });

  it('VXLAN with inner ICMP from records', () => {
    const inner = new Packet();
    inner.eth = { dst: 0x560626922f6a, src: 0x1eb247b1afb6, etherType: EtherType.IPv4 };
    inner.ip = ip({ src: 0x0ac80001, dst: 0x0ac80002, protocol: IpProto.ICMP, totalLength: 68, id: 0xbd1f });
    inner.icmp = { type: 8, code: 0, checksum: null, rest: icmpEchoRest(0x1234, 1) };
    inner.payload = hex('101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637');
    inner.payloadLength = 40;
    const p = new Packet();
    p.eth = { dst: MAC_B, src: MAC_A, etherType: EtherType.IPv4 };
    p.ip = ip({ src: A, dst: B, protocol: IpProto.UDP, totalLength: 118, id: 0x5e1c, flags: 0 });
    p.udp = { srcPort: 47262, dstPort: 8472, length: 98, checksum: null };
    p.vxlan = vxlanHeader(1);
    p.inner = inner;
    expect(ipTotalLength(p)).toBe(118);
    expect(udpLength(p)).toBe(98);
    expect(frameLength(p)).toBe(132);
    expect(toHex(serializeFrame(p))).toBe(FRAMES.vxlanIcmpEchoRequest);
  });

  it('encodes into a larger garbage buffer and returns the frame view', () => {
    const out = garbage(2000);
    const f = serializeFrame(udpPacket(), out);
    expect(f.buffer).toBe(out.buffer);
    expect(toHex(f)).toBe(FRAMES.udpDatagram);
    expect(out[f.length]).toBe(0xa5);
  });

  it('payload without bytes is zeros; short payload bytes are zero-filled', () => {
    const p = udpPacket();
    p.payload = hex('ffff');
    p.payloadLength = 6;
    p.ip!.totalLength = 34;
    p.udp!.length = 14;
    const f = serializeFrame(p, garbage(100));
    expect(toHex(f.subarray(42))).toBe('ffff00000000');
    expect(decodeIpv4(f, 14).hdr.totalLength).toBe(34);
  });

  it('rejects an output buffer that is too small', () => {
    expect(() => serializeFrame(udpPacket(), new Uint8Array(20))).toThrow(/needs 55/);
  });
});
