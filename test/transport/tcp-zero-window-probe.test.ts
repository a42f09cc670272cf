// Zero-window probes (RFC 9293 3.8.6.1; Linux tcp_probe_timer / tcp_xmit_probe_skb / tcp_ack_probe):
// when the peer advertises a zero window and data waits, the sender probes with an ACK whose seq is
// SND.UNA − 1 (no payload), backing off like the RTO, and sends again once a probe's answer opens
// the window.
//
//   client 10.0.0.1 (podwire TcpLayer) ──(50 µs, 1 Gb/s)──> server 10.0.0.2 (RawPeer, scripted receiver)
//
// podwire's receiving socket hands data to the application on arrival, so its window never closes
// for lack of reading; the receiver here is scripted (test/transport/raw-peer.ts) and advertises
// whatever window the test sets.
import { describe, expect, it } from 'vitest';
import { MS, SEC } from '../../src/core/time.js';
import type { TcpSocket } from '../../src/transport/tcp/index.js';
import { TcpFlag } from '../../src/wire/types.js';
import { ip } from './fake-net.js';
import { RawPeer } from './raw-peer.js';
import { dump, line, tcpPair, type DumpSeg } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');
const CLIENT = ip('10.0.0.1');
const ISN = 1000;

/**
 * A receiver that ACKs every segment at once and never reads: its window is what is left of a
 * 4380-byte buffer (3 segments), so the right edge stays put and the window reaches 0 — until the
 * test sets `open`, and it then advertises 65535.
 */
function setup() {
  const p = tcpPair();
  const peer = new RawPeer(p.b);
  const st = { irs: 0, rcvNxt: 0, open: false };
  const win = () => (st.open ? 65535 : Math.max(0, 4380 - ((st.rcvNxt - st.irs - 1) >>> 0)));
  peer.onSegment = (pkt) => {
    const t = pkt.tcp!;
    if (t.flags & TcpFlag.SYN) {
      st.irs = t.seq;
      st.rcvNxt = (t.seq + 1) >>> 0;
      peer.send(CLIENT, { srcPort: 80, dstPort: t.srcPort, seq: ISN, ack: st.rcvNxt, flags: TcpFlag.SYN | TcpFlag.ACK, window: win(), options: [{ kind: 'mss', value: 1460 }] });
      return;
    }
    if (pkt.payloadLength > 0 && t.seq === st.rcvNxt) st.rcvNxt = (st.rcvNxt + pkt.payloadLength) >>> 0;
    if (pkt.payloadLength > 0 || t.seq !== st.rcvNxt) peer.send(CLIENT, { srcPort: 80, dstPort: t.srcPort, seq: ISN + 1, ack: st.rcvNxt, flags: TcpFlag.ACK, window: win() });
  };
  let c: TcpSocket | null = null;
  p.ta.connect(SERVER, 80, (s) => {
    c = s;
    s.send(10_000);
  });
  p.sim.run({ until: 1 * MS });
  return { ...p, peer, st, sock: () => c! };
}

const isProbe = (s: DumpSeg) => s.from === 'client' && s.len === 0 && s.seq === 4380; // SND.UNA − 1

describe('zero-window probe', () => {
  it('probes with seq SND.UNA − 1 and no data, one RTO after the zero window, then ×2 each time', () => {
    const { sim, net, sock } = setup();
    sim.run({ until: 7 * SEC });
    const segs = dump(net);
    const zeroAck = segs.find((s) => s.from === 'server' && s.win === 0)!;
    expect(line(zeroAck)).toBe('server > client: [.] seq 1 ack 4381 win 0');
    const probes = segs.filter(isProbe);
    expect(probes.map(line)).toEqual(Array(probes.length).fill('client > server: [.] seq 4380 ack 1 win 64240'));
    expect(probes.length).toBe(5); // rto ≈ 200 ms: at 0.2, 0.6, 1.4, 3.0, 6.2 s after the zero window
    const rto = sock().rto;
    expect(probes[0]!.t).toBe(net.arrival(zeroAck.t, zeroAck.pkt) + rto);
    for (let i = 1; i < probes.length; i++) expect(probes[i]!.t - probes[i - 1]!.t).toBe(rto * 2 ** i);
    // Nothing but probes while the window is closed, and every probe is answered with the zero window.
    expect(segs.filter((s) => s.from === 'client' && s.t > zeroAck.t).every(isProbe)).toBe(true);
    expect(segs.filter((s) => s.from === 'server' && s.t > probes[0]!.t).map(line)).toEqual(Array(5).fill('server > client: [.] seq 1 ack 4381 win 0'));
  });

  it('sends data as soon as the answer to a probe opens the window', () => {
    const { sim, net, st, sock } = setup();
    sim.run({ until: 1 * SEC });
    st.open = true;
    sim.run({ until: 10 * SEC });
    const segs = dump(net);
    const open = segs.find((s) => s.from === 'server' && s.win === 65535 && s.ack === 4381)!;
    const next = segs.find((s) => s.from === 'client' && s.t > open.t)!;
    expect(line(next)).toBe('client > server: [.] seq 4381:5841 ack 1 win 64240');
    expect(next.t).toBe(net.arrival(open.t, open.pkt));
    expect(segs.at(-1)!.ack).toBe(10_001);
    expect(sock().unacked).toBe(0);
  });

  // Linux's tcp_ack_probe re-arms the probe timer when the answer to a probe arrives (when =
  // tcp_probe0_when(sk, TCP_RTO_MAX) from that moment), so probe k+1 leaves RTO·2^k after the
  // ACK to probe k; podwire arms it when the probe is sent, one round trip earlier.
  it.fails('re-arms the persist timer from the answer to a probe (Linux tcp_ack_probe)', () => {
    const { sim, net, sock } = setup();
    sim.run({ until: 4 * SEC });
    const segs = dump(net);
    const probes = segs.filter(isProbe);
    const rto = sock().rto;
    for (let i = 1; i < probes.length; i++) {
      const answer = segs.find((s) => s.from === 'server' && s.t > probes[i - 1]!.t)!;
      expect(probes[i]!.t - net.arrival(answer.t, answer.pkt)).toBe(rto * 2 ** i);
    }
  });
});
