// Chaos Mesh objects as faults: what each translates to, schedules, warnings, and the promise that
// the same network fault written natively or as a NetworkChaos gives byte-identical outputs.
//
//   client (node1) ──HTTP──▶ svc/web ──▶ web-0 (node1), web-1 (node2)
//   NetworkChaos delay on app=web pods from 2 s, partition node1 ↔ node2 (nodes) from 4 s for 2 s
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chaosMeshFaults, tcRate } from '../../src/scenario/chaos-mesh.js';
import { cronFirings } from '../../src/scenario/chaos-cron.js';
import { buildWorld } from '../../src/scenario/build.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { stagesOf, type ChainDevice } from '../../src/link/qdisc.js';

const CLUSTER = (faults: string) => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: cm }
spec:
  duration: 8s
  cluster:
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1, ip: 10.100.11.11 }, { name: node2, ip: 10.100.11.12 }]
  traffic:
    - { name: load, type: http, from: pod/client, to: "svc/web:80", rate: 40, duration: 6s, start: 1s, timeout: 1s, retries: 1 }
  faults:
${faults}
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: web-0, labels: { app: web }, annotations: { podwire.dev/app: http } }
spec: { nodeName: node1, containers: [{ name: w, image: nginx, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: web-1, labels: { app: web }, annotations: { podwire.dev/app: http } }
spec: { nodeName: node2, containers: [{ name: w, image: nginx, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { nodeName: node1, containers: [{ name: c, image: curl }] }
`;

const NATIVE = CLUSTER(`    - { at: 2s, kind: netem, target: { selector: { namespaces: [default], labelSelectors: { app: web } }, mode: all }, delay: 20ms, jitter: 5ms, delayCorrelation: "25%", loss: "2%" }
    - { at: 4s, duration: 2s, kind: partition, target: { selector: { namespaces: [default], nodes: [node1] }, mode: all }, direction: both, peer: { selector: { namespaces: [default], nodes: [node2] }, mode: all } }`);

const CHAOS = `${CLUSTER('    []')}---
apiVersion: chaos-mesh.org/v1alpha1
kind: NetworkChaos
metadata: { name: web-delay, namespace: default, annotations: { podwire.dev/at: 2s } }
spec:
  action: netem
  mode: all
  selector: { labelSelectors: { app: web } }
  delay: { latency: 20ms, jitter: 5ms, correlation: "25" }
  loss: { loss: "2" }
---
apiVersion: chaos-mesh.org/v1alpha1
kind: NetworkChaos
metadata: { name: split, annotations: { podwire.dev/at: 4s } }
spec:
  action: partition
  mode: all
  selector: { nodes: [node1] }
  direction: both
  target: { mode: all, selector: { nodes: [node2] } }
  duration: 2s
`;

function run(text: string, seed: number): { capture: Buffer; stats: Buffer } {
  const w = buildWorld(loadScenarioText(text, 'cm.yaml'), seed);
  const dir = mkdtempSync(join(tmpdir(), 'podwire-cm-'));
  const r = runWorld(w, { outDir: dir, format: 'pcapng', snaplen: 262144 });
  return { capture: readFileSync(r.files.capture), stats: readFileSync(r.files.stats) };
}

describe('Chaos Mesh objects', () => {
  it('NetworkChaos netem and partition (pods on node1 ↔ pods on node2): written either way, byte-identical capture and stats', () => {
    const a = run(NATIVE, 7);
    const b = run(CHAOS.replace('  faults:\n    []', '  faults: []'), 7);
    expect(b.capture.equals(a.capture)).toBe(true);
    expect(b.stats.equals(a.stats)).toBe(true);
    const timeline = JSON.parse(a.stats.toString()).timeline.map((t: { what: string }) => t.what);
    expect(timeline[0]).toMatch(/^netem on pod\/web-0, pod\/web-1: loss 2.00% delay 20ms jitter 5ms/);
    expect(timeline).toContain('partition: pod/web-0, pod/client ↔ pod/web-1 dropped');
    // During the partition the client's connections to web-1 time out: the flow has errors or retries.
    const load = JSON.parse(a.stats.toString()).flows.find((f: { name: string }) => f.name === 'load');
    expect(load.retries + Object.values(load.errors as Record<string, number>).reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
  });

  it('a svc/NAME target is the Service’s endpoint pods when the fault fires: each pod’s eth0 gets the netem', () => {
    const w = buildWorld(loadScenarioText(CLUSTER('    - { at: 2s, duration: 1s, kind: netem, target: svc/web, delay: 20ms }'), 'cm.yaml'), 1);
    const staged: string[] = [];
    w.sim.scheduleAt(2.5e9, () => {
      for (const pod of ['web-0', 'web-1', 'client']) if (stagesOf(w.namespaces.get(pod)!.device('eth0') as ChainDevice).length > 0) staged.push(pod);
    });
    w.sim.run();
    expect(staged).toEqual(['web-0', 'web-1']);
    expect(w.timeline.map((t) => [t.atNs / 1e9, t.what])).toEqual([
      [2, 'netem on pod/web-0, pod/web-1: loss 0.00% delay 20ms jitter 0ms'],
      [3, 'netem on pod/web-0, pod/web-1 removed'],
    ]);
    expect(stagesOf(w.namespaces.get('web-0')!.device('eth0') as ChainDevice)).toEqual([]);
  });

  it('NetworkChaos actions translate to netem / partition / bandwidth with tc units and Chaos Mesh percentages', () => {
    const sink = { errors: [] as string[], warnings: [] as string[] };
    const s = { error: (p: (string | number)[], m: string) => sink.errors.push(`${p.join('.')}: ${m}`), warn: (p: (string | number)[], m: string) => sink.warnings.push(`${p.join('.')}: ${m}`) };
    const obj = (spec: object, meta: object = { name: 'x', namespace: 'shop' }) => ({ kind: 'NetworkChaos', value: { apiVersion: 'chaos-mesh.org/v1alpha1', kind: 'NetworkChaos', metadata: meta, spec } });
    expect(chaosMeshFaults(obj({ action: 'partition', mode: 'one', selector: { labelSelectors: { app: 'a' } }, direction: 'both', target: { mode: 'all', selector: { namespaces: ['db'] } }, duration: '10s' }), null, s)).toEqual([
      { kind: 'partition', at: '0ns', duration: '10000000000ns', target: { selector: { labelSelectors: { app: 'a' }, namespaces: ['shop'] }, mode: 'one' }, direction: 'both', peer: { selector: { namespaces: ['db'] }, mode: 'all' } },
    ]);
    expect(chaosMeshFaults(obj({ action: 'bandwidth', mode: 'all', selector: { pods: { shop: ['a-0'] } }, bandwidth: { rate: '1mbps', limit: 20971520, buffer: 10000 } }), null, s)).toEqual([
      { kind: 'bandwidth', at: '0ns', target: { selector: { pods: { shop: ['a-0'] } }, mode: 'all' }, direction: 'to', rate: '8000000bit', limit: 20971520, buffer: 10000 },
    ]);
    const loss = chaosMeshFaults(obj({ action: 'loss', mode: 'fixed', value: '2', selector: {}, loss: { loss: '25', correlation: '50' }, delay: { latency: '9ms' }, externalTargets: ['10.0.0.9'] }), null, s);
    expect(loss).toEqual([{ kind: 'netem', at: '0ns', target: { selector: { namespaces: ['shop'] }, mode: 'fixed', value: '2' }, direction: 'to', externalTargets: ['10.0.0.9'], loss: '25%', lossCorrelation: '50%' }]);
    const delay = chaosMeshFaults(obj({ action: 'delay', mode: 'all', selector: {}, delay: { latency: '10ms', reorder: { reorder: '25', correlation: '50', gap: 5 } } }), null, s);
    expect(delay[0]).toMatchObject({ delay: '10ms', reorder: '25%', reorderCorrelation: '50%', gap: 5 });
    expect(chaosMeshFaults(obj({ action: 'corrupt', mode: 'all', selector: {} }), null, s)).toEqual([]);
    expect(sink.errors).toEqual(['spec.corrupt: missing: action corrupt needs corrupt']);
    expect(tcRate('8mbit')).toBe('8000000bit');
    expect(tcRate('100kbps')).toBe('800000bit');
  });

  it('PodChaos and DNSChaos become the k8s fault kinds (pod-kill, pod-failure, container-kill, dns-chaos) with a selector target', () => {
    const s = { error: (_p: unknown, m: string) => expect.fail(m), warn: () => {} };
    const pod = (spec: object) => ({ kind: 'PodChaos', value: { metadata: { name: 'p' }, spec: { mode: 'one', selector: { labelSelectors: { app: 'web' } }, ...spec } } });
    const t = { selector: { labelSelectors: { app: 'web' }, namespaces: ['default'] }, mode: 'one' };
    expect(chaosMeshFaults(pod({ action: 'pod-kill', gracePeriod: 5 }), null, s)).toEqual([{ kind: 'pod-kill', at: '0ns', target: t, gracePeriod: '5s' }]);
    expect(chaosMeshFaults(pod({ action: 'pod-failure', duration: '30s' }), null, s)).toEqual([{ kind: 'pod-failure', at: '0ns', duration: '30000000000ns', target: t }]);
    expect(chaosMeshFaults(pod({ action: 'container-kill', containerNames: ['w', 'sidecar'] }), null, s)).toEqual([
      { kind: 'container-kill', at: '0ns', target: t, container: 'w' },
      { kind: 'container-kill', at: '0ns', target: t, container: 'sidecar' },
    ]);
    const dns = { kind: 'DNSChaos', value: { metadata: { name: 'd', annotations: { 'podwire.dev/at': '3s' } }, spec: { action: 'error', mode: 'all', patterns: ['google.com', 'chaos-mesh.*'], selector: { namespaces: ['busybox'] }, duration: '90s' } } };
    expect(chaosMeshFaults(dns, null, s)).toEqual([{ kind: 'dns-chaos', at: '3000000000ns', duration: '90000000000ns', action: 'error', patterns: ['google.com', 'chaos-mesh.*'], target: { selector: { namespaces: ['busybox'] }, mode: 'all' } }]);
  });

  it('Schedule: @every and five-field cron fire within spec.duration; Forbid skips firings while one lasts', () => {
    expect(cronFirings('@every 10s', 35e9)).toEqual([10e9, 20e9, 30e9]);
    expect(cronFirings('*/1 * * * *', 200e9)).toEqual([60e9, 120e9, 180e9]);
    expect(cronFirings('30 0 * * *', 3600e9)).toEqual([1800e9]);
    expect(cronFirings('@hourly', 7300e9)).toEqual([3600e9, 7200e9]);
    expect(cronFirings('* * * *', 1e9)).toMatch(/five fields/);
    expect(cronFirings('61 * * * *', 1e9)).toMatch(/field 1/);
    expect(cronFirings('@every 1ms', 100e9)).toMatch(/more than 10000 times/); // each firing is a fault: bounded
    const sched = (policy?: string) => ({ kind: 'Schedule', value: { metadata: { name: 's' }, spec: { schedule: '@every 2s', type: 'NetworkChaos', ...(policy ? { concurrencyPolicy: policy } : {}), networkChaos: { action: 'partition', mode: 'all', selector: {}, duration: '5s' } } } });
    const s = { error: (_p: unknown, m: string) => expect.fail(m), warn: () => {} };
    expect(chaosMeshFaults(sched(), 20e9, s).map((f) => f['at'])).toEqual(['2000000000ns', '8000000000ns', '14000000000ns']);
    expect(chaosMeshFaults(sched('Allow'), 7e9, s).map((f) => f['at'])).toEqual(['2000000000ns', '4000000000ns', '6000000000ns']);
  });

  it('loading: Chaos Mesh faults join spec.faults; StressChaos is warned about and ignored; a bad field names its place', () => {
    const text = `${CLUSTER('    []')}---
apiVersion: chaos-mesh.org/v1alpha1
kind: StressChaos
metadata: { name: s }
spec: { mode: one, selector: {}, stressors: { cpu: { workers: 1 } } }
---
apiVersion: chaos-mesh.org/v1alpha1
kind: NetworkChaos
metadata: { name: n }
spec: { action: partition, mode: all, selector: { labelSelectors: { app: web } }, direction: both }
`;
    const l = loadScenarioText(text, 'cm.yaml');
    expect(l.scenario.spec.faults.map((f) => f.kind)).toEqual(['partition']);
    expect(l.warnings.map((w) => w.message)).toContain('StressChaos is not modelled by podwire and is ignored');
    const bad = text.replace('direction: both', 'direction: sideways');
    try {
      loadScenarioText(bad, 'cm.yaml');
      expect.fail('no error');
    } catch (e) {
      const errs = (e as ScenarioError).errors.map((x) => `${x.line}: ${x.field}: ${x.message}`);
      expect(errs).toHaveLength(1);
      expect(errs[0]).toMatch(/^\d+: spec\.direction: /);
    }
  });
});
