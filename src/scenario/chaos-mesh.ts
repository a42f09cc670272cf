// scenario/chaos-mesh — Chaos Mesh objects beside a Scenario become ordinary spec.faults entries, so
// the same fault written either way gives the same run. Layer: scenario. load.ts calls it after the
// Scenario is validated; each fault it produces is validated by FaultSpec like a written one.
//
//   NetworkChaos  netem / delay / loss / duplicate / corrupt → netem; partition → partition;
//                 bandwidth → bandwidth (tc units: `bps` is bytes per second, `mbit` bits);
//                 selector + mode + value → target; target → peer; externalTargets; direction; device
//   PodChaos      pod-kill → pod-kill (gracePeriod s), pod-failure → pod-failure, container-kill →
//                 one container-kill per containerNames entry
//   DNSChaos      error / random with patterns → dns-chaos
//   Schedule      spec.schedule (chaos-cron.ts) × spec.<type> : one fault per firing before the end
//                 of the run (spec.duration); concurrencyPolicy Forbid (the default) skips a firing
//                 while the previous one lasts; Chaos Mesh 1.x `spec.scheduler.cron` on a chaos alike
//
// When: a chaos starts when it is created — at 0, or at the annotation `podwire.dev/at` (a duration);
// `spec.duration` ends it (absent: it lasts the run). Percentages are Chaos Mesh's strings ("25" =
// 25%). Selector namespaces default to the object's namespace, as Chaos Mesh's webhook does.
// Not modelled (warned about, once per field): expressionSelectors, fieldSelectors,
// podPhaseSelectors, remoteCluster. StressChaos, IOChaos, TimeChaos and other kinds stay ordinary
// unmodelled manifests (load.ts warns once per kind).
import { z } from 'zod';
import { durationOr0 } from '../core/time.js';
import { cronFirings, goDuration } from './chaos-cron.js';
import { SelectMode } from './selectors.js';

/** The kinds translated here. */
export const CHAOS_MESH_KINDS: readonly string[] = ['NetworkChaos', 'PodChaos', 'DNSChaos', 'Schedule'];

/** One Chaos Mesh object to translate. */
export interface ChaosObject {
  kind: string;
  value: Record<string, unknown>;
}

/** Where problems go: a path inside the object. */
export interface ChaosSink {
  error(path: (string | number)[], message: string): void;
  warn(path: (string | number)[], message: string): void;
}

const Num = z.union([z.string().regex(/^\s*[0-9]+(\.[0-9]+)?\s*$/), z.number().nonnegative()]);
const pct = (v: string | number | undefined): string | undefined => (v === undefined ? undefined : `${String(v).trim()}%`);
const Selector = z.looseObject({
  namespaces: z.array(z.string()).optional(),
  labelSelectors: z.record(z.string(), z.string()).optional(),
  annotationSelectors: z.record(z.string(), z.string()).optional(),
  pods: z.record(z.string(), z.array(z.string())).optional(),
  nodes: z.array(z.string()).optional(),
  nodeSelectors: z.record(z.string(), z.string()).optional(),
});
const PodSelector = z.looseObject({ selector: Selector.default({}), mode: SelectMode.default('all'), value: z.union([z.string(), z.number()]).optional() });
const Common = { ...PodSelector.shape, duration: z.string().optional() };

const NetworkChaosSpec = z.looseObject({
  ...Common,
  action: z.enum(['netem', 'delay', 'loss', 'duplicate', 'corrupt', 'partition', 'bandwidth']),
  direction: z.enum(['to', 'from', 'both']).default('to'),
  target: PodSelector.optional(),
  externalTargets: z.array(z.string()).optional(),
  device: z.string().optional(),
  delay: z.looseObject({ latency: z.string(), jitter: z.string().optional(), correlation: Num.optional(), reorder: z.looseObject({ reorder: Num, correlation: Num.optional(), gap: z.number().int().optional() }).optional() }).optional(),
  loss: z.looseObject({ loss: Num, correlation: Num.optional() }).optional(),
  duplicate: z.looseObject({ duplicate: Num, correlation: Num.optional() }).optional(),
  corrupt: z.looseObject({ corrupt: Num, correlation: Num.optional() }).optional(),
  rate: z.looseObject({ rate: z.string() }).optional(),
  bandwidth: z.looseObject({ rate: z.string(), limit: z.number().int(), buffer: z.number().int(), peakrate: z.union([z.string(), z.number()]).optional(), minburst: z.number().int().optional() }).optional(),
});
const PodChaosSpec = z.looseObject({ ...Common, action: z.enum(['pod-kill', 'pod-failure', 'container-kill']), gracePeriod: z.number().int().nonnegative().optional(), containerNames: z.array(z.string()).optional() });
const DnsChaosSpec = z.looseObject({ ...Common, action: z.enum(['error', 'random']), patterns: z.array(z.string()).default([]) });

