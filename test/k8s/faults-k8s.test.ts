// Kubernetes failures (scenario/faults-k8s, k8s/failures.ts) in small clusters, and the timing rules
// they must follow exactly (issue 12 "validation against theory"):
//   - a readiness failure removes an endpoint failureThreshold × periodSeconds after the last passing
//     probe, then endpointDelay (EndpointSlice) and proxySyncDelay (kube-proxy) later;
//   - CrashLoopBackOff: a restart at once, then 10, 20, 40 … capped at 300 s, reset after 10 min;
//   - node-reboot shorter than the grace period: no NotReady; kube-proxy-stall: the stalled node keeps
//     its old rules until it resumes; conntrack-full: new connections dropped, the drop counted;
//     dns-chaos random: A answers with drawn addresses; bad targets are errors at the field.
//
//   node1: client, web-0          node2: web-1        svc/web :80 → 8080
import { describe, expect, it } from 'vitest';
import { CrashLoopBackOff } from '../../src/k8s/crash-loop.js';
import { evictionDelayNs } from '../../src/k8s/taint-manager.js';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { decodeDns } from '../../src/wire/dns.js';

const SEC = 1e9;

const SCENARIO = (faults: string, opts: { probe?: string; traffic?: string; cluster?: string } = {}) => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: k }
spec:
  cluster:
    network: { cidr: 10.100.31.0/24 }
    endpointDelay: 1s
    proxySyncDelay: 1s
    nodes: [{ name: node1 }, { name: node2 }]
${opts.cluster ?? ''}  traffic:
${opts.traffic ?? '    - { name: load, type: http, from: pod/client, to: "svc/web:80", rate: 20, arrival: constant, duration: 12s, start: 1s, timeout: 500ms }'}
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
spec:
  nodeName: node1
  containers:
    - name: w
      image: nginx
      ports: [{ containerPort: 8080 }]
${opts.probe ?? ''}---
apiVersion: v1
kind: Pod
metadata: { name: web-1, labels: { app: web }, annotations: { podwire.dev/app: http } }
spec:
  nodeName: node2
  containers:
    - name: w
      image: nginx
      ports: [{ containerPort: 8080 }]
