// Retransmission timeouts against RFC 6298 as Linux applies it (include/net/tcp.h: TCP_TIMEOUT_INIT
// 1 s, TCP_RTO_MIN 200 ms, TCP_RTO_MAX 120 s; tcp_syn_retries 6, tcp_retries2 15), seen on the wire
// when a partition cuts the path. RFC 6298: the initial RTO is 1 s (2.1, 5.7), each expiry doubles it
// (5.5), a maximum may be applied (2.5: at least 60 s; Linux 120 s); Linux's minimum is 200 ms where the
// RFC says 1 s (2.4 allows a lower one), and its RTO is srtt + max(4·rttvar, 200 ms).
//
//   client (node1) ──TCP :5001──▶ srv (node2)        partition node1 ↔ node2 from 1.5 s
//   SYN test: a new connection at 2 s meets the partition; data test: a keep-alive connection
//   answered at 1 s sends its second request at 2 s into the partition.
// The times are read off the client pod's eth0 (before node1's eth0, where the tc filter drops).
import { describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { TcpFlag } from '../../src/wire/types.js';

const SCENARIO = (connection: 'new' | 'keep-alive', start: string) => `apiVersion: podwire.dev/v1alpha1
kind: Scenario
metadata: { name: rto }
spec:
  cluster:
    network: { cidr: 10.100.41.0/24 }
    dns: { enabled: false }
    nodes: [{ name: node1 }, { name: node2 }]
  traffic:
    - { name: rr, type: tcp, from: pod/client, to: "pod/srv:5001", count: 2, interval: 1s, start: ${start}, timeout: 3000s, connection: ${connection} }
  faults:
    - { at: 1.5s, duration: 5000s, kind: partition, target: node/node1, direction: both, peer: node/node2 }
---
apiVersion: v1
kind: Pod
metadata: { name: srv }
spec: { nodeName: node2, containers: [{ name: s, image: redis, ports: [{ containerPort: 5001 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { nodeName: node1, containers: [{ name: c, image: redis }] }
`;

/** Times (ns) the client sent segments matching `pick`, after `from`. */
function sent(connection: 'new' | 'keep-alive', start: string, pick: (flags: number, len: number) => boolean, from: number, count = 2): number[] {
  const w = buildWorld(loadScenarioText(SCENARIO(connection, start).replace('count: 2', `count: ${count}`), 'rto.yaml'), 1);
  const out: number[] = [];
  w.namespaces.get('client')!.device('eth0')!.tap.connect((_d, pkt, dir) => {
    if (dir === 'out' && pkt.tcp !== null && w.sim.now >= from && pick(pkt.tcp.flags, pkt.payloadLength)) out.push(w.sim.now);
  });
  w.sim.run({ until: 4000e9 });
  return out;
}
const gaps = (ts: number[]) => ts.slice(1).map((t, i) => t - ts[i]!);

describe('RFC 6298 retransmission timeouts, as Linux', () => {
  it('SYN: initial RTO 1 s, doubling: retransmissions 1, 2, 4, 8, 16, 32 s apart (tcp_syn_retries 6), then no more', () => {
    const syns = sent('new', '2s', (f) => (f & TcpFlag.SYN) !== 0, 0, 1);
    const g = gaps(syns);
    // The timer starts when TCP sends the SYN; the first SYN reaches the wire after the pod's ARP for
    // its gateway (two veth hops, 10 µs later), the retransmissions go straight out.
    expect(g[0]!).toBeGreaterThan(0.9999e9);
    expect(g[0]!).toBeLessThanOrEqual(1e9);
    expect(g.slice(1)).toEqual([2e9, 4e9, 8e9, 16e9, 32e9]);
  });

  it('data: first RTO = srtt + 200 ms (TCP_RTO_MIN), doubling to the 120 s cap, 15 retransmissions (tcp_retries2)', () => {
    const data = sent('keep-alive', '1s', (f, len) => (f & TcpFlag.SYN) === 0 && len > 0, 1.9e9);
    const g = gaps(data);
    expect(g.length).toBe(15);
    expect(g[0]!).toBeGreaterThanOrEqual(200e6);
    expect(g[0]!).toBeLessThan(210e6); // srtt here is well under 10 ms
    let capped = g[0] === 120e9 ? 1 : 0;
    for (let i = 1; i < g.length; i++) {
      if (g[i]! === 120e9) capped++;
      else expect(Math.abs(g[i]! - 2 * g[i - 1]!)).toBeLessThanOrEqual(2); // doubling (rounding to ns)
    }
    expect(capped).toBeGreaterThan(0);
    expect(Math.max(...g)).toBe(120e9);
    // 10 doublings from ≈ 0.2 s (0.2·(2¹⁰ − 1) = 204.6 s) then 5 × 120 s: the last retransmission
    // ≈ 804.6 s after the first send; ETIMEDOUT follows one RTO later (tcp_model_timeout's 924.6 s).
    expect(g.filter((x) => x < 120e9).length).toBe(10);
    expect(capped).toBe(5);
    const total = data[data.length - 1]! - data[0]!;
    expect(total / 1e9).toBeGreaterThan(804);
    expect(total / 1e9).toBeLessThan(810);
  });
});
