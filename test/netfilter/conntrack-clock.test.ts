// netfilter/conntrack's time: its per-packet path reads the time from CT_CLOCK (a Float64Array, so no
// time is boxed per call) which each entry point writes. Every entry point must use its own time, not
// one another call or another namespace's table left there.
import { describe, expect, it } from 'vitest';
import { ConnEntry, Conntrack, DEFAULT_CT_TIMEOUTS } from '../../src/netfilter/conntrack.js';
import { CT_CLOCK } from '../../src/netfilter/ct-entry.js';
import { RngFactory } from '../../src/core/rng.js';
import { SEC } from '../../src/core/time.js';
import { TcpFlag } from '../../src/wire/types.js';
import { tcp, udp } from './helpers.js';

const table = (): Conntrack => new Conntrack(new RngFactory(1).stream('nat'));

describe('conntrack time', () => {
  it('gives each entry point its own time: in, confirm, update, gc, interleaved across two tables', () => {
    const a = table();
    const b = table();
    const p = udp('10.0.0.1', 1000, '10.0.0.2', 53);
    expect(a.in(p, 5 * SEC)).toEqual({ ok: true });
    const ct = p.ct as ConnEntry;
    expect(ct.expires).toBe(35 * SEC); // 30 s from in's time
    expect(ct.udpStreamTs).toBe(7 * SEC); // stream_ts: 2 s after the first packet
    // another table's packet at a much later time between a's in and confirm
    const q = udp('10.0.0.9', 9, '10.0.0.8', 8);
    b.in(q, 900 * SEC);
    expect(a.confirm(p, 6 * SEC)).toEqual({ ok: true });
    expect(ct.expires).toBe(36 * SEC); // confirm's own time, not b's
    expect(a.lookup(ct.orig, 35.5 * SEC)?.ct).toBe(ct);
    // a reply at 20 s (update) after b's gc at a later time
    b.gc(950 * SEC);
    const r = udp('10.0.0.2', 53, '10.0.0.1', 1000);
    expect(a.in(r, 20 * SEC)).toEqual({ ok: true });
    expect(r.ct).toBe(ct);
    expect(ct.expires).toBe(140 * SEC); // a reply past stream_ts: ASSURED, 120 s from the reply's time
    // a's gc at 139 s keeps it, at 140 s destroys it; a CT_CLOCK left at another time changes nothing
    CT_CLOCK[0] = 1e6 * SEC;
    expect(a.gc(139 * SEC)).toBe(0);
    expect(a.count).toBe(1);
    CT_CLOCK[0] = 0;
    expect(a.gc(140 * SEC)).toBe(1);
    expect(a.count).toBe(0);
  });

  it('refreshes a TCP entry from the time of the packet that moved it', () => {
    const t = table();
    const syn = tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.SYN);
    t.in(syn, 1 * SEC);
    t.confirm(syn, 1 * SEC);
    const ct = syn.ct as ConnEntry;
    expect(ct.expires).toBe(121 * SEC); // SYN_SENT: 120 s
    const synack = tcp('10.0.0.4', 80, '10.0.0.3', 40000, TcpFlag.SYN | TcpFlag.ACK);
    t.in(synack, 2 * SEC);
    expect(ct.tcpState).toBe('SYN_RECV');
    expect(ct.expires).toBe(62 * SEC); // SYN_RECV: 60 s from the reply's time
    const ack = tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.ACK);
    t.in(ack, 3 * SEC);
    expect(ct.tcpState).toBe('ESTABLISHED');
    expect(ct.expires).toBe(3 * SEC + 432000 * SEC);
    // the gc sweep's copy moved with the state: gc before the new expiry keeps it
    expect(t.gc(100 * SEC)).toBe(0);
    expect(t.count).toBe(1);
  });
});

describe('conntrack timeouts beside the time', () => {
  it('a table of the default timeouts and one of its own, interleaved, each refresh by their own timeouts', () => {
    const def = table();
    const own = new Conntrack(new RngFactory(1).stream('nat'), { timeouts: { ...DEFAULT_CT_TIMEOUTS, udp: 7 * SEC, tcp: { ...DEFAULT_CT_TIMEOUTS.tcp, ESTABLISHED: 50 * SEC } } });
    const p = udp('10.0.0.1', 1000, '10.0.0.2', 53);
    const q = udp('10.0.0.1', 1000, '10.0.0.2', 53);
    def.in(p, 5 * SEC);
    own.in(q, 6 * SEC);
    def.confirm(p, 5 * SEC);
    own.confirm(q, 6 * SEC);
    expect((p.ct as ConnEntry).expires).toBe(35 * SEC); // the default 30 s
    expect((q.ct as ConnEntry).expires).toBe(13 * SEC); // its own 7 s
    for (const [t, at] of [[def, 1], [own, 2]] as const) {
      const syn = tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.SYN);
      t.in(syn, at * SEC);
      t.confirm(syn, at * SEC);
      t.in(tcp('10.0.0.4', 80, '10.0.0.3', 40000, TcpFlag.SYN | TcpFlag.ACK), (at + 1) * SEC);
      const ack = tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.ACK);
      t.in(ack, (at + 2) * SEC);
      expect((ack.ct as ConnEntry).expires).toBe((at + 2) * SEC + (t === def ? 432000 : 50) * SEC);
    }
    expect(CT_CLOCK[0]).toBe(4 * SEC); // the last entry point's time, beside the defaults
  });
});
