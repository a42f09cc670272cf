// Network faults on the timeline, in a two-node cluster:
//
//   node1 (10.100.11.11) ──eth0── switch br0 ──eth0── node2 (10.100.11.12)      ext (10.100.11.50)
//   ping node1 → node2 every 100 ms from 1 s (60 pings, timeout 500 ms); UDP echo node1 → node2:9000
//
// Each test names the fault and asserts what the kernel's tc/carrier handling gives: which pings are
// lost, where frames are dropped (by reason), what the neighbour table and the capture show.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runWorld } from '../../src/scenario/run.js';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { hasTshark, tsharkCheck } from '../helpers/tshark.js';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { ScenarioError } from '../../src/scenario/errors.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { serializeFrame } from '../../src/packet/serialize.js';
import { internetChecksum } from '../../src/wire/checksum.js';

const NODE2 = '10.100.11.12';
const SCENARIO = (faults: string, traffic = `    - { name: ping, type: ping, from: node/node1, to: ${NODE2}, count: 60, interval: 100ms, start: 1s, timeout: 500ms }`) => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: fnet }
spec:
  cluster:
    network: { cidr: 10.100.11.0/24 }
    nodes: [{ name: node1, ip: 10.100.11.11 }, { name: node2, ip: ${NODE2} }]
    externalHosts: [{ name: ext, ip: 10.100.11.50 }]
    dns: { enabled: false }
  traffic:
${traffic}
  faults:
${faults}
`;

const build = (faults: string, traffic?: string): World => buildWorld(loadScenarioText(SCENARIO(faults, traffic), 'fnet.yaml'), 1);
const dev = (w: World, host: string, ifname: string) => w.namespaces.get(host)!.device(ifname)!;

describe('network faults', () => {
  it('partition node1 ↔ node2 for 3 s: exactly the 30 pings sent in [2 s, 5 s) are lost, at node1’s egress filter', () => {
    const w = build('    - { at: 2s, duration: 3s, kind: partition, target: node/node1, direction: both, peer: node/node2 }');
    w.sim.run();
    const f = w.stats.flow('ping');
    expect(f.requests).toBe(60);
    expect(f.successes).toBe(30);
    expect(f.errors.timeout).toBe(30);
    expect(dev(w, 'node1', 'eth0').dropsByReason['tc-filter-drop']).toBe(30);
    expect(dev(w, 'node2', 'eth0').dropsByReason['tc-filter-drop']).toBeUndefined();
    expect(w.timeline.map((t) => [t.atNs / 1e9, t.what])).toEqual([
      [2, 'partition: node/node1 ↔ node/node2 dropped'],
      [5, 'partition on node/node1 removed'],
    ]);
  });

  it('partition direction from: node2’s echo requests reach node1’s eth0 (captured) and are dropped by the ingress filter', () => {
    const w = build('    - { at: 2s, duration: 1s, kind: partition, target: node/node1, direction: from, peer: node/node2 }', `    - { name: ping, type: ping, from: node/node2, to: 10.100.11.11, count: 30, interval: 100ms, start: 1s, timeout: 500ms }`);
    const seenIn: number[] = [];
    dev(w, 'node1', 'eth0').tap.connect((_d, pkt, dir) => void (dir === 'in' && pkt.icmp !== null && seenIn.push(w.sim.now)));
    w.sim.run();
    expect(w.stats.flow('ping').successes).toBe(20);
    expect(seenIn.length).toBe(30); // every request is on the wire at node1
    expect(dev(w, 'node1', 'eth0').dropsByReason['tc-filter-drop']).toBe(10);
  });

  it('netem to a peer only: delay applies to frames to node2, not to the external host', () => {
    const w = build(
      '    - { at: 0s, kind: netem, target: node/node1, peer: node/node2, delay: 50ms }',
      `    - { name: ping, type: ping, from: node/node1, to: ${NODE2}, count: 5, interval: 100ms, start: 1s }\n    - { name: ext, type: ping, from: node/node1, to: 10.100.11.50, count: 5, interval: 100ms, start: 1s }`,
    );
    w.sim.run();
    const p50 = (name: string) => w.stats.flow(name).latency.percentileNs(50);
    expect(p50('ping')).toBeGreaterThan(50e6);
    expect(p50('ping')).toBeLessThan(51e6);
    expect(p50('ext')).toBeLessThan(1e6);
  });

  it('link down node2 for 1 s: the carrier goes on both ends, node2 forgets node1’s MAC and asks again after it is back', () => {
    const w = build('    - { at: 2s, duration: 1s, kind: link-down, target: node/node2 }');
    const node1Ip = 0x0a640b0b;
    const n2 = w.namespaces.get('node2')!;
    let entryDuring: unknown = 'unset';
    w.sim.scheduleAt(2.5e9, () => (entryDuring = n2.neigh.get(n2.device('eth0')!, node1Ip)));
    const arpAfter: number[] = [];
    dev(w, 'node2', 'eth0').tap.connect((_d, pkt, dir) => void (dir === 'out' && pkt.arp !== null && w.sim.now >= 3e9 && arpAfter.push(w.sim.now)));
    w.sim.run();
    expect(entryDuring).toBeUndefined();
    expect(arpAfter.length).toBeGreaterThan(0);
    const f = w.stats.flow('ping');
    expect(f.successes).toBe(50); // the 10 pings in [2 s, 3 s) are lost
    expect(w.timeline.map((t) => t.what)).toEqual(['link node/node2 eth0 down (carrier lost; neighbours flushed)', 'link node/node2 eth0 up (carrier back)']);
  });

  it('corrupt 100% on node1: node2 drops every datagram by checksum (or as another host’s) and counts InCsumErrors; the bytes carry the bad checksum', () => {
    const w = build('    - { at: 0s, kind: netem, target: node/node1, corrupt: "100%" }', `    - { name: udp, type: udp, from: node/node1, to: "${NODE2}:9000", count: 200, interval: 10ms, start: 1s, size: 400 }`);
    const frames: Uint8Array[] = [];
    dev(w, 'node2', 'eth0').tap.connect((_d, pkt, dir) => void (dir === 'in' && pkt.udp !== null && frames.push(serializeFrame(pkt))));
    w.sim.run();
    const drops = w.namespaces.get('node2')!.drops;
    const udp = w.udp.get('node2')!.counters;
    expect(w.stats.flow('udp').successes).toBeLessThan(10); // only a flipped bit in the Ethernet source MAC leaves a datagram intact
    expect(udp.InCsumErrors).toBe(drops['udp-csum']);
    expect(udp.InErrors).toBe(drops['udp-csum']);
    expect(drops['udp-csum']!).toBeGreaterThan(150);
    expect(drops['ip-csum']!).toBeGreaterThan(2);
    // Every frame whose bit landed in the IP header fails the header checksum in its bytes.
    const badHdr = frames.filter((b) => internetChecksum(b, 14, 34) !== 0).length;
    expect(badHdr).toBe(drops['ip-csum']);
  });

  it('corrupt 30% on node1: node2’s TCP counts each segment with a bad TCP checksum in InCsumErrors and InErrs (tcp_v4_rcv csum_error), as the drops say', () => {
    const pod = `---
