import { describe, expect, it } from 'vitest';
import {
  checksumAdd,
  checksumFinish,
  checksumUpdate16,
  checksumUpdate32,
  internetChecksum,
  pseudoHeaderSum,
} from '../../src/wire/checksum.js';
import { hex } from '../helpers/vectors.js';

// The IPv4 header example from Wikipedia "Internet checksum" (checksum b861).
const IP_HDR = hex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7');

describe('checksum', () => {
  it('decode: a header with its checksum sums to zero', () => {
    const h = IP_HDR.slice();
    h[10] = 0xb8;
    h[11] = 0x61;
    expect(internetChecksum(h, 0, h.length)).toBe(0);
  });
  it('encode: computes the RFC 1071 checksum of a known header', () => {
    expect(internetChecksum(IP_HDR, 0, IP_HDR.length)).toBe(0xb861);
  });
  it('RFC 1071 §3 example: 0001 f203 f4f5 f6f7 sums to ddf2', () => {
    const b = hex('0001f203f4f5f6f7');
    expect(checksumFinish(checksumAdd(0, b, 0, b.length))).toBe(~0xddf2 & 0xffff);
  });
  it('odd length pads the last byte as a high byte', () => {
    expect(internetChecksum(hex('01'), 0, 1)).toBe(~0x0100 & 0xffff);
  });
  it('round trip: incremental over even ranges equals one pass', () => {
    const b = new Uint8Array(101).map((_, i) => (i * 37 + 11) & 255);
    let s = checksumAdd(0, b, 0, 40);
    s = checksumAdd(s, b, 40, 101);
    expect(checksumFinish(s)).toBe(internetChecksum(b, 0, 101));
  });
  it('pseudo-header sum adds addresses, protocol and length as words', () => {
    expect(pseudoHeaderSum(0x0a630001, 0x0a630002, 17, 21)).toBe(0x0a63 + 0x0001 + 0x0a63 + 0x0002 + 17 + 21);
  });
  it('RFC 1624 update matches recomputation (16 and 32 bit)', () => {
    const h = IP_HDR.slice();
    const c0 = internetChecksum(h, 0, h.length);
    // TTL 0x40 -> 0x3f in the word ttl|protocol.
    h[8] = 0x3f;
    expect(checksumUpdate16(c0, 0x4011, 0x3f11)).toBe(internetChecksum(h, 0, h.length));
    // Source address rewrite (NAT).
    const c1 = internetChecksum(h, 0, h.length);
    h.set([10, 96, 0, 10], 12);
    expect(checksumUpdate32(c1, 0xc0a80001, 0x0a60000a)).toBe(internetChecksum(h, 0, h.length));
  });
  it('rejects truncated input: an empty range checksums to ffff', () => {
    expect(internetChecksum(new Uint8Array(0), 0, 0)).toBe(0xffff);
  });
});
