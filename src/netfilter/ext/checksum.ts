// netfilter/ext/checksum — `-j CHECKSUM --checksum-fill` (mangle table only): fills in the checksum of a
// packet whose checksum is left to the NIC (CHECKSUM_PARTIAL), for guests that cannot take such packets —
// libvirt adds it for DHCP replies on virbr0, so real nodes' dumps carry it. podwire writes final
// checksums on every packet, so it does nothing here and the walk continues (XT_CONTINUE). Layer: netfilter
// (imports this folder). Mirrors iptables/extensions/libxt_CHECKSUM.c (the option is required: "option
// "--checksum-fill" must be specified"; save " --checksum-fill") and net/netfilter/xt_CHECKSUM.c.
import { TgCode } from '../x-tables.js';
import type { TargetExt } from './api.js';

/** The record of -j CHECKSUM. */
export interface ChecksumTarget {
  kind: 'CHECKSUM';
  fill: boolean;
}

const cont = () => TgCode.CONTINUE;

/** -j CHECKSUM. */
export const CHECKSUM: TargetExt<ChecksumTarget> = {
  name: 'CHECKSUM',
  table: 'mangle',
  init: () => ({ kind: 'CHECKSUM', fill: false }),
  parse: (tg, opt) => (opt.text === '--checksum-fill' ? ((tg.fill = true), true) : false),
  check(tg, c) {
    if (!tg.fill) throw c.errAtEnd('CHECKSUM: option "--checksum-fill" must be specified');
  },
  render: () => ' -j CHECKSUM --checksum-fill',
  compile: () => cont,
};
