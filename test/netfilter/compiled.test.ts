// Compiled chains shared between namespaces (netfilter/compiled.ts): namespaces that load the same
// chain share one compiled object, yet each evaluates against its own state (addresses, conntrack) and
// keeps its own counters; a chain whose jump target differs between namespaces is compiled apart.
import { describe, expect, it } from 'vitest';
import { restoreInto } from '../../src/netfilter/iptables-save.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { TcpFlag } from '../../src/wire/types.js';
import { FakeHost, ip, rules, tcp } from './helpers.js';

const A = '192.168.1.10';
const B = '192.168.1.11';

const BASE = `*filter
  :INPUT DROP [0:0]
  :FORWARD ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  :SVC - [0:0]
  :LOCAL - [0:0]
  -A INPUT -p tcp -j SVC
  -A SVC -p tcp --dport 80 -j LOCAL
  -A LOCAL -m addrtype --dst-type LOCAL -j ACCEPT
  COMMIT`;

describe('compiled chains shared between namespaces', () => {
  it('share one compiled chain, match against each namespace\'s own addresses and count per namespace', () => {
    const rs = rules(BASE);
    const a = new Netfilter(new FakeHost([ip(A)]));
    const b = new Netfilter(new FakeHost([ip(B)]));
    a.load(rs);
    b.load(rs);
    for (const chain of ['INPUT', 'SVC', 'LOCAL']) expect(a.compiledChain('filter', chain)).toBe(b.compiledChain('filter', chain));
    // The same packet to A's address: local on A (accepted), not on B (INPUT's DROP policy).
    expect(a.hook(NfHook.INPUT, tcp('10.0.0.1', 1000, A, 80, TcpFlag.SYN), 'eth0', null).kind).toBe('accept');
    expect(b.hook(NfHook.INPUT, tcp('10.0.0.1', 1000, A, 80, TcpFlag.SYN), 'eth0', null)).toMatchObject({ kind: 'drop', reason: 'policy-drop' });
    const noCounters = (text: string) => text.replace(/\[\d+:\d+\]/g, '');
    expect(noCounters(a.save())).toBe(noCounters(b.save()));
    expect(b.save()).toContain(':INPUT DROP [1:40]');
    const counters = (nf: Netfilter) => nf.ruleset().tables[0]!.chains.map((c) => `${c.name} ${c.counters.packets} ${c.rules.map((r) => r.counters.packets).join(',')}`);
    expect(counters(a)).toEqual(['INPUT 0 1', 'FORWARD 0 ', 'OUTPUT 0 ', 'LOCAL 0 1', 'SVC 0 1']);
    expect(counters(b)).toEqual(['INPUT 1 1', 'FORWARD 0 ', 'OUTPUT 0 ', 'LOCAL 0 0', 'SVC 0 1']);
  });

  it('compiles apart only the chains whose rules or jump targets differ (a per-node overlay)', () => {
    const base = rules(BASE);
    const overlay = (addr: string) => rules(`*filter
      :LOCAL - [0:0]
      -A LOCAL -d ${addr}/32 -j ACCEPT
      COMMIT`);
    const a = new Netfilter(new FakeHost([ip(A)]));
    const b = new Netfilter(new FakeHost([ip(B)]));
    const c = new Netfilter(new FakeHost([ip(B)]));
    a.load(restoreInto(base, overlay(A), true));
    b.load(restoreInto(base, overlay(B), true));
    c.load(restoreInto(base, overlay(B), false));
    // LOCAL differs, so SVC (which jumps to it) and INPUT (which jumps to SVC) differ too.
    for (const chain of ['INPUT', 'SVC', 'LOCAL']) expect(a.compiledChain('filter', chain)).not.toBe(b.compiledChain('filter', chain));
    expect(a.compiledChain('filter', 'FORWARD')).toBe(b.compiledChain('filter', 'FORWARD'));
    expect(a.save()).toContain(`-A LOCAL -d ${A}/32 -j ACCEPT`);
    expect(b.save()).toContain(`-A LOCAL -d ${B}/32 -j ACCEPT`);
    expect(b.hook(NfHook.INPUT, tcp('10.0.0.1', 1000, B, 80, TcpFlag.SYN), 'eth0', null).kind).toBe('accept');
    expect(b.hook(NfHook.INPUT, tcp('10.0.0.1', 1000, A, 80, TcpFlag.SYN), 'eth0', null).kind).toBe('drop');
    // Without --noflush the overlay replaces the table: only LOCAL is left besides the built-ins.
    expect(c.save()).not.toContain('-A SVC');
  });

  it('accepts a loop no built-in chain reaches and refuses one that is reached', () => {
    const rs = rules(`*filter
      :INPUT ACCEPT [0:0]
      :X - [0:0]
      :Y - [0:0]
      -A X -j Y
      -A Y -j X
      COMMIT`);
    const nf = new Netfilter(new FakeHost([ip(A)]));
    expect(() => nf.load(rs)).not.toThrow();
    expect(nf.save()).toContain('-A Y -j X');
    // iptables-restore refuses the reached loop at COMMIT; a ruleset built in code meets load's check.
    const t = rs.tables[0]!;
    const toY = t.chains.find((c) => c.name === 'X')!.rules[0]!;
    const reached = { ...rs, tables: [{ ...t, chains: t.chains.map((c) => (c.name === 'INPUT' ? { ...c, rules: [toY] } : c)) }] };
    expect(() => nf.load(reached)).toThrow('filter: chain loop INPUT -> Y -> X -> Y');
  });
});
