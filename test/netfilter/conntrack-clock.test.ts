// netfilter/conntrack's time: its per-packet path reads the time from CT_CLOCK (a Float64Array, so no
// time is boxed per call) which each entry point writes. Every entry point must use its own time, not
// one another call or another namespace's table left there.
import { describe, expect, it } from 'vitest';
import { ConnEntry, Conntrack } from '../../src/netfilter/conntrack.js';
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
