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
});

/** One endpoint (a serving pod or host). */
export const EndpointReportSchema = z.object({
  name: z.string(),
  served: count,
  share: z.number().min(0).max(1).describe('served / Σ served over endpoints (0 when nothing was served)'),
  busyUs: us.describe('worker-time spent serving'),
  utilization: us.describe('busyUs / (workers × simTimeUs)'),
  meanQueue: us.describe('time-averaged number of requests waiting for a worker'),
  maxQueue: count,
});

/** What can stop a run before its end. */
export const PARTIAL_REASONS = ['max-events', 'max-sim-time', 'max-memory', 'SIGINT', 'SIGTERM'] as const;
export type PartialReason = (typeof PARTIAL_REASONS)[number];

/** One entry of the fault / control-plane timeline. */
export const TimelineEntrySchema = z.object({ atUs: us, what: z.string() });

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
    counters: z
      .record(z.string(), z.record(z.string(), z.number()))
      .describe('named counter groups, sorted: tcp/HOST and udp/HOST (MIB counters), drops/HOST (per reason), if/HOST/DEV (packets, bytes, drops), sim'),
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
export type StatsDocument = z.infer<typeof StatsDocumentSchema>;

/** The JSON Schema (draft 2020-12) published for an output file: `file` names it, `schema` defines it. */
export function publishedJsonSchema(file: string, title: string, schema: z.ZodType): Record<string, unknown> {
  return { $id: `https://podwire.dev/schema/${file}`, title, ...z.toJSONSchema(schema, { target: 'draft-2020-12' }) };
}

/** The published JSON Schema (draft 2020-12) of stats.json. */
export function statsJsonSchema(): Record<string, unknown> {
  return publishedJsonSchema('stats.schema.json', STATS_SCHEMA_ID, StatsDocumentSchema);
}
