// The kubelet's prober (k8s/prober.ts) in a one-node cluster: a pod without probes is ready at once;
// with a readiness probe it starts not ready and turns ready on the first pass after
// initialDelaySeconds; a pod-down fault makes probes time out until failureThreshold; exec probes
// follow the app; thresholds count consecutive results; probe specs are validated.
//
//   node1 cni0 10.244.0.1 ──probe──▶ web-0 10.244.0.2:8080      svc/web :80 → 8080
import { describe, expect, it } from 'vitest';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';

const SEC = 1e9;

describe('probes in small clusters', () => {
  const HEAD = (probe: string, extra = '') => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: p }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    endpointDelay: 100ms
    proxySyncDelay: 100ms
    nodes: [{ name: node1 }]
${extra}---
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: web-0, labels: { app: web }, annotations: { podwire.dev/app: http } }
spec:
  containers:
    - name: w
      image: nginx
      ports: [{ containerPort: 8080 }]
${probe}`;
  const build = (yaml: string): World => buildWorld(loadScenarioText(yaml, 'p.yaml'), 1);
  const ready = (w: World) => w.controlPlane!.api.get('Pod', 'default', 'web-0')!.status.ready;
  const sliceReady = (w: World) => w.services[0]!.ports[0]!.endpoints.map((e) => e.ready);

  it('no probe: ready once the sandbox is up; a readiness probe: not ready until the first probe passes', () => {
    const none = build(HEAD(''));
    expect(ready(none)).toBe(true);
    const probed = build(HEAD('      readinessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 2 }\n'));
    expect(ready(probed)).toBe(false);
    expect(sliceReady(probed)).toEqual([false]);
    probed.sim.run({ until: 2 * SEC - 1 });
    expect(ready(probed)).toBe(false); // the tick at 0 s is before initialDelaySeconds
    probed.sim.run({ until: 10 * SEC - 1 });
    expect(ready(probed)).toBe(false); // the next tick is at 10 s (default periodSeconds)
    probed.sim.run({ until: 10.1 * SEC - 1 });
    expect(ready(probed)).toBe(true);
    expect(sliceReady(probed)).toEqual([false]);
    probed.sim.run({ until: 10.2 * SEC });
    expect(sliceReady(probed)).toEqual([true]);
  });

  it('pod-down with a readiness probe: nothing magic — probes time out failureThreshold times, then not ready', () => {
    const w = build(HEAD('      readinessProbe: { httpGet: { path: /, port: 8080 }, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3 }\n', '  faults: [{ at: 5s, kind: pod-down, target: pod/web-0 }]\n'));
    w.sim.run({ until: 5 * SEC + 1 });
    expect(ready(w)).toBe(true);
    // Ticks at 6, 8, 10 s time out 1 s later each: the third failure lands at 11 s.
    w.sim.run({ until: 11 * SEC - 1 });
    expect(ready(w)).toBe(true);
    w.sim.run({ until: 11 * SEC + 1e6 });
    expect(ready(w)).toBe(false);
    expect(w.timeline.map((e) => e.what)).toContain('kubelet: web-0/w readiness probe failed 3 times: Get "http://10.244.0.2:8080/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)');
  });

  it('exec probes succeed while the app runs and fail once a fault stops it; successThreshold needs consecutive successes', () => {
    const w = build(HEAD('      readinessProbe: { exec: { command: [cat, /tmp/healthy] }, periodSeconds: 1, successThreshold: 2, failureThreshold: 1 }\n', '  faults: [{ at: 3500ms, kind: app-stop, target: pod/web-0 }]\n'));
    w.sim.run({ until: 0.5 * SEC });
    expect(ready(w)).toBe(false); // one success of two
    w.sim.run({ until: 1.5 * SEC });
    expect(ready(w)).toBe(true);
    w.sim.run({ until: 3.9 * SEC });
    expect(ready(w)).toBe(true);
    w.sim.run({ until: 4.1 * SEC });
    expect(ready(w)).toBe(false);
    // exec sends nothing: the node opened no TCP connection.
    expect(w.tcp.get('node1')?.counters.ActiveOpens ?? 0).toBe(0);
  });

  it('a probe on a named port that no container declares fails (the kubelet cannot resolve it)', () => {
    const w = build(HEAD('      readinessProbe: { httpGet: { port: metrics }, periodSeconds: 1, failureThreshold: 1 }\n'));
    w.sim.run({ until: 3 * SEC });
    expect(ready(w)).toBe(false);
  });

  it('a probe without exactly one handler is a schema error at the field', () => {
    expect(() => build(HEAD('      readinessProbe: { periodSeconds: 1 }\n'))).toThrow(/readinessProbe: a probe needs exactly one of httpGet, tcpSocket, exec/);
    expect(() => build(HEAD('      livenessProbe: { exec: { command: [\"true\"] }, tcpSocket: { port: 8080 } }\n'))).toThrow(/livenessProbe: a probe needs exactly one/);
  });

  it('startup probe: readiness and liveness wait for it; its failure restarts the containers', () => {
    const probes = [
      '      startupProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 3, periodSeconds: 1, failureThreshold: 2 }',
      '      readinessProbe: { httpGet: { port: 8080 }, periodSeconds: 1 }',
      '',
    ].join('\n');
    const w = build(HEAD(probes));
    w.sim.run({ until: 3 * SEC - 1 });
    expect(ready(w)).toBe(false);
    expect(w.timeline).toEqual([]); // no probe result yet: startup waits 3 s, readiness waits for startup
    w.sim.run({ until: 4.5 * SEC });
    expect(w.timeline.filter((e) => e.what.startsWith('kubelet')).map((e) => `${(e.atNs / SEC).toFixed(0)}s ${e.what}`)).toEqual(['3s kubelet: web-0/w startup probe succeeded', '4s kubelet: web-0/w readiness probe succeeded']);
    expect(ready(w)).toBe(true);

    const failing = build(HEAD('      startupProbe: { tcpSocket: { port: 9999 }, periodSeconds: 1, failureThreshold: 2 }\n'));
    failing.sim.run({ until: 1.5 * SEC });
    expect(failing.timeline.map((e) => e.what)).toEqual([
      'kubelet: web-0/w startup probe failed 2 times: dial tcp 10.244.0.2:9999: connect: connection refused',
      'kubelet: web-0 containers restarted (restart 1: w startup probe failed 2 times: dial tcp 10.244.0.2:9999: connect: connection refused)',
    ]);
    expect(ready(failing)).toBe(false);
  });

  it('liveness failure restarts the containers and readiness starts over from false', () => {
    const probes = ['      readinessProbe: { httpGet: { port: 8080 }, periodSeconds: 1, failureThreshold: 5 }', '      livenessProbe: { httpGet: { port: 8080 }, periodSeconds: 1, failureThreshold: 2 }', ''].join('\n');
    const w = build(HEAD(probes, '  faults: [{ at: 2500ms, kind: app-stop, target: pod/web-0 }]\n'));
    w.sim.run({ until: 4.5 * SEC });
    // Liveness fails at 3 s and 4 s: restarted at 4 s, before readiness reached its 5 failures.
    const after = w.timeline.filter((e) => e.atNs >= 2.5 * SEC);
    expect(after.map((e) => `${(e.atNs / SEC).toFixed(1)}s ${e.what.split(':')[0]}`)).toEqual(['2.5s pod web-0 app stopped', '4.0s kubelet', '4.0s kubelet', '4.1s endpointslice', '4.2s kube-proxy']);
    expect(after.map((e) => e.what).slice(1, 4)).toEqual([
      'kubelet: web-0/w liveness probe failed 2 times: Get "http://10.244.0.2:8080/": dial tcp: connect: connection refused',
      'kubelet: web-0 containers restarted (restart 1: w liveness probe failed 2 times: Get "http://10.244.0.2:8080/": dial tcp: connect: connection refused)',
      'endpointslice: web-0 not ready (container restarted)',
    ]);
    w.sim.run({ until: 5.5 * SEC });
    expect(ready(w)).toBe(true);
  });

  it('node down: its kubelet stops probing, so the node lifecycle controller\'s not ready stays', () => {
    const w = build(HEAD('      readinessProbe: { httpGet: { port: 8080 }, periodSeconds: 1 }\n', '  faults: [{ at: 2s, kind: node-down, target: node/node1 }]\n'));
    w.sim.run({ until: 10 * SEC });
    expect(ready(w)).toBe(false);
    expect(w.controlPlane!.api.get('Pod', 'default', 'web-0')!.status.reason).toBe('node node1 down');
  });
});
