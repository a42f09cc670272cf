// Why a rule dropped (NfVerdict reason): a target that drops says why (MASQUERADE without an address,
// NAT without a free tuple, TCPMSS), a standard -j DROP is 'rule-drop' — also when a target of an
// earlier packet in the same namespace left its reason behind. The interpreter (table()'s loop) and a
// generated walk (walk-gen.ts) both, since neither clears the reason at every matched rule.
import { afterEach, describe, expect, it } from 'vitest';
import { JIT } from '../../src/netfilter/compiled.js';
import { Netfilter, NfHook, type NfVerdict } from '../../src/netfilter/netfilter.js';
import { FakeHost, ip, rules, tcp } from './helpers.js';

const RULES = `*nat
  :PREROUTING ACCEPT [0:0]
  :INPUT ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  :POSTROUTING ACCEPT [0:0]
  :MASQ - [0:0]
  -A POSTROUTING -o eth1 -j MASQ
  -A MASQ -j MASQUERADE
  COMMIT
  *filter
  :INPUT ACCEPT [0:0]
  :FORWARD ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  :BLOCK - [0:0]
  -A FORWARD -d 10.9.9.9/32 -j BLOCK
  -A FORWARD -d 10.9.9.8/32 -j DROP
  -A BLOCK -j DROP
  COMMIT`;

const DEFAULT_WALK_HOT = JIT.walkHot;
afterEach(() => {
  JIT.walkHot = DEFAULT_WALK_HOT;
  JIT.walk = true;
});

/** A new TCP connection forwarded from eth0 to `out`: the first hook that does not accept, else accept. */
function forward(nf: Netfilter, dst: string, sport: number, out: string): NfVerdict {
  const p = tcp('10.0.0.1', sport, dst, 80);
  for (const [h, i, o] of [
    [NfHook.PREROUTING, 'eth0', null],
    [NfHook.FORWARD, 'eth0', out],
    [NfHook.POSTROUTING, null, out],
  ] as const) {
    const v = nf.hook(h, p, i, o);
    if (v.kind !== 'accept') return v;
  }
  return { kind: 'accept', reroute: false };
}

describe('drop reasons', () => {
  for (const mode of ['interpreted', 'walked'] as const) {
    it(`a standard DROP after a target's drop is rule-drop (${mode})`, () => {
      if (mode === 'walked') JIT.walkHot = 1;
      else JIT.walk = false;
      const nf = new Netfilter(new FakeHost([ip('10.0.0.2')], {})); // no MASQUERADE address on eth1
      nf.load(rules(RULES));
      for (let k = 0; k < 3; k++) {
        expect(forward(nf, '10.1.1.1', 1000 + k, 'eth1')).toMatchObject({ kind: 'drop', reason: 'masquerade-no-address', table: 'nat', chain: 'MASQ', rule: 0 });
        expect(forward(nf, '10.9.9.9', 2000 + k, 'eth2')).toMatchObject({ kind: 'drop', reason: 'rule-drop', table: 'filter', chain: 'BLOCK', rule: 0 });
        expect(forward(nf, '10.1.1.1', 3000 + k, 'eth1')).toMatchObject({ kind: 'drop', reason: 'masquerade-no-address' });
        expect(forward(nf, '10.9.9.8', 4000 + k, 'eth2')).toMatchObject({ kind: 'drop', reason: 'rule-drop', table: 'filter', chain: 'FORWARD', rule: 1 });
      }
      expect(nf.compiledChain('filter', 'FORWARD')!.walk !== null).toBe(mode === 'walked');
    });
  }
});
