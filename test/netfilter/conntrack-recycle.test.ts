// netfilter/conntrack's free list: an entry the table destroys because it expired is reused for a later
// connection once it has been expired for RECYCLE_AFTER (10 s), with every field as a fresh entry's;
// entries removed while alive (conntrack -D, a reopening SYN, early_drop) are never reused, since a
// packet in flight may still hold them.
import { describe, expect, it } from 'vitest';
import { ConnEntry, Conntrack, CtStatus, formatConntrackEntry } from '../../src/netfilter/conntrack.js';
import { RngFactory } from '../../src/core/rng.js';
import { SEC } from '../../src/core/time.js';
import { TcpFlag } from '../../src/wire/types.js';
import { tcp, udp } from './helpers.js';
import { expCopy } from '../../src/netfilter/ct-list.js';
import type { Packet } from '../../src/packet/packet.js';

const table = (): Conntrack => new Conntrack(new RngFactory(1).stream('nat'));

/** Tracks and confirms `p` at `now` (one namespace's PREROUTING ... POSTROUTING); returns its entry. */
function track(t: Conntrack, p: Packet, now: number): ConnEntry {
  expect(t.in(p, now)).toEqual({ ok: true });
  expect(t.confirm(p, now)).toEqual({ ok: true });
  return p.ct as ConnEntry;
}

