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

/** The bit of each address type in a compiled match's masks (its index in ADDR_TYPE_NAMES). */
const TYPE_BIT: Readonly<Record<AddrTypeName, number>> = Object.fromEntries(ADDR_TYPE_NAMES.map((n, i) => [n, 1 << i])) as Record<AddrTypeName, number>;
const [UNSPEC, UNICAST, LOCAL, BROADCAST, MULTICAST] = [TYPE_BIT.UNSPEC, TYPE_BIT.UNICAST, TYPE_BIT.LOCAL, TYPE_BIT.BROADCAST, TYPE_BIT.MULTICAST];

/** The type of `ip` as its bit (TYPE_BIT): UNSPEC before LOCAL is asked, LOCAL before BROADCAST and MULTICAST. */
function addrTypeBit(ip: number, env: MatchEnv): number {
  if (ip === 0) return UNSPEC;
  if (env.isLocalAddress(ip)) return LOCAL;
  if (ip === 0xffffffff) return BROADCAST;
  if (ip >>> 28 === 14) return MULTICAST;
  return UNICAST;
}

/** The mask of a type list (0: none, or an empty list). */
function maskOf(types: Neg<AddrTypeName[]> | null): number {
  let m = 0;
  if (types !== null) for (const t of types.value) m |= TYPE_BIT[t];
  return m;
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
    // The lists as bit masks and the negations as booleans, captured as numbers: a call reads the closure's
    // context alone, not the list records, their arrays and each name string's map (`includes` over strings).
    // In a big cluster the call (KUBE-SERVICES' last rule, an indexed chain's wild rule, on every new
    // connection) finds those objects cold.
    const src = m.srcType !== null;
    const dst = m.dstType !== null;
    const srcMask = maskOf(m.srcType);
    const dstMask = maskOf(m.dstType);
    const srcNeg = m.srcType !== null && m.srcType.neg;
    const dstNeg = m.dstType !== null && m.dstType.neg;
    return (c) => {
      if (src && ((addrTypeBit(c.ip.src, env) & srcMask) !== 0) === srcNeg) return false;
      if (dst && ((addrTypeBit(c.ip.dst, env) & dstMask) !== 0) === dstNeg) return false;
      return true;
    };
  },
};
