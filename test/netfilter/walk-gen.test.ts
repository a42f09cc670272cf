// Tests for netfilter/walk-gen: walks of one shape share their generated code (addresses and ports
// read as per-walk constants), and each per-node variant still tests its own constants and counts
// into its own rules' counters. Reference: the interpreter over the same rules (JIT.walk = false).
import { afterEach, describe, expect, it } from 'vitest';
import { forgetInternedChains } from '../../src/netfilter/chain-intern.js';
import { JIT } from '../../src/netfilter/compiled.js';
import { Netfilter, NfHook, type NfTraceEvent } from '../../src/netfilter/netfilter.js';
import { FakeHost, ip, ipStr, rules, tcp, udp } from './helpers.js';

const DEFAULT_WALK_HOT = JIT.walkHot;
const DEFAULT_ENTER_HOT = JIT.enterHot;
afterEach(() => {
  JIT.walkHot = DEFAULT_WALK_HOT;
  JIT.enterHot = DEFAULT_ENTER_HOT;
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
    // The chains' states in the order a packet first enters them: POSTROUTING (states 0-2), its first rule's
    // KUBE-POSTROUTING (3-7), then its second rule's FLANNEL-POSTRTG (8-14); the constants declared in that order.
    const src = walks[0]!.toString();
    expect(src).toMatch(/case 0: [^\n]*stk\[sp\] = 1; stk\[sp \+ 1\] = 1; sp \+= 2; st = 3; from = 0; continue;/);
    expect(src).toMatch(/case 1: [^\n]*stk\[sp\] = 2; stk\[sp \+ 1\] = 2; sp \+= 2; st = 8; from = 0; continue;/);
    expect(src).toMatch(/case 3: [^\n]*pkt\.udp/);
    expect(src).toMatch(/case 8: [^\n]*pkt\.mark & 16384/);
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

  it('a walk through an indexed KUBE-SERVICES: its index, the KUBE-SVC / KUBE-SEP walks it calls, as the interpreter', () => {
    // kube-proxy's nat table with 40 Services (KUBE-SERVICES indexed: 32 rules and more), and around it what
    // its callouts must keep: frames below the indexed chain (PREROUTING -> PRE -> KUBE-SERVICES, then PRE's and
    // PREROUTING's later rules), a Service chain that pushes frames (KUBE-MARK-MASQ) and then returns, gotos,
    // a rule whose target continues, an empty Service chain, NodePorts through KUBE-NODEPORTS.
    const N = 40;
    const svc = (k: number) => `KUBE-SVC-${k}`;
    const lines: string[] = [];
    const decl: string[] = [':PRE - [0:0]', ':LATE - [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-NODEPORTS - [0:0]', ':KUBE-MARK-MASQ - [0:0]'];
    lines.push('-A PREROUTING -j PRE', '-A PREROUTING -j LATE', '-A OUTPUT -m conntrack --ctstate NEW -j KUBE-SERVICES');
    lines.push('-A PRE -m mark --mark 0x8/0x8 -j RETURN', '-A PRE -j KUBE-SERVICES', '-A PRE -p tcp -j MARK --set-xmark 0x2/0x2');
    lines.push('-A LATE -p tcp -m tcp --dport 81 -j MARK --set-xmark 0x1/0x1', '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000');
    for (let k = 0; k < N; k++) {
      decl.push(`:${svc(k)} - [0:0]`);
      lines.push(`-A KUBE-SERVICES -d 10.96.0.${k}/32 -p tcp -m comment --comment "svc-${k}" -m tcp --dport 80 ${k % 5 === 4 ? '-g' : '-j'} ${svc(k)}`);
      if (k % 7 === 3) lines.push(`-A KUBE-SERVICES -d 10.96.0.${k}/32 -p tcp -m tcp --dport 83 -j MARK --set-xmark 0x10/0x10`);
      if (k % 8 === 6) lines.push(`-A KUBE-SERVICES -d 10.96.0.${k}/32 -p tcp -m tcp --dport 81 -j RETURN`);
      if (k % 10 === 0) lines.push(`-A KUBE-NODEPORTS -p tcp -m tcp --dport ${30000 + k} -j ${svc(k)}`);
      if (k % 6 === 2) continue; // no endpoints: an empty chain
      // Some Service chains return (after a frame of their own was pushed and popped) or go to a chain that returns.
      const odd = k % 9 === 1;
      if (odd) lines.push(`-A ${svc(k)} -p udp -j RETURN`);
      lines.push(`-A ${svc(k)} ! -s 10.244.0.0/16 -d 10.96.0.${k}/32 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ`);
      if (odd) lines.push(`-A ${svc(k)} -p tcp -m tcp --sport 1234 -j RETURN`, `-A ${svc(k)} -p tcp -m tcp --sport 1235 -g KUBE-MARK-MASQ`);
      for (let e = 0; e < 3; e++) {
        const sep = `KUBE-SEP-${k}-${e}`;
        decl.push(`:${sep} - [0:0]`);
        lines.push(`-A ${svc(k)} ${['-m statistic --mode random --probability 0.33333333349 ', '-m statistic --mode random --probability 0.50000000000 ', ''][e]}-j ${sep}`);
        lines.push(`-A ${sep} -s 10.244.${e}.${k}/32 -j KUBE-MARK-MASQ`, `-A ${sep} -p tcp -m tcp -j DNAT --to-destination 10.244.${e}.${k}:8080`);
      }
    }
    lines.push('-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
    const text = `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n${decl.join('\n')}\n${lines.join('\n')}\nCOMMIT\n`;
    // Each run its own compiled chains: a big table's are shared through the template of its (name, index
    // threshold), so each run has a threshold of its own (KUBE-SERVICES, 52 rules, is indexed in all).
    const go = (walk: boolean, enterHot: number, indexMinRules: number, traced = true) => {
      forgetInternedChains();
      JIT.walk = walk;
      JIT.walkHot = 1;
      JIT.enterHot = enterHot;
      const host = new FakeHost([ip('192.168.0.1')], { eth0: ip('192.168.0.1') }, 7);
      const nf = new Netfilter(host, { indexMinRules });
      nf.load(rules(text));
      const out: string[] = [];
      if (traced) nf.trace = (e) => out.push(JSON.stringify(e));
      let port = 4000;
      const send = (hook: NfHook, src: string, sport: number, dst: string, dport: number, mark: number) => {
        const p = tcp(src, sport, dst, dport);
        p.mark = mark;
        nf.walked = 0;
        const v = hook === NfHook.PREROUTING ? nf.hook(hook, p, 'eth0', null) : nf.hook(hook, p, null, 'eth0');
        out.push(`${hook} ${JSON.stringify(v)} walked=${nf.walked} ${ipStr(p.ip!.dst)}:${p.tcp!.dstPort} mark=${p.mark}`);
        host.t += 1000;
      };
      for (let round = 0; round < 3; round++) {
        for (let k = 0; k < N; k++) {
          for (const dport of [80, 81, 83]) {
            send(NfHook.PREROUTING, `10.244.1.${100 + round}`, port++, `10.96.0.${k}`, dport, 0);
            send(NfHook.PREROUTING, '192.168.0.9', k % 9 === 1 && round < 2 ? 1235 - round : port++, `10.96.0.${k}`, dport, round === 2 && k % 4 === 0 ? 8 : 0);
          }
          send(NfHook.PREROUTING, '10.244.2.7', port++, `10.244.${k % 3}.${k}`, 8080, 0); // to a pod: the index is skipped
          send(NfHook.PREROUTING, '192.168.0.9', port++, '192.168.0.1', 30000 + k, 0); // NodePorts (and not)
          send(NfHook.OUTPUT, '192.168.0.1', port++, `10.96.0.${k}`, 80, 0);
        }
      }
      out.push(JSON.stringify(nf.ruleset()));
      return { out, nf };
    };
    const ref = go(false, 1, 32);
    const got = go(true, 1, 33);
    const late = go(true, 3, 34); // each Service chain interpreted on its first two entries, then walked
    expect(got.out).toEqual(ref.out);
    expect(late.out).toEqual(ref.out);
    for (const x of [ref, got, late]) expect(x.nf.compiledChain('nat', 'KUBE-SERVICES')!.index).not.toBeNull();
    expect(ref.nf.compiledChain('nat', 'PREROUTING')!.walk).toBeNull();
    expect(got.nf.compiledChain('nat', 'PREROUTING')!.walk).not.toBeNull();
    expect(late.nf.compiledChain('nat', 'OUTPUT')!.walk).not.toBeNull();
    // Every Service chain entered has its walk; those of one shape share their source (constants apart).
    const svcWalks = [0, 3, 5, 7].map((k) => got.nf.compiledChain('nat', svc(k))!.walk!);
    expect(svcWalks.every((w) => w !== null)).toBe(true);
    expect(new Set(svcWalks).size).toBe(4);
    expect(new Set(svcWalks.map(String)).size).toBe(1);
    expect(ref.nf.compiledChain('nat', svc(0))!.walk).toBeNull();
    // The paths under test were taken: DNAT to every endpoint, masquerade marks, the RETURN after a frame pushed.
    for (const e of [0, 1, 2]) expect(got.out.some((l) => l.includes(` 10.244.${e}.5:8080 `))).toBe(true);
    for (const r of ['--sport 1234 -j RETURN', '--sport 1235 -g KUBE-MARK-MASQ']) expect(got.out.some((l) => l.includes(`"text":"-A KUBE-SVC-10 -p tcp -m tcp ${r}"`))).toBe(true);
    expect(got.out.some((l) => l.includes('"chain":"LATE"'))).toBe(true);
    // Untraced, a walk counts the rule its index finds itself when the rule's id is in its home quad (hit()
    // otherwise): the same verdicts, walked counts and counters as the interpreter's.
    const refQuiet = go(false, 1, 35, false);
    const gotQuiet = go(true, 1, 36, false);
    expect(gotQuiet.out).toEqual(refQuiet.out);
    const services = gotQuiet.nf.ruleset().tables[0]!.chains.find((c) => c.name === 'KUBE-SERVICES')!;
    expect(services.rules.filter((r) => r.counters.packets > 0).length).toBeGreaterThan(N);
  });
});
