// encodeUdp / encodeTcp with a known data sum (`dataSum`): the checksum equals the one computed over the
// data bytes, and the data bytes are not read (packet/serialize passes 0 for zero payloads).
import { describe, expect, it } from 'vitest';
import { checksumAdd } from '../../src/wire/checksum.js';
import { encodeTcp } from '../../src/wire/tcp.js';
import { TcpFlag, type TcpHeader } from '../../src/wire/types.js';
import { encodeUdp } from '../../src/wire/udp.js';

const src = 0x0a000001;
const dst = 0x0a000202;

describe('dataSum in the UDP and TCP encoders', () => {
  for (const n of [0, 1, 64, 1399]) {
    it(`UDP, ${n} data bytes, zero and non-zero`, () => {
      for (const fill of [0, 0x5a]) {
        const a = new Uint8Array(8 + n).fill(fill, 8);
        const b = a.slice();
        encodeUdp({ srcPort: 4000, dstPort: 9, length: 8 + n, checksum: null }, a, 0, src, dst, 8 + n);
        encodeUdp({ srcPort: 4000, dstPort: 9, length: 8 + n, checksum: null }, b, 0, src, dst, 8 + n, checksumAdd(0, b, 8, 8 + n));
        expect(b).toEqual(a);
      }
    });
    it(`TCP with options, ${n} data bytes`, () => {
      const hdr = (): TcpHeader => ({ srcPort: 4000, dstPort: 80, seq: 123456, ack: 654321, flags: TcpFlag.ACK | TcpFlag.PSH, window: 502, checksum: null, urgent: 0, options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 77, tsecr: 66 }] });
      for (const fill of [0, 0xc3]) {
        const a = new Uint8Array(32 + n).fill(fill, 32);
        const b = a.slice();
        encodeTcp(hdr(), a, 0, src, dst, 32 + n);
        encodeTcp(hdr(), b, 0, src, dst, 32 + n, checksumAdd(0, b, 32, 32 + n));
        expect(b).toEqual(a);
      }
    });
  }
  it('the data bytes are not read when dataSum is given (a wrong sum gives another checksum)', () => {
    const a = new Uint8Array(8 + 64).fill(1, 8);
    const b = a.slice();
    encodeUdp({ srcPort: 1, dstPort: 2, length: 72, checksum: null }, a, 0, src, dst, 72);
    encodeUdp({ srcPort: 1, dstPort: 2, length: 72, checksum: null }, b, 0, src, dst, 72, 0);
    expect(b.subarray(6, 8)).not.toEqual(a.subarray(6, 8));
  });
});
