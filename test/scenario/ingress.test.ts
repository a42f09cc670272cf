// The two Ingress scenarios end to end: seed 002's Ingress (extensions/v1beta1, converted) and a fanout
// behind one host, from users outside the cluster through ingress-nginx to the pods.
//
//   user ──DNS──▶ dns ── user ──▶ NODE:30080 / LB IP:80 ──kube-proxy──▶ controller pod :80 ──▶ pod IP:8080
//
// Routing outcomes and balancing are read from the controller's access log (what nginx logs per
// request: status, upstream, $upstream_addr); the headers at the pods are read back from the capture
// with tshark on the pods' own interfaces; every interface is clean in tshark.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AccessLogEntry, L7Proxy } from '../../src/app/l7-proxy.js';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { formatUserError } from '../../src/scenario/errors.js';
import { loadScenarioFile, loadScenarioText } from '../../src/scenario/load.js';
import { runWorld, type RunResult } from '../../src/scenario/run.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { hasTshark, NO_TSHARK, TSHARK, TSHARK_ARGS, tsharkCheck, tsharkRecords } from '../helpers/tshark.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'podwire-ingress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const inTshark = hasTshark() ? 'tshark' : `tshark — skipped: ${NO_TSHARK}`;

interface Ran {
  w: World;
  res: RunResult;
  log: AccessLogEntry[];
  /** The access log of each controller pod, in attach order. */
  perPod: AccessLogEntry[][];
  outDir: string;
}

function run(name: string): Ran {
  const loaded = loadScenarioFile(join(ROOT, 'scenarios', `${name}.yaml`));
  const w = buildWorld(loaded, loaded.scenario.spec.seed ?? 1);
  const log: AccessLogEntry[] = [];
  const perPod = w.controlPlane!.ingress!.sinks.map((s) => {
    const mine: AccessLogEntry[] = [];
    (s as L7Proxy).onAccessLog = (e) => {
      log.push(e);
      mine.push(e);
    };
    return mine;
  });
  const outDir = join(dir, name);
  const res = runWorld(w, { outDir, format: 'pcapng', snaplen: 262144 });
  return { w, res, log, perPod, outDir };
}

/** Pod name of an "ip:port" endpoint. */
function podAt(w: World, ep: string): string {
  const ip = ep.split(':')[0];
  return w.cluster!.pods.find((p) => formatIpv4(p.ip) === ip)!.name.replace(/-[a-z0-9]+-[a-z0-9]+$/, '');
}

/** status and Deployment that served each request of the flow whose Host/path match. */
function outcomes(r: Ran, host: string, uri: string): string[] {
  return r.log.filter((e) => e.host.startsWith(host) && e.uri === uri).map((e) => (e.status === 200 ? podAt(r.w, e.endpoints.at(-1)!) : String(e.status)));
}

/** Per-interface pcapng files (tshark follows TCP per conversation: one file per interface reads each hop alone). */
const splits = new Map<Ran, Map<string, string>>();
function perInterface(r: Ran): Map<string, string> {
  let m = splits.get(r);
  if (!m) splits.set(r, (m = splitPcapngPerInterface(readFileSync(r.res.files.capture), r.outDir)));
  return m;
}

