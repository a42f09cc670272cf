import { describe, expect, it } from 'vitest';
import { parseFrame, parseIp } from '../../src/packet/parse.js';
import { serializeFrame, serializeIp } from '../../src/packet/serialize.js';
import { WireError } from '../../src/wire/error.js';
import {
  arpReplyFrame, arpRequestFrame, icmpEchoFrame, icmpPortUnreachableFrame, tcpFrame, tcpSynFrame, udpFrame, vxlanFrame,
} from '../helpers/frames.js';
import { FRAMES, hex, toHex } from '../helpers/vectors.js';
import { TcpFlag } from '../../src/wire/types.js';

const KINDS = {
  arpRequest: arpRequestFrame,
  arpReply: arpReplyFrame,
  icmpEcho: () => icmpEchoFrame(8),
  icmpEchoReply: () => icmpEchoFrame(0),
  icmpUnreachUdp: () => icmpPortUnreachableFrame(),
  icmpUnreachTcp: () => icmpPortUnreachableFrame(tcpSynFrame()),
  icmpUnreachBig: () => icmpPortUnreachableFrame(udpFrame(9999, null, 1400)),
  udp: () => udpFrame(),
  udpZeroPayload: () => udpFrame(53, null, 100),
  tcpSyn: tcpSynFrame,
  tcpData: () => tcpFrame(TcpFlag.PSH | TcpFlag.ACK, 1, 1, new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'), [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 5, tsecr: 6 }]),
  vxlan8472: () => vxlanFrame(),
  vxlan4789: () => vxlanFrame(tcpSynFrame(), 4789),
  vxlanArp: () => vxlanFrame(arpRequestFrame()),
};

describe('parse', () => {
  it('round trip: parseFrame(serializeFrame(p)) re-serializes identically, for every kind', () => {
    for (const [name, make] of Object.entries(KINDS)) {
      const bytes = serializeFrame(make());
      const back = parseFrame(bytes);
      expect(toHex(serializeFrame(back)), name).toBe(toHex(bytes));
    }
  });
  it('decode: records match what was built (checksums aside)', () => {
    const p = vxlanFrame();
    const back = parseFrame(serializeFrame(p));
    expect(back.vxlan).toEqual(p.vxlan);
    expect(back.udp).toEqual(p.udp); // checksum 0 stays 0
    expect(back.inner!.icmp!.rest).toBe(p.inner!.icmp!.rest);
    expect(back.inner!.ip!.checksum).not.toBeNull();
    expect({ ...back.inner!.ip!, checksum: null }).toEqual(p.inner!.ip);
    const e = parseFrame(serializeFrame(icmpPortUnreachableFrame()));
    expect(e.inner!.udp!.dstPort).toBe(9999);
    expect(new TextDecoder().decode(e.inner!.payload!)).toBe('hello podwire');
    const t = parseFrame(serializeFrame(tcpSynFrame()));
    expect(t.tcp!.options).toEqual(tcpSynFrame().tcp!.options);
  });
  it('real captures parse into the expected layers', () => {
    expect(parseFrame(hex(FRAMES.vxlanArpRequest)).inner!.arp!.op).toBe(1);
    const u = parseFrame(hex(FRAMES.icmpPortUnreachable));
    expect(u.icmp!.type).toBe(3);
    expect(u.inner!.ip!.totalLength).toBe(41);
  });
  it('tolerates a quote that cuts the L4 header (RFC 792 routers quote 8 bytes)', () => {
    const err = serializeIp(icmpPortUnreachableFrame(tcpSynFrame()));
    // Keep IP(20) + ICMP(8) + quoted IP(20) + 8 bytes of TCP; fix the outer total length.
    const cut = err.slice(0, 56);
    cut[2] = 0;
    cut[3] = 56;
    cut[10] = 0xff; // outer checksum as given, not recomputed (records keep what was read)
    const p = parseIp(cut);
    expect(p.inner!.tcp).toBeNull();
    expect(p.inner!.payloadLength).toBe(8);
    expect(toHex(serializeIp(p))).toBe(toHex(cut));
  });
  it('drops Ethernet padding past the IP total length', () => {
    const bytes = serializeFrame(udpFrame(9, null, 0));
    const padded = new Uint8Array(60);
    padded.set(bytes);
    expect(serializeFrame(parseFrame(padded)).length).toBe(bytes.length);
  });
  it('rejects truncated input', () => {
    const bytes = serializeFrame(udpFrame());
    expect(() => parseFrame(bytes.subarray(0, bytes.length - 1))).toThrow(WireError);
    expect(() => parseFrame(bytes.subarray(0, 10))).toThrow(/ethernet/);
  });
});
