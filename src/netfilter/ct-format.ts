// netfilter/ct-format — the conntrack table as `conntrack -L` (conntrack-tools) prints it. Layer:
// netfilter. Mirrors conntrack-tools' default output format and ctnetlink_dump_table's skipping of
// expired entries.
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
  // ctnetlink_dump_table skips (and evicts) expired entries the gc worker has not reaped yet.
  return table
    .list()
    .filter((ct) => ct.expires > now)
    .map((ct) => `${formatConntrackEntry(ct, now)}\n`)
    .join('');
}
