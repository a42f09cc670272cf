import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/wire/error.js';
import { decodeTcp, decodeTcpOptions, encodeTcp, encodeTcpOptions, tcpHeaderLength } from '../../src/wire/tcp.js';
import { TcpFlag, type TcpHeader } from '../../src/wire/types.js';
import { garbage } from '../helpers/garbage.js';
import { FRAMES, hex, toHex } from '../helpers/vectors.js';

const SYN_HDR: TcpHeader = {
  srcPort: 50234, dstPort: 8080, seq: 0xa84ec533, ack: 0, flags: TcpFlag.SYN, window: 64240, checksum: 0x6156, urgent: 0,
  options: [
    { kind: 'mss', value: 1460 },
    { kind: 'sackPermitted' },
    { kind: 'timestamps', tsval: 0x7a410b62, tsecr: 0 },
    { kind: 'nop' },
    { kind: 'wscale', shift: 7 },
  ],
};

describe('tcp', () => {
  const syn = hex(FRAMES.tcpSyn);
  const rst = hex(FRAMES.tcpRstAck);
  it('decode: a real Linux SYN (mss 1460,sackOK,TS,nop,wscale 7)', () => {
    const { hdr, bytesRead } = decodeTcp(syn, 34);
    expect(bytesRead).toBe(40);
    expect(hdr).toEqual(SYN_HDR);
    expect(decodeTcp(rst, 34).hdr).toMatchObject({ flags: TcpFlag.RST | TcpFlag.ACK, ack: 0xa84ec534, options: [] });
  });
  it('encode: pseudo-header checksum, at an offset into garbage', () => {
    const b = garbage(50);
    expect(encodeTcp({ ...SYN_HDR, checksum: null }, b, 4, 0x0a630002, 0x0a630001, 40)).toBe(40);
    expect(toHex(b.subarray(4, 44))).toBe(toHex(syn.subarray(34)));
    expect(b[3]).toBe(0xa5);
    expect(b[44]).toBe(0xa5);
    expect(tcpHeaderLength(SYN_HDR)).toBe(40);
  });
  it('encode: checksum covers data already written after the header', () => {
    const data = new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n');
    const b = garbage(20 + data.length);
    b.set(data, 20);
    const hdr: TcpHeader = { ...SYN_HDR, flags: TcpFlag.PSH | TcpFlag.ACK, options: [], checksum: null };
    encodeTcp(hdr, b, 0, 1, 2, 20 + data.length);
    const c1 = (b[16]! << 8) | b[17]!;
    b[21]! ^= 1;
    encodeTcp(hdr, b, 0, 1, 2, 20 + data.length);
    expect((b[16]! << 8) | b[17]!).not.toBe(c1);
  });
  it('round trip', () => {
    for (const f of [syn, rst]) {
      const { hdr, bytesRead } = decodeTcp(f, 34);
      const b = garbage(bytesRead);
      encodeTcp(hdr, b, 0);
      expect(toHex(b)).toBe(toHex(f.subarray(34, 34 + bytesRead)));
    }
  });
  it('options: SACK blocks, unknown kinds, odd lengths and EOL padding survive in order', () => {
    const raw = hex('0101050a000000010000000201010f03ab0000');
    const opts = decodeTcpOptions(raw, 0, raw.length);
    expect(opts).toEqual([
      { kind: 'nop' }, { kind: 'nop' },
      { kind: 'sack', blocks: [[1, 2]] },
      { kind: 'nop' }, { kind: 'nop' },
      { kind: 'unknown', type: 15, data: hex('ab') },
      { kind: 'eol' },
    ]);
    const b = garbage(20);
    expect(encodeTcpOptions(opts, b, 0)).toBe(20);
    expect(toHex(b)).toBe(toHex(raw) + '00');
    // An MSS option with a wrong length stays lossless as unknown.
    expect(decodeTcpOptions(hex('020300'), 0, 3)).toEqual([{ kind: 'unknown', type: 2, data: hex('00') }]);
  });
  it('rejects truncated input', () => {
    expect(() => decodeTcp(syn.subarray(0, 34 + 39), 34)).toThrow(WireError);
    expect(() => decodeTcp(syn.subarray(0, 34 + 19), 34)).toThrow(/truncated/);
    const bad = syn.slice(34);
    bad[12] = 0x40;
    expect(() => decodeTcp(bad, 0)).toThrow(/data offset 4/);
    expect(() => decodeTcpOptions(hex('0204'), 0, 2)).toThrow(/runs past/);
    expect(() => decodeTcpOptions(hex('02'), 0, 1)).toThrow(/no length/);
    const tooMany: TcpHeader = { ...SYN_HDR, options: Array.from({ length: 41 }, () => ({ kind: 'nop' as const })) };
    expect(() => encodeTcp(tooMany, garbage(100), 0)).toThrow(/at most 40/);
  });
});
