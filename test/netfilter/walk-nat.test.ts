// Tests for walk-gen's written-out DNAT / SNAT (natSrc: ext/nat.ts natBind with the rule's numbers among the walk's
// constants, not the rule's closure), a walk returning a target's ACCEPT without storing walkAt, and a chain's rule ids
// as one constant and offsets (rules read through R): the same verdicts, rewritten packets, conntrack bindings, drop
// reasons and counters as the interpreter (JIT.walk = false).
import { afterEach, describe, expect, it } from 'vitest';
import { forgetInternedChains } from '../../src/netfilter/chain-intern.js';
import { JIT } from '../../src/netfilter/compiled.js';
import { formatConntrackTable } from '../../src/netfilter/ct-format.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { FakeHost, ip, ipStr, rules, tcp, udp } from './helpers.js';

const DEFAULT_WALK_HOT = JIT.walkHot;
afterEach(() => {
  JIT.walkHot = DEFAULT_WALK_HOT;
  JIT.walk = true;
});

// Every written-out shape: one address and port (kube-proxy's KUBE-SEP), address and port ranges, an address without
// a port, --random / --persistent (flags), SNAT with a range and --random-fully; a DNAT without an address (the packet's
// own, called as the closure) beside them; a user chain with DNAT jumped from POSTROUTING (the wrong manip: a rule error).
const TEXT = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SEP - [0:0]
:WRONG - [0:0]
-A OUTPUT -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j SEP
-A OUTPUT -d 10.96.0.2/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.244.1.10-10.244.1.12:8080-8082 --random --persistent
-A OUTPUT -d 10.96.0.3/32 -p tcp -j DNAT --to-destination 10.244.2.20
-A OUTPUT -d 10.96.0.4/32 -p tcp -j DNAT --to-destination :9090
-A OUTPUT -d 10.96.0.5/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.244.3.30:5353
-A OUTPUT -d 10.96.0.6/32 -p tcp -j DNAT --to-destination 200.1.2.3:80
-A SEP -s 10.244.9.9/32 -j MARK --set-xmark 0x4000/0x4000
-A SEP -p tcp -m tcp -j DNAT --to-destination 10.244.1.5:8080
-A POSTROUTING -d 10.96.0.7/32 -j WRONG
-A POSTROUTING -d 8.8.8.8/32 -p tcp -j SNAT --to-source 192.168.0.50-192.168.0.51:2000-2001 --random-fully
-A POSTROUTING -d 8.8.4.4/32 -p udp -j SNAT --to-source 192.168.0.60 --persistent
-A WRONG -p tcp -j DNAT --to-destination 10.244.1.7:80
COMMIT
`;

/** Connections through OUTPUT and POSTROUTING (each its first packet, then a reply-less second): verdicts, packets, conntrack, counters. */
function run(walk: boolean, before?: (nf: Netfilter) => void) {
  forgetInternedChains();
  JIT.walk = walk;
  JIT.walkHot = 1;
  const host = new FakeHost([ip('192.168.0.1')], { eth0: ip('192.168.0.1') }, 3);
  const nf = new Netfilter(host);
  nf.load(rules(TEXT));
  before?.(nf);
  const out: string[] = [];
  let port = 1000;
  const send = (src: string, sport: number, dst: string, dport: number, proto: 'tcp' | 'udp') => {
    const p = proto === 'tcp' ? tcp(src, sport, dst, dport) : udp(src, sport, dst, dport);
    const v = nf.hook(NfHook.OUTPUT, p, null, 'eth0');
    const w = v.kind === 'accept' ? nf.hook(NfHook.POSTROUTING, p, null, 'eth0') : null;
    const l4 = p.tcp ?? p.udp!;
    out.push(`${JSON.stringify(v)} ${JSON.stringify(w)} ${ipStr(p.ip!.src)}:${l4.srcPort}>${ipStr(p.ip!.dst)}:${l4.dstPort}`);
    host.t += 1000;
  };
  for (let round = 0; round < 3; round++) {
    for (const src of ['192.168.0.1', '10.244.9.9']) {
      for (let s = 1; s <= 7; s++) send(src, port++, `10.96.0.${s}`, s === 5 ? 53 : 80, s === 5 ? 'udp' : 'tcp');
      // The SNAT range: two addresses and two ports for tcp, so the fifth connection finds no unique tuple (a drop).
      for (let k = 0; k < 5; k++) send(src, port++, '8.8.8.8', 443, 'tcp');
      send(src, port++, '8.8.4.4', 53, 'udp');
    }
    // One source port to one Service's three ports: its DNAT's single address and port clash at the confirm (a drop).
    send('192.168.0.1', 5555, '10.96.0.6', 80 + round, 'tcp');
  }
  out.push(formatConntrackTable(nf.conntrack, host.t));
  out.push(JSON.stringify(nf.ruleset()));
  return { out, nf };
}

describe('walk-gen nat', () => {
  it('DNAT / SNAT written out in the walks bind, drop and count as the interpreter does', () => {
    const ref = run(false);
    const got = run(true);
    expect(got.out).toEqual(ref.out);
    const out = got.nf.compiledChain('nat', 'OUTPUT')!.walk!.toString();
    const post = got.nf.compiledChain('nat', 'POSTROUTING')!.walk!.toString();
    expect(ref.nf.compiledChain('nat', 'OUTPUT')!.walk).toBeNull();
    // The written-out calls: SEP's (one address and port: one constant each), the ranges, SNAT's; the DNAT without an
    // address calls its closure (t<j>). manip 1 = DST, 0 = SRC; flags NAT_RANDOM 1, NAT_RANDOM_FULLY 2, NAT_PERSISTENT 4.
    expect(out.match(/NAT\(tenv, pkt, 1, (k\d+), \1, (k\d+), \2, 0\)/g)!.length).toBe(3); // SEP's, 10.244.3.30:5353, 200.1.2.3:80
    expect(out).toMatch(/NAT\(tenv, pkt, 1, (k\d+), (?!\1)k\d+, (k\d+), (?!\2)k\d+, 5\)/);
    expect(out).toMatch(/NAT\(tenv, pkt, 1, (k\d+), \1, -1, -1, 0\)/);
    expect(out).toMatch(/code = t\d+\(c, tenv\)/);
    expect(post).toMatch(/NAT\(tenv, pkt, 0, (k\d+), (?!\1)k\d+, (k\d+), (?!\2)k\d+, 2\)/);
    expect(post).toMatch(/NAT\(tenv, pkt, 0, (k\d+), \1, -1, -1, 4\)/);
    expect(post).toMatch(/NAT\(tenv, pkt, 1, /); // WRONG's DNAT, reached from POSTROUTING
    // The paths under test were taken: DNAT to the ranges, to 200.1.2.3 (an address past 2^31), SNAT, the drops
    // (no unique tuple, the rule error of DNAT at POSTROUTING, each naming its rule), the MARK from SEP.
    const all = got.out.join("\n");
    for (const s of ['>10.244.1.5:8080', '>10.244.2.20:80', '>10.96.0.4:9090', '>10.244.3.30:5353', '>200.1.2.3:80', '192.168.0.60:']) expect(all).toContain(s);
    expect(all).toMatch(/>10\.244\.1\.1[012]:808[012]/);
    expect(all).toMatch(/ 192\.168\.0\.5[01]:200[01]>8\.8\.8\.8:443/);
    expect(all).toContain('"reason":"nat-no-unique-tuple","table":"nat","chain":"POSTROUTING","rule":1');
    expect(all).toContain('"reason":"conntrack-insert-clash"'); // DNAT does not make a tuple unique (its single port)
    expect(all).toContain('"reason":"rule-error"');
    expect(ip('200.1.2.3')).toBeGreaterThan(2 ** 31);
  });

  it('a walk numbers a chain\'s rules from one constant (ids in order), else one each; rules only through R', () => {
    const got = run(true);
    const src = got.nf.compiledChain('nat', 'OUTPUT')!.walk!.toString();
    // OUTPUT's ids from n0, SEP's from its first rule's; no per-rule id or rule constant (i<r>, r<r>).
    expect(src).toMatch(/\(n0 \+ 5\)/);
    expect(src).toMatch(/\(n(\d+) \+ 1\)/);
    expect(src).not.toMatch(/\b[ir]\d+\b/);
    expect(src).toMatch(/w\.hit\(w\.trace !== null \? R\[\d+\] : null, /);
    // A chain whose ids are not in order (never so from compiled.ts: made here) gets a constant per rule, and counts alike.
    const skew = (nf: Netfilter) => {
      const sep = nf.compiledChain('nat', 'SEP')!;
      (sep.rules[1] as { id: number }).id += 100000;
    };
    const ref = run(false, skew);
    const odd = run(true, skew);
    expect(odd.out).toEqual(ref.out);
    const oddSrc = odd.nf.compiledChain('nat', 'OUTPUT')!.walk!.toString();
    expect(oddSrc).toMatch(/kt\[kq\] === i\d+ /);
    expect(odd.out).toEqual(got.out); // (the counters are listed by rule, whatever their ids)
    expect(ref.out.join('\n')).toContain('>10.244.1.5:8080');
  });
});
