// `podwire run --capture-filter` / `--snaplen`: bad values are one-line flag errors (exit 2); good
// ones override the scenario's capture options (counted with tcpdump / tshark on the written file).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../scenario/dist.js';
import { podwire } from '../scenario/cli-run.js';
import { hasTshark, tsharkRecords } from '../helpers/tshark.js';

let dir = '';
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'podwire-capflags-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;

const SCENARIO = join(ROOT, 'scenarios/pod-to-pod.yaml');

describe('capture flags', () => {
  it('a bad --capture-filter or --snaplen is one line, exit 2, before anything runs', () => {
    expect(podwire('run', SCENARIO, '--out', join(dir, 'x'), '--capture-filter', 'udp port (53')).toMatchObject({ code: 2, errLines: ['podwire: --capture-filter: expected a port from 0 to 65535, got "(" (column 10)'] });
    expect(podwire('run', SCENARIO, '--out', join(dir, 'x'), '--snaplen', '10')).toMatchObject({ code: 2, errLines: ['podwire: --snaplen: expected an integer from 64 to 262144, got 10'] });
  });

  it.skipIf(!hasTcpdump || !hasTshark())('--capture-filter and --snaplen apply to the written capture', () => {
    const out = join(dir, 'f');
    const r = podwire('run', SCENARIO, '--out', out, '--no-report', '--capture-filter', 'vxlan or arp', '--snaplen', '80');
    expect(r.code).toBe(0);
    const file = join(out, 'capture.pcapng');
    const m = /capture: .* \((\d+) packets on/.exec(r.out);
    const written = Number(m?.[1]);
    expect(written).toBeGreaterThan(0);
    const all = spawnSync('tcpdump', ['-r', file, '-n', '--count'], { encoding: 'utf8' }).stdout;
    const kept = spawnSync('tcpdump', ['-r', file, '-n', '--count', 'udp dst port 8472 or arp'], { encoding: 'utf8' }).stdout;
    expect(all).toBe(`${written} packets\n`);
    expect(kept).toBe(all);
    const recs = tsharkRecords(file, ['frame.len', 'frame.cap_len']);
    expect(recs.some((x) => Number(x['frame.len']) > 80)).toBe(true);
    for (const x of recs) expect(Number(x['frame.cap_len'])).toBe(Math.min(80, Number(x['frame.len'])));
  });
});
