// Tests for netfilter/scan-gen: the generated chain scans against the interpreter they replace.
// Random rulesets (raw, mangle, filter, nat; user chains jumping forward only; the matches scan-gen writes
// out and some it calls as closures: statistic random and nth, multiport, connmark, conntrack with
// more than --ctstate, addrtype other than LOCAL) × random packets through random hook paths, in two
// namespaces loaded from two parses of the same text (so no compiled chain is shared between them):
// one with the interpreter forced (JIT.hot = Infinity), one generating every chain on its first scan.
// Same verdicts, packets after the hooks, rule walk counts, traces, counters and conntrack table.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { forgetInternedChains } from '../../src/netfilter/chain-intern.js';
import { JIT, type CChain } from '../../src/netfilter/compiled.js';
import { formatConntrackTable } from '../../src/netfilter/conntrack.js';
import { parseIptablesSave } from '../../src/netfilter/iptables-save.js';
import { Netfilter, NfHook, type NfTraceEvent } from '../../src/netfilter/netfilter.js';
import type { TableName } from '../../src/netfilter/rules.js';
import { genScan } from '../../src/netfilter/scan-gen.js';
import { LATE_ENV } from '../../src/netfilter/compiled.js';
import { compileRuleParts } from '../../src/netfilter/matches.js';
import { IpProto, TcpFlag } from '../../src/wire/types.js';
import { FakeHost, icmp, ip, rules, tcp, udp } from './helpers.js';

const DEFAULT_HOT = JIT.hot;
const DEFAULT_WALK_HOT = JIT.walkHot;
const DEFAULT_ENTER_HOT = JIT.enterHot;
afterEach(() => {
  JIT.hot = DEFAULT_HOT;
  JIT.walkHot = DEFAULT_WALK_HOT;
  JIT.enterHot = DEFAULT_ENTER_HOT;
  JIT.walk = true;
});

