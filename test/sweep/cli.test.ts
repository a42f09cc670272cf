// podwire sweep from the command line (compiled CLI): each run's stats.json is byte-identical to a
// `podwire run` of the same variant and seed, and identical with 1 or 2 workers; sweep.json validates
// against schema/sweep.schema.json; an interrupted sweep resumes where it stopped and ends with the
// same results; bad flags and bad values are one line with the flag or file:line:col, exit 2 / 1.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepJsonSchema } from '../../src/sweep/schema.js';
import { CLI, ensureBuilt, ROOT } from '../scenario/dist.js';

const tmp = mkdtempSync(join(tmpdir(), 'podwire-sweep-'));
// The experiment with fewer requests, so a run takes a fraction of a second.
const FIXTURE = join(tmp, 'rr.yaml');
writeFileSync(FIXTURE, readFileSync(join(ROOT, 'experiments/random-vs-rr.yaml'), 'utf8').replace('count: 90', 'count: 12'));
const VARY = ['--vary', 'spec.cluster.kubeProxy.mode=iptables,ipvs'];

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const read = (...p: string[]): string => readFileSync(join(...p), 'utf8');
const RUNS = ['mode=iptables/seed-1', 'mode=iptables/seed-2', 'mode=ipvs/seed-1', 'mode=ipvs/seed-2'];

beforeAll(() => ensureBuilt());
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('podwire sweep', () => {
  const two = join(tmp, 'w2');
  const one = join(tmp, 'w1');

  it('runs variants × seeds on 2 workers, prints the comparison table and writes sweep.json', () => {
    const r = cli(['sweep', FIXTURE, ...VARY, '--seeds', '1..2', '--workers', '2', '--out', two]);
    expect(r.stderr).toContain('2 variants × 2 seeds = 4 runs');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/mode=iptables\s+mode=ipvs\s+mode=ipvs − mode=iptables/);
    expect(r.stdout).toMatch(/^connections\.jain\s+\S+ \[/m);
    expect(r.stdout).toMatch(/^flow\.client-to-web\.latencyUs\.p99\s/m);
    const doc = JSON.parse(read(two, 'sweep.json'));
    const published = JSON.parse(read(ROOT, 'schema/sweep.schema.json'));
    expect(published).toEqual(sweepJsonSchema());
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(published);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.variants.map((v: { name: string }) => v.name)).toEqual(['mode=iptables', 'mode=ipvs']);
    // IPVS rr spreads 12 new connections over 3 pods exactly: 4 each, every seed.
    expect(doc.variants[1].metrics['connections.jain']).toMatchObject({ mean: 1, lo: 1, hi: 1 });
    expect(doc.variants[1].runs[0].endpoints.map((e: { connections: number }) => e.connections)).toEqual([4, 4, 4]);
  });

  it('gives byte-identical runs and sweep.json with 1 worker', () => {
    const r = cli(['sweep', FIXTURE, ...VARY, '--seeds', '1..2', '--workers', '1', '--out', one, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    for (const run of RUNS) expect(read(one, 'runs', run, 'stats.json'), run).toBe(read(two, 'runs', run, 'stats.json'));
    expect(read(one, 'sweep.json')).toBe(read(two, 'sweep.json'));
  });

  it("each run's stats.json is what podwire run writes for that variant and seed", () => {
    const a = join(tmp, 'run-a');
    expect(cli(['run', FIXTURE, '--seed', '2', '--out', a, '--quiet']).status).toBe(0); // the file's own mode: iptables
    expect(read(a, 'stats.json')).toBe(read(two, 'runs/mode=iptables/seed-2/stats.json'));
    const b = join(tmp, 'run-b');
    expect(cli(['run', join(two, 'runs/mode=ipvs/scenario.yaml'), '--seed', '1', '--out', b, '--quiet']).status).toBe(0);
    expect(read(b, 'stats.json')).toBe(read(two, 'runs/mode=ipvs/seed-1/stats.json'));
    expect(read(b, 'client-to-web.hgrm')).toBe(read(two, 'runs/mode=ipvs/seed-1/client-to-web.hgrm'));
    expect(existsSync(join(two, 'runs/mode=ipvs/seed-1/capture.pcapng'))).toBe(false);
  });

  it('an interrupted sweep stops with exit 130 and resumes where it stopped, to the same results', async () => {
    const dir = join(tmp, 'int');
    const child = spawn(process.execPath, [CLI, 'sweep', FIXTURE, ...VARY, '--seeds', '1..2', '--workers', '1', '--out', dir, '--quiet'], { env: { ...process.env, CI: '1' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const first = join(dir, 'runs', RUNS[0]!, 'run.json');
    const deadline = Date.now() + 30_000;
    while (!existsSync(first) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(130);
    expect(stderr).toMatch(/stopped by SIGINT: [1-3] of 4 runs complete; run the same command again to resume/);
    expect(existsSync(join(dir, 'sweep.json'))).toBe(false);
    const r = cli(['sweep', FIXTURE, ...VARY, '--seeds', '1..2', '--workers', '1', '--out', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/[1-3] already done \(resuming\)/);
    expect(read(dir, 'sweep.json')).toBe(read(two, 'sweep.json'));
  });

  it('bad flags: one line naming the flag, exit 2; a bad value: file:line:col, exit 1', () => {
    const out = join(tmp, 'bad');
    const noEq = cli(['sweep', FIXTURE, '--vary', 'spec.cluster.kubeProxy.mode', '--seeds', '1', '--out', out]);
    expect(noEq.status).toBe(2);
    expect(noEq.stderr.trim().split('\n')).toEqual(['podwire: --vary "spec.cluster.kubeProxy.mode": expected PATH=V1,V2,... (e.g. spec.cluster.kubeProxy.mode=iptables,ipvs)']);
    const seeds = cli(['sweep', FIXTURE, ...VARY, '--seeds', '5..1', '--out', out]);
    expect(seeds.status).toBe(2);
    expect(seeds.stderr).toMatch(/^podwire: --seeds: bad range "5..1"\n$/);
    const doc = cli(['sweep', FIXTURE, '--vary', 'Deployment/nope:spec.replicas=2', '--seeds', '1', '--out', out]);
    expect(doc.status).toBe(2);
    expect(doc.stderr).toContain('the file has no Deployment named "nope"');
    const value = cli(['sweep', FIXTURE, '--vary', 'spec.cluster.kubeProxy.mode=ipvs,bogus', '--seeds', '1', '--out', out]);
    expect(value.status).toBe(1);
    expect(value.stderr).toMatch(/^\S+rr\.yaml:\d+:\d+: spec\.cluster\.kubeProxy\.mode: .*\(variant mode=bogus\)\n$/);
    expect(value.stderr).not.toMatch(/\n\s+at /);
  });

  // The audit's case: a bad value in a variants file was reported at a line of the scenario (the line of
  // the variant's re-printed text), so the user looked for it in the wrong file.
  it('a bad value in a variants file: its file:line:col there, exit 1', () => {
    const variants = join(tmp, 'variants.yaml');
    writeFileSync(variants, 'variants:\n  - name: random\n    set: { spec.cluster.kubeProxy.mode: iptables }\n  - name: odd\n    set:\n      spec.cluster.kubeProxy.mode: banana\n');
    const r = cli(['sweep', FIXTURE, '--variants', variants, '--seeds', '1', '--out', join(tmp, 'bad-variants')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`${variants}:6:36: spec.cluster.kubeProxy.mode: expected one of "iptables", "nftables", "ipvs", got "banana" (variant odd)`]);
    expect(existsSync(join(tmp, 'bad-variants'))).toBe(false);
  });
});
