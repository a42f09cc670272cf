import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/wire/error.js';
import { decodeUdp, encodeUdp, udpChecksum } from '../../src/wire/udp.js';
import { garbage } from '../helpers/garbage.js';
import { FRAMES, hex, toHex } from '../helpers/vectors.js';

describe('udp', () => {
  const f = hex(FRAMES.udpDatagram);
  const SRC = 0x0a630001;
  const DST = 0x0a630002;
  it('decode', () => {
    const { hdr, bytesRead } = decodeUdp(f, 34);
    expect(bytesRead).toBe(8);
    expect(hdr).toEqual({ srcPort: 46362, dstPort: 9999, length: 21, checksum: 0x2786 });
  });
  it('encode: pseudo-header checksum over the data already written, at an offset into garbage', () => {
    const dgram = f.subarray(34);
    const b = garbage(dgram.length + 6);
    b.set(dgram.subarray(8), 3 + 8);
    expect(encodeUdp({ srcPort: 46362, dstPort: 9999, length: 21, checksum: null }, b, 3, SRC, DST)).toBe(8);
    expect(toHex(b.subarray(3, 3 + dgram.length))).toBe(toHex(dgram));
    expect(b[2]).toBe(0xa5);
    expect(b[3 + dgram.length]).toBe(0xa5);
  });
  it('encode: checksum 0 in the record means none and is written as 0 (RFC 768)', () => {
    const b = garbage(8);
    encodeUdp({ srcPort: 1, dstPort: 2, length: 8, checksum: 0 }, b, 0, SRC, DST);
    expect(toHex(b)).toBe('0001000200080000');
  });
  it('encode: a computed 0 is sent as ffff (RFC 768)', () => {
    // Choose a port so the sum of pseudo-header + header is ffff before complement.
    const b = new Uint8Array(8);
    const hdr = { srcPort: 0, dstPort: 0, length: 8, checksum: null };
    encodeUdp(hdr, b, 0, 0, 0);
    const c = (b[6]! << 8) | b[7]!;
    // sum without srcPort is 17 + 8 + 8 = 0x21; srcPort = 0xffff - 0x21 makes the folded sum ffff → checksum 0.
    const b2 = new Uint8Array(8);
    encodeUdp({ ...hdr, srcPort: 0xffff - 0x21 }, b2, 0, 0, 0);
    expect(c).not.toBe(0);
    expect(toHex(b2.subarray(6))).toBe('ffff');
    expect(udpChecksum(b2.fill(0, 6, 8), 0, 8, 0, 0, 8)).toBe(0xffff);
  });
  it('round trip', () => {
    const b = garbage(8);
    encodeUdp(decodeUdp(f, 34).hdr, b, 0);
    expect(toHex(b)).toBe(toHex(f.subarray(34, 42)));
  });
  it('rejects truncated input', () => {
    expect(() => decodeUdp(f.subarray(0, 41), 34)).toThrow(WireError);
    expect(() => encodeUdp({ srcPort: 1, dstPort: 2, length: 30, checksum: null }, new Uint8Array(20), 0)).toThrow(/truncated/);
  });
});
