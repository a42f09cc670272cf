// stats.json flows[].endpoints for dns flows: the CoreDNS pod whose reply gave a lookup its addresses,
// noted by the server itself against the client's address and port (app/answered-by), never carried
// on the wire — after the resolver's retries too.
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { corednsPodsOf } from '../../src/k8s/coredns.js';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { DnsRcode } from '../../src/wire/dns.js';
import { ROOT, runScenario } from '../integration/run-scenario.js';

interface FlowEp { name: string; requests: number; share: number; connections: number; bytes: number }
interface Stats {
  flows: { name: string; requests: number; successes: number; endpoints: FlowEp[] }[];
}

describe('per-flow endpoints of dns flows', () => {
  it('scenarios/dns: every answered lookup names a CoreDNS pod; a failed one names none', () => {
    const out = runScenario(join(ROOT, 'scenarios/dns.yaml'), 7);
    rmSync(out.dir, { recursive: true, force: true });
    const s = JSON.parse(out.stats.toString()) as Stats;
    const world = buildWorld(loadScenarioFile(join(ROOT, 'scenarios/dns.yaml')), 7);
    const coredns = corednsPodsOf(world.cluster!.pods).map((p) => p.name);
    expect(coredns).toHaveLength(2);
    for (const name of ['lookup-web', 'lookup-example']) {
      const f = s.flows.find((x) => x.name === name)!;
      expect(f.successes).toBeGreaterThan(0);
      expect(f.endpoints.length).toBeGreaterThan(0);
      for (const e of f.endpoints) {
        expect(coredns).toContain(e.name);
        expect(e.connections).toBe(0);
        expect(e.bytes).toBe(0);
      }
      expect(f.endpoints.reduce((a, e) => a + e.requests, 0)).toBe(f.successes);
      expect(f.endpoints.reduce((a, e) => a + e.share, 0)).toBeCloseTo(1, 5);
    }
    const missing = s.flows.find((x) => x.name === 'lookup-missing')!;
    expect(missing.successes).toBe(0);
    expect(missing.endpoints).toEqual([]);
  });

  it('a CoreDNS pod that refuses every query is never named: the lookups retried onto the other pod name it', () => {
    const world = buildWorld(loadScenarioFile(join(ROOT, 'scenarios/dns.yaml')), 7);
    const pods = corednsPodsOf(world.cluster!.pods);
    const servers = world.controlPlane!.failures.dnsServers;
    expect(servers).toHaveLength(2);
    // Server i runs in pods[i] (startClusterDns keeps corednsPods order): the first one refuses everything.
    servers[0]!.chaos = () => ({ kind: 'rcode', rcode: DnsRcode.REFUSED });
    world.sim.run();
    expect(servers[0]!.counters.responses.REFUSED).toBeGreaterThan(0);
    const f = world.stats.flow('lookup-web');
    expect(f.successes).toBeGreaterThan(0);
    expect([...f.byEndpoint.keys()]).toEqual([pods[1]!.name]);
    expect(f.byEndpoint.get(pods[1]!.name)!.requests).toBe(f.successes);
  });
});
