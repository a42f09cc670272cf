// Netfilter's per-slot copy of its built-in chains' generated walks (netfilter.ts `walks`): table() calls a walk
// from there, without reading the chain. Each entry is null or the slot's chain's walk: set when this namespace
// first finds the chain's walk (made by it or by another namespace sharing the chain), reset by a load.
import { afterEach, describe, expect, it } from 'vitest';
import { JIT, type CChain } from '../../src/netfilter/compiled.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { FakeHost, ip, rules, tcp } from './helpers.js';

const A = '192.168.1.10';
const RULES = `*filter
  :INPUT DROP [0:0]
  :FORWARD DROP [0:0]
  :OUTPUT ACCEPT [0:0]
  -A INPUT -p tcp --dport 80 -j ACCEPT
  -A FORWARD -i cni0 -j ACCEPT
  COMMIT`;
const OTHER = RULES.replace('--dport 80', '--dport 81');

const DEFAULT_WALK_HOT = JIT.walkHot;
afterEach(() => {
  JIT.walkHot = DEFAULT_WALK_HOT;
});

type Slots = { walks: (unknown | null)[]; bases: (CChain | null)[] };
const slots = (nf: Netfilter): Slots => nf as unknown as Slots;
/** Every slot's copy is null or its chain's walk. */
function consistent(nf: Netfilter): void {
  const s = slots(nf);
  expect(s.walks.length).toBe(s.bases.length);
  s.walks.forEach((w, i) => {
    if (w !== null) expect(w).toBe(s.bases[i]!.walk);
  });
}

describe('the slots\' walks', () => {
  it('follow the chains\' walks, made here or by a namespace sharing them, and a load', () => {
    JIT.walkHot = 3;
    const a = new Netfilter(new FakeHost([ip(A)]));
    const b = new Netfilter(new FakeHost([ip(A)]));
    a.load(rules(RULES));
    b.load(rules(RULES));
    const input = a.compiledChain('filter', 'INPUT')!;
    expect(b.compiledChain('filter', 'INPUT')).toBe(input);
    const inputSlot = slots(a).bases.indexOf(input);
    expect(inputSlot).toBeGreaterThanOrEqual(0);
    const verdicts = (nf: Netfilter): string[] => [80, 81].map((p) => nf.hook(NfHook.INPUT, tcp('10.0.0.1', 1000, A, p), 'eth0', null).kind);
    for (let i = 0; i < 6; i++) {
      expect(verdicts(a)).toEqual(['accept', 'drop']);
      consistent(a);
      consistent(b);
    }
    expect(input.walk).not.toBeNull();
    expect(slots(a).walks[inputSlot]).toBe(input.walk);
    // b never ran INPUT: its copy is still empty; its first hook there finds a's walk.
    expect(slots(b).walks[inputSlot]).toBeNull();
    expect(verdicts(b)).toEqual(['accept', 'drop']);
    expect(slots(b).walks[inputSlot]).toBe(input.walk);
    consistent(b);
    // A load of other rules: the copies are the new chains' (no walk yet), and the verdicts theirs.
    a.load(rules(OTHER));
    consistent(a);
    expect(slots(a).walks[inputSlot]).toBeNull();
    for (let i = 0; i < 6; i++) {
      expect(verdicts(a)).toEqual(['drop', 'accept']);
      consistent(a);
    }
    expect(slots(a).walks[inputSlot]).not.toBeNull();
    // And back: the old chain (shared with b, its walk made) is called from the copy right away.
    a.load(rules(RULES));
    expect(slots(a).walks[inputSlot]).toBe(input.walk);
    expect(verdicts(a)).toEqual(['accept', 'drop']);
    // Counted since that load: the policy's drop and the rule's accept, as the interpreter counts them.
    expect(a.save()).toContain(':INPUT DROP [1:40]');
    expect(a.ruleset().tables[0]!.chains.find((c) => c.name === 'INPUT')!.rules[0]!.counters).toEqual({ packets: 1, bytes: 40 });
  });
});
