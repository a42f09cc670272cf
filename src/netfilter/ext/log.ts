// netfilter/ext/log — `-j LOG` and `-j TRACE`: parsed and printed, no-ops when run (no kernel log;
// podwire's own trace callback replaces TRACE). Layer: netfilter (imports this folder). Mirrors
// iptables/extensions/libxt_LOG.c, libxt_TRACE.c and net/netfilter/xt_LOG.c, xt_TRACE.c.
import { TgCode } from '../x-tables.js';
import { noOptions, type TargetExt } from './api.js';
import { saveString } from '../xtables.js';

/** The record of -j LOG. */
export interface LogTarget {
  kind: 'LOG';
  prefix: string | null;
  level: number;
  tcpSequence: boolean;
  tcpOptions: boolean;
  ipOptions: boolean;
  uid: boolean;
  macDecode: boolean;
}
/** The record of -j TRACE. */
export interface TraceTarget {
  kind: 'TRACE';
}

const LOG_LEVELS: Record<string, number> = { emerg: 0, alert: 1, crit: 2, error: 3, err: 3, warning: 4, warn: 4, notice: 5, info: 6, debug: 7, panic: 0 };
const LOG_FLAGS = { '--log-tcp-sequence': 'tcpSequence', '--log-tcp-options': 'tcpOptions', '--log-ip-options': 'ipOptions', '--log-uid': 'uid', '--log-macdecode': 'macDecode' } as const;
const cont = () => TgCode.CONTINUE;

/** -j LOG. */
export const LOG: TargetExt<LogTarget> = {
  name: 'LOG',
  table: null,
  init: () => ({ kind: 'LOG', prefix: null, level: 4, tcpSequence: false, tcpOptions: false, ipOptions: false, uid: false, macDecode: false }),
  parse(tg, opt, c) {
    const o = opt.text;
    if (o === '--log-prefix') return (tg.prefix = c.arg(opt).text), true;
    if (o === '--log-level') {
      const t = c.arg(opt);
      const lv = LOG_LEVELS[t.text] ?? (/^[0-7]$/.test(t.text) ? Number(t.text) : undefined);
      if (lv === undefined) throw c.err(t, `invalid --log-level "${t.text}"`);
      tg.level = lv;
      return true;
    }
    const f = LOG_FLAGS[o as keyof typeof LOG_FLAGS];
    if (f === undefined) return false;
    tg[f] = true;
    return true;
  },
  render: (t) =>
    ' -j LOG' +
    (t.prefix !== null ? ` --log-prefix ${saveString(t.prefix)}` : '') +
    (t.level !== 4 ? ` --log-level ${t.level}` : '') +
    (t.tcpSequence ? ' --log-tcp-sequence' : '') +
    (t.tcpOptions ? ' --log-tcp-options' : '') +
    (t.ipOptions ? ' --log-ip-options' : '') +
    (t.uid ? ' --log-uid' : '') +
    (t.macDecode ? ' --log-macdecode' : ''),
  compile: () => cont,
};

/** -j TRACE. */
export const TRACE: TargetExt<TraceTarget> = {
  name: 'TRACE',
  table: null,
  init: () => ({ kind: 'TRACE' }),
  parse: noOptions,
  render: () => ' -j TRACE',
  compile: () => cont,
};
