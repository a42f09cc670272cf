// Netfilter.hook's shared state (netfilter.ts: one evaluation context and one late-bound match env for
// every namespace, as hooks never nest): each hook sees its own namespace's env and interface names
// whatever hook ran before; a finished hook that ran rules, on both its normal and its error path, leaves the
// shared env at its own namespace's (set on change only, where rules run: the next hook of the same namespace,
// or one of a namespace without rules, stores nothing) and releases the shared state (the next hook runs).
import { describe, expect, it } from 'vitest';
import { LATE_ENV } from '../../src/netfilter/compiled.js';
import { Netfilter, NfHook } from '../../src/netfilter/netfilter.js';
import { FakeHost, ip, rules, tcp } from './helpers.js';

const A = '192.168.1.10';
const B = '192.168.1.11';
const RULES = `*filter
  :INPUT DROP [0:0]
  :FORWARD DROP [0:0]
  :OUTPUT ACCEPT [0:0]
  -A INPUT -i eth0 -m addrtype --dst-type LOCAL -j ACCEPT
  -A FORWARD -i cni0 -o eth0 -j ACCEPT
  COMMIT`;

/** A namespace's match env (Netfilter.menv: the Netfilter itself). */
const envOf = (nf: Netfilter): unknown => (nf as unknown as { menv: unknown }).menv;

