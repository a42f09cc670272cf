// The `podwire` CLI as a user meets it: spawned as `node dist/src/cli/main.js`, bad input gives one
// line per problem on stderr, exit 1, and no stack trace; bad flags exit 2.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, ROOT } from './dist.js';
import { expectNoStack, podwire } from './cli-run.js';

let dir = '';

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'podwire-cli-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const HEAD = 'apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata:\n  name: t\nspec:\n';

/** No line looks like a JavaScript stack frame or an internal error. */

describe('podwire CLI', () => {
  it('validate: a file with two problems prints exactly two lines, exits 1, no stack trace', () => {
    const p = file('two.yaml', HEAD + '  hosts:\n    - name: a\n      colour: blue\n    - name: B\n');
    const r = podwire('validate', p);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([`${p}:8:7: spec.hosts[0].colour: unknown field "colour"`, `${p}:9:13: spec.hosts[1].name: expected a lower-case DNS label (a-z, 0-9, "-", ".")`]);
    expect(r.out).toBe('');
    expectNoStack(r.err);
  });

  it('run: a semantic error (unknown host) is one line, exit 1, and no output files', () => {
    const p = file('ghost.yaml', HEAD + '  hosts:\n    - name: a\n  veths:\n    - ends: [a/eth0, ghost/eth0]\n');
    const out = join(dir, 'out-ghost');
    const r = podwire('run', p, '--out', out);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([`${p}:9:22: spec.veths[0].ends[1]: unknown host "ghost" (declare it under spec.hosts)`]);
    expect(existsSync(join(out, 'capture.pcapng'))).toBe(false);
    expect(existsSync(join(out, 'stats.json'))).toBe(false);
    expectNoStack(r.err);
  });

  it('run: a YAML syntax error is reported as file:line:col, exit 1', () => {
    const p = file('syntax.yaml', HEAD + '  hosts:\n    - name: a\n     bad: [\n');
    const r = podwire('run', p, '--out', join(dir, 'o'));
    expect(r.code).toBe(1);
    expect(r.errLines[0]).toBe(`${p}:8:1: YAML: Sequence item without - indicator`);
    for (const l of r.errLines) expect(l).toMatch(/^\S+:\d+:\d+: /);
    expectNoStack(r.err);
  });

  it('a missing file is one line, exit 1', () => {
    const p = join(dir, 'does-not-exist.yaml');
    const r = podwire('validate', p);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([`${p}:1:1: no such file`]);
  });

  it('an unknown flag exits 2 with one line', () => {
    const r = podwire('run', 'scenarios/docker0-bridge.yaml', '--bogus');
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual(['podwire: Unknown argument: bogus']);
  });

  it('a bad --until exits 2 naming the flag', () => {
    const r = podwire('run', 'scenarios/docker0-bridge.yaml', '--until', 'banana', '--out', join(dir, 'o2'));
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual(['podwire: --until: expected a duration like 10ms, 1.5s, 250us, got "banana"']);
  });

  // A scenario's durations were held to 100 days and 1ns; the same durations as flags were not.
  it('duration flags have the limits and words of a scenario\'s durations (exit 2, naming the flag)', () => {
    const over = 'at most 100 days (the simulated clock counts integer nanoseconds)';
    const f = file('long.yaml', `${HEAD}  duration: 2401h\n  hosts: [{ name: h1 }]\n`);
    expect(podwire('validate', f).errLines).toEqual([`${f}:6:13: spec.duration: ${over}`]);
    const s = 'scenarios/docker0-bridge.yaml';
    const cases: [string[], string][] = [
      [['run', s, '--out', join(dir, 'o-dur'), '--until', '2401h'], `--until: ${over}, got "2401h"`],
      [['run', s, '--out', join(dir, 'o-dur'), '--max-sim-time', '1e300s'], '--max-sim-time: expected a duration like 10ms, 1.5s, 250us, got "1e300s"'],
      [['run', s, '--out', join(dir, 'o-dur'), '--until', '0.4ns'], '--until: below the clock resolution of 1ns, got "0.4ns"'],
      [['inspect', s, '--node', 'h1', '--until', '200000h'], `--until: ${over}, got "200000h"`],
      [['trace', s, '--from', 'c1', '--to', '10.0.0.1:80', '--at', '9000000s'], `--at: ${over}, got "9000000s"`],
    ];
    for (const [args, line] of cases) {
      const r = podwire(...args);
      expect([r.code, r.errLines]).toEqual([2, [`podwire: ${line}`]]);
    }
    expect(existsSync(join(dir, 'o-dur'))).toBe(false);
  });

  // yargs' number type turned "abc" into NaN: "--nodes: expected an integer 1..30000, got NaN".
  it('a numeric flag given text names the flag and the text (exit 2)', () => {
    const cases: [string[], string][] = [
      [['generate', 'cluster', '--nodes', 'abc'], '--nodes: expected a number, got "abc"'],
      [['generate', 'cluster', '--rate', '5/s'], '--rate: expected a number, got "5/s"'],
      [['run', 'scenarios/docker0-bridge.yaml', '--snaplen', 'big'], '--snaplen: expected a number, got "big"'],
      [['run', 'scenarios/docker0-bridge.yaml', '--max-events', ''], '--max-events: expected a number, got ""'],
      [['sweep', 'scenarios/docker0-bridge.yaml', '--seeds', '1', '--workers', '1x'], '--workers: expected a number, got "1x"'],
      [['trace', '--iptables-save', 'x', '--local-ip', '10.0.0.1', '--src', '10.0.0.2', '--dst', '10.0.0.3:80', '--sport', '70000'], '--sport: expected a port 1..65535, got 70000'],
    ];
    for (const [args, line] of cases) {
      const r = podwire(...args);
      expect([r.code, r.errLines]).toEqual([2, [`podwire: ${line}`]]);
    }
    expect(podwire('generate', 'cluster', '--nodes', '2').code).toBe(0);
  });

  // yargs' own messages were multi-line ("Invalid values:\n  Argument: format, …") or silently took the
  // default ("--out" with no value ran into ./out).
  it('a choice flag with another value, and a flag without its value, are one line naming the flag (exit 2)', () => {
    const cases: [string[], string][] = [
      [['run', 'scenarios/docker0-bridge.yaml', '--format', 'xml'], '--format: expected one of "pcapng", "pcap", got "xml"'],
      [['trace', 'scenarios/docker0-bridge.yaml', '--proto', 'xx'], '--proto: expected one of "tcp", "udp", "icmp", "sctp", got "xx"'],
      [['generate', 'foo'], '<what>: expected one of "cluster", got "foo"'],
      [['run', 'scenarios/docker0-bridge.yaml', '--out'], '--out: expected a value'],
      [['run', 'scenarios/docker0-bridge.yaml', '--until'], '--until: expected a value'],
      [['run', 'scenarios/docker0-bridge.yaml', '--out', ''], '--out: expected a directory, got ""'],
    ];
    for (const [args, line] of cases) {
      const r = podwire(...args);
      expect([r.code, r.errLines]).toEqual([2, [`podwire: ${line}`]]);
    }
  });

  it('a negative --seed exits 2 naming the flag', () => {
    const r = podwire('run', 'scenarios/docker0-bridge.yaml', '--seed', '-3', '--out', join(dir, 'o3'));
    expect(r.code).toBe(2);
    expect(r.errLines).toEqual(['podwire: --seed: expected a non-negative integer, got -3']);
  });

  it('no command exits 2 with one line that says "podwire:" once', () => {
    const r = podwire();
    expect(r.code).toBe(2);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/^podwire: name a command \(run, [^)]*validate, inspect[^)]*\); see --help$/);
  });

  it('validate on the default scenario says ok and exits 0', () => {
    const r = podwire('validate', 'scenarios/docker0-bridge.yaml');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^scenarios\/docker0-bridge\.yaml: ok \(4 hosts, \d+ interfaces, 5 flows, 0 manifests\)\n$/);
  });

  it('run on the default scenario exits 0, prints the summary and writes capture.pcapng and stats.json', () => {
    const out = join(dir, 'ok');
    const r = podwire('run', 'scenarios/docker0-bridge.yaml', '--seed', '7', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('docker0-bridge seed=7');
    expect(r.out).toMatch(/capture: .*capture\.pcapng/);
    expect(readFileSync(join(out, 'capture.pcapng')).length).toBeGreaterThan(1000);
    expect(JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')).seed).toBe(7);
  });

  it('run with its stdout closed by the reader (`| head`): no stack trace, exit 0, every output written', async () => {
    const out = join(dir, 'closed-stdout');
    const child = spawn(process.execPath, [CLI, 'run', 'scenarios/docker0-bridge.yaml', '--seed', '7', '--out', out], { cwd: ROOT, env: { ...process.env, PODWIRE_DEBUG: '', CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the summary is printed: its first write meets EPIPE
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expectNoStack(err);
    expect(err).not.toContain('EPIPE');
    expect(code, err).toBe(0);
    for (const f of ['capture.pcapng', 'stats.json', 'report.html']) expect(existsSync(join(out, f)), f).toBe(true);
  });

  it('inspect --services prints aligned columns, as kubectl get svc -o wide does', () => {
    const r = podwire('inspect', join(ROOT, 'scenarios/loadbalancer.yaml'), '--node', 'node1', '--services');
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    const header = lines[0]!;
    expect(header).toMatch(/^NAMESPACE +NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +ENDPOINTS$/);
    const starts = [...header.matchAll(/\S+/g)].slice(1).map((m) => m.index);
    for (const row of lines.slice(1)) {
      for (const c of starts) expect(row[c - 1], row).toBe(' ');
      for (const c of starts) expect(row[c], row).not.toBe(' ');
    }
    expect(lines.some((l) => /LoadBalancer +10\.99\.\d+\.\d+ +10\.100\.11\.240 /.test(l))).toBe(true);
    // The cluster's services are no node's: the same table without --node (it was "--node is required").
    const bare = podwire('inspect', join(ROOT, 'scenarios/loadbalancer.yaml'), '--services');
    expect(bare.code, bare.err).toBe(0);
    expect(bare.out).toBe(r.out);
  });

  // probes.yaml's web pods start not ready (readiness probes) and turn ready at ~0 s + a probe + 200 ms + 500 ms.
  it('inspect --services and --iptables honour --until; ENDPOINTS lists ready endpoints only, as kubectl get endpoints', () => {
    const file = join(ROOT, 'scenarios/probes.yaml');
    const before = podwire('inspect', file, '--node', 'node1', '--services');
    expect(before.code, before.err).toBe(0);
    expect(before.out).toMatch(/\ndefault +web +ClusterIP +10\.96\.0\.60 +<none> +80\/TCP +<none>\n$/);
    const at4 = podwire('inspect', file, '--node', 'node1', '--services', '--until', '4s');
    expect(at4.out).toMatch(/\ndefault +web +ClusterIP +10\.96\.0\.60 +<none> +80\/TCP +10\.244\.0\.2:8080,10\.244\.1\.2:8080,10\.244\.1\.3:8080\n$/);
    const rules = (args: string[]) => podwire('inspect', file, '--node', 'node1', '--iptables', ...args).out;
    expect(rules([])).toContain('-m comment --comment "default/web:http has no endpoints"');
    const ruled = rules(['--until', '4s']);
    expect(ruled).not.toContain('has no endpoints');
    expect(ruled.match(/^-A KUBE-SVC-\w+ -m comment --comment "default\/web:http -> /gm)).toHaveLength(3);
  });
});
