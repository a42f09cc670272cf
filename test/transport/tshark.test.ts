// Fidelity: what tshark's TCP analysis says about podwire's TCP. Packets are captured as each host
// sends them (raw IP, one pcapng interface) on the fake network:
//
//   client 10.0.0.1 ──(50 µs, 1 Gbps)── server 10.0.0.2 : 80 (HTTP) and :5001 (bulk sink)
//
// A clean run must show no tcp.analysis.flags at all; a lossy run shows retransmissions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpServer } from '../../src/app/http-server.js';
import { HttpLoadGenerator } from '../../src/app/load-generator.js';
import { LinkType, PcapngWriter } from '../../src/capture/pcapng.js';
import { SEC } from '../../src/core/time.js';
import { serializeIp } from '../../src/packet/serialize.js';
import { StatsRegistry } from '../../src/stats/report.js';
import { TcpFlag } from '../../src/wire/types.js';
import { hasTshark, tsharkCheck, tsharkRecords } from '../helpers/tshark.js';
import { bernoulliLoss, ip, type FakeNet } from './fake-net.js';
import { tcpPair } from './tcp-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'podwire-tcp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(net: FakeNet, name: string): string {
  const path = join(dir, `${name}.pcapng`);
  const w = new PcapngWriter(path);
  const id = w.addInterface('wire', { linkType: LinkType.RAW });
  for (const r of net.log) w.writePacket(id, r.t, serializeIp(r.pkt));
  w.close();
  return path;
}

function workload(seed: number, lossP: number) {
  const { sim, net, ta, tb } = tcpPair(seed);
  if (lossP > 0) net.loss = bernoulliLoss(sim.rng.stream('test/loss'), lossP, (p) => p.tcp !== null && (p.tcp.flags & TcpFlag.SYN) === 0);
  const stats = new StatsRegistry(() => sim.now);
  new HttpServer(tb, { port: 80, identity: 'web-0', serviceTime: { kind: 'exponential', mean: 1e6 }, responseSize: { kind: 'uniform', min: 100, max: 20_000 } });
  const target = { addr: ip('10.0.0.2'), port: 80, host: 'web' };
  new HttpLoadGenerator(ta, { name: 'ka', pattern: { kind: 'closed', users: 2, thinkTime: { kind: 'exponential', mean: 5e6 } }, count: 40, target, connection: 'keep-alive' }, stats.flow('ka'));
  new HttpLoadGenerator(ta, { name: 'new', pattern: { kind: 'open', arrival: 'poisson', rate: 50 }, count: 20, target, connection: 'new' }, stats.flow('new'));
  tb.listen(5001, (s) => (s.onEnd = () => s.close()));
  ta.connect(ip('10.0.0.2'), 5001, (s) => {
    s.send(3_000_000);
    s.close();
  });
  sim.run({ until: 600 * SEC });
  return { net, ta, tb, stats };
}

describe.skipIf(!hasTshark())('tshark TCP analysis of podwire TCP', () => {
  it('a clean run decodes as HTTP with no TCP analysis flags, no malformed frames, no bad checksums', () => {
    const { net, stats } = workload(1, 0);
    const path = capture(net, 'clean');
    const check = tsharkCheck(path);
    expect(check.malformed).toBe(0);
    expect(check.badChecksums).toBe(0);
    const recs = tsharkRecords(path, ['frame.number', 'tcp.analysis.flags', '_ws.expert.message', 'http.request.method', 'http.response.code']);
    const flagged = recs.filter((r) => r['tcp.analysis.flags'] !== '').map((r) => `frame ${r['frame.number']}: ${r['_ws.expert.message']}`);
    expect(flagged).toEqual([]);
    expect(recs.filter((r) => r['http.request.method'] === 'GET').length).toBe(60);
    expect(recs.filter((r) => r['http.response.code'] === '200').length).toBe(60);
    expect(stats.report({ seed: 1 }).flows.map((f) => f.successes)).toEqual([40, 20]);
  });

  it('under 1 % loss tshark sees the retransmissions podwire counted', () => {
    const { net, ta, tb } = workload(2, 0.01);
    const path = capture(net, 'lossy');
    // Wireshark calls a resent segment an out-of-order one when it follows the original within an RTT
    // (e.g. the second and third holes PRR repairs right after the fast retransmit): count both.
    const fields = ['tcp.analysis.retransmission', 'tcp.analysis.fast_retransmission', 'tcp.analysis.out_of_order', 'tcp.analysis.spurious_retransmission'];
    const recs = tsharkRecords(path, fields);
    const retrans = recs.filter((r) => fields.some((f) => r[f] !== '')).length;
    const counted = ta.counters.RetransSegs + tb.counters.RetransSegs;
    expect(counted).toBeGreaterThan(0);
    expect(retrans).toBeGreaterThan(0);
    expect(Math.abs(retrans - counted)).toBeLessThanOrEqual(Math.max(2, counted * 0.2));
  });
});
