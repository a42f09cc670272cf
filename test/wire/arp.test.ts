import { describe, expect, it } from 'vitest';
import { arpReply, arpRequest, ARP_LENGTH, decodeArp, encodeArp } from '../../src/wire/arp.js';
import { WireError } from '../../src/wire/error.js';
import { ArpOp } from '../../src/wire/types.js';
import { garbage } from '../helpers/garbage.js';
import { FRAMES, hex, toHex } from '../helpers/vectors.js';

describe('arp', () => {
  const req = hex(FRAMES.arpRequest);
  const rep = hex(FRAMES.arpReply);
  it('decode: a real Linux request and reply', () => {
    const { hdr, bytesRead } = decodeArp(req, 14);
    expect(bytesRead).toBe(ARP_LENGTH);
    expect(hdr).toEqual(arpRequest(0x621db7add0ca, 0x0a630001, 0x0a630002));
    expect(decodeArp(rep, 14).hdr).toEqual(arpReply(0x1aa04199ce49, 0x0a630002, 0x621db7add0ca, 0x0a630001));
    expect(decodeArp(rep, 14).hdr.op).toBe(ArpOp.REPLY);
  });
  it('encode: at an offset into garbage', () => {
    const b = garbage(40);
    expect(encodeArp(arpRequest(0x621db7add0ca, 0x0a630001, 0x0a630002), b, 5)).toBe(28);
    expect(toHex(b.subarray(5, 33))).toBe(toHex(req.subarray(14)));
    expect(b[4]).toBe(0xa5);
    expect(b[33]).toBe(0xa5);
  });
  it('round trip', () => {
    for (const f of [req, rep]) {
      const b = garbage(28);
      encodeArp(decodeArp(f, 14).hdr, b, 0);
      expect(toHex(b)).toBe(toHex(f.subarray(14)));
    }
  });
  it('rejects truncated input', () => {
    expect(() => decodeArp(req.subarray(0, 41), 14)).toThrow(WireError);
    const odd = req.slice(14);
    odd[4] = 8;
    expect(() => decodeArp(odd, 0)).toThrow(/hlen=8/);
  });
});
