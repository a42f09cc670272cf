import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/wire/error.js';
import { decodeVxlan, encodeVxlan, vxlanHeader } from '../../src/wire/vxlan.js';
import { garbage } from '../helpers/garbage.js';
import { FRAMES, hex, toHex } from '../helpers/vectors.js';

describe('vxlan', () => {
  const f = hex(FRAMES.vxlanIcmpEchoRequest);
  it('decode: a real Linux VXLAN frame (VNI 1, port 8472)', () => {
    const { hdr, bytesRead } = decodeVxlan(f, 42);
    expect(bytesRead).toBe(8);
    expect(hdr).toEqual(vxlanHeader(1));
  });
  it('encode: at an offset into garbage', () => {
    const b = garbage(12);
    expect(encodeVxlan(vxlanHeader(0xabcdef), b, 2)).toBe(8);
    expect(toHex(b)).toBe('a5a5' + '08000000abcdef00' + 'a5a5');
  });
  it('round trip keeps reserved bits', () => {
    const raw = hex('0c123456000001ff');
    const { hdr } = decodeVxlan(raw, 0);
    expect(hdr).toEqual({ flags: 0x0c, reserved1: 0x123456, vni: 1, reserved2: 0xff });
    const b = garbage(8);
    encodeVxlan(hdr, b, 0);
    expect(toHex(b)).toBe(toHex(raw));
  });
  it('rejects truncated input', () => {
    expect(() => decodeVxlan(f.subarray(0, 49), 42)).toThrow(WireError);
  });
});
