// netfilter/conntrack with the recent-entry slots every table shares (ct-hash.ts): a table answers only
// with its own entries, even when another table holding the same tuple (VXLAN's outer flow is one tuple
// on both nodes) uses the same shared slot; an entry that dies (removed, expired, recycled) is never
// answered from there again; a packet keeps its entry across the hooks of one namespace (no second
// lookup, skb->_nfct) and is looked up again in each namespace it enters.
import { describe, expect, it } from 'vitest';
import { ConnEntry, Conntrack } from '../../src/netfilter/conntrack.js';
import { RngFactory } from '../../src/core/rng.js';
import { SEC } from '../../src/core/time.js';
import { TcpFlag } from '../../src/wire/types.js';
import { ip, tcp, udp } from './helpers.js';
import type { Packet } from '../../src/packet/packet.js';

const table = (): Conntrack => new Conntrack(new RngFactory(1).stream('nat'));

/** Tracks and confirms `p` at `now` in `t`; returns its entry. */
function track(t: Conntrack, p: Packet, now: number): ConnEntry {
  expect(t.in(p, now)).toEqual({ ok: true });
  expect(t.confirm(p, now)).toEqual({ ok: true });
  return p.ct as ConnEntry;
}

/** The salt a table's hash mixes into the shared slots (private; read to check the test's premise). */
const saltOf = (t: Conntrack): number => (t as unknown as { salt: number }).salt;

const OUTER = { proto: 17, src: ip('172.18.0.2'), sport: 41000, dst: ip('172.18.0.3'), dport: 4789 };

describe('conntrack: the shared recent entries', () => {
  it('each of two tables sharing a slot (1,024 tables apart) answers with its own entry for one tuple, and only while it lives', () => {
    const a = table();
    for (let i = 0; i < 1023; i++) table();
    const b = table();
    expect(saltOf(b)).toBe(saltOf(a)); // the premise: one shared slot for the tuple in both
    const ea = track(a, udp('172.18.0.2', 41000, '172.18.0.3', 4789), 1 * SEC);
    const eb = track(b, udp('172.18.0.2', 41000, '172.18.0.3', 4789), 1 * SEC); // b's insert takes the slot
    expect(eb).not.toBe(ea);
    for (let k = 0; k < 3; k++) {
      // One packet object through a, then b, then a again: looked up in each (the other table's entry
      // it carries counts as none), each time its table's own entry, in the ORIGINAL direction.
      const p = udp('172.18.0.2', 41000, '172.18.0.3', 4789);
      for (const [t, e] of [[a, ea], [b, eb], [a, ea]] as const) {
        track(t, p, (2 + k) * SEC);
        expect([p.ct, p.ctDir]).toEqual([e, 0]);
      }
      expect(a.lookup(OUTER, (2 + k) * SEC)).toEqual({ ct: ea, dir: 0 });
      expect(b.lookup(OUTER, (2 + k) * SEC)).toEqual({ ct: eb, dir: 0 });
    }
    // b's entry goes (conntrack -D): b no longer knows the tuple, a still does, and b's next packet
    // starts a new entry of b's.
    b.remove(eb);
    expect(b.lookup(OUTER, 5 * SEC)).toBeUndefined();
    expect(a.lookup(OUTER, 5 * SEC)).toEqual({ ct: ea, dir: 0 });
    const eb2 = track(b, udp('172.18.0.2', 41000, '172.18.0.3', 4789), 5 * SEC);
    expect(eb2).not.toBe(eb);
    expect(eb2.owner).toBe(b);
    expect([b.count, a.count]).toEqual([1, 1]);
  });

  it('an entry found through the shared slots and then expired and recycled for another tuple is not found under its old one', () => {
    const t = table();
    const e = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), 1 * SEC); // expires at 31 s
    expect(t.lookup({ proto: 17, src: ip('10.0.0.1'), sport: 1000, dst: ip('10.0.0.2'), dport: 53 }, 2 * SEC)?.ct).toBe(e);
    // A reply finds it as REPLY (the slot now holds that direction).
    const r = udp('10.0.0.2', 53, '10.0.0.1', 1000);
    track(t, r, 3 * SEC);
    expect([r.ct, r.ctDir]).toEqual([e, 1]);
    // 45 s: expired (gc'd by the next new connection) and 10 s past it reused for a TCP connection.
    track(t, udp('10.0.0.9', 9, '10.0.0.8', 8), 42 * SEC);
    expect(t.holds(e)).toBe(false); // reaped by the gc sweep, which does not write it (no DYING: see Conntrack.reap)
    const syn = tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.SYN);
    expect(track(t, syn, 45 * SEC)).toBe(e);
    // Neither of its old tuples answers; the reply of the old flow starts an entry of its own.
    const old = udp('10.0.0.2', 53, '10.0.0.1', 1000);
    track(t, old, 46 * SEC);
    expect(old.ct).not.toBe(e);
    expect(old.ctDir).toBe(0);
    expect(t.lookup({ proto: 17, src: ip('10.0.0.1'), sport: 1000, dst: ip('10.0.0.2'), dport: 53 }, 46 * SEC)?.dir).toBe(1);
  });

  it('a packet carrying its entry is not looked up again in that namespace, even with its headers rewritten', () => {
    const t = table();
    const p = tcp('10.0.0.1', 40000, '10.96.0.10', 80, TcpFlag.SYN);
    const e = track(t, p, 1 * SEC);
    // The headers change (as a DNAT rewrite does) and the packet passes another hook of the namespace:
    // it keeps its entry and direction, and no entry is made for the rewritten tuple.
    p.ip!.dst = ip('10.244.1.5');
    p.tcp!.dstPort = 8080;
    expect(t.in(p, 1 * SEC)).toEqual({ ok: true });
    expect([p.ct, p.ctDir, t.count]).toEqual([e, 0, 1]);
    // In another namespace the same packet is looked up by its rewritten tuple: a new entry there.
    const u = table();
    const f = track(u, p, 1 * SEC);
    expect(f).not.toBe(e);
    expect(f.orig).toEqual({ proto: 6, src: ip('10.0.0.1'), sport: 40000, dst: ip('10.244.1.5'), dport: 8080 });
    // Back in the first namespace (the other namespace's entry counts as none) it is looked up again:
    // the rewritten tuple is no tuple of e's, so a new entry there too.
    const g = track(t, p, 1 * SEC);
    expect(g).not.toBe(e);
    expect(g.owner).toBe(t);
    expect(t.count).toBe(2);
  });
});
