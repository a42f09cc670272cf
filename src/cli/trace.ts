// cli/trace — `podwire trace`: follow one packet through a scenario (every device, route decision,
// netfilter rule, NAT rewrite, encapsulation and the final verdict), or through a real node's
// iptables-save dump (every possible outcome with its probability). Layer: cli.
import { readFileSync } from 'node:fs';
import type { TimeNs } from '../core/time.js';
import type { HopEvent, Namespace } from '../net/namespace.js';
import { NF_HOOK_NAMES } from '../netfilter/netfilter.js';
import { IptablesParseError, parseIptablesSave } from '../netfilter/iptables-save.js';
import { IpsetError } from '../netfilter/ipset.js';
import { traceDump, TraceDumpError, traceDumpJson } from '../netfilter/trace-dump.js';
import { describePacket } from '../packet/describe.js';
import { Packet } from '../packet/packet.js';
import type { World } from '../scenario/build.js';
import { ScenarioError } from '../scenario/errors.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';
import { IP_DF, IpProto, TcpFlag, type Ipv4 } from '../wire/types.js';
import { ipv4Header } from '../wire/ipv4.js';

/** The flow id marking the traced packet (and its encapsulations and clones). */
const TRACE_FLOW = 0x7ace;

/** Arguments of a dump trace. */
export interface DumpTraceArgs {
  file: string;
  localIps: Ipv4[];
  src: Ipv4;
  dst: Ipv4;
  dport: number;
  sport?: number;
  proto: 'tcp' | 'udp' | 'sctp';
  json: boolean;
  maxOutcomes?: number;
  /** The node's `ipset save` output (rules matching ip sets). */
  ipsetFile?: string;
  /** --in-iface / --out-iface (default eth0). */
  inIface?: string;
  outIface?: string;
}

/** A file's text; an unreadable file is a user error naming it. */
function readInput(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError([{ file, line: 1, col: 1, field: '', message: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message }]);
  }
}

/** Traces through an iptables-save dump; returns the text to print. Parse errors become user errors. */
export function traceIptablesDump(a: DumpTraceArgs): string {
  const text = readInput(a.file);
  const ipsets = a.ipsetFile !== undefined ? { text: readInput(a.ipsetFile), file: a.ipsetFile } : undefined;
  let rules;
  try {
    rules = parseIptablesSave(text, a.file);
  } catch (e) {
    if (e instanceof IptablesParseError) throw new ScenarioError([{ file: e.file, line: e.line, col: e.col, field: '', message: e.detail }]);
    throw e;
  }
  let res;
  try {
    res = traceDump(rules, { localIps: a.localIps, src: a.src, dst: a.dst, dport: a.dport, ...(a.sport !== undefined ? { sport: a.sport } : {}), proto: a.proto, ...(a.maxOutcomes !== undefined ? { maxOutcomes: a.maxOutcomes } : {}), ...(ipsets ? { ipsets } : {}), ...(a.inIface !== undefined ? { inIface: a.inIface } : {}), ...(a.outIface !== undefined ? { outIface: a.outIface } : {}) });
  } catch (e) {
    if (e instanceof TraceDumpError) throw new ScenarioError([{ file: a.file, line: 1, col: 1, field: '', message: e.message }]);
    if (e instanceof IpsetError) throw new ScenarioError([{ file: e.file, line: e.line, col: e.col, field: '', message: e.detail }]);
    throw e;
  }
  if (a.json) return traceDumpJson(res);
  const lines: string[] = [];
  res.outcomes.forEach((o, i) => {
    lines.push(`outcome ${i + 1}: p=${o.probability.toFixed(6)} ${o.verdict}${o.dnat ? ` dnat ${o.dnat}` : ''}${o.masquerade ? ' masquerade' : ''}  (by ${o.by})`);
    for (const p of o.path) lines.push(`    ${p.table.padEnd(6)} ${p.rule}`);
  });
  const t = res.truncated;
  if (t) lines.push(`stopped after ${t.maxOutcomes} branches (--max-outcomes; each statistic rule on the path doubles them): the outcomes above cover p=${t.coverage.toFixed(6)}`);
  return lines.join('\n') + '\n';
}

/**
 * A trace to an ingress controller: the packet's walk to the controller pod, the proxy's decision for
 * Host + path (the matched rule, the upstream and its endpoints, or the controller's own answer), then
 * the walk of the proxy's connection to the first endpoint (the balancer picks one per request).
 */
export function traceIngress(world: World, a: ScenarioTraceArgs & { host: string; path: string }): string {
  let text = traceScenario(world, a);
  const delivered = /^verdict: delivered to (.+)$/m.exec(text)?.[1];
  const ctrl = world.cluster?.pods.find((p) => p.ns.name === delivered && p.annotations['podwire.dev/app'] === 'ingress-nginx');
  const table = world.controlPlane?.ingress?.table() ?? null;
  if (!ctrl || table === null) return `${text}ingress: the packet did not reach an ingress controller pod${table === null ? ' (the scenario runs none)' : ''}
`;
  const d = table.route(a.host, a.path);
  const head = `ingress-nginx ${ctrl.name}: Host ${a.host} path ${a.path}`;
  if (d.kind === 'not-found') return `${text}${head} → 404 (${d.describe})
`;
  if (d.kind === 'redirect') return `${text}${head} → ${d.status} Location ${d.location} (${d.describe})
`;
  const u = d.route.upstream !== null ? table.upstream(d.route.upstream) : undefined;
  const eps = u?.endpoints ?? [];
  text += `${head} → rule ${d.route.describe}; upstream ${d.route.upstream ?? '(none)'}${d.route.canary ? ` (canary ${d.route.canary.upstream})` : ''}; uri sent ${d.uri}
`;
  if (d.route.sslRedirect) text += `  (plain HTTP to this host gets 308 to https)
`;
  if (eps.length === 0) return `${text}  no ready endpoint → 503
`;
  text += `  endpoints ${eps.map((e) => `${formatIpv4(e.addr)}:${e.port}`).join(', ')} (${u!.hashBy !== null ? `chash by ${u!.hashBy}` : u!.loadBalance}, one pick per request); tracing the proxy's connection to the first
`;
  return text + traceScenario(world, { from: ctrl.ns, dst: eps[0]!.addr, dport: eps[0]!.port, proto: 'tcp', atNs: world.sim.now, limitNs: a.limitNs });
}

