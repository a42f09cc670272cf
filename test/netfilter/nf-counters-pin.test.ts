// Pinned rule counts (nf-counters.ts PIN_RULES, walk-gen's pinned hits): the rules of a filter or nat slot's built-in
// chain's walk (walkRuleIds: the chains it reaches, in the order it enters them; the first PIN_RULES) counted in the slot's
// block beside its policy, by the generated walks; a rule's count is its cells' plus its hash entry's (the interpreter's
// and a trace's hits), through counted / countedIds / a --noflush load; raw's and mangle's slots never pinned.
import { afterEach, describe, expect, it } from 'vitest';
import { forgetInternedChains } from '../../src/netfilter/chain-intern.js';
import { JIT } from '../../src/netfilter/compiled.js';
import { COUNT_STRIDE, NfCounters, PIN_RULES, slotOffset } from '../../src/netfilter/nf-counters.js';
import { SLOT } from '../../src/netfilter/nf-hook-nft.js';
import { PIN_FROM, walkRuleIds } from '../../src/netfilter/walk-gen.js';
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

  // nat PREROUTING / POSTROUTING / OUTPUT with jumps first (kube-proxy's), filter FORWARD the same rules.
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

  it('generated walks count the filter and nat slots\' walks\' rules in their blocks, with the interpreter`s and a trace`s counters', () => {
    const ref = run(false, false);
    const got = run(true, false);
    const traced = run(true, true);
    const counts = (nf: Netfilter): string => JSON.stringify(nf.ruleset());
    expect(counts(got)).toBe(counts(ref));
    expect(counts(traced)).toBe(counts(ref));
    expect(got.ruleset().tables[1]!.chains[0]!.counters).toEqual({ packets: 11, bytes: 612 }); // [3:300] loaded, 8 packets counted
    // The walks wrote the pinned cells (a rule's at 2 + 2r past its slot's offset, r its index in walkRuleIds) and left the
    // pinned ids out of the hash; a traced run counted them there (hit()).
    const pre = got.compiledChain('nat', 'PREROUTING')!;
    const post = got.compiledChain('nat', 'POSTROUTING')!;
    const fwd = got.compiledChain('filter', 'FORWARD')!;
    const hashedIn = (nf: Netfilter): Set<number> => {
      const t = nf.countTab;
      const ids = new Set<number>();
      for (let q = nf.countHead; q < t.length; q += COUNT_STRIDE) if (t[q] !== -1) ids.add(t[q]!);
      return ids;
    };
    const hashed = hashedIn(got);
    const t = got.countTab;
    const so = (s: number): number => slotOffset(s, PIN_FROM);
    // PREROUTING's walk: its three rules, then SVC's DNAT (SVC is small: not indexed).
    expect(walkRuleIds(pre)).toEqual([...pre.rules.map((r) => r.id), pre.rules[0]!.jump!.rules[0]!.id]);
    expect(t[so(SLOT.NAT_PRE) + 2]).toBe(16); // -j SVC: every PREROUTING packet (12 tcp, 4 udp)
    expect(t[so(SLOT.NAT_PRE) + 4]).toBe(4); // -p udp -j RETURN
    expect(t[so(SLOT.NAT_PRE) + 6]).toBe(4); // --dport 22 -j ACCEPT
    expect(t[so(SLOT.NAT_PRE) + 8]).toBe(4); // SVC's DNAT
    expect(t[so(SLOT.NAT_POST) + 2]).toBeGreaterThan(0);
    expect(t[so(SLOT.NAT_OUT) + 2]).toBe(4);
    // FORWARD's walk: its rules (-j SVC, -p udp -j ACCEPT), then SVC's (-d 10.96.0.1 -j ACCEPT): the cells hold what the
    // interpreter counted for them.
    expect(walkRuleIds(fwd)).toEqual([fwd.rules[0]!.id, fwd.rules[1]!.id, fwd.rules[0]!.jump!.rules[0]!.id]);
    const filter = ref.ruleset().tables[0]!.chains;
    const want = [filter[1]!.rules[0]!, filter[1]!.rules[1]!, filter.find((c) => c.name === 'SVC')!.rules[0]!].map((r) => r.counters.packets);
    expect([2, 4, 6].map((k) => t[so(SLOT.FILTER_FWD) + k])).toEqual(want);
    expect(want[0]).toBeGreaterThan(want[1]!);
    for (const id of [...walkRuleIds(pre), ...walkRuleIds(post), ...walkRuleIds(fwd)]) expect(hashed.has(id)).toBe(false);
    const tr = (table: 'nat' | 'filter', chain: string): number => traced.compiledChain(table, chain)!.rules[0]!.id;
    for (const id of [tr('nat', 'PREROUTING'), tr('filter', 'FORWARD'), tr('nat', 'POSTROUTING')]) expect(hashedIn(traced).has(id)).toBe(true);
    // A --noflush load of the same text keeps them (carried into the hash, read back the same).
    const before = counts(got);
    got.loadNoflush(got.ruleset(), null);
    expect(counts(got)).toBe(before);
  });
});

