// netfilter/ext/connmark — `-m connmark --mark V[/M]` and `-j CONNMARK` (set / save / restore).
// Layer: netfilter (imports this folder). Mirrors iptables/extensions/libxt_connmark.c,
// libxt_CONNMARK.c (revision 1 save forms) and net/netfilter/xt_connmark.c (connmark_mt, connmark_tg).
import { TgCode } from '../x-tables.js';
import { hex, parseMarkMask, parseNumber } from '../xtables.js';
import type { MatchExt, TargetExt } from './api.js';
import { parseMarkOption, renderMarkOption } from './mark.js';

/** The record of -m connmark. */
export interface ConnmarkMatch {
  kind: 'connmark';
  neg: boolean;
  value: number;
  mask: number;
}

/** The record of -j CONNMARK. */
export type ConnmarkTarget =
  | { kind: 'CONNMARK'; mode: 'set'; value: number; mask: number }
  | { kind: 'CONNMARK'; mode: 'save' | 'restore'; nfmask: number; ctmask: number };

/** -m connmark. */
export const connmark: MatchExt<ConnmarkMatch> = {
  name: 'connmark',
  init: () => ({ kind: 'connmark', neg: false, value: 0, mask: 0xffffffff }),
  parse: parseMarkOption,
  render: (m) => renderMarkOption('connmark', m),
  compile(m, env) {
    const { value, mask, neg } = m;
    return (c) => {
      const ct = env.conntrack.ctOf(c.pkt);
      return (((ct ? ct.mark : 0) & mask) >>> 0 === value) !== neg;
    };
  },
};

/** -j CONNMARK. */
export const CONNMARK: TargetExt<ConnmarkTarget> = {
  name: 'CONNMARK',
  table: null,
  init: () => ({ kind: 'CONNMARK', mode: 'set', value: 0, mask: 0 }),
  parse(tg, opt, c) {
    const o = opt.text;
    if (o === '--set-xmark' || o === '--set-mark') {
      const { value, mask } = parseMarkMask(c, c.arg(opt));
      Object.assign(tg, { mode: 'set', value, mask: o === '--set-mark' ? (mask | value) >>> 0 : mask });
      delete (tg as { nfmask?: number }).nfmask;
      delete (tg as { ctmask?: number }).ctmask;
      return true;
    }
    if (o === '--save-mark' || o === '--restore-mark') {
      const t = tg as Record<string, unknown>;
      delete t.value;
      delete t.mask;
      Object.assign(t, { mode: o === '--save-mark' ? 'save' : 'restore', nfmask: 0xffffffff, ctmask: 0xffffffff });
      return true;
    }
    if ((o === '--nfmask' || o === '--ctmask') && tg.mode !== 'set') {
      const v = parseNumber(c, c.arg(opt));
      if (o === '--nfmask') tg.nfmask = v;
      else tg.ctmask = v;
      return true;
    }
    if (o === '--mask' && tg.mode !== 'set') {
      const v = parseNumber(c, c.arg(opt));
      tg.nfmask = v;
      tg.ctmask = v;
      return true;
    }
    return false;
  },
  render: (t) =>
    t.mode === 'set'
      ? ` -j CONNMARK --set-xmark ${hex(t.value)}/${hex(t.mask)}`
      : ` -j CONNMARK --${t.mode}-mark --nfmask ${hex(t.nfmask)} --ctmask ${hex(t.ctmask)}`,
  compile(t) {
    if (t.mode === 'set') {
      const { value, mask } = t;
      return (c, env) => {
        const ct = env.conntrack.ctOf(c.pkt);
        if (ct) ct.mark = ((ct.mark & ~mask) ^ value) >>> 0;
        return TgCode.CONTINUE;
      };
    }
    const { nfmask, ctmask } = t;
    const save = t.mode === 'save';
    return (c, env) => {
      const ct = env.conntrack.ctOf(c.pkt);
      if (!ct) return TgCode.CONTINUE;
      if (save) ct.mark = ((ct.mark & ~ctmask) ^ (c.pkt.mark & nfmask)) >>> 0;
      else c.pkt.mark = ((c.pkt.mark & ~nfmask) ^ (ct.mark & ctmask)) >>> 0;
      return TgCode.CONTINUE;
    };
  },
};
