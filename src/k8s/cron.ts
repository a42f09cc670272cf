// k8s/cron — the CronJob schedule as the CronJob controller parses it (robfig/cron/v3's standard
// parser, which kube-controller-manager uses): five fields `minute hour day-of-month month
// day-of-week`, each `*`, `?` (day fields), a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n`
// (a to the field's maximum), lists `a,b-c`; month and weekday names (jan…dec, sun…sat, any case);
// weekday 7 is Sunday; the descriptors @yearly/@annually, @monthly, @weekly, @daily/@midnight,
// @hourly. When both day-of-month and day-of-week are restricted a day matches either (cron's OR);
// when either is `*` (or `?`) the other decides. Times are UTC. Layer: k8s (imports nothing).
//
// Simulated time 0 is the wall clock CRON_EPOCH_MS (2025-01-01T00:00:00Z, a Wednesday): the scenario
// has no wall time of its own, so a CronJob's schedule is evaluated on that calendar.
// Not modelled: `TZ=` / `CRON_TZ=` prefixes and spec.timeZone (refused: podwire's clock is UTC),
// @every (the CronJob API rejects it too), seconds fields.

/** Wall time (ms since the Unix epoch) of simulated time 0. */
export const CRON_EPOCH_MS = Date.UTC(2025, 0, 1, 0, 0, 0);

/** A parsed schedule: the allowed values of each field as bit sets. */
export interface CronSchedule {
  minute: bigint;
  hour: bigint;
  dom: bigint;
  month: bigint;
  dow: bigint;
  /** Day-of-month or day-of-week was `*`/`?` (then both must match: AND; else OR). */
  domStar: boolean;
  dowStar: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface Bounds {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** The first name's value. */
  nameBase?: number;
}
const FIELDS: Bounds[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day of week', min: 0, max: 6, names: DAYS, nameBase: 0 },
];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function value(text: string, b: Bounds): number {
  const lower = text.toLowerCase();
  const named = b.names?.indexOf(lower) ?? -1;
  if (named >= 0) return named + (b.nameBase ?? 0);
  if (!/^\d+$/.test(text)) throw new Error(`"${text}" is not a number${b.names ? ' or a name' : ''} in the ${b.name} field`);
  return Number(text);
}

/** One field: a bit per allowed value; `star` when it was `*` or `?`. */
function field(text: string, b: Bounds, dow: boolean): { bits: bigint; star: boolean } {
  let bits = 0n;
  let star = false;
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === undefined || range === '') throw new Error(`"${part}" is not a range in the ${b.name} field`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      [lo, hi] = [b.min, b.max];
      if (stepText === undefined) star = true;
    } else {
      const dash = range.split('-');
      if (dash.length > 2) throw new Error(`"${range}" is not a range in the ${b.name} field`);
      lo = value(dash[0]!, b);
      hi = dash.length === 2 ? value(dash[1]!, b) : stepText !== undefined ? b.max : lo;
    }
    // Sunday as 7 (robfig accepts it in day-of-week: 0-7).
    const max = dow ? 7 : b.max;
    if (lo < b.min || hi > max || lo > max) throw new Error(`${lo < b.min ? lo : hi} is out of range ${b.min}-${max} in the ${b.name} field`);
    if (lo > hi) throw new Error(`beginning of range (${lo}) beyond end of range (${hi}) in the ${b.name} field`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw new Error(`step "${stepText}" must be a positive number in the ${b.name} field`);
      step = Number(stepText);
    }
    for (let v = lo; v <= hi; v += step) bits |= 1n << BigInt(dow && v === 7 ? 0 : v);
  }
  return { bits, star };
}

/** Parses a CronJob schedule; throws an Error whose message says what is wrong. */
export function parseCron(spec: string): CronSchedule {
  const text = spec.trim();
  if (/^(CRON_)?TZ=/.test(text)) throw new Error('time zones in the schedule are not supported by podwire (its clock is UTC)');
  if (text.startsWith('@')) {
    const d = DESCRIPTORS[text.toLowerCase()];
    if (d === undefined) throw new Error(`unrecognized descriptor "${text}" (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)`);
    return parseCron(d);
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 5) throw new Error(`expected exactly 5 fields, found ${parts.length}: "${text}"`);
  const f = parts.map((p, i) => field(p, FIELDS[i]!, i === 4));
  return { minute: f[0]!.bits, hour: f[1]!.bits, dom: f[2]!.bits, month: f[3]!.bits, dow: f[4]!.bits, domStar: f[2]!.star, dowStar: f[4]!.star };
}

const has = (bits: bigint, v: number): boolean => ((bits >> BigInt(v)) & 1n) === 1n;

function dayMatches(s: CronSchedule, d: Date): boolean {
  const dom = has(s.dom, d.getUTCDate());
  const dow = has(s.dow, d.getUTCDay());
  return s.domStar || s.dowStar ? dom && dow : dom || dow;
}

/** The first activation strictly after `afterMs` (wall ms), or null when none within 5 years (e.g. 30 February). */
export function nextActivation(s: CronSchedule, afterMs: number): number | null {
  const t = new Date(Math.floor(afterMs / 60_000) * 60_000 + 60_000);
  const limit = t.getUTCFullYear() + 5;
  while (t.getUTCFullYear() <= limit) {
    if (!has(s.month, t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(s, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!has(s.hour, t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!has(s.minute, t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return t.getTime();
  }
  return null;
}
