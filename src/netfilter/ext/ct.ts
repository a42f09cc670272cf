// netfilter/ext/ct — `-j CT --notrack` and the older `-j NOTRACK` (raw table): the packet is not
// tracked. Layer: netfilter (imports this folder). Mirrors iptables/extensions/libxt_CT.c,
// libxt_NOTRACK.c and net/netfilter/xt_CT.c (notrack_tg). Not modelled: CT --zone, --helper, --timeout.
import { TgCode, type TargetFn } from '../x-tables.js';
import { noOptions, type TargetExt } from './api.js';

/** The record of -j CT (only --notrack). */
export interface CtTarget {
  kind: 'CT';
  notrack: true;
}
/** The record of -j NOTRACK. */
export interface NotrackTarget {
  kind: 'NOTRACK';
}

const untrack: TargetFn = (c, env) => {
  c.pkt.ct = env.conntrack.untracked;
  return TgCode.CONTINUE;
};

/** -j CT --notrack (raw table). */
export const CT: TargetExt<CtTarget> = {
  name: 'CT',
  table: 'raw',
  init: () => ({ kind: 'CT', notrack: true }),
  parse: (_t, opt) => opt.text === '--notrack',
  render: () => ' -j CT --notrack',
  compile: () => untrack,
};

/** -j NOTRACK (raw table). */
export const NOTRACK: TargetExt<NotrackTarget> = {
  name: 'NOTRACK',
  table: 'raw',
  init: () => ({ kind: 'NOTRACK' }),
  parse: noOptions,
  render: () => ' -j NOTRACK',
  compile: () => untrack,
};