apiVersion: v1
kind: Pod
metadata: { name: srv }
spec: { hostNetwork: true, nodeName: node2, containers: [{ name: s, image: x, ports: [{ containerPort: 7001 }] }] }
`;
    const text = SCENARIO('    - { at: 0s, kind: netem, target: node/node1, corrupt: "30%" }', `    - { name: t, type: tcp, from: node/node1, to: "${NODE2}:7001", count: 40, interval: 50ms, start: 1s, timeout: 1s }`) + pod;
    const w = buildWorld(loadScenarioText(text, 'fnet.yaml'), 1);
    w.sim.run();
    const drops = w.namespaces.get('node2')!.drops;
    const tcp = w.tcp.get('node2')!.counters;
    expect(drops['tcp-csum']!).toBeGreaterThan(3);
    expect(tcp.InCsumErrors).toBe(drops['tcp-csum']);
    expect(tcp.InErrs).toBeGreaterThanOrEqual(drops['tcp-csum']!);
  });

  it('netem direction from: the delay sits on the peer’s egress toward the target (node2 → node1), not on the target', () => {
    const w = build('    - { at: 0s, kind: netem, target: node/node1, direction: from, peer: node/node2, delay: 30ms }', `    - { name: ping, type: ping, from: node/node1, to: ${NODE2}, count: 5, interval: 100ms, start: 1s }`);
    w.sim.run();
    const p50 = w.stats.flow('ping').latency.percentileNs(50);
    expect(p50).toBeGreaterThan(30e6);
    expect(p50).toBeLessThan(31e6);
    expect(w.timeline[0]!.what).toBe('netem on node/node1 (from node/node2): loss 0.00% delay 30ms jitter 0ms');
  });

  it('bandwidth 1 Mbit/s on node1: pings offered at 1.7 Mbit/s queue up — RTT grows with the backlog, then the byte limit drops', () => {
    const w = build(
      '    - { at: 0s, kind: bandwidth, target: node/node1, rate: 1Mbit, buffer: 3000, limit: 30000 }',
      `    - { name: ping, type: ping, from: node/node1, to: ${NODE2}, count: 400, interval: 5ms, start: 1s, size: 1000, timeout: 5s }`,
    );
    const rtts: number[] = [];
    const f = w.stats.flow('ping');
    const succ = f.requestSucceeded.bind(f);
    f.requestSucceeded = (latency, connect, bytes) => {
      rtts.push(latency);
      succ(latency, connect, bytes);
    };
    w.sim.run();
    // 1042-byte frames: 8.3 ms each at 1 Mbit/s against one every 5 ms; the queue holds 30000 B ≈ 28
    // frames ≈ 240 ms of backlog, so RTTs climb from ≈ 0 to ≈ 240 ms and stay there, and frames that
    // find the queue full are dropped.
    expect(rtts[0]!).toBeLessThan(5e6);
    expect(Math.max(...rtts)).toBeGreaterThan(200e6);
    expect(Math.max(...rtts)).toBeLessThan(260e6);
    expect(rtts.slice(-50).every((r) => r > 150e6)).toBe(true);
    expect(dev(w, 'node1', 'eth0').dropsByReason['qdisc-limit']!).toBeGreaterThan(100);
    // What leaves is the rate's worth: 2 s of sending plus the ≈ 0.24 s backlog drained after, at
    // 8.34 ms a frame, plus the 3-frame bucket: ≈ 271 of the 400.
    expect(f.successes).toBeGreaterThan(260);
    expect(f.successes).toBeLessThan(280);
  });

  it.skipIf(!hasTshark())('corrupt in the capture: tshark flags the same frames bad on node1/eth0 (after the qdisc) and on node2/eth0, none before the qdisc', () => {
    const w = build('    - { at: 0s, kind: netem, target: node/node1, corrupt: "100%" }', `    - { name: udp, type: udp, from: node/node1, to: "${NODE2}:9000", count: 40, interval: 10ms, start: 1s, size: 400 }`);
    const dir = mkdtempSync(join(tmpdir(), 'podwire-corrupt-'));
    try {
      const r = runWorld(w, { outDir: dir, format: 'pcapng', snaplen: 262144 });
      const files = splitPcapngPerInterface(readFileSync(r.files.capture), dir);
      const bad = (iface: string) => tsharkCheck(files.get(iface)!).badChecksums;
      const ipCsum = w.namespaces.get('node2')!.drops['ip-csum'] ?? 0;
      const udpCsum = w.namespaces.get('node2')!.drops['udp-csum'] ?? 0;
      expect(bad('node1/eth0')).toBe(ipCsum + udpCsum);
      expect(bad('node2/eth0')).toBe(ipCsum + udpCsum);
      expect(bad('network/swp1') + bad('network/swp2')).toBe(2 * (ipCsum + udpCsum)); // the switch forwards them unchanged
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad input: an unknown pod, a selector field typo, a direction without a peer, externalTargets from', () => {
    const errs = (faults: string) => {
      try {
        build(faults);
        return [];
      } catch (e) {
        return (e as ScenarioError).errors.map((x) => `${x.field}: ${x.message}`);
      }
    };
    expect(errs('    - { at: 1s, kind: partition, target: pod/nope }')).toEqual(['spec.faults[0].target: no pod "nope"']);
    expect(errs('    - { at: 1s, kind: netem, target: node/node1, direction: from, delay: 1ms }')).toEqual(['spec.faults[0].direction: direction "from" acts on the peers\' egress: give a peer']);
    expect(errs('    - { at: 1s, kind: partition, target: node/node1, direction: both, externalTargets: [ext] }')).toEqual(['spec.faults[0].direction: externalTargets take direction "to" (as Chaos Mesh)']);
    expect(errs('    - { at: 1s, kind: partition, target: { selector: { labelSelector: { a: b } } } }')[0]).toMatch(/spec\.faults\[0\]\.target/);
    expect(errs('    - { at: 1s, kind: netem, target: node/node1, loss: "150%" }')[0]).toMatch(/spec\.faults\[0\]\.loss: expected a percentage/);
  });
});
