// Pinned nat rule counts (nf-counters.ts PIN_RULES) across reloads: a rule inserted before or deleted from the
// pinned first rules of nat PREROUTING by a --noflush load, the same rules reloaded, a full load; the generated walks
// (pinned cells) must give the interpreter's counters (hash only), and a second namespace sharing the chains its own.
import { afterEach, describe, expect, it } from 'vitest';
import { forgetInternedChains } from '../../src/netfilter/chain-intern.js';
import { JIT } from '../../src/netfilter/compiled.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { slotOffset } from '../../src/netfilter/nf-counters.js';
import { SLOT } from '../../src/netfilter/nf-hook-nft.js';
import { FakeHost, ip, rules, tcp, udp } from './helpers.js';

const DEFAULT_WALK_HOT = JIT.walkHot;
afterEach(() => { JIT.walkHot = DEFAULT_WALK_HOT; JIT.walk = true; });

const BASE = (extraTop: string, dropFirst: boolean) => `*nat
:PREROUTING ACCEPT [3:300]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SVC - [0:0]
${extraTop}${dropFirst ? '' : '-A PREROUTING -j SVC\n'}-A PREROUTING -p udp -j RETURN
-A PREROUTING -p tcp -m tcp --dport 22 -j ACCEPT
-A POSTROUTING -p tcp -j ACCEPT
-A SVC -d 10.96.0.1/32 -p tcp -j DNAT --to-destination 10.244.1.5:8080
COMMIT
`;

function traffic(nf: Netfilter, host: FakeHost, port: number, n: number): number {
  for (let round = 0; round < n; round++) {
    for (const [dst, dport] of [['10.96.0.1', 80], ['10.1.2.3', 22], ['10.1.2.3', 80]] as const) {
      const p = tcp('10.244.2.2', port++, dst, dport);
      const v = nf.hook(NfHook.PREROUTING, p, 'eth0', null);
      if (v.kind === 'accept') nf.hook(NfHook.POSTROUTING, p, null, 'eth0');
    }
    const u = udp('10.244.2.2', port++, '10.1.2.3', 53);
    nf.hook(NfHook.PREROUTING, u, 'eth0', null);
    nf.hook(NfHook.POSTROUTING, u, null, 'eth0');
    host.t += 1000;
  }
  return port;
}

function scenario(walk: boolean, variant: 'insert' | 'delete' | 'same' | 'full'): string {
  forgetInternedChains();
  JIT.walk = walk;
  JIT.walkHot = 1;
  const host = new FakeHost([ip('192.168.0.1')], { eth0: ip('192.168.0.1') }, 3);
  const nf = new Netfilter(host);
  const other = new Netfilter(new FakeHost([ip('192.168.0.2')], { eth0: ip('192.168.0.2') }, 4));
  nf.load(rules(BASE('', false)));
  other.load(rules(BASE('', false)));
  let port = traffic(nf, host, 1000, 3);
  traffic(other, host, 5000, 1);
  const out: string[] = [JSON.stringify(nf.ruleset())];
  const next = variant === 'insert' ? BASE('-A PREROUTING -p tcp -m tcp --dport 23 -j ACCEPT\n', false) : variant === 'delete' ? BASE('', true) : BASE('', false);
  const input = variant === 'same' || variant === 'full' ? null : rules(`*nat
:PREROUTING ACCEPT [0:0]
:SVC - [0:0]
${next.split('\n').filter((l) => l.startsWith('-A PREROUTING') || l.startsWith('-A SVC')).join('\n')}
COMMIT
`);
  if (variant === 'full') nf.load(rules(next));
  else nf.loadNoflush(rules(next), input);
  out.push(JSON.stringify(nf.ruleset()));
  port = traffic(nf, host, port, 2);
  if (walk) expect(nf.countTab[slotOffset(SLOT.NAT_PRE, SLOT.NAT_PRE) + 2]! + nf.countTab[slotOffset(SLOT.NAT_PRE, SLOT.NAT_PRE) + 4]!).toBeGreaterThan(0); // the walk counted pinned cells
  out.push(JSON.stringify(nf.ruleset()));
  out.push(JSON.stringify(other.ruleset()));
  return out.join('\n----\n');
}

describe('pinned nat rule counts across reloads', () => {
  for (const v of ['insert', 'delete', 'same', 'full'] as const) {
    it(`walk == interpreter: ${v}`, () => {
      const ref = scenario(false, v);
      const got = scenario(true, v);
      expect(got).toBe(ref);
      
    });
  }
});
