// transport/tcp/socket: the fields most connections never change (out-of-order queue, recovery's
// counters and congestion state, backoff, probing, soft error, an owned TIME_WAIT record) live in a side
// object a socket makes on the first store of a value other than the field's default (issue 13: a
// request allocates two sockets). Reads give the default until then; a default stored into none makes
// nothing; a short clean connection never makes one; a lossy one does, and its counters work as fields.
import { describe, expect, it } from 'vitest';
import { SEC } from '../../src/core/time.js';
import type { TcpSocket } from '../../src/transport/tcp/index.js';
import { TCP_INFINITE_SSTHRESH } from '../../src/transport/tcp/cc.js';
import { ip } from './fake-net.js';
import { tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');
const rareOf = (s: TcpSocket): unknown => (s as unknown as { rare: unknown }).rare;

describe('TcpSocket rare fields', () => {
  it('read their defaults with no side object; a default stored makes none; another value makes it and sticks', () => {
    const { ta } = tcpPair();
    const s = ta.connect(SERVER, 80);
    expect(rareOf(s)).toBeNull();
    expect([s.ooo.length, s.oooBytes, s.lastOooSeq, s.ssthresh, s.cwndCnt, s.caState, s.sackedOut, s.lostOut, s.backoff, s.probing, s.softError, s.tw]).toEqual([0, 0, -1, TCP_INFINITE_SSTHRESH, 0, 'open', 0, 0, 0, false, null, null]);
    s.backoff = 0;
    s.probing = false;
    s.softError = null;
    s.caState = 'open';
    s.ssthresh = TCP_INFINITE_SSTHRESH;
    expect(rareOf(s)).toBeNull();
    s.lostOut++;
    expect(rareOf(s)).not.toBeNull();
    expect(s.lostOut).toBe(1);
    s.lostOut--;
    expect(s.lostOut).toBe(0);
    s.backoff = 3;
    s.caState = 'loss';
    expect([s.backoff, s.caState, s.ssthresh, s.lastOooSeq]).toEqual([3, 'loss', TCP_INFINITE_SSTHRESH, -1]);
    expect(s.inFlight).toBe(s.packetsOut);
  });

  it('a clean request/response connection never makes one; a connection that loses segments does, and completes with its counters back at zero', () => {
    const clean = tcpPair();
    const socks: TcpSocket[] = [];
    clean.tb.listen(80, (s) => {
      socks.push(s);
      s.onData = (_d, n) => {
        if (n > 0) s.send(2000);
      };
    });
    const c = clean.ta.connect(SERVER, 80, (s) => s.send(100));
    socks.push(c);
    clean.sim.run({ until: 1 * SEC });
    expect(socks).toHaveLength(2);
    for (const s of socks) expect(rareOf(s)).toBeNull();
    expect(c.state).toBe('ESTABLISHED');
    // Every fourth data segment from the server dropped once: recovery and retransmissions run.
    let n = 0;
    const seen = new Set<number>();
    const lossy = tcpPair(1, { loss: (p) => p.ip!.src === SERVER && p.payloadLength > 0 && !seen.has(p.tcp!.seq) && (seen.add(p.tcp!.seq), ++n % 4 === 0) });
    let got = 0;
    const srv: TcpSocket[] = [];
    lossy.tb.listen(80, (s) => {
      srv.push(s);
      s.onData = (_d, k) => {
        if (k > 0) s.send(300_000);
      };
    });
    const lc = lossy.ta.connect(SERVER, 80, (s) => s.send(100));
    lc.onData = (_d, k) => (got += k);
    lossy.sim.run({ until: 30 * SEC });
    expect(got).toBe(300_000);
    expect(rareOf(srv[0]!)).not.toBeNull();
    expect(srv[0]!.lostOut + srv[0]!.sackedOut).toBe(0); // all acknowledged in the end
    // Recovery set ssthresh from the window (it stays finite after recovery ends): stored in the side object.
    expect(srv[0]!.ssthresh).not.toBe(TCP_INFINITE_SSTHRESH);
    expect(srv[0]!.ssthresh).toBeGreaterThan(0);
  });
});
