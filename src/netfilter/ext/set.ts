// netfilter/ext/set — `-m set [!] --match-set NAME src|dst[,src|dst...]`: membership in an ip set of
// the namespace (netfilter/ipset.ts). Layer: netfilter (imports this folder). Mirrors
// iptables/extensions/libxt_set.c (revision 4 save form) and net/netfilter/xt_set.c (set_match_v4 →
// ip_set_test). The flags are compiled once into ipset's dimension/direction word.
// Not modelled: --return-nomatch, --update-counters and the counter comparisons.
import { ipsetFlags } from '../ipset.js';
import { NfEvalError } from '../x-tables.js';
import { negs } from '../xtables.js';
import type { MatchExt } from './api.js';

/** The record of -m set. */
export interface SetMatch {
  kind: 'set';
  neg: boolean;
  name: string;
  flags: string[];
}

/** -m set. */
export const set: MatchExt<SetMatch> = {
  name: 'set',
  init: () => ({ kind: 'set', neg: false, name: '', flags: [] }),
  parse(m, opt, neg, c) {
    if (opt.text !== '--match-set') return false;
    m.neg = neg;
    m.name = c.arg(opt).text;
    const ft = c.arg(opt);
    m.flags = ft.text.split(',');
    if (ipsetFlags(m.flags) < 0) throw c.err(ft, `invalid --match-set flags "${ft.text}" (1 to 6 of src/dst)`);
    return true;
  },
  check(m, c) {
    if (m.name === '') throw c.errAtEnd('set needs --match-set');
  },
  render: (m) => ` -m set ${negs(m.neg)}--match-set ${m.name} ${m.flags.join(',')}`,
  compile(m, env) {
    const { name, neg } = m;
    const flags = ipsetFlags(m.flags);
    return (c) => {
      const r = env.ipsets.test(name, flags, c.pkt);
      if (r === undefined) throw new NfEvalError(`-m set: unknown set "${name}"`);
      return r !== neg;
    };
  },
};
