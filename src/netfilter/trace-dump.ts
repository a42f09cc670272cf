// netfilter/trace-dump — follow one packet through a real node's iptables-save dump, without a
// scenario (`podwire trace --iptables-save FILE`). Layer: netfilter (imports core, wire, packet and
// this folder). The hook sequence mirrors net/ipv4/ip_input.c (ip_rcv -> ip_local_deliver),
// ip_forward.c and ip_output.c (__ip_local_out -> ip_output) on one node. The model: one node owning `localIps` (plus 127.0.0.0/8), one interface eth0 and a
// default route out of it. A packet from a non-local source arrives on eth0 (PREROUTING, routing
// decision after DNAT: INPUT when the destination is local, else FORWARD then POSTROUTING out eth0).
// `inIface` / `outIface` (trace --in-iface / --out-iface) name other interfaces for those two legs (a
// libvirt guest's packet from virbr0, a pod's from cali1234 or cni0), so `-i` / `-o` rules on them match.
// A packet from a local source is locally generated (OUTPUT, re-route, POSTROUTING; when it is for
// the node itself it then loops back through lo: PREROUTING and INPUT, as the kernel does).
// MASQUERADE uses the first local IP. At each `-m statistic --mode random` rule both branches are
// followed, each with its probability (the kernel's u32 / 2^31), products along the path.
// A fresh node is assumed: `-m recent --rcheck/--update` find nothing (no earlier packets), conntrack
// is empty, so the packet is the NEW first packet of its connection, and marks start at 0.
import { RngFactory } from '../core/rng.js';
import { Packet } from '../packet/packet.js';
import { IpProto, TcpFlag } from '../wire/types.js';
import { ipv4Header } from '../wire/ipv4.js';
import { Netfilter, NfHook, type NfHost, type NfTraceEvent, type NfVerdict } from './netfilter.js';
import { renderRule } from './iptables-save.js';
import { canonicalize, type Ruleset, type TableName } from './rules.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import { IpSetTable } from './ipset.js';

/** The packet to trace. Addresses are uint32. */
export interface TraceDumpQuery {
  localIps: number[];
  src: number;
  dst: number;
  dport: number;
  /** Default 40000. */
  sport?: number;
  proto: 'tcp' | 'udp' | 'sctp';
  /** Most branches to follow (each statistic rule on the path doubles them); default 4096. */
  maxOutcomes?: number;
  /** The node's `ipset save` output, for rules that match ip sets (Calico, kube-proxy IPVS mode). */
  ipsets?: { text: string; file: string };
  /** The interface a packet from a non-local source arrives on (default eth0): the route back to the source leaves by it too. */
  inIface?: string;
  /** The interface a forwarded or locally generated packet for a non-local destination leaves by (default eth0). */
  outIface?: string;
}

/** A dump that cannot be traced (a path with more random decisions than the guard allows). */
export class TraceDumpError extends Error {}

/** One possible fate of the packet. */
export interface TraceOutcome {
  probability: number;
  verdict: 'ACCEPT' | 'DROP' | 'REJECT';
  /** The rule (as iptables-save prints it) that decided the verdict, or "policy". */
  by: string;
  /** "ip:port" the packet was DNATed to, or null. */
  dnat: string | null;
  /** The packet left through MASQUERADE or SNAT. */
  masquerade: boolean;
  /** Every rule matched, in order. */
  path: { table: TableName; chain: string; rule: string }[];
}

/** Result of traceDump. */
export interface TraceDumpResult {
  outcomes: TraceOutcome[];
  /** Set when more branches existed than maxOutcomes: the outcomes listed cover `coverage` of the probability. */
  truncated?: { maxOutcomes: number; coverage: number };
}

/** Most random decisions on one path: a guard only (a Service with N endpoints takes up to N-1; chain loops are refused at load). */
const MAX_DECISIONS = 100_000;

