// stats/report — the stats registry and the stats.json builder. Layer: stats (observer; imports core).
// The document's shape is owned by schema.ts (schema "podwire-stats/1"); this file only fills it. Key
// order is fixed by construction, flows and endpoints are sorted by name and counter groups and their
// keys sorted, so the same seed gives the same bytes.
import type { StopReason } from '../core/simulator.js';
import type { TimeNs } from '../core/time.js';
import { EndpointStats } from './endpoint.js';
import { ERROR_KINDS, FlowStats, OPTIONAL_ERROR_KINDS, type ErrorKind } from './flow.js';
import { TIMESERIES_SCHEMA_ID, type TimeseriesDocument } from './timeseries.js';
import { recoveryReport, TcpSecondSampler } from './recovery.js';
import { STATS_SCHEMA_ID, type EndpointReport, type FlowEndpointReport, type FlowReport, type PartialReason, type StatsDocument } from './schema.js';

/** How the run ended and what it was: the parts of stats.json the registry does not measure itself. */
export interface RunInfo {
  seed: number;
  scenario?: string;
  stop?: StopReason;
  events?: number;
  timeline?: readonly { atNs: TimeNs; what: string }[];
  /** Set when a guard or a signal stopped the run early. */
  partial?: { reason: PartialReason; message: string } | null;
  /** Set when the capture was cut by its size guard. */
  captureNote?: string | null;
}

/** What a traffic generator says about its flow: its kind, ends and probe counters. */
export interface FlowInfo {
  type: string;
  from: string;
  to: string;
  counts: { readonly sent: number; readonly received: number; readonly lost: number };
}

/** What the recovery section needs besides the registry's own counters (stats/recovery.ts). */
export interface RecoveryConfig {
  faults: readonly { kind: string; target: string; atNs: TimeNs }[];
  errorThreshold: number;
  windowNs: TimeNs;
  /** Cumulative TCP retransmitted segments and RTOs of every stack, now. */
  tcpTotals(): [number, number];
}

/** A counter group read at report time; null leaves the group out of stats.json. */
export type CounterSource = () => Record<string, number> | null;

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** Holds every flow, endpoint and counter group of a run. */
export class StatsRegistry {
  private readonly flows = new Map<string, FlowStats>();
  private readonly endpoints = new Map<string, EndpointStats>();
  private readonly counterSources = new Map<string, CounterSource>();
  private readonly flowInfo = new Map<string, FlowInfo>();
  private recovery: { cfg: RecoveryConfig; tcp: TcpSecondSampler } | null = null;
  /** TCP connections health checks opened (the kubelet's probes, a load balancer's TCP checks), by pod name (stats.json endpoints[].probeConnections). */
  private readonly probeConnections = new Map<string, number>();

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
  /** A health check's TCP connection (a kubelet probe's, a load balancer's TCP check through a NodePort) to the pod `name` was established. */
  probeConnected(name: string): void {
    this.probeConnections.set(name, (this.probeConnections.get(name) ?? 0) + 1);
  }
  /** Registers a counter group read at report time (e.g. a TCP layer's MIB counters). */
  addCounters(group: string, read: CounterSource): void {
    this.counterSources.set(group, read);
  }
  /** Says what the flow called `name` is (its kind, ends, probe counters). */
  describeFlow(name: string, info: FlowInfo): void {
    this.flowInfo.set(name, info);
  }
  /** Adds the recovery section to stats.json (a scenario with faults); call `sampleTcp` at the end of every second. */
  enableRecovery(cfg: RecoveryConfig): void {
    this.recovery = { cfg, tcp: new TcpSecondSampler() };
  }
  /** Samples the TCP totals for second `t` (the recovery series' retransmissions and RTOs). */
  sampleTcp(t: number): void {
    if (this.recovery) this.recovery.tcp.sample(t, ...this.recovery.cfg.tcpTotals());
  }
  /** All flows in name order. */
  allFlows(): FlowStats[] {
    return [...this.flows.values()].sort(byName);
  }
  /** All endpoints in name order. */
  allEndpoints(): EndpointStats[] {
    return [...this.endpoints.values()].sort(byName);
  }

  /** Builds the stats.json document. */
  report(run: RunInfo): StatsDocument {
    const now = this.now();
    return {
      schema: STATS_SCHEMA_ID,
      scenario: run.scenario ?? '',
      seed: run.seed,
      stop: run.stop ?? 'idle',
      simTimeUs: round6(now / 1000),
      events: run.events ?? 0,
      flows: this.allFlows().map((f) => this.flowReport(f)),
      endpoints: this.endpointReports(now),
      timeline: (run.timeline ?? []).map((t) => ({ atUs: t.atNs / 1000, what: t.what })),
      ...(this.recovery ? { recovery: this.recoveryOf(run, now) } : {}),
      counters: this.counterGroups(),
      ...(run.partial ? { partial: { reason: run.partial.reason, message: run.partial.message } } : {}),
      ...(run.captureNote ? { capture: { truncated: true, message: run.captureNote } } : {}),
    };
  }

