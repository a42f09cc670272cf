// transport/tcp/socket: a socket's handshake times (connectStartedAt, establishedAt) are kept as their
// doubles' two 32-bit words (core/f64-words), not as double fields (a heap number each: issue 13).
// Every value reads back bit for bit: the defaults (0, and -1 for establishedAt), times past 2^32 ns and
// near 2^52 ns, fractions of a nanosecond; the words are small integers; a connection's times are the
// clock's.
import { describe, expect, it } from 'vitest';
import { MS, SEC } from '../../src/core/time.js';
import type { TcpSocket } from '../../src/transport/tcp/index.js';
import { ip } from './fake-net.js';
import { tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');
const TIMES = ['connectStartedAt', 'establishedAt'] as const;
type TimeField = (typeof TIMES)[number];
const fieldsOf = (s: TcpSocket): Record<string, unknown> => s as unknown as Record<string, unknown>;

describe('TcpSocket times as words', () => {
  it('start at their defaults: 0, and -1 for establishedAt', () => {
    const { ta } = tcpPair();
    const s = ta.connect(SERVER, 80);
    const fresh = new (s.constructor as new (...a: unknown[]) => TcpSocket)(ta, {});
    expect(TIMES.map((f) => fresh[f])).toEqual([0, -1]);
    for (const f of TIMES) expect(Object.is(fresh[f], -0), f).toBe(false);
  });

  it('read back every value bit for bit, the words small integers and no double field in the object', () => {
    const { ta } = tcpPair();
    const s = ta.connect(SERVER, 80);
    const values = [0, -0, 1, -1, 0.5, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 32 + 0.25, 2 ** 52 - 1, 2 ** 52, 2 ** 52 + 2, 2 ** 53 - 1, 123_456_789_012.375, Infinity, -Infinity];
    for (const f of TIMES) {
      for (const v of values) {
        (s as unknown as Record<TimeField, number>)[f] = v;
        expect(Object.is(s[f], v), `${f} = ${v}`).toBe(true);
        const lo = fieldsOf(s)[`${f}Lo`];
        const hi = fieldsOf(s)[`${f}Hi`];
        expect([lo, hi].every((w) => typeof w === 'number' && w === ((w as number) | 0)), `${f} words`).toBe(true);
      }
    }
    // (the values stored are the words' only: no own property holds a time as a double)
    for (const [k, v] of Object.entries(fieldsOf(s))) if (typeof v === 'number' && k.endsWith('Lo')) expect(v | 0, k).toBe(v);
    for (const f of TIMES) expect(Object.prototype.hasOwnProperty.call(s, f), f).toBe(false);
  });

  it('a connection past 2^32 ns keeps the clock’s times: established, sent, received', () => {
    const { sim, ta, tb } = tcpPair();
    const served: TcpSocket[] = [];
    tb.listen(80, (s) => {
      served.push(s);
      s.onData = (_d, n) => {
        if (n > 0) s.send(1000);
      };
    });
    sim.schedule(5 * SEC, () => {}); // past 2^32 ns (4.29 s)
    sim.run({ until: 5 * SEC + 1 });
    const start = sim.now;
    expect(start).toBeGreaterThan(2 ** 32);
    let connectedAt = -1;
    const c = ta.connect(SERVER, 80, (s) => {
      connectedAt = sim.now;
      s.send(100);
    });
    expect(c.connectStartedAt).toBe(start);
    expect(c.establishedAt).toBe(-1);
    expect(c.rtoAt).toBeGreaterThan(start);
    sim.run({ until: start + 100 * MS });
    expect(c.state).toBe('ESTABLISHED');
    expect(c.establishedAt).toBe(connectedAt);
    expect(c.establishedAt).toBeGreaterThan(start);
    expect(c.lastSendTime).toBeGreaterThanOrEqual(connectedAt);
    expect(c.lastSendTime).toBeLessThanOrEqual(sim.now);
    expect(c.srtt).toBeGreaterThan(0);
    expect(served[0]!.establishedAt).toBeGreaterThan(start);
    expect(served[0]!.lastSendTime).toBeGreaterThan(start);
  });
});
