// scenario/work-estimate — what each traffic entry will cost before the run starts: requests (or
// probes) × packets per request × events per packet, so `podwire validate` and `podwire run` can say
// "traffic[2] will not finish within --max-events" before spending the time. Layer: scenario.
//
// The figures are estimates, not promises: packets per request follow the protocol (a new TCP
// connection is SYN, SYN-ACK, ACK, request, response segments, FIN/ACK pairs), events per packet
// follow the path (a packet through a cluster crosses a veth, a bridge, maybe VXLAN and the external
// network; between two plain hosts it crosses one link). test/scenario/work-estimate.test.ts checks
// them against the events the shipped scenarios really run.
import { mean, parseDistribution } from '../core/distributions.js';
import { durationOr0, SEC, type TimeNs } from '../core/time.js';
import type { ClusterWorld } from '../k8s/cluster.js';
import type { UserError } from '../core/user-error.js';
import type { LoadedScenario } from './load.js';
import type { TrafficSpecT } from './schema.js';
import { workloadPodsOf } from './traffic.js';

/** Segments per MSS-sized chunk of a TCP payload (1448 B with timestamps on a 1500-B path). */
const MSS = 1448;
/** Events one packet costs on its way: through a cluster (veth, bridge, routing, maybe VXLAN and the switch) or between plain hosts. */
export const EVENTS_PER_PACKET = { cluster: 5, plain: 4 } as const;
/** A closed-loop user without think time still waits a round trip: the floor used for its request rate. */
const MIN_CYCLE_NS = 500_000;

/** What one traffic entry will cost. */
export interface WorkEstimate {
  /** Index in spec.traffic. */
  index: number;
  name: string;
  senders: number;
  /** Requests, probes or lookups over all senders. */
  requests: number;
  packets: number;
  events: number;
}

function segments(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / MSS));
}

/** Packets one request puts on the wire, end to end (replies and ACKs included). */
function packetsPerRequest(t: TrafficSpecT): number {
  switch (t.type) {
    case 'ping':
    case 'udp':
      return 2 * segments(t.size + 28); // fragments both ways
    case 'dns':
      return 2;
    case 'tcp': {
      const data = segments(t.size) + segments(t.responseSize) + Math.ceil(segments(t.responseSize) / 2);
      return t.connection === 'new' ? data + 7 : data + 1;
    }
    case 'http':
      // Request, a response of a few hundred bytes, the delayed ACK; a new connection adds the
      // handshake and the two FIN/ACK exchanges.
      return t.connection === 'new' ? 9 : 3;
  }
}

/** Requests one sender issues (count, else duration × rate, else what closed-loop users can do). */
function requestsPerSender(t: TrafficSpecT, until: TimeNs | null): number {
  if (t.type !== 'http') return t.count;
  if (t.count !== undefined) return t.count;
  const span = t.duration !== undefined ? durationOr0(t.duration) : until !== null ? Math.max(0, until - durationOr0(t.start)) : 0;
  if (t.rate !== undefined) return (t.rate * span) / SEC;
  const think = parseDistribution(t.thinkTime);
  const cycle = Math.max(MIN_CYCLE_NS, think === null ? 0 : mean(think));
  return ((t.users ?? 1) * span) / cycle;
}

/** The estimate of every traffic entry. */
export function estimateWork(traffic: readonly TrafficSpecT[], cluster: ClusterWorld | null, until: TimeNs | null): WorkEstimate[] {
  const perPacket = cluster !== null ? EVENTS_PER_PACKET.cluster : EVENTS_PER_PACKET.plain;
  return traffic.map((t, index) => {
    const pods = t.type === 'http' || t.type === 'tcp' || t.type === 'dns' ? workloadPodsOf({ cluster }, t.from) : null;
    const senders = pods === null ? 1 : Math.max(1, pods.length);
    const requests = Math.ceil(senders * requestsPerSender(t, until));
    const packets = requests * packetsPerRequest(t);
    return { index, name: t.name ?? `${t.type}-${index}`, senders, requests, packets, events: packets * perPacket };
  });
}

/** A one-line warning for each entry whose estimate alone passes `maxEvents`, and one for their sum. */
export function workWarnings(estimates: readonly WorkEstimate[], maxEvents: number): { index: number | null; message: string }[] {
  const out: { index: number | null; message: string }[] = [];
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  for (const e of estimates) {
    if (e.events > maxEvents) out.push({ index: e.index, message: `about ${fmt(e.requests)} requests ≈ ${fmt(e.events)} events, above --max-events ${fmt(maxEvents)}: the run will stop early (raise --max-events or shorten the traffic)` });
  }
  const total = estimates.reduce((a, e) => a + e.events, 0);
  if (out.length === 0 && total > maxEvents) out.push({ index: null, message: `the traffic together is about ${fmt(total)} events, above --max-events ${fmt(maxEvents)}: the run will stop early` });
  return out;
}

