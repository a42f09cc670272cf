// Pinned rule counts (nf-counters.ts PIN_RULES, walk-gen's pinned hits): the first rules of a nat slot's built-in chain
// counted in the slot's block beside its policy, by the generated walks; a rule's count is its cell's plus its hash
// entry's (the interpreter's and a trace's hits), through counted / countedIds / a --noflush load; the other slots'
// rules never pinned.
import { afterEach, describe, expect, it } from 'vitest';
import { forgetInternedChains } from '../../src/netfilter/chain-intern.js';
import { JIT } from '../../src/netfilter/compiled.js';
import { COUNT_STRIDE, NfCounters, PIN_RULES, slotOffset } from '../../src/netfilter/nf-counters.js';
import { SLOT } from '../../src/netfilter/nf-hook-nft.js';
import { Netfilter, NfHook, type NfTraceEvent } from '../../src/netfilter/netfilter.js';
import type { Counters } from '../../src/netfilter/rules.js';
import { FakeHost, ip, rules, tcp, udp } from './helpers.js';

class Probe extends NfCounters {
  reset(ids: number[], pins: number[][]): void {
    this.resetCounts(ids, pins);
  }
  add(id: number, bytes: number): void {
    this.count(id, bytes);
  }
  all(): Map<number, Counters> {
    return this.countedIds();
  }
  of(id: number): Counters {
    return this.counted(id, { packets: 0, bytes: 0 });
  }
}

const DEFAULT_WALK_HOT = JIT.walkHot;
afterEach(() => {
  JIT.walkHot = DEFAULT_WALK_HOT;
  JIT.walk = true;
});