/** A tc rate (`1mbps` bytes/s, `8mbit` bits/s, a bare number bits/s) as podwire's bits-per-second text. */
export function tcRate(text: string | number): string | null {
  if (typeof text === 'number') return `${text}bit`;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(bit|bps)?\s*$/i.exec(text);
  if (!m) return null;
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bits = Number(m[1]) * mult * (m[3]?.toLowerCase() === 'bps' ? 8 : 1);
  return `${bits}bit`;
}

/** The object's selector as podwire's target: namespaces default to the object's own. */
function targetOf(s: z.infer<typeof PodSelector>, ns: string, sink: ChaosSink, path: (string | number)[]): Record<string, unknown> {
  const sel = s.selector as Record<string, unknown>;
  for (const k of ['expressionSelectors', 'fieldSelectors', 'podPhaseSelectors']) if (k in sel) sink.warn([...path, 'selector', k], `${k} is not modelled by podwire and is ignored`);
  const selector: Record<string, unknown> = {};
  for (const k of ['namespaces', 'labelSelectors', 'annotationSelectors', 'pods', 'nodes', 'nodeSelectors']) if (sel[k] !== undefined) selector[k] = sel[k];
  if (selector['pods'] === undefined && (selector['namespaces'] === undefined || (selector['namespaces'] as string[]).length === 0)) selector['namespaces'] = [ns];
  const t: Record<string, unknown> = { selector, mode: s.mode };
  if (s.value !== undefined) t['value'] = String(s.value);
  return t;
}

/** Drops undefined fields (so a translated fault equals the same fault written natively). */
const clean = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function networkFault(spec: z.infer<typeof NetworkChaosSpec>, ns: string, sink: ChaosSink): Record<string, unknown> | null {
  const base = { target: targetOf(spec, ns, sink, ['spec']), direction: spec.direction, peer: spec.target ? targetOf(spec.target, ns, sink, ['spec', 'target']) : undefined, externalTargets: spec.externalTargets, device: spec.device };
  if (spec.action === 'partition') return clean({ kind: 'partition', ...base });
  if (spec.action === 'bandwidth') {
    const b = spec.bandwidth;
    if (!b) return sink.error(['spec', 'bandwidth'], 'missing: action bandwidth needs bandwidth.rate, limit and buffer'), null;
    const rate = tcRate(b.rate);
    const peak = b.peakrate !== undefined ? tcRate(b.peakrate) : undefined;
    if (rate === null || peak === null) return sink.error(['spec', 'bandwidth', 'rate'], 'expected a tc rate like 1mbps (bytes/s) or 8mbit'), null;
    return clean({ kind: 'bandwidth', ...base, rate, limit: b.limit, buffer: b.buffer, peakrate: peak, minburst: b.minburst });
  }
  const need = spec.action === 'netem' ? null : spec.action;
  if (need !== null && spec[need] === undefined) return sink.error(['spec', need], `missing: action ${need} needs ${need}`), null;
  const d = spec.delay;
  const r = spec.rate !== undefined ? tcRate(spec.rate.rate) : undefined;
  if (r === null) return sink.error(['spec', 'rate', 'rate'], 'expected a tc rate like 1mbps (bytes/s) or 8mbit'), null;
  const use = (a: string) => spec.action === 'netem' || spec.action === a;
  return clean({
    kind: 'netem',
    ...base,
    delay: use('delay') ? d?.latency : undefined,
    jitter: use('delay') ? d?.jitter : undefined,
    delayCorrelation: use('delay') ? pct(d?.correlation) : undefined,
    reorder: use('delay') ? pct(d?.reorder?.reorder) : undefined,
    reorderCorrelation: use('delay') ? pct(d?.reorder?.correlation) : undefined,
    gap: use('delay') ? d?.reorder?.gap : undefined,
    loss: use('loss') ? pct(spec.loss?.loss) : undefined,
    lossCorrelation: use('loss') ? pct(spec.loss?.correlation) : undefined,
    duplicate: use('duplicate') ? pct(spec.duplicate?.duplicate) : undefined,
    duplicateCorrelation: use('duplicate') ? pct(spec.duplicate?.correlation) : undefined,
    corrupt: use('corrupt') ? pct(spec.corrupt?.corrupt) : undefined,
    corruptCorrelation: use('corrupt') ? pct(spec.corrupt?.correlation) : undefined,
    rate: spec.action === 'netem' ? r : undefined,
  });
}

