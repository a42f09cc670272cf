// netfilter/ext/masquerade — `-j MASQUERADE [--to-ports P[-P]] [--random] [--random-fully]`.
// Layer: netfilter (imports this folder). Mirrors iptables/extensions/libipt_MASQUERADE.c and
// net/netfilter/xt_MASQUERADE.c + nf_nat_masquerade.c (the address is the route's preferred source,
// asked through TargetEnv.masqueradeAddress). Not modelled: device events flushing masqueraded entries.
import type { PortRange } from '../rules.js';
import { NatManip } from '../conntrack.js';
import { TgCode } from '../x-tables.js';
import { parsePortRange, portStr } from '../xtables.js';
import type { TargetExt } from './api.js';
import { needManip } from './nat.js';

/** The record of -j MASQUERADE. */
export interface MasqueradeTarget {
  kind: 'MASQUERADE';
  ports: PortRange | null;
  random: boolean;
  randomFully: boolean;
}

/** -j MASQUERADE (nat table). */
export const MASQUERADE: TargetExt<MasqueradeTarget> = {
  name: 'MASQUERADE',
  table: 'nat',
  init: () => ({ kind: 'MASQUERADE', ports: null, random: false, randomFully: false }),
  parse(tg, opt, c) {
    const o = opt.text;
    if (o === '--to-ports') return (tg.ports = parsePortRange(c, c.arg(opt), '-')), true;
    if (o === '--random') return (tg.random = true), true;
    if (o === '--random-fully') return (tg.randomFully = true), true;
    return false;
  },
  render: (t) => ` -j MASQUERADE${t.ports ? ` --to-ports ${portStr(t.ports, '-')}` : ''}${t.random ? ' --random' : ''}${t.randomFully ? ' --random-fully' : ''}`,
  compile(t) {
    const { ports, random, randomFully } = t;
    return (c, env) => {
      needManip(env, NatManip.SRC, 'MASQUERADE');
      const ct = env.conntrack.ctOf(c.pkt);
      if (!ct) return TgCode.ACCEPT;
      const addr = env.masqueradeAddress(c.outIf, c.ip.dst);
      if (addr === null) {
        env.dropReason = 'masquerade-no-address';
        return TgCode.DROP;
      }
      if (!env.conntrack.setupNat(ct, NatManip.SRC, { minIp: addr, maxIp: addr, ports, random, randomFully, persistent: false }, c.now)) {
        env.dropReason = 'nat-no-unique-tuple';
        return TgCode.DROP;
      }
      return TgCode.ACCEPT;
    };
  },
};
