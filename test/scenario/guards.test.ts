// Resource guards, signals, unusable outputs and hostile input, as a user meets them through the CLI
// (`node dist/src/cli/main.js`): each class of the robustness issue has its input here. Invariants:
// exit 0 / 1 (input) / 2 (flags) / 3 (stopped by a guard) / 73 (outputs) / 130 / 143, one line per
// problem with a position, no stack trace, no temporary file left, outputs whole or absent.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/core/scheduler.js';
import { REPEAT_GRACE_MS, SignalGuard } from '../../src/cli/run.js';
import { generateClusterYaml } from '../../src/scenario/generate.js';
import { BYTES_PER_POD, BYTES_PER_USER } from '../../src/scenario/work-estimate.js';
import { CLI, ensureBuilt, ROOT } from './dist.js';
import { expectNoStack, podwire, podwireEnv } from './cli-run.js';

let dir = '';
const validate = new Ajv2020({ strict: true }).compile(JSON.parse(readFileSync(join(ROOT, 'schema/stats.schema.json'), 'utf8')) as object);
const isRoot = process.getuid?.() === 0;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'podwire-guards-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function tempFilesIn(d: string): string[] {
  return existsSync(d) ? readdirSync(d).filter((f) => /\.tmp-\d+$/.test(f)) : [];
}

/** http-clusterip with a client that keeps sending for a long simulated time. */
function longScenario(): string {
  const text = readFileSync(join(ROOT, 'scenarios/http-clusterip.yaml'), 'utf8').replace(/count: 100\b/, 'count: 1000000').replace(/rate: 50\b/, 'rate: 5000');
  return file('long.yaml', text);
}

