// UDP echo server and probe client (src/app/udp-probe.ts) over the fake network:
//   prober 10.0.0.1 ──(50 µs)── echo 10.0.0.2 : 7
import { describe, expect, it } from 'vitest';
import { Simulator } from '../../src/core/simulator.js';
import { MS, SEC } from '../../src/core/time.js';
import { UdpEchoServer, UdpProbeClient } from '../../src/app/udp-probe.js';
import { StatsRegistry } from '../../src/stats/report.js';
import { UdpLayer } from '../../src/transport/udp.js';
import { FakeNet, ip } from '../transport/fake-net.js';

function world() {
  const sim = new Simulator(1);
  const net = new FakeNet(sim);
  const a = net.addHost('prober', '10.0.0.1');
  const b = net.addHost('echo', '10.0.0.2');
  return { sim, net, ua: new UdpLayer(a), ub: new UdpLayer(b), stats: new StatsRegistry(() => sim.now) };
}

describe('UDP echo + probe', () => {
  it('measures round trips through the echo server', () => {
    const { sim, ua, ub, stats } = world();
    const echo = new UdpEchoServer(ub, 7);
    const c = new UdpProbeClient(ua, { dst: ip('10.0.0.2'), port: 7, count: 10, intervalNs: 10 * MS, startNs: 0, size: 64, timeoutNs: 1 * SEC, flowId: 1 }, stats.flow('probe'));
    sim.run();
    expect(echo.served).toBe(10);
    expect(c.counts).toEqual({ sent: 10, received: 10, lost: 0, errors: 0 });
    const f = stats.report({ seed: 1 }).flows[0]!;
    expect(f.successes).toBe(10);
    // 2 × (50 µs + 92 bytes + 38 bytes framing at 1 Gbps ≈ 1.04 µs)
    expect(f.latencyUs.p50).toBeCloseTo(102.08, 1);
  });

  it('reports refused when nothing listens (ICMP port unreachable on a connected socket)', () => {
    const { sim, ua, stats } = world();
    const c = new UdpProbeClient(ua, { dst: ip('10.0.0.2'), port: 7, count: 3, intervalNs: 10 * MS, startNs: 0, size: 16, timeoutNs: 1 * SEC, flowId: 1 }, stats.flow('probe'));
    sim.run();
    expect(c.counts.errors).toBe(3);
    expect(stats.report({ seed: 1 }).flows[0]!.errorsByKind.refused).toBe(3);
  });
});
