// The Kubernetes failure scenarios (issue 12, scenarios/faults/): each header predicts the recovery
// metrics from the configured timers; this file runs each scenario once, in process, and holds
// stats.json's recovery section, the timeline and the capture to those predictions.
//
//   node-crash:  crash 10 s ─(grace 40 s)─▶ NotReady 50 s ─1 s▶ endpoint 51 s ─1 s▶ rules 52 s
//                ─(tolerationSeconds 300 s)─▶ evicted + replaced 350 s ─▶ 351 s ─▶ 352 s
//   dns-outage:  CoreDNS silent 5–15 s (glibc 5 s × 2 attempts) · DNSChaos SERVFAIL 29.5–34.5 s
//   pod-kill:    pod-kill 5.5 s (replacement) · container-kill 20.5/30.5/45.5/70.5 s (back-off 0/10/20/40 s)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { StatsDocument } from '../../src/stats/index.js';
import { TcpFlag } from '../../src/wire/types.js';
import { hasTshark, NO_TSHARK, tsharkCheck } from '../helpers/tshark.js';
import { runScenarioFrames, type FramedRun } from './run-scenario.js';

const TSHARK = hasTshark();
const S = 1e6; // µs per second
const runs = new Map<string, FramedRun>();
const statsOf = (name: string): StatsDocument => JSON.parse(runs.get(name)!.statsJson) as StatsDocument;
const at = (s: StatsDocument, re: RegExp): number[] => s.timeline.filter((e) => re.test(e.what)).map((e) => e.atUs / S);

beforeAll(() => {
  for (const n of ['faults/node-crash', 'faults/dns-outage', 'faults/pod-kill']) runs.set(n, runScenarioFrames(n));
}, 300_000);
afterAll(() => {
  for (const r of runs.values()) rmSync(r.dir, { recursive: true, force: true });
});

