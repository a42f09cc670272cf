// SACK loss recovery (RFC 2018 blocks, RFC 6675 scoreboard, RFC 6937 PRR; Linux tcp_sacktag_write_queue,
// tcp_xmit_retransmit_queue; ns-3 tcp-sack-permitted-test.cc / tcp-prr-recovery-test.cc): three
// segments lost in one window are all resent within one recovery episode, before the first hole's
// cumulative ACK comes back, and no segment the receiver SACKed is resent.
//
//   client 10.0.0.1 ──(50 µs, 1 Gb/s; segments 21, 24 and 27 of 40 lost once)──> server 10.0.0.2
import { describe, expect, it } from 'vitest';
import { SEC } from '../../src/core/time.js';
import { ip } from './fake-net.js';
import { dropFirstSend, dump, line, tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');
const seg = (i: number) => 1 + i * 1448; // relative seq of data segment i (0-based)
const LOST = [seg(20), seg(23), seg(26)];

function run() {
  const p = tcpPair();
  p.net.loss = dropFirstSend(p.net, 'client', LOST);
  let got = 0;
  p.tb.listen(80, (s) => (s.onData = (_d, l) => (got += l)));
  p.ta.connect(SERVER, 80, (s) => s.send(40 * 1448));
  p.sim.run({ until: 2 * SEC });
  const segs = dump(p.net);
  const data = segs.filter((s) => s.from === 'client' && s.len > 0);
  const retrans = data.filter((s, i) => data.findIndex((x) => x.seq === s.seq) !== i);
  return { ...p, got, segs, retrans };
}

describe('SACK recovery', () => {
  it('the receiver reports up to 3 blocks, the one holding the latest arrival first (RFC 2018 4)', () => {
    const { segs } = run();
    const sacks = segs.filter((s) => s.from === 'server' && s.sack.length > 0).map(line);
    expect(sacks.slice(0, 6)).toEqual([
      'server > client: [.] seq 1 ack 28961 win 512 sack {30409:31857}',
      'server > client: [.] seq 1 ack 28961 win 512 sack {30409:33305}',
      'server > client: [.] seq 1 ack 28961 win 512 sack {34753:36201} {30409:33305}',
      'server > client: [.] seq 1 ack 28961 win 512 sack {34753:37649} {30409:33305}',
      'server > client: [.] seq 1 ack 28961 win 512 sack {39097:40545} {34753:37649} {30409:33305}',
      'server > client: [.] seq 1 ack 28961 win 512 sack {39097:41993} {34753:37649} {30409:33305}',
    ]);
    // As holes fill, the cumulative ACK jumps over SACKed data and the blocks below it disappear.
    expect(sacks.slice(-2)).toEqual([
      'server > client: [.] seq 1 ack 33305 win 479 sack {39097:57921} {34753:37649}',
      'server > client: [.] seq 1 ack 37649 win 446 sack {39097:57921}',
    ]);
    expect(line(segs.at(-1)!)).toBe('server > client: [.] seq 1 ack 57921 win 512');
  });

  it('resends exactly the three lost segments, in order, once each, in one recovery episode', () => {
    const { ta, got, segs, retrans } = run();
    expect(got).toBe(40 * 1448);
    expect(retrans.map(line)).toEqual([
      'client > server: [.] seq 28961:30409 ack 1 win 502',
      'client > server: [.] seq 33305:34753 ack 1 win 502',
      'client > server: [.] seq 37649:39097 ack 1 win 502',
    ]);
    // All three leave before the first hole's repair is acknowledged: one round trip, not one per hole
    // (NewReno without SACK needs a partial ACK per hole).
    const firstAdvance = segs.find((s) => s.from === 'server' && s.ack > LOST[0]!)!;
    expect(retrans.every((s) => s.t < firstAdvance.t)).toBe(true);
    expect(ta.counters).toMatchObject({ RetransSegs: 3, TCPSackRecovery: 1, TCPFastRetrans: 1, TCPTimeouts: 0 });
  });

  it('the first retransmission leaves when 3 segments above the hole are SACKed; the others follow one by one', () => {
    const { net, segs, retrans } = run();
    const third = segs.find((s) => s.from === 'server' && s.sack.reduce((n, [a, b]) => n + (b - a), 0) === 3 * 1448)!;
    expect(retrans[0]!.t).toBe(net.arrival(third.t, third.pkt));
    // PRR (RFC 6937) paces the rest: one segment per arriving ACK's worth of delivered data.
    expect(retrans[1]!.t).toBeGreaterThan(retrans[0]!.t);
    expect(retrans[2]!.t).toBeGreaterThan(retrans[1]!.t);
  });
});
