// netem against the kernel: `tc qdisc add dev eth0 root netem loss 50% delay 20ms` on a's eth0 acts on
// a's egress only and before a's capture tap (sch_netem sits in front of dev_hard_start_xmit, where
// tcpdump's tap is): every datagram tcpdump sees leaving a arrives at b, each is captured on a about
// 20 ms after it was sent, and datagrams b → a are neither lost nor delayed. podwire must agree.
// Needs sch_netem and tc; skips with the reason where the kernel has no netem (as in some VMs).
//
//   a: eth0 10.0.0.1/24 (netem) ══ veth ══ b: eth0 10.0.0.2/24
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setNetemOn } from '../../src/link/netem.js';
import { NicDevice } from '../../src/link/nic.js';
import { parseFrame } from '../../src/packet/parse.js';
import { findProgram, IP, netnsSkipReason, nsExec, PYTHON, readPcap, sleep, startTcpdump, stopChild } from '../helpers/netns.js';
import { Lab, udpDatagram } from '../net/harness.js';
import { pwaFixture, vethPair } from './netns-pwa.js';

const TC = findProgram('tc');
const skip = netnsSkipReason() ?? (TC === null ? 'needs tc (iproute2)' : null);

/** What the two captures say: lost before the tap?, capture delay on a (ms), reverse direction intact. */
interface Verdict {
  capturedOnAArriveAtB: boolean;
  someLost: boolean;
  minCaptureDelayMs: number;
  reverseAllArrived: boolean;
}

describe.skipIf(skip !== null)(`netem on one interface: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const { set, dir } = pwaFixture();

  it('egress of the named interface only; lost frames never reach its capture; delayed ones are captured late (podwire first; the kernel where it has netem)', async (ctx) => {
    // --- podwire: the same two ends on a channel, netem on a's eth0
    const lab = new Lab();
    const na = lab.host('a');
    const nb = lab.host('b');
    const [ea, eb] = lab.wire(na, 'eth0', '10.0.0.1/24', nb, 'eth0', '10.0.0.2/24', { rateBps: 10e9, delayNs: 0, queueLimit: 1000 });
    // As in the kernel run: neighbours resolved first (a ping), then netem.
    lab.sim.scheduleAt(0, () => na.ipLocalOut(udpDatagram('10.0.0.2', 9001)));
    lab.sim.scheduleAt(0.5e9, () => setNetemOn(ea as NicDevice, { loss: 0.5, delayNs: 20e6, jitterNs: 0 }, lab.sim));
    const seen: { dev: string; dir: string; t: number; src: number; port: number }[] = [];
    for (const d of [ea, eb]) d.tap.connect((dev, p, dirn) => p.udp !== null && p.udp.dstPort === 9000 && seen.push({ dev: dev === ea ? 'a' : 'b', dir: dirn, t: lab.sim.now, src: p.ip!.src, port: p.udp.srcPort }));
    for (let i = 0; i < 40; i++) {
      lab.sim.scheduleAt(1e9 + i * 5e6, () => na.ipLocalOut(udpDatagram('10.0.0.2', 9000, { srcPort: 1000 + i })));
      lab.sim.scheduleAt(2e9 + i * 5e6, () => nb.ipLocalOut(udpDatagram('10.0.0.1', 9000, { srcPort: 3000 + i })));
    }
    lab.sim.run({ until: 3e9 });
    const pOut = seen.filter((s) => s.dev === 'a' && s.dir === 'out' && s.src === 0x0a000001);
    const pIn = seen.filter((s) => s.dev === 'b' && s.dir === 'in' && s.src === 0x0a000001);
    const podwire: Verdict = {
      capturedOnAArriveAtB: JSON.stringify(pOut.map((s) => s.port)) === JSON.stringify(pIn.map((s) => s.port)),
      someLost: pOut.length < 40,
      minCaptureDelayMs: Math.round(Math.min(...pOut.map((s) => (s.t - (1e9 + (s.port - 1000) * 5e6)) / 1e6))),
      reverseAllArrived: seen.filter((s) => s.dev === 'a' && s.dir === 'in' && s.src === 0x0a000002).length === 40,
    };
    const expected: Verdict = { capturedOnAArriveAtB: true, someLost: true, minCaptureDelayMs: 20, reverseAllArrived: true };
    expect(podwire).toEqual(expected);

    // --- kernel
    const [a, b] = vethPair(set, ['nea', 'neb'], ['10.0.0.1/24', '10.0.0.2/24']);
    nsExec(a, findProgram('ping')!, ['-c', '1', '-W', '1', '10.0.0.2'], { allowFail: true });
    const tc = spawnSync(IP!, ['netns', 'exec', a, TC!, 'qdisc', 'add', 'dev', 'eth0', 'root', 'netem', 'loss', '50%', 'delay', '20ms'], { encoding: 'utf8', timeout: 5000 });
    if (tc.status !== 0) ctx.skip(`the kernel has no netem (sch_netem): ${tc.stderr.trim()}`);
    const fa = join(dir, 'a.pcap');
    const fb = join(dir, 'b.pcap');
    const ta = await startTcpdump(a, 'eth0', fa);
    const tb = await startTcpdump(b, 'eth0', fb);
    const send = 'import socket,time,sys\nu=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(40):\n  print("%d %.6f" % (i, time.time())); u.sendto(b"%d" % i,(sys.argv[1],9000)); time.sleep(0.005)';
    const sentA = nsExec(a, PYTHON!, ['-c', send, '10.0.0.2'], { timeoutMs: 8000 });
    nsExec(b, PYTHON!, ['-c', send, '10.0.0.1'], { timeoutMs: 8000 });
    await sleep(300);
    await stopChild(ta.child);
    await stopChild(tb.child);
    const sentAt = new Map(sentA.trim().split('\n').map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1]) * 1e6] as const));
    const udp = (file: string, src: number) =>
      readPcap(file, 'eth0')
        .map((f) => ({ t: f.tUs, p: parseFrame(f.bytes) }))
        .filter((x) => x.p.udp !== null && x.p.ip!.src === src && x.p.udp.dstPort === 9000);
    const aOut = udp(fa, 0x0a000001);
    const bIn = udp(fb, 0x0a000001);
    const tag = (x: { p: { payloadLength: number; payload: Uint8Array | null } }) => new TextDecoder().decode(x.p.payload ?? new Uint8Array());
    const kernel: Verdict = {
      capturedOnAArriveAtB: JSON.stringify(aOut.map(tag).sort()) === JSON.stringify(bIn.map(tag).sort()),
      someLost: aOut.length < 40,
      minCaptureDelayMs: Math.round(Math.min(...aOut.map((x) => (x.t - sentAt.get(tag(x))!) / 1000))),
      reverseAllArrived: udp(fa, 0x0a000002).length === 40,
    };

    expect(kernel).toEqual(podwire);
  });
});
