// Fast retransmit (RFC 5681 3.2, RFC 6675; ns-3 tcp-fast-retr-test.cc): one lost data segment is
// resent when the third duplicate ACK arrives, not at the RTO, and it is the same segment.
//
//   client 10.0.0.1 ──(50 µs, 1 Gb/s; segment 1 + 20·1448 lost once)──> server 10.0.0.2
//
// Assertions are on the segments as tcpdump on the path would list them (test/transport/tcp-helpers dump).
import { describe, expect, it } from 'vitest';
import { SEC } from '../../src/core/time.js';
import { ip } from './fake-net.js';
import { dropFirstSend, dump, line, tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');
const LOST = 1 + 20 * 1448; // relative seq of the 21st data segment

function run(sack: boolean) {
  const p = tcpPair(1, {}, { sack });
  p.net.loss = dropFirstSend(p.net, 'client', [LOST]);
  let got = 0;
  p.tb.listen(80, (s) => (s.onData = (_d, l) => (got += l)));
  const c = p.ta.connect(SERVER, 80, (s) => s.send(40 * 1448));
  p.sim.run({ until: 2 * SEC });
  const segs = dump(p.net);
  const dupAcks = segs.filter((s) => s.from === 'server' && s.ack === LOST);
  const resent = segs.filter((s) => s.from === 'client' && s.seq === LOST && s.len > 0);
  return { ...p, c, got, segs, dupAcks, resent };
}

describe('fast retransmit', () => {
  it('with SACK: resends the lost segment when the third duplicate ACK arrives, same seq and length', () => {
    const { net, ta, c, got, segs, dupAcks, resent } = run(true);
    expect(got).toBe(40 * 1448);
    // The first ACK for LOST is the cumulative one; each later one is a duplicate whose SACK block grows by one segment.
    expect(dupAcks.slice(0, 4).map(line)).toEqual([
      'server > client: [.] seq 1 ack 28961 win 512',
      'server > client: [.] seq 1 ack 28961 win 512 sack {30409:31857}',
      'server > client: [.] seq 1 ack 28961 win 512 sack {30409:33305}',
      'server > client: [.] seq 1 ack 28961 win 512 sack {30409:34753}',
    ]);
    expect(resent.map(line)).toEqual(['client > server: [.] seq 28961:30409 ack 1 win 502', 'client > server: [.] seq 28961:30409 ack 1 win 502']);
    // The retransmission leaves the client the moment the third duplicate ACK reaches it (tcp_fastretrans_alert).
    const third = dupAcks[3]!;
    expect(resent[1]!.t).toBe(net.arrival(third.t, third.pkt));
    expect(resent[1]!.pkt.payloadLength).toBe(resent[0]!.pkt.payloadLength);
    // Nothing else was resent, and no timer expired.
    expect(segs.filter((s) => s.from === 'client' && s.len > 0).length).toBe(41);
    expect(ta.counters).toMatchObject({ RetransSegs: 1, TCPFastRetrans: 1, TCPSackRecovery: 1, TCPRenoRecovery: 0, TCPTimeouts: 0 });
    // The last ACK covers everything; recovery is over (cwnd = ssthresh, tcp_end_cwnd_reduction).
    expect(segs.at(-1)!.ack).toBe(1 + 40 * 1448);
    expect(c.caState).toBe('open');
    expect(c.cwnd).toBe(c.ssthresh);
  });

  it('without SACK (NewReno): three plain duplicate ACKs trigger the same retransmission', () => {
    const { net, ta, got, dupAcks, resent } = run(false);
    expect(got).toBe(40 * 1448);
    expect(dupAcks.slice(0, 4).map(line)).toEqual(Array(4).fill('server > client: [.] seq 1 ack 28961 win 512'));
    expect(dupAcks.every((s) => s.pkt.tcp!.options.every((o) => o.kind !== 'sack'))).toBe(true);
    expect(resent).toHaveLength(2);
    const third = dupAcks[3]!;
    expect(resent[1]!.t).toBe(net.arrival(third.t, third.pkt));
    expect(ta.counters).toMatchObject({ RetransSegs: 1, TCPFastRetrans: 1, TCPSackRecovery: 0, TCPRenoRecovery: 1, TCPTimeouts: 0 });
  });

  it('two duplicate ACKs are not enough: before the third, the lost segment is not resent', () => {
    const { segs, dupAcks, resent } = run(true);
    const second = dupAcks[2]!;
    const beforeThird = segs.filter((s) => s.from === 'client' && s.t <= dupAcks[3]!.t && s.t > second.t);
    expect(beforeThird.every((s) => s.seq !== LOST)).toBe(true);
    expect(resent[1]!.t).toBeGreaterThan(dupAcks[3]!.t);
  });
});
