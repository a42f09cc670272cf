// Input nobody on the team wrote (session 48's audit): each case crashed podwire (exit 70, a stack
// trace, a corrupt capture) before its fix; now it is one line `file:line:col: field: message` and
// exit 1, or runs as the real component would.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './dist.js';
import { expectNoStack, podwire } from './cli-run.js';

let dir = '';

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'podwire-hostile-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const HEAD = 'apiVersion: podwire.dev/v1alpha1\nkind: Scenario\nmetadata: { name: t }\nspec:\n';
const TWO_HOSTS = HEAD + '  hosts: [{name: a, interfaces: [{name: eth0, address: 10.0.0.1/24}]}, {name: b, interfaces: [{name: eth0, address: 10.0.0.2/24}]}]\n  links: [{ends: [a/eth0, b/eth0]}]\n';

/** A one-pod cluster with CoreDNS; `traffic` is one flow mapping, `more` extra manifests. */
function cluster(traffic: string, more = ''): string {
  return (
    HEAD +
    '  duration: 3s\n  cluster:\n    podCIDR: 10.244.0.0/16\n    serviceCIDR: 10.96.0.0/12\n    network: { cidr: 10.100.11.0/24 }\n    nodes: [{ name: node1 }]\n    dns: { replicas: 1 }\n' +
    `  traffic:\n    - ${traffic}\n---\napiVersion: v1\nkind: Pod\nmetadata: { name: web, labels: { app: web } }\nspec:\n  nodeName: node1\n  containers: [{ name: web, image: nginx, ports: [{ containerPort: 80 }] }]\n` +
    (more ? `---\n${more}\n` : '')
  );
}