describe('conntrack free list', () => {
  it('reuses an expired entry only 10 s after its expiry, as a fresh entry would be', () => {
    const t = table();
    const a = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), 1 * SEC); // UDP: expires at 31 s
    a.mark = 7;
    // 5 s past the expiry: the incremental gc destroys A, but the new entry is a new object.
    const b = track(t, udp('10.0.0.1', 1001, '10.0.0.2', 53), 36 * SEC);
    expect(b).not.toBe(a);
    expect(t.holds(a)).toBe(false); // reaped by the gc sweep, which does not write it (no DYING: see Conntrack.reap)
    expect(t.list()).toEqual([b]);
    // 10 s past it: A comes back for the next connection, a TCP one, with nothing of its old self.
    const syn = tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.SYN);
    const c = track(t, syn, 41 * SEC);
    expect(c).toBe(a);
    expect(c.id).toBeGreaterThan(b.id);
    const fresh = track(table(), tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.SYN), 41 * SEC);
    expect(formatConntrackEntry(c, 41 * SEC)).toBe(formatConntrackEntry(fresh, 41 * SEC));
    expect([c.status, c.tcpState, c.tcpSeen, c.mark, c.udpStreamTs, c.expires]).toEqual([fresh.status, fresh.tcpState, fresh.tcpSeen, fresh.mark, fresh.udpStreamTs, fresh.expires]);
    // every own field, so a field added to ConnEntry later and not reset by renew() fails here
    const own = (e: ConnEntry): Record<string, unknown> => Object.fromEntries(Object.entries(e).filter(([k]) => !['owner', 'id', 'pos'].includes(k)));
    expect(Object.keys(own(c)).length).toBeGreaterThan(10);
    expect(own(c)).toEqual(own(fresh));
    expect(t.list()).toEqual([b, c]);
    expect(t.lookup(c.reply, 41 * SEC)).toEqual({ ct: c, dir: 1 });
    expect(t.lookup(a.orig, 41 * SEC)?.ct).toBe(c); // (a is c: its ORIGINAL tuple is now the TCP one)
    expect(t.lookup({ proto: 17, src: 0x0a000001, sport: 1000, dst: 0x0a000002, dport: 53 }, 41 * SEC)).toBeUndefined();
  });

  it('takes the entry destroyed first, or else the one destroyed last, whichever has been expired 10 s', () => {
    // A (UDP, expires at 31 s) then B (UDP, 50 s), destroyed in that order by the sweep at 52 s: B, the latest,
    // is not 10 s past its expiry, A is (a stack's top alone would be B: a new object).
    const t = table();
    const a = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), 1 * SEC);
    const b = track(t, udp('10.0.0.1', 1001, '10.0.0.2', 53), 20 * SEC);
    expect(t.gc(52 * SEC)).toBe(2);
    expect(track(t, udp('10.0.0.1', 1002, '10.0.0.2', 53), 52 * SEC)).toBe(a);
    // X (TCP SYN_SENT, expires at 121 s) then Y (UDP, 32 s), destroyed in that order at 125 s: the first, X, is
    // not 10 s past its expiry, the last, Y, is (taking from the oldest end alone would make a new object).
    const u = table();
    const x = track(u, tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.SYN), 1 * SEC);
    const y = track(u, udp('10.0.0.1', 1000, '10.0.0.2', 53), 2 * SEC);
    expect(u.gc(125 * SEC)).toBe(2);
    const z = track(u, udp('10.0.0.1', 1003, '10.0.0.2', 53), 125 * SEC);
    expect(z).toBe(y);
    expect(z).not.toBe(x);
    // Then X, 10 s past its expiry.
    expect(track(u, udp('10.0.0.1', 1004, '10.0.0.2', 53), 131 * SEC)).toBe(x);
    expect(b.status & CtStatus.DYING).toBe(CtStatus.DYING);
  });

  it('a new connection takes the entry its own gc step destroyed last, once that has been expired 10 s', () => {
    // A (UDP, expires at 31 s) then B (32 s): the next connection's in() at 50 s sweeps both (two gc steps)
    // and gets B, the one destroyed last (its lines just read and written), not A, destroyed first.
    const t = table();
    const a = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), 1 * SEC);
    const b = track(t, udp('10.0.0.1', 1001, '10.0.0.2', 53), 2 * SEC);
    const c = track(t, udp('10.0.0.1', 1002, '10.0.0.2', 53), 50 * SEC);
    expect(c).toBe(b);
    expect(t.holds(a)).toBe(false); // reaped by the gc sweep, which does not write it (no DYING: see Conntrack.reap)
    expect(t.list()).toEqual([c]);
    // A, still in the free list, is the next one taken.
    expect(track(t, udp('10.0.0.1', 1003, '10.0.0.2', 53), 51 * SEC)).toBe(a);
  });

  it('never reuses an entry removed while alive (conntrack -D, a reopening SYN)', () => {
    const t = table();
    const deleted = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), 1 * SEC);
    t.remove(deleted);
    // A TCP connection closed by its client, then reopened by a SYN on the same tuple: the kernel kills
    // the TIME_WAIT entry and makes a new one.
    const syn = tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.SYN);
    const old = track(t, syn, 2 * SEC);
    for (const [src, sport, dst, dport, f] of [
      ['10.0.0.4', 80, '10.0.0.3', 40000, TcpFlag.SYN | TcpFlag.ACK],
      ['10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.ACK],
      ['10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.FIN | TcpFlag.ACK],
      ['10.0.0.4', 80, '10.0.0.3', 40000, TcpFlag.FIN | TcpFlag.ACK],
      ['10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.ACK],
    ] as const) track(t, tcp(src, sport, dst, dport, f), 2 * SEC);
    expect(old.tcpState).toBe('TIME_WAIT');
    const reopened = track(t, tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.SYN), 3 * SEC);
    expect(reopened).not.toBe(old);
    // Long after every expiry, new connections are new objects: neither removed entry comes back.
    const later: ConnEntry[] = [];
    for (let i = 0; i < 8; i++) later.push(track(t, udp('10.0.1.1', 2000 + i, '10.0.1.2', 53), (1000 + i) * SEC));
    expect(later).not.toContain(deleted);
    expect(later).not.toContain(old);
    expect(later).toContain(reopened); // expired (SYN_SENT, 120 s) and destroyed by the gc: reused
  });

  it('in a steady stream of connections, new entries are recycled ones once the first have been dead 10 s', () => {
    // One UDP flow every 50 ms for 200 s, each expiring 30 s after it starts: the gc destroys entries
    // as they expire, so the newest dead entry has always just died; only the oldest one is reusable.
    const t = table();
    const seen = new Set<ConnEntry>();
    let fresh = 0;
    let late = 0;
    for (let i = 0; i < 4000; i++) {
      const now = 1 * SEC + i * (SEC / 20);
      const e = track(t, udp('10.0.0.1', 1024 + (i % 60000), '10.0.0.2', 53), now);
      if (!seen.has(e)) {
        seen.add(e);
        fresh++;
        if (now > 60 * SEC) late++;
      }
    }
    // Past 60 s (30 s of live entries, 10 s of waiting, and what the gc's two steps a connection leave
    // behind) nearly every connection reuses an entry: of its 2,800 connections, under 10 % are new
    // objects (a stack of dead entries gave 1,156, every second one).
    expect(late).toBeLessThan(280);
    expect(fresh).toBeLessThan(1400);
    expect(t.list().length).toBeLessThan(800);
  });

  it('on a busy node (1,000 new connections a second) the free list covers the 10 s wait: nearly every entry is reused', () => {
    // 10,000 entries die in any 10 s: a free list of a few thousand would let most new entries be new objects.
    const t = table();
    const seen = new Set<ConnEntry>();
    let late = 0;
    let lateFresh = 0;
    for (let i = 0; i < 120_000; i++) {
      const now = 1 * SEC + i * (SEC / 1000);
      const p = udp(`10.0.${i >> 15}.1`, 1024 + (i & 0x7fff), '10.0.0.2', 53);
      expect(t.in(p, now).ok && t.confirm(p, now).ok).toBe(true);
      const e = p.ct as ConnEntry;
      const fresh = !seen.has(e);
      if (fresh) seen.add(e);
      if (now > 80 * SEC) {
        late++;
        if (fresh) lateFresh++;
      }
    }
    expect(late).toBeGreaterThan(30_000);
    expect(lateFresh / late).toBeLessThan(0.1);
  });

  it('a full table that drops the new connection keeps the entry its gc step destroyed for the next one', () => {
    // nf_conntrack_max 2; A (UDP, expires at 31 s) confirmed, then B and C passed in() together (both under the
    // limit) and confirmed: three entries. B and C are ASSURED, so early_drop finds nothing to evict.
    const t = new Conntrack(new RngFactory(1).stream('nat'), { max: 2 });
    const a = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), 1 * SEC);
    const pb = udp('10.0.0.1', 1001, '10.0.0.2', 53);
    const pc = udp('10.0.0.1', 1002, '10.0.0.2', 53);
    expect(t.in(pb, 30 * SEC)).toEqual({ ok: true }); // (A still alive: their gc steps leave it)
    expect(t.in(pc, 30 * SEC)).toEqual({ ok: true });
    expect(t.confirm(pb, 30 * SEC)).toEqual({ ok: true });
    expect(t.confirm(pc, 30 * SEC)).toEqual({ ok: true });
    const [b, c] = [pb.ct as ConnEntry, pc.ct as ConnEntry];
    b.status |= CtStatus.ASSURED;
    c.status |= CtStatus.ASSURED;
    // D at 45 s: its gc step destroys A (dead 14 s: reusable), the table is still full and nothing can be
    // evicted, so D is dropped; A goes to the free list rather than being lost with the drop.
    const drops = t.stats.drop;
    expect(t.in(udp('10.0.0.1', 1003, '10.0.0.2', 53), 45 * SEC)).toEqual({ ok: false, reason: 'conntrack-table-full' });
    expect(t.stats.drop).toBe(drops + 1);
    expect(t.holds(a)).toBe(false); // reaped by the gc sweep, which does not write it (no DYING: see Conntrack.reap)
    expect(t.list()).toEqual([b, c]);
    // B no longer ASSURED: E evicts it (early_drop, not reused: removed alive) and gets A from the free list.
    b.status &= ~CtStatus.ASSURED;
    const e = track(t, udp('10.0.0.1', 1004, '10.0.0.2', 53), 45 * SEC);
    expect(t.stats.early_drop).toBe(1);
    expect(e).toBe(a);
    expect(e).not.toBe(b);
  });

  it('the gc sweep reaps an entry whose expiry copy is below now\'s tick without reading or writing it; the stale entry stays harmless', () => {
    const t = table();
    const b = track(t, tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.SYN), 1 * SEC); // index 0, expires at 121 s
    const a = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), 1 * SEC); // index 1, expires at 31 s
    const d = track(t, tcp('10.0.0.3', 40001, '10.0.0.4', 80, TcpFlag.SYN), 1 * SEC); // index 2
    const pos = a.pos;
    // Any read or write of A's fields from here throws (own accessors shadow them): the sweep at 40 s must not touch it.
    const trap = (): never => { throw new Error('reaped entry touched'); };
    const saved = ['expHi', 'expLo', 'status', 'pos', 'proto', 'oSrc', 'oDst', 'oPorts', 'rSrc', 'rDst', 'rPorts'].map((k) => [k, (a as unknown as Record<string, number>)[k]] as const);
    for (const [k] of saved) Object.defineProperty(a, k, { get: trap, set: trap, configurable: true });
    const c = track(t, udp('10.0.0.1', 1002, '10.0.0.2', 53), 40 * SEC); // its gc step reaps A (dead 9 s: kept, not reused), a hole between B and D
    for (const [k, v] of saved) Object.defineProperty(a, k, { value: v, writable: true, configurable: true, enumerable: true });
    expect(c).not.toBe(a);
    expect(t.list()).toEqual([b, d, c]);
    expect([a.pos, a.status & CtStatus.DYING]).toEqual([pos, 0]); // stale: out of the list all the same
    expect(t.holds(a)).toBe(false);
    expect(t.lookup(a.orig, 40 * SEC)).toBeUndefined();
    expect(t.lookup(a.reply, 40 * SEC)).toBeUndefined();
    // What a holder of the stale entry may do leaves the table alone: set its expiry, remove it (conntrack -D).
    a.expires = 500 * SEC;
    expect([t.list(), t.exp[pos]]).toEqual([[b, d, c], -1]);
    t.remove(a);
    expect(t.list()).toEqual([b, d, c]);
    expect(t.size).toBe(6); // the tuples of B, D and C
    expect(t.exp[pos]).toBe(-1); // still a hole
    expect(t.exp[b.pos]).toBe(expCopy(b.expires));
    expect(t.exp[c.pos]).toBe(expCopy(c.expires));
    expect(t.lookup(b.orig, 40 * SEC)?.ct).toBe(b);
  });

  it('a stale entry\'s index taken by a new entry of the same tuple: removing the stale one leaves the new one', () => {
    const t = table();
    const m = track(t, tcp('10.0.0.3', 40000, '10.0.0.4', 80, TcpFlag.SYN), 1 * SEC); // index 0, 120 s
    const n = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), 2 * SEC); // index 1, expires at 32 s
    expect([m.pos, n.pos]).toEqual([0, 1]);
    const z = track(t, udp('10.0.0.5', 7, '10.0.0.6', 8), 40 * SEC); // its gc step reaps N (the tail: dropped), Z at 1
    expect(z.pos).toBe(1);
    t.remove(z); // conntrack -D: the tail again
    const y = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), 41 * SEC); // N's tuple at N's index (N dead 9 s: not reused)
    expect([y === n, y.pos, n.pos]).toEqual([false, 1, 1]);
    expect(t.holds(n)).toBe(false);
    t.remove(n); // stale: must not delete Y's tuples (the same slot keys at the same index)
    expect(t.size).toBe(4); // the hash's tuples: M's and Y's
    expect(t.lookup(y.orig, 41 * SEC)?.ct).toBe(y);
    expect(t.lookup(y.reply, 41 * SEC)?.ct).toBe(y);
    expect(t.list()).toEqual([m, y]);
  });
});