/** Arguments of a scenario trace. */
export interface ScenarioTraceArgs {
  from: Namespace;
  dst: Ipv4;
  dport: number;
  proto: 'tcp' | 'udp' | 'icmp';
  atNs: TimeNs;
  limitNs: TimeNs;
}

/**
 * Injects one packet (a TCP SYN, a UDP datagram or an ICMP echo request) from `from` and prints every
 * step of its walk: the scenario's own traffic is not started, so only this packet (and the ARP it
 * needs) moves.
 */
export function traceScenario(world: World, a: ScenarioTraceArgs): string {
  const lines: string[] = [];
  const t0 = a.atNs;
  const stamp = (): string => `${((world.sim.now - t0) / 1000).toFixed(3).padStart(9)}us`;
  let current: Namespace | null = null;
  let done = false;
  const onHop = (ns: Namespace, pkt: Packet, ev: HopEvent): void => {
    const traced = pkt.flowId === TRACE_FLOW || pkt.inner?.flowId === TRACE_FLOW;
    if (!traced || done) return;
    current = ns;
    const who = ns.name.padEnd(24);
    switch (ev.kind) {
      case 'rx':
        lines.push(`${stamp()}  ${who} rx ${ev.dev}: ${describePacket(pkt)}`);
        break;
      case 'route':
        lines.push(`${stamp()}  ${who} route ${ev.decision}: ${ev.route}`);
        break;
      case 'ttl':
        lines.push(`${stamp()}  ${who} forward: ttl ${ev.from} -> ${ev.to}`);
        break;
      case 'xmit':
        lines.push(`${stamp()}  ${who} xmit ${ev.dev} via ${ev.nexthop}: ${describePacket(pkt)}`);
        break;
      case 'deliver':
        lines.push(`${stamp()}  ${who} deliver to protocol ${ev.protocol}: ${describePacket(pkt)}`);
        if (pkt.vxlan === null) {
          lines.push(`verdict: delivered to ${ns.name}`);
          done = true;
        }
        break;
      case 'ipvs':
        lines.push(`${stamp()}  ${who} ipvs: scheduled to real server ${ev.server}`);
        break;
      case 'drop':
        lines.push(`${stamp()}  ${who} drop: ${ev.reason}`);
        lines.push(`verdict: dropped in ${ns.name} (${ev.reason})`);
        done = true;
        break;
      default: {
        const never: never = ev;
        throw new Error(String(never));
      }
    }
  };
  for (const ns of world.namespaces.values()) {
    ns.hops.connect(onHop);
    if (ns.nf !== null) {
      ns.nf.trace = (ev) => {
        if (done || current !== ns) return;
        lines.push(`${stamp()}  ${ns.name.padEnd(24)} ${NF_HOOK_NAMES[ev.hook]} ${ev.table}: ${ev.text}`);
      };
    }
  }
  world.sim.scheduleAt(a.atNs, () => {
    const pkt = new Packet();
    pkt.flowId = TRACE_FLOW;
    const proto = a.proto === 'tcp' ? IpProto.TCP : a.proto === 'udp' ? IpProto.UDP : IpProto.ICMP;
    pkt.ip = ipv4Header(proto, 0, a.dst, IP_DF);
    if (a.proto === 'tcp') pkt.tcp = { srcPort: 40000, dstPort: a.dport, seq: 1, ack: 0, flags: TcpFlag.SYN, window: 64240, checksum: null, urgent: 0, options: [{ kind: 'mss', value: 1460 }] };
    else if (a.proto === 'udp') {
      pkt.udp = { srcPort: 40000, dstPort: a.dport, length: 8 + 16, checksum: null };
      pkt.payloadLength = 16;
    } else {
      pkt.icmp = { type: 8, code: 0, checksum: null, rest: (0x7ace << 16) | 1 };
      pkt.payloadLength = 56;
    }
    lines.push(`trace: ${a.from.name} sends ${a.proto} to ${formatIpv4(a.dst)}${a.proto !== 'icmp' ? `:${a.dport}` : ''} at ${(a.atNs / 1e9).toFixed(6)}s`);
    current = a.from;
    if (!a.from.ipLocalOut(pkt) && !done) lines.push('verdict: no route from the sender');
  });
  world.sim.run({ until: a.atNs + a.limitNs });
  if (!done && !lines.some((l) => l.startsWith('verdict'))) lines.push(`verdict: still in flight after ${(a.limitNs / 1e9).toFixed(3)}s (lost or held)`);
  return lines.join('\n') + '\n';
}