describe('input that used to crash or hang', () => {
  it('a YAML alias bomb is one error at the document, not a crash', () => {
    const levels = ['  a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const [i, n] of ['b', 'c', 'd', 'e', 'f'].entries()) levels.push(`  ${n}: &${n} [${Array(9).fill(`*${'abcde'[i]}`).join(',')}]`);
    const p = file('bomb.yaml', `apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata:\n  name: bomb\n${levels.join('\n')}\nspec: {}\n`);
    const r = podwire('validate', p);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([`${p}:1:1: YAML: more than 100 alias expansions in one document (an alias bomb?); expand the anchors by hand`]);
  });

  it('a chain loop reachable from a built-in chain is refused at the jump that closes it; an unreachable one is accepted (as iptables-nft does)', () => {
    const args = ['--dst', '10.0.0.1:80', '--src', '10.1.1.1', '--local-ip', '10.1.1.2'];
    const loop = file('loop.save', '*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A PREROUTING -j A\n-A A -j B\n-A B -j A\nCOMMIT\n');
    let r = podwire('trace', '--iptables-save', loop, ...args);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([`${loop}:8:9: chain loop A -> B -> A (the kernel refuses the table: ELOOP)`]);
    const self = file('self.save', '*filter\n:INPUT ACCEPT [0:0]\n:X - [0:0]\n-A INPUT -j X\n-A X -j X\nCOMMIT\n');
    r = podwire('trace', '--iptables-save', self, ...args);
    expect(r.errLines).toEqual([`${self}:5:9: chain loop X -> X (the kernel refuses the table: ELOOP)`]);
    const unreachable = file('unreach.save', '*filter\n:INPUT ACCEPT [0:0]\n:X - [0:0]\n:Y - [0:0]\n-A X -j Y\n-A Y -j X\nCOMMIT\n');
    r = podwire('trace', '--iptables-save', unreachable, ...args);
    expect(r.code, r.err).toBe(0);
  });

  it('control characters, bidi overrides and very long values are escaped and cut in messages', () => {
    const evil = `x\u202e\u001b[31m${'y'.repeat(5000)}`;
    // an explicit key (`? KEY`), since YAML caps implicit keys at 1024 characters
    const p = file('evil.yaml', `apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata:\n  name: t\nspec:\n  ? ${JSON.stringify(evil)}\n  : 1\n`);
    const r = podwire('validate', p);
    expect(r.code).toBe(1);
    expect(r.errLines).toHaveLength(1);
    const line = r.errLines[0]!;
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(line).toContain('\\u202e\\x1b[31m');
    expect(line.length).toBeLessThan(1000);
    expect(line).toMatch(/… \(\d+ chars\)/);
    expectNoStack(r.err);
  });
});

describe('guards: a run that would not end stops cleanly, with whole outputs marked partial', () => {
  it('--max-events stops the run (exit 3), says which limit and what the results cover; stats.json validates', () => {
    const out = join(dir, 'max-events');
    const r = podwire('run', longScenario(), '--out', out, '--max-events', '30000', '--quiet');
    expect(r.code, r.err).toBe(3);
    expect(r.err).toMatch(/^podwire: stopped: 30,000 events reached \(--max-events\); results cover 0–\d/m);
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { events: number; partial?: { reason: string } };
    expect(stats.events).toBe(30000);
    expect(stats.partial?.reason).toBe('max-events');
    expect(validate(stats), JSON.stringify(validate.errors)).toBe(true);
    expect(existsSync(join(out, 'capture.pcapng'))).toBe(true);
    expect(tempFilesIn(out)).toEqual([]);
  });

  it('--max-sim-time stops at that simulated time (exit 3)', () => {
    const out = join(dir, 'max-sim');
    const r = podwire('run', longScenario(), '--out', out, '--max-sim-time', '1500ms', '--quiet');
    expect(r.code, r.err).toBe(3);
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { simTimeUs: number; partial?: { reason: string } };
    expect(stats.partial?.reason).toBe('max-sim-time');
    expect(stats.simTimeUs).toBe(1_500_000);
  });

  it('--max-capture stops the capture, not the run: the capture stays readable and stats.json says so', () => {
    const out = join(dir, 'max-capture');
    const r = podwire('run', join(ROOT, 'scenarios/http-clusterip.yaml'), '--out', out, '--max-capture', '100kB');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/capture stopped at [\d,]+ bytes \(--max-capture\); the run went on/);
    const size = readFileSync(join(out, 'capture.pcapng')).length;
    expect(size).toBeGreaterThan(50_000);
    expect(size).toBeLessThan(110_000);
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { stop: string; capture?: { truncated: boolean }; partial?: unknown };
    expect(stats.capture?.truncated).toBe(true);
    expect(stats.partial).toBeUndefined();
    expect(stats.stop).toBe('idle');
  });

  it('bad guard values are flag errors (exit 2)', () => {
    expect(podwire('run', longScenario(), '--max-capture', '12XB').errLines).toEqual(['podwire: --max-capture: expected a size like 500MB or 2GiB, got "12XB"']);
    expect(podwire('run', longScenario(), '--max-events', '-5').code).toBe(2);
  });
});

describe('signals', () => {
  /** Starts a long run, sends `signals` once the capture has started, returns the exit code. */
  function runAndSignal(out: string, signals: NodeJS.Signals[], gapMs = 0): Promise<number | null> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'run', longScenario(), '--out', out, '--quiet'], { cwd: ROOT, env: { ...process.env, CI: '1' } });
      const deadline = Date.now() + 60_000;
      const poll = setInterval(() => {
        const started = existsSync(out) && readdirSync(out).some((f) => f.startsWith('capture.pcapng.tmp-'));
        if (started) {
          clearInterval(poll);
          signals.forEach((s, i) => setTimeout(() => child.kill(s), i * gapMs));
        } else if (Date.now() > deadline) {
          clearInterval(poll);
          child.kill('SIGKILL');
          reject(new Error('the run never started'));
        }
      }, 20);
      child.on('exit', (code) => resolve(code));
    });
  }

  it('SIGINT stops the run at the next step: exit 130, whole outputs marked partial, no temporary files', async () => {
    const out = join(dir, 'sigint');
    expect(await runAndSignal(out, ['SIGINT'])).toBe(130);
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { stop: string; partial?: { reason: string; message: string } };
    expect(stats.stop).toBe('stopped');
    expect(stats.partial?.reason).toBe('SIGINT');
    expect(stats.partial?.message).toMatch(/^stopped by SIGINT; results cover 0–/);
    expect(validate(stats)).toBe(true);
    expect(existsSync(join(out, 'capture.pcapng'))).toBe(true);
    expect(tempFilesIn(out)).toEqual([]);
  });

  it('SIGTERM: exit 143, outputs whole', async () => {
    const out = join(dir, 'sigterm');
    expect(await runAndSignal(out, ['SIGTERM'])).toBe(143);
    expect((JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { partial?: { reason: string } }).partial?.reason).toBe('SIGTERM');
  });

  // The 10^6-user run killed after 900 s that left nothing: a second copy of the SIGTERM (as `timeout`
  // sends one to its child and one to the group) arrived within the same step and took the "exit at
  // once" path. Copies 100 ms apart, and a repeated SIGTERM, must not cost the results.
  it('a SIGTERM delivered twice, 100 ms apart, still writes whole outputs (exit 143)', async () => {
    const out = join(dir, 'sigterm-twice');
    expect(await runAndSignal(out, ['SIGTERM', 'SIGTERM'], 100)).toBe(143);
    expect((JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { partial?: { reason: string } }).partial?.reason).toBe('SIGTERM');
    expect(existsSync(join(out, 'capture.pcapng'))).toBe(true);
    expect(tempFilesIn(out)).toEqual([]);
  });
});