/** The faults one firing of a chaos spec makes (without `at` and `duration`). */
function faultsOf(kind: string, raw: unknown, ns: string, sink: ChaosSink, path: (string | number)[]): Record<string, unknown>[] {
  const parsed = (schema: z.ZodType) => {
    const r = schema.safeParse(raw);
    if (!r.success) for (const i of r.error.issues) sink.error([...path, ...i.path.filter((p): p is string | number => typeof p !== 'symbol')], i.message);
    return r.success ? r.data : null;
  };
  if (kind === 'NetworkChaos') {
    const s = parsed(NetworkChaosSpec) as z.infer<typeof NetworkChaosSpec> | null;
    const f = s && networkFault(s, ns, sink);
    return f ? [f] : [];
  }
  if (kind === 'PodChaos') {
    const s = parsed(PodChaosSpec) as z.infer<typeof PodChaosSpec> | null;
    if (!s) return [];
    const target = targetOf(s, ns, sink, path);
    if (s.action === 'pod-kill') return [clean({ kind: 'pod-kill', target, gracePeriod: s.gracePeriod !== undefined ? `${s.gracePeriod}s` : undefined })];
    if (s.action === 'pod-failure') return [{ kind: 'pod-failure', target }];
    if (!s.containerNames?.length) return sink.error([...path, 'containerNames'], 'missing: container-kill needs containerNames'), [];
    return s.containerNames.map((container) => ({ kind: 'container-kill', target, container }));
  }
  const s = parsed(DnsChaosSpec) as z.infer<typeof DnsChaosSpec> | null;
  return s ? [{ kind: 'dns-chaos', action: s.action, patterns: s.patterns, target: targetOf(s, ns, sink, path) }] : [];
}

const SCHEDULE_FIELD: Record<string, string> = { NetworkChaos: 'networkChaos', PodChaos: 'podChaos', DNSChaos: 'dnsChaos' };

/**
 * Translates one Chaos Mesh object into fault objects (to be validated by FaultSpec), in firing order.
 * `runEndNs` bounds a schedule's firings (null: no spec.duration — a schedule is then an error).
 */
export function chaosMeshFaults(obj: ChaosObject, runEndNs: number | null, sink: ChaosSink): Record<string, unknown>[] {
  const meta = (obj.value['metadata'] ?? {}) as { namespace?: string; annotations?: Record<string, string> };
  const ns = meta.namespace ?? 'default';
  const at = durationOr0(meta.annotations?.['podwire.dev/at']);
  const spec = (obj.value['spec'] ?? {}) as Record<string, unknown>;
  let kind = obj.kind;
  let inner: unknown = spec;
  let innerPath: (string | number)[] = ['spec'];
  let cron: string | null = null;
  let forbid = true;
  if (kind === 'Schedule') {
    const type = String(spec['type'] ?? '');
    const field = SCHEDULE_FIELD[type];
    if (field === undefined) {
      sink.warn(['spec', 'type'], `a Schedule of ${type || 'no type'} is not modelled by podwire and is ignored`);
      return [];
    }
    kind = type;
    inner = spec[field];
    innerPath = ['spec', field];
    cron = typeof spec['schedule'] === 'string' ? spec['schedule'] : null;
    if (cron === null) return sink.error(['spec', 'schedule'], 'missing: a Schedule needs spec.schedule (cron or @every)'), [];
    forbid = spec['concurrencyPolicy'] !== 'Allow';
  } else if (typeof (spec['scheduler'] as { cron?: unknown } | undefined)?.cron === 'string') {
    cron = (spec['scheduler'] as { cron: string }).cron; // Chaos Mesh 1.x
  }
  const durText = (inner as { duration?: unknown } | undefined)?.duration;
  const dur = typeof durText === 'string' ? goDuration(durText) : null;
  if (typeof durText === 'string' && dur === null) return sink.error([...innerPath, 'duration'], `cannot read duration "${durText}" (expected 30s, 1m30s, 500ms)`), [];
  const made = faultsOf(kind, inner, ns, sink, innerPath);
  if (made.length === 0) return [];
  const stamp = (t: number) => made.map((f) => clean({ ...f, at: `${t}ns`, duration: dur !== null ? `${dur}ns` : undefined }));
  if (cron === null) return stamp(at);
  if (runEndNs === null) return sink.error(['spec', 'schedule'], 'a schedule needs the Scenario’s spec.duration to bound its firings'), [];
  const firings = cronFirings(cron, Math.max(0, runEndNs - at));
  if (typeof firings === 'string') return sink.error(['spec', obj.kind === 'Schedule' ? 'schedule' : 'scheduler'], firings), [];
  const out: Record<string, unknown>[] = [];
  let busyUntil = -1;
  for (const t of firings) {
    if (forbid && at + t < busyUntil) continue;
    out.push(...stamp(at + t));
    busyUntil = dur === null ? Infinity : at + t + dur;
  }
  return out;
}