describe('faults/node-crash.yaml', () => {
  it('NotReady after the grace period, endpoint and rules 1 s + 1 s later, eviction after tolerationSeconds, replacement on node1', () => {
    const s = statsOf('faults/node-crash');
    expect(at(s, /^node-lifecycle: node node2 NotReady/)).toEqual([50]);
    expect(at(s, /^endpointslice: .* not ready \(node node2 down\)/)).toEqual([51]);
    expect(at(s, /^kube-proxy: rules synced/)).toEqual([52, 352]);
    expect(at(s, /^taint-manager: evicting pod web-.* from node2 \(node.kubernetes.io\/unreachable:NoExecute, tolerationSeconds 300\)/)).toEqual([350]);
    const created = s.timeline.find((e) => e.what.startsWith('replicaset '))!;
    expect(created.atUs / S).toBe(350);
    expect(created.what).toMatch(/created pod web-[a-z0-9]+-[a-z0-9]{5} \(replaces web-[a-z0-9]+-[a-z0-9]{5}\); scheduler: bound to node1$/);
    // The replacement serves after the rules at 352 s; the pod on node2 never serves after the crash.
    const newPod = /created pod (\S+)/.exec(created.what)![1]!;
    const shares = s.recovery!.seconds;
    expect(shares.filter((x) => (x.endpointShares[newPod] ?? 0) > 0).every((x) => x.t >= 352)).toBe(true);
    expect(shares.some((x) => x.t > 352 && (x.endpointShares[newPod] ?? 0) > 0.3)).toBe(true);
    const dead = /replaces (\S+)\)/.exec(created.what)![1]!;
    expect(shares.filter((x) => x.t >= 10 && (x.endpointShares[dead] ?? 0) > 0)).toEqual([]);
  });
  it('recovery metrics as the header predicts: detect 40 s, first error ≥ 4.5 s, recover in [42 s, 47 s]', () => {
    const f = statsOf('faults/node-crash').recovery!.faults[0]!;
    expect(f.kind).toBe('node-crash');
    expect(f.timeToDetectUs).toBe(40 * S);
    expect(f.detectedBy).toMatch(/^node-lifecycle: node node2 NotReady/);
    expect(f.timeToFirstErrorUs).toBeGreaterThanOrEqual(4.5 * S);
    expect(f.timeToFirstErrorUs).toBeLessThan(42 * S);
    expect(f.timeToRecoverUs).toBeGreaterThanOrEqual(42 * S);
    expect(f.timeToRecoverUs).toBeLessThanOrEqual(47 * S);
    expect(f.requestsLost).toBeGreaterThan(0);
    const flow = statsOf('faults/node-crash').flows[0]!;
    expect(flow.errors).toBe(flow.errorsByKind.timeout);
    expect(f.requestsLost).toBe(flow.errors);
  });
  it('connections to the dead node time out: SYNs retransmitted on client/eth0, none answered from node2 after the crash', () => {
    const r = runs.get('faults/node-crash')!;
    const node2Pod = r.world.cluster!.nodes.find((n) => n.name === 'node2')!.pods.find((p) => p.name.startsWith('web-'))!.ip;
    const syns = r.frames.filter((f) => f.ifName === 'client/eth0' && f.tNs > 10e9 && f.pkt.tcp !== null && f.pkt.tcp.flags === TcpFlag.SYN && f.pkt.ip!.dst !== 0);
    const toDead = syns.filter((f) => f.pkt.ip!.dst === node2Pod);
    expect(toDead.length).toBe(0); // DNAT happens on node3: the client sends to the ClusterIP
    const fromNode2 = r.frames.filter((f) => f.ifName === 'node2/eth0' && f.tNs > 10e9);
    expect(fromNode2.length).toBe(0); // the link is down: nothing in or out
    const seqs = new Map<string, number>();
    for (const f of syns) seqs.set(`${f.pkt.tcp!.srcPort}/${f.pkt.tcp!.seq}`, (seqs.get(`${f.pkt.tcp!.srcPort}/${f.pkt.tcp!.seq}`) ?? 0) + 1);
    expect([...seqs.values()].some((n) => n >= 2)).toBe(true); // a SYN sent again (RTO 1 s < the 1.5 s timeout)
  });
});

describe('faults/dns-outage.yaml', () => {
  it('outage: first error 10 s after it (2 × 5 s), recovered 15 s after it, 10 lookups lost, nothing detects it', () => {
    const f = statsOf('faults/dns-outage').recovery!.faults[0]!;
    expect(f).toMatchObject({ kind: 'dns-outage', timeToFirstErrorUs: 10 * S, timeToRecoverUs: 15 * S, requestsLost: 10, timeToDetectUs: null });
  });
  it('DNSChaos error: SERVFAIL fails lookups of example.com at once, recovered 5.5 s after it, 5 lost; web still resolves', () => {
    const s = statsOf('faults/dns-outage');
    const f = s.recovery!.faults[1]!;
    expect(f).toMatchObject({ kind: 'dns-chaos', timeToRecoverUs: 5.5 * S, requestsLost: 5, timeToDetectUs: null });
    expect(f.timeToFirstErrorUs).toBeGreaterThan(0.5 * S);
    expect(f.timeToFirstErrorUs).toBeLessThan(0.51 * S);
    for (const t of [30, 31, 32, 33, 34]) expect(s.recovery!.seconds[t]).toMatchObject({ successes: 1, errors: 1 });
    expect(s.flows.map((x) => [x.name, x.errorsByKind.dns])).toEqual([
      ['lookup-example', 10],
      ['lookup-web', 5],
    ]);
  });
  it('the capture: queries unanswered during the outage, SERVFAIL answers (rcode 2) during the chaos', () => {
    const r = runs.get('faults/dns-outage')!;
    const dnsAt = (lo: number, hi: number, rcode: number | null) => r.frames.filter((f) => f.ifName === 'client/eth0' && f.tNs >= lo * 1e9 && f.tNs < hi * 1e9 && f.pkt.udp !== null && f.pkt.udp.srcPort === 53 && (rcode === null || ((f.pkt.payload?.[3] ?? 0) & 0xf) === rcode));
    expect(dnsAt(5, 15, null)).toEqual([]);
    expect(dnsAt(29.5, 34.5, 2).length).toBe(20); // 5 lookups × (A + AAAA) × 2 attempts
    expect(dnsAt(35, 50, 2)).toEqual([]);
  });
});

