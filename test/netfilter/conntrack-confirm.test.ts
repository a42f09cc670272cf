// netfilter/conntrack's confirm (__nf_conntrack_confirm): a new connection's two tuples go into the
// table unless one of them is held already; an alive holder refuses the entry (for a protocol without
// allow_clash, or a clash nothing resolves: conntrack-clash.test.ts has the resolutions) and leaves the
// table as it was (no tuple of the refused entry stays behind, whichever tuple clashed), an expired
// holder is destroyed and the new entry takes its place, and an entry whose two tuples are one is held
// under it once, in the REPLY direction (as set() rebinds).
import { describe, expect, it } from 'vitest';
import { ConnEntry, Conntrack, NatManip, type NatSetup } from '../../src/netfilter/conntrack.js';
import { RngFactory } from '../../src/core/rng.js';
import { SEC } from '../../src/core/time.js';
import { parseIpv4 } from '../../src/wire/ipv4-addr.js';
import { TcpFlag } from '../../src/wire/types.js';
import { tcp, udp } from './helpers.js';

const table = (): Conntrack => new Conntrack(new RngFactory(1).stream('nat'));
const ip = (s: string): number => parseIpv4(s)!;
/** SNAT to exactly `addr`:`port` (a one-port range: no uniqueness probe, so a clash can be made). */
const snatTo = (addr: string, port: number): NatSetup => ({ minIp: ip(addr), maxIp: ip(addr), ports: { min: port, max: port }, random: false, randomFully: false, persistent: false });
const tuple = (src: string, sport: number, dst: string, dport: number) => ({ proto: 17, src: ip(src), sport, dst: ip(dst), dport });

