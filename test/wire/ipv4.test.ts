import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/wire/error.js';
import { decodeIpv4, encodeIpv4, ipv4ChecksumValid, ipv4HeaderLength } from '../../src/wire/ipv4.js';
import { IP_DF, IpProto, type Ipv4Header } from '../../src/wire/types.js';
import { garbage } from '../helpers/garbage.js';
import { FRAMES, hex, toHex } from '../helpers/vectors.js';

describe('ipv4', () => {
  const udp = hex(FRAMES.udpDatagram);
  const icmpErr = hex(FRAMES.icmpPortUnreachable);
  it('decode: a real Linux UDP datagram header', () => {
    const { hdr, bytesRead } = decodeIpv4(udp, 14);
    expect(bytesRead).toBe(20);
    expect(hdr).toEqual({
      tos: 0, totalLength: 41, id: 0x5de7, flags: IP_DF, fragOffset: 0, ttl: 64, protocol: IpProto.UDP,
      checksum: 0xc814, src: 0x0a630001, dst: 0x0a630002, options: null,
    } satisfies Ipv4Header);
    expect(ipv4ChecksumValid(udp, 14)).toBe(true);
    // icmp_send: TOS 0xc0 (IPTOS_PREC_INTERNETCONTROL), no DF.
    expect(decodeIpv4(icmpErr, 14).hdr).toMatchObject({ tos: 0xc0, flags: 0, totalLength: 69 });
  });
  it('encode: computes the checksum when null, at an offset into garbage', () => {
    const { hdr } = decodeIpv4(udp, 14);
    const b = garbage(30);
    expect(encodeIpv4({ ...hdr, checksum: null }, b, 7)).toBe(20);
    expect(toHex(b.subarray(7, 27))).toBe(toHex(udp.subarray(14, 34)));
    expect(b[6]).toBe(0xa5);
    expect(b[27]).toBe(0xa5);
  });
  it('encode: writes a given checksum as is', () => {
    const { hdr } = decodeIpv4(udp, 14);
    const b = garbage(20);
    encodeIpv4({ ...hdr, checksum: 0xdead }, b, 0);
    expect(b[10]).toBe(0xde);
    expect(b[11]).toBe(0xad);
  });
  it('encode: options derive IHL', () => {
    // Router alert option (RFC 2113): 94 04 00 00.
    const hdr: Ipv4Header = {
      tos: 0, totalLength: 24, id: 1, flags: 0, fragOffset: 0, ttl: 1, protocol: 2, checksum: null,
      src: 0x0a000001, dst: 0xe0000016, options: hex('94040000'),
    };
    const b = garbage(24);
    expect(ipv4HeaderLength(hdr)).toBe(24);
    expect(encodeIpv4(hdr, b, 0)).toBe(24);
    expect(b[0]).toBe(0x46);
    expect(ipv4ChecksumValid(b, 0)).toBe(true);
    const back = decodeIpv4(b, 0);
    expect(back.bytesRead).toBe(24);
    expect(toHex(back.hdr.options!)).toBe('94040000');
  });
  it('round trip', () => {
    for (const f of [udp, icmpErr, hex(FRAMES.tcpSyn), hex(FRAMES.icmpEchoReply)]) {
      const b = garbage(20);
      encodeIpv4(decodeIpv4(f, 14).hdr, b, 0);
      expect(toHex(b)).toBe(toHex(f.subarray(14, 34)));
    }
  });
  it('fragment fields', () => {
    const b = garbage(20);
    const hdr: Ipv4Header = { tos: 0, totalLength: 1500, id: 7, flags: 1, fragOffset: 185, ttl: 64, protocol: 17, checksum: null, src: 1, dst: 2, options: null };
    encodeIpv4(hdr, b, 0);
    expect(decodeIpv4(b, 0).hdr).toMatchObject({ flags: 1, fragOffset: 185 });
  });
  it('rejects truncated input', () => {
    expect(() => decodeIpv4(udp.subarray(0, 33), 14)).toThrow(WireError);
    const bad = udp.slice(14);
    bad[0] = 0x65;
    expect(() => decodeIpv4(bad, 0)).toThrow(/version 6/);
    bad[0] = 0x44;
    expect(() => decodeIpv4(bad, 0)).toThrow(/IHL 4/);
    bad[0] = 0x4f;
    expect(() => decodeIpv4(bad, 0)).toThrow(/truncated/);
    const hdr = decodeIpv4(udp, 14).hdr;
    expect(() => encodeIpv4({ ...hdr, options: new Uint8Array(3) }, garbage(40), 0)).toThrow(/multiple of 4/);
  });
});
