// stats/schema — the one definition of stats.json (schema "podwire-stats/1"). Layer: stats (observer;
// imports core and zod). The zod schema below is the single owner of the document's shape: the
// TypeScript types are inferred from it, the report builder (report.ts) constructs values of those
// types, and the published JSON Schema (schema/stats.schema.json, `podwire schema stats`) is generated
// from it, so the three cannot drift apart. Key order in the file is the order of construction in
// report.ts, which follows the order of the fields here.
import { z } from 'zod';

/** The schema identifier written into every stats.json. */
export const STATS_SCHEMA_ID = 'podwire-stats/1';

const count = z.number().int().nonnegative();
const us = z.number().nonnegative();

/** Latency percentiles of successful requests in microseconds (HDR histogram, ≤ 1/1024 above exact). */
export const LatencySummarySchema = z.object({
  mean: us,
  p50: us,
  p90: us,
  p99: us,
  p999: us,
  max: us,
});

const ErrorsByKindSchema = z.object({
  timeout: count.describe('ETIMEDOUT or the request timer'),
  refused: count.describe('ECONNREFUSED: a RST to the SYN or ICMP port unreachable'),
  reset: count.describe('ECONNRESET'),
  dns: count.describe('name resolution failed'),
  'no-route': count.describe('EHOSTUNREACH / ENETUNREACH'),
  protocol: count.describe('a malformed or unexpected response'),
  addrnotavail: count.optional().describe('EADDRNOTAVAIL: connect() found every ephemeral port in use toward the destination (listed only when non-zero)'),
  msgsize: count.optional().describe('EMSGSIZE: a DF datagram above the path MTU (ping -M do), or fragmentation-needed reported to a connected socket (listed only when non-zero)'),
});

/** One endpoint's part in one flow: the requests it answered for that flow, as the client saw them. */
export const FlowEndpointSchema = z.object({
  name: z.string().describe('the endpoint that answered (its X-Served-By: a pod or host name)'),
  requests: count.describe('successful requests of this flow it answered'),
  share: z.number().min(0).max(1).describe("requests / Σ requests over this flow's endpoints"),
  connections: count.describe('of those, requests that opened a new TCP connection'),
  bytes: count.describe('response bytes it sent this flow'),
});

/** One traffic flow (spec.traffic[]). */
export const FlowReportSchema = z.object({
  name: z.string(),
  type: z.string().describe('ping | udp | http | dns'),
  from: z.string(),
  to: z.string(),
  sent: count.describe('probes or requests sent'),
  received: count.describe('replies received'),
  lost: count.describe('probes without a reply'),
  requests: count.describe('requests issued (retries not counted again)'),
  successes: count,
  errors: count.describe('failed requests, all kinds'),
  errorsByKind: ErrorsByKindSchema,
  retries: count.describe('extra attempts made'),
  bytes: count.describe('response bytes of successful requests'),
  throughputRps: us.describe('successes per second over [first start, last completion]'),
  latencyUs: LatencySummarySchema.extend({ min: us }).describe('successful requests, µs'),
  connectUs: LatencySummarySchema.describe('TCP handshake time of requests that opened a connection, µs'),
  phasesUs: z
    .object({
      dns: LatencySummarySchema.describe('name lookup (0 for an address target or a host-cache hit)'),
      connect: LatencySummarySchema.describe('TCP handshake (0 on a reused connection)'),
      tls: LatencySummarySchema.describe('TLS handshake after connect (0 without TLS)'),
      ttfb: LatencySummarySchema.describe('request written to the first response byte'),
      total: LatencySummarySchema.describe('request start to the last response byte (the successful attempt)'),
    })
    .optional()
    .describe('per-request phases of successful requests, µs (http flows from internet hosts, or with phases: true)'),
  endpoints: z
    .array(FlowEndpointSchema)
    .optional()
    .describe("sorted by name: which endpoint answered this flow's successful requests (http: the X-Served-By header; empty for flows whose responses name no endpoint). Always written; absent only in stats.json files of earlier podwire versions"),
});

/** One endpoint (a serving pod or host). */
export const EndpointReportSchema = z.object({
  name: z.string(),
  served: count.describe("requests the endpoint answered, the kubelet's probes not included"),
  share: z.number().min(0).max(1).describe('served / Σ served over endpoints (0 when nothing was served)'),
  probes: count.optional().describe("the kubelet's HTTP probe requests it answered (User-Agent kube-probe/…), apart from served; absent when none"),
  probeConnections: count.optional().describe("TCP connections health checks opened to it — the kubelet's probes (httpGet, tcpSocket, grpc) and a cloud load balancer's TCP checks of a NodePort that kube-proxy sent there: part of its tcp/NAME PassiveOpens; absent when none"),
  busyUs: us.describe('worker-time spent serving (probe requests included: they hold a worker)'),
  utilization: us.describe('busyUs / (workers × the traffic window: first request start to last completion over all flows; the whole run when no flow made a request)'),
  meanQueue: us.describe('time-averaged number of requests waiting for a worker'),
  maxQueue: count,
});

/** What can stop a run before its end. */
export const PARTIAL_REASONS = ['max-events', 'max-sim-time', 'max-memory', 'SIGINT', 'SIGTERM'] as const;
export type PartialReason = (typeof PARTIAL_REASONS)[number];

