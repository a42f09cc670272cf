// k8s/cloud-lb/model — one cloud load balancer per LoadBalancer Service: its address, listeners
// (Service port → NodePort), targets (every node, an instance target) with their health, and the
// distribution each provider uses to pick a target for a new connection. Pure: the data paths
// (dataplane.ts, clb-proxy.ts) and the health checker (health-checker.ts) share it. Layer: k8s
// (imports core, wire, k8s).
//
//   distribution  aws-nlb: flow hash over (protocol, src, sport, dst, dport, TCP sequence number)
//                 gcp: consistent hash (rendezvous) over the 5-tuple   azure: 5-tuple hash
//                 aws-clb: round robin per load balancer               metallb-bgp: the router's ECMP
//                 hash-threshold over the 5-tuple (Linux fib_multipath_hash_policy=1)
//   no eligible   aws-nlb: fail open (all targets)   gcp: spread over all   azure, clb, bgp: none
import { formatColumns } from '../../core/columns.js';
import type { TimeNs } from '../../core/time.js';
import type { Ipv4 } from '../../wire/types.js';
import type { ClusterNode } from '../cluster.js';
import type { HealthCheckParams, LbProvider } from './config.js';

/** A target's health as the load balancer's checks decided (initial: before the first verdict). */
export type TargetState = 'initial' | 'healthy' | 'unhealthy';

/** One target (a node, by its InternalIP). */
export interface LbTarget {
  node: ClusterNode;
  state: TargetState;
  /** When the state last changed. */
  since: TimeNs;
  /** Consecutive results of the current kind (health checker bookkeeping). */
  run: number;
  lastOk: boolean | null;
  /** The last check's outcome, for inspect. */
  lastResult: string;
}

/**
 * One listener (a load-balancing rule): the Service port on the LB address, forwarded to the NodePort, with
 * the health probe its rule uses and the targets' health by that probe. Every provider but Azure has one
 * probe per load balancer: each listener shares the service's `healthCheck` and `targets`. Azure's rules of
 * an ETP Cluster Service each have their own (TCP on the rule's NodePort; a UDP or SCTP rule none).
 */
export interface LbListener {
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  nodePort: number;
  check: HealthCheckParams | null;
  targets: LbTarget[];
}

/** A Service's load balancer. */
export interface LbService {
  provider: LbProvider;
  namespace: string;
  name: string;
  vip: Ipv4;
  hostname: string | null;
  listeners: LbListener[];
  /** The targets' health by the load balancer's (first) probe. */
  targets: LbTarget[];
  healthCheck: HealthCheckParams | null;
  etp: 'Cluster' | 'Local';
  idleTimeoutNs: TimeNs;
  /** CLB: the proxy protocol v1 header before the client's bytes. */
  proxyProtocol: boolean;
  /** CLB round-robin position. */
  rr: number;
}

