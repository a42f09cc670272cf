// tbf against the kernel: `tc qdisc add dev eth0 root tbf rate 80kbit burst 3000 limit 6000` on a's
// eth0, then 20 UDP datagrams of 1000-byte frames sent back to back. sch_tbf lets the bucket's worth
// (3 frames) go at once, holds what fits the 6000-byte bfifo (6 frames) and drops the rest, then
// releases one frame per 1000 B / 10 kB/s = 100 ms (a slow rate, so that the sender's own pace —
// a Python loop on a loaded machine — adds no tokens worth a frame). podwire's link/tbf.ts must give the same count and
// spacing. Needs tc with sch_tbf; skips with the reason otherwise.
//
//   a: eth0 10.0.0.1/24 (tbf) ══ veth ══ b: eth0 10.0.0.2/24      capture on b's eth0
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NicDevice } from '../../src/link/nic.js';
import { addStage } from '../../src/link/qdisc.js';
import { Tbf } from '../../src/link/tbf.js';
import { parseFrame } from '../../src/packet/parse.js';
import { findProgram, IP, netnsSkipReason, nsExec, PYTHON, readPcap, sleep, startTcpdump, stopChild } from '../helpers/netns.js';
import { Lab, udpDatagram } from '../net/harness.js';
import { pwaFixture, vethPair } from './netns-pwa.js';

const TC = findProgram('tc');
const skip = netnsSkipReason() ?? (TC === null ? 'needs tc (iproute2)' : null);
const N = 20;
const PAYLOAD = 958; // 14 + 20 + 8 + 958 = 1000-byte frames
const GAP_US = 100_000;

/**
 * Received count, the burst, how many frames were paced and their steady mean spacing (µs, to 1 ms), and
 * whether every spacing is within 30% of 100 ms — the kernel's watchdog (an hrtimer) fires late on
 * a loaded machine, and the next frame then leaves early (tokens accrue by the clock), so the mean
 * is exact while single gaps wander.
 */
interface Verdict {
  received: number;
  burst: number;
  paced: number;
  meanGapUs: number;
  gapsNear100ms: boolean;
}

function verdict(arrivalsUs: number[]): Verdict {
  const gaps = arrivalsUs.slice(1).map((t, i) => t - arrivalsUs[i]!);
  const burst = 1 + gaps.findIndex((g) => g > GAP_US / 2);
  const paced = gaps.slice(burst - 1);
  // The first paced frame waits for what the burst left (less whatever the sender's pace accrued);
  // from the second on, each waits exactly one frame's worth of tokens.
  const steady = paced.slice(1);
  const mean = steady.reduce((x, y) => x + y, 0) / steady.length;
  return { received: arrivalsUs.length, burst, paced: paced.length, meanGapUs: Math.round(mean / 1000) * 1000, gapsNear100ms: paced.every((g) => Math.abs(g - GAP_US) < GAP_US * 0.3) };
}

describe.skipIf(skip !== null)(`tbf on one interface: kernel vs podwire${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const { set, dir } = pwaFixture();

  it('burst, byte limit and pacing of a back-to-back train agree', async (ctx) => {
    // --- podwire
    const lab = new Lab();
    const na = lab.host('a');
    const nb = lab.host('b');
    const [ea, eb] = lab.wire(na, 'eth0', '10.0.0.1/24', nb, 'eth0', '10.0.0.2/24', { rateBps: 10e9, delayNs: 0, queueLimit: 1000 });
    lab.sim.scheduleAt(0, () => na.ipLocalOut(udpDatagram('10.0.0.2', 9001)));
    lab.sim.scheduleAt(0.5e9, () => addStage(ea as NicDevice, new Tbf({ rateBps: 80e3, burstBytes: 3000, limitBytes: 6000 }, lab.sim)));
    const got: number[] = [];
    eb.tap.connect((_d, p, dirn) => void (dirn === 'in' && p.udp?.dstPort === 9000 && got.push(lab.sim.now / 1000)));
    for (let i = 0; i < N; i++) lab.sim.scheduleAt(1e9 + i * 10_000, () => na.ipLocalOut(udpDatagram('10.0.0.2', 9000, { srcPort: 1000 + i, size: PAYLOAD })));
    lab.sim.run({ until: 3e9 });
    const podwire = verdict(got);
    expect(podwire).toEqual({ received: 9, burst: 3, paced: 6, meanGapUs: GAP_US, gapsNear100ms: true });

    // --- kernel
    const [a, b] = vethPair(set, ['tba', 'tbb'], ['10.0.0.1/24', '10.0.0.2/24']);
    nsExec(a, findProgram('ping')!, ['-c', '1', '-W', '1', '10.0.0.2'], { allowFail: true });
    const tc = spawnSync(IP!, ['netns', 'exec', a, TC!, 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', '80kbit', 'burst', '3000', 'limit', '6000'], { encoding: 'utf8', timeout: 5000 });
    if (tc.status !== 0) ctx.skip(`the kernel has no tbf (sch_tbf): ${tc.stderr.trim()}`);
    const fb = join(dir, 'tbf-b.pcap');
    const tb = await startTcpdump(b, 'eth0', fb);
    const send = `import socket\nu=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(${N}):\n  u.sendto(b"x" * ${PAYLOAD},("10.0.0.2",9000))`;
    nsExec(a, PYTHON!, ['-c', send], { timeoutMs: 8000 });
    await sleep(1000);
    await stopChild(tb.child);
    const arrivals = readPcap(fb, 'eth0')
      .map((f) => ({ t: f.tUs, p: parseFrame(f.bytes) }))
      .filter((x) => x.p.udp !== null && x.p.udp.dstPort === 9000)
      .map((x) => x.t);
    expect(verdict(arrivals)).toEqual(podwire);
  });
});
