// Issue 9 "Done means": manifests nobody on the project wrote — microservices-demo's
// release/kubernetes-manifests.yaml and the kubernetes/examples guestbook all-in-one — run unmodified
// after a Scenario document that only adds nodes and traffic: they validate with warnings only (the
// ServiceAccounts, once), every container serves its declared port without podwire annotations, and
// every request of every flow is answered. The manifests are embedded verbatim (fixtures/) and written
// with the Scenario into a temporary file, as a user would concatenate them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { formatUserError } from '../../src/scenario/errors.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { BOUTIQUE, GUESTBOOK } from './fixtures/upstream-manifests.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-upstream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BOUTIQUE_SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: boutique }
spec:
  cluster:
    dns: { enabled: true }
    nodes: [{ name: node1 }, { name: node2 }, { name: node3 }]
  # The containers' readiness probes gate the endpoints: frontend's has initialDelaySeconds 10, so the
  # traffic starts once every Service has ready endpoints (probe, then EndpointSlice 1 s, rules 1 s).
  traffic:
    - { name: shoppers, type: http, from: deployment/loadgenerator, to: "http://frontend/", count: 20, rate: 20, start: 15s }
    - { name: cart, type: tcp, from: deployment/cartservice, to: "redis-cart:6379", count: 10, rate: 20, start: 15s }
    - { name: checkout, type: tcp, from: deployment/frontend, to: "checkoutservice:5050", count: 10, rate: 20, connection: keep-alive, start: 15s }
    - { name: payment, type: tcp, from: deployment/checkoutservice, to: "svc/paymentservice:50051", count: 5, rate: 20, start: 15s }
    - { name: catalog-name, type: dns, from: deployment/recommendationservice, lookup: productcatalogservice, count: 2, start: 15s }
---
`;

const GUESTBOOK_SCENARIO = `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: guestbook }
spec:
  cluster:
    dns: { enabled: true }
    nodes: [{ name: node1 }, { name: node2 }]
  traffic:
    - { name: visitors, type: http, from: deployment/redis-master, to: "http://frontend/", count: 20, rate: 20 }
    - { name: writes, type: tcp, from: deployment/frontend, to: "redis-master:6379", count: 10, rate: 20 }
    - { name: reads, type: tcp, from: deployment/frontend, to: "redis-replica:6379", count: 10, rate: 20 }
---
`;

interface Flow {
  name: string;
  requests: number;
  successes: number;
  errors: number;
}

function run(name: string, text: string) {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  const loaded = loadScenarioFile(file);
  const world = buildWorld(loaded, 1);
  const res = runWorld(world, { outDir: join(dir, name), format: 'pcapng', snaplen: 262144 });
  const flows = res.stats.flows as Flow[];
  return { world, warnings: world.warnings.map(formatUserError), flows, counters: res.stats.counters };
}

describe('upstream manifests run as they run on a cluster', () => {
  it('microservices-demo: ServiceAccounts warn once, every request is answered', () => {
    const r = run('boutique', BOUTIQUE_SCENARIO + BOUTIQUE);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/^.*boutique\.yaml:\d+:7: kind: ServiceAccount is not modelled by podwire and is ignored \(11 objects\)$/);
    expect(r.world.cluster!.pods.filter((p) => p.namespace === 'default')).toHaveLength(12);
    expect(r.flows.map((f) => [f.name, f.requests, f.successes, f.errors])).toEqual([
      ['cart', 10, 10, 0],
      ['catalog-name', 2, 2, 0],
      ['checkout', 10, 10, 0],
      ['payment', 5, 5, 0],
      ['shoppers', 20, 20, 0],
    ]);
    expect(r.counters['no-listener']).toBeUndefined();
  });

  it('guestbook all-in-one: no warnings, every request is answered', () => {
    const r = run('guestbook', GUESTBOOK_SCENARIO + GUESTBOOK);
    expect(r.warnings).toEqual([]);
    expect(r.flows.map((f) => [f.name, f.requests, f.successes, f.errors])).toEqual([
      ['reads', 30, 30, 0],
      ['visitors', 20, 20, 0],
      ['writes', 30, 30, 0],
    ]);
    expect(r.counters['no-listener']).toBeUndefined();
  });
});