const NODE = '192.168.0.2';
const ADDRS = ['10.244.0.2', '10.244.1.5', '10.96.0.10', '192.168.0.2', '203.0.113.7', '127.0.0.1', '0.0.0.0', '224.0.0.5'];
const CIDRS = ['10.244.0.0/16', '10.244.0.0/24', '10.96.0.10/32', '192.168.0.2/32', '0.0.0.0/0', '224.0.0.0/4', '127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '255.255.255.255/32'];
const IFACES = ['eth0', 'eth1', 'cni0', 'veth12', 'flannel.1'];
const IFACE_ARGS = ['eth0', 'cni0', 'veth+', 'flannel.1', '+', 'eth+'];
const PORTS = [22, 53, 80, 443, 8080, 30080];
const USER = ['U0', 'U1', 'U2', 'U3'];

const neg = fc.boolean().map((b) => (b ? '! ' : ''));
const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
/** An option present one time in three (rules that test everything would rarely match a packet). */
const sometimes = (a: fc.Arbitrary<string>) => fc.oneof({ arbitrary: fc.constant(''), weight: 2 }, { arbitrary: a, weight: 1 });

/** One rule's options (without -A and target); the protocol-bound matches come with their -p. */
const ruleOpts = fc
  .tuple(
    sometimes(fc.tuple(neg, pick(CIDRS)).map(([n, c]) => `${n}-s ${c}`)),
    sometimes(fc.tuple(neg, pick(CIDRS)).map(([n, c]) => `${n}-d ${c}`)),
    sometimes(fc.tuple(neg, pick(IFACE_ARGS)).map(([n, c]) => `${n}-i ${c}`)),
    sometimes(fc.tuple(neg, pick(IFACE_ARGS)).map(([n, c]) => `${n}-o ${c}`)),
    fc.oneof(
      fc.constant(''),
      fc.tuple(neg, pick(['tcp', 'udp', 'icmp', 'all'])).map(([n, p]) => `${n}-p ${p}`),
      fc
        .tuple(fc.option(fc.tuple(neg, pick(PORTS)), { nil: null }), fc.option(fc.tuple(neg, pick(['1000:2000', '80', '1024:65535'])), { nil: null }), fc.option(fc.tuple(neg, pick(['SYN,ACK SYN', 'SYN,RST,ACK,FIN ACK', 'ALL NONE'])), { nil: null }))
        .map(([d, s, f]) => `-p tcp -m tcp${s ? ` ${s[0]}--sport ${s[1]}` : ''}${d ? ` ${d[0]}--dport ${d[1]}` : ''}${f ? ` ${f[0]}--tcp-flags ${f[1]}` : ''}`),
      fc.tuple(neg, pick(PORTS)).map(([n, p]) => `-p udp -m udp ${n}--dport ${p}`),
      fc.tuple(neg, pick(PORTS)).map(([n, p]) => `-p sctp -m sctp ${n}--dport ${p}`),
      // What the destination index keys (KUBE-SERVICES, KUBE-NODEPORTS): one protocol and port, maybe a /32.
      fc.tuple(pick(['-d 10.96.0.10/32 ', '-d 192.168.0.2/32 ', '']), pick(['tcp', 'udp']), pick([53, 80])).map(([d, p, port]) => `${d}-p ${p} -m ${p} --dport ${port}`),
      fc.tuple(pick(['-d 10.96.0.10/32 ', '']), pick([80, 443])).map(([d, port]) => `${d}-p tcp -m tcp --dport ${port}`),
      fc.tuple(neg, pick(['80,443', '53,8080:8090'])).map(([n, l]) => `-p tcp -m multiport ${n}--dports ${l}`),
      pick(['-f', '! -f']),
    ),
    fc.array(
      fc.oneof(
        fc.tuple(neg, pick(['0x1/0x1', '0x4000/0x4000', '0x0/0xffff', '0x2'])).map(([n, m]) => `-m mark ${n}--mark ${m}`),
        fc.tuple(neg, pick(['NEW', 'RELATED,ESTABLISHED', 'INVALID', 'RELATED,ESTABLISHED,DNAT', 'NEW,SNAT', 'UNTRACKED'])).map(([n, s]) => `-m conntrack ${n}--ctstate ${s}`),
        pick(['-m conntrack --ctstate NEW --ctdir ORIGINAL', '-m conntrack --ctdir REPLY', '-m conntrack --ctstatus SEEN_REPLY']),
        fc.tuple(neg, pick(['NEW', 'ESTABLISHED,RELATED', 'INVALID'])).map(([n, s]) => `-m state ${n}--state ${s}`),
        fc.tuple(neg, pick(['--dst-type LOCAL', '--src-type LOCAL', '--dst-type UNICAST', '--src-type LOCAL --dst-type LOCAL', '--dst-type LOCAL,MULTICAST'])).map(([n, t]) => `-m addrtype ${n}${t}`),
        pick(['-m comment --comment "x y"', '-m statistic --mode random --probability 0.50000000000', '-m statistic --mode random ! --probability 0.33333333349', '-m statistic --mode nth --every 3 --packet 1', '-m connmark --mark 0x1/0x1']),
      ),
      { maxLength: 2 },
    ),
  )
  .map(([s, d, i, o, p, ms]) => [s, d, i, o, p, ...ms].filter((x) => x !== '').join(' '));

/** A target for a rule of chain index `from` (user chains only jump to later ones: no loops). */
function target(table: TableName, chain: string, from: number): fc.Arbitrary<string> {
  const later = USER.slice(from + 1);
  const common: fc.Arbitrary<string>[] = [pick(['-j ACCEPT', '-j DROP', '-j RETURN', '', '-j MARK --set-xmark 0x1/0x1', '-j MARK --set-xmark 0x4000/0x0'])];
  if (later.length > 0) common.push(fc.tuple(pick(['-j', '-g']), pick(later)).map(([j, c]) => `${j} ${c}`));
  // CT --notrack goes on (XT_CONTINUE) with the packet untracked: later --ctstate tests see UNTRACKED.
  if (table === 'raw') common.push(pick(['-j CT --notrack', '-j NOTRACK']));
  if (table === 'filter') common.push(pick(['-j REJECT --reject-with icmp-port-unreachable', '-j REJECT --reject-with icmp-host-prohibited']));
  if (table === 'nat' && (chain === 'PREROUTING' || chain === 'OUTPUT')) common.push(pick(['-j DNAT --to-destination 10.244.1.5:8080', '-j DNAT --to-destination 10.244.0.2']));
  if (table === 'nat' && chain === 'POSTROUTING') common.push(pick(['-j MASQUERADE', '-j SNAT --to-source 192.168.0.2']));
  return fc.oneof(...common);
}

const BUILTIN: Record<'raw' | 'filter' | 'nat' | 'mangle', string[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
};

function chainRules(table: 'raw' | 'filter' | 'nat' | 'mangle', chain: string, from: number, max: number): fc.Arbitrary<string[]> {
  return fc.array(fc.tuple(ruleOpts, target(table, chain, from)).map(([o, t]) => `-A ${chain} ${o} ${t}`.replace(/ +/g, ' ').trimEnd()), { maxLength: max });
}

function tableText(table: 'raw' | 'filter' | 'nat' | 'mangle'): fc.Arbitrary<string> {
  const bs = BUILTIN[table];
  return fc
    .tuple(
      fc.array(table === 'nat' ? fc.constant('ACCEPT') : pick(['ACCEPT', 'DROP']), { minLength: bs.length, maxLength: bs.length }),
      fc.tuple(...bs.map((b) => chainRules(table, b, -1, 8))),
      fc.tuple(...USER.map((u, k) => chainRules(table, u, k, 6))),
    )
    .map(([pols, brs, urs]) =>
      [`*${table}`, ...bs.map((b, k) => `:${b} ${pols[k]} [0:0]`), ...USER.map((u) => `:${u} - [0:0]`), ...brs.flat(), ...urs.flat(), 'COMMIT'].join('\n'),
    );
}

const rulesetText = fc.tuple(tableText('raw'), tableText('mangle'), tableText('filter'), tableText('nat')).map((ts) => ts.join('\n') + '\n');

/** A packet and the hooks it crosses (forwarded, to this node, from this node). */
const packetArb = fc.record({
  // sctp: a UDP-shaped record with IP protocol 132, as trace-dump builds them.
  kind: pick(['tcp', 'udp', 'icmp', 'sctp'] as const),
  src: pick(ADDRS),
  dst: pick(ADDRS),
  sport: pick([...PORTS, 1500, 40000]),
  dport: pick(PORTS),
  flags: pick([TcpFlag.SYN, TcpFlag.SYN | TcpFlag.ACK, TcpFlag.ACK, TcpFlag.RST | TcpFlag.ACK, TcpFlag.FIN | TcpFlag.ACK]),
  mark: pick([0, 1, 0x4000, 0x4001]),
  frag: fc.boolean(),
  path: pick(['forward', 'in', 'out'] as const),
  inIf: pick(IFACES),
  outIf: pick(IFACES),
  reply: fc.boolean(),
});
type PacketSpec = typeof packetArb extends fc.Arbitrary<infer T> ? T : never;

function build(s: PacketSpec) {
  const p = s.kind === 'tcp' ? tcp(s.src, s.sport, s.dst, s.dport, s.flags, 10) : s.kind === 'icmp' ? icmp(s.src, s.dst, 8, 0, 7) : udp(s.src, s.sport, s.dst, s.dport);
  if (s.kind === 'sctp') p.ip!.protocol = 132;
  p.mark = s.mark;
  if (s.frag) p.ip!.fragOffset = 185;
  return p;
}

const host = () => new FakeHost([ip(NODE), ip('10.244.0.1')], { eth0: ip(NODE), eth1: ip(NODE), cni0: ip('10.244.0.1'), veth12: ip('10.244.0.1'), 'flannel.1': ip('10.244.0.0') }, 5);

/**
 * Runs the packets through one namespace with the JIT threshold `hot` (`enterHot`: entries of a chain
 * from an indexed one before its walk); everything observable, as text.
 */
function run(text: string, packets: PacketSpec[], hot: number, indexMinRules = Infinity, walk = true, nfHost = host(), enterHot = hot) {
  const nf = new Netfilter(nfHost, { indexMinRules });
  forgetInternedChains(); // each run compiles its own chains (the reference run's are never generated)
  nf.load(parseIptablesSave(text, 'gen'));
  const events: NfTraceEvent[] = [];
  nf.trace = (e) => events.push(e);
  const out: string[] = [];
  const hooks = { forward: [NfHook.PREROUTING, NfHook.FORWARD, NfHook.POSTROUTING], in: [NfHook.PREROUTING, NfHook.INPUT], out: [NfHook.OUTPUT, NfHook.POSTROUTING] } as const;
  for (const s of packets) {
    // A reply of the same flow first sometimes, so conntrack states other than NEW occur.
    const ps = s.reply ? [build(s), build({ ...s, src: s.dst, dst: s.src, sport: s.dport, dport: s.sport, flags: TcpFlag.SYN | TcpFlag.ACK })] : [build(s)];
    for (const p of ps) {
      for (const h of hooks[s.path]) {
        JIT.hot = hot;
        JIT.walkHot = hot;
        JIT.enterHot = enterHot;
        JIT.walk = walk;
        const inIf = h === NfHook.PREROUTING || h === NfHook.INPUT || h === NfHook.FORWARD ? s.inIf : null;
        const outIf = h === NfHook.OUTPUT || h === NfHook.FORWARD || h === NfHook.POSTROUTING ? s.outIf : null;
        const v = nf.hook(h, p, inIf, outIf);
        out.push(`${h} ${JSON.stringify(v)} walked=${nf.walked} ${p.ip!.src}:${p.tcp?.srcPort ?? p.udp?.srcPort}>${p.ip!.dst}:${p.tcp?.dstPort ?? p.udp?.dstPort} mark=${p.mark}`);
        if (v.kind !== 'accept') break;
      }
      nfHost.t += 1_000_000;
    }
  }
  JIT.hot = DEFAULT_HOT;
  JIT.walkHot = DEFAULT_WALK_HOT;
  JIT.enterHot = DEFAULT_ENTER_HOT;
  JIT.walk = true;
  return { out, events, counters: JSON.stringify(nf.ruleset()), ct: formatConntrackTable(nf.conntrack, nfHost.t), nf };
}

/** The compiled chains of `nf` whose scan is a generated one. */
function generated(nf: Netfilter): number {
  let n = 0;
  for (const t of ['raw', 'mangle', 'filter', 'nat'] as const) {
    for (const name of new Set([...BUILTIN.filter, ...BUILTIN.nat, ...BUILTIN.mangle, ...USER])) {
      const cc = nf.compiledChain(t, name);
      if (cc && cc.scan.name === 'scan') n++;
    }
  }
  return n;
}

/** The built-in chains of `nf` with a generated walk. */
function walks(nf: Netfilter): number {
  let n = 0;
  for (const t of ['raw', 'mangle', 'filter', 'nat'] as const) {
    for (const name of new Set([...BUILTIN.filter, ...BUILTIN.nat, ...BUILTIN.mangle])) if (nf.compiledChain(t, name)?.walk) n++;
  }
  return n;
}

/** The built-in chains of `nf` whose generated walk reaches an indexed chain, and the user chains with a walk of their own (entered from one). */
function indexedWalks(nf: Netfilter): { bases: number; entered: number } {
  let bases = 0;
  let entered = 0;
  for (const t of ['raw', 'mangle', 'filter', 'nat'] as const) {
    for (const name of new Set([...BUILTIN.filter, ...BUILTIN.nat, ...BUILTIN.mangle])) {
      const cc = nf.compiledChain(t, name);
      if (!cc?.walk) continue;
      const seen = new Set<CChain>();
      const reach = (c: CChain): boolean => {
        if (seen.has(c)) return false;
        seen.add(c);
        return c.index !== null || c.rules.some((r) => r.jump !== null && reach(r.jump));
      };
      if (reach(cc)) bases++;
    }
    for (const name of USER) if (nf.compiledChain(t, name)?.walk) entered++;
  }
  return { bases, entered };
}

/** The compiled chains of `nf` with a destination index. */
function indexed(nf: Netfilter): number {
  let n = 0;
  for (const t of ['raw', 'mangle', 'filter', 'nat'] as const) {
    for (const name of new Set([...BUILTIN.filter, ...BUILTIN.nat, ...BUILTIN.mangle, ...USER])) if (nf.compiledChain(t, name)?.index) n++;
  }
  return n;
}

describe('scan-gen', () => {
  it('generated scans agree with the interpreter: verdicts, packets, walked counts, trace, counters, conntrack', () => {
    let totalGenerated = 0;
    let totalIndexed = 0;
    let totalWalks = 0;
    let totalIndexedWalks = 0;
    let totalEntered = 0;
    let totalEnteredLate = 0;
    fc.assert(
      fc.property(rulesetText, fc.array(packetArb, { minLength: 1, maxLength: 30 }), (text, packets) => {
        // Reference: the interpreter over unindexed chains. Against it: generated scans in table()'s
        // loop, and the destination index's merged candidates for the chains of 3 rules or more.
        const a = run(text, packets, Infinity);
        const b = run(text, packets, 1, 3, false);
        // Unindexed with everything generated: the built-in chains' walks (walk-gen.ts).
        const d = run(text, packets, 1);
        // Indexed (chains of 3 rules or more) with walks: an indexed chain's state in the walk, and the chains it
        // jumps or goes to run by their own walks at once (e), or interpreted on their first entry (f).
        const e = run(text, packets, 1, 3);
        const f = run(text, packets, 1, 3, true, host(), 2);
        expect(generated(a.nf)).toBe(0);
        expect(walks(a.nf)).toBe(0);
        totalGenerated += generated(b.nf);
        totalIndexed += indexed(b.nf);
        totalWalks += walks(d.nf);
        const ew = indexedWalks(e.nf);
        totalIndexedWalks += ew.bases;
        totalEntered += ew.entered;
        totalEnteredLate += indexedWalks(f.nf).entered;
        for (const x of [b, d, e, f]) {
          expect(x.out).toEqual(a.out);
          expect(x.events).toEqual(a.events);
          expect(x.counters).toBe(a.counters);
          expect(x.ct).toBe(a.ct);
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 150), seed: Number(process.env.FUZZ_SEED ?? 19) },
    );
    // The property held with generated scans in play, not the interpreter on both sides.
    expect(totalGenerated).toBeGreaterThan(100);
    expect(totalIndexed).toBeGreaterThan(100);
    expect(totalWalks).toBeGreaterThan(100);
    expect(totalIndexedWalks).toBeGreaterThan(100);
    expect(totalEntered).toBeGreaterThan(50);
    expect(totalEnteredLate).toBeGreaterThan(10);
    expect(totalEnteredLate).toBeLessThan(totalEntered);
  });

  it('the destination index gives the candidates of a linear walk, in order, from any resume point', () => {
    // One big chain of keyed and wild rules that mostly fall through (no target, MARK), entered by
    // jumps from INPUT at different points (a RETURN in a callee resumes it mid-chain, or after its
    // last rule); destinations inside and outside the range of the keyed ones (10.96.0.10-192.168.0.2).
    const keyed = fc
      .tuple(pick(['-d 10.96.0.10/32 ', '-d 192.168.0.2/32 ', '', '']), pick(['tcp', 'udp']), pick([53, 80]), fc.option(fc.tuple(neg, pick(CIDRS)), { nil: null }))
      .map(([d, p, port, src]) => `${src ? `${src[0]}-s ${src[1]} ` : ''}${d}-p ${p} -m ${p} --dport ${port}`);
    const big = fc.array(fc.tuple(fc.oneof({ arbitrary: keyed, weight: 4 }, { arbitrary: ruleOpts, weight: 1 }), pick(['', '', '-j MARK --set-xmark 0x1/0x1', '-j RETURN', '-j ACCEPT', '-j U1'])), { minLength: 3, maxLength: 40 });
    const text = fc.tuple(big, fc.array(fc.tuple(keyed, pick(['-j U0', '-g U0', ''])), { maxLength: 3 })).map(
      ([u0, input]) =>
        [
          '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':U0 - [0:0]', ':U1 - [0:0]',
          ...input.map(([o, t]) => `-A INPUT ${o} ${t}`.trimEnd()), '-A INPUT -j U0',
          ...u0.map(([o, t]) => `-A U0 ${o} ${t}`.replace(/ +/g, ' ').trimEnd()),
          '-A U1 -m mark --mark 0x1/0x1 -j RETURN', '-A U1 -p udp -j DROP',
          'COMMIT',
        ].join('\n') + '\n',
    );
    const pkts = fc.array(
      packetArb.map((p) => ({ ...p, path: 'in' as const })),
      { minLength: 1, maxLength: 20 },
    ).chain((ps) => fc.tuple(fc.constant(ps), fc.array(fc.tuple(pick(['10.96.0.10', '192.168.0.2', '10.244.0.2', '10.0.0.1', '203.0.113.7']), pick([53, 80])), { minLength: ps.length, maxLength: ps.length })))
      .map(([ps, dsts]) => ps.map((p, k) => ({ ...p, dst: dsts[k]![0], dport: dsts[k]![1] })));
    let indexedRuns = 0;
    fc.assert(
      fc.property(text, pkts, (t, packets) => {
        const a = run(t, packets, Infinity);
        const b = run(t, packets, Infinity, 2);
        indexedRuns += indexed(b.nf);
        expect(b.out).toEqual(a.out);
        expect(b.events).toEqual(a.events);
        expect(b.counters).toBe(a.counters);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 150), seed: Number(process.env.FUZZ_SEED ?? 19) },
    );
    expect(indexedRuns).toBeGreaterThan(100);
  });

  it('a chain gets its generated scan after JIT.hot interpreted scans and shares it with a namespace loading the same rules', () => {
    JIT.hot = 3;
    JIT.walk = false;
    const rs = rules(`*filter
      :INPUT ACCEPT [0:0]
      :FORWARD ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      -A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j DROP
      -A INPUT -m mark --mark 0x1 -j DROP
      COMMIT
    `);
    const a = new Netfilter(host());
    const b = new Netfilter(host());
    a.load(rs);
    b.load(rs);
    const chain = a.compiledChain('filter', 'INPUT')!;
    expect(b.compiledChain('filter', 'INPUT')).toBe(chain);
    const send = (nf: Netfilter, src: string) => nf.hook(NfHook.INPUT, tcp(src, 1000, NODE, 22), 'eth0', null).kind;
    expect(send(a, '10.1.1.1')).toBe('drop');
    expect(send(b, '11.1.1.1')).toBe('accept');
    expect(chain.scan.name).toBe('interpScan');
    expect(send(a, '10.1.1.1')).toBe('drop'); // the third scan: generated from here on
    expect(chain.scan.name).toBe('scan');
    expect(send(b, '10.2.2.2')).toBe('drop');
    expect(send(b, '11.1.1.1')).toBe('accept');
    expect(b.ruleset().tables[0]!.chains[0]!.rules.map((r) => r.counters.packets)).toEqual([1, 0]);
    expect(a.ruleset().tables[0]!.chains[0]!.rules.map((r) => r.counters.packets)).toEqual([2, 0]);
  });

  it('writes the common tests out and calls the closures of the others, in the rule order', () => {
    const rs = rules(`*filter
      :INPUT ACCEPT [0:0]
      :FORWARD ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      -A INPUT ! -s 10.0.0.0/8 -i veth+ -p tcp -m tcp --dport 80 -m conntrack --ctstate NEW -m comment --comment c -j ACCEPT
      -A INPUT -m statistic --mode nth --every 2 --packet 0 -m mark --mark 0x1/0x1 -j DROP
      COMMIT
    `);
    const chain = rs.tables[0]!.chains.find((c) => c.name === 'INPUT')!;
    const compiled = chain.rules.map((r) => ({ rule: r, ...compileRuleParts(r, LATE_ENV) }));
    const fn = genScan(compiled, LATE_ENV);
    const src = fn.toString();
    expect(src).toContain('c.inIf.startsWith("veth")');
    expect(src).toContain('ip.protocol === 6');
    // Addresses and single ports are the scan's constants (k0, k1, ...), masks and the rest written out.
    // (compared as signed 32-bit integers: `&` gives one, the address constant is `addr | 0`, a small integer for 0/2 and 192/2)
    expect(src).toContain('((ip.src & -16777216) !== k0)');
    expect(src).toContain('pkt.tcp.dstPort === k1');
    expect(src).not.toContain('f1(');
    // The statistic closure (stateful) is the only one called; the mark test follows it.
    expect(src).toMatch(/f0\(c\) && \(\(\(pkt\.mark & 1\) >>> 0\) === 1\)/);
    expect(IpProto.TCP).toBe(6);
  });

  it('writes statistic random out as the draw of the running namespace, in the order and sense of its closure', () => {
    const rs = rules(`*nat
      :PREROUTING ACCEPT [0:0]
      :INPUT ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      :POSTROUTING ACCEPT [0:0]
      :SVC - [0:0]
      -A SVC -m statistic --mode random --probability 0.33333333349 -j RETURN
      -A SVC -m statistic --mode random ! --probability 0.50000000000 -j RETURN
      -A SVC -s 172.16.0.0/12 -j RETURN
      COMMIT
    `);
    const chain = rs.tables[0]!.chains.find((c) => c.name === 'SVC')!;
    const fn = genScan(chain.rules.map((r) => ({ rule: r, ...compileRuleParts(r, LATE_ENV) })), LATE_ENV);
    const src = fn.toString();
    expect(src).toContain('(E.random(715827883) !== false)');
    expect(src).toContain('(E.random(1073741824) !== true)');
    expect(src).not.toContain('f0(');
    // 172.16/12 is past 2^31: its signed form, a constant as the others
    expect(src).toContain('((ip.src & -1048576) === k0)');
    // The draws the scan makes, in order, and what it makes of their answers (a scripted env: as the closures, the
    // running namespace's draw through LATE_ENV, one per evaluated statistic test).
    const draws: number[] = [];
    const answers = [false, false, true, true];
    const env = { isLocalAddress: () => false, conntrack: null as never, recent: null as never, ipsets: null as never, reverseRoute: () => null, random: (p: number) => (draws.push(p), answers.shift()!) };
    const prev = LATE_ENV.cur;
    LATE_ENV.cur = env;
    try {
      const p = tcp('172.20.1.1', 1000, '10.96.0.1', 80);
      const at = (i: number) => fn({ pkt: p, ip: p.ip!, inIf: '', outIf: '', now: 0 }, i, null);
      expect(at(0)).toBe(1); // rule 0 draws false; rule 1 draws false, negated: a match
      expect(at(0)).toBe(0); // rule 0 draws true
      expect(at(1)).toBe(2); // rule 1 draws true, negated: none; rule 2's source matches (172.20.1.1 in 172.16/12)
      expect(draws).toEqual([715827883, 1073741824, 715827883, 1073741824]);
      const q = tcp('192.168.1.1', 1000, '10.96.0.1', 80);
      expect(fn({ pkt: q, ip: q.ip!, inIf: '', outIf: '', now: 0 }, 2, null)).toBe(-1);
    } finally {
      LATE_ENV.cur = prev;
    }
  });

  it('chains that differ only in addresses and ports get scans of one source, each testing its own constants', () => {
    const sep = (addr: string, port: number) => {
      const rs = rules(`*nat
        :PREROUTING ACCEPT [0:0]
        :INPUT ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        :SEP - [0:0]
        -A SEP -s ${addr}/32 -j MARK --set-xmark 0x4000/0x4000
        -A SEP -p tcp -m tcp --dport ${port} -j DNAT --to-destination ${addr}:8080
        COMMIT
      `);
      const chain = rs.tables[0]!.chains.find((c) => c.name === 'SEP')!;
      return genScan(chain.rules.map((r) => ({ rule: r, ...compileRuleParts(r, LATE_ENV) })), LATE_ENV);
    };
    const a = sep('10.244.1.5', 80);
    const b = sep('10.244.2.7', 443);
    expect(a.toString()).toBe(b.toString());
    const at = (fn: typeof a, src: string, dport: number) => fn({ pkt: tcp(src, 1000, '10.96.0.1', dport), ip: tcp(src, 1000, '10.96.0.1', dport).ip!, inIf: '', outIf: '', now: 0 }, 0, null);
    expect([at(a, '10.244.1.5', 1), at(a, '10.244.2.7', 80), at(a, '10.244.2.7', 443)]).toEqual([0, 1, -1]);
    expect([at(b, '10.244.1.5', 1), at(b, '10.244.2.7', 80), at(b, '10.244.1.5', 443)]).toEqual([-1, 0, 1]);
  });
});
