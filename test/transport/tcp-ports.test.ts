// Ephemeral port choice (__inet_hash_connect): the bitmap search answers exactly what the kernel's
// linear scan answers, whatever ports are taken; a client with every port in use toward one
// destination gets EADDRNOTAVAIL from connect() (an error of that request, the run goes on), while
// connects to another destination still find ports; a port freed again is found again.
import { describe, expect, it } from 'vitest';
import { SEC } from '../../src/core/time.js';
import { EPHEMERAL_HIGH, EPHEMERAL_LOW, type SocketErrorKind } from '../../src/transport/api.js';
import { PortSearch } from '../../src/transport/tcp/ports.js';
import type { TcpSocket } from '../../src/transport/tcp/index.js';
import { ip } from './fake-net.js';
import { tcpPair } from './tcp-helpers.js';

/** The kernel's scan, literally: parity 0 then 1, steps of 2 from the even offset, wrapping. */
function linearScan(taken: Set<number>, low: number, size: number, offset: number): { port: number; step: number } | null {
  for (let parity = 0; parity < 2; parity++) {
    for (let i = 0; i < size; i += 2) {
      const port = low + ((offset + i + parity) % size);
      if (!taken.has(port)) return { port, step: i };
    }
  }
  return null;
}

/** A small deterministic generator (xorshift32) for the property test. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

describe('PortSearch', () => {
  it('finds the same port and step as the linear scan, over ranges, fill levels and offsets', () => {
    for (const [low, size] of [[32768, 28232], [1000, 64], [50000, 66], [7, 2]] as const) {
      for (const fill of [0, 0.3, 0.5, 0.97, 1]) {
        const rnd = xorshift(size * 131 + Math.round(fill * 1000));
        const ps = new PortSearch(low, size);
        const taken = new Set<number>();
        for (let p = low; p < low + size; p++) {
          if (rnd() / 2 ** 32 < fill) {
            taken.add(p);
            ps.mark(p, true);
          }
        }
        for (let k = 0; k < 300; k++) {
          const offset = (rnd() % size) & ~1;
          expect(ps.first(offset)).toEqual(linearScan(taken, low, size, offset));
          // Churn: free one taken port, take one free port.
          const p = low + (rnd() % size);
          const has = taken.has(p);
          if (has) taken.delete(p);
          else taken.add(p);
          ps.mark(p, !has);
        }
      }
    }
  });

  it('takes the whole even half first: with every even port taken the scan moves to the odd ones', () => {
    const ps = new PortSearch(32768, 28232);
    for (let p = 32768; p <= 60999; p += 2) ps.mark(p, true);
    expect(ps.first(100)).toEqual({ port: 32768 + 101, step: 0 });
    ps.mark(32768 + 100, false);
    expect(ps.first(100)).toEqual({ port: 32768 + 100, step: 0 });
  });
});

describe('connect() and the ephemeral range', () => {
  it('EADDRNOTAVAIL once every port toward the destination is in use; other destinations still connect; a freed port is reused', () => {
    // Port 80's SYNs are lost, so every connection attempt holds its port (SYN_SENT) for the test's second.
    const { sim, ta, tb } = tcpPair(5, { loss: (p) => p.tcp !== null && p.tcp.dstPort === 80 });
    const SERVER = ip('10.0.0.2');
    tb.listen(81, () => {});
    const range = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
    const open: TcpSocket[] = [];
    for (let k = 0; k < range; k++) open.push(ta.connect(SERVER, 80));
    sim.run({ until: 0.5 * SEC });
    expect(new Set(open.map((s) => s.localPort)).size).toBe(range);
    expect(open.every((s) => s.state === 'SYN_SENT')).toBe(true);
    const errs: SocketErrorKind[] = [];
    const failed = ta.connect(SERVER, 80);
    failed.onError = (k) => errs.push(k);
    const other = ta.connect(SERVER, 81);
    sim.run({ until: 0.6 * SEC });
    expect(errs).toEqual(['addrnotavail']);
    expect(failed.localPort).toBe(0);
    expect(ta.counters.AttemptFails).toBe(1);
    expect(other.state).toBe('ESTABLISHED');
    // Abort one attempt (no TIME_WAIT): its port is the only free one and the next connect gets it.
    const victim = open[12345]!;
    const port = victim.localPort;
    victim.abort();
    sim.run({ until: 0.7 * SEC });
    const again = ta.connect(SERVER, 80);
    expect(again.localPort).toBe(port);
  });

  /** ip_local_port_range = 40000–40031: every port toward 10.0.0.2:80 taken by SYN_SENT attempts except one in TIME_WAIT (the client closed first). */
  function allButTimeWait(twReuse: 0 | 1 | 2) {
    let drop = false;
    const { sim, ta, tb } = tcpPair(6, { loss: (p) => drop && p.tcp !== null && p.tcp.dstPort === 80 }, { twReuse, portRange: [40000, 40031] });
    const SERVER = ip('10.0.0.2');
    tb.listen(80, (s) => (s.onEnd = () => s.close()));
    const first = ta.connect(SERVER, 80, (s) => s.close());
    sim.run({ until: 0.1 * SEC });
    expect(first.state).toBe('TIME_WAIT');
    drop = true;
    for (let k = 1; k < 32; k++) expect(ta.connect(SERVER, 80).localPort).toBeGreaterThanOrEqual(40000);
    sim.run({ until: 0.2 * SEC });
    return { sim, ta, first, SERVER };
  }

  it('tcp_tw_reuse: a TIME_WAIT port is taken only when reuse applies (1, or 2 toward loopback) and its last timestamp is from an earlier second', () => {
    // Default (2) toward a non-loopback address: the TIME_WAIT socket blocks its port.
    const d = allButTimeWait(2);
    const errs: SocketErrorKind[] = [];
    d.ta.connect(d.SERVER, 80).onError = (k) => errs.push(k);
    d.sim.run({ until: 1.5 * SEC });
    expect(errs).toEqual(['addrnotavail']);
    expect(d.first.state).toBe('TIME_WAIT');
    // tcp_tw_reuse = 1: within the same second still not; a second later the port is reused and the TIME_WAIT socket is gone.
    const r = allButTimeWait(1);
    const early: SocketErrorKind[] = [];
    r.ta.connect(r.SERVER, 80).onError = (k) => early.push(k);
    r.sim.run({ until: 0.3 * SEC });
    expect(early).toEqual(['addrnotavail']);
    r.sim.run({ until: 1.2 * SEC });
    const port = r.first.localPort;
    const again = r.ta.connect(r.SERVER, 80);
    expect(again.localPort).toBe(port);
    expect(r.first.isClosed()).toBe(true);
  });
  it('a destination first connected to after it connected in: the accepted connection\'s port counts as taken, its listener closed or not', () => {
    // ip_local_port_range = 40002–40003 on both sides: the server's listener is on 40002, inside the range.
    const { sim, ta, tb } = tcpPair(7, {}, { portRange: [40002, 40003] });
    const CLIENT = ip('10.0.0.1');
    let accepted: TcpSocket | null = null;
    const l = tb.listen(40002, (s) => (accepted = s));
    const c = ta.connect(ip('10.0.0.2'), 40002);
    sim.run({ until: 0.1 * SEC });
    expect(accepted).not.toBeNull();
    expect(accepted!.state).toBe('ESTABLISHED');
    l.close();
    // The server connects back to the client's port: 40002 carries the accepted connection toward it, so 40003 is the one port left.
    const back = tb.connect(CLIENT, c.localPort);
    expect(back.localPort).toBe(40003);
    const errs: SocketErrorKind[] = [];
    const none = tb.connect(CLIENT, c.localPort);
    none.onError = (k) => errs.push(k);
    sim.run({ until: 0.2 * SEC });
    expect(none.localPort).toBe(0);
    expect(errs).toEqual(['addrnotavail']);
    // Toward another port of the client both are free again (none is taken there).
    expect([40002, 40003]).toContain(tb.connect(CLIENT, 9).localPort);
  });
});
