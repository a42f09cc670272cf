// netfilter/ext/limit — `-m limit --limit N/unit --limit-burst B`. Layer: netfilter (imports this
// folder). Mirrors iptables/extensions/libxt_limit.c and net/netfilter/xt_limit.c.
// Not modelled: the token bucket — the match always matches (rate limiting of LOG/ACCEPT rules would
// need timers podwire does not need).
import { parseNumber } from '../xtables.js';
import type { MatchExt } from './api.js';

/** The record of -m limit. */
export interface LimitMatch {
  kind: 'limit';
  /** packets per `unit` */
  rate: number;
  unit: 'sec' | 'min' | 'hour' | 'day';
  burst: number;
}

const UNITS: Record<string, 'sec' | 'min' | 'hour' | 'day'> = { s: 'sec', m: 'min', h: 'hour', d: 'day' };

/** -m limit. */
export const limit: MatchExt<LimitMatch> = {
  name: 'limit',
  init: () => ({ kind: 'limit', rate: 3, unit: 'hour', burst: 5 }),
  parse(m, opt, _neg, c) {
    if (opt.text === '--limit') {
      const t = c.arg(opt);
      const mm = /^(\d+)(?:\/(\w+))?$/.exec(t.text);
      const unit = mm ? UNITS[(mm[2] ?? 's')[0]!] : undefined;
      if (!mm || !unit) throw c.err(t, `invalid rate "${t.text}"`);
      m.rate = Number(mm[1]);
      m.unit = unit;
      return true;
    }
    if (opt.text === '--limit-burst') return (m.burst = parseNumber(c, c.arg(opt))), true;
    return false;
  },
  render: (m) => ` -m limit --limit ${m.rate}/${m.unit}${m.burst !== 5 ? ` --limit-burst ${m.burst}` : ''}`,
  compile: () => null,
};