describe('conntrack confirm', () => {
  it('an alive entry holding the ORIGINAL tuple refuses a second TCP one for it; the table is unchanged', () => {
    const t = table();
    const p1 = tcp('10.0.0.1', 1000, '10.0.0.2', 53);
    const p2 = tcp('10.0.0.1', 1000, '10.0.0.2', 53);
    // Both packets pass conntrack in before either is confirmed (two unconfirmed entries, one tuple).
    expect(t.in(p1, SEC)).toEqual({ ok: true });
    expect(t.in(p2, SEC)).toEqual({ ok: true });
    expect(p2.ct).not.toBe(p1.ct);
    expect(t.confirm(p1, SEC)).toEqual({ ok: true });
    expect(t.confirm(p2, SEC)).toEqual({ ok: false, reason: 'conntrack-insert-clash' });
    expect(t.count).toBe(1);
    expect(t.lookup({ ...tuple('10.0.0.1', 1000, '10.0.0.2', 53), proto: 6 }, SEC)).toEqual({ ct: p1.ct, dir: 0 });
    expect(t.lookup({ ...tuple('10.0.0.2', 53, '10.0.0.1', 1000), proto: 6 }, SEC)).toEqual({ ct: p1.ct, dir: 1 });
    expect(t.stats).toEqual({ drop: 1, early_drop: 0, insert_failed: 1, clash_resolve: 0 });
  });

  it('a second UDP one, alike, is resolved: the packet joins the entry already there', () => {
    const t = table();
    const p1 = udp('10.0.0.1', 1000, '10.0.0.2', 53);
    const p2 = udp('10.0.0.1', 1000, '10.0.0.2', 53);
    expect(t.in(p1, SEC)).toEqual({ ok: true });
    expect(t.in(p2, SEC)).toEqual({ ok: true });
    expect(t.confirm(p1, SEC)).toEqual({ ok: true });
    expect(t.confirm(p2, SEC)).toEqual({ ok: true });
    expect(p2.ct).toBe(p1.ct);
    expect(t.list()).toEqual([p1.ct]);
    expect(t.stats).toEqual({ drop: 0, early_drop: 0, insert_failed: 0, clash_resolve: 1 });
  });

  it('a clash on the REPLY tuple alone takes the refused entry\'s ORIGINAL tuple out again', () => {
    const t = table();
    const a = udp('10.0.0.1', 1000, '10.0.0.2', 53);
    // 10.0.0.9:2000 -> 10.0.0.2:53 SNATed to 10.0.0.1:1000 while a is unconfirmed (NAT's uniqueness
    // probe does not see it): b's REPLY tuple is a's.
    const b = udp('10.0.0.9', 2000, '10.0.0.2', 53);
    expect(t.in(a, SEC)).toEqual({ ok: true });
    expect(t.in(b, SEC)).toEqual({ ok: true });
    expect(t.setupNat(b.ct as ConnEntry, NatManip.SRC, snatTo('10.0.0.1', 1000), SEC)).toBe(true);
    expect(t.confirm(a, SEC)).toEqual({ ok: true });
    expect(t.confirm(b, 2 * SEC)).toEqual({ ok: false, reason: 'conntrack-insert-clash' });
    expect(t.count).toBe(1);
    expect(t.lookup(tuple('10.0.0.9', 2000, '10.0.0.2', 53), 2 * SEC)).toBeUndefined();
    expect(t.lookup(tuple('10.0.0.2', 53, '10.0.0.1', 1000), 2 * SEC)).toEqual({ ct: a.ct, dir: 1 });
    expect(t.lookup(tuple('10.0.0.1', 1000, '10.0.0.2', 53), 2 * SEC)).toEqual({ ct: a.ct, dir: 0 });
  });

  it('an expired holder of either tuple is destroyed and the new entry takes its place', () => {
    for (const clashOnReply of [false, true]) {
      const t = table();
      const a = udp('10.0.0.1', 1000, '10.0.0.2', 53);
      // b passes conntrack in while a is alive and not yet confirmed (so nothing finds or reaps a), and
      // is confirmed after a expired (a: UDP, unreplied, confirmed at 1 s: expires at 31 s).
      const b = clashOnReply ? udp('10.0.0.9', 2000, '10.0.0.2', 53) : udp('10.0.0.1', 1000, '10.0.0.2', 53);
      expect(t.in(a, SEC)).toEqual({ ok: true });
      expect(t.in(b, SEC)).toEqual({ ok: true });
      const ct = b.ct as ConnEntry;
      expect(ct).not.toBe(a.ct);
      if (clashOnReply) expect(t.setupNat(ct, NatManip.SRC, snatTo('10.0.0.1', 1000), SEC)).toBe(true);
      expect(t.confirm(a, SEC)).toEqual({ ok: true });
      const now = 40 * SEC;
      expect(t.confirm(b, now)).toEqual({ ok: true });
      expect(t.list()).toEqual([ct]);
      expect(t.lookup(tuple('10.0.0.2', 53, '10.0.0.1', 1000), now)).toEqual({ ct, dir: 1 });
      const o = ct.orig;
      expect(t.lookup({ proto: 17, src: o.src, sport: o.sport, dst: o.dst, dport: o.dport }, now)).toEqual({ ct, dir: 0 });
    }
  });

  it('an expired holder of the ORIGINAL tuple does not hide an alive holder of the REPLY tuple', () => {
    // a and b share an ORIGINAL tuple; b is SNATed to 10.0.0.7:7000. a is confirmed (expires at 31 s),
    // y (10.0.0.7:7000 -> 10.0.0.2:53, alive until 50 s) takes b's REPLY tuple; at 40 s b's confirm
    // destroys expired a and must then find y: a clash, y still found by its REPLY tuple.
    const t = table();
    const a = udp('10.0.0.1', 1000, '10.0.0.2', 53);
    const b = udp('10.0.0.1', 1000, '10.0.0.2', 53);
    expect(t.in(a, SEC)).toEqual({ ok: true });
    expect(t.in(b, SEC)).toEqual({ ok: true });
    expect(t.setupNat(b.ct as ConnEntry, NatManip.SRC, snatTo('10.0.0.7', 7000), SEC)).toBe(true);
    expect(t.confirm(a, SEC)).toEqual({ ok: true });
    const y = udp('10.0.0.7', 7000, '10.0.0.2', 53);
    expect(t.in(y, 20 * SEC)).toEqual({ ok: true });
    expect(t.confirm(y, 20 * SEC)).toEqual({ ok: true });
    const now = 40 * SEC;
    expect(t.confirm(b, now)).toEqual({ ok: false, reason: 'conntrack-insert-clash' });
    expect(t.list()).toEqual([y.ct]);
    expect(t.lookup(tuple('10.0.0.2', 53, '10.0.0.7', 7000), now)).toEqual({ ct: y.ct, dir: 1 });
    expect(t.lookup(tuple('10.0.0.1', 1000, '10.0.0.2', 53), now)).toBeUndefined();
  });

  it('an entry whose two tuples are one is held once, in the REPLY direction', () => {
    const t = table();
    const p = udp('10.0.0.1', 53, '10.0.0.1', 53);
    expect(t.in(p, SEC)).toEqual({ ok: true });
    expect(t.confirm(p, SEC)).toEqual({ ok: true });
    expect(t.count).toBe(1);
    expect(t.lookup(tuple('10.0.0.1', 53, '10.0.0.1', 53), SEC)).toEqual({ ct: p.ct, dir: 1 });
  });
  it('an expired holder destroyed by confirm at the gc cursor leaves the sweep order as if the new entry were not listed yet', () => {
    const t = table();
    const mk = (p: ReturnType<typeof udp>, now: number, nat?: () => void): ConnEntry => {
      expect(t.in(p, now)).toEqual({ ok: true });
      nat?.();
      expect(t.confirm(p, now)).toEqual({ ok: true });
      return p.ct as ConnEntry;
    };
    const a1 = mk(tcp('10.0.0.5', 5001, '10.0.0.9', 80, TcpFlag.SYN), 0); // 120 s (SYN_SENT)
    const a2 = mk(tcp('10.0.0.5', 5002, '10.0.0.9', 80, TcpFlag.SYN), 0);
    const x = mk(udp('10.0.0.1', 1000, '10.0.0.9', 53), 0); // 30 s: the list's last entry
    // At 40 s (x expired, not reaped yet) b is SNATed onto x's reply tuple: confirm destroys x.
    const pb = udp('10.0.0.2', 1000, '10.0.0.9', 53);
    const b = mk(pb, 40 * SEC, () => expect(t.setupNat(pb.ct as ConnEntry, NatManip.SRC, snatTo('10.0.0.1', 1000), 40 * SEC)).toBe(true));
    expect(t.list()).not.toContain(x);
    // At 130 s a1 and a2 have expired: the sweep starts again from the head, reaping both.
    const c = mk(tcp('10.0.0.6', 6000, '10.0.0.9', 80, TcpFlag.SYN), 130 * SEC);
    const names = new Map<ConnEntry, string>([[a1, 'a1'], [a2, 'a2'], [b, 'b'], [c, 'c']]);
    expect(t.list().map((e) => names.get(e))).toEqual(['b', 'c']);
  });
});