${opts.probe ?? ''}---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { nodeName: node1, containers: [{ name: c, image: curl }] }
`;
const build = (yaml: string, seed = 3): World => buildWorld(loadScenarioText(yaml, 'k.yaml'), seed);
const entries = (w: World, re: RegExp) => w.timeline.filter((e) => re.test(e.what)).map((e) => e.atNs);

describe('readiness failure → endpoint removed after exactly failureThreshold × periodSeconds + endpointDelay + proxySyncDelay', () => {
  it('pod-failure on a pod probed every 2 s with failureThreshold 3', () => {
    const probe = '      readinessProbe: { httpGet: { path: /, port: 8080 }, periodSeconds: 2, failureThreshold: 3 }\n';
    const w = build(SCENARIO('    - { at: 4.5s, kind: pod-failure, target: pod/web-1, duration: 20s }', { probe }));
    w.sim.run({ until: 30 * SEC });
    // Probes at 0, 2, 4 s pass; 6, 8, 10 s are refused (a pause container listens on nothing).
    const [failed] = entries(w, /^kubelet: web-1\/w readiness probe failed 3 times: .*connection refused/);
    const lastPass = 4 * SEC;
    expect(failed! - lastPass).toBeGreaterThanOrEqual(3 * 2 * SEC);
    expect(failed! - lastPass).toBeLessThan(3 * 2 * SEC + 1e6); // + the RST's round trip (µs)
    const [sliced] = entries(w, /^endpointslice: web-1 not ready/);
    expect(sliced).toBe(failed! + 1 * SEC);
    const synced = entries(w, /^kube-proxy: rules synced/).find((t) => t > sliced!);
    expect(synced).toBe(failed! + 2 * SEC);
    // After the sync no request reaches web-1 until it is back (pod-failure ends at 24.5 s).
    const f = w.stats.flow('load');
    expect(f.errorCount).toBeGreaterThan(0); // refused between 4.5 s and the sync
    expect(w.timeline.map((e) => e.what)).toContain('pod-failure over: web-1 restarted with its image (restart 2)');
  });
});

describe('CrashLoopBackOff (kubelet doBackOff with flowcontrol.Backoff 10 s … 300 s)', () => {
  it('delays 0, 10, 20, 40, 80, 160, 300, 300 s for exits right after each start; reset after 10 minutes', () => {
    const b = new CrashLoopBackOff();
    let t = 0;
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const d = b.delayAfterExit('p/c', t);
      delays.push(d / SEC);
      t += d;
      b.started('p/c', t);
      t += 1 * SEC; // runs 1 s, then exits again
    }
    expect(delays).toEqual([0, 10, 20, 40, 80, 160, 300, 300]);
    // Running 10 min after the last start (lastUpdate) is not enough; longer is.
    const started = t - SEC;
    expect(b.delayAfterExit('p/c', started + 600 * SEC)).toBe(300 * SEC);
    expect(b.delayAfterExit('p/c', started + 600 * SEC + 1)).toBe(0);
  });
  it('container-kill in a scenario: restarts at 2 s, 13 s, 34 s (10 s, then 20 s back-off); restartPolicy Never stays down', () => {
    const kills = [2, 3, 14].map((t) => `    - { at: ${t}s, kind: container-kill, target: pod/web-1, container: w }`).join('\n');
    const w = build(SCENARIO(kills, { traffic: '    []' }));
    w.sim.run({ until: 60 * SEC });
    expect(entries(w, /^kubelet: web-1\/w started/).map((t) => t / SEC)).toEqual([2, 13, 34]);
    expect(w.controlPlane!.runtime.restartsOf(w.cluster!.pods.find((p) => p.name === 'web-1')!)).toBe(3);
    const never = build(SCENARIO('    - { at: 2s, kind: container-kill, target: pod/web-1, container: w }', { traffic: '    []' }).replace('nodeName: node2\n', 'nodeName: node2\n  restartPolicy: Never\n'));
    never.sim.run({ until: 20 * SEC });
    expect(entries(never, /^kubelet: web-1\/w started/)).toEqual([]);
    expect(never.controlPlane!.api.get('Pod', 'default', 'web-1')!.status.ready).toBe(false);
  });
});

describe('node failures', () => {
  it('node-reboot shorter than the grace period: never NotReady; containers restarted at boot; requests to it time out meanwhile', () => {
    const w = build(SCENARIO('    - { at: 3s, kind: node-reboot, target: node/node2, duration: 5s }'));
    w.sim.run();
    expect(entries(w, /NotReady/)).toEqual([]);
    expect(w.timeline.filter((e) => e.what.startsWith('kubelet:')).map((e) => [e.atNs / SEC, e.what])).toEqual([[8, 'kubelet: web-1 containers started after node boot (restart 1)']]);
    expect(w.stats.flow('load').errors.timeout).toBeGreaterThan(0);
  });
  it('node-crash with nodeMonitorGracePeriod 5s and a pod tolerating unreachable for 2 s: NotReady at +5 s, evicted at +7 s', () => {
    const tol = '      tolerations: [{ key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2 }]\n';
    const yaml = SCENARIO('    - { at: 1s, kind: node-crash, target: node/node2 }', { traffic: '    []', cluster: '    nodeMonitorGracePeriod: 5s\n' }).replace('  nodeName: node2\n', `  nodeName: node2\n${tol.replace('      tolerations', '  tolerations')}`);
    const w = build(yaml);
    w.sim.run({ until: 20 * SEC });
    expect(entries(w, /^node-lifecycle: node node2 NotReady/)).toEqual([6 * SEC]);
    expect(entries(w, /^taint-manager: evicting pod web-1 from node2 \(node.kubernetes.io\/unreachable:NoExecute, tolerationSeconds 2\)/)).toEqual([8 * SEC]);
    expect(w.controlPlane!.api.get('Node', '', 'node2')!.spec!.taints.map((t) => `${t.key}:${t.effect}`)).toEqual(['node.kubernetes.io/unreachable:NoExecute']);
  });
  it('getMinTolerationTime: no matching toleration evicts at once, a toleration without seconds never', () => {
    const taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' as const };
    expect(evictionDelayNs([], taint)).toBe(0);
    expect(evictionDelayNs([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }], taint)).toBeNull();
    expect(evictionDelayNs([{ operator: 'Exists', tolerationSeconds: 30 }, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 10 }], taint)).toBe(10 * SEC);
  });
});

describe('kube-proxy-stall, conntrack-full, dns-chaos random', () => {
  it('a stalled proxy keeps its node on the old rules: requests from node1 still go to the dead pod until the resync', () => {
    const faults = ['    - { at: 2s, kind: kube-proxy-stall, target: node/node1, duration: 6s }', '    - { at: 3s, kind: pod-down, target: pod/web-1 }'].join('\n');
    const w = build(SCENARIO(faults));
    let at6 = '';
    w.sim.scheduleAt(6 * SEC, () => (at6 = JSON.stringify(w.controlPlane!.services[0]!.ports[0]!.endpoints.map((e) => e.ready))));
    w.sim.run();
    expect(at6).toBe('[true,false]'); // the EndpointSlice changed at 4 s …
    expect(entries(w, /^kube-proxy: node1 resumed, full resync/)).toEqual([8 * SEC]);
    // … but node1's rules kept web-1 until 8 s: timeouts for requests started up to then, none after.
    const f = w.stats.flow('load');
    expect(f.errors.timeout).toBeGreaterThan(3);
    expect(f.errorTimes.every((t) => t < 8.5 * SEC)).toBe(true);
    expect(f.errorTimes.some((t) => t > 5.5 * SEC)).toBe(true); // an unstalled proxy would have stopped them at 5 s
  });
  it('conntrack-full on node1: new connections dropped (drops counted), back after the duration', () => {
    // host-gw: no VXLAN flows in node1's table. With flannel's VXLAN, its UDP entries never see a
    // reply (not ASSURED) and early_drop evicts one for each new connection, so nothing is dropped.
    const w = build(SCENARIO('    - { at: 3s, kind: conntrack-full, target: node/node1, duration: 2s }', { cluster: '    cni: host-gw\n' }));
    w.sim.run();
    const node1 = w.namespaces.get('node1')!;
    expect(node1.drops['netfilter-drop']).toBeGreaterThan(0);
    expect(node1.nf!.conntrack.stats.drop).toBe(node1.drops['netfilter-drop']); // conntrack -S: drop
    const f = w.stats.flow('load');
    expect(f.errors.timeout).toBeGreaterThan(0);
    expect(f.errorTimes.every((t) => t >= 3 * SEC && t < 5.6 * SEC)).toBe(true);
    expect(w.timeline.map((e) => e.what)).toContain(`conntrack-full over: nf_conntrack_max on node1 = 262144`);
  });
  it('dns-chaos random answers A queries of matching names with addresses drawn from a named stream', () => {
    const yaml = SCENARIO('    - { at: 2s, kind: dns-chaos, duration: 3s, action: random, patterns: ["web.default.svc.*"] }', {
      traffic: '    - { name: look, type: dns, from: pod/client, lookup: web.default.svc.cluster.local., count: 6, interval: 1s, start: 0.5s }',
      cluster: '    dns: { replicas: 1 }\n',
    });
    const w = build(yaml);
    const answers: [number, number][] = [];
    const server = w.controlPlane!.failures.dnsServers[0]!;
    const send = server.sock.sendTo.bind(server.sock);
    server.sock.sendTo = (dst, port, data) => {
      const m = data instanceof Uint8Array ? decodeDns(data, 0).msg : null;
      for (const a of m?.answers ?? []) if (a.data.kind === 'A') answers.push([w.sim.now, a.data.address]);
      return send(dst, port, data);
    };
    w.sim.run();
    expect(w.stats.flow('look').successes).toBe(6);
    const clusterIp = w.services.find((x) => x.name === 'web')!.clusterIP;
    const during = answers.filter(([t]) => t >= 2 * SEC && t < 5 * SEC).map(([, a]) => a);
    const outside = answers.filter(([t]) => t < 2 * SEC || t >= 5 * SEC).map(([, a]) => a);
    expect(during.length).toBe(3);
    expect(during.every((a) => a !== clusterIp)).toBe(true);
    expect(new Set(during).size).toBe(3);
    expect(outside.length).toBe(3);
    expect(outside.every((a) => a === clusterIp)).toBe(true);
  });
});

describe('dns-outage modes', () => {
  const lookups = (mode: string) => {
    const w = build(
      SCENARIO(`    - { at: 2s, kind: dns-outage, duration: 3s, mode: ${mode}, delay: 1500ms }`, {
        traffic: '    - { name: look, type: dns, from: pod/client, lookup: web.default.svc.cluster.local., count: 6, interval: 1s, start: 0.5s }',
        cluster: '    dns: { replicas: 1 }\n',
      }),
    );
    const lat: number[] = [];
    const f = w.stats.flow('look');
    const ok = f.requestSucceeded.bind(f);
    f.requestSucceeded = (latency, connect, bytes) => {
      lat.push(latency);
      ok(latency, connect, bytes);
    };
    w.sim.run();
    return { f, lat, server: w.controlPlane!.failures.dnsServers[0]! };
  };
  it('servfail and nxdomain answer at once (lookups at 2.5, 3.5, 4.5 s fail with kind dns); delay answers 1.5 s late', () => {
    const sf = lookups('servfail');
    expect(sf.f.errors.dns).toBe(3);
    expect(sf.server.counters.responses.SERVFAIL).toBeGreaterThan(0);
    const nx = lookups('nxdomain');
    expect(nx.f.errors.dns).toBe(3);
    expect(nx.server.counters.responses.NXDOMAIN).toBeGreaterThan(0);
    const late = lookups('delay');
    expect(late.f.errorCount).toBe(0);
    expect(late.lat.filter((l) => l > 1.5e9 && l < 1.51e9)).toHaveLength(3);
  });
});

describe('Toxiproxy toxics, applied by the endpoints\' HTTP servers to their connections', () => {
  const run = (toxic: string) => {
    const w = build(SCENARIO(`    - { at: 4s, kind: toxic, target: svc/web, duration: 4s, ${toxic} }`).replaceAll('podwire.dev/app: http }', 'podwire.dev/app: http, podwire.dev/response-size: "1000" }'));
    const lat: [number, number][] = [];
    const f = w.stats.flow('load');
    const ok = f.requestSucceeded.bind(f);
    f.requestSucceeded = (latency, connect, bytes) => {
      lat.push([w.sim.now, latency]);
      ok(latency, connect, bytes);
    };
    w.sim.run();
    const inside = lat.filter(([t]) => t >= 4.3 * SEC && t < 8 * SEC).map(([, l]) => l);
    const outside = lat.filter(([t]) => t < 4 * SEC || t > 9 * SEC).map(([, l]) => l);
    return { w, f, inside, outside };
  };
  it('latency 200ms ± 20ms: responses during the toxic take 180–220 ms more; none fail', () => {
    const { f, inside, outside } = run('toxic: latency, latency: 200ms, jitter: 20ms');
    expect(f.errorCount).toBe(0);
    expect(inside.length).toBeGreaterThan(10);
    expect(Math.min(...inside)).toBeGreaterThan(180e6);
    expect(Math.max(...inside)).toBeLessThan(225e6);
    expect(Math.max(...outside)).toBeLessThan(10e6);
  });
  it('slicer: 100-byte slices 10 ms apart, so a 1000-byte response (plus headers) takes ≥ 100 ms', () => {
    const { f, inside } = run('toxic: slicer, averageSize: 100, delay: 10ms');
    expect(f.errorCount).toBe(0);
    expect(Math.min(...inside)).toBeGreaterThan(100e6);
  });
  it('reset_peer: connections reset at their first request (ECONNRESET); timeout: requests never answered', () => {
    const reset = run('toxic: reset_peer');
    expect(reset.f.errors.reset).toBeGreaterThan(10);
    expect(reset.inside).toEqual([]);
    const hang = run('toxic: timeout');
    expect(hang.f.errors.timeout).toBeGreaterThan(10);
    expect(hang.f.errors.reset).toBe(0);
    expect(hang.w.timeline.map((e) => e.what)).toEqual(['toxic timeout on svc/web: web-0, web-1', 'toxic timeout on svc/web removed']);
  });
});

describe('bad input', () => {
  it('a missing pod or node, or a pod without that container, is an error at the field', () => {
    const err = (faults: string) => {
      try {
        build(SCENARIO(faults));
      } catch (e) {
        return e instanceof ScenarioError ? e.message : String(e);
      }
      return '';
    };
    expect(err('    - { at: 1s, kind: pod-kill, target: pod/nope }')).toMatch(/k\.yaml:\d+:\d+: spec\.faults\[0\]\.target: .*nope/);
    expect(err('    - { at: 1s, kind: node-crash, target: node/node9 }')).toMatch(/spec\.faults\[0\]\.target: .*node9/);
    expect(err('    - { at: 1s, kind: pod-failure, target: pod/web-0 }')).toMatch(/spec\.faults\[0\]\.duration/);
    expect(err('    - { at: 1s, kind: dns-chaos, duration: 1s, action: nxdomain }')).toMatch(/spec\.faults\[0\]\.action/);
  });
});