/** Traces one packet through `rules` on a one-interface node; see the file comment for the model. */
export function traceDump(rules: Ruleset, q: TraceDumpQuery): TraceDumpResult {
  const canon = canonicalize(rules);
  checkSets(canon, q);
  const max = q.maxOutcomes ?? 4096;
  const byKey = new Map<string, TraceOutcome>();
  let decisions: boolean[] = [];
  let branches = 0;
  let covered = 0;
  for (;;) {
    const r = runOnce(canon, q, decisions);
    branches++;
    covered += r.probability;
    // Branches that end the same way (same verdict, NAT and rules) are one outcome.
    if (r.probability > 0) {
      const key = JSON.stringify([r.outcome.verdict, r.outcome.by, r.outcome.dnat, r.outcome.masquerade, r.outcome.path]);
      const seen = byKey.get(key);
      if (seen) seen.probability += r.probability;
      else byKey.set(key, r.outcome);
    }
    // Backtrack: flip the last "match" decision to "no match".
    const used = r.decisions;
    let j = used.length - 1;
    while (j >= 0 && !used[j]) j--;
    if (j < 0) break;
    if (branches >= max) return { outcomes: [...byKey.values()], truncated: { maxOutcomes: max, coverage: covered } };
    decisions = [...used.slice(0, j), false];
  }
  return { outcomes: [...byKey.values()] };
}

/**
 * Every set a `-m set` rule names must be given (iptables-restore refuses the dump otherwise: "Set X doesn't
 * exist"); without this check each packet reaching such a rule was reported dropped by a rule error.
 */
function checkSets(rules: Ruleset, q: TraceDumpQuery): void {
  const sets = new IpSetTable();
  if (q.ipsets) sets.restore(q.ipsets.text, { file: q.ipsets.file });
  const missing = new Set<string>();
  for (const t of rules.tables) for (const c of t.chains) for (const r of c.rules) for (const m of r.matches) if (m.kind === 'set' && !sets.has(m.name)) missing.add(m.name);
  if (missing.size === 0) return;
  const names = [...missing];
  throw new TraceDumpError(`the rules match ip sets ${q.ipsets ? `${q.ipsets.file} does not create` : 'that are not given'}: ${names.slice(0, 5).join(', ')}${names.length > 5 ? `, … (${names.length})` : ''}; pass the node's \`ipset save\` output with --ipset-save FILE`);
}

function runOnce(rules: Ruleset, q: TraceDumpQuery, decisions: boolean[]): { outcome: TraceOutcome; probability: number; decisions: boolean[] } {
  const used = decisions.slice();
  let k = 0;
  let probability = 1;
  const host = new TraceHost(q.localIps, q.src >>> 0, q.inIface ?? 'eth0');
  const events: NfTraceEvent[] = [];
  const nf = new Netfilter(host, {
    trace: (e) => events.push(e),
    random: (p) => {
      if (k >= MAX_DECISIONS) throw new TraceDumpError(`more than ${MAX_DECISIONS} random (statistic) decisions on one path: not traced`);
      let d: boolean;
      if (k < used.length) d = used[k]!;
      else {
        d = true;
        used.push(true);
      }
      k++;
      const prob = p / 0x80000000;
      probability *= d ? prob : 1 - prob;
      return d;
    },
  });
  if (q.ipsets) nf.ipsets.restore(q.ipsets.text, { file: q.ipsets.file });
  nf.load(rules);
  const pkt = queryPacket(q);
  const dst0 = pkt.ip!.dst;
  const verdict = walkHooks(nf, host, pkt, q.src, q.inIface ?? 'eth0', q.outIface ?? 'eth0');
  const outcome = classify(rules, events, verdict, pkt, dst0, q.dport);
  return { outcome: { probability, ...outcome }, probability, decisions: used.slice(0, k) };
}

/** The first packet of the queried connection (a SYN, or a UDP/SCTP datagram). */
function queryPacket(q: TraceDumpQuery): Packet {
  const pkt = new Packet();
  const proto = q.proto === 'tcp' ? IpProto.TCP : q.proto === 'udp' ? IpProto.UDP : IpProto.SCTP;
  const sport = q.sport ?? 40000;
  pkt.ip = ipv4Header(proto, q.src >>> 0, q.dst >>> 0, 2, 0, 64, 1, q.proto === 'tcp' ? 60 : 28);
  if (q.proto === 'tcp') pkt.tcp = { srcPort: sport, dstPort: q.dport, seq: 0, ack: 0, flags: TcpFlag.SYN, window: 64240, checksum: null, urgent: 0, options: [] };
  else pkt.udp = { srcPort: sport, dstPort: q.dport, length: 8, checksum: null };
  return pkt;
}

