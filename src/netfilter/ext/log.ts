// netfilter/ext/log — `-j LOG`, `-j NFLOG` and `-j TRACE`: parsed and printed, no-ops when run (no kernel
// log, no nfnetlink_log listener; podwire's own trace callback replaces TRACE). Layer: netfilter (imports
// this folder). Mirrors iptables/extensions/libxt_LOG.c, libxt_NFLOG.c, libxt_TRACE.c and
// net/netfilter/xt_LOG.c, xt_NFLOG.c, xt_TRACE.c. NFLOG's options and save format are those of
// iptables 1.8.9 (nf_tables) as checked on this machine: --nflog-group 0..65535 (printed unless 0),
// --nflog-prefix (non-empty, at most 64 characters), --nflog-size N (u32, printed once given, even 0),
// --nflog-threshold 0..65535 (printed unless 0), --nflog-range accepted and dropped ("has never worked"),
// printed in the order prefix, group, size, threshold. kube-router logs every pod's dropped traffic with it.
import { TgCode } from '../x-tables.js';
import { noOptions, type TargetExt } from './api.js';
import { parseNumber, saveString, type Cursor, type Token } from '../xtables.js';

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
/** The record of -j NFLOG. */
export interface NflogTarget {
  kind: 'NFLOG';
  prefix: string;
  group: number;
  /** --nflog-size, or null when not given (XT_NFLOG_F_COPY_LEN unset). */
  size: number | null;
  threshold: number;
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

/** An NFLOG option's u16 argument. */
function u16(c: Cursor, opt: Token): number {
  const t = c.arg(opt);
  const v = /^\d+$/.test(t.text) ? Number(t.text) : -1;
  if (v < 0 || v > 0xffff) throw c.err(t, `NFLOG: bad value for option "${opt.text}", or out of range (0-65535)`);
  return v;
}

/** -j NFLOG. */
export const NFLOG: TargetExt<NflogTarget> = {
  name: 'NFLOG',
  table: null,
  init: () => ({ kind: 'NFLOG', prefix: '', group: 0, size: null, threshold: 0 }),
  parse(tg, opt, c) {
    switch (opt.text) {
      case '--nflog-group':
        tg.group = u16(c, opt);
        return true;
      case '--nflog-threshold':
        tg.threshold = u16(c, opt);
        return true;
      case '--nflog-size':
        tg.size = parseNumber(c, c.arg(opt));
        return true;
      case '--nflog-range':
        parseNumber(c, c.arg(opt));
        return true;
      case '--nflog-prefix': {
        const t = c.arg(opt);
        if (t.text.length === 0 || t.text.length > 64) throw c.err(t, `NFLOG: --nflog-prefix must be 1 to 64 characters long`);
        tg.prefix = t.text;
        return true;
      }
      default:
        return false;
    }
  },
  render: (t) =>
    ' -j NFLOG' +
    (t.prefix !== '' ? ` --nflog-prefix ${saveString(t.prefix)}` : '') +
    (t.group !== 0 ? ` --nflog-group ${t.group}` : '') +
    (t.size !== null ? ` --nflog-size ${t.size}` : '') +
    (t.threshold !== 0 ? ` --nflog-threshold ${t.threshold}` : ''),
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