describe('faults/pod-kill.yaml', () => {
  it('CrashLoopBackOff: restarts at once, then after 10, 20, 40 s; a replacement pod for the pod-kill', () => {
    const s = statsOf('faults/pod-kill');
    expect(at(s, /^kubelet: worker\/worker started/)).toEqual([20.5, 40.5, 65.5, 110.5]);
    expect(s.timeline.filter((e) => e.what.startsWith('kubelet: back-off')).map((e) => [e.atUs / S, e.what])).toEqual([
      [30.5, 'kubelet: back-off 10s restarting failed container=worker pod=worker'],
      [45.5, 'kubelet: back-off 20s restarting failed container=worker pod=worker'],
      [70.5, 'kubelet: back-off 40s restarting failed container=worker pod=worker'],
    ]);
    expect(at(s, /^replicaset web-[a-z0-9]+: created pod/)).toEqual([5.5]);
  });
  it('recovery metrics as the header predicts', () => {
    const [kill, first, ...others] = statsOf('faults/pod-kill').recovery!.faults;
    expect(kill).toMatchObject({ kind: 'pod-kill', timeToDetectUs: 1 * S, timeToRecoverUs: 3.5 * S });
    expect(kill!.timeToFirstErrorUs).toBeGreaterThanOrEqual(1 * S);
    expect(kill!.timeToFirstErrorUs).toBeLessThan(2 * S);
    expect(kill!.requestsLost).toBeGreaterThan(0);
    expect(first).toMatchObject({ kind: 'container-kill', timeToFirstErrorUs: null, timeToRecoverUs: null, requestsLost: 0 });
    expect(others).toHaveLength(3);
    for (const f of others) {
      expect(f).toMatchObject({ kind: 'container-kill', timeToDetectUs: 1 * S, timeToRecoverUs: 2.5 * S });
      expect(f.timeToFirstErrorUs).toBeLessThan(1 * S);
      expect(f.requestsLost).toBeGreaterThan(0);
    }
  });
  it('refused connections are RSTs from worker, only while it is down and still in the rules', () => {
    const r = runs.get('faults/pod-kill')!;
    const worker = r.world.cluster!.pods.find((p) => p.name === 'worker')!.ip;
    const rsts = r.frames.filter((f) => f.ifName === 'client/eth0' && f.pkt.tcp !== null && f.pkt.tcp.flags & TcpFlag.RST);
    expect(rsts.length).toBe(statsOf('faults/pod-kill').flows[0]!.errorsByKind.refused);
    const windows = [30.5, 45.5, 70.5].map((t) => [t, t + 2]);
    for (const f of rsts) expect(windows.some(([lo, hi]) => f.tNs >= lo! * 1e9 && f.tNs < hi! * 1e9)).toBe(true);
    expect(worker).toBeGreaterThan(0);
  });
});

describe.skipIf(!TSHARK)(`the fault scenarios' captures (${TSHARK ? 'in tshark' : NO_TSHARK})`, () => {
  it('have zero malformed frames and zero bad checksums on every interface', () => {
    const report: string[] = [];
    for (const [name, r] of runs) {
      const c = tsharkCheck(r.capturePath);
      if (c.malformed + c.badChecksums > 0) report.push(`${name}: malformed ${c.malformedFrames.slice(0, 5).join(',')} bad ${c.badChecksumFrames.slice(0, 5).join(',')}`);
      expect(c.frames).toBe(r.frames.length);
    }
    expect(report).toEqual([]);
  });
});
