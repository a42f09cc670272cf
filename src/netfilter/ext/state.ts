// netfilter/ext/state — `-m state --state STATES` (the older alias of conntrack --ctstate, without
// SNAT/DNAT). Layer: netfilter (imports this folder). Mirrors iptables/extensions/libxt_state.c and
// net/netfilter/xt_state.c.
import { CT_STATE_NAMES, type CtStateName } from '../rules.js';
import { CT_BIT, ctStateBits } from '../x-tables.js';
import { negs, parseNameList } from '../xtables.js';
import type { MatchExt } from './api.js';

/** The record of -m state. */
export interface StateMatch {
  kind: 'state';
  neg: boolean;
  states: CtStateName[];
}

/** -m state. */
export const state: MatchExt<StateMatch> = {
  name: 'state',
  init: () => ({ kind: 'state', neg: false, states: [] }),
  parse(m, opt, neg, c) {
    if (opt.text !== '--state') return false;
    m.neg = neg;
    m.states = parseNameList<CtStateName>(c, c.arg(opt), CT_STATE_NAMES.slice(0, 5), 'state');
    return true;
  },
  render: (m) => ` -m state ${negs(m.neg)}--state ${m.states.join(',')}`,
  compile(m, env) {
    let want = 0;
    for (const s of m.states) want |= CT_BIT[s];
    const neg = m.neg;
    return (c) => ((ctStateBits(c, env.conntrack) & want & 31) !== 0) !== neg;
  },
};