describe('the hook state shared by namespaces', () => {
  it('matches each hook with its own interfaces and namespace, and leaves its own env after it', () => {
    const a = new Netfilter(new FakeHost([ip(A)]));
    const b = new Netfilter(new FakeHost([ip(B)]));
    a.load(rules(RULES));
    b.load(rules(RULES));
    expect(envOf(a)).toBe(a); // its own match env: addrtype's isLocalAddress reads its host, no object apart
    expect(envOf(b)).toBe(b);
    const seq: [Netfilter, number, string, string | null, string | null, string][] = [
      [a, NfHook.INPUT, A, 'eth0', null, 'accept'],
      [b, NfHook.INPUT, A, 'eth0', null, 'drop'], // A is not B's address
      [b, NfHook.INPUT, B, 'eth0', null, 'accept'],
      [b, NfHook.INPUT, B, 'eth1', null, 'drop'], // another in-interface than the last hook's
      [a, NfHook.FORWARD, B, 'cni0', 'eth0', 'accept'],
      [a, NfHook.FORWARD, B, 'cni0', 'eth1', 'drop'],
      [b, NfHook.FORWARD, A, 'cni0', 'eth0', 'accept'],
      [b, NfHook.INPUT, B, 'eth0', null, 'accept'],
    ];
    for (const [nf, hook, dst, inIf, outIf, kind] of seq) {
      expect(nf.hook(hook as NfHook, tcp('10.0.0.1', 1000, dst, 80), inIf, outIf).kind).toBe(kind);
      expect(LATE_ENV.cur).toBe(envOf(nf));
    }
  });

  it('runs each namespace\'s rules with its own env whether they are interpreted or generated, a rule-less namespace\'s hooks between', () => {
    // The env is set where rules run (a built-in chain's generated walk, the interpreter), not at a hook's entry: a
    // namespace without rules (c) leaves it as it was, and the next namespace with rules sets its own. Each round's
    // verdicts are the same before and after JIT.walkHot traversals made the chains' walks.
    const a = new Netfilter(new FakeHost([ip(A)]));
    const b = new Netfilter(new FakeHost([ip(B)]));
    const c = new Netfilter(new FakeHost([ip(A)]));
    a.load(rules(RULES));
    b.load(rules(RULES));
    const seq: [Netfilter, number, string, string | null, string | null, string][] = [
      [a, NfHook.INPUT, A, 'eth0', null, 'accept'],
      [c, NfHook.INPUT, B, 'eth1', null, 'accept'],
      [b, NfHook.INPUT, A, 'eth0', null, 'drop'], // A is not B's address (b's env, not a's)
      [c, NfHook.FORWARD, B, 'eth1', 'eth1', 'accept'],
      [b, NfHook.INPUT, B, 'eth0', null, 'accept'],
      [c, NfHook.INPUT, A, 'eth0', null, 'accept'],
      [a, NfHook.INPUT, B, 'eth0', null, 'drop'],
      [a, NfHook.FORWARD, B, 'cni0', 'eth0', 'accept'],
      [c, NfHook.OUTPUT, A, null, 'eth0', 'accept'],
      [b, NfHook.FORWARD, A, 'cni0', 'eth1', 'drop'],
      [a, NfHook.INPUT, A, 'eth0', null, 'accept'],
    ];
    let walked = false;
    for (let round = 0; round < 1200 && !walked; round++) {
      for (const [nf, hook, dst, inIf, outIf, kind] of seq) expect(nf.hook(hook as NfHook, tcp('10.0.0.1', 1000, dst, 80), inIf, outIf).kind).toBe(kind);
      walked = a.compiledChain('filter', 'INPUT')!.walk !== null && b.compiledChain('filter', 'FORWARD')!.walk !== null;
    }
    expect(walked).toBe(true); // generated walks ran the last round
    for (const [nf, hook, dst, inIf, outIf, kind] of seq) expect(nf.hook(hook as NfHook, tcp('10.0.0.1', 1000, dst, 80), inIf, outIf).kind).toBe(kind);
  });

  it('keeps the env set last across the late env\'s changes of holder', () => {
    // LATE_ENV keeps its env in a holder it replaces every 256 changes (a young object most of the time): every value set
    // is the one read, before and after each replacement.
    const envs = [new Netfilter(new FakeHost([ip(A)])), new Netfilter(new FakeHost([ip(B)]))].map(envOf) as (typeof LATE_ENV.cur)[];
    const before = LATE_ENV.cur;
    for (let k = 0; k < 1000; k++) {
      const e = k % 7 === 3 ? null : envs[k % 2]!;
      LATE_ENV.cur = e;
      expect(LATE_ENV.cur).toBe(e);
      expect(LATE_ENV.cur).toBe(e);
    }
    LATE_ENV.cur = before;
  });

  it('gives a hook no device of a direction it has not, whatever the hooks before were given', () => {
    // (The kernel refuses -i at OUTPUT / -o at INPUT; here they show what a hook's rules read: the context keeps the
    // last name of each direction and a hook only says which directions it has.)
    const nf = new Netfilter(new FakeHost([ip(A)]));
    nf.load(rules(`*filter
  :INPUT ACCEPT [0:0]
  :FORWARD ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  -A INPUT -o eth0 -j DROP
  -A OUTPUT -i eth0 -j DROP
  -A FORWARD -i eth1 -o eth1 -j DROP
  COMMIT`));
    const seq: [number, string | null, string | null, string][] = [
      [NfHook.FORWARD, 'eth0', 'eth0', 'accept'],
      [NfHook.OUTPUT, null, 'eth0', 'accept'], // the forward's in-device is not OUTPUT's
      [NfHook.INPUT, 'eth0', null, 'accept'], // nor the out-device INPUT's
      [NfHook.FORWARD, 'eth1', 'eth1', 'drop'],
      [NfHook.OUTPUT, null, 'eth1', 'accept'],
      [NfHook.FORWARD, 'eth1', 'eth0', 'accept'],
      [NfHook.INPUT, 'eth1', null, 'accept'],
      [NfHook.FORWARD, 'eth1', 'eth1', 'drop'],
    ];
    for (const [hook, inIf, outIf, kind] of seq) expect(nf.hook(hook as NfHook, tcp('10.0.0.1', 1000, A, 80), inIf, outIf).kind).toBe(kind);
  });

  it('leaves its own env after a rule that could not be evaluated', () => {
    const nf = new Netfilter(new FakeHost([ip(A)]));
    nf.load(rules(`*filter
  :INPUT ACCEPT [0:0]
  :FORWARD ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  -A INPUT -m set --match-set KUBE-X dst -j DROP
  COMMIT`));
    expect(nf.hook(NfHook.INPUT, tcp('1.1.1.1', 1, A, 2), 'eth0', null)).toMatchObject({ kind: 'drop', reason: 'rule-error' });
    expect(LATE_ENV.cur).toBe(envOf(nf));
    // and the next hook runs (the shared state was released)
    expect(nf.hook(NfHook.OUTPUT, tcp(A, 2, '1.1.1.1', 1), null, 'eth0').kind).toBe('accept');
  });
});
