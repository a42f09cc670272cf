// netfilter/ext/reject — `-j REJECT --reject-with TYPE`. Layer: netfilter (imports this folder).
// Mirrors iptables/extensions/libipt_REJECT.c (names and aliases) and net/ipv4/netfilter/ipt_REJECT.c.
// The verdict carries what to send; the net layer emits it (nf_reject_ipv4.c).
import type { RejectWith } from '../rules.js';
import { TgCode } from '../x-tables.js';
import type { TargetExt } from './api.js';

/** The record of -j REJECT. */
export interface RejectTarget {
  kind: 'REJECT';
  with: RejectWith;
}

const REJECT_ALIASES: Record<string, RejectWith> = {
  'icmp-net-unreachable': 'icmp-net-unreachable', 'net-unreach': 'icmp-net-unreachable',
  'icmp-host-unreachable': 'icmp-host-unreachable', 'host-unreach': 'icmp-host-unreachable',
  'icmp-port-unreachable': 'icmp-port-unreachable', 'port-unreach': 'icmp-port-unreachable',
  'icmp-proto-unreachable': 'icmp-proto-unreachable', 'proto-unreach': 'icmp-proto-unreachable',
  'icmp-net-prohibited': 'icmp-net-prohibited', 'net-prohib': 'icmp-net-prohibited',
  'icmp-host-prohibited': 'icmp-host-prohibited', 'host-prohib': 'icmp-host-prohibited',
  'icmp-admin-prohibited': 'icmp-admin-prohibited', 'admin-prohib': 'icmp-admin-prohibited',
  'tcp-reset': 'tcp-reset', 'tcp-rst': 'tcp-reset',
};

/** -j REJECT. */
export const REJECT: TargetExt<RejectTarget> = {
  name: 'REJECT',
  table: null,
  init: () => ({ kind: 'REJECT', with: 'icmp-port-unreachable' }),
  parse(tg, opt, c) {
    if (opt.text !== '--reject-with') return false;
    const t = c.arg(opt);
    const w = REJECT_ALIASES[t.text];
    if (!w) throw c.err(t, `unknown --reject-with "${t.text}"`);
    tg.with = w;
    return true;
  },
  render: (t) => ` -j REJECT --reject-with ${t.with}`,
  compile: () => () => TgCode.REJECT,
};
