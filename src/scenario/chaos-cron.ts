// scenario/chaos-cron — when a Chaos Mesh Schedule fires within a run. Layer: scenario (imports core).
// Chaos Mesh parses `spec.schedule` with robfig/cron's standard parser: five fields (minute hour
// day-of-month month day-of-week; `*`, `a-b`, `*/n`, `a-b/n`, lists, JAN–DEC, SUN–SAT, 7 = Sunday;
// day-of-month and day-of-week ORed when both are restricted, as cron does), the descriptors
// @yearly @annually @monthly @weekly @daily @midnight @hourly, and `@every DURATION` (Go syntax:
// 1h30m, 10s, 500ms). The simulated clock's 0 is taken as 1970-01-01T00:00:00Z, so `*/1 * * * *`
// fires at 60 s, 120 s, …; `@every 10s` at 10 s, 20 s, … (robfig: first firing one period after
// the schedule is created). Firings are listed up to, not including, the end of the run; the list is
// bounded by the run (a minute-by-minute scan, at most 144 000 steps for 100 days) and by 10 000 firings.
// A hand-written matcher rather than a dependency: five fields and @every, off the hot path.
import { SEC } from '../core/time.js';

const MIN = 60 * SEC;
/** Most firings a schedule may make within one run (each becomes a fault). */
const MAX_FIRINGS = 10_000;
const NAMES: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12, sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const DESCRIPTORS: Record<string, string> = { '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *' };
const RANGES: [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

/** A Go duration (`1h30m`, `10s`, `250ms`) in ns, or null. */
export function goDuration(text: string): number | null {
  const unit: Record<string, number> = { h: 3600 * SEC, m: MIN, s: SEC, ms: 1e6, us: 1e3, µs: 1e3, ns: 1 };
  let rest = text.trim();
  let total = 0;
  if (rest === '') return null;
  while (rest.length > 0) {
    const m = /^([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)/.exec(rest);
    if (!m) return null;
    total += Number(m[1]) * unit[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

/** One field as a set of allowed values, or an error message. */
function field(text: string, i: number): Set<number> | string {
  const [lo, hi] = RANGES[i]!;
  const out = new Set<number>();
  for (const part of text.toLowerCase().split(',')) {
    const m = /^(\*|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:\/([0-9]+))?$/.exec(part);
    if (!m) return `cannot read "${part}"`;
    const num = (s: string): number => (s in NAMES ? NAMES[s]! : Number(s));
    const a = m[1] === '*' ? lo : num(m[2]!);
    const b = m[1] === '*' ? hi : m[3] !== undefined ? num(m[3]) : m[4] !== undefined ? hi : a;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < lo || b > hi || a > b || step < 1) return `"${part}" is outside ${lo}-${hi}`;
    for (let v = a; v <= b; v += step) out.add(i === 4 && v === 7 ? 0 : v);
  }
  return out;
}

/** A parsed schedule: the times (ns) it fires in [0, end), or an error message. */
export function cronFirings(spec: string, endNs: number): number[] | string {
  const s = spec.trim();
  if (s.startsWith('@every')) {
    const d = goDuration(s.slice(6));
    if (d === null || d <= 0) return `cannot read the period of "${s}" (expected @every 10s, @every 1m30s)`;
    if (endNs / d > MAX_FIRINGS) return `"${s}" fires more than ${MAX_FIRINGS} times within the run`;
    const out: number[] = [];
    for (let t = d; t < endNs; t += d) out.push(t);
    return out;
  }
  const fields = (DESCRIPTORS[s] ?? s).split(/\s+/);
  if (fields.length !== 5) return `expected five fields (minute hour day-of-month month day-of-week), @every DURATION or a descriptor like @hourly`;
  const sets: Set<number>[] = [];
  for (const [i, f] of fields.entries()) {
    const r = field(f, i);
    if (typeof r === 'string') return `field ${i + 1}: ${r}`;
    sets.push(r);
  }
  const [mins, hours, doms, months, dows] = sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  const domStar = fields[2] === '*';
  const dowStar = fields[4] === '*';
  const out: number[] = [];
  // robfig fires strictly after the creation time (0): the first candidate is minute 1.
  for (let t = MIN; t < endNs; t += MIN) {
    const d = new Date(t / 1e6);
    if (!mins.has(d.getUTCMinutes()) || !hours.has(d.getUTCHours()) || !months.has(d.getUTCMonth() + 1)) continue;
    const domOk = doms.has(d.getUTCDate());
    const dowOk = dows.has(d.getUTCDay());
    if (domStar || dowStar ? domOk && dowOk : domOk || dowOk) out.push(t);
    if (out.length > MAX_FIRINGS) return `"${s}" fires more than ${MAX_FIRINGS} times within the run`;
  }
  return out;
}
