// stats — public surface of the statistics observer. Layer: stats (imports core, wire, packet only).
export { LatencyRecorder, PERCENTILE_RELATIVE_PRECISION, type LatencySummaryUs } from './histogram.js';
export { ERROR_KINDS, FlowStats, type ErrorKind, type FlowRecorder } from './flow.js';
export { EndpointStats, type EndpointRecorder } from './endpoint.js';
export { StatsRegistry, type EndpointReport, type FlowReport, type StatsReport } from './report.js';