// The build of a big cluster is one synchronous call of seconds: a signal in it used to kill the process
// silently (no JavaScript handler runs before it returns). Now one line, nothing written, 130 / 143.
describe('a signal while the world is built', () => {
  let big = '';
  beforeAll(() => {
    big = file('big-build.yaml', generateClusterYaml({ nodes: 300, services: 3000, podsPerService: 3, cni: 'flannel-vxlan', mode: 'iptables', flows: 1, requests: 10, rate: 100, capture: false, seed: 1 }));
  });
  function signalDuringBuild(out: string, s: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, 'run', big, '--out', out, '--quiet'], { cwd: ROOT, env: { ...process.env, CI: '1', PODWIRE_DEBUG: '' } });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      // In the build: past 200 MB resident (modules and the parsed file hold < 130 MB; the build of
      // 9,000 pods on 300 nodes grows to ~400 MB over 4–9 s on this machine).
      const poll = setInterval(() => {
        const rss = /VmRSS:\s+(\d+) kB/.exec(existsSync(`/proc/${child.pid}/status`) ? readFileSync(`/proc/${child.pid}/status`, 'utf8') : '');
        if (rss && Number(rss[1]) > 200_000) {
          clearInterval(poll);
          child.kill(s);
        }
      }, 50);
      child.on('exit', (code, signal) => {
        clearInterval(poll);
        resolve({ code, signal, err });
      });
    });
  }
  for (const [s, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${s}: one line, exit ${code}, no output directory`, async () => {
      const out = join(dir, `build-${s}`);
      const r = await signalDuringBuild(out, s);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(code);
      expect(r.err.split('\n').filter((l) => l !== '')).toEqual([`podwire: stopped by ${s} while building the world; nothing written`]);
      expect(existsSync(out)).toBe(false);
    }, 60_000);
  }
});

describe('SignalGuard: which repeated signal means "now"', () => {
  function guard(): { g: SignalGuard; exits: number[]; clock: { t: number }; aborted: () => number } {
    const clock = { t: 0 };
    const exits: number[] = [];
    let aborts = 0;
    const g = new SignalGuard(() => clock.t, (c) => exits.push(c));
    g.onAbort = () => aborts++;
    return { g: g.install(), exits, clock, aborted: () => aborts };
  }

  it('a repeat within the grace time is a duplicate; SIGTERM again never aborts; SIGINT again after it does', () => {
    const { g, exits, clock, aborted } = guard();
    const write = process.stderr.write;
    const lines: string[] = [];
    process.stderr.write = ((s: string) => lines.push(s) > 0) as unknown as typeof process.stderr.write;
    try {
      process.emit('SIGTERM');
      expect(g.signal).toBe('SIGTERM');
      clock.t = REPEAT_GRACE_MS / 2;
      process.emit('SIGINT');
      process.emit('SIGTERM');
      clock.t = REPEAT_GRACE_MS * 5;
      process.emit('SIGTERM');
      expect(exits).toEqual([]);
      expect(aborted()).toBe(0);
      process.emit('SIGINT');
      expect(exits).toEqual([130]);
      expect(aborted()).toBe(1);
      expect(lines).toEqual(['podwire: SIGINT again: stopped at once; no outputs written\n']);
    } finally {
      process.stderr.write = write;
      g.uninstall();
    }
  });
});

describe('unusable output directories: one line naming the path and the cause, exit 73, nothing left behind', () => {
  it('--out is an existing file', () => {
    const f = file('a-file', 'x');
    const r = podwire('run', join(ROOT, 'scenarios/docker0-bridge.yaml'), '--out', f);
    expect(r.code).toBe(73);
    expect(r.errLines).toEqual([`podwire: --out ${f}: exists and is not a directory`]);
  });

  it('--out below a file', () => {
    const f = file('b-file', 'x');
    const r = podwire('run', join(ROOT, 'scenarios/docker0-bridge.yaml'), '--out', join(f, 'sub'));
    expect(r.code).toBe(73);
    expect(r.errLines).toEqual([`podwire: cannot write ${join(f, 'sub')}: a path component is not a directory (ENOTDIR)`]);
  });

  it.skipIf(!isRoot)('a read-only file system (EROFS) and a full disk (ENOSPC)', () => {
    const ro = join(dir, 'ro');
    const full = join(dir, 'full');
    mkdirSync(ro);
    mkdirSync(full);
    try {
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro]).status).toBe(0);
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]).status).toBe(0);
      let r = podwire('run', join(ROOT, 'scenarios/http-clusterip.yaml'), '--out', join(ro, 'x'), '--quiet');
      expect(r.code).toBe(73);
      expect(r.errLines).toEqual([`podwire: cannot write ${join(ro, 'x')}: read-only file system (EROFS)`]);
      r = podwire('run', join(ROOT, 'scenarios/http-clusterip.yaml'), '--out', full, '--quiet');
      expect(r.code).toBe(73);
      expect(r.errLines).toEqual([`podwire: cannot write ${join(full, 'capture.pcapng')}: no space left on device (ENOSPC)`]);
      expect(readdirSync(full)).toEqual([]);
    } finally {
      spawnSync('umount', [ro]);
      spawnSync('umount', [full]);
    }
  });
});

describe('durations the clock cannot hold', () => {
  it('over 100 days, below 1ns, and a zero interval are refused with their positions', () => {
    const p = file(
      'dur.yaml',
      'apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata: { name: d }\nspec:\n  hosts:\n    - name: a\n  traffic:\n' +
        '    - { name: p, type: ping, from: a, to: 127.0.0.1, interval: 1e300, count: 3 }\n' +
        '    - { name: q, type: ping, from: a, to: 127.0.0.1, interval: 0.0001ns, count: 3 }\n' +
        '    - { name: r, type: ping, from: a, to: 127.0.0.1, interval: 0, count: 3 }\n',
    );
    const r = podwire('validate', p);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([
      `${p}:8:64: spec.traffic[0].interval: at most 100 days (the simulated clock counts integer nanoseconds)`,
      `${p}:9:64: spec.traffic[1].interval: below the clock resolution of 1ns`,
      `${p}:10:64: spec.traffic[2].interval: expected a positive interval (at least 1ns)`,
    ]);
  });
});

describe('contradictory address plans are refused at validation, each at its field', () => {
  const base = () => readFileSync(join(ROOT, 'scenarios/pod-to-pod.yaml'), 'utf8');
  it('pod CIDR = service CIDR, the node network over both, a pod CIDR too small for the nodes, overlapping node subnets', () => {
    const p = file(
      'plan.yaml',
      base()
        .replace('serviceCIDR: 10.99.0.0/16', 'serviceCIDR: 10.244.0.0/16')
        .replace('cidr: 10.100.11.0/24', 'cidr: 10.0.0.0/8')
        .replace('{ name: node2, ip: 10.100.11.12 }', '{ name: node2, ip: 10.100.11.12, podCIDR: 10.244.0.128/25 }'),
    );
    const r = podwire('validate', p);
    expect(r.code).toBe(1);
    expect(r.errLines.map((l) => l.slice(p.length + 1))).toEqual([
      '29:18: spec.cluster.serviceCIDR: 10.244.0.0/16 overlaps the pod CIDR 10.244.0.0/16 (spec.cluster.podCIDR): Services and pods need separate ranges',
      '31:22: spec.cluster.network.cidr: the node network 10.0.0.0/8 overlaps the pod CIDR 10.244.0.0/16',
      "34:51: spec.cluster.nodes[1].podCIDR: node node2's pod subnet 10.244.0.128/25 overlaps node node1's 10.244.0.0/24",
    ]);
    const small = file('small.yaml', base().replace('podCIDR: 10.244.0.0/16', 'podCIDR: 10.244.0.0/24'));
    expect(podwire('validate', small).errLines).toEqual([`${small}:28:23: spec.cluster.nodeSubnetPrefix: the pod CIDR 10.244.0.0/24 holds 1 node subnet of /24; 2 nodes need 2 (a shorter nodeSubnetPrefix or a larger podCIDR)`]);
    const outside = file('outside.yaml', base().replace('{ name: node2, ip: 10.100.11.12 }', '{ name: node2, ip: 10.100.11.12, podCIDR: 10.245.1.0/24 }'));
    expect(podwire('validate', outside).errLines).toEqual([`${outside}:34:51: spec.cluster.nodes[1].podCIDR: 10.245.1.0/24 is outside the pod CIDR 10.244.0.0/16`]);
  });
});

describe('trace over a dump: bounded enumeration', () => {
  const args = ['--dst', '10.0.0.1:80', '--src', '10.1.1.1', '--local-ip', '10.1.1.2'];
  const dump = (rules: string[]) => `*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${rules.join('\n')}\nCOMMIT\n`;

  it('26 independent random rules (2^26 branches) stop at --max-outcomes with what they cover', () => {
    const rules = Array.from({ length: 26 }, (_, i) => `-A PREROUTING -m statistic --mode random --probability 0.5 -j MARK --set-xmark 0x${(i + 1).toString(16)}/0xffffffff`);
    const p = file('stat26.save', dump(rules));
    const r = podwire('trace', '--iptables-save', p, ...args, '--max-outcomes', '256');
    expect(r.code, r.err).toBe(0);
    expect(r.out.match(/^outcome \d+:/gm)).toHaveLength(256);
    expect(r.out).toMatch(/^stopped after 256 branches \(--max-outcomes; each statistic rule on the path doubles them\): the outcomes above cover p=0\.000004$/m);
  });

  it('a Service with 70 endpoints (69 statistic rules on its last path) has 70 outcomes summing to 1', () => {
    const rules = Array.from({ length: 70 }, (_, i) => `-A PREROUTING -p tcp -m statistic --mode random --probability ${(1 / (70 - i)).toFixed(11)} -j DNAT --to-destination 10.9.0.${i + 1}:8080`);
    const p = file('stat70.save', dump(rules));
    const r = podwire('trace', '--iptables-save', p, ...args, '--json');
    expect(r.code, r.err).toBe(0);
    const res = JSON.parse(r.out) as { outcomes: { probability: number; dnat: string | null }[] };
    expect(res.outcomes).toHaveLength(70);
    expect(res.outcomes.reduce((a, o) => a + o.probability, 0)).toBeCloseTo(1, 9);
    for (const o of res.outcomes) expect(o.probability).toBeCloseTo(1 / 70, 6);
  });
});

describe('inputs that used to crash at run time are refused at validation', () => {
  it('a response size podwire cannot send, and a veth whose two ends are one interface', () => {
    const big = file('big.yaml', readFileSync(join(ROOT, 'scenarios/http-clusterip.yaml'), 'utf8').replace(/podwire\.dev\/response-size: "?[^"\n]+"?/, 'podwire.dev/response-size: "99999999999"'));
    const r = podwire('validate', big);
    expect(r.code).toBe(1);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/podwire\.dev\/response-size: "99999999999" is over the largest response podwire sends \(67108864 bytes, 64 MiB\)$/);
    const veth = file('veth.yaml', 'apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata: { name: v }\nspec:\n  hosts: [{ name: a }]\n  veths:\n    - { ends: [a/x, a/x] }\n');
    expect(podwire('validate', veth).errLines).toEqual([`${veth}:7:21: spec.veths[0].ends[1]: a veth pair needs two interfaces; both ends are a/x`]);
  });

  it('inspect --no-run prints the configured state (the flag the README documents)', () => {
    const r = podwire('inspect', join(ROOT, 'scenarios/pod-to-pod.yaml'), '--node', 'node1', '--no-run');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/flannel\.1/);
  });
});

describe('two hosts with one address', () => {
  it('is refused at the second, naming where the first was given', () => {
    const p = file(
      'dup.yaml',
      'apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata: { name: dup }\nspec:\n  hosts:\n' +
        '    - name: a\n      interfaces: [{ name: eth0, address: 10.0.0.1/24 }]\n' +
        '    - name: b\n      interfaces: [{ name: eth0, address: 10.0.0.1/24 }]\n' +
        '  links:\n    - { ends: [a/eth0, b/eth0] }\n',
    );
    const r = podwire('validate', p);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([`${p}:9:43: spec.hosts[1].interfaces[0].address[0]: address 10.0.0.1 is already host a's (${p}:7:43)`]);
  });
});

