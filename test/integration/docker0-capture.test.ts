// The default scenario's capture as tshark reads it (the "done means"): zero malformed frames,
// zero bad checksums, ARP requests and replies, ICMP echo request + reply, UDP, ICMP port unreachable,
// and one interface name per captured interface.
//
//        c1 (172.17.0.2)      c2 (172.17.0.3)      c3 (172.17.0.4)
//          eth0                  eth0                  eth0
//           |  veth pair          |                     |
//       veth1a2b3c4           veth5d6e7f8           veth9a0b1c2
//           +----------- docker0 172.17.0.1/16 --------+          (host "docker-host")
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTshark, NO_TSHARK, tsharkCheck, tsharkRecords } from '../helpers/tshark.js';
import { readPcapng } from './pcapng-read.js';
import { DOCKER0, runScenario, type ScenarioOutput } from './run-scenario.js';

let run: ScenarioOutput;
beforeAll(() => {
  run = runScenario(DOCKER0, 7);
});
afterAll(() => rmSync(run.dir, { recursive: true, force: true }));

describe('docker0-bridge capture (pcapng structure)', () => {
  it('has one interface block per captured interface, named HOST/IFNAME, in capture order', () => {
    const f = readPcapng(run.capturePath);
    expect(f.interfaces).toEqual(run.captured);
    expect(new Set(f.interfaces).size).toBe(f.interfaces.length);
    expect(f.interfaces).toEqual([
      'c1/eth0',
      'docker-host/veth1a2b3c4',
      'c2/eth0',
      'docker-host/veth5d6e7f8',
      'c3/eth0',
      'docker-host/veth9a0b1c2',
      'docker-host/docker0',
    ]);
  });

  it('has packets in non-decreasing time order, each on a declared interface', () => {
    const f = readPcapng(run.capturePath);
    expect(f.packets.length).toBeGreaterThan(100);
    for (let i = 1; i < f.packets.length; i++) expect(f.packets[i]!.ts >= f.packets[i - 1]!.ts, `packet ${i + 1} earlier than ${i}`).toBe(true);
    for (const p of f.packets) expect(p.ifId).toBeLessThan(f.interfaces.length);
  });
});

describe('docker0-bridge stats.json', () => {
  it('reports every flow with the expected outcome, and the ARP failure as neigh-failed on c1', () => {
    const doc = JSON.parse(run.stats.toString()) as { flows: { name: string; sent: number; received: number; lost: number; errors: number }[]; counters: Record<string, Record<string, number>> };
    const flows = Object.fromEntries(doc.flows.map((f) => [f.name, `sent=${f.sent} received=${f.received} lost=${f.lost} errors=${f.errors}`]));
    expect(flows).toEqual({
      'ping-c1-c2': 'sent=5 received=5 lost=0 errors=0',
      'ping-c3-host': 'sent=3 received=3 lost=0 errors=0',
      'udp-c2-c3': 'sent=10 received=10 lost=0 errors=0',
      // ICMP port unreachable reaches the connected socket as ECONNREFUSED.
      'udp-c1-closed-port': 'sent=1 received=0 lost=0 errors=1',
      // ARP for 172.17.0.99 fails: the kernel reports host unreachable to the local sender (over lo, not captured).
      'ping-c1-nobody': 'sent=2 received=0 lost=0 errors=2',
    });
    expect(doc.counters['drops/c1']).toEqual({ 'neigh-failed': 2 });
    expect(doc.counters['drops/docker-host']).toEqual({});
  });
});

describe.skipIf(!hasTshark())('docker0-bridge capture in tshark', () => {
  it('has zero malformed frames and zero bad checksums', () => {
    const r = tsharkCheck(run.capturePath);
    expect(r.frames).toBeGreaterThan(100);
    expect(r.malformedFrames, r.errors.join('\n')).toEqual([]);
    expect(r.badChecksumFrames, r.errors.join('\n')).toEqual([]);
  });

  it('shows ARP requests and replies, ICMP echo requests and replies, UDP, and ICMP port unreachable', () => {
    const rows = tsharkRecords(run.capturePath, ['arp.opcode', 'icmp.type', 'icmp.code', 'udp.dstport', 'frame.interface_name']);
    const count = (pred: (r: Record<string, string>) => boolean) => rows.filter(pred).length;
    const summary = {
      arpRequests: count((r) => r['arp.opcode'] === '1'),
      arpReplies: count((r) => r['arp.opcode'] === '2'),
      echoRequests: count((r) => r['icmp.type']!.split(',')[0] === '8'),
      echoReplies: count((r) => r['icmp.type']!.split(',')[0] === '0'),
      udp: count((r) => r['udp.dstport'] !== '' && r['icmp.type'] === ''),
      portUnreachable: count((r) => r['icmp.type']!.startsWith('3') && r['icmp.code']!.startsWith('3')),
    };
    for (const [k, v] of Object.entries(summary)) expect(v, `${k} in ${JSON.stringify(summary)}`).toBeGreaterThan(0);
  });

  it('tshark names each frame\'s interface as the IDB does, one name per interface', () => {
    const rows = tsharkRecords(run.capturePath, ['frame.interface_id', 'frame.interface_name']);
    const byId = new Map<string, Set<string>>();
    for (const r of rows) {
      const s = byId.get(r['frame.interface_id']!) ?? new Set<string>();
      s.add(r['frame.interface_name']!);
      byId.set(r['frame.interface_id']!, s);
    }
    for (const [id, names] of byId) expect([...names], `interface ${id}`).toEqual([run.captured[Number(id)]]);
    expect(byId.size).toBe(run.captured.length);
  });
});

it.skipIf(hasTshark())(`tshark checks of the docker0 capture: skipped, ${NO_TSHARK}`, () => {});
