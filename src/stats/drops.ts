// stats/drops — every drop a stats.json document records, gathered for its readers (the run summary, the
// report). Layer: stats (observer; imports its own types only, so the CLI loads nothing else for it).
import type { StatsDocument } from './schema.js';

/**
 * Every drop a stats.json records, by where and why, for the summary and the report: the stack's per host
 * (`drops/HOST`: routing, netfilter, ARP, checksums) and the interfaces' own (`if/HOST/IF` drops by
 * `drops.REASON`: a qdisc or netem fault's loss, a link down, a tc filter, a full queue), in counter order;
 * places without a drop are left out.
 */
export function dropsOf(doc: Pick<StatsDocument, 'counters'>): { where: string; reasons: [string, number][] }[] {
  const out: { where: string; reasons: [string, number][] }[] = [];
  for (const [group, v] of Object.entries(doc.counters)) {
    if (group.startsWith('drops/') && Object.keys(v).length > 0) out.push({ where: group.slice(6), reasons: Object.entries(v) });
    else if (group.startsWith('if/') && (v['drops'] ?? 0) > 0) {
      const reasons = Object.entries(v).filter(([k]) => k.startsWith('drops.')).map(([k, n]): [string, number] => [k.slice(6), n]);
      const known = reasons.reduce((a, [, n]) => a + n, 0);
      if (known < v['drops']!) reasons.push(['other', v['drops']! - known]);
      out.push({ where: group.slice(3), reasons });
    }
  }
  return out;
}
