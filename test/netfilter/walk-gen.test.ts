// Tests for netfilter/walk-gen: walks of one shape share their generated code (addresses and ports
// read as per-walk constants), and each per-node variant still tests its own constants and counts
// into its own rules' counters. Reference: the interpreter over the same rules (JIT.walk = false).
import { afterEach, describe, expect, it } from 'vitest';
import { forgetInternedChains } from '../../src/netfilter/chain-intern.js';
import { JIT } from '../../src/netfilter/compiled.js';
import { Netfilter, NfHook, type NfTraceEvent } from '../../src/netfilter/netfilter.js';
import { FakeHost, ip, ipStr, rules, tcp, udp } from './helpers.js';

const DEFAULT_WALK_HOT = JIT.walkHot;
afterEach(() => {
  JIT.walkHot = DEFAULT_WALK_HOT;
  JIT.walk = true;
});

/** nat of flannel node `k` (pod CIDR 10.244.k.0/24) as kube-proxy and flanneld write it. */
const natOf = (k: number) => `*nat
  :PREROUTING ACCEPT [0:0]
  :INPUT ACCEPT [0:0]
  :OUTPUT ACCEPT [0:0]
  :POSTROUTING ACCEPT [0:0]
  :FLANNEL-POSTRTG - [0:0]
  :KUBE-POSTROUTING - [0:0]
  -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
  -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG
  -A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment "flanneld masq" -j RETURN
  -A FLANNEL-POSTRTG -s 10.244.${k}.0/24 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j RETURN
  -A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.${k}.0/24 -m comment --comment "flanneld masq" -j RETURN
  -A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.${k}.0/24 -m comment --comment "flanneld masq" -j RETURN
  -A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
  -A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.0.0/16 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully
  -A KUBE-POSTROUTING -p udp --dport 530${k} -j RETURN
  -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
  -A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
  -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
  COMMIT
`;

/** Sources and destinations around nodes 1-3's pod CIDRs, the cluster CIDR and outside it. */
const SRC = ['10.244.1.2', '10.244.2.3', '10.244.3.4', '192.168.0.9', '10.244.7.1'];
const DST = ['10.244.1.5', '10.244.2.6', '10.244.3.7', '8.8.8.8', '224.0.0.5', '192.168.0.8'];

/** Nodes 1-3 with the walk or the interpreter: verdicts, rewritten packets, walked counts, trace, counters. */
function run(walk: boolean) {
  forgetInternedChains();
  JIT.walk = walk;
  JIT.walkHot = 1;
  const out: string[] = [];
  const nfs: Netfilter[] = [];
  for (const k of [1, 2, 3]) {
    const host = new FakeHost([ip(`192.168.0.${k}`)], { eth0: ip(`192.168.0.${k}`), 'flannel.1': ip(`10.244.${k}.0`), cni0: ip(`10.244.${k}.1`) }, k);
    const nf = new Netfilter(host);
    nf.load(rules(natOf(k)));
    const events: NfTraceEvent[] = [];
    nf.trace = (e) => events.push(e);
    let port = 1000;
    for (const src of SRC) {
      for (const dst of DST) {
        for (const mark of [0, 0x4000]) {
          // UDP to 53 or to one of the nodes' own ports (a per-node port constant in the walks)
          const p = port % 2 === 0 ? tcp(src, port, dst, 80) : udp(src, port, dst, [53, 5301, 5302, 5303][(port >> 1) % 4]!);
          port++;
          p.mark = mark;
          const outIf = dst.startsWith('10.244.') ? 'flannel.1' : 'eth0';
          const v = nf.hook(NfHook.OUTPUT, p, null, outIf);
          const w = nf.hook(NfHook.POSTROUTING, p, null, outIf);
          out.push(`node ${k} ${v.kind} ${JSON.stringify(w)} walked=${nf.walked} ${ipStr(p.ip!.src)}>${ipStr(p.ip!.dst)} mark=${p.mark}`);
          host.t += 1000;
        }
      }
    }
    out.push(...events.map((e) => `node ${k} ${JSON.stringify(e)}`));
    out.push(`node ${k} ${JSON.stringify(nf.ruleset())}`);
    nfs.push(nf);
  }
  return { out, nfs };
}

