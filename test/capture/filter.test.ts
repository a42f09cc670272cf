// Capture filter: syntax errors with their column, and semantics checked against tcpdump's own filter
// (libpcap) over the same frames: for each expression, the packets podwire's filter keeps (evaluated on
// header records at the capture point) must be exactly as many as `tcpdump -r full.pcapng EXPR` counts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureFilterError, compileCaptureFilter, interfaceGlob, type PacketPredicate } from '../../src/capture/filter.js';
import { buildWorld } from '../../src/scenario/build.js';
import { formatUserError, ScenarioError } from '../../src/scenario/errors.js';
import { loadScenarioFile, loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { ROOT } from '../integration/run-scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-filter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;

function tcpdumpCount(file: string, expr: string): number {
  const r = spawnSync('tcpdump', ['-r', file, '-n', '--count', expr], { encoding: 'utf8' });
  const m = /(\d+) packets?/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`tcpdump ${expr}: ${r.stderr}`);
  return Number(m[1]);
}

describe('capture filter syntax', () => {
  it.each([
    ['', 'empty filter (column 1)'],
    ['host', 'expected an IPv4 address at the end (column 5)'],
    ['host 10.0.0.300', 'expected an IPv4 address, got "10.0.0.300" (column 6)'],
    ['tcp and', 'expected a primitive (host, net, port, tcp, udp, icmp, arp, ip, vxlan) at the end (column 8)'],
    ['port 70000', 'expected a port from 0 to 65535, got "70000" (column 6)'],
    ['(tcp or udp', 'expected ")" at the end (column 12)'],
    ['tcp or udp)', 'unexpected ")" (column 11)'],
    ['ether host 02:00:00:00:00:01', 'unknown primitive "ether" (known: host, net, port, portrange, tcp, udp, icmp, ip, arp, vxlan, inner) (column 1)'],
    ['net 10.244.1.0/16', 'non-network bits set in "10.244.1.0/16" (column 5)'],
    ['tcp host 10.0.0.1', 'unexpected "host" (column 5)'],
    ['udp & port 53', 'unexpected "&" (column 5)'],
  ])('%j → %s', (expr, msg) => {
    expect(captureFilterError(expr)).toBe(msg);
  });
  it('accepts tcpdump spellings', () => {
    for (const e of ['tcp port 80', 'src or dst port 80', 'src and dst net 10.244', '!arp && (udp || icmp)', 'not not ip', 'vxlan 1 and inner (tcp dst port 80)', 'portrange 30000-32767']) expect(captureFilterError(e), e).toBeNull();
  });
  it('interface globs match qualified names, one path segment per *', () => {
    const g = interfaceGlob('node*/flannel.1');
    expect(['node1/flannel.1', 'node12/flannel.1', 'node1/flannel_1', 'node1/cni0', 'x/node1/flannel.1'].map(g)).toEqual([true, true, false, false, false]);
    expect(['web-a/eth0', 'node1/eth0', 'node1/eth01'].map(interfaceGlob('*/eth?'))).toEqual([true, true, false]);
  });
});

