// Built-in chains' policy counters (netfilter/nf-counters.ts: counted by hook slot, not on the chain's
// id page): an empty ACCEPT chain counts every packet of its hook, traced or not, on top of the counters
// it was loaded with; a chain with rules counts only the packets its rules let fall through; a DROP
// policy counts what it drops; the counts survive loadNoflush of the same rules and a load resets them.
import { describe, expect, it } from 'vitest';
import { Netfilter, NfHook, type NfTraceEvent } from '../../src/netfilter/netfilter.js';
import type { TableName } from '../../src/netfilter/rules.js';
import { countHash, countHashSrc } from '../../src/netfilter/nf-counters.js';
import { FakeHost, ip, rules, udp } from './helpers.js';

const RULES = `*mangle
  :PREROUTING ACCEPT [5:300]
  :INPUT ACCEPT [0:0]
  :FORWARD DROP [0:0]
  :OUTPUT ACCEPT [0:0]
  :POSTROUTING ACCEPT [0:0]
  COMMIT
  *filter
  :INPUT ACCEPT [0:0]
  :FORWARD ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  -A INPUT -p udp --dport 9 -j DROP
  COMMIT`;

/** [packets, bytes] of a built-in chain's policy counter. */
function policy(nf: Netfilter, table: TableName, chain: string): [number, number] {
  const c = nf.ruleset().tables.find((t) => t.name === table)!.chains.find((x) => x.name === chain)!;
  return [c.counters.packets, c.counters.bytes];
}

describe('policy counters', () => {
  it('count per hook slot, traced or not, and survive a noflush reload of the same rules', () => {
    const host = new FakeHost([ip('10.0.0.2')]);
    const nf = new Netfilter(host);
    nf.load(rules(RULES));
    const events: NfTraceEvent[] = [];
    const up = (dport: number): string => {
      const p = udp('10.0.0.1', 1000, '10.0.0.2', dport); // 38 bytes
      const v = nf.hook(NfHook.PREROUTING, p, 'eth0', null);
      return v.kind === 'accept' ? nf.hook(NfHook.INPUT, p, 'eth0', null).kind : v.kind;
    };
    expect([up(53), up(9)]).toEqual(['accept', 'drop']);
    nf.trace = (ev) => events.push(ev);
    expect([up(53), up(9)]).toEqual(['accept', 'drop']);
    // mangle PREROUTING / INPUT: empty, every packet; filter INPUT: the two that passed its rule.
    expect(policy(nf, 'mangle', 'PREROUTING')).toEqual([5 + 4, 300 + 4 * 38]);
    expect(policy(nf, 'mangle', 'INPUT')).toEqual([4, 4 * 38]);
    expect(policy(nf, 'filter', 'INPUT')).toEqual([2, 2 * 38]);
    expect(policy(nf, 'mangle', 'OUTPUT')).toEqual([0, 0]);
    expect(events.filter((e) => e.rule === -1).map((e) => `${e.table} ${e.chain}`)).toEqual(['mangle PREROUTING', 'mangle INPUT', 'filter INPUT', 'mangle PREROUTING', 'mangle INPUT']);
    nf.trace = null;
    // A DROP policy on an empty chain counts and drops.
    const f = udp('10.0.0.1', 1000, '10.0.0.3', 53);
    expect(nf.hook(NfHook.PREROUTING, f, 'eth0', null).kind).toBe('accept');
    expect(nf.hook(NfHook.FORWARD, f, 'eth0', 'eth1')).toMatchObject({ kind: 'drop', reason: 'policy-drop', table: 'mangle', chain: 'FORWARD', rule: -1 });
    expect(policy(nf, 'mangle', 'FORWARD')).toEqual([1, 38]);
    // The same rules again without flushing: the counts stay (iptables-restore --noflush, nothing written).
    nf.loadNoflush(nf.ruleset(), null);
    expect(policy(nf, 'mangle', 'PREROUTING')).toEqual([5 + 5, 300 + 5 * 38]);
    expect(policy(nf, 'filter', 'INPUT')).toEqual([2, 2 * 38]);
    up(53);
    expect(policy(nf, 'mangle', 'PREROUTING')).toEqual([5 + 6, 300 + 6 * 38]);
    expect(nf.save()).toContain(':PREROUTING ACCEPT');
    // A plain load starts every count again from the loaded ones.
    nf.load(rules(RULES));
    expect(policy(nf, 'mangle', 'PREROUTING')).toEqual([5, 300]);
    expect(policy(nf, 'mangle', 'INPUT')).toEqual([0, 0]);
  });
});

describe('countHash in generated code', () => {
  it('countHashSrc computes what countHash does (the generated walks count in the home quads hit() uses)', () => {
    const gen = new Function('x', `return ${countHashSrc('x')};`) as (x: number) => number;
    for (const id of [0, 1, 5, 4095, 4096, 0x7654321, 0x7fffffff, 123456789]) expect(gen(id)).toBe(countHash(id));
  });
});
