// What a data segment's payload is (output.ts payloadFor): a write sent whole in one segment is its
// own array (no view per segment); a write cut into segments gives views of it; bytes arrive intact.
import { describe, expect, it } from 'vitest';
import { MS } from '../../src/core/time.js';
import { ip } from './fake-net.js';
import { tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');

describe('TCP segment payloads', () => {
  it('a whole write is its own array; a cut one, views of it', () => {
    const { sim, net, ta, tb } = tcpPair();
    const small = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const big = Uint8Array.from({ length: 4000 }, (_, i) => (i * 7) & 0xff);
    const got: number[] = [];
    tb.listen(80, (s) => {
      s.onData = (d) => {
        if (d !== null) got.push(...d);
      };
    });
    ta.connect(SERVER, 80, (s) => {
      s.send(small);
      s.send(big);
    });
    sim.run({ until: 100 * MS });
    const data = net.log.map((r) => r.pkt).filter((p) => p.payloadLength > 0);
    expect(data.map((p) => p.payloadLength)).toEqual([300, 1448, 1448, 1104]);
    expect(data[0]!.payload).toBe(small);
    for (const p of data.slice(1)) {
      expect(p.payload).not.toBe(big);
      expect(p.payload!.buffer).toBe(big.buffer);
    }
    expect(got).toEqual([...small, ...big]);
  });
});
