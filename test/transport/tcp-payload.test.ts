// What a data segment's payload is (output.ts payloadFor): a write sent whole in one segment is its
// own array (no view per segment); a write cut into segments gives views of it; bytes arrive intact.
import { describe, expect, it } from 'vitest';
import { MS } from '../../src/core/time.js';
import { RngFactory } from '../../src/core/rng.js';
import { TcpFlag } from '../../src/wire/types.js';
import { bernoulliLoss, ip } from './fake-net.js';
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

describe('TCP write queue (socket.ts q: pairs of a write\'s end and bytes)', () => {
  it('hundreds of writes, bytes and lengths only, across segments and a lossy link: the stream arrives whole (zeros for lengths), PSH ends each write sent last in its segment', () => {
    const { sim, net, ta, tb } = tcpPair(3, { loss: bernoulliLoss(new RngFactory(7).stream('loss'), 0.03, (pkt) => pkt.payloadLength > 0) });
    const writes: (Uint8Array | number)[] = [];
    for (let i = 0; i < 300; i++) {
      const len = 1 + ((i * 389) % 2100);
      writes.push(i % 3 === 2 ? len : Uint8Array.from({ length: len }, (_, k) => (i * 31 + k) & 0xff));
    }
    const expected: number[] = [];
    const ends = new Set<number>();
    for (const w of writes) {
      if (typeof w === 'number') expected.push(...new Array<number>(w).fill(0));
      else expected.push(...w);
      ends.add(expected.length);
    }
    const got: number[] = [];
    tb.listen(80, (s) => {
      s.onData = (d, len) => {
        if (d !== null) got.push(...d);
        else got.push(...new Array<number>(len).fill(0));
      };
    });
    ta.connect(SERVER, 80, (s) => {
      // In rounds, so later writes go to a queue whose acknowledged head was compacted away.
      for (let r = 0; r < 3; r++) sim.schedule(r * 200 * MS, () => writes.slice(r * 100, (r + 1) * 100).forEach((w) => s.send(w)));
    });
    sim.run({ until: 5000 * MS });
    expect(got.length).toBe(expected.length);
    expect(got).toEqual(expected);
    const isn = net.log.find((r) => r.from === 'client' && r.pkt.tcp!.flags & TcpFlag.SYN)!.pkt.tcp!.seq;
    for (const r of net.log) {
      const p = r.pkt;
      if (r.from !== 'client' || p.payloadLength === 0) continue;
      const end = (p.tcp!.seq - isn - 1 + p.payloadLength) >>> 0;
      expect(Boolean(p.tcp!.flags & TcpFlag.PSH)).toBe(ends.has(end));
    }
  });
});

describe('TCP retransmission queue segments (output.ts queueSeg)', () => {
  it('a request after the handshake and its FIN after the response reuse the SYN segment; a lost FIN is still resent right', () => {
    const { sim, net, ta, tb } = tcpPair();
    const req = Uint8Array.from({ length: 100 }, (_, i) => i);
    tb.listen(80, (s) => {
      s.onData = () => {
        s.send(new Uint8Array(50));
        s.close();
      };
    });
    let first: unknown = null;
    const c = ta.connect(SERVER, 80, (s) => {
      first = s.rtx[0]; // the acknowledged SYN's segment, kept for the first data
      expect(s.rtxHead).toBe(1);
      s.send(req);
      expect(s.rtx).toHaveLength(1);
      expect(s.rtx[0]).toBe(first);
      expect(s.rtx[0]!.syn).toBe(false);
      expect([s.rtx[0]!.start, s.rtx[0]!.end]).toEqual([1, 101]);
    });
    c.onEnd = () => c.close();
    // The client's FIN is lost once: it is resent from the reused segment.
    let finDrops = 0;
    net.loss = (pkt) => pkt.ip!.src !== SERVER && (pkt.tcp!.flags & 1) !== 0 && finDrops++ === 0;
    sim.run({ until: 5000 * MS });
    expect(first).not.toBeNull();
    const fins = net.log.map((r) => r.pkt).filter((p) => p.ip!.src !== SERVER && (p.tcp!.flags & 1) !== 0);
    expect(fins).toHaveLength(2);
    expect(fins[0]!.tcp!.seq).toBe(fins[1]!.tcp!.seq);
    expect(c.state === 'TIME_WAIT' || c.state === 'CLOSED').toBe(true);
    expect(finDrops).toBe(2);
  });
});