/** murmur3's fmix32 over a running hash: a cheap, well-spread mix of 32-bit words. */
export function mix32(h: number, k: number): number {
  let x = (h ^ Math.imul(k | 0, 0xcc9e2d51)) >>> 0;
  x = ((x << 13) | (x >>> 19)) >>> 0;
  x = (Math.imul(x, 5) + 0xe6546b64) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The hash of a flow: protocol, addresses, ports and (NLB) the TCP initial sequence number. */
export function flowHash(proto: number, src: Ipv4, sport: number, dst: Ipv4, dport: number, extra = 0): number {
  let h = mix32(0x9747b28c, proto);
  h = mix32(h, src);
  h = mix32(h, dst);
  h = mix32(h, (sport << 16) | dport);
  return mix32(h, extra);
}

/** The targets that may take a new connection, with the provider's rule when none is healthy. */
export function eligibleTargets(svc: LbService): LbTarget[] {
  const ok = svc.targets.filter((t) => t.state !== 'unhealthy');
  if (ok.length > 0) return ok;
  // NLB: "if all targets fail health checks, the load balancer fails open"; GCP: spread over all.
  return svc.provider === 'aws-nlb' || svc.provider === 'gcp' ? svc.targets : [];
}

/** Whether `t` may take new flows: healthy (or not yet checked), or every target when none is and the provider fails open. */
const takes = (t: LbTarget, anyOk: boolean): boolean => !anyOk || t.state !== 'unhealthy';

/**
 * The target for a new flow among `ts` (the targets' health by the probe of the flow's rule; null when
 * none may take it). Allocation-free: the metallb-bgp router calls it for every packet.
 */
export function pickTarget(svc: LbService, hash: number, ts: readonly LbTarget[] = svc.targets): LbTarget | null {
  let ok = 0;
  for (const t of ts) if (t.state !== 'unhealthy') ok++;
  const failOpen = svc.provider === 'aws-nlb' || svc.provider === 'gcp';
  if (ok === 0 && !failOpen) return null;
  const anyOk = ok > 0;
  const n = anyOk ? ok : ts.length;
  if (n === 0) return null;
  if (svc.provider === 'gcp') {
    // Rendezvous (highest random weight) hashing: a target's removal moves only its own flows.
    let best: LbTarget | null = null;
    let bestW = -1;
    for (const t of ts) {
      if (!takes(t, anyOk)) continue;
      const w = mix32(hash, t.node.ip);
      if (w > bestW) [best, bestW] = [t, w];
    }
    return best;
  }
  let k: number;
  if (svc.provider === 'aws-clb') {
    k = svc.rr % n;
    svc.rr = (svc.rr + 1) % 1_000_000_007;
  } else if (svc.provider === 'metallb-bgp') {
    // fib_select_multipath hash-threshold: the hash space cut into equal upper bounds, one per next hop.
    k = Math.floor(((hash >>> 1) * n) / 0x80000000);
  } else k = hash % n;
  for (const t of ts) if (takes(t, anyOk) && k-- === 0) return t;
  return null;
}

/** Each distinct probe of a load balancer with the targets' health by it: the service's first, then any rule's own. */
export function probesOf(svc: LbService): { check: HealthCheckParams; targets: LbTarget[]; rules: LbListener[] }[] {
  const out: { check: HealthCheckParams; targets: LbTarget[]; rules: LbListener[] }[] = [];
  if (svc.healthCheck !== null) out.push({ check: svc.healthCheck, targets: svc.targets, rules: svc.listeners.filter((l) => l.targets === svc.targets) });
  for (const l of svc.listeners) {
    if (l.check === null || l.targets === svc.targets) continue;
    const p = out.find((x) => x.targets === l.targets);
    if (p) p.rules.push(l);
    else out.push({ check: l.check, targets: l.targets, rules: [l] });
  }
  return out;
}

/**
 * `inspect --lb`: per load balancer a line (address, listeners, check), then its targets in aligned columns;
 * where rules have probes of their own (Azure), each further probe with the rules it serves and its targets.
 */
export function formatTargets(svcs: readonly LbService[], fmtIp: (ip: Ipv4) => string): string {
  const out: string[] = [];
  const check = (h: HealthCheckParams | null) => (h ? `check ${h.protocol}:${h.port}${h.path} every ${h.intervalNs / 1e9}s timeout ${h.timeoutNs / 1e9}s healthy ${h.healthyThreshold} unhealthy ${h.unhealthyThreshold}` : 'no health check');
  const rulesOf = (ls: readonly LbListener[]) => ls.map((l) => `${l.port}/${l.protocol}`).join(',');
  const table = (ts: readonly LbTarget[]) => {
    const rows = [['  TARGET', 'STATE', 'SINCE', 'LAST']];
    for (const t of ts) rows.push([`  ${t.node.name} ${fmtIp(t.node.ip)}`, t.state, `${(t.since / 1e9).toFixed(3)}s`, t.lastResult || '-']);
    out.push(...formatColumns(rows));
  };
  for (const s of svcs) {
    const addr = s.hostname ? `${s.hostname} (${fmtIp(s.vip)})` : fmtIp(s.vip);
    const ls = s.listeners.map((l) => `${l.port}/${l.protocol}->${l.nodePort}`).join(',');
    const perRule = s.listeners.some((l) => l.targets !== s.targets);
    const first = s.listeners.filter((l) => l.targets === s.targets);
    out.push(`${s.namespace}/${s.name}  ${s.provider}  ${addr}  listeners ${ls}  ${check(s.healthCheck)}${perRule && first.length > 0 ? ` (rules ${rulesOf(first)})` : ''}`);
    table(s.targets);
    if (!perRule) continue;
    for (const p of probesOf(s).slice(s.healthCheck !== null ? 1 : 0)) {
      out.push(`  ${check(p.check)} (rules ${rulesOf(p.rules)})`);
      table(p.targets);
    }
    const unprobed = s.listeners.filter((l) => l.check === null && l.targets !== s.targets);
    if (unprobed.length > 0) out.push(`  no health check (rules ${rulesOf(unprobed)}): every target takes new flows`);
  }
  return out.join('\n') + '\n';
}