/** http-clusterip whose client runs `users` closed-loop users (think time 0) for 10^8 requests. */
function usersScenario(users: number): string {
  const text = readFileSync(join(ROOT, 'scenarios/http-clusterip.yaml'), 'utf8').replace(/rate: 50\b/, `users: ${users}`).replace(/count: 100\b/, 'count: 100000000');
  return file(`users-${users}.yaml`, text);
}

describe('memory: many closed-loop users stop at the memory guard, never at V8\'s heap limit', () => {
  it('100,000 users with --max-memory 250MB: a warning at the users field, then a clean stop (exit 3) naming the limit and how to raise it', () => {
    const p = usersScenario(100_000);
    const out = join(dir, 'users-rss');
    const r = podwire('run', p, '--out', out, '--quiet', '--no-report', '--max-memory', '250MB');
    expect(r.code, r.err).toBe(3);
    expect(r.errLines[0]).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: warning: spec\\.traffic\\[0\\]\\.users: 100,000 closed-loop users ≈ \\d+ MiB of memory, over half the memory limit 238 MiB`));
    expect(r.err).toMatch(/^podwire: stopped: memory limit reached: the process uses \d+ MiB, above --max-memory 238 MiB \(raise it with --max-memory\); results cover 0–1\.\d+s$/m);
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { partial?: { reason: string } };
    expect(stats.partial?.reason).toBe('max-memory');
    expect(validate(stats), JSON.stringify(validate.errors)).toBe(true);
    expect(existsSync(join(out, 'capture.pcapng'))).toBe(true);
    expect(tempFilesIn(out)).toEqual([]);
    expectNoStack(r.err);
  });

  it('with a small V8 heap (--max-old-space-size=160) the run stops at 80% of it (exit 3), not with a FATAL heap error', () => {
    const out = join(dir, 'users-heap');
    const r = podwireEnv({ NODE_OPTIONS: '--max-old-space-size=160' }, 'run', usersScenario(50_000), '--out', out, '--quiet', '--no-report');
    expect(r.code, r.err).toBe(3);
    expect(r.err).not.toMatch(/FATAL|heap out of memory/);
    expect(r.err).toMatch(/^podwire: stopped: memory limit reached: the JavaScript heap holds \d+ MiB, past 80% of Node's heap limit 160 MiB \(raise it with NODE_OPTIONS=--max-old-space-size=<MiB>\); results cover 0–/m);
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { partial?: { reason: string } };
    expect(stats.partial?.reason).toBe('max-memory');
    expect(tempFilesIn(out)).toEqual([]);
  });

  it('10^6 users: refused before the run at the users field (exit 1), with what to raise', () => {
    const p = usersScenario(1_000_000);
    const r = podwire('run', p, '--out', join(dir, 'users-1m'), '--max-memory', '1GiB');
    expect(r.code, r.err).toBe(1);
    expect(r.errLines).toEqual([`${p}:32:14: spec.traffic[0].users: 1,000,000 closed-loop users ≈ 1.9 GiB of memory, above the memory limit 1.0 GiB: refusing to start (raise --max-memory, or NODE_OPTIONS=--max-old-space-size=<MiB> for the heap, or make the scenario smaller)`]);
    expect(existsSync(join(dir, 'users-1m'))).toBe(false);
  });

  it('a build past --max-memory stops while building (exit 3), one line saying how far it got, nothing written', () => {
    const g = podwire('generate', 'cluster', '--nodes', '50', '--services', '100', '--pods-per-service', '50', '--flows', '0');
    const p = file('big-build.yaml', g.out);
    const out = join(dir, 'big-build');
    const t0 = performance.now();
    const r = podwire('run', p, '--out', out, '--max-memory', '200MB', '--until', '1ms', '--no-report');
    expect(performance.now() - t0).toBeLessThan(60_000);
    expect(r.code, r.err).toBe(3);
    const last = r.errLines.at(-1)!;
    expect(last).toMatch(/^podwire: stopped while building: memory limit reached: the process uses \d+ MiB, above --max-memory 191 MiB \(raise it with --max-memory\); ([\d,]+) of 5,001 pods created, nothing written$/);
    // The pods are created (the checks during their creation passed); the Services' rules on 50 nodes
    // pass the limit: the check after the control plane's start stops the build.
    expect(Number(/; ([\d,]+) of/.exec(last)![1]!.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(existsSync(out)).toBe(false);
    expectNoStack(r.err);
  });

  it('a Deployment of 10^6 replicas is refused at its replicas field before anything is built', () => {
    const p = file('replicas.yaml', readFileSync(join(ROOT, 'scenarios/http-clusterip.yaml'), 'utf8').replace(/replicas: 3\b/, 'replicas: 1000000'));
    const t0 = performance.now();
    const r = podwire('validate', p);
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(r.code, r.err).toBe(1);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toMatch(/:\d+:\d+: spec\.replicas: about 1,000,00\d pods ≈ 14\.9 GiB of memory, above the memory limit [\d.]+ GiB: refusing to start/);
    const line = readFileSync(p, 'utf8').split('\n').findIndex((l) => l.includes('replicas: 1000000')) + 1;
    expect(r.errLines[0]).toContain(`${p}:${line}:`);
  });
});

describe('kubelet maxPods: pods beyond a node\'s capacity stay Pending with kube-scheduler\'s message', () => {
  const scenario = (maxPods: string, replicas: number) =>
    'apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata: { name: mp }\nspec:\n  cluster:\n    podCIDR: 10.244.0.0/16\n    serviceCIDR: 10.96.0.0/12\n    cni: flannel-vxlan\n' +
    `    nodes:\n      - { name: n1${maxPods} }\n      - { name: n2${maxPods} }\n---\n` +
    `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: w }\nspec:\n  replicas: ${replicas}\n  selector: { matchLabels: { app: w } }\n  template:\n    metadata: { labels: { app: w } }\n    spec:\n      containers: [{ name: w, image: nginx }]\n`;

  it('maxPods: 2 on two nodes: four of five replicas run, the fifth is Pending with "0/2 nodes are available: 2 Too many pods"', () => {
    const p = file('maxpods.yaml', scenario(', maxPods: 2', 5));
    const r = podwire('validate', p);
    expect(r.code, r.err).toBe(0);
    const pending = r.errLines.filter((l) => l.includes('stays Pending'));
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatch(/warning: spec\.template\.spec: pod w-[a-z0-9]+-[a-z0-9]+ stays Pending: 0\/2 nodes are available: 2 Too many pods\.$/);
    expect(r.out).toMatch(/ok \(/);
  });

  it('the default is the kubelet\'s 110 per node: 220 replicas fit two nodes, 221 do not', () => {
    expect(podwire('validate', file('mp220.yaml', scenario('', 220))).errLines.filter((l) => l.includes('Too many pods'))).toEqual([]);
    expect(podwire('validate', file('mp221.yaml', scenario('', 221))).errLines.filter((l) => l.includes('Too many pods'))).toHaveLength(1);
  });

  it('maxPods outside 1..100000 is refused at the field', () => {
    const p = file('mp0.yaml', scenario(', maxPods: 0', 1));
    const r = podwire('validate', p);
    expect(r.code).toBe(1);
    expect(r.errLines[0]).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:10:\\d+: spec\\.cluster\\.nodes\\[0\\]\\.maxPods: `));
  });
});

