// netfilter/ct-format — the conntrack table as `conntrack -L` (conntrack-tools) prints it, and its
// statistics as `conntrack -S` does. Layer: netfilter. Mirrors conntrack-tools' default output format,
// ctnetlink_dump_table's skipping of expired entries and of entries hashed by their REPLY tuple only
// (a confirm clash's loser, IPS_NAT_CLASH), and conntrack-tools' nfct_stats_cb (one line per CPU).
import type { Conntrack } from './conntrack.js';
import { CtStatus, type ConnEntry } from './ct-entry.js';
import type { CtTuple } from './ct-tuple.js';
import { SEC, type TimeNs } from '../core/time.js';
import { IpProto } from '../wire/types.js';
import { formatIpv4 } from '../wire/ipv4-addr.js';

const PROTO_LABEL: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 132: 'sctp' };

function tupleText(t: CtTuple): string {
  if (t.proto === IpProto.ICMP) return `src=${formatIpv4(t.src)} dst=${formatIpv4(t.dst)} type=${t.dport >> 8} code=${t.dport & 255} id=${t.sport}`;
  if (t.proto === IpProto.TCP || t.proto === IpProto.UDP || t.proto === IpProto.SCTP) return `src=${formatIpv4(t.src)} dst=${formatIpv4(t.dst)} sport=${t.sport} dport=${t.dport}`;
  return `src=${formatIpv4(t.src)} dst=${formatIpv4(t.dst)}`;
}

/** One line as `conntrack -L` prints an entry (conntrack-tools' default output format). */
export function formatConntrackEntry(ct: ConnEntry, now: TimeNs): string {
  const o = ct.orig;
  const name = PROTO_LABEL[o.proto] ?? 'unknown';
  const secs = Math.max(0, Math.floor((ct.expires - now) / SEC));
  let s = `${name.padEnd(8)} ${o.proto} ${secs} `;
  if (o.proto === IpProto.TCP) s += `${ct.tcpState} `;
  s += tupleText(o);
  if (!(ct.status & CtStatus.SEEN_REPLY)) s += ' [UNREPLIED]';
  s += ` ${tupleText(ct.reply)}`;
  if (ct.status & CtStatus.ASSURED) s += ' [ASSURED]';
  s += ` mark=${ct.mark} use=1`;
  return s;
}

/** The whole table as `conntrack -L` lists it. */
export function formatConntrackTable(table: Conntrack, now: TimeNs): string {
  // ctnetlink_dump_table skips (and evicts) expired entries the gc worker has not reaped yet, and walks
  // the hash by ORIGINAL tuples only: a NAT_CLASH entry, hashed by its REPLY tuple alone
  // (nf_ct_resolve_clash_harder), is never listed though `conntrack -C` counts it.
  return table
    .list()
    .filter((ct) => ct.expires > now && !(ct.status & CtStatus.NAT_CLASH))
    .map((ct) => `${formatConntrackEntry(ct, now)}\n`)
    .join('');
}

/**
 * `conntrack -S`: the per-CPU statistics ctnetlink sends (IPCTNL_MSG_CT_GET_STATS_CPU), printed as
 * conntrack-tools' nfct_stats_cb does (`cpu=%-4u\t` then `name=value ` per attribute, in attribute
 * order). One CPU here. The counters podwire keeps are insert_failed, drop, early_drop and
 * clash_resolve; insert (entries added through ctnetlink, nf_conntrack_hash_check_insert: none here) is
 * 0, and so are found, invalid, error, search_restart and chaintoolong, which podwire does not count.
 */
export function formatConntrackStats(table: Conntrack): string {
  const s = table.stats;
  return `cpu=0   \tfound=0 invalid=0 insert=0 insert_failed=${s.insert_failed} drop=${s.drop} early_drop=${s.early_drop} error=0 search_restart=0 clash_resolve=${s.clash_resolve} chaintoolong=0 \n`;
}
