// core/columns: the text tables of `inspect --services`, `--lb` and the Ingress routing table.
import { describe, expect, it } from 'vitest';
import { formatColumns } from '../../src/core/columns.js';

describe('formatColumns', () => {
  it('pads every column but the last to its widest cell + 3 spaces', () => {
    expect(formatColumns([['NAME', 'TYPE', 'PORTS'], ['web-long', 'ClusterIP', '80/TCP'], ['db', 'None', '']])).toEqual([
      'NAME       TYPE        PORTS',
      'web-long   ClusterIP   80/TCP',
      'db         None        ',
    ]);
  });
  it('a table of 300,000 rows (Math.max over its cells threw RangeError: too many arguments)', () => {
    const rows = [['NAMESPACE', 'NAME', 'CLUSTER-IP']];
    for (let i = 0; i < 300_000; i++) rows.push(['default', `svc-${i}`, `10.96.${(i >> 8) & 255}.${i & 255}`]);
    const lines = formatColumns(rows);
    expect(lines).toHaveLength(300_001);
    expect(lines[300_000]).toBe('default     svc-299999   10.96.147.223');
  });
});
