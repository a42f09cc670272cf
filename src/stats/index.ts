// stats — public surface of the statistics observer. Layer: stats (imports core, wire, packet only, plus hdr-histogram-js and zod).
export { LatencyRecorder, PERCENTILE_RELATIVE_PRECISION, type LatencySummaryUs } from './histogram.js';
export { ERROR_KINDS, FlowStats, type ErrorKind, type FlowRecorder } from './flow.js';
export { EndpointStats, type EndpointRecorder } from './endpoint.js';
export { StatsRegistry, statsJsonText, type CounterSource, type FlowInfo, type RunInfo } from './report.js';
export { PARTIAL_REASONS, STATS_SCHEMA_ID, StatsDocumentSchema, statsJsonSchema, type EndpointReport, type FlowEndpointReport, type FlowReport, type PartialReason, type StatsDocument } from './schema.js';
export { SecondSeries, TIMESERIES_SCHEMA_ID, TimeseriesDocumentSchema, timeseriesJsonText, type SecondRow, type TimeseriesDocument } from './timeseries.js';
export { dropsOf } from './drops.js';