describe('pinned walk rules', () => {
  // INPUT and OUTPUT both jump to FW (kube-proxy's KUBE-FIREWALL): its rule has a cell in each slot's block, read as
  // their sum; OUTPUT's walk holds more rules than PIN_RULES: those past them count in the hash.
  const many = Array.from({ length: PIN_RULES + 3 }, (_, k) => `-A OUTPUT -p tcp -m tcp --dport ${1000 + k} -j ACCEPT`).join('\n');
  const TEXT = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:FW - [0:0]
-A INPUT -j FW
-A OUTPUT -j FW
${many}
-A FW -p udp -j DROP
-A FW -p tcp -m tcp --dport 9 -j RETURN
COMMIT
`;

  function run(walk: boolean) {
    forgetInternedChains();
    JIT.walk = walk;
    JIT.walkHot = 1;
    const host = new FakeHost([ip('192.168.0.1')], { eth0: ip('192.168.0.1') }, 3);
    const nf = new Netfilter(host);
    nf.load(rules(TEXT));
    let port = 2000;
    for (let round = 0; round < 3; round++) {
      for (const dport of [9, 1000, 1001 + PIN_RULES, 1002 + PIN_RULES, 80]) {
        nf.hook(NfHook.INPUT, tcp('10.1.2.3', port++, '192.168.0.1', dport), 'eth0', null);
        nf.hook(NfHook.OUTPUT, tcp('192.168.0.1', port++, '10.1.2.3', dport), null, 'eth0');
      }
      nf.hook(NfHook.INPUT, udp('10.1.2.3', port++, '192.168.0.1', 53), 'eth0', null);
      host.t += 1000;
    }
    return nf;
  }

  it('counts a chain two slots reach in both blocks, and rules past PIN_RULES in the hash', () => {
    const ref = run(false);
    const got = run(true);
    expect(JSON.stringify(got.ruleset())).toBe(JSON.stringify(ref.ruleset()));
    const inp = got.compiledChain('filter', 'INPUT')!;
    const out = got.compiledChain('filter', 'OUTPUT')!;
    const fw = got.compiledChain('filter', 'FW')!;
    const so = (s: number): number => slotOffset(s, PIN_FROM);
    const t = got.countTab;
    // INPUT's walk: -j FW, then FW's two rules; OUTPUT's: its 1 + PIN_RULES + 3 rules, then FW's (past PIN_RULES).
    expect(walkRuleIds(inp)).toEqual([inp.rules[0]!.id, fw.rules[0]!.id, fw.rules[1]!.id]);
    expect(walkRuleIds(out)).toEqual([...out.rules.map((r) => r.id), fw.rules[0]!.id, fw.rules[1]!.id]);
    // FW's RETURN (--dport 9): 3 INPUT packets in INPUT's block, 3 OUTPUT ones in the hash (OUTPUT's index PIN_RULES + 5).
    expect(t[so(SLOT.FILTER_IN) + 2 + 2 * 2]).toBe(3);
    const hashed = new Map<number, number>();
    for (let q = got.countHead; q < t.length; q += COUNT_STRIDE) if (t[q] !== -1) hashed.set(t[q]!, t[q + 1]!);
    expect(hashed.get(fw.rules[1]!.id)).toBe(3);
    expect(got.ruleset().tables[0]!.chains.find((c) => c.name === 'FW')!.rules[1]!.counters.packets).toBe(6);
    // OUTPUT's rules: --dport 1000 (index 1) in a cell, --dport 1001 + PIN_RULES (index PIN_RULES + 2) in the hash.
    expect(t[so(SLOT.FILTER_OUT) + 2 + 2 * 1]).toBe(3);
    expect(hashed.has(out.rules[1]!.id)).toBe(false);
    expect(hashed.get(out.rules[PIN_RULES + 2]!.id)).toBe(3);
    expect(hashed.has(out.rules[0]!.id)).toBe(false); // -j FW: every OUTPUT packet, in its cell
  });
});