describe('pinned rule counts', () => {
  it('lays pinned slots out as blocks after the pairs, and reads a pinned id as its cell plus its hash entry', () => {
    expect([0, 1, 2, 3].map((s) => slotOffset(s, 2))).toEqual([0, 2, 4, 4 + 2 * (1 + PIN_RULES)]);
    const p = new Probe(4, 2);
    expect(p.countHead).toBe((4 + 4 * (1 + PIN_RULES) + 3) & ~3);
    // Slot 1 (not pinned) is handed rule ids too: never pinned. Slot 2 pins its first PIN_RULES, slot 3 its only one.
    p.reset([100, 101, 102, 103], [[], [150, 151], [200, 201, 202], [300]]);
    const t = p.countTab;
    const o2 = slotOffset(2, 2);
    const o3 = slotOffset(3, 2);
    // As a walk counts: the policy pair, then rule k's pair at o + 2 + 2k.
    const add = (o: number, packets: number, bytes: number): void => {
      t[o] = t[o]! + packets;
      t[o + 1] = t[o + 1]! + bytes;
    };
    add(o2, 1, 40); // policy of slot 2
    add(o2 + 2, 2, 100); // rule 200
    add(o2 + 4, 1, 60); // rule 201
    add(o3 + 2, 5, 500); // rule 300
    // As the interpreter counts (hit(): the hash).
    p.add(200, 7);
    p.add(202, 9);
    p.add(150, 11);
    expect(p.of(200)).toEqual({ packets: 3, bytes: 107 });
    expect(p.of(201)).toEqual({ packets: 1, bytes: 60 });
    expect(p.of(202)).toEqual({ packets: 1, bytes: 9 });
    expect(p.of(300)).toEqual({ packets: 5, bytes: 500 });
    expect(p.of(102)).toEqual({ packets: 1, bytes: 40 });
    expect(p.of(150)).toEqual({ packets: 1, bytes: 11 });
    const all = p.all();
    expect([...all.keys()].sort((a, b) => a - b)).toEqual([102, 150, 200, 201, 202, 300]);
    expect(all.get(200)).toEqual({ packets: 3, bytes: 107 });
    // Only the hash holds ids: the pinned ones never entered it from a cell.
    const hashed: number[] = [];
    for (let q = p.countHead; q < t.length; q += COUNT_STRIDE) if (t[q] !== -1) hashed.push(t[q]!);
    expect(hashed.sort((a, b) => a - b)).toEqual([150, 200, 202]);
    p.reset([100, 101, 102, 103], [[], [], [400], []]);
    expect(p.all().size).toBe(0);
    p.countTab[o2 + 2] = 1;
    expect(p.of(400)).toEqual({ packets: 1, bytes: 0 });
    expect(p.of(200)).toEqual({ packets: 0, bytes: 0 });
  });

  // nat PREROUTING / POSTROUTING / OUTPUT with jumps first (kube-proxy's), filter FORWARD the same rules (not pinned).
  const TEXT = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:SVC - [0:0]
-A FORWARD -j SVC
-A FORWARD -p udp -j ACCEPT
-A SVC -d 10.96.0.1/32 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [3:300]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:SVC - [0:0]
:POST - [0:0]
:MASQ - [0:0]
-A PREROUTING -j SVC
-A PREROUTING -p udp -j RETURN
-A PREROUTING -p tcp -m tcp --dport 22 -j ACCEPT
-A OUTPUT -j SVC
-A POSTROUTING -j POST
-A POSTROUTING -j MASQ
-A POSTROUTING -p tcp -j ACCEPT
-A SVC -d 10.96.0.1/32 -p tcp -j DNAT --to-destination 10.244.1.5:8080
-A POST -d 10.244.1.5/32 -j RETURN
-A MASQ -s 10.0.0.0/8 -j RETURN
COMMIT
`;

  function run(walk: boolean, trace: boolean) {
    forgetInternedChains();
    JIT.walk = walk;
    JIT.walkHot = 1;
    const host = new FakeHost([ip('192.168.0.1')], { eth0: ip('192.168.0.1') }, 3);
    const nf = new Netfilter(host, trace ? { trace: (_e: NfTraceEvent) => {} } : {});
    nf.load(rules(TEXT));
    let port = 1000;
    for (let round = 0; round < 4; round++) {
      for (const [dst, dport] of [['10.96.0.1', 80], ['10.1.2.3', 22], ['10.1.2.3', 80]] as const) {
        const p = tcp('10.244.2.2', port++, dst, dport);
        const v = nf.hook(NfHook.PREROUTING, p, 'eth0', null);
        if (v.kind === 'accept') nf.hook(NfHook.FORWARD, p, 'eth0', 'eth0');
        if (v.kind === 'accept') nf.hook(NfHook.POSTROUTING, p, null, 'eth0');
      }
      const u = udp('10.244.2.2', port++, '10.1.2.3', 53);
      nf.hook(NfHook.PREROUTING, u, 'eth0', null);
      nf.hook(NfHook.FORWARD, u, 'eth0', 'eth0');
      nf.hook(NfHook.POSTROUTING, u, null, 'eth0');
      nf.hook(NfHook.OUTPUT, tcp('192.168.0.1', port++, '10.96.0.1', 80), null, 'eth0');
      host.t += 1000;
    }
    return nf;
  }

  it('generated walks count the nat slots first rules in their blocks, with the interpreter`s and a trace`s counters', () => {
    const ref = run(false, false);
    const got = run(true, false);
    const counts = (nf: Netfilter): string => JSON.stringify(nf.ruleset());
    expect(counts(got)).toBe(counts(ref));
    expect(counts(run(true, true))).toBe(counts(ref));
    expect(got.ruleset().tables[1]!.chains[0]!.counters).toEqual({ packets: 11, bytes: 612 }); // [3:300] loaded, 8 packets counted
    // The walks wrote the pinned cells and left the pinned ids out of the hash; FORWARD's (filter: not pinned) went there.
    const pre = got.compiledChain('nat', 'PREROUTING')!;
    const post = got.compiledChain('nat', 'POSTROUTING')!;
    const fwd = got.compiledChain('filter', 'FORWARD')!;
    const t = got.countTab;
    const hashed = new Set<number>();
    for (let q = got.countHead; q < t.length; q += COUNT_STRIDE) if (t[q] !== -1) hashed.add(t[q]!);
    const so = (s: number): number => slotOffset(s, SLOT.NAT_PRE);
    expect(t[so(SLOT.NAT_PRE) + 2]).toBe(16); // -j SVC: every PREROUTING packet (12 tcp, 4 udp)
    expect(t[so(SLOT.NAT_PRE) + 4]).toBe(4); // -p udp -j RETURN
    expect(t[so(SLOT.NAT_POST) + 2]).toBeGreaterThan(0);
    expect(t[so(SLOT.NAT_OUT) + 2]).toBe(4);
    for (const cr of [...pre.rules.slice(0, PIN_RULES), ...post.rules.slice(0, PIN_RULES)]) expect(hashed.has(cr.id)).toBe(false);
    expect(hashed.has(pre.rules[2]!.id)).toBe(true);
    expect(hashed.has(fwd.rules[0]!.id)).toBe(true);
    // A --noflush load of the same text keeps them (carried into the hash, read back the same).
    const before = counts(got);
    got.loadNoflush(got.ruleset(), null);
    expect(counts(got)).toBe(before);
  });
});
