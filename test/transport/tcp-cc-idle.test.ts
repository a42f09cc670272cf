// A socket's CUBIC is one shared stateless stand-in (cc.ts IdleCubic) until its first loss or
// congestion-avoidance step, where the socket gets its own CubicCc: the same cwnd and ssthresh as an
// instance made at connect, call for call. Reno has no state: one instance for every socket.
import { describe, expect, it } from 'vitest';
import { MS, SEC } from '../../src/core/time.js';
import { CubicCc, newCongestionControl, TCP_INFINITE_SSTHRESH, type CcState, type CongestionControl } from '../../src/transport/tcp/cc.js';
import { ip } from './fake-net.js';
import { tcpPair } from './tcp-helpers.js';

const SERVER = ip('10.0.0.2');

function state(cc: CongestionControl): CcState {
  return { cwnd: 10, ssthresh: TCP_INFINITE_SSTHRESH, cwndCnt: 0, cc, ccDelayMin: 0 };
}

describe('congestion control made on first need', () => {
  it('drives cwnd as an instance made at connect, call for call', () => {
    const lazy = state(newCongestionControl('cubic'));
    const eager = state(new CubicCc());
    const idle = lazy.cc;
    const both = (f: (s: CcState) => void) => {
      f(lazy);
      f(eager);
      expect(lazy).toMatchObject({ cwnd: eager.cwnd, ssthresh: eager.ssthresh, cwndCnt: eager.cwndCnt, ccDelayMin: eager.ccDelayMin });
    };
    let now = 0;
    both((s) => s.cc.rttSample(s, 0)); // (a zero sample is taken over by the next)
    both((s) => s.cc.rttSample(s, 3 * MS));
    both((s) => s.cc.rttSample(s, 2 * MS));
    both((s) => s.cc.onTxStart(5 * MS, 1 * MS));
    expect(lazy.cc).toBe(idle); // no state needed yet
    for (let i = 0; i < 40; i++) {
      now += 2 * MS;
      both((s) => s.cc.congAvoid(s, 2, now));
    }
    expect(lazy.cc).not.toBe(idle);
    expect(lazy.cc).toBeInstanceOf(CubicCc);
    both((s) => (s.ssthresh = s.cc.ssthresh(s, now)));
    both((s) => (s.cwnd = s.ssthresh));
    for (let i = 0; i < 200; i++) {
      now += 2 * MS;
      both((s) => s.cc.congAvoid(s, 1, now));
    }
    both((s) => s.cc.onRto(s));
    expect(newCongestionControl('cubic')).toBe(idle); // (the shared one was never written)
  });

  it('a loss gives one socket its own; a connection without one keeps the shared one', () => {
    let drop = 3;
    const { sim, ta, tb } = tcpPair(1, { delayNs: 1 * MS, loss: (p) => p.payloadLength > 0 && p.ip!.dst === SERVER && --drop === 0 });
    let got = 0;
    tb.listen(80, (s) => {
      s.onData = (_d, n) => (got += n);
    });
    const quiet = ta.connect(SERVER, 80, (s) => s.send(100));
    sim.run({ until: 100 * MS });
    const bulk = ta.connect(SERVER, 80, (s) => s.send(200_000));
    sim.run({ until: 5 * SEC });
    expect(got).toBe(200_100);
    expect(quiet.cc).toBe(newCongestionControl('cubic'));
    expect(bulk.cc).toBeInstanceOf(CubicCc);
    expect(newCongestionControl('reno')).toBe(newCongestionControl('reno'));
  });
});
