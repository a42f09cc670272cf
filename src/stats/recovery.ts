// stats/recovery — stats.json's recovery section (schema.ts RecoverySchema), built when a scenario has
// faults: a per-second series of the run's requests (every flow together: started, succeeded, failed
// by kind, p50/p99), TCP retransmissions and RTOs of every stack, and each endpoint's share of the
// requests served that second; and for each fault: time to first error, time to detect, time to
// recover and requests lost, with the timeline entries in between. Layer: stats (observer; imports
// core).
//
// Definitions (a request is counted in the second it completes; a failure completes when the client
// gives up, so errors trail their cause by the client's timeout):
//   first error    the first request that failed at or after the fault (before the next fault)
//   detect         the first timeline entry after the fault that shows the cluster noticed: a probe
//                  failing (kubelet), a Node NotReady (node lifecycle), an endpoint not ready or
//                  terminating (EndpointSlice controller)
//   recover        the start of the first second after the first error's second that begins
//                  `window` healthy seconds in a row; a second is healthy when it completed requests
//                  and errors / completions ≤ `errorThreshold` (a second without completions is not)
//   requests lost  failures from the fault to the recovery (or the next fault, or the end)
// Defaults (scenario spec.recovery): threshold 1 % — at the tens of requests per second scenarios
// send, any failed request makes a second unhealthy, so "recovered" means the errors stopped, while a
// busy flow may keep a stray error per hundred; window 5 s — longer than a client's timeout plus a
// retry and than the EndpointSlice + kube-proxy delays (1 s + 1 s by default), so a lull between two
// waves of errors of one fault is not taken for a recovery, and short enough that the answer is
// still read in seconds.
import type { TimeNs } from '../core/time.js';
import type { EndpointStats } from './endpoint.js';
import { ERROR_KINDS, OPTIONAL_ERROR_KINDS, type FlowStats } from './flow.js';
import type { FaultRecovery, RecoveryReport, RecoverySecond } from './schema.js';
import { mergedPercentileUs } from './timeseries.js';

/** Per-second TCP retransmissions and RTOs, from cumulative totals sampled once a second. */
export class TcpSecondSampler {
  readonly retrans: number[] = [];
  readonly rtos: number[] = [];
  private lastRetrans = 0;
  private lastRtos = 0;

  /** Totals at the end of second `t` (or at the end of the run, during it). */
  sample(t: number, retransTotal: number, rtoTotal: number): void {
    this.retrans[t] = (this.retrans[t] ?? 0) + retransTotal - this.lastRetrans;
    this.rtos[t] = (this.rtos[t] ?? 0) + rtoTotal - this.lastRtos;
    this.lastRetrans = retransTotal;
    this.lastRtos = rtoTotal;
  }
}

/** What the recovery section is built from. */
export interface RecoveryInput {
  flows: readonly FlowStats[];
  endpoints: readonly EndpointStats[];
  tcp: TcpSecondSampler;
  faults: readonly { kind: string; target: string; atNs: TimeNs }[];
  timeline: readonly { atNs: TimeNs; what: string }[];
  errorThreshold: number;
  windowNs: TimeNs;
  endNs: TimeNs;
}

const DETECTS = [/probe failed/, /^node-lifecycle: node \S+ NotReady/, /^endpointslice: .*(not ready|terminating)/];

/** Builds the recovery section. */
export function recoveryReport(input: RecoveryInput): RecoveryReport {
  const seconds = secondsOf(input);
  const windowS = Math.max(1, Math.round(input.windowNs / 1e9));
  const errorTimes = input.flows.flatMap((f) => f.errorTimes).sort((a, b) => a - b);
  const order = input.faults.map((f, i) => ({ ...f, index: i })).sort((a, b) => a.atNs - b.atNs || a.index - b.index);
  const faults = order.map((f, k): FaultRecovery => {
    const next = k + 1 < order.length ? order[k + 1]!.atNs : Infinity;
    const firstErr = errorTimes.find((t) => t >= f.atNs && t < next) ?? null;
    const det = input.timeline.find((e) => e.atNs >= f.atNs && e.atNs < next && DETECTS.some((r) => r.test(e.what))) ?? null;
    const recoverNs = firstErr === null ? null : recoveryAt(seconds, Math.floor(firstErr / 1e9) + 1, windowS, input.errorThreshold);
    const until = recoverNs ?? Math.min(next, input.endNs + 1);
    return {
      index: f.index,
      kind: f.kind,
      target: f.target,
      atUs: f.atNs / 1000,
      timeToFirstErrorUs: firstErr === null ? null : (firstErr - f.atNs) / 1000,
      timeToDetectUs: det === null ? null : (det.atNs - f.atNs) / 1000,
      detectedBy: det?.what ?? null,
      timeToRecoverUs: recoverNs === null ? null : (recoverNs - f.atNs) / 1000,
      requestsLost: errorTimes.filter((t) => t >= f.atNs && t < until).length,
      timeline: input.timeline.filter((e) => e.atNs >= f.atNs && e.atNs < Math.min(until, next)).map((e) => ({ atUs: e.atNs / 1000, what: e.what })),
    };
  });
  return { errorThreshold: input.errorThreshold, windowS, seconds, faults };
}

