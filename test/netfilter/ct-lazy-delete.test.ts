// netfilter/conntrack's lazy deletion (session 47): the gc sweep reaps an expired entry without deleting its tuples'
// slots from the hash (`TupleMap.forget`; each deletion read a random line of a cold table). The slots stay, stale: a
// probe skips a stale slot whose tuple matches (CtList.live: its index no longer listed with that key), the shared
// recent slots forget the entry at once, and a rebuild (grow) or a squeeze drops them.
import { describe, expect, it } from 'vitest';
import { ConnEntry, Conntrack } from '../../src/netfilter/conntrack.js';
import { RngFactory } from '../../src/core/rng.js';
import { SEC } from '../../src/core/time.js';
import { udp } from './helpers.js';
import type { Packet } from '../../src/packet/packet.js';

const table = (): Conntrack => new Conntrack(new RngFactory(1).stream('nat'));
/** The hash's private counts: slots used (live and stale) and the stale bound. */
const inner = (t: Conntrack): { used: number; stale: number; mask: number; free: unknown[] } => t as unknown as { used: number; stale: number; mask: number; free: unknown[] };

function track(t: Conntrack, p: Packet, now: number): ConnEntry {
  expect(t.in(p, now)).toEqual({ ok: true });
  expect(t.confirm(p, now)).toEqual({ ok: true });
  return p.ct as ConnEntry;
}

describe('conntrack lazy deletion of reaped tuples', () => {
  it('a tuple reaped by the sweep and opened again finds the new entry beyond the stale slots (lookup and confirm skip them)', () => {
    const t = table();
    const r = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), 1 * SEC); // expires at 31 s
    const o = track(t, udp('10.0.0.7', 7, '10.0.0.8', 8), 35 * SEC); // its gc step reaps R (dead 4 s: kept, not reused)
    expect(t.holds(r)).toBe(false);
    expect(inner(t).stale).toBe(2); // R's two slots left in the hash
    expect(inner(t).used).toBe(4);
    expect(t.size).toBe(2); // O's tuples: stale slots not counted
    expect(t.lookup(r.orig, 35 * SEC)).toBeUndefined();
    expect(inner(t).free[1]).toBe(1); // R in the free list once (a stale slot taken for R's would push it again)
    // The same tuple again: its slots lie beyond R's in the probe run. Were R's stale slots taken as R's, the lookup
    // would return R (expired: a second push of R into the free list) and confirm's insert would clash with it forever.
    const x = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), 36 * SEC);
    expect(x).not.toBe(r);
    expect([x.pos, inner(t).free[1]]).toEqual([2, 1]);
    expect(t.lookup(r.orig, 36 * SEC)).toEqual({ ct: x, dir: 0 });
    expect(t.lookup(r.reply, 36 * SEC)).toEqual({ ct: x, dir: 1 });
    expect(t.list()).toEqual([o, x]);
    expect(t.size).toBe(4);
    // A packet of X's connection is X's (the probe from the tuple's home passes R's stale slots first).
    const p = udp('10.0.0.2', 53, '10.0.0.1', 1000);
    expect(t.in(p, 37 * SEC)).toEqual({ ok: true });
    expect([p.ct, p.ctDir]).toEqual([x, 1]);
  });

  it('a reaped entry leaves the shared recent slots at once: recycled for its own tuple, it is handed out once', () => {
    const t = table();
    const r = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), 1 * SEC); // expires at 31 s; confirm put it in the recent slots
    track(t, udp('10.0.0.7', 7, '10.0.0.8', 8), 35 * SEC); // reaps R (dead 4 s: to the free list)
    // R's tuple at 45 s (R dead 14 s): not found (a recent slot still naming R would hand R back, expired, and R would
    // be pushed to the free list a second time), so R is recycled for it, once.
    const x = track(t, udp('10.0.0.1', 1000, '10.0.0.2', 53), 45 * SEC);
    expect(x).toBe(r);
    const y = track(t, udp('10.0.0.9', 9, '10.0.0.10', 10), 46 * SEC);
    const z = track(t, udp('10.0.0.11', 11, '10.0.0.12', 12), 47 * SEC);
    expect(new Set([x, y, z]).size).toBe(3);
    expect(t.lookup(x.orig, 47 * SEC)).toEqual({ ct: x, dir: 0 });
    expect(t.list().length).toBe(4);
  });

  it('rebuilds and squeezes drop the stale slots; every live tuple is found and no reaped one', () => {
    const t = table();
    const old: ConnEntry[] = [];
    for (let i = 0; i < 200; i++) old.push(track(t, udp('10.0.1.1', 1000 + i, '10.0.2.2', 53), 1 * SEC + i)); // expire at ~31 s
    const orig = old.map((e) => e.orig);
    const live: ConnEntry[] = [];
    let minStale = Infinity;
    let sawStale = 0;
    for (let i = 0; i < 600; i++) {
      live.push(track(t, udp('10.0.3.3', 2000 + i, '10.0.4.4', 80), 100 * SEC + i)); // each reaps two old ones, then none
      sawStale = Math.max(sawStale, inner(t).stale);
      if (sawStale > 0) minStale = Math.min(minStale, inner(t).stale);
    }
    expect(sawStale).toBeGreaterThan(0);
    expect(minStale).toBe(0); // a rebuild or a squeeze dropped them
    expect(t.count).toBe(600);
    expect(t.size).toBe(1200);
    expect(inner(t).used).toBeLessThanOrEqual(1200 + inner(t).stale);
    expect(inner(t).used).toBeGreaterThanOrEqual(1200);
    expect((inner(t).mask + 1) / 4).toBeGreaterThanOrEqual(inner(t).used); // at most a quarter used, stale slots included
    for (const e of live) expect(t.lookup(e.orig, 101 * SEC)).toEqual({ ct: e, dir: 0 });
    for (const e of live) expect(t.lookup(e.reply, 101 * SEC)).toEqual({ ct: e, dir: 1 });
    for (const o of orig) expect(t.lookup(o, 101 * SEC)).toBeUndefined();
    expect(t.list()).toEqual(live);
  });
});
