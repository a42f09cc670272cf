// scenarios/mss-clamp.yaml: spec.cluster.mssClamp: pmtu puts TCPMSS --clamp-mss-to-pmtu in every
// node's mangle FORWARD. The laptop's SYNs (MSS 1460) reach the pod with MSS 1410 whichever node they
// enter by; the pod's SYN-ACKs (1410) pass unchanged; data segments fit the overlay; tshark, judging
// each interface on its own, finds nothing malformed, no bad checksum and no TCP analysis warning.
// Without the option the pod sees the laptop's 1460.
//
//   laptop (1500) ── node2 :30080 ─ flannel.1 (1450) ═VXLAN═ node1 ─ cni0 (1450) ─ web
//                └── node1 :30080 ──────────────────────────────── cni0 (1450) ─ web
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWorld } from '../../src/scenario/build.js';
import { loadScenarioText } from '../../src/scenario/load.js';
import { runWorld } from '../../src/scenario/run.js';
import { parseFrame } from '../../src/packet/parse.js';
import { TcpFlag } from '../../src/wire/types.js';
import type { Packet } from '../../src/packet/packet.js';
import { splitPcapngPerInterface } from '../helpers/pcapng-split.js';
import { hasTshark, NO_TSHARK, TSHARK, TSHARK_ARGS, tsharkCheck } from '../helpers/tshark.js';
import { ROOT, runScenarioFrames, type Frame } from './run-scenario.js';
import { readPcapng } from './pcapng-read.js';

const HAS_TSHARK = hasTshark();
const r = runScenarioFrames('mss-clamp');
const stats = JSON.parse(r.statsJson) as { flows: { name: string; requests: number; successes: number; errors: number; endpoints: { name: string; requests: number; connections: number }[] }[] };

const mss = (p: Packet): number | undefined => p.tcp?.options.find((o): o is { kind: 'mss'; value: number } => o.kind === 'mss')?.value;
/** The TCP segment of a frame, the inner one of a VXLAN packet. */
const tcpOf = (p: Packet): Packet | null => (p.tcp !== null ? p : p.inner?.tcp ? p.inner : null);
/** "SYN 1460" / "SYN-ACK 1410" for each handshake segment on `ifName`, in order. */
function handshakes(frames: Frame[], ifName: string): string[] {
  return frames.flatMap((f) => {
    const t = f.ifName === ifName ? tcpOf(f.pkt) : null;
    if (t === null || (t.tcp!.flags & TcpFlag.SYN) === 0) return [];
    return [`${(t.tcp!.flags & TcpFlag.ACK) !== 0 ? 'SYN-ACK' : 'SYN'} ${mss(t)}`];
  });
}

describe('scenarios/mss-clamp.yaml', () => {
  afterAll(() => rmSync(r.dir, { recursive: true, force: true }));

  it('every request succeeds', () => {
    expect(stats.flows.map((f) => `${f.name} ${f.successes}/${f.requests} errors=${f.errors}`)).toEqual(['via-node1 3/3 errors=0', 'via-node2 3/3 errors=0']);
    expect(stats.flows.map((f) => f.endpoints.map((e) => `${e.name} ${e.requests} ${e.connections}`))).toEqual([['web 3 3'], ['web 3 3']]);
  });

  it('each node carries the rule, as iptables-save prints it, and `podwire inspect --iptables` shows it', () => {
    for (const n of r.world.cluster!.nodes) expect(n.ns.nf!.save()).toContain('*mangle\n');
    for (const n of r.world.cluster!.nodes) expect(n.ns.nf!.save()).toContain('\n-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\n');
    const out = execFileSync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'inspect', join(ROOT, 'scenarios/mss-clamp.yaml'), '--node', 'node2', '--iptables', '--no-run'], { encoding: 'utf8' });
    const mangle = out.slice(out.indexOf('*mangle'), out.indexOf('COMMIT', out.indexOf('*mangle')));
    expect(mangle.split('\n').filter((l) => l.startsWith('-A '))).toContain('-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu');
  });

  it("the laptop's SYN says 1460 on its side and 1410 past the node; the pod's SYN-ACK says 1410 everywhere", () => {
    const six = (s: string) => Array(6).fill(s);
    const three = (s: string) => Array(3).fill(s);
    expect(handshakes(r.frames, 'laptop/eth0').sort()).toEqual([...six('SYN 1460'), ...six('SYN-ACK 1410')].sort());
    expect(handshakes(r.frames, 'web/eth0').sort()).toEqual([...six('SYN 1410'), ...six('SYN-ACK 1410')].sort());
    expect(handshakes(r.frames, 'node2/flannel.1').sort()).toEqual([...three('SYN 1410'), ...three('SYN-ACK 1410')].sort());
    expect(handshakes(r.frames, 'node1/cni0').sort()).toEqual([...six('SYN 1410'), ...six('SYN-ACK 1410')].sort());
  });

  it('the 8000-byte responses cross in segments that fit the overlay: no fragment, no ICMP', () => {
    const podIp = r.world.cluster!.pods.find((p) => p.name === 'web')!.ip;
    const data = r.frames.filter((f) => f.ifName === 'web/eth0' && f.pkt.ip !== null && f.pkt.ip.src === podIp && (f.pkt.tcp?.flags ?? 0) & TcpFlag.ACK && f.pkt.payloadLength > 0);
    expect(Math.max(...data.map((f) => f.pkt.ip!.totalLength))).toBe(1450);
    expect(r.frames.filter((f) => f.pkt.icmp !== null || (f.pkt.ip !== null && (f.pkt.ip.fragOffset > 0 || (f.pkt.ip.flags & 1) !== 0)))).toEqual([]);
  });

  it('without spec.cluster.mssClamp the pod sees the MSS the laptop sent', () => {
    const text = readFileSync(join(ROOT, 'scenarios/mss-clamp.yaml'), 'utf8').replace('    mssClamp: pmtu\n', '');
    const w = buildWorld(loadScenarioText(text, 'mss-clamp.yaml'), 11);
    const dir = mkdtempSync(join(tmpdir(), 'podwire-mss-off-'));
    try {
      const res = runWorld(w, { outDir: dir, format: 'pcapng', snaplen: 262144 });
      const f = readPcapng(res.files.capture);
      const frames = f.packets.map((p, i) => ({ no: i + 1, ifName: f.interfaces[p.ifId]!, tNs: Number(p.ts), pkt: parseFrame(p.data) }));
      expect(new Set(handshakes(frames, 'web/eth0'))).toEqual(new Set(['SYN 1460', 'SYN-ACK 1410']));
      expect(w.cluster!.nodes[0]!.ns.nf!.save()).not.toContain('TCPMSS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!HAS_TSHARK)(`tshark per interface: nothing malformed, no bad checksum, no TCP analysis warning${HAS_TSHARK ? '' : ` — skipped: ${NO_TSHARK}`}`, () => {
    const files = splitPcapngPerInterface(readFileSync(r.capturePath), r.dir);
    expect(files.size).toBeGreaterThan(0);
    for (const [name, file] of files) {
      const c = tsharkCheck(file, ['-d', 'udp.port==8472,vxlan']);
      const warn = execFileSync(TSHARK, ['-r', file, ...TSHARK_ARGS, '-d', 'udp.port==8472,vxlan', '-Y', '_ws.expert.severity >= 0x00600000', '-T', 'fields', '-e', '_ws.col.Info'], { encoding: 'utf8' }).trim();
      expect(`${name}: malformed=${c.malformed} badChecksums=${c.badChecksums} warnings=[${warn}]`).toBe(`${name}: malformed=0 badChecksums=0 warnings=[]`);
    }
  });
});
