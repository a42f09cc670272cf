// scenarios/pod-network.yaml (seed 001 §6.2 "Containers don't need IP address, the pod needs the IP
// address"): a pod with two containers has one network namespace: one eth0 with one address, one
// loopback. The app reaches its sidecar over that loopback (frames on web/lo only, 127.0.0.1 both ways,
// none of them on eth0); a client on the other node reaches both containers at the one pod address,
// told apart by port. tshark, per interface, finds nothing malformed and no bad checksum.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { TcpFlag } from '../../src/wire/types.js';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { hasTshark, NO_TSHARK, tsharkCheck } from '../helpers/tshark.js';
import { runScenarioFrames, type FramedRun } from './run-scenario.js';

const HAS_TSHARK = hasTshark();

describe('pod-network.yaml: two containers, one pod IP, one loopback', () => {
  let r: FramedRun;
  beforeAll(() => {
    r = runScenarioFrames('pod-network');
  });
  afterAll(() => rmSync(r.dir, { recursive: true, force: true }));

  const syns = (ifName: string): string[] =>
    r.frames
      .filter((f) => f.ifName === ifName && f.pkt.tcp !== null && (f.pkt.tcp.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN)
      .map((f) => `${formatIpv4(f.pkt.ip!.src)} > ${formatIpv4(f.pkt.ip!.dst)}:${f.pkt.tcp!.dstPort}`);

  it('the pod has one interface besides lo and one address, whatever its two containers listen on', () => {
    const web = r.world.cluster!.pods.find((p) => p.name === 'web')!;
    expect(web.spec.containers.map((c) => c.name)).toEqual(['app', 'metrics']);
    expect([...web.ns.devices.values()].map((d) => d.name).sort()).toEqual(['eth0', 'lo']);
    expect(formatIpv4(web.ip)).toBe('10.244.0.2');
  });

  it('every request of the three flows is answered', () => {
    const stats = JSON.parse(r.statsJson) as { flows: { name: string; requests: number; successes: number }[] };
    expect(stats.flows.map((f) => `${f.name} ${f.successes}/${f.requests}`)).toEqual(['app-to-sidecar 5/5', 'client-to-app 5/5', 'client-to-sidecar 5/5']);
  });

  it('app → sidecar runs over the pod\'s loopback: 127.0.0.1 → 127.0.0.1:9090 on web/lo, never on eth0', () => {
    expect(syns('web/lo')).toEqual(Array(5).fill('127.0.0.1 > 127.0.0.1:9090'));
    expect(r.frames.filter((f) => f.ifName !== 'web/lo' && f.pkt.ip !== null && (f.pkt.ip.src >>> 24 === 127 || f.pkt.ip.dst >>> 24 === 127))).toEqual([]);
  });

  it('the client reaches both containers at the one pod address, by port', () => {
    const client = formatIpv4(r.world.cluster!.pods.find((p) => p.name === 'client')!.ip);
    expect(syns('web/eth0')).toEqual([...Array(5).fill(`${client} > 10.244.0.2:8080`), ...Array(5).fill(`${client} > 10.244.0.2:9090`)]);
  });

  it.skipIf(!HAS_TSHARK)(`tshark per interface: nothing malformed, no bad checksum${HAS_TSHARK ? '' : ` — skipped: ${NO_TSHARK}`}`, () => {
    const files = splitPcapngPerInterface(readFileSync(r.capturePath), r.dir);
    expect([...files.keys()].sort()).toEqual(['client/eth0', 'node1/cni0', 'node1/flannel.1', 'web/eth0', 'web/lo']);
    for (const [name, file] of files) {
      const c = tsharkCheck(file);
      expect(`${name}: malformed=${c.malformed} badChecksums=${c.badChecksums}`).toBe(`${name}: malformed=0 badChecksums=0`);
    }
  });
});
