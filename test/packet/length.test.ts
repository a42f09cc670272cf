import { describe, expect, it } from 'vitest';
import { frameLength, icmpQuoteLength, ipTotalLength, l4DataLength, l4HeaderLength, localOutLength, skbLength, udpLength } from '../../src/packet/length.js';
import { Packet } from '../../src/packet/packet.js';
import { serializeFrame } from '../../src/packet/serialize.js';
import { arpRequestFrame, fillLengths, icmpEchoFrame, icmpPortUnreachableFrame, tcpFrame, tcpSynFrame, udpFrame, vxlanFrame } from '../helpers/frames.js';
import { TcpFlag } from '../../src/wire/types.js';

describe('length', () => {
  it('l4 header lengths', () => {
    expect(l4HeaderLength(udpFrame())).toBe(8);
    expect(l4HeaderLength(icmpEchoFrame())).toBe(8);
    expect(l4HeaderLength(tcpSynFrame())).toBe(40);
    expect(l4HeaderLength(tcpFrame(TcpFlag.ACK, 1, 1, null, [{ kind: 'nop' }]))).toBe(24);
    expect(l4HeaderLength(arpRequestFrame())).toBe(0);
    expect(l4HeaderLength(new Packet())).toBe(0);
  });
  it('frame lengths agree with serialized bytes for every kind', () => {
    const kinds = [arpRequestFrame(), icmpEchoFrame(), udpFrame(), tcpSynFrame(), vxlanFrame(), vxlanFrame(vxlanFrame()), icmpPortUnreachableFrame(tcpSynFrame())];
    for (const p of kinds) {
      expect(frameLength(p)).toBe(serializeFrame(p).length);
      if (p.ip) expect(ipTotalLength(p)).toBe(p.ip.totalLength);
    }
    expect(frameLength(arpRequestFrame())).toBe(42);
  });
  it('VXLAN: UDP length = 8 + 8 + inner frame', () => {
    const v = vxlanFrame();
    expect(l4DataLength(v)).toBe(8 + frameLength(v.inner!));
    expect(udpLength(v)).toBe(16 + 14 + 84);
    expect(ipTotalLength(v)).toBe(20 + 16 + 98);
  });
  it('ICMP quote: whole original when small, capped to 576 - outer IP header - 8 otherwise (options count)', () => {
    expect(icmpQuoteLength(icmpPortUnreachableFrame())).toBe(41);
    const big = icmpPortUnreachableFrame(udpFrame(9, null, 3000));
    expect(icmpQuoteLength(big)).toBe(548);
    big.ip!.options = new Uint8Array(4);
    expect(icmpQuoteLength(big)).toBe(544);
    expect(ipTotalLength(big)).toBe(576);
  });
  it('skbLength: 14 + ip.totalLength once filled (equal to frameLength then), frameLength while the field is 0', () => {
    const kinds = [icmpEchoFrame(), udpFrame(), tcpSynFrame(), tcpFrame(TcpFlag.ACK, 1, 1, null, [{ kind: 'nop' }]), vxlanFrame(), vxlanFrame(tcpSynFrame()), icmpPortUnreachableFrame(tcpSynFrame())];
    for (const p of kinds) expect(skbLength(p)).toBe(frameLength(p));
    expect(skbLength(arpRequestFrame())).toBe(42);
    // The device path reads the field the net layer filled, not the records: no option walk, no VXLAN recursion.
    const v = vxlanFrame(tcpSynFrame());
    v.inner!.tcp!.options.push({ kind: 'nop' });
    expect(skbLength(v)).toBe(14 + 20 + 16 + 14 + 60);
    expect(frameLength(v)).toBe(14 + 20 + 16 + 14 + 64);
    expect(skbLength(fillLengths(v))).toBe(frameLength(v));
    const raw = tcpSynFrame();
    raw.ip!.totalLength = 0;
    expect(skbLength(raw)).toBe(14 + 60);
    raw.eth = null;
    expect(skbLength(raw)).toBe(60);
  });

  it("localOutLength: ipTotalLength, with a VXLAN datagram's inner frame counted by its filled totalLength", () => {
    const kinds = [icmpEchoFrame(), udpFrame(), tcpSynFrame(), tcpFrame(TcpFlag.ACK, 1, 1, null, [{ kind: 'nop' }]), vxlanFrame(), vxlanFrame(tcpSynFrame()), vxlanFrame(arpRequestFrame()), icmpPortUnreachableFrame(tcpSynFrame())];
    for (const p of kinds) expect(localOutLength(p)).toBe(ipTotalLength(p));
    // The inner frame is not walked again: its totalLength (as its sender's ip_local_out left it) counts.
    const v = vxlanFrame(tcpSynFrame());
    v.inner!.ip!.totalLength += 4;
    expect(localOutLength(v)).toBe(ipTotalLength(v) + 4);
    v.inner!.ip!.totalLength = 0; // never filled: its records
    expect(localOutLength(v)).toBe(ipTotalLength(v));
  });
});
