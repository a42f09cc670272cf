// scenarios/lb-per-service.yaml (seed 002 §3.1: "each service you expose with a LoadBalancer will get
// its own IP address"; "you can send almost any kind of traffic to it, like HTTP, TCP, UDP"): three
// LoadBalancer Services behind a GCP passthrough load balancer get three addresses of the pool, and the
// laptop's capture shows HTTP, plain TCP and UDP each to its own address, answered from that address.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { TcpFlag } from '../../src/wire/types.js';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { hasTshark, NO_TSHARK, tsharkCheck } from '../helpers/tshark.js';
import { runScenarioFrames, type FramedRun } from './run-scenario.js';

const HAS_TSHARK = hasTshark();

describe('lb-per-service.yaml: one address per LoadBalancer Service, any protocol', () => {
  let r: FramedRun;
  beforeAll(() => {
    r = runScenarioFrames('lb-per-service');
  });
  afterAll(() => rmSync(r.dir, { recursive: true, force: true }));

  it('each Service has its own status.loadBalancer address', () => {
    const lb = r.world.services.filter((s) => s.type === 'LoadBalancer').map((s) => `${s.name} ${s.loadBalancerIPs.map(formatIpv4).join(',')}`);
    expect(lb).toEqual(['web 10.100.11.240', 'cache 10.100.11.241', 'game 10.100.11.242']);
  });

  it('laptop/eth0: HTTP to .240:80, TCP to .241:6379, UDP to .242:7777, each answered from the address it was sent to', () => {
    const laptop = '10.100.11.100';
    const seen = new Set<string>();
    for (const f of r.frames) {
      if (f.ifName !== 'laptop/eth0' || f.pkt.ip === null) continue;
      const p = f.pkt;
      const l4 = p.tcp !== null ? `tcp:${p.tcp.srcPort === 80 || p.tcp.srcPort === 6379 ? p.tcp.srcPort : p.tcp.dstPort}` : p.udp !== null ? `udp:${p.udp.srcPort === 7777 ? p.udp.srcPort : p.udp.dstPort}` : 'other';
      const src = formatIpv4(p.ip!.src);
      const dst = formatIpv4(p.ip!.dst);
      seen.add(src === laptop ? `→ ${dst} ${l4}` : `← ${src} ${l4} to ${dst}`);
    }
    expect([...seen].sort()).toEqual([
      '← 10.100.11.240 tcp:80 to 10.100.11.100',
      '← 10.100.11.241 tcp:6379 to 10.100.11.100',
      '← 10.100.11.242 udp:7777 to 10.100.11.100',
      '→ 10.100.11.240 tcp:80',
      '→ 10.100.11.241 tcp:6379',
      '→ 10.100.11.242 udp:7777',
    ]);
    const syns = r.frames.filter((f) => f.ifName === 'laptop/eth0' && f.pkt.tcp !== null && (f.pkt.tcp.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN);
    expect(syns).toHaveLength(20);
  });

  it('every request is answered; HTTP is served by web\'s pods only', () => {
    const stats = JSON.parse(r.statsJson) as { flows: { name: string; requests: number; successes: number; endpoints: { name: string }[] }[] };
    expect(stats.flows.map((f) => `${f.name} ${f.successes}/${f.requests}`)).toEqual(['http-to-web 10/10', 'tcp-to-cache 10/10', 'udp-to-game 10/10']);
    const web = stats.flows.find((f) => f.name === 'http-to-web')!;
    expect(web.endpoints.length).toBeGreaterThan(0);
    for (const e of web.endpoints) expect(e.name).toMatch(/^web-/);
  });

  it.skipIf(!HAS_TSHARK)(`tshark per interface: nothing malformed, no bad checksum${HAS_TSHARK ? '' : ` — skipped: ${NO_TSHARK}`}`, () => {
    const files = splitPcapngPerInterface(readFileSync(r.capturePath), r.dir);
    expect(files.has('laptop/eth0')).toBe(true);
    for (const [name, file] of files) {
      const c = tsharkCheck(file);
      expect(`${name}: malformed=${c.malformed} badChecksums=${c.badChecksums}`).toBe(`${name}: malformed=0 badChecksums=0`);
    }
  });
});
