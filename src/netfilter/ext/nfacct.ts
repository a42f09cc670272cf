// netfilter/ext/nfacct — `-m nfacct --nfacct-name NAME`: counts into a named accounting object and
// always matches (podwire keeps no nfacct objects). Layer: netfilter (imports this folder).
// Mirrors iptables/extensions/libxt_nfacct.c and net/netfilter/xt_nfacct.c.
import type { MatchExt } from './api.js';

/** The record of -m nfacct. */
export interface NfacctMatch {
  kind: 'nfacct';
  name: string;
}

/** -m nfacct. */
export const nfacct: MatchExt<NfacctMatch> = {
  name: 'nfacct',
  init: () => ({ kind: 'nfacct', name: '' }),
  parse: (m, opt, _neg, c) => (opt.text === '--nfacct-name' ? ((m.name = c.arg(opt).text), true) : false),
  // libxt_nfacct prints "--nfacct-name " and then xtables_save_string adds its own leading space.
  render: (m) => ` -m nfacct --nfacct-name  ${m.name}`,
  compile: () => null,
};
