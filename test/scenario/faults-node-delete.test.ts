// scenarios/faults/node-delete.yaml run once, in process, and held to its header's predictions:
//
//   delete 10 s ─▶ flanneld drops node2's subnet (node3 sends it to the absent gateway) ─▶ pod GC run 20 s (quarantine 40 s)
//   ─▶ pod force-deleted + replaced on node1 60 s ─1 s▶ endpoints 61 s ─1 s▶ rules 62 s ─▶ no more errors
//
//   client (node3) ──ClusterIP──▶ web on node1 │ web on node2 (deleted Node: only the default route, to a gateway that never answers)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { StatsDocument } from '../../src/stats/index.js';
import { TcpFlag } from '../../src/wire/types.js';
import { runScenarioFrames, type FramedRun } from '../integration/run-scenario.js';

const S = 1e6; // µs per second
let run: FramedRun;
let stats: StatsDocument;
const at = (re: RegExp): number[] => stats.timeline.filter((e) => re.test(e.what)).map((e) => e.atUs / S);

beforeAll(() => {
  run = runScenarioFrames('faults/node-delete');
  stats = JSON.parse(run.statsJson) as StatsDocument;
}, 120_000);
afterAll(() => rmSync(run.dir, { recursive: true, force: true }));

describe('faults/node-delete.yaml', () => {
  it('timeline: delete and flanneld at 10 s, pod GC and replacement at 60 s, endpoints 61 s, rules 62 s; node2 never registered again', () => {
    expect(at(/^node-delete: kubectl delete node node2 \(its kubelet keeps running\)/)).toEqual([10]);
    expect(at(/^flanneld: node2 deleted/)).toEqual([10]);
    expect(at(/^pod-gc: force-deleting pod web-/)).toEqual([60]);
    expect(at(/^kubelet: web-\S+ killed on node2/)).toEqual([60]);
    expect(at(/^replicaset .*\); scheduler: bound to node1$/)).toEqual([60]);
    expect(at(/^endpointslice: web-\S+ not ready \(DeletionByPodGC\)/)).toEqual([61]);
    expect(at(/^kube-proxy: rules synced/).filter((t) => t > 1)).toEqual([62]);
    expect(at(/registered Node/)).toEqual([]);
  });

  it('recovery as the header predicts: detected at 61 s by the EndpointSlice, recovered ≈ 53 s after the delete, half of the gap lost', () => {
    const f = stats.recovery!.faults[0]!;
    expect(f.kind).toBe('node-delete');
    expect(f.target).toBe('node/node2');
    expect(f.timeToDetectUs).toBe(51 * S);
    expect(f.detectedBy).toMatch(/^endpointslice: .*not ready \(DeletionByPodGC\)/);
    expect(f.timeToRecoverUs).toBeGreaterThanOrEqual(52 * S);
    expect(f.timeToRecoverUs).toBeLessThanOrEqual(54 * S);
    const flow = stats.flows[0]!;
    expect(f.requestsLost).toBe(flow.errors);
    // node3's ICMP host unreachable comes after the gateway's 3 s of ARP probes, the 1.5 s timeout first.
    expect(flow.errors).toBe(flow.errorsByKind.timeout);
    // 5 requests/s for 52 s, each failing when its first SYN draws node2 (its conntrack entry was
    // confirmed on the way to the gateway: the retransmission goes the same way).
    expect(flow.errors).toBeGreaterThan(260 / 3);
    expect(flow.errors).toBeLessThan(260 * 0.65);
    // Before the delete and after the rules (+ the 1.5 s timeout), every second is clean.
    const seconds = stats.recovery!.seconds;
    expect(seconds.filter((x) => (x.t < 10 || x.t >= 64) && (x.errors > 0 || x.retransmissions > 0))).toEqual([]);
    // The replacement serves only after the rules at 62 s; node2's pod never after the delete.
    const created = stats.timeline.find((e) => e.what.startsWith('replicaset '))!.what;
    const [fresh, dead] = [/created pod (\S+)/.exec(created)![1]!, /replaces (\S+)\)/.exec(created)![1]!];
    expect(seconds.filter((x) => (x.endpointShares[fresh] ?? 0) > 0).every((x) => x.t >= 62)).toBe(true);
    expect(seconds.filter((x) => x.t >= 10 && (x.endpointShares[dead] ?? 0) > 0)).toEqual([]);
  });

  it('capture: after the delete no frame reaches node2 (node3 sends its subnet to the gateway, which never answers ARP); a held SYN is sent again from the client', () => {
    // Pod traffic reaches node2 as flannel's VXLAN (UDP 8472) until the delete, never after.
    const vxlan = run.frames.filter((f) => f.ifName === 'node2/eth0' && f.pkt.udp?.dstPort === 8472);
    expect(vxlan.filter((f) => f.tNs < 10e9).length).toBeGreaterThan(20);
    expect(vxlan.filter((f) => f.tNs > 10e9)).toEqual([]);
    const node3 = run.world.cluster!.nodes.find((n) => n.name === 'node3')!;
    expect(node3.ns.drops['no-route'] ?? 0).toBe(0);
    expect(node3.ns.drops['neigh-failed']).toBeGreaterThan(0);
    const probes = run.frames.filter((f) => f.ifName === 'node3/eth0' && f.pkt.arp && f.pkt.arp.tpa === 0x0a641601 && f.pkt.arp.spa === node3.ip);
    expect(probes.length).toBeGreaterThan(2);
    expect(probes.every((f) => f.tNs > 10e9)).toBe(true);
    const syns = run.frames.filter((f) => f.ifName === 'client/eth0' && f.tNs > 10e9 && f.tNs < 62e9 && f.pkt.tcp?.flags === TcpFlag.SYN);
    const sent = new Map<string, number>();
    for (const f of syns) sent.set(`${f.pkt.tcp!.srcPort}/${f.pkt.tcp!.seq}`, (sent.get(`${f.pkt.tcp!.srcPort}/${f.pkt.tcp!.seq}`) ?? 0) + 1);
    expect([...sent.values()].some((n) => n >= 2)).toBe(true);
    // The ICMP host unreachable node3 sends back when the gateway's neighbour entry fails; never net unreachable.
    expect(run.frames.some((f) => f.ifName === 'client/eth0' && f.pkt.icmp?.type === 3 && f.pkt.icmp.code === 1)).toBe(true);
    expect(run.frames.some((f) => f.ifName === 'client/eth0' && f.pkt.icmp?.type === 3 && f.pkt.icmp.code === 0)).toBe(false);
  });
});
