// netfilter/ext/rpfilter — `-m rpfilter [--loose] [--validmark] [--accept-local] [--invert]`: reverse path
// filtering as a rule (raw and mangle tables, PREROUTING). Calico puts `-m rpfilter --validmark --invert -j DROP`
// in every node's raw PREROUTING for packets from workload interfaces. Layer: netfilter (imports this folder).
// Mirrors iptables/extensions/libxt_rpfilter.c (options; save order --loose --validmark --accept-local
// --invert) and net/ipv4/netfilter/ipt_rpfilter.c (rpfilter_mt, rpfilter_lookup_reverse):
//   - a packet that came in on the loopback device matches (true ^ invert), as does one from 0.0.0.0 to the
//     limited broadcast or a local multicast group (DHCP);
//   - otherwise the route back to its source is looked up: none, or one neither unicast nor (with
//     --accept-local) local, fails; else it matches when that route leaves by the interface the packet came
//     in on, or always with --loose; --invert flips the result.
// Not modelled: policy routing (so --validmark, the mark in the lookup, changes nothing), the TOS in the
// lookup, VRF (l3mdev), and the hook check (the kernel refuses the match outside PREROUTING; podwire loads it).
import type { MatchExt } from './api.js';

/** The record of -m rpfilter. */
export interface RpfilterMatch {
  kind: 'rpfilter';
  loose: boolean;
  validmark: boolean;
  acceptLocal: boolean;
  invert: boolean;
}

const FLAGS = { '--loose': 'loose', '--validmark': 'validmark', '--accept-local': 'acceptLocal', '--invert': 'invert' } as const;

/** 0.0.0.0/8. */
const isZeronet = (a: number) => a >>> 24 === 0;
/** 255.255.255.255 or 224.0.0.0/24 (ipv4_is_lbcast, ipv4_is_local_multicast). */
const isLbcastOrLocalMcast = (a: number) => a >>> 0 === 0xffffffff || a >>> 8 === 0xe00000;

/** -m rpfilter. */
export const rpfilter: MatchExt<RpfilterMatch> = {
  name: 'rpfilter',
  tables: ['raw', 'mangle'],
  hooks: ['PREROUTING'], // rpfilter_mt_reg.hooks: a rule in a chain OUTPUT reaches is refused (EINVAL)
  init: () => ({ kind: 'rpfilter', loose: false, validmark: false, acceptLocal: false, invert: false }),
  parse(m, opt, neg, c) {
    const f = FLAGS[opt.text as keyof typeof FLAGS];
    if (f === undefined) return false;
    if (neg) throw c.err(opt, `rpfilter: "!" not allowed before ${opt.text}`);
    m[f] = true;
    return true;
  },
  render: (m) => ' -m rpfilter' + (m.loose ? ' --loose' : '') + (m.validmark ? ' --validmark' : '') + (m.acceptLocal ? ' --accept-local' : '') + (m.invert ? ' --invert' : ''),
  compile(m, env) {
    const { loose, acceptLocal, invert } = m;
    return (c) => {
      const inIf = c.inIf;
      if (inIf === 'lo') return !invert;
      if (isZeronet(c.ip.src) && isLbcastOrLocalMcast(c.ip.dst)) return !invert;
      const r = env.reverseRoute(c.ip.src);
      if (r === null || (r.type !== 'unicast' && !(r.type === 'local' && acceptLocal))) return invert;
      return (r.dev === inIf || loose) !== invert;
    };
  },
};
