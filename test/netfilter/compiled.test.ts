// Compiled chains shared between namespaces (netfilter/compiled.ts): namespaces that load the same
// chain share one compiled object, yet each evaluates against its own state (addresses, conntrack) and
// keeps its own counters; a chain whose jump target differs between namespaces is compiled apart.
import { describe, expect, it } from 'vitest';
import { renderIptablesSave, restoreInto } from '../../src/netfilter/iptables-save.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { TcpFlag } from '../../src/wire/types.js';
import { FakeHost, ip, rules, tcp, udp } from './helpers.js';

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
  it('a big table that differs from the last one in a few chains shares the rest and resolves those and their callers anew', () => {
    // 100 services (SVC-i -> SEP-i) behind DISPATCH, as kube-proxy writes them; SVC-7 also jumps to the
    // per-node LOCAL chain. Tables this big are compared with the previous one of their name.
    const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':DISPATCH - [0:0]', ':LOCAL - [0:0]'];
    for (let i = 0; i < 100; i++) lines.push(`:SVC-${i} - [0:0]`, `:SEP-${i} - [0:0]`);
    lines.push('-A INPUT -p tcp -j DISPATCH');
    for (let i = 0; i < 100; i++) {
      lines.push(`-A DISPATCH -p tcp --dport ${1000 + i} -j SVC-${i}`, `-A SEP-${i} -p tcp -j ACCEPT`);
      if (i === 7) lines.push(`-A SVC-${i} -j LOCAL`);
      lines.push(`-A SVC-${i} -j SEP-${i}`);
    }
    const base = rules([...lines, 'COMMIT'].join('\n'));
    // One parsed overlay per address (compiled chains are shared by rule array, as kube-proxy's parse cache keeps them).
    const overlays = new Map([A, B].map((addr) => [addr, rules(`*filter
      :LOCAL - [0:0]
      -A LOCAL -d ${addr}/32 -j DROP
      COMMIT`)]));
    const overlay = (addr: string) => overlays.get(addr)!;
    const hosts = [A, B, A];
    const nfs = hosts.map((h) => new Netfilter(new FakeHost([ip(h)])));
    const texts = hosts.map((h) => restoreInto(base, overlay(h), true));
    nfs.forEach((nf, i) => nf.load(texts[i]!));
    nfs.forEach((nf, i) => expect(nf.save()).toBe(renderIptablesSave(texts[i]!)));
    const [a, b, c] = nfs as [Netfilter, Netfilter, Netfilter];
    for (const chain of ['SVC-8', 'SEP-7', 'SEP-99', 'OUTPUT']) {
      expect(b.compiledChain('filter', chain)).toBe(a.compiledChain('filter', chain));
      expect(c.compiledChain('filter', chain)).toBe(a.compiledChain('filter', chain));
    }
    // LOCAL differs between A and B, so do the chains that reach it; the third namespace (A again) shares A's.
    for (const chain of ['LOCAL', 'SVC-7', 'DISPATCH', 'INPUT']) {
      expect(b.compiledChain('filter', chain)).not.toBe(a.compiledChain('filter', chain));
      expect(c.compiledChain('filter', chain)).toBe(a.compiledChain('filter', chain));
    }
    // Each namespace evaluates its own LOCAL: port 1007 to B is dropped on B only.
    expect(b.hook(NfHook.INPUT, tcp('10.0.0.1', 1000, B, 1007, TcpFlag.SYN), 'eth0', null).kind).toBe('drop');
    expect(a.hook(NfHook.INPUT, tcp('10.0.0.1', 1000, B, 1007, TcpFlag.SYN), 'eth0', null).kind).toBe('accept');
    expect(a.hook(NfHook.INPUT, tcp('10.0.0.1', 1000, A, 1007, TcpFlag.SYN), 'eth0', null).kind).toBe('drop');
    // A jump to a chain the table lacks is still refused with its name.
    const t = texts[1]!.tables[0]!;
    const broken = { ...texts[1]!, tables: [{ ...t, chains: t.chains.map((ch) => (ch.name === 'LOCAL' ? { ...ch, rules: [{ ...ch.rules[0]!, target: { kind: 'jump' as const, chain: 'NOPE' } }] } : ch)) }] };
    expect(() => new Netfilter(new FakeHost([ip(B)])).load(broken)).toThrow('filter: chain LOCAL jumps to unknown chain NOPE');
  });

  it('compiles small chains parsed again with equal rules once (flanneld appends the same FORWARD rules on every node), never an nth rule', () => {
    // Each namespace parses its own text (distinct rule arrays), as a per-node writer does.
    const text = (fwd: string, nth = '') => `*filter
      :INPUT ACCEPT [0:0]
      :FORWARD DROP [0:0]
      :OUTPUT ACCEPT [0:0]
      :IFWD - [0:0]
      -A FORWARD -m comment --comment "interned fwd" -j IFWD
      -A IFWD -s ${fwd} -j ACCEPT
      -A IFWD -p udp${nth} -j ACCEPT
      COMMIT`;
    const nfs = [A, B, A, B].map((h) => new Netfilter(new FakeHost([ip(h)])));
    const [a, b, c, d] = nfs as [Netfilter, Netfilter, Netfilter, Netfilter];
    a.load(rules(text('10.244.0.0/16')));
    b.load(rules(text('10.244.0.0/16')));
    c.load(rules(text('10.245.0.0/16')));
    for (const chain of ['FORWARD', 'IFWD']) {
      expect(b.compiledChain('filter', chain)).toBe(a.compiledChain('filter', chain));
      expect(c.compiledChain('filter', chain)).not.toBe(a.compiledChain('filter', chain));
    }
    // Shared code, own counters and verdicts.
    const fwd = (nf: Netfilter, src: string) => nf.hook(NfHook.FORWARD, tcp(src, 1000, '10.0.0.9', 80, TcpFlag.SYN), 'eth0', 'eth1').kind;
    expect(fwd(a, '10.244.1.2')).toBe('accept');
    expect(fwd(b, '10.245.1.2')).toBe('drop');
    expect(fwd(c, '10.245.1.2')).toBe('accept');
    expect(a.save()).toBe(b.save().replace(':FORWARD DROP [1:40]', ':FORWARD DROP [0:0]'));
    expect(a.ruleset().tables[0]!.chains.find((ch) => ch.name === 'IFWD')!.rules.map((r) => r.counters.packets)).toEqual([1, 0]);
    expect(b.ruleset().tables[0]!.chains.find((ch) => ch.name === 'IFWD')!.rules.map((r) => r.counters.packets)).toEqual([0, 0]);
    // -m statistic --mode nth keeps a counter per rule: equal rules of two namespaces stay apart.
    const nth = ' -m statistic --mode nth --every 2 --packet 0';
    d.load(rules(text('10.244.0.0/16', nth)));
    const e = new Netfilter(new FakeHost([ip(A)]));
    e.load(rules(text('10.244.0.0/16', nth)));
    expect(e.compiledChain('filter', 'IFWD')).not.toBe(d.compiledChain('filter', 'IFWD'));
    const u = (nf: Netfilter) => nf.hook(NfHook.FORWARD, udp('10.9.0.1', 1000, '10.0.0.9', 53), 'eth0', 'eth1').kind;
    expect([u(d), u(e), u(d), u(e)]).toEqual(['drop', 'drop', 'accept', 'accept']);
  });
});
