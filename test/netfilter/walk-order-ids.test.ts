// Rule ids in walk order (netfilter/compiled.ts nextId): a compile numbers a user chain's rule before the chain it jumps
// to, so the rules one new connection hits in kube-proxy's nat chains (KUBE-SERVICES' rule for its Service, a KUBE-SVC-*
// rule, a KUBE-SEP-* DNAT) have ids a few apart, and their counter entries (nf-counters.ts: home entries follow the ids) share
// lines. The counters themselves are keyed by id: what `iptables-save -c` prints does not depend on the numbering.
import { describe, expect, it } from 'vitest';
import type { CChain } from '../../src/netfilter/compiled.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { TcpFlag } from '../../src/wire/types.js';
import { FakeHost, rules, tcp } from './helpers.js';

const SERVICES = 40;

/** A kube-proxy-like nat table: SERVICES Services of three endpoints each (names and addresses unique to this file). */
function natTable(): string {
  const head = [':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-MARK-MASQ - [0:0]'];
  const body = ['-A PREROUTING -j KUBE-SERVICES', '-A OUTPUT -j KUBE-SERVICES', '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000'];
  for (let s = 0; s < SERVICES; s++) {
    const svc = `KUBE-SVC-WO${s}`;
    head.push(`:${svc} - [0:0]`);
    body.push(`-A KUBE-SERVICES -d 10.97.${s}.1/32 -p tcp -m tcp --dport 80 -j ${svc}`);
    body.push(`-A ${svc} ! -s 10.244.0.0/16 -d 10.97.${s}.1/32 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ`);
    for (let e = 0; e < 3; e++) {
      const sep = `KUBE-SEP-WO${s}X${e}`;
      head.push(`:${sep} - [0:0]`);
      const stat = e === 0 ? ' -m statistic --mode random --probability 0.33333333349' : e === 1 ? ' -m statistic --mode random --probability 0.50000000000' : '';
      body.push(`-A ${svc}${stat} -j ${sep}`);
      body.push(`-A ${sep} -s 10.245.${s}.${e + 1}/32 -j KUBE-MARK-MASQ`);
      body.push(`-A ${sep} -p tcp -m tcp -j DNAT --to-destination 10.245.${s}.${e + 1}:8080`);
    }
  }
  return `*nat\n${head.join('\n')}\n${body.join('\n')}\nCOMMIT\n`;
}

describe('rule ids in walk order', () => {
  it('numbers a user chain\'s rule before the chain it first jumps to, a built-in chain\'s rules after theirs', () => {
    const nf = new Netfilter(new FakeHost([]));
    nf.load(rules(natTable()));
    const pre = nf.compiledChain('nat', 'PREROUTING')!;
    const services = nf.compiledChain('nat', 'KUBE-SERVICES')!;
    // Depth first from KUBE-SERVICES: each chain entered for the first time has every id of its rules (and of the chains
    // it enters first) between the id of the rule that jumped to it and the id of that rule's next rule.
    const seen = new Set<CChain>([pre, services]);
    const check = (ch: CChain): [number, number] => {
      let lo = Infinity;
      let hi = -Infinity;
      let last = -Infinity;
      for (const cr of ch.rules) {
        expect(cr.id).toBeGreaterThan(last);
        lo = Math.min(lo, cr.id);
        hi = Math.max(hi, cr.id);
        last = cr.id;
        const j = cr.jump;
        if (j === null || seen.has(j)) continue;
        seen.add(j);
        const [jlo, jhi] = check(j);
        expect(jlo).toBeGreaterThan(cr.id);
        last = jhi;
        hi = Math.max(hi, jhi);
      }
      return [lo, hi];
    };
    const [, hi] = check(services);
    expect(seen.size).toBe(3 + SERVICES * 4);
    // The built-in chains' rules after KUBE-SERVICES' block, PREROUTING's next to OUTPUT's (their hooks' rules together).
    const out = nf.compiledChain('nat', 'OUTPUT')!;
    expect(pre.rules[0]!.id).toBeGreaterThan(hi);
    expect(out.rules[0]!.id - pre.rules[0]!.id).toBeLessThanOrEqual(4);
    // So one connection's three once-only hits are within the Service's block of ids (13 rules, their 4 chains; the first
    // Service's block also holds KUBE-MARK-MASQ's rule and chain).
    for (let s = 0; s < SERVICES; s++) {
      const rule = services.rules[s]!;
      const svc = rule.jump!;
      for (let e = 0; e < 3; e++) {
        const sep = svc.rules[1 + e]!.jump!;
        expect(Math.abs(sep.rules[1]!.id - rule.id)).toBeLessThanOrEqual(s === 0 ? 14 : 12);
        expect(sep.rules[1]!.id).toBeGreaterThan(svc.rules[1 + e]!.id);
      }
    }
  });

  it('counts each rule as before: the counters follow the rules, not the numbering', () => {
    const nf = new Netfilter(new FakeHost([]));
    nf.load(rules(natTable()));
    for (let s = 0; s < SERVICES; s++) {
      for (let k = 0; k < 6; k++) expect(nf.hook(NfHook.PREROUTING, tcp(`10.244.1.${k + 2}`, 40000 + s * 10 + k, `10.97.${s}.1`, 80, TcpFlag.SYN), 'cni0', null).kind).toBe('accept');
    }
    const chains = new Map(nf.ruleset().tables[0]!.chains.map((c) => [c.name, c]));
    expect(chains.get('PREROUTING')!.rules[0]!.counters.packets).toBe(SERVICES * 6);
    for (let s = 0; s < SERVICES; s++) {
      expect(chains.get('KUBE-SERVICES')!.rules[s]!.counters).toEqual({ packets: 6, bytes: 240 });
      const svc = chains.get(`KUBE-SVC-WO${s}`)!;
      expect(svc.rules[0]!.counters.packets).toBe(0); // from the pod CIDR: no masquerade mark
      const toSep = svc.rules.slice(1).map((r) => r.counters.packets);
      expect(toSep.reduce((a, b) => a + b, 0)).toBe(6);
      for (let e = 0; e < 3; e++) {
        const sep = chains.get(`KUBE-SEP-WO${s}X${e}`)!;
        expect(sep.rules.map((r) => r.counters.packets)).toEqual([0, toSep[e]]);
      }
    }
  });
});
