// What the report's Drops section and the run summary say was dropped: the stack's drops per host
// (counters drops/HOST) and the interfaces' own (counters if/HOST/IF: drops by drops.REASON — a netem
// fault's loss, a link down, a tc filter). scenarios/faults.yaml loses 1 % on node2/eth0 and pulls a
// veth: the report said "No packet was dropped" (it read drops/HOST only).
import { describe, expect, it } from 'vitest';
import { dropsTable } from '../../src/report/tables.js';
import { dropsOf } from '../../src/stats/drops.js';
import type { StatsDocument } from '../../src/stats/index.js';

const doc = {
  counters: {
    'drops/node1': { 'neigh-failed': 2 },
    'drops/node2': {},
    'if/node1/eth0': { drops: 0, rxBytes: 10, rxPackets: 1, txBytes: 10, txPackets: 1 },
    'if/node2/eth0': { drops: 33, 'drops.fault-loss': 33, rxBytes: 10, rxPackets: 1, txBytes: 10, txPackets: 1 },
    'if/node2/veth1': { drops: 95, 'drops.link-down': 90, rxBytes: 10, rxPackets: 1, txBytes: 10, txPackets: 1 },
  },
} as unknown as StatsDocument;

describe('drops in the report and the summary', () => {
  it('lists the hosts\' drops and every interface that dropped, by reason (a total without its reason as other)', () => {
    expect(dropsOf(doc)).toEqual([
      { where: 'node1', reasons: [['neigh-failed', 2]] },
      { where: 'node2/eth0', reasons: [['fault-loss', 33]] },
      { where: 'node2/veth1', reasons: [['link-down', 90], ['other', 5]] },
    ]);
    const html = dropsTable(doc);
    expect(html).not.toContain('No packet was dropped');
    expect(html).toContain('<td>node2/eth0</td><td>fault-loss <b>33</b></td>');
  });
  it('says nothing was dropped only when no host and no interface dropped', () => {
    expect(dropsTable({ counters: { 'drops/a': {}, 'if/a/eth0': { drops: 0 } } } as unknown as StatsDocument)).toContain('No packet was dropped');
  });
});
