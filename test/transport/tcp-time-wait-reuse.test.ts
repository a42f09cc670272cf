// TIME_WAIT records are reused (transport/tcp/timewait.ts TimeWaitSock.take, as the kernel's tw slab):
// a record that went (expiry, RST, abort, reopen) waits in its layer's free list and takes a later
// connection's TIME_WAIT from the next instant on. Whatever still refers to the record as the old
// connection's must never see the new one: the expiry queue's lane slot the old record left, the old
// socket (its owner and the timer event the record inherited from it) and the table's
// key for the old 4-tuple. Each test reuses a record and fails if one of those reaches it.
//
//   client 10.0.0.1 ──(50 µs, 1 Gb/s)──> server 10.0.0.2
import { describe, expect, it } from 'vitest';
import { MS, SEC } from '../../src/core/time.js';
import { TimeWaitSock, type TcpSocket } from '../../src/transport/tcp/index.js';
import { armTimer } from '../../src/transport/tcp/timers.js';
import { TcpFlag } from '../../src/wire/types.js';
import { ip } from './fake-net.js';
import { RawPeer } from './raw-peer.js';
import { closers as timeWaitClosers, tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');

/** Client connections opened at the given times (ms), each closing at once (the client's socket owns its record). */
function closers(startsMs: number[]) {
  const p = timeWaitClosers(startsMs);
  /** When each client socket's last segment (its ACK of the server's FIN) left, by local port. */
  const lastSegAt = (port: number) => p.net.log.filter((e) => e.pkt.ip!.src === ip('10.0.0.1') && e.pkt.tcp!.srcPort === port).at(-1)!.t;
  return { ...p, lastSegAt };
}

const onlyRecord = (r: ReturnType<typeof closers>): TimeWaitSock => {
  const recs = r.ta.sockets().filter((s): s is TimeWaitSock => s instanceof TimeWaitSock);
  expect(recs).toHaveLength(1);
  return recs[0]!;
};

describe('TIME_WAIT record reuse', () => {
  it('a record that left its lane early is reused on that lane; the new connection goes at its own time, not at the slot the old one left', () => {
    const r = closers([0, 5000]);
    r.sim.run({ until: 2 * SEC }); // the first record is queued (its inherited event has fired)
    const rec = onlyRecord(r);
    expect(rec.timerEv).toBeNull();
    expect(rec.queued).toBeGreaterThanOrEqual(0);
    const oldExpiry = rec.expiry;
    r.socks[0]!.abort(); // it goes: its lane slot is left empty
    expect(rec.state).toBe('CLOSED');
    r.sim.run({ until: 6 * SEC }); // the second connection is in TIME_WAIT
    const again = onlyRecord(r);
    expect(again).toBe(rec); // the same object, now the second connection's
    expect(again).toMatchObject({ state: 'TIME_WAIT', localPort: r.socks[1]!.localPort, owner: r.socks[1] });
    expect(r.socks[0]!.state).toBe('CLOSED');
    // Past the old record's expiry: the empty slot it left is passed without an event, the new connection stays.
    const events = r.sim.eventsExecuted;
    r.sim.run({ until: oldExpiry + 1 * SEC });
    expect(r.sim.eventsExecuted).toBe(events);
    expect(onlyRecord(r)).toBe(rec);
    expect(r.socks[1]!.state).toBe('TIME_WAIT');
    expect(r.sim.run()).toBe('idle');
    expect(r.closedAt.get(r.socks[0]!)).toBe(2 * SEC);
    expect(r.closedAt.get(r.socks[1]!)).toBe(r.lastSegAt(r.socks[1]!.localPort) + 60 * SEC);
    expect(r.sim.now).toBe(r.closedAt.get(r.socks[1]!));
  });

  it('a record whose inherited timer event is still pending when it goes is reused before that event’s time; the cancelled event never reaches it', () => {
    const r = closers([0, 20]);
    r.sim.run({ until: 5 * MS }); // the first connection is in TIME_WAIT, its socket's stale RTO event inherited (~200 ms on)
    const rec = onlyRecord(r);
    const inherited = rec.timerEv!;
    expect(inherited).not.toBeNull();
    expect(inherited.time).toBeGreaterThan(100 * MS);
    expect(inherited.a).toBe(rec); // (timeWait rewrote the socket's pending event: it runs the record's timer)
    r.socks[0]!.abort();
    r.sim.run({ until: 30 * MS }); // the second connection's TIME_WAIT reuses the record
    expect(onlyRecord(r)).toBe(rec);
    expect(rec.owner).toBe(r.socks[1]);
    expect(rec.timerEv).not.toBe(inherited);
    // The inherited event was cancelled when the record went (letting go of it); the old socket let go of
    // the event when the record took it, and runs nothing it might arm.
    expect(inherited.cancelled).toBe(true);
    expect(inherited.a).toBeUndefined();
    expect(r.socks[0]!.timerEv).toBeNull();
    expect(r.socks[0]!.timerGone).toBe(true);
    r.sim.run({ until: inherited.time + 1 * MS });
    expect(onlyRecord(r)).toBe(rec);
    expect(rec.state).toBe('TIME_WAIT');
    expect(r.sim.run()).toBe('idle');
    expect(r.closedAt.get(r.socks[1]!)).toBe(r.lastSegAt(r.socks[1]!.localPort) + 60 * SEC);
  });

  it('the old owner cannot reach the reused record: its abort and close leave the new connection in TIME_WAIT', () => {
    const r = closers([0, 3000]);
    r.sim.run({ until: 1 * SEC });
    const rec = onlyRecord(r);
    const old = r.socks[0]!;
    old.abort();
    r.sim.run({ until: 4 * SEC });
    expect(onlyRecord(r)).toBe(rec);
    expect(old.tw).toBeNull();
    old.abort();
    old.close();
    expect(rec.state).toBe('TIME_WAIT');
    expect(r.socks[1]!.state).toBe('TIME_WAIT');
    expect(r.sim.run()).toBe('idle');
    expect(r.closedAt.get(old)).toBe(1 * SEC);
    expect(r.closedAt.get(r.socks[1]!)).toBe(r.lastSegAt(r.socks[1]!.localPort) + 60 * SEC);
  });

  it('a record is not reused in the instant it went (whoever made it go may still read it)', () => {
    const r = closers([0]);
    r.sim.run({ until: 1 * SEC });
    const rec = onlyRecord(r);
    // Another connection enters TIME_WAIT in the same instant as the record goes (its owner's onClose).
    let second: TcpSocket | null = null;
    r.socks[0]!.onClose = () => {
      second = r.ta.connect(SERVER, 80, (s) => s.close());
    };
    r.socks[0]!.abort();
    expect(rec.state).toBe('CLOSED');
    r.sim.run({ until: 2 * SEC });
    const now = onlyRecord(r);
    expect(now.owner).toBe(second);
    expect(now).toBe(rec); // taken later (the TIME_WAIT started ~0.5 ms after the abort)
    expect(rec.localPort).toBe(second!.localPort);
    // Two in the same instant: the first one's record went at `now`, so the second gets a new object.
    const p = closers([0]);
    p.sim.run({ until: 1 * SEC });
    const a = onlyRecord(p);
    const ta = p.ta as unknown as { twState: { freeCount: number } };
    const free = ta.twState.freeCount;
    p.socks[0]!.abort();
    expect(ta.twState.freeCount).toBe(free + 1);
    expect(a.expiry).toBe(p.sim.now); // when it went: reusable only after this instant
  });

  it('reused records on a busy client go exactly 60 s after their last ACKs, every one (a stream of records going and reused)', () => {
    // 300 connections 400 ms apart: from 60 s on, each record that goes is reused by the next TIME_WAIT.
    const starts = Array.from({ length: 300 }, (_, i) => i * 400);
    const r = closers(starts);
    const seen = new Set<TimeWaitSock>();
    for (let t = 1; t <= 130; t++) {
      r.sim.run({ until: t * SEC });
      for (const s of r.ta.sockets()) if (s instanceof TimeWaitSock) seen.add(s);
    }
    expect(r.sim.run()).toBe('idle');
    expect(r.socks).toHaveLength(300);
    for (const c of r.socks) expect(r.closedAt.get(c)).toBe(r.lastSegAt(c.localPort) + 60 * SEC);
    expect(r.ta.sockets()).toHaveLength(0);
    // ~150 alive at once (60 s / 0.4 s), so about half of the 300 connections reused a record.
    expect(seen.size).toBeLessThan(170);
    expect(seen.size).toBeGreaterThan(140);
  });

  describe('the table key of a reused record (the server closes first: its TIME_WAIT answers SYNs)', () => {
    const PORT1 = 40001;
    const PORT2 = 40002;
    const ISN = 5000;

    /** A RawPeer client connecting from `port` at `t0`; the podwire server closes at t0 + 10 ms and sits in TIME_WAIT. */
    function serverTimeWaits() {
      const p = tcpPair();
      const peer = new RawPeer(p.a);
      const accepted: TcpSocket[] = [];
      p.tb.listen(80, (s) => accepted.push(s));
      peer.onSegment = (pkt) => {
        const t = pkt.tcp!;
        if (t.flags & TcpFlag.FIN) peer.send(SERVER, { srcPort: t.dstPort, dstPort: 80, seq: ISN + 1, ack: t.seq + 1, flags: TcpFlag.ACK | TcpFlag.FIN });
      };
      const open = (port: number, t0: number) => {
        peer.send(SERVER, { srcPort: port, dstPort: 80, seq: ISN, flags: TcpFlag.SYN });
        p.sim.run({ until: t0 + 1 * MS });
        const synAck = peer.got.filter((g) => g.tcp!.dstPort === port && g.tcp!.flags & TcpFlag.SYN).at(-1)!.tcp!;
        peer.send(SERVER, { srcPort: port, dstPort: 80, seq: ISN + 1, ack: synAck.seq + 1, flags: TcpFlag.ACK });
        p.sim.run({ until: t0 + 10 * MS });
        const s = accepted.at(-1)!;
        s.close();
        s.orphan();
        p.sim.run({ until: t0 + 20 * MS });
        return synAck.seq;
      };
      return { ...p, peer, accepted, open };
    }

    it('after reuse, a SYN and a FIN on the old 4-tuple find no record (listener and RST); the new 4-tuple’s FIN is re-ACKed', () => {
      const p = serverTimeWaits();
      p.open(PORT1, 0);
      const rec = p.tb.sockets()[0] as TimeWaitSock;
      expect(rec).toMatchObject({ state: 'TIME_WAIT', remotePort: PORT1 });
      p.peer.send(SERVER, { srcPort: PORT1, dstPort: 80, seq: ISN + 2, flags: TcpFlag.RST }); // it goes
      p.sim.run({ until: 30 * MS });
      expect(p.tb.sockets()).toHaveLength(0);
      const iss2 = p.open(PORT2, 40 * MS);
      expect(p.tb.sockets()).toEqual([rec]);
      expect(rec).toMatchObject({ state: 'TIME_WAIT', remotePort: PORT2, rcvNxt32: ISN + 2, sndNxt32: (iss2 + 2) | 0 });
      // A retransmitted FIN of the old connection: no record for it any more, so a RST (not the record's re-ACK).
      const n = p.peer.got.length;
      p.peer.send(SERVER, { srcPort: PORT1, dstPort: 80, seq: ISN + 1, ack: 1, flags: TcpFlag.ACK | TcpFlag.FIN });
      p.sim.run({ until: 70 * MS });
      expect(p.peer.got.slice(n).map((g) => [g.tcp!.dstPort, g.tcp!.flags & TcpFlag.RST])).toEqual([[PORT1, TcpFlag.RST]]);
      // A SYN on the old 4-tuple with an old seq (a TIME_WAIT record would not let it reopen): the listener answers.
      p.peer.send(SERVER, { srcPort: PORT1, dstPort: 80, seq: ISN - 10, flags: TcpFlag.SYN });
      p.sim.run({ until: 80 * MS });
      const synAck = p.peer.got.slice(n + 1);
      expect(synAck.map((g) => [g.tcp!.dstPort, g.tcp!.flags, g.tcp!.ack])).toEqual([[PORT1, TcpFlag.SYN | TcpFlag.ACK, ISN - 9]]);
      // The new 4-tuple's retransmitted FIN is the record's: re-ACKed with the second connection's numbers.
      const m = p.peer.got.length;
      p.peer.send(SERVER, { srcPort: PORT2, dstPort: 80, seq: ISN + 1, ack: iss2 + 2, flags: TcpFlag.ACK | TcpFlag.FIN });
      p.sim.run({ until: 90 * MS });
      expect(p.peer.got.slice(m).map((g) => [g.tcp!.dstPort, g.tcp!.flags, g.tcp!.seq, g.tcp!.ack])).toEqual([[PORT2, TcpFlag.ACK, (iss2 + 2) >>> 0, ISN + 2]]);
      expect(rec).toMatchObject({ state: 'TIME_WAIT', remotePort: PORT2 });
    });
  });
  it('a timer a socket arms after its record took its event runs nothing: the record and the next connection are untouched', () => {
    const r = closers([0, 20]);
    r.sim.run({ until: 5 * MS }); // the first connection is in TIME_WAIT (its socket owns the record)
    const sk = r.socks[0]!;
    const rec = onlyRecord(r);
    expect(sk.timerGone).toBe(true);
    expect(sk.timerEv).toBeNull();
    // A deadline armed on the handed-over socket (nothing in the stack does this; the guard is what is tested):
    // its event fires but runs no timer (a retransmission timer run would reset rtoAt to Infinity and send).
    const sent = r.net.log.length;
    sk.rtoAt = r.sim.now + 1 * MS;
    armTimer(sk);
    expect(sk.timerEv).not.toBeNull();
    const events = r.sim.eventsExecuted;
    r.sim.run({ until: r.sim.now + 2 * MS });
    expect(r.sim.eventsExecuted).toBeGreaterThan(events);
    expect(sk.rtoAt).not.toBe(Infinity);
    expect(r.net.log.slice(sent).some((e) => e.pkt.ip!.src === ip('10.0.0.1') && e.pkt.tcp!.srcPort === sk.localPort)).toBe(false);
    expect(onlyRecord(r)).toBe(rec);
    expect(rec.state).toBe('TIME_WAIT');
    expect(r.sim.run()).toBe('idle');
    expect(r.closedAt.get(sk)).toBe(r.lastSegAt(sk.localPort) + 60 * SEC);
  });
});
