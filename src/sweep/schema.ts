// sweep/schema — the one definition of sweep.json (schema "podwire-sweep/1"): zod owns the shape, the
// TypeScript types are inferred from it and the published JSON Schema (schema/sweep.schema.json,
// `podwire schema sweep`) is generated from it, as src/stats/schema.ts does for stats.json. Layer: sweep.
import { z } from 'zod';
import { publishedJsonSchema } from '../stats/schema.js';

export const SWEEP_SCHEMA_ID = 'podwire-sweep/1';

const num = z.number();

/** A mean across seeds with its confidence interval. */
export const EstimateSchema = z
  .object({
    n: z.number().int().nonnegative().describe('values (seeds) it is computed from'),
    mean: num,
    sd: num.nullable().describe('sample standard deviation; null with one value'),
    lo: num.nullable().describe("lower bound of the Student-t interval (a variant's metric: cut to the metric's range, [0, 1] for shares, p-values and Jain's index, ≥ 1 for max/mean, ≥ 0 for the rest); null with one value"),
    hi: num.nullable().describe('upper bound, as lo'),
  })
  .describe('mean across seeds and its confidence interval');

const ChiSquareSchema = z.object({ chi2: num, df: z.number().int().nonnegative(), p: num.min(0).max(1) });

/** One endpoint in one run. */
export const RunEndpointSchema = z.object({
  name: z.string(),
  requests: z.number().int().nonnegative().describe("stats.json endpoints[].served"),
  connections: z.number().int().nonnegative().nullable().describe("TCP connections accepted: stats.json counters tcp/NAME PassiveOpens less endpoints[].probeConnections (health checks' own); null when no endpoint counted any"),
});

/** One (variant, seed) run. */
export const RunSummarySchema = z.object({
  seed: z.number().int(),
  dir: z.string().describe('relative to the sweep directory'),
  partial: z.string().optional().describe('present when a guard stopped the run: its message'),
  endpoints: z.array(RunEndpointSchema),
  metrics: z.record(z.string(), num.nullable()).describe('every metric of this run (null: not defined here)'),
});

export const VariantReportSchema = z.object({
  name: z.string(),
  set: z.record(z.string(), z.string()).describe('PATH → value this variant sets'),
  runs: z.array(RunSummarySchema).describe('by seed'),
  metrics: z.record(z.string(), EstimateSchema).describe('each metric across seeds'),
  chiSquare: z
    .object({ requests: ChiSquareSchema.nullable(), connections: ChiSquareSchema.nullable() })
    .describe('χ² against a uniform split over all seeds together (statistics and degrees of freedom summed)'),
});

export const ComparisonSchema = z.object({
  variant: z.string(),
  baseline: z.string(),
  metrics: z.record(z.string(), EstimateSchema).describe('variant − baseline, paired by seed'),
});

export const SweepDocumentSchema = z
  .object({
    schema: z.literal(SWEEP_SCHEMA_ID),
    scenario: z.string().describe('metadata.name of the Scenario'),
    file: z.string(),
    seeds: z.array(z.number().int()),
    confidence: num.describe('level of every interval'),
    metricNotes: z.record(z.string(), z.string()).describe('what each metric is'),
    variants: z.array(VariantReportSchema),
    comparisons: z.array(ComparisonSchema).describe('each variant against the first'),
  })
  .describe('podwire sweep statistics (sweep.json)');

export type EstimateT = z.infer<typeof EstimateSchema>;
export type RunSummary = z.infer<typeof RunSummarySchema>;
export type VariantReport = z.infer<typeof VariantReportSchema>;
export type SweepDocument = z.infer<typeof SweepDocumentSchema>;

/** The published JSON Schema (draft 2020-12) of sweep.json. */
export function sweepJsonSchema(): Record<string, unknown> {
  return publishedJsonSchema('sweep.schema.json', SWEEP_SCHEMA_ID, SweepDocumentSchema);
}
