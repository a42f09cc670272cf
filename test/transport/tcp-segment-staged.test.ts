// transport/tcp tcpSegment: the sequence and acknowledgment numbers go to the segment builder through a
// staging array (tcpSegmentStaged), not as arguments: each segment gets its own caller's numbers, at the
// 32-bit limits, new or given back, and a segment built after another does not keep the earlier ones.
import { describe, expect, it } from 'vitest';
import { releaseSegment } from '../../src/packet/packet.js';
import { tcpSegment } from '../../src/transport/tcp/output.js';

describe('tcpSegment (staged seq/ack)', () => {
  it('writes each call its own seq and ack, new segments and given-back ones alike', () => {
    const opts = [{ kind: 'nop' as const }];
    const cases: [number, number][] = [
      [0xffffffff, 0],
      [0, 0xffffffff],
      [0x80000000, 0x7fffffff],
      [0x3fffffff, 0x40000000],
      [12345, 0xdeadbeef],
    ];
    for (const recycle of [false, true]) {
      for (const [seq, ack] of cases) {
        const pkt = tcpSegment(0xc0a80001, 0x0a000002, 0, 7, 40000, 80, seq, ack, 0x10, 502, opts, 10, null, 3);
        expect([pkt.tcp!.seq, pkt.tcp!.ack]).toEqual([seq, ack]);
        expect(pkt.ip!.src).toBe(0xc0a80001);
        if (recycle) releaseSegment(pkt);
      }
    }
  });
});
