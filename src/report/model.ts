// report/model — what the HTML report is made of: one or more runs (variants) with their stats.json,
// latency CDFs (from the .hgrm files), optional per-second series and the topology, plus an optional
// comparison table (the sweep's). Layer: report (imports stats types only). See README.md.
import type { StatsDocument, TimeseriesDocument } from '../stats/index.js';

/** One point of a latency CDF: `fraction` of the successes took at most `us` microseconds. */
export interface CdfPoint {
  us: number;
  fraction: number;
}

/** A node box of the topology: a cluster node (with its pods) or a plain / external host. */
export interface TopoHost {
  name: string;
  kind: 'node' | 'host' | 'external';
  ip: string;
  pods: { name: string; ip: string; hostNetwork: boolean }[];
}

/** A Service with the pods it selects. */
export interface TopoService {
  name: string;
  namespace: string;
  type: string;
  clusterIP: string | null;
  ports: string[];
  endpoints: string[];
}

/** The topology of a run (topology.json). */
export interface Topology {
  schema: 'podwire-topology/1';
  cni: string | null;
  hosts: TopoHost[];
  services: TopoService[];
  flows: { name: string; type: string; from: string; to: string }[];
}

/** One run (a variant of a sweep, or the only run). */
export interface RunData {
  /** Variant label ('' for a lone run). */
  label: string;
  stats: StatsDocument;
  /** Latency CDF per flow name (absent when the .hgrm files are missing). */
  cdf: Map<string, CdfPoint[]>;
  series: TimeseriesDocument | null;
}

/** A value with its confidence interval. */
export interface Estimate {
  value: number;
  lo: number;
  hi: number;
}

/** The comparison table of a sweep: rows are variants, columns are metrics. */
export interface ComparisonTable {
  caption: string;
  /** Column headers, with units, e.g. "p99 (ms)". */
  columns: string[];
  rows: { label: string; cells: (Estimate | number | string | null)[] }[];
}

/** Everything one report.html shows. */
export interface ReportInput {
  title: string;
  runs: RunData[];
  topology: Topology | null;
  /** The flow whose path is drawn on the topology (default: the first flow). */
  flow?: string;
  comparison?: ComparisonTable | null;
}