describe('deeply nested YAML', () => {
  // 4,000 levels overflowed the fast reader's stack (exit 70); 1,000 the `yaml` package's, reported as "Maximum call stack size exceeded".
  it.each([
    ['flow sequences', (n: number) => `  x: ${'['.repeat(n)}${']'.repeat(n)}\n`],
    ['flow mappings', (n: number) => `  x: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`],
    ['block mappings', (n: number) => `  x:\n${Array.from({ length: Math.min(n, 3000) }, (_, i) => `${' '.repeat(i + 3)}a:\n`).join('')}`],
    ['compact sequences', (n: number) => `  x:\n   ${'- '.repeat(n)}a\n`],
  ])('%s 300, 4,000 and 100,000 deep: one line naming the limit, exit 1', (_, body) => {
    for (const n of [300, 4000, 100_000]) {
      const p = file('deep.yaml', HEAD + body(n));
      const r = podwire('validate', p);
      expect(r.code).toBe(1);
      expect(r.errLines).toHaveLength(1);
      expect(r.errLines[0]).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: YAML: nested (more than 256 levels deep \\(podwire's limit|too deeply to read \\(podwire reads at most 256 levels)`));
      expectNoStack(r.err);
    }
  });

  it('200 levels are read as before (the field is then unknown)', () => {
    const p = file('deep200.yaml', HEAD + `  x: ${'['.repeat(200)}${']'.repeat(200)}\n`);
    expect(podwire('validate', p).errLines).toEqual([`${p}:5:3: spec.x: unknown field "x"`]);
  });
});

describe('names too long for the files and packets they become', () => {
  it('a 70,000-character host name (a pcapng if_name option holds 65,535 bytes) is refused at the field', () => {
    const long = 'a'.repeat(70_000);
    const p = file('longhost.yaml', TWO_HOSTS.replaceAll('a/eth0', `${long}/eth0`).replace('{name: a,', `{name: "${long}",`) + '  traffic: [{type: ping, from: b, to: 10.0.0.1, count: 1}]\n');
    const r = podwire('validate', p);
    expect(r.code).toBe(1);
    expect(r.errLines[0]).toBe(`${p}:5:18: spec.hosts[0].name: at most 253 characters (a DNS subdomain name)`);
    expect(r.errLines).toHaveLength(1);
  });

  it('a flow name too long for NAME.hgrm.tmp-PID is refused at the field (it was ENAMETOOLONG, exit 70, after the run)', () => {
    const p = file('longflow.yaml', TWO_HOSTS + `  traffic: [{name: ${'f'.repeat(239)}, type: ping, from: b, to: 10.0.0.1, count: 1}]\n`);
    const r = podwire('run', p, '--out', join(dir, 'o-longflow'));
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([`${p}:7:20: spec.traffic[0].name: at most 238 characters (the flow's NAME.hgrm.tmp-PID is one file name of at most 255 bytes)`]);
  });

  it('a flow named after a long URL gets a cut name with a hash, and its .hgrm is written', () => {
    const out = join(dir, 'o-longurl');
    const r = podwire('run', file('longurl.yaml', cluster(`{type: http, from: pod/web, to: "http://web/${'p'.repeat(300)}", count: 1}`)), '--out', out, '--no-report');
    expect(r.code).toBe(0);
    expectNoStack(r.err);
    const hgrm = readdirSync(out).filter((f) => f.endsWith('.hgrm'));
    expect(hgrm).toHaveLength(1);
    expect(hgrm[0]).toMatch(/^http-pod-web-http---web-p+-[0-9a-f]{8}\.hgrm$/);
    expect(hgrm[0]!.length).toBe(238 + 5);
  });
});

describe('DNS names that cannot be put in a query', () => {
  it('a lookup with a 100-octet label fails as glibc fails it (NO_RECOVERY, nothing sent), not with exit 70', () => {
    const out = join(dir, 'o-label');
    const r = podwire('run', file('label.yaml', cluster(`{type: dns, name: d1, from: pod/web, lookup: "${'a'.repeat(100)}.com", count: 1}`)), '--out', out, '--no-report');
    expect(r.code).toBe(0);
    expectNoStack(r.err);
    const flow = (JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { flows: { name: string; sent: number; errors: number }[] }).flows.find((f) => f.name === 'd1')!;
    expect(flow).toMatchObject({ sent: 1, errors: 1 });
    expect(r.out).toMatch(/d1: err 1 \(dns=1\)/);
  });

  it('an http URL whose host has a 100-octet label: the request fails in the resolver', () => {
    const r = podwire('run', file('urllabel.yaml', cluster(`{type: http, name: h1, from: pod/web, to: "http://${'a'.repeat(100)}/", count: 1}`)), '--out', join(dir, 'o-urllabel'), '--no-report');
    expect(r.code).toBe(0);
    expectNoStack(r.err);
    expect(r.out).toMatch(/h1: err 1 /);
  });

  it('an ExternalName Service with a label past 63 characters is refused as the API server refuses it', () => {
    const p = file('extname.yaml', cluster('{type: dns, name: d1, from: pod/web, lookup: ext, count: 1}', `apiVersion: v1\nkind: Service\nmetadata: { name: ext }\nspec: { type: ExternalName, externalName: "${'a'.repeat(64)}.example.com" }`));
    const r = podwire('validate', p);
    expect(r.code).toBe(1);
    expect(r.errLines).toEqual([`${p}:25:43: spec.externalName: expected a lower-case RFC 1123 subdomain (labels of at most 63 characters, at most 253 in all)`]);
  });
});

describe('--redis pointing at no server', () => {
  // Before: `podwire worker` printed a 9-line error dump every ~1.6 s until killed; `sweep --redis` too.
  it.each([
    ['worker', ['worker', '--redis', 'redis://127.0.0.1:1', '--concurrency', '1']],
    ['sweep', ['sweep', 'scenarios/docker0-bridge.yaml', '--seeds', '1..2', '--redis', 'redis://127.0.0.1:1', '--quiet']],
  ])('%s: one line naming the URL and the cause, exit 2, at once', (_, args) => {
    const t0 = Date.now();
    const r = podwire(...args!, ...(args![0] === 'sweep' ? ['--out', join(dir, 'sweep-noredis')] : []));
    expect(r.code).toBe(2);
    expect(r.errLines.filter((l) => !l.startsWith('podwire sweep: '))).toEqual(['podwire: --redis: cannot connect to redis://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1']);
    expectNoStack(r.err);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});

describe('many problems, one field', () => {
  it('a file with 1,000 YAML errors prints the first 100 and counts the rest', () => {
    const p = file('flood.yaml', HEAD + '  hosts: []\n' + '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n}\n'.repeat(1000));
    const r = podwire('validate', p);
    expect(r.code).toBe(1);
    expect(r.errLines).toHaveLength(101);
    expect(r.errLines[0]).toBe(`${p}:10:1: YAML: Unexpected flow-map-end token in YAML stream: "}"`);
    expect(r.errLines[100]).toBe('podwire: … and 900 more problems (1,000 in all; the first 100 are shown)');
  });

  it('a duration written with an exponent is one problem, not two', () => {
    const p = file('dur.yaml', HEAD + '  duration: 1e9s\n');
    expect(podwire('validate', p).errLines).toEqual([`${p}:5:13: spec.duration: expected a duration like 10ms, 1.5s, 250us`]);
  });
});

describe('a modelled kind name in another API group', () => {
  it('Knative\'s serving.knative.dev/v1 Service (and a CRD Pod) warn as unmodelled kinds, as kubectl applies them as CRDs; they were errors ("expected v1")', () => {
    const p = file('knative.yaml', HEAD + '  hosts: [{ name: a }]\n---\napiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: hello\nspec:\n  template:\n    spec:\n      containers:\n        - image: ghcr.io/knative/helloworld-go:latest\n          ports: [{ containerPort: 8080 }]\n---\napiVersion: example.com/v1\nkind: Pod\nmetadata: { name: p }\n');
    const r = podwire('validate', p);
    expect(r.code).toBe(0);
    expect(r.errLines).toEqual([`${p}:8:7: warning: kind: Service.serving.knative.dev is not modelled by podwire and is ignored`, `${p}:19:7: warning: kind: Pod.example.com is not modelled by podwire and is ignored`]);
  });

  it('a modelled kind without apiVersion, or with another version of its own group, is still an error', () => {
    for (const head of ['apiVersion: v2\n', '']) {
      const p = file('v2pod.yaml', cluster('{type: ping, from: pod/web, to: pod/web, count: 1}', `${head}kind: Pod\nmetadata: { name: p }\nspec: { containers: [{ name: c, image: x }] }`));
      const r = podwire('validate', p);
      expect(r.code).toBe(1);
      expect(r.errLines).toEqual([`${p}:${head ? '22:13' : '22:1'}: apiVersion: ${head ? 'expected "v1", got "v2"' : 'missing: expected "v1"'}`]);
    }
  });
});
