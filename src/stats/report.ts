// stats/report — the stats registry and the stats.json builder. Layer: stats (observer; imports core).
// Schema "podwire-stats/1" (documented in src/stats/README.md). Key order is fixed by construction,
// flows and endpoints are sorted by name and counter groups by key, so the same seed gives the same bytes.
import type { TimeNs } from '../core/time.js';
import { EndpointStats } from './endpoint.js';
import { ERROR_KINDS, FlowStats, type ErrorKind } from './flow.js';
import type { LatencySummaryUs } from './histogram.js';

/** One flow in stats.json. */
export interface FlowReport {
  name: string;
  requests: number;
  successes: number;
  /** Failed requests (all kinds). */
  errors: number;
  errorsByKind: Record<ErrorKind, number>;
  retries: number;
  bytes: number;
  /** Successful requests per second over [first start, last completion]. */
  throughputRps: number;
  latencyUs: LatencySummaryUs;
  connectUs: LatencySummaryUs;
}

/** One endpoint (pod) in stats.json. */
export interface EndpointReport {
  name: string;
  served: number;
  /** served / (sum of served over endpoints); the shares add up to 1 (0 when nothing was served). */
  share: number;
  busyUs: number;
  /** busy worker-time / (workers × report time). */
  utilization: number;
  meanQueue: number;
  maxQueue: number;
}

/** The whole stats.json document. */
export interface StatsReport {
  schema: 'podwire-stats/1';
  seed: number;
  simTimeUs: number;
  flows: FlowReport[];
  endpoints: EndpointReport[];
  /** Named counter groups (e.g. "tcp/node1": { RetransSegs: 3 }), groups and keys sorted. */
  counters: Record<string, Record<string, number>>;
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** Holds every flow, endpoint and counter group of a run. */
export class StatsRegistry {
  private readonly flows = new Map<string, FlowStats>();
  private readonly endpoints = new Map<string, EndpointStats>();
  private readonly counterSources = new Map<string, () => Record<string, number>>();

  constructor(private readonly now: () => TimeNs) {}

  /** The flow called `name` (created on first use). */
  flow(name: string): FlowStats {
    let f = this.flows.get(name);
    if (!f) {
      f = new FlowStats(name, this.now);
      this.flows.set(name, f);
    }
    return f;
  }
  /** The endpoint called `name` (created on first use with `workers` workers). */
  endpoint(name: string, workers = 1): EndpointStats {
    let e = this.endpoints.get(name);
    if (!e) {
      e = new EndpointStats(name, this.now, workers);
      this.endpoints.set(name, e);
    }
    return e;
  }
  /** Registers a counter group read at report time (e.g. a TCP layer's MIB counters). */
  addCounters(group: string, read: () => Record<string, number>): void {
    this.counterSources.set(group, read);
  }
  /** All flows in name order. */
  allFlows(): FlowStats[] {
    return [...this.flows.values()].sort(byName);
  }
  /** All endpoints in name order. */
  allEndpoints(): EndpointStats[] {
    return [...this.endpoints.values()].sort(byName);
  }

  /** Builds the stats.json object. */
  report(seed: number): StatsReport {
    const now = this.now();
    const flows: FlowReport[] = this.allFlows().map((f) => {
      const errorsByKind = {} as Record<ErrorKind, number>;
      for (const k of ERROR_KINDS) errorsByKind[k] = f.errors[k];
      const span = f.firstStart !== null && f.lastEnd !== null ? f.lastEnd - f.firstStart : 0;
      return {
        name: f.name,
        requests: f.requests,
        successes: f.successes,
        errors: f.errorCount,
        errorsByKind,
        retries: f.retries,
        bytes: f.bytes,
        throughputRps: span > 0 ? round6((f.successes * 1e9) / span) : 0,
        latencyUs: f.latency.summaryUs(),
        connectUs: f.connect.summaryUs(),
      };
    });
    const eps = this.allEndpoints();
    let total = 0;
    for (const e of eps) {
      e.flush();
      total += e.servedCount;
    }
    const endpoints: EndpointReport[] = eps.map((e) => ({
      name: e.name,
      served: e.servedCount,
      share: total > 0 ? e.servedCount / total : 0,
      busyUs: round6(e.busyNs / 1000),
      utilization: now > 0 ? round6(e.busyNs / (e.workers * now)) : 0,
      meanQueue: round6(e.meanQueue),
      maxQueue: e.maxQueue,
    }));
    const counters: Record<string, Record<string, number>> = {};
    for (const g of [...this.counterSources.keys()].sort()) {
      const raw = this.counterSources.get(g)!();
      const sorted: Record<string, number> = {};
      for (const k of Object.keys(raw).sort()) sorted[k] = raw[k]!;
      counters[g] = sorted;
    }
    return { schema: 'podwire-stats/1', seed, simTimeUs: round6(now / 1000), flows, endpoints, counters };
  }

  /** stats.json text (2-space indent, trailing newline). */
  toJson(seed: number): string {
    return JSON.stringify(this.report(seed), null, 2) + '\n';
  }

  /** One .hgrm text per flow, keyed by flow name. */
  hgrm(): Map<string, string> {
    const out = new Map<string, string>();
    for (const f of this.allFlows()) out.set(f.name, f.latency.toHgrm());
    return out;
  }
}
