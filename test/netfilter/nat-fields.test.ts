// Layouts of issue 13 in netfilter whose invariants a change could break silently: the table's nf_conntrack_max is a field
// that `cfg.max` reads and writes (k8s/failures.ts changes it there); the hooks' slots name their table and chain (SLOT_TABLE,
// SLOT_CHAIN, made from SLOT's names); a DNAT / SNAT rule's range handed as numbers (Conntrack.setupNatRange) binds as the
// NatSetup record does (setupNat).
import { describe, expect, it } from 'vitest';
import { RngFactory } from '../../src/core/rng.js';
import { SEC } from '../../src/core/time.js';
import { Conntrack, NatManip, formatConntrackEntry, natFlags, type ConnEntry, type NatSetup } from '../../src/netfilter/conntrack.js';
import { SLOT, SLOT_CHAIN, SLOT_TABLE } from '../../src/netfilter/nf-hook-nft.js';
import { ip, tcp, udp } from './helpers.js';

describe('conntrack max as a field of the table', () => {
  it('cfg.max reads and writes the limit inNew tests', () => {
    const t = new Conntrack(new RngFactory(1).stream('nat'), { max: 1 });
    expect(t.cfg.max).toBe(1);
    const p = udp('10.0.0.1', 1000, '10.0.0.2', 53);
    expect(t.in(p, SEC)).toEqual({ ok: true });
    expect(t.confirm(p, SEC)).toEqual({ ok: true });
    expect(t.count).toBe(1);
    (t.list()[0] as ConnEntry).status |= 4; // ASSURED: early_drop evicts nothing
    expect(t.in(udp('10.0.0.1', 1001, '10.0.0.2', 53), SEC)).toEqual({ ok: false, reason: 'conntrack-table-full' });
    t.cfg.max = 3;
    expect(t.cfg.max).toBe(3);
    expect(t.in(udp('10.0.0.1', 1002, '10.0.0.2', 53), SEC)).toEqual({ ok: true });
    const q = new Conntrack(new RngFactory(1).stream('nat'));
    expect(q.cfg.max).toBe(262144);
    expect(q.cfg.tcpLoose).toBe(true);
  });
});

describe('hook slots', () => {
  it('name their table and chain', () => {
    const names = Object.keys(SLOT) as (keyof typeof SLOT)[];
    const hooks: Record<string, string> = { PRE: 'PREROUTING', IN: 'INPUT', FWD: 'FORWARD', OUT: 'OUTPUT', POST: 'POSTROUTING' };
    expect(names.length).toBe(14);
    for (const n of names) {
      const [table, hook] = n.split('_') as [string, string];
      expect(SLOT_TABLE[SLOT[n]]).toBe(table.toLowerCase());
      expect(SLOT_CHAIN[SLOT[n]]).toBe(hooks[hook]);
    }
  });
});

describe('a NAT range as numbers', () => {
  const ranges: Array<[string, NatSetup]> = [
    ['dnat one port', { minIp: ip('10.244.1.5'), maxIp: ip('10.244.1.5'), ports: { min: 8080, max: 8080 }, random: false, randomFully: false, persistent: false }],
    ['dnat no port', { minIp: ip('10.244.1.5'), maxIp: ip('10.244.1.5'), ports: null, random: false, randomFully: false, persistent: false }],
    ['snat range', { minIp: ip('192.168.0.1'), maxIp: ip('192.168.0.4'), ports: { min: 1000, max: 1003 }, random: false, randomFully: false, persistent: true }],
    ['snat fully random', { minIp: ip('172.16.0.1'), maxIp: ip('172.16.0.1'), ports: null, random: false, randomFully: true, persistent: false }],
  ];
  for (const [name, r] of ranges) {
    it(`binds as the record does: ${name}`, () => {
      const manip = name.startsWith('dnat') ? NatManip.DST : NatManip.SRC;
      const a = new Conntrack(new RngFactory(5).stream('nat'));
      const b = new Conntrack(new RngFactory(5).stream('nat'));
      const p = r.ports;
      for (let i = 0; i < 12; i++) {
        // Twelve connections of few source ports: the later SNATs find their first choice used.
        const pa = tcp(`10.0.0.${1 + i}`, 1000 + (i % 3), '10.96.0.10', 80);
        const pb = tcp(`10.0.0.${1 + i}`, 1000 + (i % 3), '10.96.0.10', 80);
        const now = SEC + i;
        a.in(pa, now);
        b.in(pb, now);
        const okA = a.setupNat(pa.ct as ConnEntry, manip, r, now);
        const okB = b.setupNatRange(pb.ct as ConnEntry, manip, r.minIp, r.maxIp, p === null ? -1 : p.min, p === null ? -1 : p.max, natFlags(r.random, r.randomFully, r.persistent));
        expect(okB).toBe(okA);
        if (!okA) continue;
        a.confirm(pa, now);
        b.confirm(pb, now);
        expect(formatConntrackEntry(pb.ct as ConnEntry, now)).toBe(formatConntrackEntry(pa.ct as ConnEntry, now));
      }
      expect(b.count).toBe(a.count);
    });
  }
});