describe('walk-gen', () => {
  it('per-node variants of nat POSTROUTING walk with one source, each with its own CIDRs and counters', () => {
    const ref = run(false);
    const got = run(true);
    expect(got.out).toEqual(ref.out);
    const walks = got.nfs.map((nf) => nf.compiledChain('nat', 'POSTROUTING')!.walk);
    expect(walks.every((w) => w !== null)).toBe(true);
    expect(ref.nfs.every((nf) => nf.compiledChain('nat', 'POSTROUTING')!.walk === null)).toBe(true);
    // Distinct closures (per-node rules and constants) of one generated source, the CIDR not in it.
    expect(new Set(walks).size).toBe(3);
    expect(walks[1]!.toString()).toBe(walks[0]!.toString());
    expect(walks[0]!.toString()).not.toContain(String(ip('10.244.1.0')));
    // Each node masqueraded what left its own pod CIDR for outside the cluster, and nothing else.
    expect(got.out.filter((l) => l.startsWith('node 2 ') && l.includes('>8.8.8.8') && l.includes('192.168.0.2>')).length).toBeGreaterThan(0);
  });

  it('a rule array hot in other variants gives a new variant its walk at its first traversal', () => {
    forgetInternedChains();
    JIT.walkHot = 4;
    const nfs = [1, 2, 3].map((k) => {
      const nf = new Netfilter(new FakeHost([ip(`192.168.0.${k}`)], { eth0: ip(`192.168.0.${k}`) }, k));
      nf.load(rules(natOf(k)));
      return nf;
    });
    let port = 1000;
    // A new connection (conntrack at OUTPUT) whose first packet traverses nat POSTROUTING.
    const post = (nf: Netfilter) => {
      const p = tcp('10.244.1.2', port++, '8.8.8.8', 80);
      nf.hook(NfHook.OUTPUT, p, null, 'eth0');
      return nf.hook(NfHook.POSTROUTING, p, null, 'eth0');
    };
    // Shared POSTROUTING rule array? Each node parsed its own text, so the variants share it only
    // when the interning found it equal: their heat is one counter then.
    const chains = nfs.map((nf) => nf.compiledChain('nat', 'POSTROUTING')!);
    expect(chains[0]!.model.rules).toBe(chains[1]!.model.rules);
    expect(chains[0]).not.toBe(chains[1]);
    post(nfs[0]!);
    post(nfs[0]!);
    post(nfs[1]!);
    expect(chains.map((c) => c.walk !== null)).toEqual([false, false, false]);
    post(nfs[2]!); // the fourth traversal of the rule array
    expect(chains.map((c) => c.walk !== null)).toEqual([false, false, true]);
    post(nfs[0]!);
    expect(chains.map((c) => c.walk !== null)).toEqual([true, false, true]);
  });

  it('nested jumps, gotos and RETURNs: the straight-line walk goes on where the interpreter does', () => {
    // FORWARD -> A (RETURN, or goto B, whose RETURN and end return to FORWARD, not to A) -> B -> D;
    // C reached by a goto from FORWARD and jumping to D; MARK targets (non-standard, XT_CONTINUE)
    // changing what later rules see; verdicts ACCEPT, DROP, REJECT and the DROP policy.
    const text = `*filter
      :INPUT ACCEPT [0:0]
      :FORWARD DROP [0:0]
      :OUTPUT ACCEPT [0:0]
      :A - [0:0]
      :B - [0:0]
      :C - [0:0]
      :D - [0:0]
      -A FORWARD -p tcp -j A
      -A FORWARD -m mark --mark 0x1/0x1 -j ACCEPT
      -A FORWARD -p udp -g C
      -A FORWARD -j MARK --set-xmark 0x10/0x10
      -A FORWARD -p tcp -m tcp --dport 8080 -j ACCEPT
      -A A -m mark --mark 0x4/0x4 -j RETURN
      -A A -g B
      -A A -j DROP
      -A B -p tcp -m tcp --dport 80 -j RETURN
      -A B -j D
      -A B -p tcp -m tcp --dport 443 -j ACCEPT
      -A D -m mark --mark 0x8/0x8 -j DROP
      -A D -p tcp -m tcp --dport 22 -j RETURN
      -A D -j MARK --set-xmark 0x1/0x1
      -A D -p tcp -m tcp --dport 23 -j REJECT
      -A C -m mark --mark 0x2/0x2 -j RETURN
      -A C -j D
      COMMIT
    `;
    const go = (walk: boolean) => {
      forgetInternedChains();
      JIT.walk = walk;
      JIT.walkHot = 1;
      const nf = new Netfilter(new FakeHost([ip('192.168.0.1')], { eth0: ip('192.168.0.1') }, 1));
      nf.load(rules(text));
      const events: NfTraceEvent[] = [];
      nf.trace = (e) => events.push(e);
      const out: string[] = [];
      let port = 2000;
      for (const dport of [22, 23, 80, 443, 8080, 53]) {
        for (const mark of [0, 0x1, 0x2, 0x4, 0x8, 0xc]) {
          const p = dport === 53 ? udp('10.0.0.1', port++, '10.0.1.1', dport) : tcp('10.0.0.1', port++, '10.0.1.1', dport);
          p.mark = mark;
          const v = nf.hook(NfHook.FORWARD, p, 'eth0', 'eth0');
          out.push(`${dport} ${mark} ${JSON.stringify(v)} walked=${nf.walked} mark=${p.mark}`);
        }
      }
      return { out, events, counters: JSON.stringify(nf.ruleset()), walk: nf.compiledChain('filter', 'FORWARD')!.walk };
    };
    const ref = go(false);
    const got = go(true);
    expect(ref.walk).toBeNull();
    expect(got.walk).not.toBeNull();
    expect(got.out).toEqual(ref.out);
    expect(got.events).toEqual(ref.events);
    expect(got.counters).toBe(ref.counters);
    // Every kind of end was reached: a goto's chain returning to FORWARD's next rule (mark 0x1 from D, then ACCEPT),
    // the DROP policy, DROP, REJECT.
    const kinds = new Set(got.out.map((l) => JSON.parse(l.split(' ')[2]!).kind as string));
    expect([...kinds].sort()).toEqual(['accept', 'drop', 'reject']);
    expect(got.out.some((l) => l.includes('"rule":-1'))).toBe(true);
  });
});

