// The kubelet's probes as packets (k8s/prober.ts): scenarios/probes.yaml at its own seed (7); the edge
// cases are in prober.test.ts.
//
//   node1: client, web-A            node2: web-B, web-canary         svc/web 10.96.0.60:80 → :8080
//   probes: node cni0 (10.244.N.1) ──GET /healthz──▶ each pod on that node, readiness every 1 s,
//   liveness every 2 s; t=5s web-canary's app stops listening.
//
// Expected, with failureThreshold 3, endpointDelay 200ms, proxySyncDelay 500ms:
//   readiness fails at 5,6,7 s → not ready at 7 s → EndpointSlice 7.2 s → rules 7.7 s;
//   liveness fails at 6,8,10 s → container restarted at 10 s (RSTs to the client's connections);
//   readiness passes at 11 s → ready → EndpointSlice 11.2 s → rules 11.7 s.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { TcpFlag } from '../../src/wire/types.js';
import { hasTshark, NO_TSHARK, TSHARK, TSHARK_ARGS, tsharkCheck } from '../helpers/tshark.js';
import { ROOT, runScenarioFrames, type FramedRun } from '../integration/run-scenario.js';

const HAS_TSHARK = hasTshark();
const inTshark = HAS_TSHARK ? 'in tshark' : `in tshark — skipped: ${NO_TSHARK}`;
const SEC = 1e9;
const text = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : '');

