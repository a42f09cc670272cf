// Retransmission timeout and its backoff (RFC 6298; Linux tcp_retransmit_timer; ns-3 tcp-rto-test.cc):
// initial RTO 1 s (TCP_TIMEOUT_INIT), RTO = SRTT + max(4·RTTVAR, 200 ms) (TCP_RTO_MIN), doubled on each
// expiry (RFC 6298 5.5) up to 120 s (TCP_RTO_MAX), reset once new data is acknowledged, and the
// retransmission is the same segment (same seq, length and bytes).
//
//   client 10.0.0.1 ──(50 µs, 1 Gb/s; chosen segments dropped)──> server 10.0.0.2
import { describe, expect, it } from 'vitest';
import { MS, SEC } from '../../src/core/time.js';
import type { TcpSocket } from '../../src/transport/tcp/index.js';
import { TcpFlag } from '../../src/wire/types.js';
import { ip } from './fake-net.js';
import { dump, line, pattern, tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');
const CLIENT = ip('10.0.0.1');

describe('RTO backoff (RFC 6298)', () => {
  it('the first RTO is 1 s and doubles: SYN at 0, 1, 3, 7 s, the same SYN each time', () => {
    const { sim, net, ta } = tcpPair();
    net.blackholes.add(ip('10.9.9.9'));
    ta.connect(ip('10.9.9.9'), 80);
    sim.run({ until: 10 * SEC });
    const syns = dump(net);
    expect(syns.map((s) => s.t / MS)).toEqual([0, 1000, 3000, 7000]);
    expect(new Set(syns.map((s) => s.pkt.tcp!.seq)).size).toBe(1);
    expect(syns.map((s) => line(s).replace(/ > \d+/, ''))).toEqual(Array(4).fill('client: [S] seq 0 win 64240'));
  });

  it('data: first RTO = SRTT + 200 ms, then ×2 per expiry up to 120 s; each retransmission is the same segment', () => {
    const { sim, net, ta, tb } = tcpPair();
    tb.listen(80, () => {});
    let c: TcpSocket | null = null;
    ta.connect(SERVER, 80, (s) => (c = s));
    sim.run({ until: 10 * MS });
    net.loss = (p) => p.ip!.src === CLIENT; // the server hears nothing more
    const data = pattern(100, 3);
    const t0 = sim.now;
    c!.send(data);
    sim.run({ until: t0 + 1000 * SEC });
    const tx = dump(net).filter((s) => s.t >= t0);
    expect(new Set(tx.map(line))).toEqual(new Set(['client > server: [P.] seq 1:101 ack 1 win 502']));
    expect(tx.every((s) => s.pkt.payload !== null && Buffer.from(s.pkt.payload).equals(Buffer.from(data)))).toBe(true);
    const gaps = tx.slice(1).map((s, i) => s.t - tx[i]!.t);
    const rto = c!.srtt + 200 * MS; // 4·RTTVAR is far below TCP_RTO_MIN on a 100 µs path
    expect(Math.abs(gaps[0]! - rto)).toBeLessThan(1000); // rounding to the ns
    const capAt = gaps.findIndex((g) => g === 120 * SEC);
    expect(capAt).toBe(10); // 200 ms · 2^10 = 204.8 s > 120 s
    for (let i = 1; i < capAt; i++) expect(gaps[i]).toBe(gaps[0]! * 2 ** i);
    expect(gaps.slice(capAt).every((g) => g === 120 * SEC)).toBe(true);
    expect(ta.counters.TCPTimeouts).toBe(tx.length - 1);
  });

  it('an ACK of new data resets the backoff: the next loss waits one base RTO again', () => {
    const { sim, net, ta, tb } = tcpPair();
    tb.listen(80, () => {});
    let c: TcpSocket | null = null;
    ta.connect(SERVER, 80, (s) => (c = s));
    sim.run({ until: 10 * MS });
    let drops = 3; // the first write is lost three times (RTO, 2·RTO, 4·RTO), then gets through
    net.loss = (p) => p.ip!.src === CLIENT && p.payloadLength > 0 && drops-- > 0;
    c!.send(100);
    sim.run({ until: 5 * SEC });
    expect(c!.backoff).toBe(0);
    drops = 1;
    const t1 = sim.now;
    c!.send(100);
    sim.run({ until: 10 * SEC });
    const second = dump(net).filter((s) => s.t >= t1 && s.from === 'client' && s.len > 0);
    expect(second.map(line)).toEqual(['client > server: [P.] seq 101:201 ack 1 win 502', 'client > server: [P.] seq 101:201 ack 1 win 502']);
    const gap = second[1]!.t - second[0]!.t;
    expect(gap).toBeGreaterThanOrEqual(200 * MS);
    expect(gap).toBeLessThan(201 * MS);
  });

  it('SYN-ACK: retried 5 times (1, 3, 7, 15, 31 s after the first), then the request is dropped at 63 s', () => {
    const { sim, net, ta, tb } = tcpPair();
    tb.listen(80, () => {});
    // Every pure ACK from the client is lost, so the server's child never leaves SYN_RECV.
    net.loss = (p) => p.ip!.src === CLIENT && p.tcp!.flags === TcpFlag.ACK;
    ta.connect(SERVER, 80);
    sim.run({ until: 1 * MS });
    const first = dump(net).find((s) => s.from === 'server')!.t;
    sim.run({ until: first + 63 * SEC - 1 });
    expect(tb.sockets().map((s) => s.state)).toEqual(['SYN_RECV']);
    sim.run({ until: first + 63 * SEC });
    expect(tb.sockets()).toHaveLength(0);
    const synAcks = dump(net).filter((s) => s.from === 'server');
    expect(synAcks.map((s) => line(s))).toEqual(Array(6).fill('server > client: [S.] seq 0 ack 1 win 65160'));
    expect(synAcks.map((s) => Math.round((s.t - synAcks[0]!.t) / SEC))).toEqual([0, 1, 3, 7, 15, 31]);
  });
});