/** TCP analysis flags and errors on the interfaces of one request's path (a tshark run per interface costs ~3 s, so the hops that matter, not all). */
function cleanPerInterface(r: Ran, match: (ifName: string) => boolean): string[] {
  const flagged: string[] = [];
  for (const [name, file] of perInterface(r)) {
    if (!match(name)) continue;
    const out = execFileSync(TSHARK, ['-r', file, ...TSHARK_ARGS, '-Y', '_ws.malformed or tcp.analysis.flags or _ws.expert.severity >= 8388608', '-T', 'fields', '-e', 'frame.number', '-e', '_ws.expert.message'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (out.trim() !== '') flagged.push(`${name}: ${out.trim().split('\n')[0]}`);
  }
  return flagged;
}

describe('scenarios/flow2-ingress.yaml (seed 002\'s Ingress)', () => {
  const r = run('flow2-ingress');

  it('warns at the apiVersion that extensions/v1beta1 was converted, and at /bar/* that nginx reads "*" literally', () => {
    const lines = r.w.warnings.map(formatUserError);
    const file = join(ROOT, 'scenarios', 'flow2-ingress.yaml');
    const text = readFileSync(file, 'utf8').split('\n');
    const apiLine = text.indexOf('apiVersion: extensions/v1beta1') + 1;
    const barLine = text.findIndex((l) => l.includes('path: /bar/*')) + 1;
    expect(lines).toContain(
      `${file}:${apiLine}:13: apiVersion: extensions/v1beta1 Ingress was removed in Kubernetes 1.16/1.22: use networking.k8s.io/v1 (podwire converts it to networking.k8s.io/v1: spec.backend → defaultBackend, serviceName/servicePort → service.name/port, a missing pathType → ImplementationSpecific)`,
    );
    expect(lines).toContain(`${file}:${barLine}:15: spec.rules[1].http.paths[0].path: ImplementationSpecific path "/bar/*": ingress-nginx matches it as a literal string prefix ("*" is no glob; GCE's controller reads "/*" as one); add nginx.ingress.kubernetes.io/use-regex: "true" for a pattern`);
  });

  it('routes by Host and path: foo.mydomain.com → foo, mydomain.com /bar/* → bar, anything else there → other, no matching Host → 404', () => {
    expect(new Set(outcomes(r, 'foo.mydomain.com:30443', '/'))).toEqual(new Set(['foo']));
    expect(new Set(outcomes(r, 'mydomain.com:30080', '/bar/*'))).toEqual(new Set(['bar']));
    expect(new Set(outcomes(r, 'mydomain.com', '/bar/baz'))).toEqual(new Set(['other']));
    expect(new Set(outcomes(r, 'mydomain.com:30080', '/'))).toEqual(new Set(['other']));
    expect(new Set(outcomes(r, 'mydomain.com:30443', '/'))).toEqual(new Set(['other']));
    expect(outcomes(r, '10.100.11.11', '/')).toEqual(['404', '404', '404', '404', '404']);
    const flows = Object.fromEntries(r.res.stats.flows.map((f) => [f.name, [f.successes, f.errors]]));
    expect(flows).toEqual({ foo: [30, 0], 'foo-http': [3, 0], bar: [20, 0], 'bar-glob': [5, 0], other: [10, 0], 'other-https': [3, 0], 'no-host': [0, 5] });
  });

  it('TLS for one host: plain http to it gets 308 to https://foo.mydomain.com (ssl-redirect, no port), https is proxied as plain HTTP', () => {
    const plain = r.log.filter((e) => e.host === 'foo.mydomain.com:30080');
    expect(plain.map((e) => [e.status, e.endpoints.length])).toEqual([[308, 0], [308, 0], [308, 0]]);
    const tls = r.log.filter((e) => e.host === 'foo.mydomain.com:30443');
    expect(tls.every((e) => e.sent!.headers.some(([k, v]) => k === 'X-Forwarded-Proto' && v === 'https'))).toBe(true);
  });

  it.skipIf(!hasTshark())(`on user/eth0: SNI foo.mydomain.com gets the Secret's 2-certificate RSA chain, mydomain.com the 1-certificate fake one; no TLS expert warning (${inTshark})`, () => {
    const rows = tsharkRecords(perInterface(r).get('user/eth0')!, ['tcp.stream', 'tcp.srcport', 'tls.handshake.extensions_server_name', 'tls.record.length'], ['-d', 'tcp.port==30443,tls', '-Y', 'tls']);
    const sniOf = new Map<string, string>();
    for (const row of rows) if (row['tls.handshake.extensions_server_name']) sniOf.set(row['tcp.stream']!, row['tls.handshake.extensions_server_name']!);
    // Server record lengths per connection, in order (a record spanning segments is listed where it ends).
    const serverLens = new Map<string, string[]>();
    for (const row of rows) {
      if (row['tcp.srcport'] !== '30443') continue;
      const k = row['tcp.stream']!;
      serverLens.set(k, [...(serverLens.get(k) ?? []), ...row['tls.record.length']!.split(',')]);
    }
    const certRecords = new Map<string, Set<string>>();
    for (const [stream, lens] of serverLens) {
      const sni = sniOf.get(stream)!;
      if (!certRecords.has(sni)) certRecords.set(sni, new Set());
      // ServerHello 122, CCS 1, EncryptedExtensions 38 (ALPN http/1.1), then the Certificate record.
      expect(lens.slice(0, 3)).toEqual(['122', '1', '38']);
      certRecords.get(sni)!.add(lens[3]!);
    }
    // Certificate record = 4 + 1 + 3 + Σ(3 + DER + 2) + 17: RSA leaf 899 + intermediate 904 → 1838; fake 953 → 983.
    expect(certRecords.get('foo.mydomain.com')).toEqual(new Set(['1838']));
    expect(certRecords.get('mydomain.com')).toEqual(new Set(['983']));
    const warn = execFileSync(TSHARK, ['-r', perInterface(r).get('user/eth0')!, ...TSHARK_ARGS, '-d', 'tcp.port==30443,tls', '-Y', '_ws.malformed || (_ws.expert.severity >= 6291456 && tls)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(warn.trim()).toBe('');
  });

  it('balances per request over the EndpointSlice\'s pods: the controller alternates between the 2 foo pods, whatever connection a request came on', () => {
    const eps = r.perPod[0]!.filter((e) => e.host === 'foo.mydomain.com:30443').sort((a, b) => a.at - b.at).map((e) => e.endpoints[0]!);
    expect(eps).toHaveLength(30);
    expect(new Set(eps).size).toBe(2);
    for (let i = 2; i < eps.length; i++) expect(eps[i]).toBe(eps[i - 2]);
    // Requests that came on one client connection (keep-alive) went to both pods: balancing is per request.
    const byConn = new Map<string, Set<string>>();
    for (const e of r.perPod[0]!.filter((x) => x.host === 'foo.mydomain.com:30443')) {
      const k = `${e.remoteAddr}:${e.remotePort}`;
      if (!byConn.has(k)) byConn.set(k, new Set());
      byConn.get(k)!.add(e.endpoints[0]!);
    }
    expect(byConn.size).toBeLessThan(30);
    expect([...byConn.values()].some((s) => s.size === 2)).toBe(true);
  });

  it.skipIf(!hasTshark())(`the pods see the proxy's headers (plain HTTP after TLS termination): X-Forwarded-For / X-Real-IP = the address kube-proxy's MASQUERADE left, X-Forwarded-Proto https, X-Request-ID 32 hex (${inTshark})`, () => {
    const ctrl = r.w.cluster!.pods.find((p) => p.name.startsWith('ingress-nginx-controller'))!;
    const foo = r.w.cluster!.pods.filter((p) => p.name.startsWith('foo-'));
    let seen = 0;
    for (const pod of foo) {
      const rows = tsharkRecords(perInterface(r).get(`${pod.name}/eth0`)!, ['ip.src', 'http.request.uri', 'http.host', 'http.x_forwarded_for', 'http.request.line'], ['-Y', 'http.request']);
      for (const row of rows) {
        seen++;
        expect(row['ip.src']).toBe(formatIpv4(ctrl.ip));
        expect(row['http.host']).toBe('foo.mydomain.com:30443');
        const lines = row['http.request.line']!;
        // node1 reaches a pod on its own cni0 (10.244.0.1) or node2's through flannel.1 (10.244.1.0).
        expect(lines).toMatch(/X-Real-IP: 10\.244\.\d\.[01]\\r\\n/);
        expect(lines).toMatch(/X-Request-ID: [0-9a-f]{32}\\r\\n/);
        expect(lines).toContain('X-Forwarded-Proto: https');
        expect(lines).toContain('X-Forwarded-Port: 443');
        expect(row['http.x_forwarded_for']).toMatch(/^10\.244\.\d\.[01]$/);
      }
    }
    expect(seen).toBe(30);
  });

  it.skipIf(!hasTshark())(`is clean in tshark: no malformed frame, no bad checksum, no TCP analysis flag on any interface alone (${inTshark})`, () => {
    const c = tsharkCheck(r.res.files.capture);
    expect(c.malformedFrames, c.errors.join('\n')).toEqual([]);
    expect(c.badChecksumFrames, c.errors.join('\n')).toEqual([]);
    const ctrl = r.w.cluster!.pods.find((p) => p.name.startsWith('ingress-nginx-controller'))!;
    const hops = new Set(['user/eth0', 'node1/eth0', 'node2/eth0', `${ctrl.ns.name}/eth0`, ...r.w.cluster!.pods.filter((p) => p.name.startsWith('foo-')).map((p) => `${p.name}/eth0`)]);
    expect(cleanPerInterface(r, (n) => hops.has(n))).toEqual([]);
  }, 120_000);
});

describe('scenarios/ingress-fanout.yaml (several Services behind one host)', () => {
  const r = run('ingress-fanout');

  it('routes each path to its Service; no endpoints or no Service → 503; another host → 404', () => {
    expect(new Set(outcomes(r, 'shop.example.com', '/'))).toEqual(new Set(['web']));
    expect(new Set(outcomes(r, 'shop.example.com', '/api/items'))).toEqual(new Set(['api', 'api-v2']));
    expect(new Set(outcomes(r, 'shop.example.com', '/cart'))).toEqual(new Set(['503']));
    expect(new Set(outcomes(r, 'shop.example.com', '/admin'))).toEqual(new Set(['503']));
    expect(new Set(outcomes(r, 'other.example.com', '/'))).toEqual(new Set(['404']));
  });

  it('the canary Ingress (weight 20) takes about a fifth of /api; the rest spreads over both stable pods', () => {
    const api = outcomes(r, 'shop.example.com', '/api/items');
    const canary = api.filter((x) => x === 'api-v2').length;
    expect(canary).toBeGreaterThanOrEqual(10);
    expect(canary).toBeLessThanOrEqual(32);
    const stable = r.log.filter((e) => e.uri === '/api/items' && e.upstream === 'default-api-http').map((e) => e.endpoints[0]);
    expect(new Set(stable).size).toBe(2);
  });

  it('both controller pods serve (kube-proxy spreads new connections to the LB IP over them) and count their answers in stats.json', () => {
    const c = r.res.stats.counters['ingress-nginx']!;
    const pods = new Set(Object.keys(c).map((k) => k.split('/')[0]));
    expect(pods.size).toBe(2);
    const sum = (suffix: string) => Object.entries(c).filter(([k]) => k.endsWith(suffix)).reduce((a, [, v]) => a + v, 0);
    expect(sum('/requests')).toBe(180);
    expect(sum('/status-503')).toBe(15);
    expect(sum('/status-404')).toBe(5);
  });

  it('per-request round robin, per controller pod: each pod cycles through the 3 web pods in a fixed order', () => {
    let checked = 0;
    for (const log of r.perPod) {
      // The log is written when a response ends; the balancer picked in arrival order.
      const home = log.filter((e) => e.uri === '/' && e.host.startsWith('shop')).sort((a, b) => a.at - b.at).map((e) => e.endpoints[0]!);
      if (home.length < 6) continue; // kube-proxy sent this pod too few of the user's connections to tell
      checked++;
      expect(new Set(home).size).toBe(3);
      for (let i = 3; i < home.length; i++) expect(home[i]).toBe(home[i - 3]);
    }
    expect(checked).toBeGreaterThan(0);
  });

  it.skipIf(!hasTshark())(`is clean in tshark on every interface (${inTshark})`, () => {
    const c = tsharkCheck(r.res.files.capture);
    expect(c.malformedFrames, c.errors.join('\n')).toEqual([]);
    expect(c.badChecksumFrames, c.errors.join('\n')).toEqual([]);
    const ctrls = r.w.cluster!.pods.filter((p) => p.name.startsWith('ingress-nginx-controller')).map((p) => `${p.ns.name}/eth0`);
    expect(cleanPerInterface(r, (n) => n === 'user/eth0' || ctrls.includes(n) || /^api-v2-.*\/eth0$/.test(n))).toEqual([]);
  }, 120_000);
});

describe('a backend pod fails behind the Ingress (ingress-fanout.yaml with a pod-down fault)', () => {
  // web pod down at 1.5 s: the proxy's attempts to it time out (connect 5 s) and go to the next pod
  // (proxy_next_upstream timeout); at 2.5 s (endpointDelay 1 s) its endpoint turns not ready and the
  // controller pushes a table without it, which the proxies apply at their next 1 s backends sync.
  // The user waits 10 s per request (a 5 s client timeout would give up just as nginx retries).
  const loaded0 = loadScenarioFile(join(ROOT, 'scenarios', 'ingress-fanout.yaml'));
  const victim = buildWorld(loaded0, 7).cluster!.pods.find((p) => p.name.startsWith('web-'))!;
  const text = readFileSync(join(ROOT, 'scenarios', 'ingress-fanout.yaml'), 'utf8')
    .replace('to: "http://shop.example.com/", rate: 50, count: 60', 'to: "http://shop.example.com/", rate: 50, count: 200, timeout: 10s')
    .replace('  traffic:\n', `  faults: [{ kind: pod-down, target: pod/${victim.name}, at: 1.5s }]\n  traffic:\n`);
  const w = buildWorld(loadScenarioText(text, 'fault.yaml'), 7);
  const log: AccessLogEntry[] = [];
  for (const s of w.controlPlane!.ingress!.sinks) (s as L7Proxy).onAccessLog = (e) => log.push(e);
  const res = runWorld(w, { outDir: join(dir, 'fault'), format: 'pcapng', snaplen: 262144 });
  const dead = `${formatIpv4(victim.ip)}:8080`;
  const home = log.filter((e) => e.uri === '/' && e.host.startsWith('shop'));

  it('the proxy answers every home request 200: a new connection to the dead pod times out after 5 s, a request on a pooled one after 60 s (proxy-read-timeout), then the next pod serves', () => {
    expect(home.map((e) => e.status)).toEqual(home.map(() => 200));
    const slow = home.filter((e) => e.finishedAt - e.at > 10e9);
    expect(slow.length).toBeGreaterThan(0);
    for (const e of slow) {
      expect(e.endpoints[0]).toBe(dead);
      expect(e.finishedAt - e.at).toBeGreaterThanOrEqual(60e9);
    }
    // The user gives up after 10 s on exactly those: its flow counts them as timeouts.
    const flow = res.stats.flows.find((f) => f.name === 'home')!;
    expect(flow.errorsByKind.timeout).toBe(slow.length);
    expect(flow.successes).toBe(200 - slow.length);
    const retried = home.filter((e) => e.endpoints.length > 1);
    expect(retried.length).toBeGreaterThan(0);
    for (const e of retried) {
      expect(e.endpoints[0]).toBe(dead);
      expect(e.status).toBe(200);
      expect(e.endpoints.at(-1)).not.toBe(dead);
    }
  });

  it('requests arriving after the endpoint update (2.5 s) and the next 1 s sync never pick the dead pod', () => {
    const late = home.filter((e) => e.at > 3.6e9);
    expect(late.length).toBeGreaterThan(20);
    expect(late.every((e) => !e.endpoints.includes(dead))).toBe(true);
    const early = home.filter((e) => e.at > 1.5e9 && e.at < 2.5e9);
    expect(early.some((e) => e.endpoints.includes(dead))).toBe(true);
    expect(res.stats.timeline.map((t) => t.what)).toContain('ingress-nginx: configuration built (2 servers, 4 upstreams with 5 endpoints)');
  });
});