describe('the event queue does not keep cancelled timers while the clock stands still', () => {
  it('arming and cancelling 100,000 long timers at one instant leaves the queue small; events still run in (time, insertion) order', () => {
    const s = new Scheduler();
    const ran: number[] = [];
    const keep: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const timer = s.insert(5_000_000_000, () => ran.push(-1));
      s.insert(0, (k: number) => ran.push(k), i);
      if (i % 1000 === 0) keep.push(i);
      else timer.cancel();
      // What a failed connect does at think time 0: run the next event now.
      const ev = s.pop()!;
      if (!ev.cancelled) ev.fn(ev.a, ev.b);
    }
    expect(s.size).toBeLessThan(10_000);
    expect(s.foreground).toBe(keep.length);
    while (s.size > 0) {
      const ev = s.pop()!;
      if (!ev.cancelled) ev.fn(ev.a, ev.b);
    }
    expect(ran.slice(0, 100_000)).toEqual(Array.from({ length: 100_000 }, (_, i) => i));
    expect(ran.slice(100_000)).toEqual(keep.map(() => -1));
  });
});

// The memory estimates (work-estimate.ts) are constants measured once: these measure them again on
// generated scenarios (heap after a full GC, the difference between two sizes so fixed costs cancel)
// and fail when a constant is off by more than ×2, so it cannot go stale silently.
describe('the memory estimates track the real costs', () => {
  const script = `
    const [root, kind, a, b] = process.argv.slice(1);
    const { loadScenarioFile } = await import(root + '/dist/src/scenario/load.js');
    const { buildWorld } = await import(root + '/dist/src/scenario/build.js');
    const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
    const keep = [];
    const pods = (f) => { const h0 = heap(); const w = buildWorld(loadScenarioFile(f), 1); keep.push(w); return { h: heap() - h0, n: w.cluster.pods.length }; };
    // Users with a request in flight: every user starts at 1 s and has sent its SYN by the end of that instant.
    const users = (f) => { const w = buildWorld(loadScenarioFile(f), 1); keep.push(w); w.sim.run({ until: 999999999 }); const h0 = heap(); w.sim.run({ until: 1000000000 }); const c = w.flows[0].counts; return { h: heap() - h0, n: c.sent - c.received - c.errors }; };
    const f = kind === 'pods' ? pods : users;
    const x = f(a), y = f(b);
    console.log(JSON.stringify({ per: (y.h - x.h) / (y.n - x.n), n: [x.n, y.n] }));`;

  function measure(kind: 'pods' | 'users', a: string, b: string): { per: number; n: number[] } {
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script, ROOT, kind, a, b], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { per: number; n: number[] };
  }

  it('BYTES_PER_POD is within ×2 of a pod\'s heap cost (generated clusters of 101 and 1,001 pods)', () => {
    const gen = (pps: number) => file(`pods-${pps}.yaml`, podwire('generate', 'cluster', '--nodes', '10', '--services', '10', '--pods-per-service', String(pps), '--flows', '0').out);
    const m = measure('pods', gen(10), gen(100));
    expect(m.n).toEqual([101, 1001]);
    expect(m.per).toBeGreaterThan(BYTES_PER_POD / 2);
    expect(m.per).toBeLessThan(BYTES_PER_POD * 2);
  }, 150_000);

  it('BYTES_PER_USER is within ×2 of a closed-loop user\'s heap cost with its request in flight (5,000 and 15,000 users)', () => {
    const m = measure('users', usersScenario(5_000), usersScenario(15_000));
    expect(m.n).toEqual([5_000, 15_000]);
    expect(m.per).toBeGreaterThan(BYTES_PER_USER / 2);
    expect(m.per).toBeLessThan(BYTES_PER_USER * 2);
  }, 150_000);
});