describe('capture options in a Scenario', () => {
  const doc = (capture: string) => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: f }
spec:
  cluster:
    network: { cidr: 10.0.0.0/24 }
    nodes: [{ name: node1 }, { name: node2 }]
  capture: ${capture}
`;
  function problems(capture: string): string[] {
    try {
      const w = buildWorld(loadScenarioText(doc(capture), 'bad.yaml'), 1);
      return w.captured.map((d) => d.qualifiedName);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      return e.errors.map(formatUserError);
    }
  }
  it('a bad filter is one error at the field, with the column in the expression', () => {
    expect(problems('{ filter: "tcp port 80 and hots 10.0.0.1" }')).toEqual(['bad.yaml:8:22: spec.capture.filter: unknown primitive "hots" (known: host, net, port, portrange, tcp, udp, icmp, ip, arp, vxlan, inner) (column 17)']);
  });
  it('interface globs select by qualified name; a glob matching nothing is an error at its entry', () => {
    expect(problems('{ interfaces: ["node*/eth0"] }')).toEqual(['node1/eth0', 'node2/eth0']);
    expect(problems('{ interfaces: ["node1/eth0", "nope*/eth0"] }')).toEqual(['bad.yaml:8:41: spec.capture.interfaces[1]: no interface matches nope*/eth0']);
  });
});

describe.skipIf(!hasTcpdump)('capture filter semantics = tcpdump over the same frames', () => {
  for (const scenario of ['http-clusterip', 'fragmentation', 'dns']) {
    it(scenario, () => {
      const loaded = loadScenarioFile(join(ROOT, 'scenarios', `${scenario}.yaml`));
      const world = buildWorld(loaded, 1);
      // Addresses to filter on: the two most frequent IPv4 sources seen (deterministic for a seed).
      const srcCount = new Map<number, number>();
      const exprs: string[] = [];
      const preds: PacketPredicate[] = [];
      const counts: number[] = [];
      const sample = buildWorld(loaded, 1);
      for (const d of sample.captured) d.tap.connect((_d, p) => p.ip !== null && srcCount.set(p.ip.src, (srcCount.get(p.ip.src) ?? 0) + 1));
      sample.sim.run(world.until !== null ? { until: world.until } : {});
      const [a, b] = [...srcCount].sort((x, y) => y[1] - x[1] || x[0] - y[0]).map(([ip]) => formatIpv4(ip));
      expect(a).toBeDefined();
      const A = a!;
      const B = b ?? a!;
      const hex = (ip: string) => '0x' + ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
      const table: [string, string][] = [
        ['tcp', 'tcp'], ['udp', 'udp'], ['icmp', 'icmp'], ['arp', 'arp'], ['ip', 'ip'], ['not ip', 'not ip'],
        ['port 80', 'port 80'], ['tcp port 80', 'tcp port 80'], ['udp port 53', 'udp port 53'], ['src port 80', 'src port 80'], ['dst port 53', 'dst port 53'],
        ['udp dst port 8472', 'udp dst port 8472'], ['src or dst port 80', 'src or dst port 80'], ['portrange 30000-32767', 'portrange 30000-32767'],
        [`host ${A}`, `host ${A}`], [`src host ${A}`, `src host ${A}`], [`dst host ${B}`, `dst host ${B}`], [`host ${A} and host ${B}`, `host ${A} and host ${B}`],
        ['net 10.244.0.0/16', 'net 10.244.0.0/16'], ['net 10.244', 'net 10.244'], ['src net 10.96.0.0/12 or dst net 10.96.0.0/12', 'src net 10.96.0.0/12 or dst net 10.96.0.0/12'],
        ['src and dst net 10.244.0.0/16', 'src and dst net 10.244.0.0/16'],
        ['not (tcp or udp)', 'not (tcp or udp)'], ['tcp and not port 80', 'tcp and not port 80'], [`(icmp or arp) and host ${B}`, `(icmp or arp) and host ${B}`],
        ['!tcp && !arp || icmp', '!tcp && !arp || icmp'], ['udp and not port 8472', 'udp and not port 8472'],
        // podwire's VXLAN primitives, against libpcap byte offsets (flannel's port 8472; inner EtherType at udp[28], inner IPv4 source at udp[42]).
        ['vxlan', 'udp dst port 8472'],
        [`vxlan and inner src host ${A}`, `udp dst port 8472 and udp[28:2] = 0x0800 and udp[42:4] = ${hex(A)}`],
        ['inner tcp', 'udp dst port 8472 and udp[28:2] = 0x0800 and udp[39] = 6'],
      ];
      for (const [mine] of table) {
        exprs.push(mine);
        preds.push(compileCaptureFilter(mine));
        counts.push(0);
      }
      for (const d of world.captured)
        d.tap.connect((_d, p) => {
          for (let i = 0; i < preds.length; i++) if (preds[i]!(p)) counts[i]!++;
        });
      const out = join(dir, scenario);
      const res = runWorld(world, { outDir: out, format: 'pcapng', snaplen: 262144 });
      const total = res.packetsCaptured;
      const got = table.map(([mine], i) => `${mine}: ${counts[i]}`);
      const want = table.map(([mine, theirs]) => `${mine}: ${tcpdumpCount(res.files.capture, theirs)}`);
      expect(got).toEqual(want);
      // The table is not vacuous: most expressions keep some packets and refuse others.
      const strict = counts.filter((c) => c > 0 && c < total).length;
      expect(strict).toBeGreaterThan(table.length / 3);
    });
  }

  it('a run with capture.filter writes exactly the packets tcpdump selects from the full capture', () => {
    const file = join(ROOT, 'scenarios', 'http-clusterip.yaml');
    const full = runWorld(buildWorld(loadScenarioFile(file), 7), { outDir: join(dir, 'full'), format: 'pcapng', snaplen: 262144 });
    const expr = 'tcp port 80 or arp';
    const filtered = runWorld(buildWorld(loadScenarioFile(file), 7), { outDir: join(dir, 'filtered'), format: 'pcapng', snaplen: 262144, filter: expr });
    const n = tcpdumpCount(full.files.capture, expr);
    expect(n).toBeGreaterThan(0);
    expect(filtered.packetsCaptured).toBe(n);
    expect(tcpdumpCount(filtered.files.capture, expr)).toBe(n);
    // Same frames, same order, same times: the filtered file is the full one with the others left out.
    const a = spawnSync('tcpdump', ['-r', full.files.capture, '-n', '-tt', '-xx', expr], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
    const b = spawnSync('tcpdump', ['-r', filtered.files.capture, '-n', '-tt', '-xx', expr], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
    expect(b).toBe(a);
    // Deterministic: the same run again gives the same bytes.
    const again = runWorld(buildWorld(loadScenarioFile(file), 7), { outDir: join(dir, 'again'), format: 'pcapng', snaplen: 262144, filter: expr });
    expect(spawnSync('sha256sum', [again.files.capture], { encoding: 'utf8' }).stdout.split(' ')[0]).toBe(spawnSync('sha256sum', [filtered.files.capture], { encoding: 'utf8' }).stdout.split(' ')[0]);
  });
});