/** The hooks a packet from `src` traverses (forwarded, or locally generated and maybe looped back), until one does not accept. */
function walkHooks(nf: Netfilter, host: TraceHost, pkt: Packet, src: number, inIf: string, outIf: string): NfVerdict {
  let verdict: NfVerdict = { kind: 'accept', reroute: false };
  const run = (h: NfHook, i: string | null, o: string | null): boolean => {
    verdict = nf.hook(h, pkt, i, o);
    return verdict.kind === 'accept';
  };
  const local = (a: number) => host.isLocalAddress(a);
  if (!local(src)) {
    if (run(NfHook.PREROUTING, inIf, null)) {
      if (local(pkt.ip!.dst)) run(NfHook.INPUT, inIf, null);
      else if (run(NfHook.FORWARD, inIf, outIf)) run(NfHook.POSTROUTING, null, outIf);
    }
  } else {
    let out = local(pkt.ip!.dst) ? 'lo' : outIf;
    if (run(NfHook.OUTPUT, null, out)) {
      out = local(pkt.ip!.dst) ? 'lo' : outIf;
      if (run(NfHook.POSTROUTING, null, out) && out === 'lo' && run(NfHook.PREROUTING, 'lo', null)) run(NfHook.INPUT, 'lo', null);
    }
  }
  return verdict;
}

/** The verdict, the rule that decided it, NAT and the rule path, from the trace events of one walk. */
function classify(rules: Ruleset, events: NfTraceEvent[], v: NfVerdict, pkt: Packet, dst0: number, dport0: number): Omit<TraceOutcome, 'probability'> {
  const ruleOf = (e: NfTraceEvent) => rules.tables.find((t) => t.name === e.table)?.chains.find((c) => c.name === e.chain)?.rules[e.rule];
  const path = events.filter((e) => e.rule >= 0).map((e) => ({ table: e.table, chain: e.chain, rule: e.text }));
  let by = 'policy';
  let verdictName: TraceOutcome['verdict'] = 'ACCEPT';
  if (v.kind === 'drop' || v.kind === 'reject') {
    verdictName = v.kind === 'drop' ? 'DROP' : 'REJECT';
    const r = v.table && v.chain && v.rule >= 0 ? rules.tables.find((t) => t.name === v.table)?.chains.find((c) => c.name === v.chain)?.rules[v.rule] : undefined;
    by = r && v.chain ? renderRule(v.chain, r) : v.kind === 'drop' && v.table === null ? `conntrack: ${v.reason}` : 'policy';
  } else {
    for (const e of events) {
      if (e.rule < 0) {
        if (e.table === 'filter') by = 'policy';
        continue;
      }
      const r = ruleOf(e);
      if (r?.target?.kind === 'ACCEPT') by = e.text;
    }
  }
  const masquerade =
    verdictName === 'ACCEPT' &&
    events.some((e) => {
      const t = e.rule >= 0 ? ruleOf(e)?.target?.kind : undefined;
      return e.table === 'nat' && (t === 'MASQUERADE' || t === 'SNAT');
    });
  const dport = pkt.tcp ? pkt.tcp.dstPort : pkt.udp!.dstPort;
  const dnat = verdictName === 'ACCEPT' && (pkt.ip!.dst !== dst0 || dport !== dport0) ? `${formatIpv4(pkt.ip!.dst)}:${dport}` : null;
  return { verdict: verdictName, by, dnat, masquerade, path };
}

class TraceHost implements NfHost {
  private readonly rngs = new RngFactory(0);
  constructor(
    private readonly localIps: number[],
    /** The traced packet's source, routed back by the interface it came in on. */
    private readonly src: number,
    private readonly inIf: string,
  ) {}
  now(): number {
    return 0;
  }
  isLocalAddress(ip: number): boolean {
    return ip >>> 24 === 127 || this.localIps.includes(ip >>> 0);
  }
  /** inet_select_addr(out, nh, RT_SCOPE_UNIVERSE): out of eth0 or lo alike the node's first address (127.0.0.1 is host scope). */
  masqueradeAddress(): number | null {
    return this.localIps[0] ?? null;
  }
  routeMtu(): number {
    return 1500;
  }
  /** Its own addresses are local routes on eth0, 127.0.0.0/8 on lo, the traced source via its input interface, everything else via eth0's default route. */
  reverseRoute(addr: number): { type: 'unicast' | 'local'; dev: string } {
    if (addr >>> 24 === 127) return { type: 'local', dev: 'lo' };
    if (this.localIps.includes(addr >>> 0)) return { type: 'local', dev: 'eth0' };
    return { type: 'unicast', dev: addr >>> 0 === this.src ? this.inIf : 'eth0' };
  }
  rng(name: string) {
    return this.rngs.stream(`trace-dump:${name}`);
  }
}

/** Formats outcomes as `podwire trace --json` prints them. */
export function traceDumpJson(r: TraceDumpResult): string {
  return JSON.stringify(r, null, 2);
}
