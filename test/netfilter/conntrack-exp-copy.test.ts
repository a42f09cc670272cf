// netfilter/conntrack: the confirmed-entry list keeps a copy of each entry's expiry for the gc sweep
// (ct-list.ts `exp`), exact: every expiry written while listed writes it (per packet too, since session 46;
// a lower bound that per-packet refreshes left behind before), so the sweep takes a copy below now's tick
// as expired without reading the entry (a cold object in a big table); it destroys it at its real expiry.
import { describe, expect, it } from 'vitest';
import { Conntrack, type ConnEntry } from '../../src/netfilter/conntrack.js';
import { expCopy } from '../../src/netfilter/ct-list.js';
import { RngFactory } from '../../src/core/rng.js';
import { SEC } from '../../src/core/time.js';
import { TcpFlag } from '../../src/wire/types.js';
import { tcp, udp } from './helpers.js';

/** The table's list copy of `ct`'s expiry (white box: what the sweep compares with now). */
/** What the list stores for the time `t` written exactly (its ticks, not above it). */
const exact = (t: number): number => expCopy(t);
const copyOf = (t: Conntrack, ct: ConnEntry): number => t.exp[ct.pos]!;

describe('conntrack list expiry copy', () => {
  it('is exact after every packet, and the sweep reaps on time', () => {
    const t = new Conntrack(new RngFactory(1).stream('nat'));
    const C = ['10.0.0.1', 40000, '10.0.0.2', 80] as const;
    const S = ['10.0.0.2', 80, '10.0.0.1', 40000] as const;
    const send = (dir: 0 | 1, f: number, now: number): ConnEntry => {
      const p = dir === 0 ? tcp(...C, f) : tcp(...S, f);
      expect(t.in(p, now)).toEqual({ ok: true });
      expect(t.confirm(p, now)).toEqual({ ok: true });
      return p.ct as ConnEntry;
    };
    const ct = send(0, TcpFlag.SYN, 1 * SEC);
    send(1, TcpFlag.SYN | TcpFlag.ACK, 1 * SEC + 1000);
    send(0, TcpFlag.ACK, 1 * SEC + 2000); // ESTABLISHED (5 days): a state change, written
    expect(ct.tcpState).toBe('ESTABLISHED');
    expect(copyOf(t, ct)).toBe(exact(ct.expires));
    send(0, TcpFlag.ACK | TcpFlag.PSH, 2 * SEC); // same state, pushed 1 s on: the copy follows
    expect(copyOf(t, ct)).toBe(exact(ct.expires));
    send(1, TcpFlag.ACK, 2 * SEC + 5000);
    expect(copyOf(t, ct)).toBe(exact(ct.expires));
    send(0, TcpFlag.FIN | TcpFlag.ACK, 3 * SEC);
    send(1, TcpFlag.FIN | TcpFlag.ACK, 3 * SEC + 1000); // LAST_ACK, 30 s
    send(0, TcpFlag.ACK, 3 * SEC + 2000); // TIME_WAIT, 120 s: later than LAST_ACK's expiry, written all the same
    expect(ct.tcpState).toBe('TIME_WAIT');
    expect(ct.expires).toBe(123 * SEC + 2000);
    expect(copyOf(t, ct)).toBe(exact(ct.expires));
    // new connections drive the sweep: the TIME_WAIT entry stays until its expiry, then goes
    send0(t, 41000, 100 * SEC);
    send0(t, 41001, 110 * SEC);
    expect(t.list()).toContain(ct);
    send0(t, 41002, 123 * SEC + 2001);
    send0(t, 41003, 123 * SEC + 2002);
    expect(t.list()).not.toContain(ct);
  });
});

describe('conntrack list expiry copy past 2^52 ns (saturated, not exact)', () => {
  it('reaps and recycles by the entries themselves there: an entry dead 5 s is not reused', () => {
    const t = new Conntrack(new RngFactory(1).stream('nat'));
    const T = 2 ** 52;
    const a = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), T - 20 * SEC); // expires at T + 10 s: its copy saturated
    expect(t.exp[a.pos]).toBe(0x7fffffff);
    const b = track(t, udp('10.0.0.1', 1001, '10.0.0.2', 53), T + 15 * SEC); // its gc step reaps A, dead 5 s
    expect(b).not.toBe(a);
    expect(t.list()).toEqual([b]);
    expect(track(t, udp('10.0.0.1', 1002, '10.0.0.2', 53), T + 16 * SEC)).not.toBe(a);
    expect(track(t, udp('10.0.0.1', 1003, '10.0.0.2', 53), T + 20 * SEC)).toBe(a); // dead 10 s
  });
});

function track(t: Conntrack, p: ReturnType<typeof udp>, now: number): ConnEntry {
  expect(t.in(p, now)).toEqual({ ok: true });
  expect(t.confirm(p, now)).toEqual({ ok: true });
  return p.ct as ConnEntry;
}

function send0(t: Conntrack, sport: number, now: number): void {
  const p = tcp('10.0.0.9', sport, '10.0.0.2', 80, TcpFlag.SYN);
  expect(t.in(p, now)).toEqual({ ok: true });
  expect(t.confirm(p, now)).toEqual({ ok: true });
}