/** The warnings of `workWarnings` as positioned user errors (at spec.traffic[i], or at spec.traffic). */
export function trafficWorkWarnings(loaded: LoadedScenario, cluster: ClusterWorld | null, until: TimeNs | null, maxEvents: number): UserError[] {
  const est = estimateWork(loaded.scenario.spec.traffic, cluster, until);
  return workWarnings(est, maxEvents).map((w) => loaded.error(w.index === null ? ['spec', 'traffic'] : ['spec', 'traffic', w.index], w.message));
}

/**
 * Memory a built pod costs (its namespace, veth pair, addresses, routes, the Service rules that name
 * it): about 16.5 KB measured with `podwire generate cluster` worlds of 100 nodes and 101 / 10,001 pods
 * (15.3 KB between 101 and 1,001 pods on 10 nodes; session 41: 28 and 23 KB when first measured, the
 * layouts of issue 13 have halved it); test/scenario/guards.test.ts re-measures it (×2 bound).
 */
export const BYTES_PER_POD = 16_000;
/**
 * Memory a closed-loop user costs with a request in flight (the request, its timeout, a connection
 * attempt): about 1.2 KB for a user whose connects fail with EADDRNOTAVAIL (100,000 users), 2.8 KB with
 * its connection's SYN in flight (5,000 / 15,000 users); test/scenario/guards.test.ts re-measures the
 * latter (×2 bound).
 */
export const BYTES_PER_USER = 2_000;

const ofGiB = (n: number): string => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`);

/** A memory estimate against the run's budget: an error above it, a warning above half of it. */
function memoryProblem(what: string, bytes: number, budget: number): { error: boolean; message: string } | null {
  if (bytes <= budget / 2) return null;
  const tail = bytes > budget ? 'refusing to start (raise --max-memory, or NODE_OPTIONS=--max-old-space-size=<MiB> for the heap, or make the scenario smaller)' : 'the run may stop at the memory guard';
  return { error: bytes > budget, message: `${what} ≈ ${ofGiB(bytes)} of memory, ${bytes > budget ? 'above' : 'over half'} the memory limit ${ofGiB(budget)}: ${tail}` };
}

/** The pods each workload manifest asks for, read from the manifests before anything is built. */
function podsOf(m: LoadedScenario['manifests'][number], nodes: number): { pods: number; path: (string | number)[] } | null {
  const spec = (m.value['spec'] ?? {}) as Record<string, unknown>;
  const n = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : d);
  switch (m.kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
      return { pods: n(spec['replicas'], 1), path: spec['replicas'] !== undefined ? ['spec', 'replicas'] : ['spec'] };
    case 'Job':
      return { pods: n(spec['parallelism'], 1), path: spec['parallelism'] !== undefined ? ['spec', 'parallelism'] : ['spec'] };
    case 'DaemonSet':
      return { pods: nodes, path: ['spec'] };
    case 'Pod':
      return { pods: 1, path: ['metadata'] };
    default:
      return null;
  }
}

/**
 * Pods × BYTES_PER_POD against the memory budget, before the world is built (a build too large for the
 * heap would end in V8's out-of-memory abort): errors (refusals) and warnings, each at the largest
 * workload's replicas field.
 */
export function podMemoryProblems(loaded: LoadedScenario, budget: number): { errors: UserError[]; warnings: UserError[] } {
  const nodes = loaded.scenario.spec.cluster?.nodes.length ?? 0;
  let total = 0;
  let largest: { pods: number; path: (string | number)[]; docIndex: number } | null = null;
  for (const m of loaded.manifests) {
    const p = podsOf(m, nodes);
    if (p === null) continue;
    total += p.pods;
    if (largest === null || p.pods > largest.pods) largest = { ...p, docIndex: m.docIndex };
  }
  const problem = largest === null ? null : memoryProblem(`about ${Math.round(total).toLocaleString('en-US')} pods`, total * BYTES_PER_POD, budget);
  if (problem === null || largest === null) return { errors: [], warnings: [] };
  const e = loaded.error(largest.path, problem.message, largest.docIndex);
  return problem.error ? { errors: [e], warnings: [] } : { errors: [], warnings: [e] };
}

/** Closed-loop users (users × senders) × BYTES_PER_USER against the memory budget, per traffic entry. */
export function userMemoryProblems(loaded: LoadedScenario, cluster: ClusterWorld | null, budget: number): { errors: UserError[]; warnings: UserError[] } {
  const out = { errors: [] as UserError[], warnings: [] as UserError[] };
  loaded.scenario.spec.traffic.forEach((t, i) => {
    if (t.type !== 'http' || t.users === undefined) return;
    const pods = workloadPodsOf({ cluster }, t.from);
    const users = t.users * (pods === null ? 1 : Math.max(1, pods.length));
    const problem = memoryProblem(`${users.toLocaleString('en-US')} closed-loop users`, users * BYTES_PER_USER, budget);
    if (problem === null) return;
    const e = loaded.error(['spec', 'traffic', i, 'users'], problem.message);
    (problem.error ? out.errors : out.warnings).push(e);
  });
  return out;
}
