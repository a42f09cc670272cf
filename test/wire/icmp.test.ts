import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/wire/error.js';
import { decodeIcmp, encodeIcmp, icmpEchoId, icmpEchoRest, icmpEchoSeq, isIcmpError } from '../../src/wire/icmp.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { IcmpType } from '../../src/wire/types.js';
import { garbage } from '../helpers/garbage.js';
import { FRAMES, hex, toHex } from '../helpers/vectors.js';

describe('icmp', () => {
  const echo = hex(FRAMES.icmpEchoRequest);
  const unreach = hex(FRAMES.icmpPortUnreachable);
  it('decode', () => {
    const { hdr, bytesRead } = decodeIcmp(echo, 34);
    expect(bytesRead).toBe(8);
    expect(hdr).toEqual({ type: IcmpType.ECHO_REQUEST, code: 0, checksum: 0x26f8, rest: 0x12340001 });
    expect(icmpEchoId(hdr.rest)).toBe(0x1234);
    expect(icmpEchoSeq(hdr.rest)).toBe(1);
    expect(decodeIcmp(unreach, 34).hdr).toEqual({ type: 3, code: 3, checksum: 0x11ec, rest: 0 });
    expect(isIcmpError(3)).toBe(true);
    expect(isIcmpError(8)).toBe(false);
  });
  it('encode: computes the checksum over header and the data already after it', () => {
    const msg = echo.subarray(34);
    const b = garbage(msg.length + 10);
    b.set(msg.subarray(8), 5 + 8);
    const n = encodeIcmp({ type: 8, code: 0, checksum: null, rest: icmpEchoRest(0x1234, 1) }, b, 5, msg.length - 8);
    expect(n).toBe(8);
    expect(toHex(b.subarray(5, 5 + msg.length))).toBe(toHex(msg));
    expect(b[4]).toBe(0xa5);
    expect(internetChecksum(b, 5, 5 + msg.length)).toBe(0);
  });
  it('round trip', () => {
    for (const f of [echo, unreach, hex(FRAMES.icmpEchoReply)]) {
      const b = f.slice(34);
      b.fill(0xa5, 0, 8);
      encodeIcmp(decodeIcmp(f, 34).hdr, b, 0);
      expect(toHex(b)).toBe(toHex(f.subarray(34)));
    }
  });
  it('rejects truncated input', () => {
    expect(() => decodeIcmp(echo.subarray(0, 41), 34)).toThrow(WireError);
    expect(() => encodeIcmp({ type: 8, code: 0, checksum: null, rest: 0 }, new Uint8Array(10), 0, 4)).toThrow(/truncated/);
  });
});
