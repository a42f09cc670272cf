// The socket's one timer event is re-armed lazily (timers.ts armTimer): a deadline that moves LATER
// (each ACK of new data restarts the RTO) leaves the pending event alone — no cancel, no new event —
// and the event, when it fires before the deadline, re-arms itself at the deadline then. Only a deadline
// that moves EARLIER replaces the event. This is what keeps re-arming cheap; the scheduler's order
// (and so every capture and stats.json) depends on it, so a change to it is a change of outputs.
//
//   client 10.0.0.1 ──(50 µs, 1 Gb/s)──> server 10.0.0.2
import { describe, expect, it } from 'vitest';
import { MS, SEC } from '../../src/core/time.js';
import type { SimEvent } from '../../src/core/scheduler.js';
import type { TcpSocket } from '../../src/transport/tcp/index.js';
import { TcpFlag } from '../../src/wire/types.js';
import { ip } from './fake-net.js';
import { tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');

describe('TCP timer re-arm (lazy, one event per socket)', () => {
  it('RTO restarts to a later deadline keep the pending event; it fires at its own time and re-arms once at the deadline', () => {
    const { sim, net, tb, ta } = tcpPair();
    tb.listen(80, () => {});
    let c: TcpSocket | null = null;
    ta.connect(SERVER, 80, (s) => (c = s));
    sim.run({ until: 10 * MS });
    const sk = c!;
    sk.send(100);
    sim.run({ until: sim.now + MS }); // acknowledged
    const ev = sk.timerEv as SimEvent;
    expect(ev).not.toBeNull();
    const firesAt = ev.time;
    // 50 writes, each acknowledged: every send arms the RTO at now + RTO, later than the pending event.
    let lastRtoAt = 0;
    for (let i = 0; i < 50 && sim.now + 2 * MS < firesAt; i++) {
      sk.send(100);
      lastRtoAt = sk.rtoAt;
      expect(lastRtoAt).toBeGreaterThan(firesAt);
      expect(sk.timerEv).toBe(ev);
      expect(ev.cancelled).toBe(false);
      sim.run({ until: sim.now + MS });
      expect(sk.timerEv).toBe(ev);
    }
    expect(lastRtoAt).toBeGreaterThan(0);
    // One more write whose ACK never comes: its deadline is later than the pending event, which fires
    // at its own time and re-arms itself (the same object, placed again: no new event) at the deadline.
    net.loss = (p) => p.ip!.src === SERVER;
    sk.send(100);
    const deadline = sk.rtoAt;
    const firstSend = sim.now;
    const executed = sim.eventsExecuted;
    sim.run({ until: firesAt });
    expect(sim.eventsExecuted).toBeGreaterThan(executed);
    expect(sk.timerEv).toBe(ev);
    expect([ev.time, ev.popped, ev.cancelled]).toEqual([deadline, false, false]);
    expect(sk.timerRan).toBeNull();
    expect(deadline - firstSend).toBeLessThan(SEC);
  });

  it('an RTO moved earlier replaces the pending event (the handshake 1 s RTO gives way to SRTT + 200 ms)', () => {
    const { sim, tb, ta } = tcpPair();
    tb.listen(80, () => {});
    let c: TcpSocket | null = null;
    const client = ta.connect(SERVER, 80, (s) => (c = s));
    const synEv = client.timerEv as SimEvent;
    expect(synEv.time).toBe(1 * SEC); // TCP_TIMEOUT_INIT
    sim.run({ until: 10 * MS });
    expect(synEv.cancelled).toBe(false); // handshake done, nothing outstanding: the 1 s event stays, stale
    c!.send(100);
    expect(synEv.cancelled).toBe(true);
    expect(c!.timerEv!.time).toBe(c!.rtoAt);
    expect(c!.rtoAt).toBeLessThan(synEv.time);
  });
  it("a TIME_WAIT record's inherited event, once it fired, is the layer's next new socket's first timer event (once)", () => {
    const { sim, net, tb, ta } = tcpPair();
    tb.listen(80, (s) => (s.onEnd = () => s.close()));
    const first = ta.connect(SERVER, 80, (s) => s.orphan());
    sim.run({ until: 10 * MS });
    // In TIME_WAIT: the record holds the socket's pending event (the handshake's 1 s RTO, stale).
    expect(first.state).toBe('CLOSED');
    const [tw] = ta.sockets();
    expect(tw!.state).toBe('TIME_WAIT');
    const ev = tw!.timerEv as SimEvent;
    expect(ev).not.toBeNull();
    expect(ta.spareTimerEv).toBeNull();
    sim.run({ until: ev.time });
    // It ran (the record now waits in the layer's expiry queue): nothing holds it but the layer.
    expect(tw!.timerEv).toBeNull();
    expect(ta.spareTimerEv).toBe(ev);
    expect(ev.popped).toBe(true);
    // The next socket's SYN arms its RTO with that event, placed as a new one; the one after makes its own.
    net.loss = (p) => p.ip!.src === SERVER; // (no SYN-ACK: the SYN is retransmitted by that event)
    const second = ta.connect(SERVER, 80, () => {});
    expect(second.timerEv).toBe(ev);
    expect(ta.spareTimerEv).toBeNull();
    expect([ev.popped, ev.cancelled, ev.time]).toEqual([false, false, sim.now + SEC]);
    const third = ta.connect(SERVER, 81, () => {});
    expect(third.timerEv).not.toBe(ev);
    const sent = net.log.length;
    const at = sim.now;
    sim.run({ until: at + SEC + MS });
    const syns = net.log.slice(sent).filter((r) => r.pkt.tcp!.flags === TcpFlag.SYN);
    expect(syns.map((r) => [r.t - at, r.pkt.tcp!.srcPort])).toEqual([
      [SEC, second.localPort],
      [SEC, third.localPort],
    ]);
    expect(second.timerEv).toBe(ev);
  });
});
