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

  it('jumps to empty chains (first, middle and last rule, in a user chain, before a DROP) walk as the interpreter does', () => {
    // kube-proxy's filter INPUT / OUTPUT on most nodes: several jumps to chains with no rules.
    const text = `*filter
      :INPUT ACCEPT [0:0]
      :FORWARD DROP [0:0]
      :OUTPUT ACCEPT [0:0]
      :E1 - [0:0]
      :E2 - [0:0]
      :MID - [0:0]
      -A INPUT -m conntrack --ctstate NEW -j E1
      -A INPUT -j E2
      -A INPUT -p udp --dport 53 -j MID
      -A INPUT -j E1
      -A FORWARD -j E2
      -A FORWARD -p tcp -j MID
      -A FORWARD -s 10.0.0.0/8 -j DROP
      -A FORWARD -j E1
      -A OUTPUT -j E1
      -A MID -j E2
      -A MID -p udp -j ACCEPT
      -A MID -j E1
      COMMIT
    `;
    const go = (walk: boolean) => {
      forgetInternedChains();
      JIT.walk = walk;
      JIT.walkHot = 1;
      const nf = new Netfilter(new FakeHost([ip('192.168.0.1')], { eth0: ip('192.168.0.1') }, 1));
      nf.load(rules(text));
      const out: string[] = [];
      nf.trace = (e) => out.push(JSON.stringify(e));
      let port = 2000;
      for (const src of ['10.1.2.3', '192.168.0.9']) {
        for (const hook of [NfHook.INPUT, NfHook.FORWARD, NfHook.OUTPUT]) {
          for (const mk of [tcp, udp]) {
            const p = mk(src, port++, '192.168.0.1', 53);
            if (hook === NfHook.OUTPUT) nf.hook(NfHook.OUTPUT, p, null, 'eth0');
            else nf.hook(NfHook.PREROUTING, p, 'eth0', null);
            nf.walked = 0;
            const v = nf.hook(hook, p, 'eth0', hook === NfHook.FORWARD ? 'eth0' : null);
            out.push(`${hook} ${JSON.stringify(v)} walked=${nf.walked}`);
          }
        }
      }
      out.push(JSON.stringify(nf.ruleset()));
      return { out, nf };
    };
    const ref = go(false);
    const got = go(true);
    expect(got.out).toEqual(ref.out);
    for (const c of ['INPUT', 'FORWARD', 'OUTPUT']) expect(got.nf.compiledChain('filter', c)!.walk).not.toBeNull();
    expect(ref.nf.compiledChain('filter', 'INPUT')!.walk).toBeNull();
    // The jumps were taken and counted (each E1 / E2 jump rule has packets).
    expect(got.out.filter((l) => l.includes('"text":"-A INPUT -j E2"')).length).toBeGreaterThan(0);
  });
  it('without a trace, a walk counts its hits as the interpreter does: home quads, a colliding id, table growth', () => {
    // INPUT's rules 0 and 32 have ids 32 apart: with few ids counted (32 quads) they share a home quad,
    // so one of them is found by probing (hit()); the 40 rules of USER then grow the table under the walk.
    const filler = Array.from({ length: 31 }, (_, k) => `-A INPUT -s 1.2.3.${k} -j DROP`).join('\n');
    const user = Array.from({ length: 40 }, (_, k) => `-A USER -p udp --dport ${k}`).join('\n');
    const text = `*filter
      :INPUT ACCEPT [0:0]
      :FORWARD ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      :USER - [0:0]
      -A INPUT -p tcp
      ${filler}
      -A INPUT -p tcp
      -A INPUT -p udp -j USER
      ${user}
      COMMIT
    `;
    const go = (walk: boolean) => {
      forgetInternedChains();
      JIT.walk = walk;
      JIT.walkHot = 1;
      // (no destination index: chains of 32 rules and more would get one, and no walk)
      const nf = new Netfilter(new FakeHost([ip('192.168.0.1')], { eth0: ip('192.168.0.1') }, 1), { indexMinRules: Infinity });
      nf.load(rules(text));
      let port = 3000;
      for (let n = 0; n < 60; n++) {
        const p = n % 3 === 0 ? tcp('10.1.2.3', port++, '192.168.0.1', 80) : udp('10.1.2.3', port++, '192.168.0.1', n % 45);
        p.ip!.totalLength += n; // distinct byte counts
        nf.hook(NfHook.PREROUTING, p, 'eth0', null);
        nf.hook(NfHook.INPUT, p, 'eth0', null);
      }
      return nf;
    };
    const ref = go(false);
    const got = go(true);
    expect(got.compiledChain('filter', 'INPUT')!.walk).not.toBeNull();
    expect(ref.compiledChain('filter', 'INPUT')!.walk).toBeNull();
    expect(got.save()).toBe(ref.save());
    expect(JSON.stringify(got.ruleset())).toBe(JSON.stringify(ref.ruleset()));
    const input = got.ruleset().tables[0]!.chains[0]!;
    expect(input.rules[0]!.counters.packets).toBe(20);
    expect(input.rules[32]!.counters.packets).toBe(20);
    expect(input.rules[32]!.counters.bytes).toBe(input.rules[0]!.counters.bytes);
  });
});

