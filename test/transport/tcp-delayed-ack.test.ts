// Delayed ACK (RFC 9293 3.8.6.3, RFC 5681 4.2; Linux tcp_event_data_recv, __tcp_ack_snd_check,
// tcp_send_delayed_ack, tcp_delack_timer; ns-3 tcp-datasentcb / delayed-ack tests): quick-ACK mode at
// the start of a connection ACKs every segment at once; after it, a lone segment waits
// TCP_DELACK_MIN = 40 ms, a bulk stream is ACKed every second full-sized segment, and out-of-order
// data is ACKed at once.
//
//   client 10.0.0.1 ──(50 µs, 1 Gb/s)──> server 10.0.0.2
import { describe, expect, it } from 'vitest';
import { MS, SEC } from '../../src/core/time.js';
import type { TcpSocket } from '../../src/transport/tcp/index.js';
import { ip } from './fake-net.js';
import { dropFirstSend, dump, line, tcpPair, type DumpSeg } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');

/** 20 small writes 100 ms apart on a TCP_NODELAY connection; each data segment with the ACK that answers it. */
function smallWrites() {
  const p = tcpPair();
  p.tb.listen(80, () => {});
  let c: TcpSocket | null = null;
  p.ta.connect(SERVER, 80, (s) => (c = s), { noDelay: true });
  p.sim.run({ until: 1 * MS });
  for (let i = 0; i < 20; i++) p.sim.scheduleAt(10 * MS + i * 100 * MS, () => c!.send(100));
  p.sim.run({ until: 3 * SEC });
  const segs = dump(p.net);
  const pairs = segs
    .filter((s) => s.from === 'client' && s.len > 0)
    .map((d) => ({ d, a: segs.find((s) => s.from === 'server' && s.ack === d.end)! }));
  return { ...p, pairs };
}

describe('delayed ACK', () => {
  it('quick-ACK mode: each of the first 16 segments is ACKed the moment it arrives', () => {
    const { net, pairs } = smallWrites();
    for (const { d, a } of pairs.slice(0, 16)) expect(a.t).toBe(net.arrival(d.t, d.pkt));
  });

  it('after quick-ACK mode a lone segment is ACKed 40 ms after it arrives (TCP_DELACK_MIN), by the delack timer', () => {
    const { net, tb, pairs } = smallWrites();
    const late = pairs.slice(16);
    expect(late).toHaveLength(4);
    for (const { d, a } of late) {
      expect(a.t - net.arrival(d.t, d.pkt)).toBe(40 * MS);
      // 100-byte segments do not grow rcv_ssthresh (tcp_event_data_recv: skb->len >= 128 only): the window stays the handshake's.
      expect(line(a)).toBe(`server > client: [.] seq 1 ack ${d.end} win 510`);
    }
    expect(tb.counters.DelayedACKs).toBe(4);
  });

  it('bulk transfer: after quick-ACK mode, one ACK per two full-sized segments, sent when the second arrives', () => {
    const { sim, net, ta, tb } = tcpPair();
    tb.listen(80, () => {});
    ta.connect(SERVER, 80, (s) => s.send(200 * 1448));
    sim.run({ until: 1 * SEC });
    const segs = dump(net);
    const acks = segs.filter((s) => s.from === 'server' && s.ack > 1);
    // The first ACKs answer single segments (quick-ACK), then the step is two segments.
    const steps = acks.slice(1).map((s, i) => (s.ack - acks[i]!.ack) / 1448);
    const quick = steps.findIndex((x) => x !== 1);
    expect(quick).toBeGreaterThanOrEqual(10);
    expect(quick).toBeLessThanOrEqual(16);
    expect(steps.slice(quick).every((x) => x === 2)).toBe(true);
    // Each two-segment ACK leaves when the segment it acknowledges arrives: no timer involved.
    const byEnd = new Map<number, DumpSeg>(segs.filter((s) => s.from === 'client' && s.len > 0).map((s) => [s.end, s]));
    for (const a of acks.slice(quick + 1)) {
      const d = byEnd.get(a.ack)!;
      expect(a.t).toBe(net.arrivals.get(d.pkt));
    }
    expect(tb.counters.DelayedACKs).toBe(0);
    expect(acks.at(-1)!.ack).toBe(1 + 200 * 1448);
  });

  it('an out-of-order segment is ACKed at once, even after quick-ACK mode (RFC 5681 4.2)', () => {
    const { sim, net, ta, tb } = tcpPair();
    net.loss = dropFirstSend(net, 'client', [1 + 100 * 1448]);
    tb.listen(80, () => {});
    ta.connect(SERVER, 80, (s) => s.send(200 * 1448));
    sim.run({ until: 1 * SEC });
    const segs = dump(net);
    const next = segs.find((s) => s.from === 'client' && s.seq === 1 + 101 * 1448)!;
    const dup = segs.find((s) => s.from === 'server' && s.sack.length > 0)!;
    expect(line(dup)).toBe(`server > client: [.] seq 1 ack ${1 + 100 * 1448} win ${dup.win} sack {${next.seq}:${next.end}}`);
    expect(dup.t).toBe(net.arrivals.get(next.pkt));
  });
});