/** The start of the first second ≥ `from` that opens `window` healthy seconds in a row, in ns; null when none does. */
function recoveryAt(seconds: readonly RecoverySecond[], from: number, window: number, threshold: number): TimeNs | null {
  let run = 0;
  for (let t = from; t < seconds.length; t++) {
    const s = seconds[t]!;
    const done = s.successes + s.errors;
    run = done > 0 && s.errors / done <= threshold ? run + 1 : 0;
    if (run === window) return (t - window + 1) * 1e9;
  }
  return null;
}

/** Every second of the run with the flows merged, up to the last one with any activity (the run may idle on for TIME_WAIT). */
function secondsOf(input: RecoveryInput): RecoverySecond[] {
  const all = Math.max(1, Math.ceil(input.endNs / 1e9));
  let last = 0;
  for (const f of input.flows) for (const d of f.perSecond.details()) last = Math.max(last, d.t);
  for (const e of input.endpoints) for (const t of e.servedPerSecond.keys()) last = Math.max(last, t);
  input.tcp.retrans.forEach((x, t) => (x > 0 ? (last = Math.max(last, t)) : 0));
  for (const f of input.faults) last = Math.max(last, Math.floor(f.atNs / 1e9));
  const n = Math.min(all, last + 1);
  const acc = Array.from({ length: n }, () => ({ started: 0, ok: 0, byKind: ERROR_KINDS.map(() => 0), buckets: new Map<number, number>() }));
  for (const f of input.flows) {
    for (const d of f.perSecond.details()) {
      const a = acc[Math.min(d.t, n - 1)]!;
      a.started += d.started;
      a.ok += d.ok;
      if (d.byKind) d.byKind.forEach((x, i) => (a.byKind[i]! += x));
      for (let k = 0; k < d.buckets.length; k += 2) a.buckets.set(d.buckets[k]!, (a.buckets.get(d.buckets[k]!) ?? 0) + d.buckets[k + 1]!);
    }
  }
  const eps = [...input.endpoints].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  // (servedPerSecond is a getter that files the current second first: read once per endpoint)
  const perSecond = eps.map((e) => e.servedPerSecond);
  return acc.map((a, t) => {
    // (addrnotavail, added after the format was pinned, only when some request failed so: as flows[].errorsByKind)
    const errorsByKind = Object.fromEntries(ERROR_KINDS.flatMap((k, i) => (a.byKind[i]! > 0 || !OPTIONAL_ERROR_KINDS.has(k) ? [[k, a.byKind[i]!]] : []))) as RecoverySecond['errorsByKind'];
    let served = 0;
    for (const m of perSecond) served += m.get(t) ?? 0;
    const endpointShares: Record<string, number> = {};
    for (let k = 0; k < eps.length; k++) {
      const e = eps[k]!;
      const s = perSecond[k]!.get(t) ?? 0;
      if (s > 0) endpointShares[e.name] = Math.round((s / served) * 1e6) / 1e6;
    }
    return {
      t,
      requests: a.started,
      successes: a.ok,
      errors: a.byKind.reduce((x, y) => x + y, 0),
      errorsByKind,
      p50Us: mergedPercentileUs(a.buckets, a.ok, 0.5),
      p99Us: mergedPercentileUs(a.buckets, a.ok, 0.99),
      retransmissions: input.tcp.retrans[t] ?? 0,
      rtos: input.tcp.rtos[t] ?? 0,
      endpointShares,
    };
  });
}
