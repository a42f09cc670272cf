// The distributed executor against a real Redis: `podwire sweep --redis URL` queues the runs (BullMQ),
// `podwire worker --redis URL` processes take them; each run's files are byte-identical to the local
// pool's. A worker killed (SIGKILL) in the middle of a run loses its job lock; another worker's
// stalled-job check puts the job back and runs it, and the outputs are whole and identical.
// A redis-server is started on a free loopback port in a temporary directory and killed afterwards.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, ROOT } from '../scenario/dist.js';

const redisBin = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
const skip = redisBin === '' ? 'redis-server not installed (Debian package redis-server)' : null;

const tmp = mkdtempSync(join(tmpdir(), 'podwire-redis-'));
const FIXTURE = join(tmp, 'rr.yaml');
// A short experiment, and a longer one so a worker can be killed while it runs.
writeFileSync(FIXTURE, readFileSync(join(ROOT, 'experiments/random-vs-rr.yaml'), 'utf8').replace('count: 90', 'count: 12'));
const SLOW = join(tmp, 'slow.yaml');
writeFileSync(SLOW, readFileSync(join(ROOT, 'experiments/random-vs-rr.yaml'), 'utf8').replace('count: 90', 'count: 2500').replace('rate: 60\n', 'rate: 200\n'));
const VARY = ['--vary', 'spec.cluster.kubeProxy.mode=iptables,ipvs'];

const children: ChildProcess[] = [];
let url = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function start(args: string[], cwd = tmp): { proc: ChildProcess; out: () => string } {
  const proc = spawn(args[0]!, args.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
  children.push(proc);
  let text = '';
  proc.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return { proc, out: () => text };
}

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function worker(): { proc: ChildProcess; out: () => string } {
  return start([process.execPath, CLI, 'worker', '--redis', url, '--concurrency', '1', '--lock-ms', '2000']);
}

function exited(p: ChildProcess): Promise<number | null> {
  return p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', (code) => r(code)));
}

/** Every file under DIR/runs, relative path → bytes as text. */
function runFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(join(dir, 'runs'));
  return out;
}

function localSweep(file: string, seeds: string, out: string): void {
  const r = spawnSync(process.execPath, [CLI, 'sweep', file, ...VARY, '--seeds', seeds, '--workers', '0', '--out', out, '--quiet'], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  expect(r.status, r.stderr).toBe(0);
}

describe.skipIf(skip !== null)(`podwire sweep --redis and podwire worker${skip ? ` (skipped: ${skip})` : ''}`, () => {
  beforeAll(async () => {
    ensureBuilt();
    const port = await freePort();
    const redis = start([redisBin, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp]);
    url = `redis://127.0.0.1:${port}`;
    await until(() => /Ready to accept connections/.test(redis.out()), 'redis-server', 15_000);
  }, 30_000);

  afterAll(async () => {
    for (const c of children.reverse()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('two workers run the queued sweep; every run file is byte-identical to the local pool’s', async () => {
    const a = worker();
    const b = worker();
    await until(() => /waiting for runs/.test(a.out()) && /waiting for runs/.test(b.out()), 'workers ready');
    const out = join(tmp, 'redis-out');
    const sweep = start([process.execPath, CLI, 'sweep', FIXTURE, ...VARY, '--seeds', '1..3', '--redis', url, '--out', out]);
    expect(await exited(sweep.proc), sweep.out()).toBe(0);
    expect(sweep.out()).toContain('2 variants × 3 seeds = 6 runs; queued in Redis');
    expect(sweep.out()).toMatch(/mode=iptables\s+mode=ipvs/);
    // Both workers took part (6 runs, one thread each, runs of similar length).
    const ran = (w: { out: () => string }): number => (w.out().match(/done mode=/g) ?? []).length;
    expect(ran(a) + ran(b)).toBe(6);
    expect(ran(a)).toBeGreaterThan(0);
    expect(ran(b)).toBeGreaterThan(0);
    const local = join(tmp, 'local-out');
    localSweep(FIXTURE, '1..3', local);
    const r = runFiles(out);
    expect([...r.keys()]).toEqual([...runFiles(local).keys()]);
    expect(r).toEqual(runFiles(local));
    expect(readFileSync(join(out, 'sweep.json'), 'utf8')).toBe(readFileSync(join(local, 'sweep.json'), 'utf8').split(local).join(out));
    for (const w of [a, b]) w.proc.kill('SIGTERM');
    expect(await exited(a.proc)).toBe(0);
    expect(await exited(b.proc)).toBe(0);
  }, 180_000);

  it('a worker killed in the middle of a run: the run is retried by another worker and its outputs are whole', async () => {
    const a = worker();
    await until(() => /waiting for runs/.test(a.out()), 'worker a ready');
    const out = join(tmp, 'killed-out');
    const sweep = start([process.execPath, CLI, 'sweep', SLOW, '--vary', 'spec.cluster.kubeProxy.mode=ipvs', '--seeds', '1', '--redis', url, '--out', out, '--quiet']);
    await until(() => /running mode=ipvs seed 1/.test(a.out()), 'worker a to start the run');
    a.proc.kill('SIGKILL');
    await exited(a.proc);
    expect(a.out()).not.toContain('done mode=ipvs seed 1');
    const b = worker();
    expect(await exited(sweep.proc), sweep.out()).toBe(0);
    expect(b.out()).toContain('done mode=ipvs seed 1');
    const local = join(tmp, 'killed-local');
    const r = spawnSync(process.execPath, [CLI, 'sweep', SLOW, '--vary', 'spec.cluster.kubeProxy.mode=ipvs', '--seeds', '1', '--workers', '0', '--out', local, '--quiet'], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
    expect(r.status, r.stderr).toBe(0);
    expect(runFiles(out)).toEqual(runFiles(local));
    b.proc.kill('SIGTERM');
    expect(await exited(b.proc)).toBe(0);
  }, 240_000);

  it('bad --redis URLs and --capture with Redis are usage errors (exit 2, one line)', () => {
    const r1 = spawnSync(process.execPath, [CLI, 'sweep', FIXTURE, '--seeds', '1', '--redis', 'http://x', '--out', join(tmp, 'bad')], { encoding: 'utf8' });
    expect([r1.status, r1.stderr.trim()]).toEqual([2, 'podwire: --redis: expected redis://HOST:PORT, got "http://x"']);
    const r2 = spawnSync(process.execPath, [CLI, 'sweep', FIXTURE, '--seeds', '1', '--redis', url, '--capture', '--out', join(tmp, 'bad')], { encoding: 'utf8' });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain('--capture: captures do not travel through Redis');
    const r3 = spawnSync(process.execPath, [CLI, 'worker', '--redis', 'nope'], { encoding: 'utf8' });
    expect([r3.status, r3.stderr.trim()]).toEqual([2, 'podwire: --redis: expected redis://HOST:PORT, got "nope"']);
  });
});
