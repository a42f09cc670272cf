// netfilter/ext/icmp — `-m icmp --icmp-type TYPE[/CODE]`. Layer: netfilter (imports this folder).
// Mirrors iptables/extensions/libipt_icmp.c (type names, "any" = 255) and net/netfilter/xt_tcpudp.c
// (icmp_match, icmp_type_code_match).
import type { Neg } from '../rules.js';
import { optNeg } from '../xtables.js';
import type { MatchExt } from './api.js';

/** The record of -m icmp; type 255 is "any", code null is any code. */
export interface IcmpMatch {
  kind: 'icmp';
  type: Neg<{ type: number; code: number | null }> | null;
}

const ICMP_TYPE_NAMES: Record<string, [number, number | null]> = {
  any: [255, null], 'echo-reply': [0, null], pong: [0, null], 'destination-unreachable': [3, null], 'network-unreachable': [3, 0],
  'host-unreachable': [3, 1], 'protocol-unreachable': [3, 2], 'port-unreachable': [3, 3], 'fragmentation-needed': [3, 4],
  'source-quench': [4, null], redirect: [5, null], 'echo-request': [8, null], ping: [8, null], 'time-exceeded': [11, null],
  'ttl-zero-during-transit': [11, 0], 'ttl-exceeded': [11, 0], 'parameter-problem': [12, null], 'timestamp-request': [13, null], 'timestamp-reply': [14, null],
};

/** -m icmp. */
export const icmp: MatchExt<IcmpMatch> = {
  name: 'icmp',
  init: () => ({ kind: 'icmp', type: null }),
  parse(m, opt, neg, c) {
    if (opt.text !== '--icmp-type') return false;
    const t = c.arg(opt);
    const named = ICMP_TYPE_NAMES[t.text];
    if (named) m.type = { neg, value: { type: named[0], code: named[1] } };
    else {
      const mm = /^(\d+)(?:\/(\d+))?$/.exec(t.text);
      if (!mm) throw c.err(t, `unknown ICMP type "${t.text}"`);
      m.type = { neg, value: { type: Number(mm[1]), code: mm[2] === undefined ? null : Number(mm[2]) } };
    }
    return true;
  },
  render: (m) => ` -m icmp` + optNeg(m.type, '--icmp-type', (t) => (t.type === 255 ? 'any' : t.code === null ? `${t.type}` : `${t.type}/${t.code}`)),
  compile(m) {
    const t = m.type;
    return (c) => {
      const icmp = c.pkt.icmp;
      if (!icmp) return false;
      if (!t) return true;
      const hit = t.value.type === 255 || (icmp.type === t.value.type && (t.value.code === null || icmp.code === t.value.code));
      return hit !== t.neg;
    };
  },
};
