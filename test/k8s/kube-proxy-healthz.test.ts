// kube-proxy's health servers (k8s/kube-proxy/healthz.ts): the cases of kube-proxy's own
// pkg/proxy/healthcheck/healthcheck_test.go (TestHealthzServer, TestLivezServer with a 10 s health
// timeout and 25 s clock steps; one IP family here), the service health server's answer, and the
// API server's healthCheckNodePort allocation (service-registry.ts).
import { describe, expect, it } from 'vitest';
import { RngFactory } from '../../src/core/rng.js';
import type { UserError } from '../../src/core/user-error.js';
import { objectMeta, type Node } from '../../src/k8s/api/objects.js';
import { goTime, ProxyHealth, proxyHealthResponse, serviceHealthResponse, TO_BE_DELETED_TAINT } from '../../src/k8s/kube-proxy/healthz.js';
import { admitServices, serviceAllocator } from '../../src/k8s/service-registry.js';

const S = 1e9;
const node = (tweak: (n: Node) => void = () => {}): Node => {
  const n: Node = { kind: 'Node', metadata: objectMeta('', 'node1'), spec: { taints: [] }, status: { internalIP: 0, ready: true, reason: 'KubeletReady' } };
  tweak(n);
  return n;
};
const tainted = (key: string) => (n: Node) => n.spec!.taints!.push({ key, effect: 'NoSchedule' });
const deleted = (n: Node) => {
  n.metadata.deletionTimestamp = 1;
};

/** testProxierHealthUpdater, one IP family: 200 by default, 503 once a queued update outlives the timeout. */
function updaterSequence(path: '/healthz' | '/livez'): number[] {
  const h = new ProxyHealth(10 * S);
  let now = 1000 * S;
  const codes: number[] = [];
  const check = () => codes.push(proxyHealthResponse(h, path, now).status);
  check(); // 200 by default
  h.updated(now);
  check(); // 200 after the first update
  now += 25 * S;
  check(); // 200 while nothing is queued
  h.queuedUpdate(now);
  now += 25 * S;
  check(); // 503: the queued update is older than the timeout
  h.updated(now);
  now += 5 * S;
  check(); // 200 after processing it
  h.queuedUpdate(now);
  h.queuedUpdate(now + 20 * S); // only the oldest counts
  now += 25 * S;
  check(); // 503
  h.updated(now);
  check(); // 200
  return codes;
}

describe('kube-proxy /healthz and /livez (healthcheck_test.go)', () => {
  it('TestHealthzServer: the updater sequence, then node eligibility', () => {
    expect(updaterSequence('/healthz')).toEqual([200, 200, 200, 503, 200, 503, 200]);
    const h = new ProxyHealth(10 * S);
    h.updated(0);
    const code = () => proxyHealthResponse(h, '/healthz', S).status;
    h.syncNode(node(tainted('other')));
    expect(code()).toBe(200);
    h.syncNode(node(tainted(TO_BE_DELETED_TAINT)));
    expect(code()).toBe(503);
    h.syncNode(node(tainted('other')));
    expect(code()).toBe(200);
    h.syncNode(node(deleted));
    expect(code()).toBe(503);
  });

  it('TestLivezServer: the same updater sequence, and node syncs do not matter', () => {
    expect(updaterSequence('/livez')).toEqual([200, 200, 200, 503, 200, 503, 200]);
    const h = new ProxyHealth(10 * S);
    h.updated(0);
    for (const t of [tainted('other'), tainted(TO_BE_DELETED_TAINT), tainted('other'), deleted]) {
      h.syncNode(node(t));
      expect(proxyHealthResponse(h, '/livez', S).status).toBe(200);
    }
  });

  it('the /healthz body: lastUpdated = now when healthy, the last update when not; JSON headers', () => {
    const h = new ProxyHealth(60 * S);
    h.updated(2 * S);
    const ok = proxyHealthResponse(h, '/healthz', 5.5 * S);
    expect(ok.body).toBe('{"lastUpdated": "1970-01-01 00:00:05.5 +0000 UTC","currentTime": "1970-01-01 00:00:05.5 +0000 UTC", "nodeEligible": true}');
    expect(JSON.parse(ok.body)).toMatchObject({ nodeEligible: true });
    expect(ok.headers).toEqual([
      ['Content-Type', 'application/json'],
      ['X-Content-Type-Options', 'nosniff'],
    ]);
    h.queuedUpdate(3 * S);
    const bad = proxyHealthResponse(h, '/healthz', 70 * S);
    expect(bad.status).toBe(503);
    expect(JSON.parse(bad.body)).toEqual({ lastUpdated: '1970-01-01 00:00:02 +0000 UTC', currentTime: '1970-01-01 00:01:10 +0000 UTC', nodeEligible: true });
    expect(goTime(null)).toBe('0001-01-01 00:00:00 +0000 UTC');
  });
});

