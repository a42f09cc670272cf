// stats.json flows[].endpoints for tcp and udp flows through a LoadBalancer Service from outside the
// cluster (scenarios/lb-per-service.yaml under each provider that keeps the client's packets): kube-proxy
// masquerades them (externalTrafficPolicy Cluster), so the backend sees the node's address, not the
// client's; the flow still names the pod that answered (app/answered-by: the TCP client's ISN, the UDP
// datagram echoed), as the servers themselves count it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StatsDocument } from '../../src/stats/index.js';
import { ROOT, runScenario } from '../integration/run-scenario.js';

const tmp = mkdtempSync(join(tmpdir(), 'pw-flow-ep-lb-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const base = readFileSync(join(ROOT, 'scenarios/lb-per-service.yaml'), 'utf8');

describe('per-flow endpoints of tcp and udp flows through a LoadBalancer Service', () => {
  for (const provider of ['gcp', 'aws-nlb', 'azure', 'metallb-l2', 'metallb-bgp']) {
    it(`${provider}: the tcp flow's endpoints are what each cache pod served; the udp flow names its echoing pod`, () => {
      const file = join(tmp, `${provider}.yaml`);
      writeFileSync(file, base.replace('provider: gcp,', `provider: ${provider},`));
      const out = runScenario(file, 7);
      rmSync(out.dir, { recursive: true, force: true });
      const s = JSON.parse(out.stats.toString()) as StatsDocument;
      const flow = (name: string) => s.flows.find((f) => f.name === name)!;
      const tcp = flow('tcp-to-cache');
      expect(tcp.successes).toBe(10);
      const served = Object.fromEntries(s.endpoints.filter((e) => e.name.startsWith('cache-')).map((e) => [e.name, e.served]));
      expect(Object.fromEntries((tcp.endpoints ?? []).map((e) => [e.name, e.requests]))).toEqual(served);
      for (const e of tcp.endpoints ?? []) expect(e.connections).toBe(e.requests);
      // (azure: no health probe for a UDP-only Service, as cloud-provider-azure makes none; podwire's TCP check of the
      // UDP NodePort was refused, every node turned unhealthy and the LB dropped every datagram)
      const udp = flow('udp-to-game');
      expect(udp.successes).toBe(10);
      expect((udp.endpoints ?? []).reduce((a, e) => a + e.requests, 0)).toBe(10);
      for (const e of udp.endpoints ?? []) expect(e.name).toMatch(/^game-/);
    });
  }
});
