// The counters' log (netfilter/nf-counters.ts): rule hits and policy counts of every namespace are
// appended to one log and added to their namespace when it fills or before any count is read or reset.
// What `iptables-save -c` shows must be what counting at once would show: interleaved namespaces that
// share compiled chains (the same ids) keep their own counts, more packets than the log holds lose
// none, a plain load of the same rules (the same compiled chains, the same ids) starts from the loaded
// counters even with counts pending, and loadNoflush carries the pending ones.
import { describe, expect, it } from 'vitest';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { flushCounts, pendingCounts } from '../../src/netfilter/nf-counters.js';
import type { TableName } from '../../src/netfilter/rules.js';
import { FakeHost, ip, rules, udp } from './helpers.js';

const RULES = `*mangle
  :PREROUTING ACCEPT [0:0]
  :INPUT ACCEPT [0:0]
  :FORWARD ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  :POSTROUTING ACCEPT [0:0]
  COMMIT
  *filter
  :INPUT ACCEPT [0:0]
  :FORWARD ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  -A INPUT -p udp --dport 9 -j DROP
  -A INPUT -p udp --dport 7 -j ACCEPT
  COMMIT`;

/** [packets, bytes] of a chain's policy (rule -1) or of one of its rules. */
function counts(nf: Netfilter, table: TableName, chain: string, rule = -1): [number, number] {
  const c = nf.ruleset().tables.find((t) => t.name === table)!.chains.find((x) => x.name === chain)!;
  const k = rule < 0 ? c.counters : c.rules[rule]!.counters;
  return [k.packets, k.bytes];
}

/** One UDP datagram of 28 + len bytes up through PREROUTING and INPUT. */
function up(nf: Netfilter, dport: number, len: number): void {
  const p = udp('10.0.0.1', 1000, '10.0.0.2', dport, len);
  if (nf.hook(NfHook.PREROUTING, p, 'eth0', null).kind === 'accept') nf.hook(NfHook.INPUT, p, 'eth0', null);
}

describe('counter log', () => {
  it('keeps each namespace its own counts through overflows, reads, loads and noflush loads', () => {
    flushCounts();
    const a = new Netfilter(new FakeHost([ip('10.0.0.2')]));
    const b = new Netfilter(new FakeHost([ip('10.0.0.2')]));
    const rs = rules(RULES);
    a.load(rs);
    b.load(rs);
    // The same compiled rules (ids) in both namespaces.
    expect(a.compiledChain('filter', 'INPUT')).toBe(b.compiledChain('filter', 'INPUT'));
    // 3,000 rounds: 15,000 counts logged, several times the log's length, the two namespaces interleaved.
    const N = 3000;
    for (let k = 0; k < N; k++) {
      up(a, 9, 10); // a: mangle PREROUTING + INPUT policies, rule 0 drops
      up(b, 7, 20); // b: mangle policies, rule 1 accepts
      if (k % 3 === 0) up(a, 53, 0); // a: falls through to filter INPUT's policy
    }
    expect(pendingCounts()).toBeGreaterThan(0);
    const n53 = Math.ceil(N / 3);
    expect(counts(a, 'filter', 'INPUT', 0)).toEqual([N, N * 38]);
    expect(pendingCounts()).toBe(0); // a read adds everything logged
    expect(counts(a, 'filter', 'INPUT', 1)).toEqual([0, 0]);
    expect(counts(a, 'filter', 'INPUT')).toEqual([n53, n53 * 28]);
    expect(counts(a, 'mangle', 'PREROUTING')).toEqual([N + n53, N * 38 + n53 * 28]);
    expect(counts(b, 'filter', 'INPUT', 0)).toEqual([0, 0]);
    expect(counts(b, 'filter', 'INPUT', 1)).toEqual([N, N * 48]);
    expect(counts(b, 'mangle', 'INPUT')).toEqual([N, N * 48]);
    expect(counts(b, 'filter', 'INPUT')).toEqual([0, 0]);
    // Counts pending when b loads the same rules again: its counts start from the loaded ones, a's stay.
    up(b, 7, 20);
    up(a, 9, 10);
    expect(pendingCounts()).toBeGreaterThan(0);
    b.load(rs);
    expect(counts(b, 'filter', 'INPUT', 1)).toEqual([0, 0]);
    expect(counts(b, 'mangle', 'PREROUTING')).toEqual([0, 0]);
    expect(counts(a, 'filter', 'INPUT', 0)).toEqual([N + 1, (N + 1) * 38]);
    // Pending counts go along a noflush reload of the same rules.
    const live = a.ruleset();
    up(a, 9, 10);
    expect(pendingCounts()).toBeGreaterThan(0);
    a.loadNoflush(live, null);
    expect(counts(a, 'filter', 'INPUT', 0)).toEqual([N + 2, (N + 2) * 38]);
  });
});
