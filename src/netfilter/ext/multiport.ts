// netfilter/ext/multiport — `-m multiport --sports/--dports/--ports LIST` (up to 15 ports or ranges).
// Layer: netfilter (imports this folder). Mirrors iptables/extensions/libxt_multiport.c (revision 1)
// and net/netfilter/xt_multiport.c (ports_match_v1).
import type { PortRange } from '../rules.js';
import { dstPort, inRange, srcPort } from '../x-tables.js';
import { negs, parsePortRange, portStr } from '../xtables.js';
import type { MatchExt } from './api.js';

/** The record of -m multiport. */
export interface MultiportMatch {
  kind: 'multiport';
  option: 'sports' | 'dports' | 'ports';
  neg: boolean;
  ports: PortRange[];
}

const OPTIONS = new Set(['--dports', '--destination-ports', '--sports', '--source-ports', '--ports']);

/** -m multiport. */
export const multiport: MatchExt<MultiportMatch> = {
  name: 'multiport',
  init: () => ({ kind: 'multiport', option: 'dports', neg: false, ports: [] }),
  parse(m, opt, neg, c) {
    const o = opt.text;
    if (!OPTIONS.has(o)) return false;
    const t = c.arg(opt);
    m.option = o.startsWith('--d') ? 'dports' : o.startsWith('--s') ? 'sports' : 'ports';
    m.neg = neg;
    m.ports = t.text.split(',').map((p) => parsePortRange(c, { ...t, text: p }));
    if (m.ports.length > 15) throw c.err(t, 'too many ports specified (multiport allows 15)');
    return true;
  },
  check(m, c) {
    if (m.ports.length === 0) throw c.errAtEnd('multiport needs --dports, --sports or --ports');
  },
  render: (m) => ` -m multiport ${negs(m.neg)}--${m.option} ${m.ports.map((p) => portStr(p)).join(',')}`,
  compile(m) {
    const { option, ports, neg } = m;
    return (c) => {
      const s = srcPort(c.pkt);
      const d = dstPort(c.pkt);
      if (s === undefined || d === undefined) return false;
      const hit = ports.some((r) => (option === 'sports' ? inRange(r, s) : option === 'dports' ? inRange(r, d) : inRange(r, s) || inRange(r, d)));
      return hit !== neg;
    };
  },
};