describe('probes.yaml', () => {
  let r: FramedRun;
  beforeAll(() => {
    r = runScenarioFrames('probes');
  });
  afterAll(() => rmSync(r.dir, { recursive: true, force: true }));

  const canary = () => r.world.cluster!.pods.find((p) => p.name === 'web-canary')!;
  const probeGets = (podIp: number) =>
    r.frames.filter((f) => f.ifName === 'node2/cni0' && f.pkt.ip?.dst === podIp && text(f.pkt.payload).startsWith('GET /healthz ') && text(f.pkt.payload).includes('User-Agent: kube-probe/1.31'));

  it('probe GETs leave the node from its cni0 address, readiness every 1 s and liveness every 2 s', () => {
    const c = canary();
    const gets = probeGets(c.ip);
    const cni0 = c.node.ns.device('cni0')!;
    const cni0Ip = c.node.ns.addrs.find((a) => a.dev === cni0)!.addr;
    expect(new Set(gets.map((f) => formatIpv4(f.pkt.ip!.src)))).toEqual(new Set([formatIpv4(cni0Ip)]));
    // Whole seconds while the app answers (0..4 s and 10..13 s): two GETs on even seconds, one on odd.
    const perSecond = new Map<number, number>();
    for (const f of gets) perSecond.set(Math.floor(f.tNs / SEC), (perSecond.get(Math.floor(f.tNs / SEC)) ?? 0) + 1);
    expect([0, 1, 2, 3, 4].map((s) => perSecond.get(s) ?? 0)).toEqual([2, 1, 2, 1, 2]);
    expect([11, 12, 13].map((s) => perSecond.get(s) ?? 0)).toEqual([1, 2, 1]);
    // Each GET is within microseconds of its tick.
    for (const f of gets) expect(f.tNs % SEC).toBeLessThan(0.01 * SEC);
  });

  it('after the app stops, probes are refused: SYN answered by RST from the pod, at every tick', () => {
    const c = canary();
    const rsts = r.frames.filter((f) => f.ifName === 'node2/cni0' && f.pkt.ip?.src === c.ip && f.pkt.tcp && (f.pkt.tcp.flags & TcpFlag.RST) !== 0 && f.pkt.ip.dst === c.node.ns.addrs.find((a) => a.dev === c.node.ns.device('cni0'))!.addr);
    expect(rsts.map((f) => Math.floor(f.tNs / SEC))).toEqual([5, 6, 6, 7, 8, 8, 9, 10, 10]);
  });

  it('readiness: not ready after failureThreshold × periodSeconds, then EndpointSlice (+endpointDelay) and kube-proxy (+proxySyncDelay)', () => {
    const from5 = r.world.timeline.filter((e) => e.atNs >= 5 * SEC).map((e) => `${(e.atNs / SEC).toFixed(1)}s ${e.what}`);
    const expected = [
      '5.0s pod web-canary app stopped',
      '7.0s kubelet: web-canary/web readiness probe failed 3 times: Get "http://10.244.1.3:8080/healthz": dial tcp: connect: connection refused',
      '7.2s endpointslice: web-canary not ready (readiness probe failed 3 times',
      '7.7s kube-proxy: rules synced on every node',
      '10.0s kubelet: web-canary/web liveness probe failed 3 times',
      '10.0s kubelet: web-canary containers restarted (restart 1',
      '11.0s kubelet: web-canary/web readiness probe succeeded',
      '11.2s endpointslice: web-canary ready (readiness probe succeeded)',
      '11.7s kube-proxy: rules synced on every node',
    ];
    expect(from5.map((x, i) => (x.startsWith(expected[i] ?? '?') ? expected[i] : x))).toEqual(expected);
  });

  it('the nodes\' rules drop web-canary at 7.7 s and take it back at 11.7 s', () => {
    const w = buildWorld(loadScenarioFile(join(ROOT, 'scenarios/probes.yaml')), 7);
    const c = w.cluster!.pods.find((p) => p.name === 'web-canary')!;
    const dnat = `--to-destination ${formatIpv4(c.ip)}:8080`;
    const hasCanary = () => w.cluster!.nodes.map((n) => n.ns.nf!.save().includes(dnat));
    const at = (t: number) => {
      w.sim.run({ until: t * SEC });
      return hasCanary();
    };
    expect(at(7.69)).toEqual([true, true]);
    expect(at(7.71)).toEqual([false, false]);
    expect(at(11.69)).toEqual([false, false]);
    expect(at(11.71)).toEqual([true, true]);
  });

  it('liveness restart resets the connections the app had: RST from the pod to the client at 10 s', () => {
    const c = canary();
    const client = r.world.cluster!.pods.find((p) => p.name === 'client')!;
    const resets = r.frames.filter((f) => f.ifName === 'client/eth0' && f.pkt.tcp && (f.pkt.tcp.flags & TcpFlag.RST) !== 0 && f.pkt.ip!.dst === client.ip);
    expect(resets.length).toBeGreaterThan(0);
    expect(resets.every((f) => Math.abs(f.tNs - 10 * SEC) < 0.01 * SEC)).toBe(true);
    // The pod's side: the same RSTs leave web-canary's eth0.
    expect(r.frames.some((f) => f.ifName === 'web-canary/eth0' && f.pkt.ip?.src === c.ip && f.pkt.ip.dst === client.ip && (f.pkt.tcp!.flags & TcpFlag.RST) !== 0)).toBe(true);
  });

  it.skipIf(!HAS_TSHARK)(`zero malformed frames, zero bad checksums, and no tcp.analysis flags on any interface alone (${inTshark})`, () => {
    const c = tsharkCheck(r.capturePath);
    expect(c.malformedFrames, c.errors.join('\n')).toEqual([]);
    expect(c.badChecksumFrames, c.errors.join('\n')).toEqual([]);
    const flagged: string[] = [];
    for (const [name, file] of splitPcapngPerInterface(readFileSync(r.capturePath), r.dir)) {
      const out = execFileSync(TSHARK, ['-r', file, ...TSHARK_ARGS, '-Y', 'tcp.analysis.flags', '-T', 'fields', '-e', 'frame.number', '-e', '_ws.expert.message'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      if (out.trim() !== '') flagged.push(`${name}: ${out.trim().split('\n')[0]}`);
    }
    expect(flagged).toEqual([]);
  });
});


