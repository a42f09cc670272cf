// report — public surface of the HTML report (see README.md). Layer: report, between sweep and cli.
export type { CdfPoint, ComparisonTable, Estimate, ReportInput, RunData, TopoHost, TopoService, Topology } from './model.js';
export { renderReport } from './html.js';
export { loadReportInput, loadRun, ReportInputError } from './load.js';
export { topologyOf, flowPath } from './topology.js';
export { writeReport, writeRunReport } from './write.js';
