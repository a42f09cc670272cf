// A routed chain over point-to-point wires, end to end with real sockets and a pcapng capture:
//
//   a: eth0 10.1.1.1/24 ──1 Gbps, 50 µs── eth0 10.1.1.2/24 :r: eth1 10.1.2.1/24 ──1 Gbps, 50 µs── eth0 10.1.2.2/24 :b
//      default via 10.1.1.2                       (ip_forward=1)                        default via 10.1.2.1
//
// UDP echo (64-byte payload, 106-byte frames, 1040 ns on the wire each) from a to b:9, traceroute-style
// probes with TTL 1 and 2, and every device captured into one pcapng file checked by tshark.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UdpEchoServer } from '../../src/app/udp-probe.js';
import { PcapngWriter } from '../../src/capture/pcapng.js';
import { UdpLayer } from '../../src/transport/udp.js';
import { hasTshark, tsharkCheck, tsharkRecords } from '../helpers/tshark.js';
import { ip, Lab, udpDatagram } from '../net/harness.js';
import { readPcapng } from './pcapng-read.js';

const WIRE = { rateBps: 1e9, delayNs: 50_000, queueLimit: 1000 };
const HOP = 1040 + 50_000; // one 106-byte frame over one wire

const tmp = mkdtempSync(join(tmpdir(), 'podwire-chain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function chain() {
  const lab = new Lab(3);
  const a = lab.host('a');
  const r = lab.host('r', true);
  const b = lab.host('b');
  const [ea, ra] = lab.wire(a, 'eth0', '10.1.1.1/24', r, 'eth0', '10.1.1.2/24', WIRE);
  const [rb, eb] = lab.wire(r, 'eth1', '10.1.2.1/24', b, 'eth0', '10.1.2.2/24', WIRE);
  a.addRoute({ dst: 0, prefix: 0, gateway: ip('10.1.1.2'), dev: ea });
  b.addRoute({ dst: 0, prefix: 0, gateway: ip('10.1.2.1'), dev: eb });
  const ua = new UdpLayer(a);
  const ub = new UdpLayer(b);
  new UdpLayer(r);
  const server = new UdpEchoServer(ub, 9);
  return { lab, sim: lab.sim, a, r, b, ea, ra, rb, eb, ua, ub, server, devs: [ea, ra, rb, eb] };
}

describe('routed chain over channels', () => {
  it('echo RTT after ARP is exactly 4 hops of (1040 ns serialization + 50 µs propagation)', () => {
    const { sim, ua, server } = chain();
    const sock = ua.socket().connect(ip('10.1.2.2'), 9);
    const rtts: number[] = [];
    let sentAt = 0;
    sock.onMessage = () => rtts.push(sim.now - sentAt);
    for (const t of [0, 1e9, 2e9]) sim.scheduleAt(t, () => { sentAt = sim.now; sock.send(64); });
    sim.run();
    expect(server.served).toBe(3);
    expect(rtts.slice(1)).toEqual([4 * HOP, 4 * HOP]);
    // The first one also waited for ARP on the two forward hops (a request and a reply each, 60-byte
    // minimum frames, 672 ns); the replies need none, as r and b learned their requesters from the requests.
    expect(rtts[0]).toBe(4 * HOP + 2 * 2 * (672 + 50_000));
  });

  it('TTL 1 dies at r (time exceeded from 10.1.1.2); TTL 2 reaches b and its closed port answers', () => {
    const { sim, a } = chain();
    const froms: string[] = [];
    a.registerProtocol(17, {
      receive: () => {},
      error: (p) => froms.push(`${p.icmp!.type}/${p.icmp!.code} from ${p.ip!.src === ip('10.1.1.2') ? 'r' : p.ip!.src === ip('10.1.2.2') ? 'b' : p.ip!.src}`),
    });
    for (const [ttl, port] of [[1, 33434], [2, 33435]] as const) {
      sim.scheduleAt(ttl * 1e9, () => a.ipLocalOut(udpDatagram('10.1.2.2', port, { ttl })));
    }
    sim.run();
    expect(froms).toEqual(['11/0 from r', '3/3 from b']);
  });

  it('a pcapng of all four devices passes tshark: no malformed frames, no bad checksums, TTL 64 before r and 63 after', () => {
    const { sim, ua, devs } = chain();
    const path = join(tmp, 'chain.pcapng');
    const w = new PcapngWriter(path, { application: 'podwire-test' });
    for (const d of devs) {
      const id = w.addInterface(d.qualifiedName);
      d.tap.connect((_d, pkt) => w.writePacketRecord(id, sim.now, pkt));
    }
    const sock = ua.socket().connect(ip('10.1.2.2'), 9);
    for (let i = 0; i < 20; i++) sim.scheduleAt(1e9 + i * 10_000, () => sock.send(64));
    sim.run();
    w.close();
    const f = readPcapng(path);
    expect(f.interfaces).toEqual(['a/eth0', 'r/eth0', 'r/eth1', 'b/eth0']);
    // Each data frame is recorded leaving one NIC and arriving at the other: 20 requests + 20 replies × 2 hops × 2 points.
    const ipFrames = f.packets.filter((p) => p.data[12] === 0x08 && p.data[13] === 0x00);
    expect(ipFrames).toHaveLength(160);
    if (!hasTshark()) return;
    const rep = tsharkCheck(path);
    expect(rep.malformedFrames, rep.errors.join('\n')).toEqual([]);
    expect(rep.badChecksumFrames, rep.errors.join('\n')).toEqual([]);
    const rows = tsharkRecords(path, ['frame.interface_name', 'ip.src', 'ip.ttl', 'udp.dstport']);
    const ttlOf = (iface: string) => new Set(rows.filter((r) => r['frame.interface_name'] === iface && r['ip.src'] === '10.1.1.1').map((r) => r['ip.ttl']));
    expect([...ttlOf('a/eth0')]).toEqual(['64']);
    expect([...ttlOf('r/eth0')]).toEqual(['64']);
    expect([...ttlOf('r/eth1')]).toEqual(['63']);
    expect([...ttlOf('b/eth0')]).toEqual(['63']);
  });
});
