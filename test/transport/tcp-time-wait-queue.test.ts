// TIME_WAIT expiries queued per layer (transport/tcp/timewait.ts TwQueue): once a record's inherited
// timer event has fired, it waits in its layer's expiry heap and only the heap's head has an event.
// Each record must still go at exactly its own time, one executed event per expiry, whatever order the
// records joined in, when records leave early (abort), and a run without a duration must end as before:
// foreground records keep it going, background ones (housekeeping) do not.
//
//   client 10.0.0.1 ──(50 µs, 1 Gb/s)──> server 10.0.0.2
import { describe, expect, it } from 'vitest';
import { SEC } from '../../src/core/time.js';
import type { TcpSocket } from '../../src/transport/tcp/index.js';
import { ip } from './fake-net.js';
import { closers, tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');

/** When each client socket's last segment (its ACK of the server's FIN) left, by local port. */
function lastSegAt(net: ReturnType<typeof tcpPair>['net']): Map<number, number> {
  const m = new Map<number, number>();
  for (const e of net.log) if (e.pkt.ip!.src === ip('10.0.0.1')) m.set(e.pkt.tcp!.srcPort, e.t);
  return m;
}

describe('TIME_WAIT expiry queue', () => {
  it('40 records joining out of expiry order (some FINs retransmitted) each go exactly 60 s after their last ACK, one event each', () => {
    const starts = Array.from({ length: 40 }, (_, i) => (i * 37) % 250);
    const r = closers(starts, true);
    expect(r.sim.run()).toBe('idle');
    const last = lastSegAt(r.net);
    expect(r.socks).toHaveLength(40);
    for (const c of r.socks) expect(r.closedAt.get(c)).toBe(last.get(c.localPort)! + 60 * SEC);
    expect(r.ta.sockets()).toHaveLength(0);
    // The run ends at the last expiry (nothing else is left then).
    expect(r.sim.now).toBe(Math.max(...r.closedAt.values()));
  });

  it('120 records joining in many interleaved orders (client FINs sent 1–8 times) go at their own times', () => {
    // A client FIN retransmitted k times leaves a stale RTO event 2^k × 200 ms on, which the record
    // inherits: records join up to seconds after the ones behind them in expiry order, in more
    // interleaved streams than the queue has lanes (records wait in its heap too).
    const starts = Array.from({ length: 120 }, (_, i) => (i * 5303) % 20000);
    const r = closers(starts, (port) => (port * 7) % 8, ip('10.0.0.1'));
    expect(r.sim.run()).toBe('idle');
    const last = lastSegAt(r.net);
    expect(r.socks).toHaveLength(120);
    for (const c of r.socks) expect(r.closedAt.get(c)).toBe(last.get(c.localPort)! + 60 * SEC);
    expect(r.ta.sockets()).toHaveLength(0);
    expect(r.sim.now).toBe(Math.max(...r.closedAt.values()));
  });

  it('executes the same events as the connections run one at a time, apart (one expiry event per record)', () => {
    const one = closers([0]);
    one.sim.run();
    const perConn = one.sim.eventsExecuted - 1; // less the event that opened it
    const many = closers(Array.from({ length: 25 }, (_, i) => i * 1000)); // 1 s apart: they do not meet on the wire
    many.sim.run();
    expect(many.sim.eventsExecuted - 25).toBe(25 * perConn);
  });

  it('a record aborted at the head or in the middle goes at once; the others keep their times', () => {
    const r = closers([0, 10, 20, 30, 40]);
    r.sim.run({ until: 10 * SEC }); // all in TIME_WAIT, queued (their inherited events have fired)
    expect(r.ta.sockets().map((s) => s.state)).toEqual(Array(5).fill('TIME_WAIT'));
    const last = lastSegAt(r.net);
    r.socks[0]!.abort(); // the head
    r.socks[2]!.abort(); // the middle
    expect(r.closedAt.get(r.socks[0]!)).toBe(10 * SEC);
    expect(r.closedAt.get(r.socks[2]!)).toBe(10 * SEC);
    expect(r.sim.run()).toBe('idle');
    for (const i of [1, 3, 4]) expect(r.closedAt.get(r.socks[i]!)).toBe(last.get(r.socks[i]!.localPort)! + 60 * SEC);
    expect(r.sim.now).toBe(last.get(r.socks[4]!.localPort)! + 60 * SEC);
  });

  it('records joining after others left early (emptied lanes) still go at their own times', () => {
    // Waves of connections, each with FINs retransmitted 0–3 times (records join late and out of order,
    // in several lanes); between waves the records queued so far are aborted in a pattern that empties
    // whole lanes (the lane the last record joined among them), so later records join lanes whose slots
    // are all empty and may go ahead of a head in another lane.
    const starts = [
      ...Array.from({ length: 30 }, (_, i) => (i * 131) % 900),
      ...Array.from({ length: 30 }, (_, i) => 3000 + ((i * 977) % 2500)),
      ...Array.from({ length: 30 }, (_, i) => 9000 + ((i * 389) % 700)),
    ];
    const r = closers(starts, (port) => (port * 5) % 4, ip('10.0.0.1'));
    const aborted = new Set<TcpSocket>();
    for (const [until, pick] of [
      [2.9, (i: number) => i % 2 === 0],
      [8.5, (i: number) => i % 3 !== 1],
    ] as const) {
      r.sim.run({ until: until * SEC });
      r.socks.forEach((c, i) => {
        if (c.state === 'TIME_WAIT' && pick(i)) {
          c.abort();
          aborted.add(c);
        }
      });
    }
    expect(aborted.size).toBeGreaterThan(20);
    expect(r.sim.run()).toBe('idle');
    const last = lastSegAt(r.net);
    expect(r.socks).toHaveLength(90);
    for (const c of r.socks) if (!aborted.has(c)) expect(r.closedAt.get(c)).toBe(last.get(c.localPort)! + 60 * SEC);
    expect(r.ta.sockets()).toHaveLength(0);
  });

  it('a record joining after the lane it would follow was emptied by an abort goes first, at its own time, ahead of the old head', () => {
    // A (opened at 0, its FIN sent 4 times) joins at ~3.0 s with a key of ~61.4 s, behind X (opened at
    // 2 s, FIN once: key ~62.0 s, joined at ~2.2 s), so the two wait in different lanes and A is the
    // head. A is aborted (its lane is left empty: syncHead passes the emptied slot); N (opened at 50 ms,
    // FIN 4 times: key ~61.45 s) then joins, later than A's key and earlier than X's: it must become the
    // head and go first. (The lane A left is not the one the last-lane shortcut of TwQueue.push appends
    // to: every public operation ends with syncHead, which passes a lane's emptied front slots, so a lane
    // with slots left always has a live front, at or before the head.)
    const drops = [3, 3, 0]; // by socket, in the order they open: A, N, X
    const r = closers([0, 50, 2000], (port) => drops[r.socks.findIndex((c) => c.localPort === port)] ?? 0, ip('10.0.0.1'));
    r.sim.run({ until: 3.02 * SEC });
    const [a, n, x] = r.socks as [TcpSocket, TcpSocket, TcpSocket];
    expect([a.state, x.state, n.state]).toEqual(['TIME_WAIT', 'TIME_WAIT', 'TIME_WAIT']);
    a.abort();
    expect(r.sim.run()).toBe('idle');
    const last = lastSegAt(r.net);
    expect(r.closedAt.get(n)).toBe(last.get(n.localPort)! + 60 * SEC);
    expect(r.closedAt.get(x)).toBe(last.get(x.localPort)! + 60 * SEC);
    expect(r.closedAt.get(n)!).toBeLessThan(r.closedAt.get(x)!);
  });

  it('a queued record aborted last leaves nothing behind: the run ends at the abort, no expiry event fires', () => {
    const r = closers([0, 10]);
    r.sim.run({ until: 10 * SEC }); // both queued
    expect(r.ta.sockets().map((s) => s.state)).toEqual(['TIME_WAIT', 'TIME_WAIT']);
    const ev0 = r.sim.eventsExecuted;
    r.socks[0]!.abort();
    r.socks[1]!.abort(); // the last one: nothing expires after it
    expect(r.ta.sockets()).toHaveLength(0);
    expect(r.sim.run()).toBe('idle');
    expect(r.sim.now).toBe(10 * SEC);
    expect(r.sim.eventsExecuted).toBe(ev0);
  });

  it('records made by background events do not keep a run without a duration going; foreground ones do', () => {
    const p = tcpPair();
    p.tb.listen(80, (s) => (s.onEnd = () => s.close()));
    p.sim.inBackground(() => p.sim.schedule(0, () => p.ta.connect(SERVER, 80, (s) => s.close())));
    p.sim.run({ until: 1 * SEC }); // the background connection opens and closes: its record is queued
    expect(p.ta.sockets().map((s) => s.state)).toEqual(['TIME_WAIT']);
    expect(p.sim.run()).toBe('idle'); // only its (background) expiry is left
    expect(p.sim.now).toBe(1 * SEC);
    expect(p.ta.sockets().map((s) => s.state)).toEqual(['TIME_WAIT']);
    let closed = -1;
    const c = p.ta.connect(SERVER, 80, (s) => s.close());
    c.onClose = () => (closed = p.sim.now);
    expect(p.sim.run()).toBe('idle');
    expect(closed).toBe(p.sim.now);
    expect(p.sim.now).toBeGreaterThan(60 * SEC);
    // The background record went on the way (its time came first); both are gone.
    expect(p.ta.sockets()).toHaveLength(0);
  });
});
