// netfilter/ct-tcp: tcpPacket's short path, a segment without SYN, FIN or RST of an ESTABLISHED connection (nearly
// every tracked TCP segment; written with numbers, inlined into conntrack's update), must act as the full state step
// (tcpStep) would: the state stays ESTABLISHED, the entry becomes ASSURED once a reply was seen, and the expiry is the
// ESTABLISHED timeout after the segment. A connection picked up mid-stream (nf_conntrack_tcp_loose) reaches the short
// path without ASSURED: its first reply must make it ASSURED there.
import { describe, expect, it } from 'vitest';
import { Conntrack, CtStatus, type ConnEntry } from '../../src/netfilter/conntrack.js';
import { RngFactory } from '../../src/core/rng.js';
import { SEC } from '../../src/core/time.js';
import { TcpFlag } from '../../src/wire/types.js';
import { tcp } from './helpers.js';

describe('conntrack TCP short path', () => {
  it('a mid-stream pickup becomes ASSURED at its first reply, the state and timeout as the full step gives them', () => {
    const t = new Conntrack(new RngFactory(1).stream('nat'));
    const a = tcp('10.0.0.1', 40000, '10.0.0.2', 80, TcpFlag.ACK);
    expect(t.in(a, 1 * SEC)).toEqual({ ok: true });
    expect(t.confirm(a, 1 * SEC)).toEqual({ ok: true });
    const ct = a.ct as ConnEntry;
    expect(ct.tcpState).toBe('ESTABLISHED');
    expect(ct.status & CtStatus.ASSURED).toBe(0);
    // More of the same direction: ESTABLISHED, not ASSURED (no reply yet).
    const a2 = tcp('10.0.0.1', 40000, '10.0.0.2', 80, TcpFlag.ACK | TcpFlag.PSH);
    expect(t.in(a2, 2 * SEC)).toEqual({ ok: true });
    expect(a2.ct).toBe(ct);
    expect(ct.status & CtStatus.ASSURED).toBe(0);
    expect(ct.expires).toBe(2 * SEC + 432000 * SEC);
    // The reply: SEEN_REPLY and ASSURED, still ESTABLISHED, 5 days from now.
    const b = tcp('10.0.0.2', 80, '10.0.0.1', 40000, TcpFlag.ACK);
    expect(t.in(b, 3 * SEC)).toEqual({ ok: true });
    expect(b.ct).toBe(ct);
    expect(b.ctDir).toBe(1);
    expect(ct.status & (CtStatus.SEEN_REPLY | CtStatus.ASSURED)).toBe(CtStatus.SEEN_REPLY | CtStatus.ASSURED);
    expect(ct.tcpState).toBe('ESTABLISHED');
    expect(ct.expires).toBe(3 * SEC + 432000 * SEC);
    // A FIN leaves the short path: FIN_WAIT.
    const f = tcp('10.0.0.1', 40000, '10.0.0.2', 80, TcpFlag.FIN | TcpFlag.ACK);
    expect(t.in(f, 4 * SEC)).toEqual({ ok: true });
    expect(ct.tcpState).toBe('FIN_WAIT');
  });
});
