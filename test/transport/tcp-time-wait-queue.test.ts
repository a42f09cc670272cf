// TIME_WAIT expiries queued per layer (transport/tcp/timewait.ts TwQueue): once a record's inherited
// timer event has fired, it waits in its layer's expiry heap and only the heap's head has an event.
// Each record must still go at exactly its own time, one executed event per expiry, whatever order the
// records joined in, when records leave early (abort), and a run without a duration must end as before:
// foreground records keep it going, background ones (housekeeping) do not.
//
//   client 10.0.0.1 ──(50 µs, 1 Gb/s)──> server 10.0.0.2
import { describe, expect, it } from 'vitest';
import { MS, SEC } from '../../src/core/time.js';
import type { TcpSocket } from '../../src/transport/tcp/index.js';
import { TcpFlag } from '../../src/wire/types.js';
import { ip } from './fake-net.js';
import { tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');

/** `n` client connections opened at the given times (ms); each closes at once, the server answers with its FIN. */
function closers(startsMs: number[], lossy: boolean | ((port: number) => number) = false, finFrom = SERVER) {
  const p = tcpPair();
  p.tb.listen(80, (s) => (s.onEnd = () => s.close()));
  // The client's last ACKs (pure ACKs from the client after its FIN) reach the server; with `lossy`,
  // every third connection's server FIN is delayed by dropping the first copy (its RTO moves its TIME_WAIT later).
  // With a function: the first `drops(port)` copies of that connection's FIN from `finFrom` are dropped.
  const drops = lossy === true ? (port: number) => (port % 3 === 0 ? 1 : 0) : lossy === false ? () => 0 : lossy;
  const dropped = new Map<number, number>();
  if (lossy !== false)
    p.net.loss = (pkt) => {
      const t = pkt.tcp!;
      if (pkt.ip!.src !== finFrom || !(t.flags & TcpFlag.FIN)) return false;
      const port = finFrom === SERVER ? t.dstPort : t.srcPort;
      const n = dropped.get(port) ?? 0;
      if (n >= drops(port)) return false;
      dropped.set(port, n + 1);
      return true;
    };
  const socks: TcpSocket[] = [];
  const closedAt = new Map<TcpSocket, number>();
  for (const ms of startsMs)
    p.sim.schedule(ms * MS, () => {
      const c = p.ta.connect(SERVER, 80, (s) => s.close());
      c.onClose = () => closedAt.set(c, p.sim.now);
      socks.push(c);
    });
  return { ...p, socks, closedAt };
}

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