  private recoveryOf(run: RunInfo, now: TimeNs) {
    const r = this.recovery!;
    r.tcp.sample(Math.max(0, Math.ceil(now / 1e9) - 1), ...r.cfg.tcpTotals());
    for (const e of this.endpoints.values()) e.flush();
    return recoveryReport({ flows: this.allFlows(), endpoints: this.allEndpoints(), tcp: r.tcp, faults: r.cfg.faults, timeline: run.timeline ?? [], errorThreshold: r.cfg.errorThreshold, windowNs: r.cfg.windowNs, endNs: now });
  }

  /** stats.json text (2-space indent, trailing newline). */
  toJson(run: RunInfo): string {
    return statsJsonText(this.report(run));
  }

  private flowReport(f: FlowStats): FlowReport {
    const info = this.flowInfo.get(f.name);
    const errorsByKind = {} as Record<ErrorKind, number>;
    for (const k of ERROR_KINDS) if (f.errors[k] > 0 || !OPTIONAL_ERROR_KINDS.has(k)) errorsByKind[k] = f.errors[k];
    const span = f.firstStart !== null && f.lastEnd !== null ? f.lastEnd - f.firstStart : 0;
    return {
      name: f.name,
      type: info?.type ?? 'unknown',
      from: info?.from ?? '',
      to: info?.to ?? '',
      sent: info?.counts.sent ?? f.requests,
      received: info?.counts.received ?? f.successes,
      lost: info?.counts.lost ?? f.errors.timeout,
      requests: f.requests,
      successes: f.successes,
      errors: f.errorCount,
      errorsByKind,
      retries: f.retries,
      bytes: f.bytes,
      throughputRps: span > 0 ? round6((f.successes * 1e9) / span) : 0,
      latencyUs: { min: Math.round(f.latency.minValueNs) / 1000, ...f.latency.summaryUs() },
      connectUs: f.connect.summaryUs(),
      ...(f.reportPhases ? { phasesUs: phasesOf(f) } : {}),
      endpoints: flowEndpoints(f),
    };
  }

  /** The traffic window: first request start to last completion over all flows; null when no flow made a request. */
  private trafficWindow(): TimeNs | null {
    let first = Infinity;
    let last = -Infinity;
    for (const f of this.allFlows()) {
      if (f.firstStart === null || f.lastEnd === null) continue;
      if (f.firstStart < first) first = f.firstStart;
      if (f.lastEnd > last) last = f.lastEnd;
    }
    return last > first ? last - first : null;
  }

  private endpointReports(now: TimeNs): EndpointReport[] {
    const eps = this.allEndpoints();
    // Utilization is over the traffic window, not the warm-up before it nor the drain after it.
    const window = this.trafficWindow() ?? now;
    let total = 0;
    for (const e of eps) {
      e.flush();
      total += e.servedCount;
    }
    return eps.map((e) => {
      const probeConnections = this.probeConnections.get(e.name) ?? 0;
      return {
        name: e.name,
        served: e.servedCount,
        share: total > 0 ? e.servedCount / total : 0,
        ...(e.probeCount > 0 ? { probes: e.probeCount } : {}),
        ...(probeConnections > 0 ? { probeConnections } : {}),
        busyUs: round6(e.busyNs / 1000),
        utilization: window > 0 ? round6(e.busyNs / (e.workers * window)) : 0,
        meanQueue: round6(e.meanQueue),
        maxQueue: e.maxQueue,
      };
    });
  }

  private counterGroups(): Record<string, Record<string, number>> {
    const counters: Record<string, Record<string, number>> = {};
    for (const g of [...this.counterSources.keys()].sort()) {
      const raw = this.counterSources.get(g)!();
      if (raw === null) continue;
      const sorted: Record<string, number> = {};
      for (const k of Object.keys(raw).sort()) sorted[k] = raw[k]!;
      counters[g] = sorted;
    }
    return counters;
  }

  /** timeseries.json: each flow's per-second completions, errors and latency (a separate file). */
  timeseries(): TimeseriesDocument {
    return { schema: TIMESERIES_SCHEMA_ID, flows: this.allFlows().map((f) => ({ name: f.name, seconds: f.perSecond.rows() })) };
  }

  /** One .hgrm text per flow, keyed by flow name. */
  hgrm(): Map<string, string> {
    const out = new Map<string, string>();
    for (const f of this.allFlows()) out.set(f.name, f.latency.toHgrm());
    return out;
  }
}

/** The text of a stats.json document (2-space indent, trailing newline). */
export function statsJsonText(doc: StatsDocument): string {
  return JSON.stringify(doc, null, 2) + '\n';
}

/** The endpoints that answered a flow, sorted by name, each with its share of the flow's answered requests. */
function flowEndpoints(f: FlowStats): FlowEndpointReport[] {
  let total = 0;
  for (const e of f.byEndpoint.values()) total += e.requests;
  return [...f.byEndpoint.keys()].sort().map((name) => {
    const e = f.byEndpoint.get(name)!;
    return { name, requests: e.requests, share: total > 0 ? round6(e.requests / total) : 0, connections: e.connections, bytes: e.bytes };
  });
}

/** The per-phase summaries of a flow (stats.json `phasesUs`). */
function phasesOf(f: FlowStats): NonNullable<FlowReport['phasesUs']> {
  return { dns: f.phases.dns.summaryUs(), connect: f.phases.connect.summaryUs(), tls: f.phases.tls.summaryUs(), ttfb: f.phases.ttfb.summaryUs(), total: f.phases.total.summaryUs() };
}