/** One entry of the fault / control-plane timeline. */
export const TimelineEntrySchema = z.object({ atUs: us, what: z.string() });

/** One second of the whole run's requests (every flow together), for the recovery series. */
export const RecoverySecondSchema = z.object({
  t: z.number().int().nonnegative().describe('second of simulated time [t, t+1)'),
  requests: count.describe('requests started'),
  successes: count.describe('requests that succeeded in this second'),
  errors: count.describe('requests that failed for good in this second'),
  errorsByKind: ErrorsByKindSchema,
  p50Us: us.nullable().describe('median latency of the successes, µs (1 % buckets; null when none)'),
  p99Us: us.nullable(),
  retransmissions: count.describe('TCP segments retransmitted by every stack (RetransSegs)'),
  rtos: count.describe('TCP retransmission timeouts of every stack (TCPTimeouts)'),
  endpointShares: z.record(z.string(), z.number().min(0).max(1)).describe('each endpoint\'s share of the requests served in this second'),
});

/** What one fault did to the requests, judged from the per-second series and the timeline. */
export const FaultRecoverySchema = z.object({
  index: count.describe('position in spec.faults'),
  kind: z.string(),
  target: z.string(),
  atUs: us,
  timeToFirstErrorUs: us.nullable().describe('from the fault to the first request that failed at or after it (null: none failed before the next fault)'),
  timeToDetectUs: us.nullable().describe('from the fault to the first timeline entry that detects it: a probe failing, a Node NotReady, an endpoint not ready or terminating'),
  detectedBy: z.string().nullable(),
  timeToRecoverUs: us.nullable().describe('from the fault to the start of the first of `windowS` seconds in a row at or below the error threshold, after the first error (null: errors never stopped, or none began)'),
  requestsLost: count.describe('requests that failed for good from the fault until it recovered (or the next fault, or the end)'),
  timeline: z.array(TimelineEntrySchema).describe('the control plane\'s entries from the fault until it recovered (or the next fault)'),
});

/** The recovery section: present when the scenario has faults. */
export const RecoverySchema = z.object({
  errorThreshold: z.number().min(0).max(1).describe('errors / completions in a second at or below which the second is healthy'),
  windowS: count.describe('healthy seconds in a row that make a recovery'),
  seconds: z.array(RecoverySecondSchema).describe('every second from 0 to the last one with requests, retransmissions or a fault'),
  faults: z.array(FaultRecoverySchema),
});

/** The whole stats.json document. */
export const StatsDocumentSchema = z
  .object({
    schema: z.literal(STATS_SCHEMA_ID),
    scenario: z.string().describe('metadata.name of the Scenario'),
    seed: z.number().int(),
    stop: z.enum(['idle', 'until', 'max-events', 'stopped']).describe('why the run stopped'),
    simTimeUs: us.describe('simulated time at the end of the run'),
    events: count.describe('events executed'),
    flows: z.array(FlowReportSchema).describe('sorted by name'),
    endpoints: z.array(EndpointReportSchema).describe('sorted by name'),
    timeline: z.array(TimelineEntrySchema).describe('faults and control-plane reactions in time order'),
    recovery: RecoverySchema.optional().describe('present when the scenario has faults: per-second series and, per fault, time to first error, to detect, to recover'),
    counters: z
      .record(z.string(), z.record(z.string(), z.number()))
      .describe('named counter groups, sorted: tcp/HOST and udp/HOST (MIB counters), drops/HOST (per reason), if/HOST/DEV (packets, bytes, drops), conntrack/HOST (conntrack -S: drop, early_drop, insert_failed, clash_resolve; only when one is not 0), sim'),
    partial: z
      .object({ reason: z.enum(PARTIAL_REASONS), message: z.string() })
      .optional()
      .describe('present when a guard or a signal stopped the run early: the results cover 0 to simTimeUs'),
    capture: z
      .object({ truncated: z.literal(true), message: z.string() })
      .optional()
      .describe('present when the capture stopped at its size guard (--max-capture) while the run went on'),
  })
  .describe('podwire run statistics (stats.json)');

export type FlowReport = z.infer<typeof FlowReportSchema>;
export type EndpointReport = z.infer<typeof EndpointReportSchema>;
export type FlowEndpointReport = z.infer<typeof FlowEndpointSchema>;
export type StatsDocument = z.infer<typeof StatsDocumentSchema>;
export type RecoveryReport = z.infer<typeof RecoverySchema>;
export type FaultRecovery = z.infer<typeof FaultRecoverySchema>;
export type RecoverySecond = z.infer<typeof RecoverySecondSchema>;

/** The JSON Schema (draft 2020-12) published for an output file: `file` names it, `schema` defines it. */
export function publishedJsonSchema(file: string, title: string, schema: z.ZodType): Record<string, unknown> {
  return { $id: `https://podwire.dev/schema/${file}`, title, ...z.toJSONSchema(schema, { target: 'draft-2020-12' }) };
}

/** The published JSON Schema (draft 2020-12) of stats.json. */
export function statsJsonSchema(): Record<string, unknown> {
  return publishedJsonSchema('stats.schema.json', STATS_SCHEMA_ID, StatsDocumentSchema);
}
