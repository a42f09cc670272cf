// scenarios/gateway-api.yaml held to its header: users outside the cluster, NGINX Gateway Fabric's nginx
// behind the chart's LoadBalancer Service, a 90/10 weighted split, a header-matched rule, an HTTP → HTTPS
// redirect, 404s for no match and an unnamed host.
//
//   user ──DNS──▶ dns ── user ──▶ 10.100.13.240:80/443 ──kube-proxy──▶ nginx-gateway pod :80/:443 ──▶ pod IP:8080
//
// Outcomes are read from stats.json (what a user sees) and the proxy's access log; the headers at the pods
// from the capture with tshark; every interface on the paths is clean in tshark.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccessLogEntry, L7Proxy } from '../../src/app/l7-proxy.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { hasTshark, NO_TSHARK, TSHARK, TSHARK_ARGS } from '../helpers/tshark.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'podwire-gateway-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const inTshark = hasTshark() ? 'tshark' : `tshark — skipped: ${NO_TSHARK}`;

const loaded = loadScenarioFile(join(ROOT, 'scenarios', 'gateway-api.yaml'));
const w = buildWorld(loaded, 7);
const log: AccessLogEntry[] = [];
for (const s of w.controlPlane!.gateway!.sinks) (s as L7Proxy).onAccessLog = (e) => log.push(e);
const res = runWorld(w, { outDir: dir, format: 'pcapng', snaplen: 262144 });
interface Flow {
  name: string;
  sent: number;
  received: number;
  errors: number;
  errorsByKind: Record<string, number>;
  endpoints: { name: string; requests: number }[];
}
const stats = JSON.parse(readFileSync(res.files.stats, 'utf8')) as { flows: Flow[]; counters: Record<string, Record<string, number>> };
const flow = (name: string) => stats.flows.find((f) => f.name === name)!;
const deployment = (pod: string) => pod.replace(/-[a-z0-9]+-[a-z0-9]+$/, '');
const served = (f: Flow) => {
  const m = new Map<string, number>();
  for (const e of f.endpoints) m.set(deployment(e.name), (m.get(deployment(e.name)) ?? 0) + e.requests);
  return m;
};

describe('scenarios/gateway-api.yaml', () => {
  it('the Gateway is Accepted and Programmed with the LoadBalancer address, each route Accepted with its refs resolved', () => {
    const gw = w.controlPlane!.gateway!;
    const c = gw.conditions();
    expect(c.filter((x) => x.status !== (x.type === 'Conflicted' ? 'False' : 'True'))).toEqual([]);
    expect(c.find((x) => x.object === 'Gateway/default/cafe')!.scope).toBe('addresses 10.100.13.240');
    expect(c.filter((x) => x.object.startsWith('HTTPRoute/') && x.type === 'Accepted').map((x) => x.object)).toEqual(['HTTPRoute/default/cafe-redirect', 'HTTPRoute/default/coffee', 'HTTPRoute/default/tea']);
  });

  it('the 90/10 split: the coffee flow is served by the three coffee pods, the coffee-v2 pod taking about 10 % (within 3 sigma of 40 in 400)', () => {
    const f = flow('coffee');
    expect(f.received).toBe(400);
    const by = served(f);
    expect([...by.keys()].sort()).toEqual(['coffee-v1', 'coffee-v2']);
    expect(f.endpoints).toHaveLength(3);
    expect(by.get('coffee-v2')!).toBeGreaterThanOrEqual(21);
    expect(by.get('coffee-v2')!).toBeLessThanOrEqual(59);
    expect(by.get('coffee-v1')! + by.get('coffee-v2')!).toBe(400);
  });

  it('the header match: tea-beta requests (X-Beta: true) only reach the tea-beta pod, tea requests only the tea pods', () => {
    expect([...served(flow('tea-beta')).entries()]).toEqual([['tea-beta', 30]]);
    expect([...served(flow('tea')).entries()]).toEqual([['tea', 30]]);
  });

  it('plain HTTP gets 301 to https://cafe.example.com/coffee?size=large (no port: https on 443), counted as status-301', () => {
    const f = flow('plain-http');
    expect(f.received).toBe(10);
    expect(f.errors).toBe(0);
    const redirects = log.filter((e) => e.uri.startsWith('/coffee?size'));
    expect(redirects.map((e) => e.status)).toEqual(Array(10).fill(301));
    const counters = Object.entries(stats.counters['nginx-gateway']!).filter(([k]) => k.endsWith('/status-301'));
    expect(counters.map(([, v]) => v)).toEqual([10]);
  });

  it('no matching rule on the cafe.example.com server, and a host no route names: 404 (errors of kind protocol)', () => {
    for (const name of ['no-match', 'other-host']) {
      expect(flow(name).errorsByKind['protocol']).toBe(5);
      expect(flow(name).received).toBe(0);
    }
    expect(log.filter((e) => e.host.startsWith('shop.example.com')).map((e) => e.status)).toEqual(Array(5).fill(404));
    expect(log.filter((e) => e.uri === '/water').map((e) => e.status)).toEqual(Array(5).fill(404));
  });

  it.skipIf(!hasTshark())(`the pods get X-Forwarded-For: 10.100.13.100 (externalTrafficPolicy Local keeps the user's address) and X-Forwarded-Proto https; the user sees Location https://cafe.example.com/coffee?size=large; every interface on the path is clean in ${inTshark}`, () => {
    const files = splitPcapngPerInterface(readFileSync(res.files.capture), dir);
    const xff = new Set<string>();
    const flagged: string[] = [];
    for (const [name, file] of files) {
      if (!/^(user|node\d|nginx-gateway|coffee|tea)/.test(name)) continue;
      const out = execFileSync(TSHARK, ['-r', file, ...TSHARK_ARGS, '-Y', '_ws.malformed or _ws.expert.severity >= 8388608', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      if (out.trim() !== '') flagged.push(name);
      if (name === 'user/eth0') {
        const loc = execFileSync(TSHARK, ['-r', file, ...TSHARK_ARGS, '-Y', 'http.response.code == 301', '-T', 'fields', '-e', 'http.location'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        expect(loc.trim().split('\n')).toEqual(Array(10).fill('https://cafe.example.com/coffee?size=large'));
      }
      if (!name.startsWith('coffee')) continue;
      const hdrs = execFileSync(TSHARK, ['-r', file, ...TSHARK_ARGS, '-Y', 'http.request', '-T', 'fields', '-e', 'http.x_forwarded_for', '-e', 'http.request.line'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      for (const line of hdrs.trim().split('\n')) {
        xff.add(line.split('\t')[0]!);
        expect(line).toContain('X-Forwarded-Proto: https');
      }
    }
    expect(flagged).toEqual([]);
    expect([...xff]).toEqual(['10.100.13.100']);
  });
});
