// netfilter/conntrack with its list squeezed: when expired entries reaped by the incremental gc leave
// more holes than entries in the list (ct-list.ts), the survivors move down and the hash (which holds
// their indices) follows them: every live entry is still found under both tuples, in the same list
// order, the gc sweep goes on where it was, a NATed entry's REPLY tuple still leads to it, `-L`
// order is insertion order, and the hash holds exactly the live entries' tuples (a reaped entry's go by
// the slot keys the list keeps beside it, moved with it).
import { describe, expect, it } from 'vitest';
import { ConnEntry, Conntrack, NatManip } from '../../src/netfilter/conntrack.js';
import { RngFactory } from '../../src/core/rng.js';
import { SEC } from '../../src/core/time.js';
import { TcpFlag } from '../../src/wire/types.js';
import { ip, tcp, udp } from './helpers.js';

describe('conntrack list squeeze', () => {
  it('keeps every live entry findable and in order while expired ones are reaped and the list squeezed', () => {
    const t = new Conntrack(new RngFactory(1).stream('nat'));
    const live: ConnEntry[] = [];
    const dead: ConnEntry[] = [];
    // 2,000 connections at t = 0..1999 ms: every tenth one TCP (SYN_SENT: 120 s), the others UDP (30 s);
    // a DNAT on every fourth.
    for (let i = 0; i < 2000; i++) {
      const now = i * 1e6;
      const p = i % 10 === 0 ? tcp('10.1.0.1', 20000 + i, '10.96.0.10', 80, TcpFlag.SYN) : udp('10.1.0.1', 20000 + i, '10.96.0.10', 53);
      expect(t.in(p, now)).toEqual({ ok: true });
      const ct = p.ct as ConnEntry;
      if (i % 4 === 0) expect(t.setupNat(ct, NatManip.DST, { minIp: ip('10.244.1.5'), maxIp: ip('10.244.1.5'), ports: { min: 8080, max: 8080 }, random: false, randomFully: false, persistent: false }, now)).toBe(true);
      expect(t.confirm(p, now)).toEqual({ ok: true });
      (i % 10 === 0 ? live : dead).push(ct);
    }
    expect(t.count).toBe(2000);
    // At 40 s the UDP entries have expired: 300 new connections move the sweep 600 entries on, reaping
    // some; gc() reaps the rest; the next adds squeeze the list (1,800 holes > 3 x 500 entries + 64).
    const later: ConnEntry[] = [];
    for (let i = 0; i < 310; i++) {
      if (i === 300) expect(t.gc(40.5 * SEC)).toBeGreaterThanOrEqual(0);
      const now = 40 * SEC + i * 1e6;
      const p = tcp('10.2.0.1', 30000 + i, '10.96.0.11', 443, TcpFlag.SYN);
      expect(t.in(p, now)).toEqual({ ok: true });
      expect(t.confirm(p, now)).toEqual({ ok: true });
      later.push(p.ct as ConnEntry);
    }
    const now = 41 * SEC;
    expect(t.count).toBe(510);
    expect(t.size).toBe(2 * 510); // the reaped entries' tuples left the hash (removed by the keys the list moved with them)
    expect(t.list()).toEqual([...live, ...later]);
    expect(live.map((ct) => ct.pos)).toEqual(live.map((_, k) => k)); // moved down: squeezed
    for (const ct of [...live, ...later]) {
      expect(t.lookup(ct.orig, now)).toEqual({ ct, dir: 0 });
      expect(t.lookup(ct.reply, now)).toEqual({ ct, dir: 1 });
    }
    for (let i = 0; i < 2000; i++) if (i % 10 !== 0) expect(t.lookup({ proto: 17, src: ip('10.1.0.1'), sport: 20000 + i, dst: ip('10.96.0.10'), dport: 53 }, now)).toBeUndefined();
    expect(later.filter((ct) => dead.includes(ct)).length).toBeGreaterThan(0); // reaped entries were reused (the free list)
    // The DNATed ones answer under their REPLY tuple from the backend.
    const nat = live.filter((_, k) => (k * 10) % 4 === 0);
    expect(nat.length).toBeGreaterThan(0);
    for (const ct of nat) expect(t.lookup({ proto: 6, src: ip('10.244.1.5'), sport: 8080, dst: ip('10.1.0.1'), dport: ct.oSport }, now)?.ct).toBe(ct);
    // The whole sweep (gc) at 200 s reaps everything; the table is empty and finds nothing.
    expect(t.gc(200 * SEC)).toBe(510);
    expect(t.count).toBe(0);
    expect(t.size).toBe(0);
    expect(t.list()).toEqual([]);
    for (const ct of later) expect(t.lookup(ct.orig, 200 * SEC)).toBeUndefined();
  });

  it('reaps by the true expiry when packets moved it later (the list copy lags) or earlier (a RST)', () => {
    const t = new Conntrack(new RngFactory(1).stream('nat'));
    const open = (sport: number, now: number): ConnEntry => {
      const p = tcp('10.1.0.1', sport, '10.1.0.2', 80, TcpFlag.SYN);
      expect(t.in(p, now)).toEqual({ ok: true });
      expect(t.confirm(p, now)).toEqual({ ok: true });
      return p.ct as ConnEntry;
    };
    const pkt = (sport: number, flags: number, reply: boolean, now: number): void => {
      const p = reply ? tcp('10.1.0.2', 80, '10.1.0.1', sport, flags) : tcp('10.1.0.1', sport, '10.1.0.2', 80, flags);
      expect(t.in(p, now)).toEqual({ ok: true });
    };
    // a: SYN at 0 (SYN_SENT, 120 s), then SYN-ACK and ACK at 1 s: ESTABLISHED (5 days) — later.
    const a = open(1000, 0);
    pkt(1000, TcpFlag.SYN | TcpFlag.ACK, true, 1 * SEC);
    pkt(1000, TcpFlag.ACK, false, 1 * SEC);
    // b: SYN at 0 (120 s), then a RST at 1 s: CLOSE, 10 s — earlier, expires at 11 s.
    const b = open(1001, 0);
    pkt(1001, TcpFlag.RST, false, 1 * SEC);
    // c: SYN at 0, nothing more: expires at 120 s.
    const c = open(1002, 0);
    expect([a.expires > 400_000 * SEC, b.expires, c.expires]).toEqual([true, 11 * SEC, 120 * SEC]);
    // The whole sweep at 12 s takes b only; at 121 s, c (a's copy of its expiry, 120 s, is passed: it is
    // read, a stays and its copy is brought up to date).
    expect(t.gc(12 * SEC)).toBe(1);
    expect(t.list()).toEqual([a, c]);
    expect(t.gc(121 * SEC)).toBe(1);
    expect(t.list()).toEqual([a]);
    expect(t.nextDeadline()).toBe(a.expires);
    // The incremental sweep (new connections) decides alike: a stays past 121 s.
    for (let i = 0; i < 4; i++) open(2000 + i, 130 * SEC);
    expect(t.list()[0]).toBe(a);
    expect(t.lookup(a.orig, 130 * SEC)?.ct).toBe(a);
  });
});
