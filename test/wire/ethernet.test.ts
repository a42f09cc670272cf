import { describe, expect, it } from 'vitest';
import { decodeEthernet, encodeEthernet, ETHERNET_HEADER_LENGTH } from '../../src/wire/ethernet.js';
import { WireError } from '../../src/wire/error.js';
import { EtherType } from '../../src/wire/types.js';
import { garbage } from '../helpers/garbage.js';
import { FRAMES, hex, toHex } from '../helpers/vectors.js';

describe('ethernet', () => {
  const frame = hex(FRAMES.arpRequest);
  it('decode', () => {
    const { hdr, bytesRead } = decodeEthernet(frame, 0);
    expect(bytesRead).toBe(14);
    expect(hdr).toEqual({ dst: 0xffffffffffff, src: 0x621db7add0ca, etherType: EtherType.ARP });
  });
  it('encode', () => {
    const b = garbage(20);
    expect(encodeEthernet({ dst: 0x1aa04199ce49, src: 0x621db7add0ca, etherType: EtherType.IPv4 }, b, 3)).toBe(ETHERNET_HEADER_LENGTH);
    expect(toHex(b)).toBe('a5a5a5' + '1aa04199ce49621db7add0ca0800' + 'a5a5a5');
  });
  it('round trip', () => {
    const { hdr } = decodeEthernet(frame, 0);
    const b = garbage(14);
    encodeEthernet(hdr, b, 0);
    expect(toHex(b)).toBe(toHex(frame.subarray(0, 14)));
  });
  it('rejects truncated input', () => {
    expect(() => decodeEthernet(frame.subarray(0, 13), 0)).toThrow(WireError);
    expect(() => decodeEthernet(frame, frame.length - 10)).toThrow(/truncated/);
    expect(() => encodeEthernet({ dst: 0, src: 0, etherType: 0 }, new Uint8Array(13), 0)).toThrow(WireError);
  });
});
