// scenarios/hairpin.yaml: a pod calls a Service it backs. kube-proxy DNATs each connection back to the
// calling pod; hairpin mode on its cni0 port (set by the CNI bridge plugin, as flannel configures it)
// lets bridged DNAT send the frame back out of the port it came in on, and KUBE-MARK-MASQ
// (`-s POD/32` in KUBE-SEP) has it masqueraded to cni0's address. Every request succeeds; the pod's
// eth0 shows each SYN twice (as sent, and as it comes back from 10.244.0.1 with the pod's own MAC as
// source); its broadcast ARP request comes back to it; and tshark, judging each interface on its own,
// finds nothing malformed, no bad checksum and no TCP analysis warning.
// (test/fidelity/kernel-hairpin.test.ts compares the same exchange with the kernel frame by frame.)
//
//   web (10.244.0.2) ──veth (hairpin on)── cni0 10.244.0.1 (node1: DNAT 10.96.0.60:80 → 10.244.0.2:8080, MASQUERADE)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFrame } from '../../src/packet/parse.js';
import { buildWorld, type World } from '../../src/scenario/build.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { formatIpv4 } from '../../src/wire/ipv4-addr.js';
import { ArpOp, TcpFlag } from '../../src/wire/types.js';
import { hasTshark, NO_TSHARK, TSHARK, TSHARK_ARGS, tsharkCheck } from '../helpers/tshark.js';
import { readPcapng } from './pcapng-read.js';
import { ROOT } from './run-scenario.js';

const HAS_TSHARK = hasTshark();

describe('hairpin.yaml: a pod reaches itself through its Service', () => {
  let dir: string;
  let world: World;
  let capturePath: string;
  let stats: { flows: { name: string; requests: number; successes: number; errors: number }[] };
  beforeAll(() => {
    const loaded = loadScenarioFile(join(ROOT, 'scenarios/hairpin.yaml'));
    world = buildWorld(loaded, loaded.scenario.spec.seed ?? 1);
    dir = mkdtempSync(join(tmpdir(), 'podwire-hairpin-'));
    const res = runWorld(world, { outDir: dir, format: 'pcapng', snaplen: loaded.scenario.spec.capture.snaplen });
    capturePath = res.files.capture;
    stats = JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8')) as typeof stats;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every request succeeds', () => {
    expect(stats.flows.map((f) => `${f.name} ${f.successes}/${f.requests} errors=${f.errors}`)).toEqual(['web-to-itself 10/10 errors=0']);
  });

  it("the pod's eth0: its ARP request reflected back; each SYN twice, the second from 10.244.0.1 to :8080 with the pod's MAC, TTL 64", () => {
    const f = readPcapng(capturePath);
    const pod = world.cluster!.pods.find((p) => p.name === 'web')!;
    const mac = pod.ns.device('eth0')!.mac;
    const frames = f.packets.filter((p) => f.interfaces[p.ifId] === 'web/eth0').map((p) => parseFrame(p.data));
    const arpReq = frames.filter((p) => p.arp !== null && p.arp.op === ArpOp.REQUEST && p.arp.spa === pod.ip);
    expect(arpReq.length).toBeGreaterThanOrEqual(2);
    expect(arpReq.length % 2).toBe(0);
    const syns = frames.filter((p) => p.tcp !== null && (p.tcp.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN);
    const lines = syns.map((p) => `${p.eth!.src === mac ? 'pod' : 'other'}>${p.eth!.dst === mac ? 'pod' : 'gw'} ${formatIpv4(p.ip!.src)} > ${formatIpv4(p.ip!.dst)}:${p.tcp!.dstPort} ttl ${p.ip!.ttl}`);
    const expected: string[] = [];
    for (let i = 0; i < 10; i++) expected.push('pod>gw 10.244.0.2 > 10.96.0.60:80 ttl 64', 'pod>pod 10.244.0.1 > 10.244.0.2:8080 ttl 64');
    expect(lines).toEqual(expected);
  });

  it.skipIf(!HAS_TSHARK)(`tshark per interface: nothing malformed, no bad checksum, no TCP analysis warning${HAS_TSHARK ? '' : ` — skipped: ${NO_TSHARK}`}`, () => {
    const files = splitPcapngPerInterface(readFileSync(capturePath), dir);
    expect(files.size).toBeGreaterThan(0);
    for (const [name, file] of files) {
      const c = tsharkCheck(file);
      const warn = execFileSync(TSHARK, ['-r', file, ...TSHARK_ARGS, '-Y', '_ws.expert.severity >= 0x00600000', '-T', 'fields', '-e', '_ws.col.Info'], { encoding: 'utf8' }).trim();
      expect(`${name}: malformed=${c.malformed} badChecksums=${c.badChecksums} warnings=[${warn}]`).toBe(`${name}: malformed=0 badChecksums=0 warnings=[]`);
    }
  });
});

