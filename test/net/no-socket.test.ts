// A namespace answers for a port nobody holds as Linux does, whether or not any socket was ever
// opened in it (inet_init registers TCP and UDP in every namespace): a SYN gets tcp_v4_send_reset's
// RST (R. seq 0 ack ISN+1, window 0, IP ID 0, TOS reflected without ECN), a datagram gets ICMP port
// unreachable, and only a protocol nobody implements gets ICMP protocol unreachable.
//
//   a: eth0 10.0.0.1/24 ══ veth ══ b: eth0 10.0.0.2/24   (b: no transport layer registered)
import { describe, expect, it } from 'vitest';
import { Packet } from '../../src/packet/packet.js';
import { IcmpType, IcmpUnreachCode, IP_DF, IpProto, TcpFlag } from '../../src/wire/types.js';
import { ip, Lab, udpDatagram } from './harness.js';

function setup() {
  const lab = new Lab();
  const a = lab.host('a');
  const b = lab.host('b');
  const [ea] = lab.veth(a, 'eth0', '10.0.0.1/24', b, 'eth0', '10.0.0.2/24');
  const got: Packet[] = [];
  a.registerProtocol(IpProto.TCP, { receive: (p) => got.push(p), error: () => {} });
  a.registerProtocol(IpProto.UDP, { receive: () => {}, error: (p) => got.push(p) });
  lab.capture(ea);
  return { lab, a, b, got };
}

function syn(tos: number, seq: number): Packet {
  const p = new Packet();
  p.ip = { tos, totalLength: 0, id: -1, flags: IP_DF, fragOffset: 0, ttl: 64, protocol: IpProto.TCP, checksum: null, src: 0, dst: ip('10.0.0.2'), options: null };
  p.tcp = { srcPort: 40000, dstPort: 81, seq, ack: 0, flags: TcpFlag.SYN, window: 64240, checksum: null, urgent: 0, options: [] };
  return p;
}

describe('no socket in a namespace without a transport layer', () => {
  it('a SYN gets a RST, never ICMP protocol unreachable', () => {
    const { lab, a, b, got } = setup();
    a.ipLocalOut(syn(0x2b, 5000));
    lab.sim.run();
    expect(lab.seen('a/eth0', 'in').filter((l) => l.includes('ICMP'))).toEqual([]);
    expect(got).toHaveLength(1);
    const rst = got[0]!;
    expect({ flags: rst.tcp!.flags, seq: rst.tcp!.seq, ack: rst.tcp!.ack, window: rst.tcp!.window, sport: rst.tcp!.srcPort, dport: rst.tcp!.dstPort }).toEqual({
      flags: TcpFlag.RST | TcpFlag.ACK, seq: 0, ack: 5001, window: 0, sport: 81, dport: 40000,
    });
    expect({ id: rst.ip!.id, tos: rst.ip!.tos, ttl: rst.ip!.ttl, df: (rst.ip!.flags & IP_DF) !== 0 }).toEqual({ id: 0, tos: 0x28, ttl: 64, df: true });
    expect(b.drops['no-socket']).toBe(1);
    expect(b.drops['no-protocol']).toBeUndefined();
  });

  it('a segment with ACK gets a RST whose seq is that ack; a RST gets nothing', () => {
    const { lab, a, got } = setup();
    const ack = syn(0, 7);
    ack.tcp!.flags = TcpFlag.ACK;
    ack.tcp!.ack = 123456;
    a.ipLocalOut(ack);
    const rst = syn(0, 8);
    rst.tcp!.flags = TcpFlag.RST;
    a.ipLocalOut(rst);
    lab.sim.run();
    expect(got.map((p) => [p.tcp!.flags, p.tcp!.seq, p.tcp!.ack])).toEqual([[TcpFlag.RST, 123456, 0]]);
  });

  it('a datagram to a closed port gets ICMP port unreachable; protocol 99 gets protocol unreachable', () => {
    const { lab, a, got } = setup();
    a.ipLocalOut(udpDatagram('10.0.0.2', 9999));
    const p99 = udpDatagram('10.0.0.2');
    p99.ip!.protocol = 99;
    p99.udp = null;
    a.ipLocalOut(p99);
    lab.sim.run();
    expect(got.map((p) => [p.icmp!.type, p.icmp!.code])).toEqual([[IcmpType.DEST_UNREACH, IcmpUnreachCode.PORT]]);
    expect(lab.seen('a/eth0', 'in').filter((l) => l.includes('ICMP'))).toEqual([
      '10.0.0.2 > 10.0.0.1 ICMP port unreachable [10.0.0.1 > 10.0.0.2 UDP 40000 > 9999 ttl 64] ttl 64',
      '10.0.0.2 > 10.0.0.1 ICMP protocol unreachable [10.0.0.1 > 10.0.0.2 proto 99 ttl 64] ttl 64',
    ]);
  });
});
