// netfilter/ext/addrtype — `-m addrtype --src-type/--dst-type TYPES`. Layer: netfilter (imports this
// folder). Mirrors iptables/extensions/libxt_addrtype.c and net/netfilter/xt_addrtype.c.
// Not modelled: addrtype knows LOCAL (from the host), BROADCAST (255.255.255.255), MULTICAST (224/4),
// UNSPEC (0.0.0.0) and UNICAST (the rest), and treats --limit-iface-in/out as the whole namespace.
import { ADDR_TYPE_NAMES, type AddrTypeName, type Neg } from '../rules.js';
import type { MatchEnv } from '../x-tables.js';
import { optNeg, parseNameList } from '../xtables.js';
import type { MatchExt } from './api.js';

/** The record of -m addrtype. */
export interface AddrtypeMatch {
  kind: 'addrtype';
  srcType: Neg<AddrTypeName[]> | null;
  dstType: Neg<AddrTypeName[]> | null;
  limitIfaceIn: boolean;
  limitIfaceOut: boolean;
}

function addrType(ip: number, env: MatchEnv): AddrTypeName {
  if (ip === 0) return 'UNSPEC';
  if (env.isLocalAddress(ip)) return 'LOCAL';
  if (ip === 0xffffffff) return 'BROADCAST';
  if (ip >>> 28 === 14) return 'MULTICAST';
  return 'UNICAST';
}

/** -m addrtype. */
export const addrtype: MatchExt<AddrtypeMatch> = {
  name: 'addrtype',
  init: () => ({ kind: 'addrtype', srcType: null, dstType: null, limitIfaceIn: false, limitIfaceOut: false }),
  parse(m, opt, neg, c) {
    const o = opt.text;
    if (o === '--src-type') return (m.srcType = { neg, value: parseNameList<AddrTypeName>(c, c.arg(opt), ADDR_TYPE_NAMES, 'address type') }), true;
    if (o === '--dst-type') return (m.dstType = { neg, value: parseNameList<AddrTypeName>(c, c.arg(opt), ADDR_TYPE_NAMES, 'address type') }), true;
    if (o === '--limit-iface-in') return (m.limitIfaceIn = true), true;
    if (o === '--limit-iface-out') return (m.limitIfaceOut = true), true;
    return false;
  },
  render: (m) =>
    ` -m addrtype` +
    optNeg(m.srcType, '--src-type', (v) => v.join(',')) +
    optNeg(m.dstType, '--dst-type', (v) => v.join(',')) +
    (m.limitIfaceIn ? ' --limit-iface-in' : '') +
    (m.limitIfaceOut ? ' --limit-iface-out' : ''),
  compile(m, env) {
    const { srcType, dstType } = m;
    return (c) => {
      if (srcType && srcType.value.includes(addrType(c.ip.src, env)) === srcType.neg) return false;
      if (dstType && dstType.value.includes(addrType(c.ip.dst, env)) === dstType.neg) return false;
      return true;
    };
  },
};