describe('the healthCheckNodePort server (service_health.go hcHandler)', () => {
  it('200 with local endpoints and a healthy proxy, 503 otherwise; weight header and body', () => {
    const r = serviceHealthResponse('a', 'b', 2, true);
    expect(r.status).toBe(200);
    expect(r.headers).toContainEqual(['X-Load-Balancing-Endpoint-Weight', '2']);
    expect(r.headers).toContainEqual(['Content-Type', 'application/json']);
    expect(r.headers).toContainEqual(['X-Content-Type-Options', 'nosniff']);
    expect(JSON.parse(r.body)).toEqual({ service: { namespace: 'a', name: 'b' }, localEndpoints: 2, serviceProxyHealthy: true });
    // TestServerWithSelectiveListeningAddress: a synced service without endpoints answers 503 with 0.
    const none = serviceHealthResponse('a', 'b', 0, true);
    expect(none.status).toBe(503);
    expect(JSON.parse(none.body).localEndpoints).toBe(0);
    expect(serviceHealthResponse('a', 'b', 3, false).status).toBe(503);
  });
});

describe('healthCheckNodePort allocation (kube-apiserver)', () => {
  const admit = (spec: Record<string, unknown>) => {
    const errors: UserError[] = [];
    const rngs = new RngFactory(1);
    const alloc = serviceAllocator('10.96.0.0/12', (n) => rngs.stream(n), []);
    alloc.cloudProvider = true;
    const err = (path: (string | number)[], message: string): UserError => ({ file: 't.yaml', line: 1, col: 1, field: path.join('.'), message });
    const out = admitServices([{ kind: 'Service', value: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, nodePort: 30080 }], ...spec } }, error: err }], alloc, errors, []);
    return { svc: out[0], errors: errors.map((e) => e.message) };
  };

  it('an ETP=Local LoadBalancer Service gets one from the node-port range, after its ports', () => {
    const { svc, errors } = admit({ type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
    expect(errors).toEqual([]);
    expect(svc!.healthCheckNodePort).toBeGreaterThanOrEqual(30000);
    expect(svc!.healthCheckNodePort).toBeLessThanOrEqual(32767);
    expect(svc!.healthCheckNodePort).not.toBe(30080);
  });

  it('a requested one is kept; ETP=Cluster or NodePort Services get none and may not ask', () => {
    expect(admit({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 31999 }).svc!.healthCheckNodePort).toBe(31999);
    expect(admit({ type: 'LoadBalancer' }).svc!.healthCheckNodePort).toBeNull();
    expect(admit({ type: 'NodePort', externalTrafficPolicy: 'Local' }).svc!.healthCheckNodePort).toBeNull();
    expect(admit({ type: 'NodePort', healthCheckNodePort: 31000 }).errors).toEqual(['healthCheckNodePort needs type LoadBalancer with externalTrafficPolicy Local']);
    expect(admit({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30080 }).errors).toEqual(['node port 30080 is already allocated']);
  });

  it('loadBalancerSourceRanges are normalised CIDRs (a bare address is /32); bad ones are errors', () => {
    expect(admit({ type: 'LoadBalancer', loadBalancerSourceRanges: ['10.100.11.100', '192.168.1.7/24'] }).svc!.loadBalancerSourceRanges).toEqual(['10.100.11.100/32', '192.168.1.0/24']);
    expect(admit({ type: 'LoadBalancer', loadBalancerSourceRanges: ['nope'] }).errors).toEqual(['"nope" is not a CIDR']);
  });
});
