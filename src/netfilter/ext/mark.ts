// netfilter/ext/mark — `-m mark --mark V[/M]` and `-j MARK`. Layer: netfilter (imports this folder).
// Mirrors iptables/extensions/libxt_mark.c, libxt_MARK.c (revision 2: every form is saved as
// --set-xmark value/mask) and net/netfilter/xt_mark.c (mark_mt, mark_tg: skb->mark = (mark & ~mask) ^ value).
import { TgCode } from '../x-tables.js';
import { hex, negs, parseMarkMask, parseNumber, type Cursor, type Token } from '../xtables.js';
import type { MatchExt, TargetExt } from './api.js';

/** The record of -m mark. */
export interface MarkMatch {
  kind: 'mark';
  neg: boolean;
  value: number;
  mask: number;
}

/** The record of -j MARK (canonical --set-xmark form). */
export interface MarkTarget {
  kind: 'MARK';
  value: number;
  mask: number;
}

/** `--mark V[/M]` with an optional "!", as libxt_mark.c and libxt_connmark.c both parse it. */
export function parseMarkOption(m: { neg: boolean; value: number; mask: number }, opt: Token, neg: boolean, c: Cursor): boolean {
  if (opt.text !== '--mark') return false;
  const { value, mask } = parseMarkMask(c, c.arg(opt));
  m.neg = neg;
  m.value = value;
  m.mask = mask;
  return true;
}

/** ` -m NAME [! ]--mark V[/M]` as iptables-save prints it (the mask only when not all ones). */
export function renderMarkOption(name: string, m: { neg: boolean; value: number; mask: number }): string {
  return ` -m ${name} ${negs(m.neg)}--mark ${hex(m.value)}${m.mask === 0xffffffff ? '' : `/${hex(m.mask)}`}`;
}

/** -m mark. */
export const mark: MatchExt<MarkMatch> = {
  name: 'mark',
  init: () => ({ kind: 'mark', neg: false, value: 0, mask: 0xffffffff }),
  parse: parseMarkOption,
  render: (m) => renderMarkOption('mark', m),
  compile(m) {
    const { value, mask, neg } = m;
    return (c) => ((c.pkt.mark & mask) >>> 0 === value) !== neg;
  },
};

/** -j MARK. */
export const MARK: TargetExt<MarkTarget> = {
  name: 'MARK',
  table: null,
  init: () => ({ kind: 'MARK', value: 0, mask: 0 }),
  parse(t, opt, c) {
    const o = opt.text;
    if (o === '--set-xmark') return Object.assign(t, parseMarkMask(c, c.arg(opt))), true;
    if (o === '--set-mark') {
      const { value, mask } = parseMarkMask(c, c.arg(opt));
      return Object.assign(t, { value, mask: (mask | value) >>> 0 }), true;
    }
    if (o === '--and-mark') return Object.assign(t, { value: 0, mask: ~parseNumber(c, c.arg(opt)) >>> 0 }), true;
    if (o === '--or-mark') {
      const v = parseNumber(c, c.arg(opt));
      return Object.assign(t, { value: v, mask: v }), true;
    }
    if (o === '--xor-mark') return Object.assign(t, { value: parseNumber(c, c.arg(opt)), mask: 0 }), true;
    return false;
  },
  render: (t) => ` -j MARK --set-xmark ${hex(t.value)}/${hex(t.mask)}`,
  compile(t) {
    const { value, mask } = t;
    return (c) => {
      c.pkt.mark = ((c.pkt.mark & ~mask) ^ value) >>> 0;
      return TgCode.CONTINUE;
    };
  },
};
